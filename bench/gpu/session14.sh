#!/usr/bin/env bash
# Session 14, one call on the GPU machine after build-cuda.sh and seeds42m.sh's staging (run 1:
# carry .gpudebs-cli .gpu42a .gpudata; this run: carry .gpu42b):
#  - issue 14: LLaMA-70B shape, 2 layers: GPTQ 4-bit, MG-PTQ 2.5 bits with the defaults (auto
#    epochs: 50 with the stable rounding) and with --epochs 200 (the old default), traced;
#    and with every allocation of a group on the caller's stream (MPQ_ALLOC_STREAMS=0);
#  - issue 16, item 4: mpq-llama-42m, each MXQ cost alone at 3.25-3.75 bits and the floors
#    (seeds42m.sh's mxq_* sweeps), WikiText-2 and C4.
# Everything comes back as one tarball (a run returns at most 8 files).
# usage: DEADLINE=epoch STAGE=/root/stage42 session14.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mkdir -p "$O/r"
export MPQ_TRACE_MGPTQ=1
RUNS="gptq mgptq" bash bench/gpu/llama70b.sh "$O/r" 2 > "$O/r/70b.log" 2>&1
MPQ_TRACE_MGPTQ= bash bench/gpu/seeds42m.sh "$O/r/42m" mxq_floor3 mxq_floor4 mxq_fnorm mxq_relative mxq_relative-mse \
  mxq_hessian mxq_relative-hessian mxq_sensitivity > "$O/r/42m.log" 2>&1
RUNS="mgptq" MGPTQ_ARGS="--epochs 200" TAG=_e200 bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
MPQ_ALLOC_STREAMS=0 RUNS="mgptq" TAG=_onestream bash bench/gpu/llama70b.sh "$O/r" 2 >> "$O/r/70b.log" 2>&1
tar czf "$O/session14.tgz" -C "$O/r" .
