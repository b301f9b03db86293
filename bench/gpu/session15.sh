#!/usr/bin/env bash
# Session 15 on the GPU machine, one call (carry .gpudebs): issue 14 with the host copy of G for
# the host polish (MgptqOptions::hostRows) and one upload per relaxed-solve gradient.
# mgptq70-check.sh builds the CLI and the MG-PTQ test suites against CUDA, runs the suites' CUDA
# cases, then GPTQ 4-bit and MG-PTQ 2.5 bits over 2 synthetic LLaMA-70B layers, traced. Then the
# same MG-PTQ run with every allocation of a group on the caller's stream (MPQ_ALLOC_STREAMS=0).
# Everything comes back as one tarball (a run returns at most 8 files).
# usage: [DEADLINE=epoch] session15.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mkdir -p "$O/r"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
bash bench/gpu/mgptq70-check.sh "$O/r" 2 > "$O/r/check.log" 2>&1
MPQ_TRACE_MGPTQ=1 MPQ_ALLOC_STREAMS=0 RUNS="mgptq" TAG=_onestream bash bench/gpu/llama70b.sh "$O/r" 2 \
  > "$O/r/onestream.log" 2>&1
tar czf "$O/session15.tgz" -C "$O/r" .
