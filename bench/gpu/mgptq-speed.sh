#!/usr/bin/env bash
# Issues 14 and 16 (item 5): MG-PTQ at 2.5 bits against GPTQ 4-bit with the current defaults
# (stable rounding + polish), same machine, same call: LLaMA-70B shape over LAYERS70 layers and
# LLaMA-7B shape over LAYERS7 layers (synthetic weights and calibration made on the device,
# 128 x 2048). MPQ_TRACE_MGPTQ=1 puts each matrix's stage times in the .err files.
# usage: [DEADLINE=epoch] mgptq-speed.sh OUT_DIR [LAYERS70] [LAYERS7]
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; L70=${2:-2}; L7=${3:-32}
mkdir -p "$O"
source bench/gpu/env.sh
mpq=build-cuda/app/cli/mpq
export MPQ_TRACE_MGPTQ=1
run() {
  local name=$1 limit=$2; shift 2
  if [ -n "${DEADLINE:-}" ]; then
    local left=$(( DEADLINE - $(date +%s) ))
    [ "$left" -lt 20 ] && { echo "== $name: skipped, past the deadline" | tee -a "$O/summary.txt"; return; }
    [ "$left" -lt "$limit" ] && limit=$left
  fi
  timeout "$limit" $mpq "$@" --json > "$O/$name.json" 2> "$O/$name.err"; local rc=$?
  python3 - "$O/$name.json" "$name" "$rc" >> "$O/summary.txt" <<'PY'
import json, sys
name, rc = sys.argv[2], sys.argv[3]
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print(name, "rc", rc, "no JSON:", e); sys.exit(0)
print(name, "rc", rc, json.dumps({k: j[k] for k in ("seconds", "allocation_seconds", "peak_device_gib", "avg_bits",
      "avg_bits_with_overhead", "layers") if k in j}), "host GiB %.2f" % (j.get("memory", {}).get("peak_host_bytes", -1) / 2**30))
shapes = {}
for a in j.get("allocation", []):
    s = shapes.setdefault("%dx%d" % (a["rows"], a["cols"]), [])
    s.append(a)
for k, v in shapes.items():
    sec = lambda a, s: a["seconds"].get(s, 0)
    print("  %-12s n=%d total %.2f s (max %.2f)  train %.2f relax %.2f polish %.2f  device max %.2f GiB" % (k, len(v),
          sum(sec(a, "total") for a in v) / len(v), max(sec(a, "total") for a in v), sum(sec(a, "train") for a in v) / len(v),
          sum(sec(a, "relax") for a in v) / len(v), sum(sec(a, "polish") for a in v) / len(v), max(a.get("device_gib", -1) for a in v)))
PY
}
run bq70_gptq_L$L70 200 bench-quantize --preset llama-70b --layers "$L70" --method gptq --bits 4
run bq70_mgptq_L$L70 240 bench-quantize --preset llama-70b --layers "$L70" --method mgptq --gnn gcn --target-bits 2.5
run bq7_gptq_L$L7 200 bench-quantize --preset llama-7b --layers "$L7" --method gptq --bits 4
run bq7_mgptq_L$L7 300 bench-quantize --preset llama-7b --layers "$L7" --method mgptq --gnn gcn --target-bits 2.5
