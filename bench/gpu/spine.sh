#!/usr/bin/env bash
# Issue 3 figures on the GPU machine: perplexity of mpq-llama-42m (fp32/fp16, WikiText-2/C4),
# CPU-vs-CUDA agreement, forward throughput, and the transformers reference for the same runs.
# usage: spine.sh DATA_DIR OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1; O=$2
M=$D/models/mpq-llama-42m
mpq=build-cuda/app/cli/mpq
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee $O/gpu.txt
for dt in fp16 fp32; do
  for ds in wikitext2 c4; do
    s=$(date +%s.%N)
    $mpq eval $M --dataset $ds --data-dir $D --device cuda --dtype $dt --json > $O/eval_${ds}_${dt}.json 2>> $O/stderr.txt
    e=$(date +%s.%N)
    echo "mpq eval $ds $dt cuda: process wall $(echo "$e - $s" | bc) s: $(cat $O/eval_${ds}_${dt}.json)"
  done
done
echo "--- CPU vs CUDA (fp32): stories260K documents, and 42m on 4 WikiText-2 windows"
T=$D/tinystories/tinystories-sample5.txt
for dev in cpu cuda; do
  $mpq eval $D/models/stories260K/stories260K.bin --dataset $T --protocol documents --seqlen 512 --device $dev --json 2>/dev/null
  $mpq eval $M --dataset wikitext2 --data-dir $D --max-windows 4 --device $dev --json 2>/dev/null
done
echo "--- bench"
for dt in fp16 fp32 bf16; do
  $mpq bench $M --device cuda --dtype $dt --forward-batch 8 --iterations 10 --data-dir $D --json 2>/dev/null
done
MPQ_THREADS=2 $mpq bench $M --device cpu --dtype fp32 --iterations 2 --skip-eval --json 2>/dev/null
echo "--- transformers reference"
for dt in fp16 fp32; do
  for ds in wikitext2 c4; do
    python3 bench/reference/hf_perplexity.py $M $D --dataset $ds --dtype $dt 2>>$O/stderr.txt
  done
done
