#!/usr/bin/env bash
# Cross-check of the tokenizer references with Hugging Face `tokenizers` (Python), on a machine
# that has transformers + tokenizers. Writes $OUT/<name>.hf-tokenizers.json for the four
# tokenizers of tests/tst_hftokenizer.cpp; copy them into tests/data/tokenizer/ and the test
# checks them too (token for token, including the cases transformers.js gets wrong).
#   bash bench/gpu/tokenizer_reference.sh [DATA_DIR]
set -euo pipefail
DATA=${1:-${MPQ_DATA_DIR:-$( [ -d shared/data ] && echo shared/data || echo ../shared/data )}}
OUT=${OUT:-/tmp/tokenizer-reference}
mkdir -p "$OUT"
for dir in tests/data/tokenizer/tiny_sp_legacy tests/data/tokenizer/tiny_sp_metaspace \
           "$DATA/tokenizers/qwen3" "$DATA/tokenizers/llama3_1"; do
  python3 bench/reference/tokenizer_reference.py "$dir" "$DATA" tests/data/tokenizer/hf_edge_cases.json \
    "$OUT/$(basename "$dir").hf-tokenizers.json"
done
ls -la "$OUT"
