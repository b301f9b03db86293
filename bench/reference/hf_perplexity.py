#!/usr/bin/env python3
"""Independent reference for `mpq eval`: perplexity with Hugging Face transformers.

GPTQ's protocol (datautils.py / llama.py of IST-DASLab/gptq): the slow, sentencepiece-backed
LlamaTokenizer encodes the whole text once (BOS first), non-overlapping windows of `seqlen`,
remainder dropped, ppl = exp(mean NLL). C4 is GPTQ's "c4-new": ' '.join of the first 1100
validation documents, first 256*seqlen tokens.

usage: hf_perplexity.py MODEL_DIR DATA_DIR --dataset wikitext2|c4 --dtype fp32|fp16 [--seqlen 2048]
Prints one JSON line. Used on the GPU machine only; not part of the build.
"""
import argparse, json, math, time

import sentencepiece as spm
import torch
from transformers import LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--dataset", default="wikitext2")
    ap.add_argument("--dtype", default="fp16")
    ap.add_argument("--seqlen", type=int, default=2048)
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()

    sp = spm.SentencePieceProcessor(model_file=f"{a.model}/tokenizer.model")
    if a.dataset == "wikitext2":
        text = open(f"{a.data}/wikitext2/wiki.test.joined.txt", encoding="utf-8", newline="").read()
        limit = None
    else:
        docs = [json.loads(l)["text"] for l in open(f"{a.data}/c4/c4-validation.00000-of-00008.head1025.jsonl", encoding="utf-8")]
        text = " ".join(docs[:1100])
        limit = 256 * a.seqlen
    ids = [sp.bos_id()] + sp.encode(text)
    if limit:
        ids = ids[:limit]
    enc = torch.tensor([ids])
    n = enc.numel() // a.seqlen

    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
    model = LlamaForCausalLM.from_pretrained(a.model, dtype=dtype, attn_implementation="eager").to(a.device).eval()
    t0 = time.time()
    nll_sum, count = 0.0, 0
    with torch.no_grad():
        for i in range(n):
            batch = enc[:, i * a.seqlen:(i + 1) * a.seqlen].to(a.device)
            logits = model(batch).logits.float()
            loss = torch.nn.functional.cross_entropy(logits[0, :-1], batch[0, 1:], reduction="sum")
            nll_sum += loss.item()
            count += a.seqlen - 1
    mean = nll_sum / count
    print(json.dumps({"impl": "transformers", "dataset": a.dataset, "dtype": a.dtype, "seqlen": a.seqlen,
                      "input_tokens": len(ids), "windows": n, "tokens": count, "mean_nll": mean,
                      "perplexity": math.exp(mean), "seconds": time.time() - t0}))


if __name__ == "__main__":
    main()
