#!/usr/bin/env python3
"""Checks `mpq export` output with Hugging Face transformers (GPU machine; not part of the build).

1. Loads an `--format hf` export with LlamaForCausalLM and measures perplexity exactly as
   hf_perplexity.py does (GPTQ's protocol: the sentencepiece tokenizer of the export encodes the
   whole text once with BOS first, non-overlapping windows of --seqlen, remainder dropped,
   ppl = exp(mean NLL over seqlen-1 predicted tokens per window)); --max-windows keeps the first K
   windows, as `mpq eval --max-windows K` does.
2. With --gptq DIR (an `--format gptq` export of the same run): unpacks every qweight/qzeros with
   GPTQ v1 semantics in plain torch (little-endian bit stream per column, stored zero + 1,
   scales[g_idx]), compares each matrix with the hf export's weight, then puts the unpacked
   weights into the model and measures perplexity again.

usage: hf_export_check.py --export HF_DIR --dataset wiki.test.joined.txt [--seqlen 2048]
                          [--max-windows K] [--dtype fp32|fp16] [--device cuda] [--gptq GPTQ_DIR]
Prints one JSON line per measurement; exits 1 when a GPTQ matrix disagrees with the hf export.
"""
import argparse, glob, json, math, os, re, sys, time

import sentencepiece as spm
import torch
from safetensors.torch import load_file
from transformers import LlamaForCausalLM


def perplexity(model, enc, seqlen, windows, device):
    # Mirrors hf_perplexity.py's loop.
    nll_sum, count = 0.0, 0
    with torch.no_grad():
        for i in range(windows):
            batch = enc[:, i * seqlen:(i + 1) * seqlen].to(device)
            logits = model(batch).logits.float()
            loss = torch.nn.functional.cross_entropy(logits[0, :-1], batch[0, 1:], reduction="sum")
            nll_sum += loss.item()
            count += seqlen - 1
    return nll_sum / count, count


def load_weights(folder):
    out = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        out.update(load_file(f))
    return out


def unpack_stream(words, n, bits):
    """words: int32 [W, C]; value i of column c sits at bits [bits*i, bits*i + bits) of the
    column's little-endian stream (AutoGPTQ's layout for 2/4/8 bits and its 3-bit cross-word one)."""
    w = words.to(torch.int64) & 0xFFFFFFFF
    shifts = torch.arange(32, dtype=torch.int64)
    stream = ((w.unsqueeze(1) >> shifts.view(1, 32, 1)) & 1).reshape(-1, w.shape[1])  # [W*32, C]
    stream = stream[: n * bits].reshape(n, bits, w.shape[1])
    weights = (1 << torch.arange(bits, dtype=torch.int64)).view(1, bits, 1)
    return (stream * weights).sum(1)  # [n, C]


def module_config(qc, module):
    cfg = {k: qc[k] for k in ("bits", "group_size", "desc_act", "sym")}
    for key, override in qc.get("dynamic", {}).items():
        if key.startswith("-:"):
            if re.match(key[2:], module):
                return None
        elif re.match(key[2:] if key.startswith("+:") else key, module):
            cfg.update(override)
            return cfg
    return cfg


def gptq_weights(folder):
    qc = json.load(open(os.path.join(folder, "config.json")))["quantization_config"]
    assert qc["quant_method"] == "gptq" and qc.get("checkpoint_format", "gptq") == "gptq", qc
    t = load_weights(folder)
    out = {}
    for name in [k[: -len(".qweight")] for k in t if k.endswith(".qweight")]:
        cfg = module_config(qc, name)
        assert cfg is not None, f"{name} is quantized but a negative dynamic key skips it"
        bits = cfg["bits"]
        qweight, qzeros, scales, g_idx = (t[f"{name}.{p}"] for p in ("qweight", "qzeros", "scales", "g_idx"))
        out_features = scales.shape[1]
        in_features = g_idx.numel()
        q = unpack_stream(qweight, in_features, bits)                         # [in, out]
        z = unpack_stream(qzeros.t().contiguous(), out_features, bits).t() + 1  # [groups, out]
        g = g_idx.long()
        w = scales.float()[g] * (q - z[g]).float()                             # [in, out]
        out[name + ".weight"] = w.t().contiguous()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True, help="an `mpq export --format hf` folder")
    ap.add_argument("--dataset", required=True, help="text file, e.g. DATA/wikitext2/wiki.test.joined.txt")
    ap.add_argument("--seqlen", type=int, default=2048)
    ap.add_argument("--max-windows", type=int, default=0)
    ap.add_argument("--dtype", default="fp32")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--gptq", help="an `mpq export --format gptq` folder of the same run")
    a = ap.parse_args()

    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.export, "tokenizer.model"))
    text = open(a.dataset, encoding="utf-8", newline="").read()
    ids = [sp.bos_id()] + sp.encode(text)
    enc = torch.tensor([ids])
    windows = enc.numel() // a.seqlen
    if a.max_windows:
        windows = min(windows, a.max_windows)

    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
    model = LlamaForCausalLM.from_pretrained(a.export, dtype=dtype, attn_implementation="eager").to(a.device).eval()
    t0 = time.time()
    mean, count = perplexity(model, enc, a.seqlen, windows, a.device)
    print(json.dumps({"check": "hf", "export": a.export, "dtype": a.dtype, "seqlen": a.seqlen, "windows": windows,
                      "tokens": count, "mean_nll": mean, "perplexity": math.exp(mean), "seconds": time.time() - t0}))
    if not a.gptq:
        return 0

    hf = load_weights(a.export)
    unpacked = gptq_weights(a.gptq)
    worst = 0.0
    for name, w in unpacked.items():
        ref = hf[name].float()
        # GPTQ keeps scales in fp16, the hf export rounds W^ to its dtype: both differ from the
        # run's fp32 W^ by at most a half-ulp of fp16 relative, so they agree to ~1e-3.
        err = (w - ref).abs().max().item() / max(ref.abs().max().item(), 1e-12)
        worst = max(worst, err)
    state = model.state_dict()
    with torch.no_grad():
        for name, w in unpacked.items():
            state[name].copy_(w.to(state[name].dtype))
    mean_g, _ = perplexity(model, enc, a.seqlen, windows, a.device)
    ok = worst < 2e-3 and len(unpacked) > 0
    print(json.dumps({"check": "gptq", "export": a.gptq, "matrices": len(unpacked), "max_rel_diff_vs_hf": worst,
                      "mean_nll": mean_g, "perplexity": math.exp(mean_g), "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
