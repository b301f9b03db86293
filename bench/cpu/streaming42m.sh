#!/bin/bash
# Issue 14's CPU benchmark (docs/streaming.md): GPTQ 4-bit of mpq-llama-42m without a memory
# limit and with --max-host-memory at the smallest plan (one decoder layer's working set), then
# both results evaluated (resident without a limit, layer-streamed under one), the layer files compared.
# Usage: bench/cpu/streaming42m.sh [BUILD_DIR] [OUT_DIR]; needs MPQ_DATA_DIR (or ../shared/data).
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-/tmp/streaming42m}
MPQ=$BUILD/app/cli/mpq
M=${MPQ_DATA_DIR:-../shared/data}/models/mpq-llama-42m
Q="--method gptq --bits 4 --nsamples 4 --seqlen 512"
E="--seqlen 512 --max-windows 4"
mkdir -p "$OUT"
rm -rf "$OUT/free" "$OUT/limited"

run() { # NAME COMMAND...: JSON on stdout to NAME.json, /usr/bin/time -v to NAME.time
    local name=$1; shift
    echo "== $name: $*" | tee -a "$OUT/commands.txt"
    /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.json"
    grep -E "Maximum resident|Elapsed" "$OUT/$name.time"
}

# The smallest plans, from the refusals (exit status 2) of a 1 MiB limit.
$MPQ quantize "$M" $Q --out "$OUT/x" --max-host-memory 1M 2> "$OUT/refusal-quantize.txt" || echo "exit $?" >> "$OUT/refusal-quantize.txt"
$MPQ eval "$M" $E --max-host-memory 1M 2> "$OUT/refusal-eval.txt" || echo "exit $?" >> "$OUT/refusal-eval.txt"
QMIN=$(grep -o 'needs at least [0-9.]* MiB' "$OUT/refusal-quantize.txt" | grep -o '[0-9.]*' | awk '{printf "%dK", $1*1024+103}')
EMIN=$(grep -o 'needs at least [0-9.]* MiB' "$OUT/refusal-eval.txt" | grep -o '[0-9.]*' | awk '{printf "%dK", $1*1024+103}')
echo "smallest plans: quantize $QMIN, eval $EMIN" | tee -a "$OUT/commands.txt"

# The two runs of each pair go concurrently (each process's RSS is its own; wall times are shared).
run quantize-free nice $MPQ quantize "$M" $Q --out "$OUT/free" --json &
run quantize-limited nice $MPQ quantize "$M" $Q --out "$OUT/limited" --max-host-memory "$QMIN" --json &
wait
run eval-free nice $MPQ eval "$OUT/free" $E --json &
run eval-limited nice $MPQ eval "$OUT/limited" $E --max-host-memory "$EMIN" --json &
wait

same=0; differ=0
for f in "$OUT"/free/layers/*.safetensors; do
    if cmp -s "$f" "$OUT/limited/layers/$(basename "$f")"; then same=$((same + 1)); else differ=$((differ + 1)); fi
done
echo "layer files identical: $same, different: $differ" | tee -a "$OUT/commands.txt"
