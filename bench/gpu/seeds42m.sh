#!/usr/bin/env bash
# Issue 16, items 1, 2 and 5 on the GPU machine (mpq-llama-42m, which is over what one run may
# carry: its shards travel xz-compressed in two runs, .gpu42a then .gpu42b, and are unpacked here):
# the alpha -> bits curve with the current defaults, MG-PTQ at 2.25 / 2.5 / 3.0 bits over allocator
# seeds 0-4 with the defaults (stable rounding), and the paper's rounding (--no-relaxed-rounding)
# for the GCN, the MLP ablation and the plain head at 2.5 bits over seeds 0-4; session 10 adds
# the MLP and the plain head at 2.25 / 2.5 / 3.0 with the defaults and all three with the paper's
# rounding at 2.25 and 3.0; session 11 the same gaps on stories260K (s260_*) (select sweeps by
# name: seeds42m.sh OUT mlp_stable3 ...). 128 x 2048 C4
# calibration, WikiText-2 and C4 (gptq protocol), fp16 evaluation.
# usage: [DEADLINE=epoch] [STAGE=dir] seeds42m.sh OUT_DIR [SWEEP...]
#   first run (carry .gpudata .gpu42a): mkdir -p /root/stage42 && cp -r .gpu42a .gpudata /root/stage42/
#   second run (carry .gpu42b, same warm machine): STAGE=/root/stage42 seeds42m.sh OUT
#   stories260K only (carry .gpudata; one run): seeds42m.sh OUT s260_mlp_stable3 ...
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; shift; SEL="$*"
mkdir -p "$O"
source bench/gpu/env.sh
mpq=build-cuda/app/cli/mpq
D=/root/data42; M=/root/m42; W=/root/sweeps42
mkdir -p $D $M $W
G=${STAGE:-.}  # where an earlier run left .gpudata and .gpu42a (a run keeps no carried path of the last)
[ -f $D/c4/c4-train.00000-of-01024.head1041.jsonl ] || { tar xzf $G/.gpudata/data.tar.gz -C $D && tar xzf $G/.gpudata/s260.tar.gz -C $D; }
# mpq-llama-42m is needed unless only stories260K sweeps (s260_*) are selected.
need42=1
if [ -n "$SEL" ]; then need42=0; for x in $SEL; do [[ $x == s260_* ]] || need42=1; done; fi
if [ $need42 = 1 ]; then
  cp -n $G/.gpu42a/*.json $G/.gpu42a/tokenizer.model $M/ 2>/dev/null
  for f in $G/.gpu42a/*.xz .gpu42b/*.xz; do
    t=$M/$(basename "$f" .xz); [ -f "$t" ] || python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$f" "$t"
  done
  ls $M/*.safetensors | wc -l | grep -q '^5$' || { echo "mpq-llama-42m incomplete: $(ls $M)"; exit 1; }
fi
export MPQ_DATA_DIR=$D
want() { [ -z "$SEL" ] || [[ " $SEL " == *" $1 "* ]]; }
sweep() {
  local name=$1; shift; want $name || return 0
  if [ -n "${DEADLINE:-}" ] && [ $(( DEADLINE - $(date +%s) )) -lt 40 ]; then echo "== $name: skipped (deadline)" | tee -a "$O/sweeps.log"; return; fi
  echo "== $name: mpq sweep mpq-llama-42m --device cuda $*" >> "$O/sweeps.log"
  local lim=400; [ -n "${DEADLINE:-}" ] && lim=$(( DEADLINE - $(date +%s) - 10 ))
  timeout $lim $mpq sweep $M --device cuda --out $W/$name "$@" 2> $W/$name.err >> "$O/sweeps.log"; echo "rc=$?" >> "$O/sweeps.log"
  cp $W/$name/sweep.json "$O/$name.json" 2>/dev/null; tail -1 $W/$name.err | tr '\r' '\n' | tail -1 >> "$O/sweeps.log"
}
sweep alpha --method mgptq --gnn gcn --alpha 0.01,0.03,0.1,0.3,1
sweep gcn_stable --method mgptq --gnn gcn --target-bits 2.25,2.5,3.0 --seeds 0-4
sweep mlp_stable --method mgptq --gnn mlp --target-bits 2.5 --seeds 0
sweep gcn_paper --method mgptq --gnn gcn --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
sweep mlp_paper --method mgptq --gnn mlp --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
sweep plain_paper --method mgptq --gnn gcn --no-skip-features --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
# Session 10: the MLP ablation and the plain head at every target with the defaults, and the
# paper's rounding for all three at 2.25 and 3.0 bits.
sweep mlp_stable3 --method mgptq --gnn mlp --target-bits 2.25,2.5,3.0 --seeds 0-4
sweep plain_stable3 --method mgptq --gnn gcn --no-skip-features --target-bits 2.25,2.5,3.0 --seeds 0-4
# Session 13 (issue 16, item 4): each cost that auto's probe chooses among, alone, at the budgets
# where the default's plan was above the uniform HQQ line on WikiText-2 (3.25-3.75 bits).
for c in fnorm relative relative-mse hessian relative-hessian sensitivity; do
  sweep mxq_$c --method mxq --cost $c --budget 3.25,3.5,3.75
done
# Session 14 (issue 16, item 4): a per-matrix floor, as candidate sets without the widths below it:
# auto (probed) choosing only among 3-, 4- and 8-bit configurations at every budget, and among 4- and
# 8-bit ones where every matrix can have 4 bits.
sweep mxq_floor3 --method mxq --configs 3,4,8x32,64,128 --budget 3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6
sweep mxq_floor4 --method mxq --configs 4,8x32,64,128 --budget 4.25,4.5,4.6
# The default (auto -> probed) with the floored plans among its candidates.
sweep mxq_auto14 --method mxq --budget 3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6
# Session 11: stories260K (protocol "stories-512" of docs/figures.md) with the MLP and the plain
# head at every target with the defaults, and the three allocators with the paper's rounding at 2.5.
S260=$D/models/stories260K/stories260K.bin
sweep260() {
  local name=$1; shift; want $name || return 0
  if [ -n "${DEADLINE:-}" ] && [ $(( DEADLINE - $(date +%s) )) -lt 30 ]; then echo "== $name: skipped (deadline)" | tee -a "$O/sweeps.log"; return; fi
  echo "== $name: mpq sweep stories260K.bin --device cuda --nsamples 64 --seqlen 512 --eval-datasets c4 $*" >> "$O/sweeps.log"
  local lim=300; [ -n "${DEADLINE:-}" ] && lim=$(( DEADLINE - $(date +%s) - 10 ))
  timeout $lim $mpq sweep $S260 --device cuda --nsamples 64 --seqlen 512 --eval-datasets c4 --out $W/$name "$@" \
    2> $W/$name.err >> "$O/sweeps.log"; echo "rc=$?" >> "$O/sweeps.log"
  cp $W/$name/sweep.json "$O/$name.json" 2>/dev/null
}
sweep260 s260_mlp_stable3 --method mgptq --gnn mlp --target-bits 2.25,2.5,3.0 --seeds 0-4
sweep260 s260_plain_stable3 --method mgptq --gnn gcn --no-skip-features --target-bits 2.25,2.5,3.0 --seeds 0-4
sweep260 s260_gcn_paper25 --method mgptq --gnn gcn --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
sweep260 s260_mlp_paper25 --method mgptq --gnn mlp --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
sweep260 s260_plain_paper25 --method mgptq --gnn gcn --no-skip-features --target-bits 2.5 --no-relaxed-rounding --seeds 0-4
sweep gcn_paper_ends --method mgptq --gnn gcn --target-bits 2.25,3.0 --no-relaxed-rounding --seeds 0-4
sweep mlp_paper_ends --method mgptq --gnn mlp --target-bits 2.25,3.0 --no-relaxed-rounding --seeds 0-4
sweep plain_paper_ends --method mgptq --gnn gcn --no-skip-features --target-bits 2.25,3.0 --no-relaxed-rounding --seeds 0-4
