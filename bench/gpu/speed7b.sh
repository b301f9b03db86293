#!/usr/bin/env bash
# Speed on the synthetic LLaMA-7B shape (issues 5 and 6): GPTQ against MG-PTQ end to end
# (bench-quantize, LAYERS decoder layers; the per-layer work is the same in every layer), and MXQ's
# 12 HQQ passes over all 224 matrices plus the solve (bench-mxq).
# usage: speed7b.sh OUT_DIR [LAYERS]
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; L=${2:-32}
mkdir -p $O
mpq=build-cuda/app/cli/mpq
export LD_LIBRARY_PATH=/opt/glpk/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
run() { local name=$1; shift; echo "== $name: $*"; timeout 400 $mpq "$@" --json > $O/$name.json 2>$O/$name.err; echo "rc=$?"; cat $O/$name.json | head -c 1500; echo; tail -2 $O/$name.err; }
run bench_mxq bench-mxq --budget 3.5,3.13,3.25,3.75,4.0,4.25,4.51 --costs-out $O/bench_mxq_costs.json
gzip -f $O/bench_mxq_costs.json
run bq_gptq_L$L bench-quantize --method gptq --layers $L
run bq_mgptq_gcn_L$L bench-quantize --method mgptq --gnn gcn --target-bits 2.5 --layers $L
[ -n "${EAGER:-}" ] && run bq_mgptq_gcn_eager_L$L bench-quantize --method mgptq --gnn gcn --target-bits 2.5 --layers $L --no-cuda-graph
