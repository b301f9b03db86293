#!/usr/bin/env bash
# Session 15, call 4 (carry .gpudebs-cli), on an H200 if one comes: issue 14's GPTQ 4-bit and
# MG-PTQ 2.5 bits over 2 synthetic LLaMA-70B layers with this build (session 14's 2.53x was an
# H200's figure).
# usage: [DEADLINE=epoch] session15c.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mkdir -p "$O/r"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
lscpu | grep -E "Model name|^CPU\(s\)" >> "$O/r/gpu.txt"
GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -20 "$O/r/build.log"; exit 1; }
MPQ_TRACE_MGPTQ=1 RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O/r" 2 > "$O/r/70b.log" 2>&1
tar czf "$O/session15c.tgz" -C "$O/r" .
