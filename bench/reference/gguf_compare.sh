#!/usr/bin/env bash
# llama.cpp against `mpq eval` on the same GGUF runs (docs/gguf.md, "Verified by llama.cpp").
# For each configuration: mpq quantize (a llama.cpp preset or a gguf-mxq budget), mpq export
# --format gguf, mpq eval of the run, and llama.cpp's perplexity of the exported file through
# node-llama-cpp (bench/reference/gguf_perplexity.mjs). Prints one TSV line per configuration:
#   name  method  bits_per_weight  file_bytes  mpq_ppl  llama_cpp_ppl  rel_diff
#
# Usage: bench/reference/gguf_compare.sh MODEL WORKDIR MAX_WINDOWS DTYPE CONFIG...
#   CONFIG: preset:Q4_K_M | mxq:4.5 | mxq-hessian:4.5 | preset-hessian:Q4_K_M
#   DTYPE:  fp16 or fp32 for the unquantized tensors (use the checkpoint's own precision)
# SEQLEN (default 2048) sets the window length of both evaluations, DATASET the text (below:
# wikitext2, tinystories8, or the path of a text file, e.g. a family fixture's text.txt).
# The TSV's last column says whether llama.cpp's tokenization equals ours ("tokens=same"); with
# OUR_IDS=1 llama.cpp evaluates our token ids instead of its own tokenization.
# Needs: MPQ (the mpq binary, default build/app/cli/mpq), MPQ_DATA_DIR, NODE_PATH with
# node-llama-cpp@3.22.1 installed (see gguf_perplexity.mjs).
set -euo pipefail
model=$1; work=$2; windows=$3; dtype=$4; shift 4
mpq=${MPQ:-build/app/cli/mpq}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
# DATASET: wikitext2 (default) or tinystories8, the first 8 stories of tinystories-valid-head45
# stripped and joined by a space (llama.cpp's and our SentencePiece tokenization agree on it:
# 2,592 tokens with BOS; on the raw file they differ by one token, which would shift windows).
dataset=${DATASET:-wikitext2}
if [[ -f $dataset ]]; then
    text=$dataset
elif [[ $dataset == wikitext2 ]]; then
    text=$MPQ_DATA_DIR/wikitext2/wiki.test.joined.txt
else
    text=$work/tinystories8.txt
    python3 -c "import sys; t=open(sys.argv[1]).read().split('<|endoftext|>'); open(sys.argv[2],'w').write(' '.join(x.strip() for x in t[:8]))" \
        "$MPQ_DATA_DIR/tinystories/tinystories-valid-head45.txt" "$text"
    dataset=$text
fi
seqlen=${SEQLEN:-2048}
"$mpq" tokenize "$model" "$text" --json --ids > "$work/ids.json"
useids=(); [[ ${OUR_IDS:-0} == 1 ]] && useids=(--use-ids)
for cfg in "$@"; do
    kind=${cfg%%:*}; value=${cfg#*:}
    name=$(echo "$cfg" | tr ':.' '__')
    run=$work/$name; gguf=$work/$name.gguf
    cost=fnorm; [[ $kind == *-hessian ]] && cost=hessian
    costs=$work/costs-$cost.json
    calib=(--calib c4 --nsamples 32 --seqlen 512)
    case $kind in
        preset|preset-hessian) "$mpq" quantize "$model" --method gguf --type "$value" --cost $cost "${calib[@]}" --out "$run" --json > "$run.quantize.json" ;;
        mxq|mxq-hessian) "$mpq" quantize "$model" --method gguf-mxq --budget "$value" --cost $cost "${calib[@]}" --gguf-costs "$costs" --out "$run" --json > "$run.quantize.json" ;;
        *) echo "unknown configuration $cfg" >&2; exit 2 ;;
    esac
    "$mpq" export "$run" --format gguf --dtype "$dtype" --out "$gguf" --force --json > "$run.export.json"
    "$mpq" eval "$run" --dataset "$dataset" --seqlen $seqlen --max-windows "$windows" --json > "$run.eval.json"
    node "$here/gguf_perplexity.mjs" --model "$gguf" --text "$text" --seqlen $seqlen --max-windows "$windows" \
        --ids "$work/ids.json" "${useids[@]}" > "$run.llamacpp.json"
    python3 - "$cfg" "$run" "$gguf" <<'PY'
import json, os, sys
cfg, run, gguf = sys.argv[1:]
res = json.load(open(os.path.join(run, "result.json")))
extra = res.get("extra", {})
ours = json.load(open(run + ".eval.json"))
theirs = json.load(open(run + ".llamacpp.json"))
p0, p1 = ours["perplexity"], theirs["perplexity"]
print("\t".join([cfg, res["method"], f'{extra.get("bits_per_weight", 0):.4f}', str(os.path.getsize(gguf)),
                 f"{p0:.4f}", f"{p1:.4f}", f"{(p1 - p0) / p0:+.2e}", str(ours.get("tokens", "")), str(theirs["scored_tokens"]),
                 "tokens=" + ("ours" if theirs.get("used_our_ids") else "same" if theirs.get("tokens_match") else "differ")]))
PY
done
