#!/usr/bin/env bash
# Session 15, the second call (carry .gpudebs-cli .gpubase): issue 14's comparison again on
# whichever card comes, without the test suites. Builds the CLI, runs GPTQ 4-bit and MG-PTQ 2.5
# bits over 2 synthetic LLaMA-70B layers, then session 14's code (.gpubase/s14.tar.gz) built
# beside it, then this code's MG-PTQ once more (the spread between two runs of one build).
# usage: [DEADLINE=epoch] session15b.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mkdir -p "$O/r/base"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
lscpu | grep -E "Model name|^CPU\(s\)" >> "$O/r/gpu.txt"
GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -20 "$O/r/build.log"; exit 1; }
export MPQ_TRACE_MGPTQ=1
RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O/r" 2 > "$O/r/70b.log" 2>&1
mkdir -p /root/s14 && tar xzf .gpubase/s14.tar.gz -C /root/s14
(cd /root/s14 && GUI=0 TARGETS=mpq DEBS=$OLDPWD/.gpudebs-cli bash bench/gpu/build-cuda.sh) > "$O/r/base/build.log" 2>&1 \
  && RUNS="mgptq" bash /root/s14/bench/gpu/llama70b.sh "$O/r/base" 2 > "$O/r/base/70b.log" 2>&1
RUNS="mgptq" TAG=_again bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
tar czf "$O/session15b.tgz" -C "$O/r" .
