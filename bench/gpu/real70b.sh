#!/usr/bin/env bash
# Issue 14's real file: a LLaMA-3-70B-shaped checkpoint with its first LAYERS decoder layers
# (bf16 shards on this machine's disk, bench/reference/write_llama70b_layers.py), then
#   mpq quantize (GPTQ 4-bit, 128 x 2048 C4 calibration) on cuda,
#   mpq eval --offload (layer-streamed) and resident on the base model, and --offload on the result,
# each with its time, per-layer time and peak host RSS / device memory from --json.
# Needs MPQ_DATA_DIR with c4/ and wikitext2/ and the Llama 3.1 tokenizer in TOK (see run line).
# usage: [DEADLINE=epoch] real70b.sh OUT_DIR TOKENIZER_DIR [LAYERS]
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; TOK=$2; L=${3:-8}
mkdir -p "$O"
source bench/gpu/env.sh
mpq=build-cuda/app/cli/mpq
M=/tmp/llama70b-$L
if [ ! -f $M/config.json ]; then
  limit=900
  if [ -n "${DEADLINE:-}" ]; then
    limit=$(( DEADLINE - $(date +%s) - 60 ))
    [ "$limit" -lt 60 ] && { echo "== real70b: skipped, past the deadline"; exit 0; }
  fi
  timeout "$limit" python3 bench/reference/write_llama70b_layers.py $M "$TOK" "$L" || { echo "writer failed or timed out"; rm -rf $M; exit 1; }
fi
du -sh $M; df -h /tmp | tail -1
summ() {
  python3 - "$1" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON:", e); sys.exit(0)
m = j.get("memory", {})
keep = {k: j[k] for k in ("perplexity", "tokens", "windows", "seconds", "avg_bits", "layers", "streamed", "plan")
        if k in j}
keep["peak_host_gib"] = round(m.get("peak_host_bytes", -1) / 2**30, 2)
keep["start_host_gib"] = round(m.get("start_host_bytes", -1) / 2**30, 2)
keep["peak_device_gib"] = round(m.get("peak_device_bytes", -1) / 2**30, 2)
print(json.dumps(keep)[:1500])
PY
}
run() {
  local name=$1 limit=$2; shift 2
  # DEADLINE (epoch seconds, optional): stop each run in time for the results to come back.
  if [ -n "${DEADLINE:-}" ]; then
    local left=$(( DEADLINE - $(date +%s) ))
    [ "$left" -lt 20 ] && { echo "== $name: skipped, past the deadline"; return; }
    [ "$left" -lt "$limit" ] && limit=$left
  fi
  echo "== $name: mpq $*"
  local t0=$EPOCHREALTIME
  timeout "$limit" $mpq "$@" --json > "$O/$name.json" 2> "$O/$name.err"; echo "rc=$? wall $(python3 -c "print(round($EPOCHREALTIME - $t0, 1))") s"
  summ "$O/$name.json"; tail -3 "$O/$name.err"
}
run r70_info 60 info $M
run r70_gptq 360 quantize $M --method gptq --bits 4 --device cuda --out /tmp/r70-gptq
run r70_eval_offload 200 eval $M --device cuda --dtype bf16 --offload --max-windows 32
run r70_eval_resident 200 eval $M --device cuda --dtype bf16 --max-windows 32
run r70_eval_gptq_offload 200 eval /tmp/r70-gptq --device cuda --dtype bf16 --offload --max-windows 32
