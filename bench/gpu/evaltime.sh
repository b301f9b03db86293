#!/usr/bin/env bash
# Wall time of whole `mpq eval` processes (CUDA start-up, model load and tokenization included).
# usage: evaltime.sh DATA_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1
for i in 1 2 3; do
  s=$(date +%s%N)
  build-cuda/app/cli/mpq eval $D/models/mpq-llama-42m --dataset wikitext2 --data-dir $D --device cuda --dtype fp16 --json 2>/dev/null > /tmp/e.json
  e=$(date +%s%N)
  echo "run $i: process wall $(( (e - s) / 1000000 )) ms; $(python3 -c "import json;d=json.load(open('/tmp/e.json'));print('ppl', round(d['perplexity'],4), 'in-process', d['seconds'])")"
done
