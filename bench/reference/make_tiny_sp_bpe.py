#!/usr/bin/env python3
"""Writes two small SentencePiece-style BPE tokenizer.json files for the tokenizer tests
(tests/data/tokenizer/tiny_sp_legacy/ and tiny_sp_metaspace/), in the two layouts the hub's
LLaMA-2 / Mistral folders use:

  legacy:    normalizer Prepend("▁") + Replace(" " -> "▁"), no pre-tokenizer, decoder
             Replace/ByteFallback/Fuse/Strip, merges as "a b" strings;
  metaspace: pre-tokenizer Metaspace (prepend_scheme "first", split false), decoder
             Metaspace/ByteFallback/Fuse, merges as ["a", "b"] pairs, an added token with
             lstrip/rstrip.

Both: byte_fallback with the 256 <0xXX> tokens, fuse_unk, <unk>/<s>/</s>, BOS added by a
TemplateProcessing post-processor. The merges are learnt by plain BPE (most frequent pair,
ties to the smaller pair) from a corpus this script builds from its own word list, so the
files are reproducible and carry no third-party vocabulary. Usage: make_tiny_sp_bpe.py OUTDIR
"""
import collections
import json
import os
import random
import sys

WORDS = """the a an and or but if then else when while of to in on at by for with from
about into over under after before between through during without within along across
cat dog bird fish tree house river mountain city road car train boat plane book letter
word sentence number table chair window door garden flower water fire stone light sound
time day night year week morning evening summer winter people child mother father friend
small large little big old new young long short high low good bad happy sad quick slow
run walk jump read write speak listen think know see look find give take make go come
is was are were be been has have had do does did can could will would shall should may
might must not no yes very more most less many much some any all each every other such
model token quantization matrix weight layer network language training evaluation data
one two three four five six seven eight nine ten hundred thousand first second third""".split()


def corpus(seed=7, sentences=3000):
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        n = rng.randint(3, 14)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        if rng.random() < 0.2:
            words.insert(rng.randint(0, len(words)), str(rng.randint(0, 2024)))
        out.append(" ".join(words) + rng.choice([".", ".", ",", "!", "?", ";"]))
    return " ".join(out)


def train(text, n_merges):
    words = collections.Counter(("\u2581" + w) for w in text.split(" "))
    seqs = {w: list(w) for w in words}
    alphabet = sorted({c for w in words for c in w})
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, f in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        for w in words:
            s, out, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return alphabet, merges


def tokenizer(alphabet, merges, style):
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for c in alphabet:
        vocab.setdefault(c, len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    tool_id = len(vocab)
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(["<unk>", "<s>", "</s>"])]
    added.append({"id": tool_id, "content": "<tool>", "single_word": False,
                  "lstrip": style == "metaspace", "rstrip": style == "metaspace",
                  "normalized": False, "special": False})
    post = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": vocab}
    if style == "legacy":
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
        pre = None
        decoder = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
        model["merges"] = ["%s %s" % m for m in merges]
    else:
        normalizer = None
        meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False,
                "add_prefix_space": True}
        pre = meta
        decoder = {"type": "Sequence", "decoders": [dict(meta), {"type": "ByteFallback"}, {"type": "Fuse"}]}
        model["merges"] = [list(m) for m in merges]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post,
            "decoder": decoder, "model": model}


def main():
    out = sys.argv[1]
    alphabet, merges = train(corpus(), 400)
    config = {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
              "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "legacy": True,
              "clean_up_tokenization_spaces": False}
    for style in ("legacy", "metaspace"):
        d = os.path.join(out, "tiny_sp_" + style)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer(alphabet, merges, style), f, ensure_ascii=False, indent=1)
            f.write("\n")
        with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=1)
            f.write("\n")
    print("%d characters, %d merges" % (len(alphabet), len(merges)))


if __name__ == "__main__":
    main()
