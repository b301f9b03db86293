#!/usr/bin/env bash
# The CUDA paths against the CPU on real models (issues 5 and 6): MXQ's HQQ costs (the fused
# zero-point kernel against the CPU's tensor loop) and MG-PTQ's plans (CPU, CUDA with eager
# steps, CUDA replaying a captured graph). Prints the largest differences; exit 1 on a failure.
# usage: parity.sh DATA_DIR OUT_DIR [MODEL...]   (default: stories260K; NO_CPU_MGPTQ=1 skips MG-PTQ's
# CPU run, which takes minutes on larger models)
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1; O=$2; shift 2
mpq=build-cuda/app/cli/mpq; cmp=bench/tools/compare_results.py
export MPQ_DATA_DIR=$D LD_LIBRARY_PATH=/opt/glpk/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
models=("$@"); [ ${#models[@]} -eq 0 ] && models=("$D/models/stories260K/stories260K.bin")
W=/root/parity; mkdir -p $W $O
fail=0
for M in "${models[@]}"; do
  n=$(basename "$M" .bin)
  echo "== $n: MXQ costs, CPU against CUDA"
  for dev in cpu cuda; do
    rm -rf $W/$n-mxq-$dev
    /usr/bin/time -f "$dev costs+quantize %e s" $mpq quantize "$M" --method mxq --budget 3.5 --device $dev \
      --costs $O/$n-costs-$dev.json --out $W/$n-mxq-$dev --json > $O/$n-mxq-$dev.json 2>$W/$n-mxq-$dev.err || { tail -3 $W/$n-mxq-$dev.err; fail=1; }
    tail -1 $W/$n-mxq-$dev.err
  done
  python3 $cmp $O/$n-costs-cpu.json $O/$n-costs-cuda.json --tol 1e-3 || fail=1
  echo "== $n: MG-PTQ (GCN, 2.5 bits) on the CPU, CUDA eager and CUDA graph"
  modes="cpu cuda-eager cuda-graph"; [ -n "${NO_CPU_MGPTQ:-}" ] && modes="cuda-eager cuda-graph"
  for mode in $modes; do
    dev=${mode%%-*}; extra=(); [ $mode = cuda-eager ] && extra=(--no-cuda-graph)
    rm -rf $W/$n-mg-$mode
    /usr/bin/time -f "$mode %e s" $mpq quantize "$M" --method mgptq --target-bits 2.5 --nsamples 32 --seqlen 256 \
      --device $dev "${extra[@]}" --out $W/$n-mg-$mode --json > $O/$n-mg-$mode.json 2>$W/$n-mg-$mode.err || { tail -3 $W/$n-mg-$mode.err; fail=1; }
    tail -1 $W/$n-mg-$mode.err
  done
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('cuda graph used:', all(m['diagnostics'].get('cuda_graph') for m in d['plan']['matrices']))" $W/$n-mg-cuda-graph/result.json
  echo "-- CUDA graph against CUDA eager (same kernels: expect identical up to atomics)"
  python3 $cmp $W/$n-mg-cuda-eager $W/$n-mg-cuda-graph --tol 1e-4 || fail=1
  echo "-- CUDA against CPU (training follows a different rounding; plans may differ in a few columns)"
  [ -d $W/$n-mg-cpu ] && { python3 $cmp $W/$n-mg-cpu $W/$n-mg-cuda-graph --tol 1 || true; }
done
exit $fail
