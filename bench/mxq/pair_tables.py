#!/usr/bin/env python3
"""Writes, into a copy of a stored `--cost probed` table, every two-configuration plan near each budget
and the uniform points, so that one `mpq sweep --costs OUT --budget ...` evaluates them all (session 18,
issue 16 item 4; bench/mxq/pair_report.py reports the sweep).

At each budget B the pairs are (LO, HI) with LO's storage within [B - 1, B - 0.01] bits and HI's above
B (at most B + 1, else the cheapest above); safe_plans.py --pair places them (the budget's spare bits
spent on HI where the sensitivity cost anchored at LO's width gains most). Every plan gets a budget of
its own (B, B - 0.0001, ...), since a sweep keeps one plan per budget. Uniform points: every 2-, 3- and
4-bit configuration and b8g128, each at its storage + 0.00001 bits.

usage: pair_tables.py TABLE OUT BUDGETS      (BUDGETS comma-separated, bits per parameter)
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('table')
    ap.add_argument('out')
    ap.add_argument('budgets', help='comma-separated bits per parameter')
    a = ap.parse_args()
    t = json.load(open(a.table))
    if t.get('cost_kind') != 'probed':
        raise SystemExit('%s: not a probed cost table' % a.table)
    M = t['matrices']
    params = sum(m['rows'] * m['cols'] for m in M)
    label = ['b%dg%d' % (c['bits'], c['group_size']) for c in t['configs']]
    storage = {label[k]: sum(m['storage_bits'][k] for m in M) / params for k in range(len(label))}
    pairs, uniform = [], []
    for B in [float(x) for x in a.budgets.split(',') if x]:
        # 0.01 below B: room for safe_plans.py's rounding of storage up to its unit on every matrix.
        lows = [c for c in label if B - 1.0 <= storage[c] <= B - 0.01]
        above = sorted([c for c in label if storage[c] > B], key=lambda c: storage[c])
        highs = [c for c in above if storage[c] <= B + 1.0] or above[:1]
        i = 0
        for lo in lows:
            for hi in highs:
                pairs.append('%s/%s@%.4f' % (lo, hi, B - i * 1e-4))
                i += 1
    for c in label:
        if not c.startswith('b8') or c.endswith('g128'):
            uniform.append('%s@%.5f' % (c, storage[c] + 1e-5))
    print('%d pairs, %d uniform points' % (len(pairs), len(uniform)), file=sys.stderr)
    safe_plans = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'safe_plans.py')
    subprocess.run([sys.executable, safe_plans, a.table, a.out, '', '--pair', ','.join(pairs),
                    '--uniform', ','.join(uniform)], check=True)


if __name__ == '__main__':
    main()
