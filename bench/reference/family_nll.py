#!/usr/bin/env python3
"""transformers' mean NLL of a Hugging Face folder of any supported family (an `mpq export --format
hf` of a run, or a checkpoint), GPTQ's protocol: tokenizer(text) with the folder's tokenizer.json
(`tokenizers` library, post-processor specials included), consecutive windows of `seqlen` tokens,
remainder dropped, mean of the per-window losses. fp32, eager attention, per-expert MoE loop.

usage: family_nll.py FOLDER TEXT_FILE [--seqlen 32] [--device cpu|cuda]
Prints one JSON line: {"mean_nll", "windows", "tokens", "model_type"}. GPU machine only.
"""
import argparse
import json

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("text")
    ap.add_argument("--seqlen", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    tok = Tokenizer.from_file(a.folder + "/tokenizer.json")
    with open(a.text, encoding="utf-8") as f:
        ids = tok.encode(f.read()).ids
    try:
        model = AutoModelForCausalLM.from_pretrained(a.folder, dtype=torch.float32, attn_implementation="eager",
                                                     experts_implementation="eager")
    except (TypeError, ValueError):
        model = AutoModelForCausalLM.from_pretrained(a.folder, dtype=torch.float32, attn_implementation="eager")
    model = model.to(a.device).eval()
    n = len(ids) // a.seqlen
    total = 0.0
    with torch.no_grad():
        for w in range(n):
            x = torch.tensor([ids[w * a.seqlen:(w + 1) * a.seqlen]], device=a.device)
            total += float(model(input_ids=x, labels=x).loss.double())
    print(json.dumps({"mean_nll": total / n, "windows": n, "tokens": len(ids), "model_type": model.config.model_type}))


if __name__ == "__main__":
    main()
