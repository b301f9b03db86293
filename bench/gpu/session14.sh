#!/usr/bin/env bash
# Session 14 on the GPU machine, in two calls on one warm machine (a run returns at most 8 files,
# so each part comes back as one tarball):
#   part 70b (carry .gpudebs-cli .gpu42a .gpudata; builds, stages mpq-llama-42m's first half):
#     issue 14, LLaMA-70B shape, 2 layers: GPTQ 4-bit, MG-PTQ 2.5 bits with the defaults (auto
#     epochs: 50 with the stable rounding), with --epochs 200 (the old default), and with every
#     allocation of a group on the caller's stream (MPQ_ALLOC_STREAMS=0), traced;
#   part 42m (carry .gpu42b): issue 16, item 4, mpq-llama-42m: each MXQ cost alone at 3.25-3.75
#     bits and the per-matrix floors (seeds42m.sh's mxq_* sweeps), WikiText-2 and C4.
# usage: [DEADLINE=epoch] session14.sh 70b|42m OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
part=$1; O=$2; mkdir -p "$O/r"
if [ "$part" = 70b ]; then
  mkdir -p /root/stage42 && cp -r .gpu42a .gpudata /root/stage42/
  GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -20 "$O/r/build.log"; exit 1; }
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  export MPQ_TRACE_MGPTQ=1
  RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O/r" 2 > "$O/r/70b.log" 2>&1
  RUNS="mgptq" MGPTQ_ARGS="--epochs 200" TAG=_e200 bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
  MPQ_ALLOC_STREAMS=0 RUNS="mgptq" TAG=_onestream bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
else
  STAGE=/root/stage42 bash bench/gpu/seeds42m.sh "$O/r/42m" mxq_auto14 mxq_floor3 mxq_floor4 mxq_fnorm mxq_relative \
    mxq_relative-mse mxq_hessian mxq_relative-hessian mxq_sensitivity > "$O/r/42m.log" 2>&1
fi
tar czf "$O/session14-$part.tgz" -C "$O/r" .
