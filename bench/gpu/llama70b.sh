#!/usr/bin/env bash
# Issue 14: the LLaMA-70B shape on one GPU (synthetic weights generated on the device; nothing
# read from disk): GPTQ 4-bit and MG-PTQ at 2.5 bits with 128 x 2048 calibration over LAYERS of
# the 80 decoder layers (the per-layer work is the same in every layer: the 80-layer time is
# LAYERS' time x 80 / LAYERS, said so where it is reported), and MXQ's HQQ passes + solve over
# all 80 layers (560 matrices). Peak device memory and host RSS from each --json.
# usage: [DEADLINE=epoch] [RUNS="gptq mxq mgptq"] [MGPTQ_ARGS="--epochs 200" TAG=_e200] llama70b.sh OUT_DIR [LAYERS]
#   MGPTQ_ARGS: extra options of the MG-PTQ run; TAG: a suffix for its output's name
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; L=${2:-4}
mkdir -p "$O"
source bench/gpu/env.sh
mpq=build-cuda/app/cli/mpq
run() {
  local name=$1 limit=$2; shift 2
  # DEADLINE (epoch seconds, optional): stop each run in time for the results to come back.
  if [ -n "${DEADLINE:-}" ]; then
    local left=$(( DEADLINE - $(date +%s) ))
    [ "$left" -lt 20 ] && { echo "== $name: skipped, past the deadline"; return; }
    [ "$left" -lt "$limit" ] && limit=$left
  fi
  echo "== $name: mpq $*"
  timeout "$limit" $mpq "$@" --json > "$O/$name.json" 2> "$O/$name.err"; echo "rc=$?"
  python3 - "$O/$name.json" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON:", e); sys.exit(0)
m = j.get("memory", {})
keep = {k: j[k] for k in ("seconds", "per_layer_seconds", "peak_device_gib", "avg_bits", "allocation_seconds",
                          "hqq_seconds", "solve_seconds", "total_seconds", "matrices", "parameters") if k in j}
keep["peak_host_gib"] = round(m.get("peak_host_bytes", -1) / 2**30, 2)
print(json.dumps(keep))
shapes = {}
for a in j.get("allocation", []):
    s = shapes.setdefault("%dx%d" % (a["rows"], a["cols"]), [])
    s.append((a["seconds"].get("total", 0), a.get("device_gib", -1)))
for k, v in shapes.items():
    print("  alloc %-12s n=%d  mean %.2f s  max %.2f s  device max %.2f GiB" %
          (k, len(v), sum(t for t, _ in v) / len(v), max(t for t, _ in v), max(g for _, g in v)))
PY
  tail -2 "$O/$name.err"
}
# RUNS (optional): which of gptq, mxq, mgptq to run (default: all three).
want() { [[ " ${RUNS:-gptq mxq mgptq} " == *" $1 "* ]]; }
want gptq && run bq70_gptq_L$L 280 bench-quantize --preset llama-70b --layers "$L" --method gptq --bits 4
want mxq && run bmxq70 200 bench-mxq --preset llama-70b --budget 3.5,3.13,4.25,4.51
want mgptq && run bq70_mgptq_L$L${TAG:-} 280 bench-quantize --preset llama-70b --layers "$L" --method mgptq --gnn gcn \
  --target-bits 2.5 ${MGPTQ_ARGS:-}
