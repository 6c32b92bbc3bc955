#!/usr/bin/env bash
# The one command of the e2e harness: builds the pinned components (skipped
# when already built) and runs every scenario against a fresh local cluster.
#
#   DSPLAN_E2E_CONTROLLER=kcm|dsplan   DaemonSet controller under test (default kcm)
#   DSPLAN_E2E_NODES=50                number of kwok nodes (>= 10)
#   DSPLAN_E2E_CACHE=...               binary cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/dsplan-e2e)
#   DSPLAN_E2E_KEEP=1                  keep the temp dir (logs, pki, etcd data) after a pass
# Extra arguments go to `go test` (e.g. -run 'TestE2E/rolling').
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/build.sh"
cd "$here/.."   # the examples/controller module
export DSPLAN_E2E=1
export DSPLAN_E2E_CONTROLLER=${DSPLAN_E2E_CONTROLLER:-kcm}
export DSPLAN_E2E_NODES=${DSPLAN_E2E_NODES:-50}
exec go test -count=1 -v -timeout 30m "$@" ./e2e/
