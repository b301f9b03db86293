#!/usr/bin/env bash
# Session 15, calls 2 and 3 on one warm machine (a run returns at most 8 files, so each part
# comes back as one tarball):
#   part 70b (carry .gpudebs-cli .gpu42a .gpudata; stages mpq-llama-42m's first half): issue 14's
#     comparison again on whichever card comes: GPTQ 4-bit, then MG-PTQ 2.5 bits twice (the
#     spread between two runs of one build), 2 synthetic LLaMA-70B layers, traced;
#   part 42m (carry .gpu42b): issue 16, item 4, mpq-llama-42m on WikiText-2 and C4: the default
#     with the floored candidates at every budget and the floor of 3 bits imposed (seeds42m.sh's
#     mxq_floor3 and mxq_auto14, in that order).
# usage: [DEADLINE=epoch] session15b.sh 70b|42m OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
part=$1; O=$2; mkdir -p "$O/r"
if [ "$part" = 70b ]; then
  mkdir -p /root/stage42 && cp -r .gpu42a .gpudata /root/stage42/
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  lscpu | grep -E "Model name|^CPU\(s\)" >> "$O/r/gpu.txt"
  GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -20 "$O/r/build.log"; exit 1; }
  export MPQ_TRACE_MGPTQ=1
  RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O/r" 2 > "$O/r/70b.log" 2>&1
  RUNS="mgptq" TAG=_again bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
else
  STAGE=/root/stage42 bash bench/gpu/seeds42m.sh "$O/r/42m" mxq_auto14 mxq_floor3 > "$O/r/42m.log" 2>&1
fi
tar czf "$O/session15b-$part.tgz" -C "$O/r" .
