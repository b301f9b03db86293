#!/usr/bin/env bash
# llama.cpp against `mpq eval` for every family fixture (docs/gguf.md, "Every family in
# llama.cpp"): gguf_compare.sh on each fixture's text.txt, all windows, F32 unquantized tensors.
# Sliding-window fixtures (mistral, mixtral, qwen2: window 8) run twice: windows of 32 tokens,
# where the window binds and llama.cpp (which ignores it) computes another model, and windows of
# 8 tokens (the first 160 windows: 1,120 predictions), where it does not bind and both compute
# the same model.
# Usage: bench/reference/gguf_families.sh WORKDIR CONFIG... > families.tsv
#   (CONFIG as gguf_compare.sh's; the TSV's first column names the family and window length)
# Needs what gguf_compare.sh needs; FAMILIES (default: all eight) picks fixtures, SEQLENS the
# window lengths (default: 32, and 8 for sliding-window fixtures), WINDOWS the number of windows
# (default: all at 32, 160 at 8).
set -uo pipefail
work=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../tests/data/families
python3 "$here/gguf_family_fixtures.py" "$fixtures" "$work/fixtures" > /dev/null
for fam in ${FAMILIES:-llama2-linear llama3 mistral mixtral qwen2 qwen3 qwen2_moe qwen3_moe}; do
    model=$fixtures/$fam
    [[ -d $work/fixtures/$fam ]] && model=$work/fixtures/$fam
    seqlens=32
    grep -q '"sliding_window": [1-9]' "$fixtures/$fam/config.json" && ! grep -q '"use_sliding_window": false' "$fixtures/$fam/config.json" && seqlens="32 8"
    for s in ${SEQLENS:-$seqlens}; do
        windows=0; [[ $s == 8 ]] && windows=160
        windows=${WINDOWS:-$windows}
        SEQLEN=$s DATASET=$fixtures/$fam/text.txt "$here/gguf_compare.sh" "$model" "$work/$fam-$s" $windows fp32 "$@" \
            2>> "$work/$fam-$s.err" | sed "s/^/$fam\tseqlen $s\t/"
    done
done
