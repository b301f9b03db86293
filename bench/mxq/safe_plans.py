#!/usr/bin/env python3
"""Plans that make no matrix worse than the best uniform configuration a budget affords, written into a
copy of a stored `--cost probed` table so that `mpq sweep --costs OUT --budget ...` quantizes and
evaluates exactly them (docs/mxq.md, "Plans that dominate the best uniform configuration", session 17).

At each budget B: the base is the configuration that fits B on every matrix with the smallest summed
fnorm cost (the probed kind's uniform candidate); each matrix may take only configurations whose fnorm
error on it is at most the base's; the multiple-choice knapsack "minimise the sum of the costs of KIND,
storage at most B" is solved exactly by dynamic programming over storage in units of --unit bits (default 1/8000 of the
matrices' parameter count; a plan may leave up to one unit per matrix unused). KIND is one of
the table's candidate costs; "sensitivity@" takes the sensitivity cost anchored at the base's width
(sensitivity@b3g128 for a 3-bit base), the plain sensitivity cost for a 2-bit base.

Each OUT selection holds one candidate, kept, at its own budget; --uniform adds uniform plans
(CONFIG@BUDGET, e.g. b4g32@4.508) and --kept the plan the source table kept at a budget
(SOURCE_BUDGET@NEW_BUDGET), each at a budget of its own, so that one sweep evaluates them all.
--pair adds two-configuration plans (LO/HI@BUDGET, e.g. b3g64/b4g128@3.75, session 18): every matrix
at LO or HI, the budget's remaining bits spent on HI where KIND (sensitivity@ anchored at LO's width)
gains most, exactly as above; a point between two uniform points made of those two alone.

usage: safe_plans.py TABLE OUT BUDGETS [--kind KIND] [--uniform C@B,...] [--kept B@B2,...] [--pair LO/HI@B,...]
                     [--unit BITS]
Standard library only.
"""
import argparse
import json
import math
from collections import Counter


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('table')
    ap.add_argument('out')
    ap.add_argument('budgets', help='comma-separated bits per parameter')
    ap.add_argument('--kind', default='sensitivity@')
    ap.add_argument('--uniform', default='')
    ap.add_argument('--kept', default='')
    ap.add_argument('--pair', default='')
    ap.add_argument('--unit', type=int, default=0, help='storage unit of the dynamic program in bits '
                    '(default: the parameter count / 8000)')
    a = ap.parse_args()
    t = json.load(open(a.table))
    if t.get('cost_kind') != 'probed':
        raise SystemExit('%s: not a probed cost table' % a.table)
    M, cf, C = t['matrices'], t['configs'], t['candidate_costs']
    label = ['b%dg%d' % (c['bits'], c['group_size']) for c in cf]
    params = sum(m['rows'] * m['cols'] for m in M)
    fn = C['fnorm']
    unit = a.unit or max(1, params // 8000)

    def storage(plan):
        return sum(M[m]['storage_bits'][k] for m, k in enumerate(plan))

    def solve(costs, allowed, budget_bits):
        cap = int(budget_bits // unit)
        best = [0.0] * (cap + 1)  # best[s]: least cost of the matrices so far within s units
        picks = []
        for m, mat in enumerate(M):
            new, pick = [math.inf] * (cap + 1), [-1] * (cap + 1)
            for k in allowed[m]:
                w, c = math.ceil(mat['storage_bits'][k] / unit), costs[m][k]
                for s in range(w, cap + 1):
                    if best[s - w] + c < new[s]:
                        new[s], pick[s] = best[s - w] + c, k
            picks.append(pick)
            best = new
        if best[cap] == math.inf:
            raise SystemExit('no plan fits %.0f bits' % budget_bits)
        plan, s = [], cap
        for m in range(len(M) - 1, -1, -1):
            k = picks[m][s]
            plan.append(k)
            s -= math.ceil(M[m]['storage_bits'][k] / unit)
        return plan[::-1]

    selections = []

    def add(budget, name, plan):
        bits = storage(plan) / params
        if bits > budget + 1e-12:
            raise SystemExit('%s: %.5f bits do not fit %.5f' % (name, bits, budget))
        mix = Counter()
        for m, k in enumerate(plan):
            mix[label[k]] += M[m]['rows'] * M[m]['cols'] / params
        print('%-8g %-45s %.4f bits  %s' % (budget, name, bits, ' '.join('%s:%.2f' % x for x in sorted(mix.items()))))
        selections.append({'budget_bits': budget * params, 'budget_bits_per_parameter': budget, 'baseline_loss': 0.0,
                           'chosen': 0, 'candidates': [{'name': name, 'choice': plan, 'bits_per_parameter': bits,
                                                        'loss': 0.0, 'kl': 0.0}]})

    def config(name):
        if name not in label:
            raise SystemExit('unknown configuration %r: the table has %s' % (name, ', '.join(label)))
        return label.index(name)

    def spec(item, option, parts):
        """`item` of --OPTION split at '@' into its configuration part and its budget."""
        head, _, b = item.partition('@')
        try:
            budget = float(b)
        except ValueError:
            raise SystemExit('--%s %r: expected %s@BUDGET' % (option, item, parts))
        return head, budget

    def anchored(k):
        if a.kind != 'sensitivity@':
            return a.kind
        smallest = min(c['bits'] for c in cf)
        return 'sensitivity' if cf[k]['bits'] == smallest else 'sensitivity@b%dg128' % cf[k]['bits']

    for b in [float(x) for x in a.budgets.split(',') if x]:
        fits = [k for k in range(len(cf)) if storage([k] * len(M)) <= b * params]
        if not fits:
            raise SystemExit('no configuration fits %g bits on every matrix' % b)
        base = min(fits, key=lambda k: sum(fn[m][k] for m in range(len(M))))
        kind = anchored(base)
        allowed = [[k for k in range(len(cf)) if fn[m][k] <= fn[m][base]] for m in range(len(M))]
        add(b, '%s over uniform %s' % (kind, label[base]), solve(C[kind], allowed, b * params))
    for item in [x for x in a.pair.split(',') if x]:
        pair, b = spec(item, 'pair', 'LO/HI')
        if pair.count('/') != 1:
            raise SystemExit('--pair %r: expected LO/HI@BUDGET' % item)
        lo, hi = (config(c) for c in pair.split('/'))
        kind = anchored(lo)
        add(b, '%s between %s and %s' % (kind, label[lo], label[hi]), solve(C[kind], [[lo, hi]] * len(M), b * params))
    for item in [x for x in a.uniform.split(',') if x]:
        c, b = spec(item, 'uniform', 'CONFIG')
        add(b, 'uniform ' + c, [config(c)] * len(M))
    for item in [x for x in a.kept.split(',') if x]:
        src, b = spec(item, 'kept', 'SOURCE_BUDGET')
        try:
            src = float(src)
        except ValueError:
            raise SystemExit('--kept %r: expected SOURCE_BUDGET@BUDGET' % item)
        sel = [s for s in t.get('selections', []) if abs(s['budget_bits_per_parameter'] - src) < 1e-9]
        if len(sel) != 1:
            raise SystemExit('%s: no selection at %g' % (a.table, src))
        kept = sel[0]['candidates'][sel[0]['chosen']]
        add(b, 'kept at %g: %s' % (src, kept['name']), kept['choice'])
    t['selections'] = selections
    json.dump(t, open(a.out, 'w'))


if __name__ == '__main__':
    main()
