#!/usr/bin/env python3
"""Paired comparison of two evaluations of one text, window by window (docs/figures.md, "How much of
WikiText-2's verdict is noise").

Every `mpq sweep` point carries each data set's per-window mean NLL (`window_mean_nll`), in window
order; `mpq eval --json` prints the same list. Two evaluations of the same text with the same protocol
score the same windows, so their difference can be taken window by window: its mean is the difference
of the mean NLLs (exactly, where every window scores as many tokens, as in the gptq protocol) and its
spread over the windows gives a standard error (also over blocks of 8 neighbouring windows, since windows of one
article are alike; the larger one sets the 95 % interval). A plan can also be compared with the straight line
between two others (the uniform HQQ line of docs/figures.md): each window's NLL on the line is
interpolated linearly at the plan's bits between the two points' bits.

usage:
  paired_windows.py DATASET A B                 A minus B
  paired_windows.py DATASET A --line U1 U2 X    A minus the line from U1 to U2 at bits X, with the
                                                points' bits given as U1@BITS (e.g. u.json:4.127@4.156)
A point is SWEEP.json:VALUE (the point whose "value" is VALUE) or an `mpq eval --json` output file;
either may be gzip-compressed (.json.gz).
Standard library only; no third-party modules.
"""
import gzip
import json
import math
import sys


def read_json(path):
    """A JSON file, gzip-compressed where its name ends in .gz (docs/measurements keeps large ones so)."""
    with (gzip.open(path, 'rt') if path.endswith('.gz') else open(path)) as f:
        return json.load(f)


def load(spec, dataset):
    bits = None
    if '@' in spec:
        spec, bits = spec.rsplit('@', 1)
        bits = float(bits)
    path, value = spec, ''
    if ':' in spec:
        path, value = spec.rsplit(':', 1)
    j = read_json(path)
    if value:
        points = [p for p in j['points'] if abs(float(p['value']) - float(value)) < 1e-9]
        if len(points) != 1:
            sys.exit('%s: no single point with value %s' % (path, value))
        w = points[0].get('window_mean_nll', {}).get(dataset)
    else:
        w = j.get('window_mean_nll')
    if not w:
        sys.exit('%s: no per-window NLL for %s (a sweep or evaluation from before session 17?)' % (spec, dataset))
    return w, bits


def standard_error(d):
    n = len(d)
    mean = sum(d) / n
    return math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n)


def report(name, d, block=8):
    """The mean difference with two standard errors: windows taken as independent, and the means of
    blocks of `block` neighbouring windows taken as independent (batch means), which allows for
    neighbouring windows of one article being alike."""
    n = len(d)
    mean = sum(d) / n
    se = standard_error(d)
    blocks = [sum(d[i:i + block]) / len(d[i:i + block]) for i in range(0, n - n % block, block)]
    se_blocks = standard_error(blocks) if len(blocks) > 1 else float('nan')
    se_max = max(se, se_blocks) if blocks else se
    worse = sum(1 for x in d if x > 0)
    print('%s: %d windows, mean difference %+.5f nats (perplexity x%.4f); standard error %.5f '
          '(windows) / %.5f (%d blocks of %d); 95%% interval with the larger: [%+.5f, %+.5f] '
          '(perplexity x%.4f .. x%.4f); %d windows worse, %d better'
          % (name, n, mean, math.exp(mean), se, se_blocks, len(blocks), block, mean - 1.96 * se_max,
             mean + 1.96 * se_max, math.exp(mean - 1.96 * se_max), math.exp(mean + 1.96 * se_max), worse,
             n - worse))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    ds = argv[0]
    a, _ = load(argv[1], ds)
    if argv[2] == '--line':
        if len(argv) != 6:
            sys.exit(__doc__)
        u1, b1 = load(argv[3], ds)
        u2, b2 = load(argv[4], ds)
        x = float(argv[5])
        if b1 is None or b2 is None:
            sys.exit('--line: give each point its bits as POINT@BITS')
        t = (x - b1) / (b2 - b1)
        if not (len(a) == len(u1) == len(u2)):
            sys.exit('the evaluations score different numbers of windows')
        report('%s minus the line at %g bits (t = %.3f)' % (argv[1], x, t),
               [ai - ((1 - t) * p + t * q) for ai, p, q in zip(a, u1, u2)])
    else:
        b, _ = load(argv[2], ds)
        if len(a) != len(b):
            sys.exit('the evaluations score different numbers of windows')
        report('%s minus %s' % (argv[1], argv[2]), [x - y for x, y in zip(a, b)])


if __name__ == '__main__':
    main(sys.argv[1:])
