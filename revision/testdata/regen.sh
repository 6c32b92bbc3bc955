#!/bin/sh
# Regenerates the oracle fixtures of package revision:
#
#   testdata/hashvec.json            oracle hashvec -n 500 -seed 1
#   testdata/oracle/chaos-N.yaml     oracle gen -seed N -nodes 6 -profile chaos
#   testdata/oracle/chaos-N.json     what kube-controller-manager v1.37.2 does
#                                    with it (trimmed oracle output, below)
#
# Run from anywhere: revision/testdata/regen.sh [SEED...]
# ORACLE overrides the oracle script (default: ../shared/oracle/oracle next to
# the repository). Needs jq.
#
# Only seeds whose snapshot is already API-defaulted are kept (the oracle
# reports no defaultedPaths), so the tests can hash the DaemonSet as read.
# The trimmed JSON keeps hash, hashRevision, revisions, podPatches,
# claims.revisions, error, failedWrites, status.collisionCount and
# variesAcrossRuns of one run, plus "variants": every distinct outcome of
# those fields over 96 single runs when the hash varies across runs
# (tied duplicate revisions: upstream keeps one at random).
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
oracle=${ORACLE:-$dir/../../../shared/oracle/oracle}
export ORACLE_QUIET=1

# Chosen from seeds 1-400 of `gen -nodes 6 -profile chaos`: the defaulted
# ones with revision activity (claims, label fixes, renumbering, duplicates,
# history limits, AlreadyExists reuse, collisions) plus quiet ones.
SEEDS=${*:-"SEEDLIST"}

"$oracle" hashvec -n 500 -seed 1 >"$dir/hashvec.json"

mkdir -p "$dir/oracle"
trim='{hash, hashRevision: (.hashRevision // ""), error: (.error // ""),
  failedWrites: (.failedWrites // []), revisions,
  podPatches, claimsRevisions: (.claims.revisions // []),
  collisionCount: .status.collisionCount}'
for seed in $SEEDS; do
	snap=$dir/oracle/chaos-$seed.yaml
	"$oracle" gen -seed "$seed" -nodes 6 -profile chaos >"$snap"
	out=$("$oracle" --compact --runs 32 "$snap")
	if [ "$(printf '%s' "$out" | jq '.input.defaultedPaths | length')" != 0 ]; then
		echo "seed $seed: snapshot needs API defaulting, skipped" >&2
		rm -f "$snap"
		continue
	fi
	variants=[]
	if printf '%s' "$out" | jq -e '(.variesAcrossRuns // []) | index("hash")' >/dev/null; then
		variants=$(for i in $(seq 96); do "$oracle" --compact "$snap" | jq -c "$trim"; done | sort -u | jq -s -c 'sort_by(.hash)')
	fi
	printf '%s' "$out" | jq --argjson variants "$variants" --argjson seed "$seed" \
		"{seed: \$seed} + ($trim) + {variesAcrossRuns: (.variesAcrossRuns // []), variants: \$variants}" \
		>"$dir/oracle/chaos-$seed.json"
done
