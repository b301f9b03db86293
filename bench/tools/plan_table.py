#!/usr/bin/env python3
"""Prints the per-matrix allocation of a result folder's plan (result.json) as a Markdown table:
one row per decoder layer, one column per linear, cells 'bits g group' (or average bits for
per-column plans). usage: plan_table.py RESULT_DIR"""
import json
import sys
from collections import defaultdict

LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def cell(m):
    bits = m.get("bits")
    g = m.get("group_size", -1)
    if isinstance(bits, list) or bits is None:
        return "%.2f" % m.get("average_bits", 0)
    return "b%dg%d" % (bits, g) if g and g > 0 else "b%d" % bits


def main():
    plan = json.load(open(sys.argv[1].rstrip("/") + "/result.json"))["plan"]
    rows = defaultdict(dict)
    for m in plan["matrices"]:
        rows[m["layer"]][m["linear"]] = cell(m)
    print("| layer | " + " | ".join(LINEARS) + " |")
    print("|---" * (len(LINEARS) + 1) + "|")
    for layer in sorted(rows):
        print("| %d | " % layer + " | ".join(rows[layer].get(l, "—") for l in LINEARS) + " |")


if __name__ == "__main__":
    main()
