#!/usr/bin/env python3
"""Markdown table of gguf_compare.sh's TSV (docs/gguf.md, "Perplexity against bits per weight").

Usage: bench/reference/gguf_table.py RESULTS.tsv
Lines starting with # are comments. Input columns: config, method, bits_per_weight, file_bytes, mpq_ppl, llama_cpp_ppl, rel_diff,
mpq_tokens, llama_cpp_tokens[, tokens=same|differ|ours]. Rows are sorted by bits per weight; the last lines give the largest
and the mean |relative difference|. gguf_families.sh's TSV (two leading columns: family, "seqlen N")
gives one table per family and window length.
"""
import sys
from collections import OrderedDict

groups = OrderedDict()
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if line.startswith("#") or len(f) < 9:
        continue
    key = ""
    if ":" not in f[0]:
        key, f = f"{f[0]}, {f[1].replace('seqlen ', 'windows of ')}", f[2:]
    cfg, method, bpw, size, ours, theirs, rel, t0, t1 = f[:9]
    tokens = f[9].split("=", 1)[1] if len(f) > 9 else ""
    kind, value = cfg.split(":", 1)
    if kind.startswith("mxq"):
        name = "F16/F32 (unquantized)" if float(value) >= 16 else f"MIP, budget {value}"
    else:
        name = f"llama.cpp {value}"
    if kind.endswith("-hessian"):
        name += " (imatrix)"
    groups.setdefault(key, []).append((float(bpw), name, int(size), float(ours), float(theirs), float(rel), t0, t1, tokens))
for key, rows in groups.items():
    rows.sort()
    if key:
        print(f"**{key}**")
        print()
    print("| mix | bits/weight (linears) | file MiB | mpq eval ppl | llama.cpp ppl | relative difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for bpw, name, size, ours, theirs, rel, t0, t1, tokens in rows:
        print(f"| {name} | {bpw:.3f} | {size / 2**20:.2f} | {ours:.4f} | {theirs:.4f} | {rel:+.2e} |")
    diffs = [abs(r[5]) for r in rows]
    tok = {r[8] for r in rows if r[8]}
    note = ""
    if tok:
        note = {"same": "; llama.cpp's tokenization equals ours", "ours": "; llama.cpp fed our token ids",
                "differ": "; llama.cpp's tokenization differs from ours"}.get(",".join(sorted(tok)), "; tokens: " + ",".join(sorted(tok)))
    print()
    print(f"{len(rows)} files; |relative difference| at most {max(diffs):.2e}, mean {sum(diffs) / len(diffs):.2e}; "
          f"scored tokens per evaluation: {rows[0][6]} (mpq eval) and {rows[0][7]} (llama.cpp){note}.")
    print()
