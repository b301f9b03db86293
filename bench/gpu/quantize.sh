#!/usr/bin/env bash
# Issue 4 figures on the GPU machine: GPTQ on a synthetic LLaMA-7B-shaped model, and CPU vs
# CUDA agreement of GPTQ on stories260K. usage: quantize.sh DATA_DIR OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
D=$1; O=$2
mpq=build-cuda/app/cli/mpq
export MPQ_DATA_DIR=$D
S=$D/models/stories260K/stories260K.bin
echo "--- stories260K GPTQ 3-bit g32 act-order, CPU vs CUDA (fp32 activations)"
for dev in cpu cuda; do
  $mpq quantize $S --bits 3 --group-size 32 --act-order --seqlen 512 --nsamples 32 --device $dev --dtype fp32 --out $O/s_$dev --json 2>&1 | tail -2
  $mpq eval $O/s_$dev --dataset c4 --seqlen 512 --max-windows 64 --device cpu --json 2>/dev/null
done
python3 - "$O" <<'PY'
import json, struct, sys
def load(p):
    with open(p, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); base = 8 + n
        data = f.read()
    return h, data
diff = total = 0
for i in range(5):
    a, da = load(f"{sys.argv[1]}/s_cpu/layers/layer-00{i}.safetensors")
    b, db = load(f"{sys.argv[1]}/s_cuda/layers/layer-00{i}.safetensors")
    for k, v in a.items():
        if k.endswith('.codes'):
            s0, s1 = v['data_offsets']; t0, t1 = b[k]['data_offsets']
            x, y = da[s0:s1], db[t0:t1]
            diff += sum(1 for p, q in zip(x, y) if p != q); total += len(x)
print(f"codes differing CPU vs CUDA: {diff} of {total} ({100.0*diff/total:.3f}%)")
PY
echo "--- synthetic LLaMA-7B, GPTQ 4-bit"
$mpq bench-quantize --preset llama-7b --layers 2 --json 2>/dev/null
timeout 400 $mpq bench-quantize --preset llama-7b --json 2>&1 | tail -3
