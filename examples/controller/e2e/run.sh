#!/usr/bin/env bash
# The one command of the e2e harness: builds the pinned components (skipped
# when already built) and runs the tests, each on fresh local clusters
# (README.md): TestE2E, TestSideBySide, TestFaults, TestControls, TestForecast, and
# TestScale when DSPLAN_E2E_SCALE is set.
#
#   DSPLAN_E2E_CONTROLLER=kcm|dsplan   TestE2E's DaemonSet controller (default kcm)
#   DSPLAN_E2E_FAULT_CONTROLLERS=...   TestFaults' controllers (default dsplan; kcm,dsplan)
#   DSPLAN_E2E_SCALE=1000,5000         TestScale's sizes (unset: skipped)
#   DSPLAN_E2E_NODES=50                number of kwok nodes (>= 10) but in TestScale
#   DSPLAN_E2E_CACHE=...               binary cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/dsplan-e2e)
#   DSPLAN_E2E_KEEP=1                  keep the temp dirs (logs, pki, etcd data, audit log) after a pass
# Extra arguments go to `go test` (e.g. -run '^TestE2E$/rolling', -timeout 110m).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/build.sh"
cd "$here/.."   # the examples/controller module
export DSPLAN_E2E=1
export DSPLAN_E2E_CONTROLLER=${DSPLAN_E2E_CONTROLLER:-kcm}
export DSPLAN_E2E_NODES=${DSPLAN_E2E_NODES:-50}
exec go test -count=1 -v -timeout 30m "$@" ./e2e/
