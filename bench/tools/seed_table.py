#!/usr/bin/env python3
"""Markdown rows from `mpq sweep --seeds` results (sweep.json): per point and data set the mean
± sample sd (relative sd) and the seeds' values, the bits with overhead and the quantize time.
Usage: seed_table.py SWEEP.json [...]  (the row is named by the sweep's folder)"""
import json
import os
import sys


def cell(point, ds):
    seeds = [s["perplexity"][ds] for s in point["seeds"] if ds in s.get("perplexity", {})]
    if len(seeds) < 2:
        return "%.2f" % seeds[0] if seeds else "-"
    mean = point["perplexity"][ds]
    sd = point["perplexity_sd"][ds]
    return "%.2f ± %.2f (%.2f %%): %s" % (mean, sd, 100 * sd / mean, ", ".join("%.2f" % v for v in seeds))


def main(paths):
    for path in paths:
        j = json.load(open(path))
        name = os.path.basename(os.path.dirname(os.path.abspath(path)))
        for p in j["points"]:
            datasets = sorted(p["perplexity"].keys(), key=lambda d: (d != "wikitext2", d != "c4", d))
            secs = [s["quantize_seconds"] for s in p["seeds"]]
            print("| %s | %g | %s | %.3f | %.1f–%.1f |" % (
                name, p["seeds"][0]["value"], " | ".join(cell(p, d) for d in datasets),
                p["avg_bits_with_overhead"], min(secs), max(secs)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
