#!/usr/bin/env bash
# Issue 13 on the GPU machine: every family fixture (tests/data/families) through `mpq` against
# transformers — eval on CPU and CUDA (fp32, and fp16 on CUDA), quantize with every method on
# CUDA, the HF export of the GPTQ run loaded back by transformers. Builds nothing.
# usage: [METHODS="rtn gptq hqq mgptq mxq"] families.sh OUT_DIR [MPQ_BINARY]   (default build-cuda/app/cli/mpq)
# With METHODS given, only those methods are run (gptq is needed for the export check).
set -uo pipefail
cd "$(dirname "$0")/../.."
O=$1; mpq=${2:-build-cuda/app/cli/mpq}
mkdir -p "$O"
F=tests/data/families
dev=cpu; python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' && dev=cuda
for fam in llama3 llama2-linear mistral qwen2 qwen3 mixtral qwen2_moe qwen3_moe; do
  d=$F/$fam; t=$d/text.txt; r=$O/$fam
  echo "=== $fam"
  $mpq eval "$d" --dataset "$t" --seqlen 32 --device cpu --json > "$r.eval-cpu.json" 2> "$r.eval-cpu.log" || tail -3 "$r.eval-cpu.log"
  $mpq eval "$d" --dataset "$t" --seqlen 32 --device $dev --json > "$r.eval-cuda.json" 2> "$r.eval-cuda.log" || tail -3 "$r.eval-cuda.log"
  $mpq eval "$d" --dataset "$t" --seqlen 32 --device $dev --dtype fp16 --json > "$r.eval-cuda16.json" 2> "$r.eval-cuda16.log" || tail -3 "$r.eval-cuda16.log"
  for m in "rtn --bits 4" "gptq --bits 4" "hqq --bits 4 --group-size 8" "mgptq --target-bits 3" "mxq --budget 4.5"; do
    name=$(echo "$m" | cut -d' ' -f1)
    case " ${METHODS:-rtn gptq hqq mgptq mxq} " in *" $name "*) ;; *) continue ;; esac
    $mpq quantize "$d" --method $m --calib "$t" --nsamples 16 --seqlen 32 --device $dev --out "$r.$name" --json \
      > "$r.$name.quantize.json" 2> "$r.$name.quantize.log" || { echo "$fam $name: quantize failed"; tail -3 "$r.$name.quantize.log"; continue; }
    $mpq eval "$r.$name" --dataset "$t" --seqlen 32 --device cpu --json > "$r.$name.eval.json" 2> "$r.$name.eval.log" ||
      { echo "$fam $name: eval failed"; tail -3 "$r.$name.eval.log"; }
  done
  [ -d "$r.gptq" ] || continue
  $mpq export "$r.gptq" --format hf --dtype fp32 --out "$r.gptq.hf" > /dev/null 2> "$r.export.log" || tail -3 "$r.export.log"
  python3 bench/reference/family_nll.py "$r.gptq.hf" "$t" --seqlen 32 > "$r.gptq.hf.transformers.json" 2> "$r.transformers.log" ||
    tail -3 "$r.transformers.log"
done
python3 - "$O" "$F" <<'PY'
import json, os, sys
O, F = sys.argv[1], sys.argv[2]
def get(path, key="mean_nll"):
    try:
        with open(path) as f:
            return json.load(f)[key]
    except Exception:
        return None
rows, out = [], {}
for fam in ["llama3", "llama2-linear", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe"]:
    ref = json.load(open(os.path.join(F, fam, "reference.json")))["mean_nll_fp32"]
    e = {k: get(os.path.join(O, "%s.eval-%s.json" % (fam, k))) for k in ("cpu", "cuda", "cuda16")}
    q = {m: get(os.path.join(O, "%s.%s.eval.json" % (fam, m))) for m in ("rtn", "gptq", "hqq", "mgptq", "mxq")}
    hf = get(os.path.join(O, fam + ".gptq.hf.transformers.json"))
    rel = lambda a, b: None if a is None or b is None else abs(a - b) / b
    out[fam] = {"transformers_fp32": ref, "eval": e, "rel_cpu": rel(e["cpu"], ref), "rel_cuda": rel(e["cuda"], ref),
                "rel_cuda16": rel(e["cuda16"], ref), "quantized": q, "gptq_hf_transformers": hf,
                "rel_gptq_export": rel(q["gptq"], hf)}
    fmt = lambda v: "—" if v is None else ("%.2e" % v if v < 0.01 else "%.4f" % v)
    rows.append("| %s | %.6f | %s | %s | %s | %s | %s |" % (fam, ref, fmt(rel(e["cpu"], ref)), fmt(rel(e["cuda"], ref)),
                fmt(rel(e["cuda16"], ref)), " / ".join(fmt(q[m]) for m in q), fmt(rel(q["gptq"], hf))))
print("| family | transformers fp32 NLL | rel. CPU fp32 | rel. CUDA fp32 | rel. CUDA fp16 | NLL rtn / gptq / hqq / mgptq / mxq (4, 4, 4g8, 3, 4.5 bits) | GPTQ run vs its HF export in transformers |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
json.dump(out, open(os.path.join(O, "families.json"), "w"), indent=1)
PY
