#!/usr/bin/env bash
# Session 12: the plain head with the stable rounding on mpq-llama-42m (seeds42m.sh plain_stable3)
# stopped with SIGABRT on the H100. Second run of the seeds42m.sh pair (carry .gpu42b; the first
# run staged .gpu42a and .gpudata and built build-cuda): the sweep with its error output kept,
# then, if it failed, one point at 2.25 bits with --no-cuda-graph and the same point with the
# graph, each error output kept.
# usage: [DEADLINE=epoch] STAGE=/root/stage42 plain-stable-repro.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1
mkdir -p "$O"
bash bench/gpu/seeds42m.sh "$O" plain_stable3
cp /root/sweeps42/plain_stable3.err "$O/plain_stable3.err" 2>/dev/null
# The sweep's exit status: the first "rc=" line after its header (its points are printed between).
if [ "$(awk '/== plain_stable3/{f=1} f && /^rc=/{print; exit}' "$O/sweeps.log")" != "rc=0" ]; then
  source bench/gpu/env.sh
  export MPQ_DATA_DIR=/root/data42
  for extra in "--no-cuda-graph" ""; do
    tag=${extra:-graph}; tag=${tag#--}
    timeout 150 build-cuda/app/cli/mpq quantize /root/m42 --device cuda --method mgptq --gnn gcn --no-skip-features \
      --target-bits 2.25 --out /root/ps_$tag --json > "$O/point_$tag.json" 2> "$O/point_$tag.err"
    echo "point $tag rc=$?" | tee -a "$O/sweeps.log"
    tr '\r' '\n' < "$O/point_$tag.err" | grep -v "^quantize\|^calibration\|^eval" | tail -8
  done
fi
