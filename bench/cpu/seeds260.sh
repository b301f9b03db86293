#!/bin/bash
# Issue 16, item 1 on stories260K, on the CPU: MG-PTQ with the GCN, the MLP ablation and the plain
# head, each with the stable rounding (the default) and the paper's rounding, at 2.25 / 2.5 / 3.0
# bits over allocator seeds 0-4 (protocol "stories-512" of docs/figures.md: 64 x 512 C4
# calibration, C4 evaluation). About 5 min per sweep on 2 idle cores; the table:
# python3 bench/tools/seed_table.py OUT/*/sweep.json
# Usage: bench/cpu/seeds260.sh [BUILD_DIR] [OUT_DIR]; needs MPQ_DATA_DIR (or ../shared/data).
set -uo pipefail
BUILD=${1:-build}
OUT=${2:-/tmp/seeds260}
MPQ=$BUILD/app/cli/mpq
export MPQ_DATA_DIR=${MPQ_DATA_DIR:-../shared/data}
M=$MPQ_DATA_DIR/models/stories260K/stories260K.bin
mkdir -p "$OUT"
run() { # NAME OPTIONS...
    local name=$1; shift
    echo "== $name: mpq sweep stories260K.bin --method mgptq $* --target-bits 2.25,2.5,3.0 --nsamples 64 --seqlen 512 --eval-datasets c4 --seeds 0-4" | tee -a "$OUT/sweeps.log"
    "$MPQ" sweep "$M" --method mgptq "$@" --target-bits 2.25,2.5,3.0 --nsamples 64 --seqlen 512 \
        --eval-datasets c4 --seeds 0-4 --out "$OUT/$name" 2> "$OUT/$name.err" | tee -a "$OUT/sweeps.log"
}
run gcn_stable3 --gnn gcn
run mlp_stable3 --gnn mlp
run plain_stable3 --gnn gcn --no-skip-features
run gcn_paper3 --gnn gcn --no-relaxed-rounding
run mlp_paper3 --gnn mlp --no-relaxed-rounding
run plain_paper3 --gnn gcn --no-skip-features --no-relaxed-rounding
