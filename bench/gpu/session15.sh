#!/usr/bin/env bash
# Session 15 on the GPU machine, one call (carry .gpudebs .gpubase): issue 14 with the per-step
# read-backs of MG-PTQ's polish and relaxed solve through page-locked memory (PinnedTransfer),
# and the device polish's scan recorded once as a CUDA graph and replayed.
# mgptq70-check.sh builds the CLI and the MG-PTQ test suites against CUDA, runs the suites' CUDA
# cases, then GPTQ 4-bit and MG-PTQ 2.5 bits over 2 synthetic LLaMA-70B layers, traced. Then the
# same MG-PTQ run of session 14's code (.gpubase/s14.tar.gz: `git archive 185a397` without docs/),
# built beside it, on the same card; then, time allowing, this code with the device polish's steps
# eager (MPQ_POLISH_GRAPH=0) and with every allocation of a group on the caller's stream
# (MPQ_ALLOC_STREAMS=0).
# Everything comes back as one tarball (a run returns at most 8 files).
# usage: [DEADLINE=epoch] session15.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mkdir -p "$O/r/base"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
bash bench/gpu/mgptq70-check.sh "$O/r" 2 > "$O/r/check.log" 2>&1
if [ -e .gpubase/s14.tar.gz ]; then
  mkdir -p /root/s14 && tar xzf .gpubase/s14.tar.gz -C /root/s14
  (cd /root/s14 && GUI=0 TARGETS=mpq DEBS=$OLDPWD/.gpudebs bash bench/gpu/build-cuda.sh) > "$O/r/base/build.log" 2>&1 \
    && MPQ_TRACE_MGPTQ=1 RUNS="mgptq" bash /root/s14/bench/gpu/llama70b.sh "$O/r/base" 2 > "$O/r/base/70b.log" 2>&1
  tr "\r" "\n" < "$O/r/base/bq70_mgptq_L2.err" | grep "\[mgptq\]" > "$O/r/base/trace.txt"
fi
MPQ_TRACE_MGPTQ=1 MPQ_POLISH_GRAPH=0 RUNS="mgptq" TAG=_eagerpolish bash bench/gpu/llama70b.sh "$O/r" 2 \
  > "$O/r/eagerpolish.log" 2>&1
MPQ_TRACE_MGPTQ=1 MPQ_ALLOC_STREAMS=0 RUNS="mgptq" TAG=_onestream bash bench/gpu/llama70b.sh "$O/r" 2 \
  > "$O/r/onestream.log" 2>&1
tar czf "$O/session15.tgz" -C "$O/r" .
