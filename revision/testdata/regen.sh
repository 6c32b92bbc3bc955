#!/bin/sh
# Regenerates the oracle fixtures of package revision:
#
#   testdata/hashvec.json            oracle hashvec -n 500 -seed 1
#   testdata/oracle/chaos-N.yaml     oracle gen -seed N -nodes 6 -profile chaos
#   testdata/oracle/chaos-N.json     what kube-controller-manager v1.37.2 does
#                                    with it (trimmed oracle output, below)
#   testdata/oracle/crafted-*.json   the same for the hand-edited snapshots
#                                    crafted-*.yaml (kept, only re-run)
#
# Run from anywhere: revision/testdata/regen.sh [SEED...]
# ORACLE overrides the oracle script (default: ../shared/oracle/oracle next to
# the repository). Needs jq.
#
# The tests apply API defaults with internal/apidefault and check that it
# changes the paths the oracle reports (input.defaultedPaths).
# The trimmed JSON keeps hash, hashRevision, revisions, podPatches,
# claims.revisions, error, the first line of panic, failedWrites,
# status.collisionCount, input.defaultedPaths and
# variesAcrossRuns of one run, plus "variants": every distinct outcome of
# those fields over 96 single runs when the hash varies across runs
# (tied duplicate revisions: upstream keeps one at random).
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
oracle=${ORACLE:-$dir/../../../shared/oracle/oracle}
export ORACLE_QUIET=1
# Call the oracle's binaries directly: the script re-hashes its sources on
# every call, which triples the time of the 96-run loops.
bin=$("$oracle" build)

# Chosen from seeds 1-400 of `gen -nodes 6 -profile chaos`: among those
# already API-defaulted, all with revision activity (creates, claims, label
# fixes, renumbering, duplicates and their tie variants, AlreadyExists reuse,
# collisions), four with only cleanup deletes, four quiet ones and two that
# return before constructHistory; among those printed before defaulting, the
# ones with label fixes, renumbering, tie variants, reuse, collisions, or a
# create together with claims.
SEEDS=${*:-"1 3 5 6 7 8 9 11 12 13 18 20 23 26 28 45 46 47 53 56 58 60 61 64 71 73 \
74 75 77 79 81 84 89 90 94 96 98 99 103 108 110 112 121 122 126 131 \
132 136 137 139 142 147 152 153 156 159 163 164 166 167 168 169 171 \
172 174 177 187 192 197 198 200 206 212 213 214 215 219 223 228 229 \
233 241 250 252 255 257 260 261 263 267 269 273 276 280 287 290 291 \
293 295 296 297 300 302 308 311 322 325 327 336 337 338 340 341 342 \
343 346 348 350 356 357 362 364 368 371 372 373 377 379 385 387 391 \
394"}

"$bin/hashvec" -n 500 -seed 1 >"$dir/hashvec.json"

mkdir -p "$dir/oracle"
trim='{hash, hashRevision: (.hashRevision // ""), error: (.error // ""),
  panic: ((.panic // "") | split("\n")[0]),
  failedWrites: (.failedWrites // []), revisions,
  podPatches, claimsRevisions: (.claims.revisions // []),
  collisionCount: .status.collisionCount,
  defaultedPaths: .input.defaultedPaths}'

# record SNAPSHOT: writes the trimmed oracle output next to it (.json).
record() {
	out=$("$bin/oracle" --compact --runs 32 "$1")
	variants=[]
	if printf '%s' "$out" | jq -e '(.variesAcrossRuns // []) | index("hash")' >/dev/null; then
		variants=$(for i in $(seq 96); do "$bin/oracle" --compact "$1"; done | jq -c "$trim" | sort -u | jq -s -c 'sort_by(.hash)')
	fi
	printf '%s' "$out" | jq --argjson variants "$variants" \
		"($trim) + {variesAcrossRuns: (.variesAcrossRuns // []), variants: \$variants}" \
		>"${1%.yaml}.json"
}

for seed in $SEEDS; do
	"$bin/gen" -seed "$seed" -nodes 6 -profile chaos >"$dir/oracle/chaos-$seed.yaml"
	record "$dir/oracle/chaos-$seed.yaml"
done

# crafted-*.yaml are hand-edited copies of chaos seed 10 (see their first
# line) for cases gen does not produce; they are kept, only re-run.
if [ $# -eq 0 ]; then
	for snap in "$dir"/oracle/crafted-*.yaml; do
		record "$snap"
	done
fi
