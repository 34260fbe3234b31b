#!/usr/bin/env python3
"""Writes tests/golden/ftcl/dp_golden.json: the OFFICIAL FTCL FSD and LCS values and autograd gradients
(tools/ftcl_dp_oracle.py) on seeded inputs that tests/cpu/test_ftcl_dp_parity.cpp regenerates bit for bit.

  /usr/bin/python3 tools/make_ftcl_dp_golden.py [--out tests/golden/ftcl/dp_golden.json] [--pairs 40]

Inputs are not stored: every pair's matrices come from a splitmix64 stream seeded by (op, pair index), as
dyadic float32 values k * 2^-20 (exact on both sides) or named float32 constants (0.92f and its neighbours, NaN).
The kinds, per op (PAIRS pairs each):
  fsd (L=5, m and g):  random [-1,1]; zeros; constant (one m and one g value per pair); coarse (quarter steps: exact
                       ties in every smooth max); diagonal (m = 1 on the diagonal, -1 off it; g = -1); gap_heavy
                       (g in [0.5, 1]);
  lcs (L=30, S):       random [0.5,1]; all_match (> 0.92f); no_match (<= 0.92f); ties (steps of 1/64 in
                       [0.875, 1]: equal path sums, up/left ties); threshold (0.92f exactly, its float neighbours,
                       random); nan (random with one NaN row and one NaN column);
  lcs_stage_a (S):     random [0.9,1]; all_match (> 0.985); no_match (< 0.983); ties (steps of 1/64 in [0.9375, 1]);
                       threshold (0.984f and its neighbours 1-3 ulp away, random); nan.
The seed of each pair's value (dvalue) is the stream's first draw, a nonzero k * 2^-20 in [-1, 1].
Each golden pair holds: kind, seed, dvalue, a checksum of its inputs (float64 sum of the finite entries), the official
value, and its gradients: fsd dense (dm, dg, 9 significant digits), lcs sparse (grad_index: the flat indices of the
nonzero entries; grad_value: their common value, or a list when they differ).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcl_dp_oracle  # noqa: E402

MASK = (1 << 64) - 1
SCALE = 2.0 ** -20
ONE = 1 << 20
OPS = {'fsd': 1, 'lcs': 2, 'lcs_stage_a': 3}
KINDS = {
    'fsd': ['random', 'zeros', 'constant', 'coarse', 'diagonal', 'gap_heavy'],
    'lcs': ['random', 'all_match', 'no_match', 'ties', 'threshold', 'nan'],
    'lcs_stage_a': ['random', 'all_match', 'no_match', 'ties', 'threshold', 'nan'],
}
F32 = np.float32


class Stream(object):
    """splitmix64 (Steele, Lea, Flood 2014) from state = seed."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def k(self, lo, hi):
        """An integer in [lo, hi]."""
        return lo + self.next() % (hi - lo + 1)

    def val(self, lo, hi):
        """k * 2^-20 as float32, k in [lo, hi] (exact)."""
        return F32(self.k(lo, hi)) * F32(SCALE)


def seed_of(op, pair):
    return OPS[op] * 1000003 + pair


