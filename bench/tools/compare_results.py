#!/usr/bin/env python3
"""Compares two runs of the same job on different devices or code paths (CPU vs CUDA, a CUDA
graph vs eager steps): two result folders (per matrix: column bits, predicted cost, the MG-PTQ
loss curve) or two MXQ cost tables (per matrix and configuration: the cost).

usage: compare_results.py A B [--tol REL]   (A, B: result folders, result.json or cost tables)
Prints the largest differences and exits 1 when a relative difference exceeds --tol (default 1e-3).
"""
import json
import os
import sys


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "result.json")
    with open(path) as f:
        return json.load(f)


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tol = float(sys.argv[sys.argv.index("--tol") + 1]) if "--tol" in sys.argv else 1e-3
    if "--tol" in sys.argv:
        args.remove(sys.argv[sys.argv.index("--tol") + 1])
    a, b = load(args[0]), load(args[1])
    worst = 0.0
    if "configs" in a:  # MXQ cost tables
        cells = 0
        for ma, mb in zip(a["matrices"], b["matrices"], strict=True):
            for ca, cb in zip(ma["cost"], mb["cost"], strict=True):
                worst = max(worst, rel(ca, cb))
                cells += 1
        print(f"cost tables: {cells} costs, largest relative difference {worst:.3g}")
    else:  # result folders
        pa, pb = a["plan"]["matrices"], b["plan"]["matrices"]
        columns = differing = 0
        curve = 0.0
        for ma, mb in zip(pa, pb, strict=True):
            ba, bb = ma["column_bits"], mb["column_bits"]
            columns += len(ba)
            differing += sum(x != y for x, y in zip(ba, bb))
            worst = max(worst, rel(ma["predicted_cost"], mb["predicted_cost"]))
            la = ma.get("diagnostics", {}).get("curves", {}).get("loss", [])
            lb = mb.get("diagnostics", {}).get("curves", {}).get("loss", [])
            for x, y in zip(la, lb):
                curve = max(curve, rel(x, y))
        print(f"plans: {differing} of {columns} columns differ in bits; predicted cost largest relative "
              f"difference {worst:.3g}; loss curves largest relative difference {curve:.3g}")
        worst = max(worst, curve)
    sys.exit(0 if worst <= tol else 1)


if __name__ == "__main__":
    main()
