#!/usr/bin/env python3
"""Reports a sweep of two-configuration plans against the uniform HQQ line (session 18, issue 16 item 4).

The sweep evaluates a table written by bench/mxq/pair_tables.py (safe_plans.py --pair and --uniform):
plans made of two configurations at each budget, and the uniform configurations themselves. The line
is the lower convex hull of the uniform points, interpolated linearly, with each point placed at GPTQ's
format overhead (b + (16 + b)/g) or at MXQ's own storage (the point's avg_bits_with_overhead), as in
docs/figures.md. For every budget and data set it prints the line, the default's figure (--default
SWEEP.json, a plain `mpq sweep --method mxq --budget ...`), every pair plan, and the pair that an
oracle judge on C4 would keep (the lowest C4 perplexity of the budget's pairs).

usage: pair_report.py TABLE PAIRS_SWEEP.json [--default SWEEP.json] [--datasets wikitext2,c4]
Standard library only (and read_json of paired_windows.py beside it).
"""
import argparse
import re

from paired_windows import read_json


def hull(points):
    """Lower convex hull of (x, y) points, sorted by x."""
    pts = sorted(points)
    out = []
    for p in pts:
        while len(out) >= 2:
            (x1, y1), (x2, y2) = out[-2], out[-1]
            if (y2 - y1) * (p[0] - x1) >= (p[1] - y1) * (x2 - x1):  # out[-1] on or above the chord
                out.pop()
            else:
                break
        out.append(p)
    return out


def line_at(h, x):
    for (x1, y1), (x2, y2) in zip(h, h[1:]):
        if x1 <= x <= x2:
            return y1 + (y2 - y1) * (x - x1) / (x2 - x1)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('table')
    ap.add_argument('sweep')
    ap.add_argument('--default')
    ap.add_argument('--datasets', default='wikitext2,c4')
    a = ap.parse_args()
    names = {round(s['budget_bits_per_parameter'], 6): s['candidates'][s['chosen']]['name']
             for s in read_json(a.table)['selections']}
    points = read_json(a.sweep)['points']
    default = {}
    if a.default:
        default = {round(float(p['value']), 6): p for p in read_json(a.default)['points']}
    for ds in a.datasets.split(','):
        uni_g, uni_m, pairs = [], [], {}
        for p in points:
            v = round(float(p['value']), 6)
            name, ppl = names[v], p['perplexity'].get(ds)
            if ppl is None:
                continue
            m = re.match(r'uniform b(\d+)g(\d+)$', name)
            if m:
                b, g = int(m.group(1)), int(m.group(2))
                uni_g.append((b + (16 + b) / g, ppl))
                uni_m.append((p['avg_bits_with_overhead'], ppl))
            else:
                pairs.setdefault(round(v, 2), []).append((name, ppl, p))
        hg, hm = hull(uni_g), hull(uni_m)
        print('== %s: uniform hull (GPTQ placement) %s' % (ds, ' '.join('%.3f:%.2f' % q for q in hg)))
        for b in sorted(set(pairs) | {round(v, 2) for v in default}):
            lg, lm = line_at(hg, b), line_at(hm, b)
            fmt = lambda y: '—' if y is None else '%.2f' % y
            d = default.get(round(b, 6))
            dv = d['perplexity'].get(ds) if d else None
            dmark = '' if dv is None or lg is None else (' ABOVE(GPTQ)' if dv > lg else '') + \
                (' above(MXQ)' if lm is not None and dv > lm else '')
            print('%.2f  line %s / %s   default %s%s' % (b, fmt(lg), fmt(lm), fmt(dv), dmark))
            best_c4 = None
            for name, ppl, p in pairs.get(b, []):
                c4 = p['perplexity'].get('c4')
                if c4 is not None and (best_c4 is None or c4 < best_c4[0]):
                    best_c4 = (c4, name)
            for name, ppl, p in sorted(pairs.get(b, []), key=lambda t: t[1]):
                mark = ''
                if lg is not None and ppl > lg:
                    mark += ' ABOVE(GPTQ)'
                if lm is not None and ppl > lm:
                    mark += ' above(MXQ)'
                if best_c4 and name == best_c4[1]:
                    mark += '  <- best on C4'
                print('      %8.2f  %-48s %.4f bits%s' % (ppl, name, p['avg_bits_with_overhead'], mark))


if __name__ == '__main__':
    main()