def make_pair(op, kind, seed, L):
    """(dvalue, list of float32 matrices [L,L]) of one pair."""
    r = Stream(seed)
    dv = r.val(-ONE, ONE)
    if dv == 0:
        dv = F32(1)
    n = L * L

    def fill(f):
        return np.array([f() for _ in range(n)], dtype=F32).reshape(L, L)

    if op == 'fsd':
        if kind == 'random':
            return dv, [fill(lambda: r.val(-ONE, ONE)), fill(lambda: r.val(-ONE, ONE))]
        if kind == 'zeros':
            return dv, [np.zeros((L, L), F32), np.zeros((L, L), F32)]
        if kind == 'constant':
            a, b = r.val(-ONE, ONE), r.val(-ONE, ONE)
            return dv, [np.full((L, L), a, F32), np.full((L, L), b, F32)]
        if kind == 'coarse':
            q = lambda: F32(r.k(-4, 4)) * F32(0.25)  # noqa: E731
            return dv, [fill(q), fill(q)]
        if kind == 'diagonal':
            return dv, [np.where(np.eye(L, dtype=bool), F32(1), F32(-1)).astype(F32), np.full((L, L), F32(-1))]
        if kind == 'gap_heavy':
            return dv, [fill(lambda: r.val(-ONE, ONE)), fill(lambda: r.val(ONE // 2, ONE))]
    stage_a = op == 'lcs_stage_a'
    if kind == 'random':
        S = fill(lambda: r.val(943718 if stage_a else ONE // 2, ONE))
    elif kind == 'all_match':
        S = fill(lambda: r.val(1033000 if stage_a else 964690, ONE))
    elif kind == 'no_match':
        S = fill(lambda: r.val(-ONE, 1030000 if stage_a else 964689))
    elif kind == 'ties':
        S = fill(lambda: F32(r.k(60 if stage_a else 56, 64)) / F32(64))
    elif kind == 'threshold':
        t = F32(0.984) if stage_a else F32(0.92)
        up, down = np.nextafter(t, F32(2)), np.nextafter(t, F32(-2))
        choices = [t, up, down, np.nextafter(up, F32(2)), np.nextafter(down, F32(-2)), np.nextafter(
            np.nextafter(up, F32(2)), F32(2))] if stage_a else [t, up, down]

        def cell():
            c = r.k(0, len(choices))
            return choices[c] if c < len(choices) else r.val(943718 if stage_a else ONE // 2, ONE)
        S = fill(cell)
    elif kind == 'nan':
        S = fill(lambda: r.val(943718 if stage_a else ONE // 2, ONE))
        S[r.k(0, L - 1), :] = np.nan
        S[:, r.k(0, L - 1)] = np.nan
    else:
        raise ValueError(kind)
    return dv, [S]


def checksum(mats):
    return float(sum(float(np.nansum(m.astype(np.float64))) for m in mats))


def g9(x):
    return float('%.9g' % float(x))


def run(op, L, pairs_per_kind, threads):
    kinds = KINDS[op]
    recs, mats, dvs = [], [], []
    for ki, kind in enumerate(kinds):
        for q in range(pairs_per_kind):
            pair = ki * pairs_per_kind + q
            seed = seed_of(op, pair)
            dv, ms = make_pair(op, kind, seed, L)
            recs.append({'kind': kind, 'seed': seed, 'dvalue': float(dv), 'input_sum': checksum(ms)})
            mats.append(ms)
            dvs.append(dv)
    dvs = np.array(dvs, F32)
    if op == 'fsd':
        m = np.stack([x[0] for x in mats])
        g = np.stack([x[1] for x in mats])
        v, dm, dg = ftcl_dp_oracle.fsd(m, g, dvs, threads)
        for p, rec in enumerate(recs):
            rec['value'] = float(v[p])
            rec['dm'] = [g9(x) for x in dm[p].ravel()]
            rec['dg'] = [g9(x) for x in dg[p].ravel()]
    else:
        S = np.stack([x[0] for x in mats])
        v, dS = ftcl_dp_oracle.lcs(S, dvs, op == 'lcs_stage_a', threads)
        for p, rec in enumerate(recs):
            rec['value'] = float(v[p])
            flat = dS[p].ravel()
            nz = np.flatnonzero(flat)
            rec['grad_index'] = [int(i) for i in nz]
            vals = sorted(set(float(flat[i]) for i in nz))
            # One number when every nonzero entry is the same (the official rule: dvalue or 5 dvalue on each
            # matched path cell), else the values entry by entry.
            rec['grad_value'] = vals[0] if len(vals) == 1 else [float(flat[i]) for i in nz]
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument('--out', default=os.path.join(here, 'tests', 'golden', 'ftcl', 'dp_golden.json'))
    ap.add_argument('--pairs', type=int, default=40, help='pairs per kind (6 kinds per op)')
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    O = ftcl_dp_oracle.load(a.threads)
    out = {
        'generator': 'tools/make_ftcl_dp_golden.py (official FTCLLoss.dp_for_fsd / dp_for_lcs, ACMLoss.dp_for_lcs; '
                     'torch autograd, float32, CPU)',
        'official_code': 'MengyuanChen21/CVPR2022-FTCL ' + O.rev,
        'torch': O.torch.__version__,
        'gamma': 0.1,
        'tau': float(F32(O.args.thres)),
        'fsd': {'L': int(O.args.fsd_len), 'pairs': run('fsd', int(O.args.fsd_len), a.pairs, a.threads)},
        'lcs': {'L': int(O.args.lcs_len), 'pairs': run('lcs', int(O.args.lcs_len), a.pairs, a.threads)},
        'lcs_stage_a': {'L': int(O.args.lcs_len), 'pairs': run('lcs_stage_a', int(O.args.lcs_len), a.pairs,
                                                               a.threads)},
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    for op in ('fsd', 'lcs', 'lcs_stage_a'):
        recs = out[op]['pairs']
        vals = np.array([r['value'] for r in recs])
        extra = ''
        if op != 'fsd':
            extra = ', %d with no match' % sum(1 for r in recs if not r['grad_index'])
        sys.stderr.write('%s: %d pairs, values in [%.4g, %.4g]%s\n' % (op, len(recs), vals.min(), vals.max(), extra))
    sys.stderr.write('wrote %s (%d bytes)\n' % (a.out, os.path.getsize(a.out)))


if __name__ == '__main__':
    main()
