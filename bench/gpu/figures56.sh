#!/usr/bin/env bash
# Issue 5/6 figures on the GPU machine (mpq-llama-42m): MG-PTQ (GCN, MLP ablation,
# Hessian-greedy) at target bits, the alpha curve, MXQ and uniform HQQ budgets.
# usage: figures56.sh DATA_DIR OUT_DIR [SWEEP...]   (default: all)
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1; O=$2; shift 2; SEL="$*"; W=/root/sweeps
mpq=build-cuda/app/cli/mpq
export MPQ_DATA_DIR=$D
M=$D/models/mpq-llama-42m
mkdir -p $W
want() { [ -z "$SEL" ] || [[ " ${SEL} " == *" $1 "* ]]; }
sweep() { local name=$1; shift; want $name || return 0; timeout 200 $mpq sweep $M --device cuda --out $W/$name "$@" 2>$W/$name.err | tee -a $O/sweeps.log; cp $W/$name/sweep.json $O/$name.json 2>/dev/null; tail -2 $W/$name.err; }
sweep mxq --method mxq --budget 3.13,3.25,3.5,3.75,4.0,4.25,4.51
sweep hqq --method hqq --bits 4,3 --group-size 64
sweep hqq32 --method hqq --bits 4,3 --group-size 32
sweep hqq128 --method hqq --bits 4,3 --group-size 128
sweep mxq_h --method mxq --cost hessian --budget 3.13,3.25,3.5,3.75,4.0,4.25,4.51
sweep mg_gcn --method mgptq --gnn gcn --target-bits 2.25,2.5,3.0
sweep mg_mlp --method mgptq --gnn mlp --target-bits 2.25,2.5,3.0
sweep mg_greedy --method mgptq --gnn hessian-greedy --target-bits 2.25,2.5,3.0
sweep mg_alpha --method mgptq --gnn gcn --alpha 0.01,0.1,1
