#!/usr/bin/env bash
# Issue 14/16: where MG-PTQ's time goes at the LLaMA-70B and 7B shapes (synthetic weights made
# on the device): bench-quantize with MPQ_TRACE_MGPTQ=1 (per matrix: graph, training, relaxed
# solve, polish), and, where gdb exists, the threads' stacks every 30 s of the 70B run.
# usage: mgptq-trace.sh OUT_DIR [70B_LIMIT_S] [7B_LAYERS]
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; LIM=${2:-220}; L7=${3:-2}
mkdir -p "$O"
source bench/gpu/env.sh
mpq=build-cuda/app/cli/mpq
nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/gpu.txt" 2>&1
export MPQ_TRACE_MGPTQ=1
MPQ_TRACE_MGPTQ=1 timeout "$LIM" $mpq bench-quantize --preset llama-70b --layers 1 --method mgptq --gnn gcn \
  --target-bits 2.5 --json > "$O/bq70_mg_L1.json" 2> "$O/bq70_mg_L1.err" &
pid=$!
if command -v gdb >/dev/null; then
  for i in $(seq 1 $((LIM / 30))); do
    sleep 30; kill -0 $pid 2>/dev/null || break
    echo "=== t=$((i * 30)) s" >> "$O/stacks70.txt"
    timeout 20 gdb -p "$(pgrep -f 'mpq bench-quantize' | head -1)" -batch -ex "thread apply all bt 14" 2>/dev/null \
      | grep -E "^#|^Thread" | grep -v "libc.so\|pthread" >> "$O/stacks70.txt"
  done
fi
wait $pid; echo "70B rc=$?" >> "$O/summary.txt"
tr "\r" "\n" < "$O/bq70_mg_L1.err" | grep "\[mgptq\]" | tail -40 >> "$O/summary.txt"
timeout 200 $mpq bench-quantize --preset llama-7b --layers "$L7" --method mgptq --gnn gcn --target-bits 2.5 \
  --json > "$O/bq7_mg_L$L7.json" 2> "$O/bq7_mg.err"; echo "7B rc=$?" >> "$O/summary.txt"
tr "\r" "\n" < "$O/bq7_mg.err" | grep "\[mgptq\]" | tail -30 >> "$O/summary.txt"
