#!/usr/bin/env bash
# Issue 4 figures: WikiText-2 and C4 perplexity (protocol gptq) of FP16, RTN and GPTQ at 4/3/2
# bits, per-channel and g128, act-order on, 128 C4-train calibration windows.
# usage: figures4.sh DATA_DIR OUT_DIR   (writes OUT_DIR/figures4.jsonl)
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1; O=$2
mpq=build-cuda/app/cli/mpq
export MPQ_DATA_DIR=$D
run() { # model tag seqlen method bits group
  local model=$1 tag=$2 L=$3 method=$4 bits=$5 group=$6 res=$O/r_${2}_$4_$5_$6
  local extra=""; [ "$method" = gptq ] && extra="--act-order"
  q=$($mpq quantize $model --method $method --bits $bits --group-size $group $extra --seqlen $L --nsamples 128 \
        --device cuda --out $res --json 2>/dev/null)
  for ds in wikitext2 c4; do
    e=$($mpq eval $res --dataset $ds --seqlen $L --device cuda --dtype fp16 --json 2>/dev/null)
    echo "{\"model\":\"$tag\",\"method\":\"$method\",\"bits\":$bits,\"group\":$group,\"dataset\":\"$ds\",\"quantize\":$q,\"eval\":$e}" >> $O/figures4.jsonl
  done
  rm -rf $res
}
for spec in "$D/models/mpq-llama-42m mpq-llama-42m 2048" "$D/models/stories260K/stories260K.bin stories260K 512"; do
  set -- $spec
  for ds in wikitext2 c4; do
    e=$($mpq eval $1 --dataset $ds --seqlen $3 --device cuda --dtype fp16 --json 2>/dev/null)
    echo "{\"model\":\"$2\",\"method\":\"fp16\",\"bits\":16,\"group\":-1,\"dataset\":\"$ds\",\"eval\":$e}" >> $O/figures4.jsonl
  done
  for method in rtn gptq; do
    for bits in 4 3 2; do
      for group in -1 128; do
        run $1 $2 $3 $method $bits $group
      done
    done
  done
done
python3 - $O/figures4.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    print(f"{r['model']:14s} {r['method']:5s} {r['bits']:2d} g{r['group']:<4d} {r['dataset']:9s} ppl {r['eval']['perplexity']:10.3f}"
          + (f"  q {r['quantize']['seconds']:.1f}s" if 'quantize' in r else ''))
PY
