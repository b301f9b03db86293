#!/usr/bin/env python3
"""Reference token ids from Hugging Face `tokenizers` through transformers (the fast tokenizer,
as `AutoTokenizer` loads a hub folder), for the tokenizer conformance test. Writes the same
JSON as tokenizer_reference.mjs (transformers.js), plus the `hf_only` edge cases on which
transformers.js is known to differ, so the two references can be compared and the test
(tests/tst_hftokenizer.cpp) checks whichever files are present.

  python3 bench/reference/tokenizer_reference.py TOKENIZER_DIR DATA_DIR \
      tests/data/tokenizer/hf_edge_cases.json OUT.hf-tokenizers.json
"""
import hashlib
import json
import os
import struct
import sys

import tokenizers
import transformers


def load(tok_dir):
    try:
        return transformers.AutoTokenizer.from_pretrained(tok_dir, use_fast=True)
    except Exception as e:  # a folder without a class transformers knows
        print("AutoTokenizer failed (%s); using PreTrainedTokenizerFast" % e, file=sys.stderr)
        return transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(tok_dir, "tokenizer.json"))


def sha256(ids):
    return hashlib.sha256(struct.pack("<%di" % len(ids), *ids)).hexdigest()


def summary(ids, with_first=True):
    out = {"count": len(ids), "sha256": sha256(ids)}
    if with_first:
        out = {"count": len(ids), "first": ids[:24], "sha256": sha256(ids)}
    return out


def main():
    tok_dir, data_dir, cases_file, out_file = sys.argv[1:5]
    tok = load(tok_dir)
    assert tok.is_fast, "not a fast (tokenizers) tokenizer"
    plain = lambda t: tok(t, add_special_tokens=False)["input_ids"]
    model = lambda t: tok(t)["input_ids"]

    def read(rel):  # newline="" keeps CRLF as it is on disk
        with open(os.path.join(data_dir, rel), encoding="utf-8", newline="") as f:
            return f.read()

    texts = []
    for rel in ["wikitext2/wiki.test.joined.txt", "wikitext2/wiki.test.raw",
                "tinystories/tinystories-sample5.txt", "tinystories/tinystories-valid-head45.txt"]:
        t = read(rel)
        texts.append({"name": rel, "plain": summary(plain(t)), "model": summary(model(t))})
    c4 = "c4/c4-validation.00000-of-00008.head1025.jsonl"
    for i, line in enumerate(l for l in read(c4).split("\n") if l):
        t = json.loads(line)["text"]
        texts.append({"name": "%s#%d" % (c4, i), "plain": summary(plain(t), False),
                      "model": summary(model(t), False)})

    with open(cases_file, encoding="utf-8") as f:
        case_file = json.load(f)
    cases = []
    for text in case_file["cases"] + case_file["hf_only"]:
        ids = plain(text)
        cases.append({"text": text, "plain": ids, "model": model(text),
                      "decoded": tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)})

    with open(os.path.join(tok_dir, "tokenizer.json"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump({"implementation": "tokenizers %s, transformers %s (%s)" % (
                       tokenizers.__version__, transformers.__version__, type(tok).__name__),
                   "tokenizer": os.path.basename(os.path.abspath(tok_dir)),
                   "tokenizer_json_sha256": digest, "texts": texts, "cases": cases}, f)
        f.write("\n")
    print("%s: %d texts, %d cases" % (out_file, len(texts), len(cases)))


if __name__ == "__main__":
    main()
