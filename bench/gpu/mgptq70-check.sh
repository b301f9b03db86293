#!/usr/bin/env bash
# Issue 14, MG-PTQ < 2x GPTQ at LLaMA-70B: one call that builds the CLI and the MG-PTQ test suites
# against CUDA, runs the CUDA cases (the device's proxy products, polish and relaxed solve against
# the CPU's), then GPTQ 4-bit and MG-PTQ 2.5 bits (defaults) over LAYERS synthetic 70B layers with
# MPQ_TRACE_MGPTQ=1 (per matrix: stage times; per polish: scans, pair blocks, rows; per relaxed
# solve: the step size's power iterations and the iterations).
# usage (carry .gpudebs): [DEADLINE=epoch] mgptq70-check.sh OUT_DIR [LAYERS]
#   TESTS=0 (carry .gpudebs-cli instead, DEBS=.gpudebs-cli): the CLI alone, no test suites
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; L=${2:-2}
mkdir -p "$O"
t0=$(date +%s)
if [ "${TESTS:-1}" = 1 ]; then
  GUI=1 TARGETS="mpq tst_seeds tst_mgptq" bash bench/gpu/build-cuda.sh > "$O/build.txt" 2>&1 || { tail -30 "$O/build.txt"; exit 1; }
else
  GUI=0 TARGETS=mpq bash bench/gpu/build-cuda.sh > "$O/build.txt" 2>&1 || { tail -30 "$O/build.txt"; exit 1; }
fi
echo "build $(( $(date +%s) - t0 )) s" | tee -a "$O/summary.txt"
source bench/gpu/env.sh
export QT_QPA_PLATFORM=offscreen
for t in seeds mgptq; do
  [ -x build-cuda/tests/tst_$t ] || continue
  timeout 240 build-cuda/tests/tst_$t > "$O/tst_$t.txt" 2>&1; echo "tst_$t rc=$?" | tee -a "$O/summary.txt"
  grep -E "^Totals|^FAIL|CUDA" "$O/tst_$t.txt" | head -8 | tee -a "$O/summary.txt"
done
MPQ_TRACE_MGPTQ=1 RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O" "$L" 2>&1 | tee -a "$O/summary.txt"
for f in "$O"/bq70_mgptq_L*.err; do tr "\r" "\n" < "$f" | grep "\[mgptq\]" >> "$O/trace.txt"; done
