#!/usr/bin/env python3
"""Independent reference for `--calib self` (engine/eval/ModelSampler.cpp): the same sampling
procedure written with Hugging Face transformers' logits and Python's own `random`, compared token
for token with the windows mpq wrote (a result's calibration.bin).

The procedure (docs/data.md): every window starts with the model's document start (BOS, or for a
model without one its end-of-text token); at each position one number u = random.random() is drawn
per window, in window order, whether or not it is used; a token is drawn by inverse transform
sampling: the first index whose running sum of exp((logit - max) / T) (float64) exceeds u * total;
after an end-of-text token the document start follows (nothing more where the start is that token).
Logits are transformers' fp32 logits on the CPU. mpq's logits differ from these in the last bits
(and in fp16 on CUDA), so a window may part from the reference where u falls within that
difference of a boundary; the script reports each window's agreeing prefix.

usage: self_sample_reference.py MODEL_DIR CALIBRATION_BIN [--seed 0] [--temperature 1]
Prints one JSON line. Used on the GPU machine (it has transformers); not part of the build.
"""
import argparse, json, math, random

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from mpq_calibration import read_calibration


def draw(logits, temperature, u):
    top = max(logits)
    total, cumulative = 0.0, []
    for l in logits:
        total += math.exp((l - top) / temperature)
        cumulative.append(total)
    target = u * total
    for i, c in enumerate(cumulative):
        if c > target:
            return i
    return len(logits) - 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("calibration")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    a = ap.parse_args()
    theirs = read_calibration(a.calibration)
    B, L = len(theirs), len(theirs[0])
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(a.model)
    start = tok("")["input_ids"]
    eos = tok.eos_token_id if tok.eos_token_id is not None else model.config.eos_token_id
    if not start:
        start = [eos]
    restart = start[1:] if start[0] == eos else start
    rng = random.Random(a.seed)
    ours = [[start[0]] for _ in range(B)]
    pending = [list(start[1:]) for _ in range(B)]
    with torch.no_grad():
        while len(ours[0]) < L:
            logits = model(torch.tensor(ours)).logits[:, -1].double().tolist()
            for b in range(B):
                u = rng.random()
                if pending[b]:
                    ours[b].append(pending[b].pop(0))
                    continue
                t = draw(logits[b], a.temperature, u)
                ours[b].append(t)
                if t == eos:
                    pending[b] = list(restart)
    agree = []
    for o, t in zip(ours, theirs):
        n = 0
        while n < L and o[n] == t[n]:
            n += 1
        agree.append(n)
    print(json.dumps({"model": a.model, "calibration": a.calibration, "windows": B, "seqlen": L,
                      "agreeing_prefix": agree, "identical_windows": sum(n == L for n in agree)}))


if __name__ == "__main__":
    main()
