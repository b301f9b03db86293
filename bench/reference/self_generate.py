#!/usr/bin/env python3
"""Calibration windows sampled from the model itself, with Hugging Face transformers.

Issue 16, item 4: MXQ's probed cost judges its candidate plans on calibration windows. On C4 windows
the plans it keeps for mpq-llama-42m lose on WikiText-2. Text sampled from the unquantized model
p is the model's own distribution: the mean NLL of a quantized model q on it, minus p's, estimates
KL(p || q) over whole sequences, whatever the domain of the evaluation text. This script writes such
windows in the engine's calibration file format (MPQCAL01: magic, int64 n, int64 seqlen, int32 ids),
for `mpq quantize|sweep --calib-tokens FILE`, and can interleave them with an existing file's windows
(e.g. a run's calibration.bin of C4 windows) so that each half of the file holds both kinds.

usage: self_generate.py MODEL_DIR OUT.bin --windows 16 --seqlen 512 [--seed 0] [--temperature 1]
                        [--mix OTHER.bin [--layout mix|judge]]
  --layout mix (default): OUT = first half of OTHER + first half of ours, then the second halves
  --layout judge: OUT = first half of OTHER, then all of ours (probed's costs on OTHER's windows,
                  its judge on ours); OTHER must have our seqlen
Sampling: BOS, then tokens drawn from softmax(logits / T) (no top-k, no top-p) until seqlen tokens;
an EOS is kept and followed by BOS, so a window may hold several documents. Used on the GPU machine.
"""
import argparse, time

import numpy as np
import torch
from transformers import AutoModelForCausalLM

from mpq_calibration import read_calibration, write_calibration


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("--seqlen", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--mix")
    ap.add_argument("--layout", choices=["mix", "judge"], default="mix")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()

    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).to(a.device).eval()
    bos, eos = model.config.bos_token_id, model.config.eos_token_id
    g = torch.Generator(device=a.device).manual_seed(a.seed)
    t0 = time.time()
    ids = torch.full((a.windows, 1), bos, dtype=torch.long, device=a.device)
    past = None
    nxt = ids
    with torch.no_grad():
        while ids.shape[1] < a.seqlen:
            out = model(nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            probs = torch.softmax(out.logits[:, -1].float() / a.temperature, dim=-1)
            tok = torch.multinomial(probs, 1, generator=g)
            tok = torch.where(nxt == eos, torch.full_like(tok, bos), tok)  # a new document after EOS
            ids = torch.cat([ids, tok], dim=1)
            nxt = tok
    ours = ids.cpu().numpy().astype(np.int32)
    eos_count = int((ours == eos).sum())
    if a.mix:
        other = np.array(read_calibration(a.mix), dtype=np.int32)
        assert other.shape[1] == a.seqlen, (other.shape, a.seqlen)
        ho, hs = other.shape[0] // 2, ours.shape[0] // 2
        if a.layout == "mix":
            ours = np.concatenate([other[:ho], ours[:hs], other[ho:], ours[hs:]])
        else:
            ours = np.concatenate([other[:ho], ours])
    write_calibration(a.out, ours.tolist())
    print(f"{a.out}: {ours.shape[0]} windows of {a.seqlen} ({a.windows} sampled in {time.time() - t0:.1f} s, "
          f"T={a.temperature}, seed {a.seed}, {eos_count} EOS){' with ' + a.mix + ' (' + a.layout + ')' if a.mix else ''}")


if __name__ == "__main__":
    main()
