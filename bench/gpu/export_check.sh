#!/usr/bin/env bash
# Issue 7 (export) on the GPU machine: quantize small runs, export them (hf, gptq, mpq-packed),
# and check with transformers that the hf export gives `mpq eval`'s perplexity and that the GPTQ
# export unpacks (pure torch, v1 semantics) to the same weights. Builds nothing.
# usage: export_check.sh DATA_DIR OUT_DIR [MPQ_BINARY]   (default build-cuda/app/cli/mpq)
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$(realpath "$1"); O=$2; mpq=${3:-build-cuda/app/cli/mpq}
export MPQ_DATA_DIR=$D
mkdir -p "$O"
W=$D/wikitext2/wiki.test.joined.txt
SEQ=512; WIN=40
dev=cpu; python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' && dev=cuda

check() { # name model quantize-args...
  local name=$1 model=$2; shift 2
  local r=$O/$name
  if [ ! -e "$model" ]; then echo "=== $name: $model is absent, skipped"; return 0; fi
  rm -rf "$r" "$r".hf32 "$r".hf16 "$r".gptq "$r".packed
  echo "=== $name: mpq quantize $model $*"
  $mpq quantize "$model" "$@" --seqlen $SEQ --device $dev --out "$r" --json 2>"$O/$name.quantize.log" ||
    { tail -5 "$O/$name.quantize.log"; return 1; }
  $mpq export "$r" --format hf --dtype fp32 --out "$r".hf32
  $mpq export "$r" --format hf --out "$r".hf16
  $mpq export "$r" --format mpq-packed --out "$r".packed
  local gptq_arg=()
  if $mpq export "$r" --format gptq --out "$r".gptq; then gptq_arg=(--gptq "$r".gptq); fi
  echo "--- mpq eval (CPU, fp32): the run, its mpq-packed export, its hf fp32 and fp16 exports"
  for m in "$r" "$r".packed "$r".hf32 "$r".hf16; do
    printf '%-28s ' "$(basename "$m")"
    $mpq eval "$m" --dataset wikitext2 --seqlen $SEQ --max-windows $WIN --json 2>/dev/null |
      python3 -c 'import json,sys; j=json.load(sys.stdin); print("perplexity %.6f  mean_nll %.8f  tokens %d" % (j["perplexity"], j["mean_nll"], j["tokens"]))'
  done
  echo "--- transformers LlamaForCausalLM (fp32, $dev) on the hf exports; GPTQ unpacked in torch"
  python3 bench/reference/hf_export_check.py --export "$r".hf32 --dataset "$W" --seqlen $SEQ --max-windows $WIN "${gptq_arg[@]}"
  python3 bench/reference/hf_export_check.py --export "$r".hf16 --dataset "$W" --seqlen $SEQ --max-windows $WIN
}

# llama2.c checkpoint (config synthesized, rotary permutation undone), per-column bits {2,3,4}
# from MG-PTQ's Hessian-greedy allocator: gptq is refused, hf and mpq-packed are checked.
check s260k-greedy "$D/models/stories260K/stories260K.bin" --method mgptq --target-bits 3 --gnn hessian-greedy --nsamples 32
# GPTQ 4-bit g32 act-order and 3-bit g32 (AutoGPTQ's cross-word packing) on the same model; its
# 172-wide MLP is not a multiple of 32 (partial last group, partly used last words).
check s260k-gptq4 "$D/models/stories260K/stories260K.bin" --method gptq --bits 4 --group-size 32 --act-order --nsamples 32
check s260k-gptq3 "$D/models/stories260K/stories260K.bin" --method gptq --bits 3 --group-size 32 --nsamples 32
# Hugging Face folder, GPTQ 4-bit g128 act-order: all three formats.
check l42m-gptq4 "$D/models/mpq-llama-42m" --method gptq --bits 4 --group-size 128 --act-order --nsamples 32
