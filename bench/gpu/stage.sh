#!/usr/bin/env bash
# Stages, here, what the GPU scripts carry to the device machine (each run carries at most 64 MiB):
#   .gpudata/data.tar.gz  C4 train and validation excerpts, WikiText-2 test, the LLaMA-2 tokenizer
#   .gpudata/s260.tar.gz  stories260K with its tokenizers
#   .gpu42a/              mpq-llama-42m's JSON files, tokenizer and shard 1, xz-compressed
#   .gpu42b/              its shards 2-5, xz-compressed (a second run on the same warm machine)
# bench/gpu/seeds42m.sh unpacks them there. List them in .git/info/exclude; never commit them.
# usage: MPQ_DATA_DIR=../shared/data bench/gpu/stage.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${MPQ_DATA_DIR:-../shared/data}
mkdir -p .gpudata .gpu42a .gpu42b
tar -czf .gpudata/data.tar.gz -C "$D" c4/c4-train.00000-of-01024.head1041.jsonl \
  c4/c4-validation.00000-of-00008.head1025.jsonl wikitext2/wiki.test.joined.txt tokenizers/llama2/tokenizer.model
tar -czf .gpudata/s260.tar.gz -C "$D" models/stories260K
M=$D/models/mpq-llama-42m
cp "$M"/*.json "$M"/tokenizer.model .gpu42a/
for i in 1 2 3 4 5; do
  f=model-0000$i-of-00005.safetensors; dst=.gpu42a; [ $i -ge 2 ] && dst=.gpu42b
  [ -f $dst/$f.xz ] || xz -T0 -6 -c "$M/$f" > $dst/$f.xz
done
du -sh .gpudata .gpu42a .gpu42b
