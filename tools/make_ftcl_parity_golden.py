#!/usr/bin/env python3
"""Makes the compact golden files of the FTCL whole-step parity tests: tests/golden/ftcl/step_a.json (stage A, the
in-batch variant: ACMNet + ACMLoss) and step_b.json (stage B, pairs: FTCLNet + FTCLLoss).

  /usr/bin/python3 tools/make_ftcl_parity_golden.py [--out tests/golden/ftcl] [--threads 2] [--dtype float64]
                                                   [--keep DIR]                                  # ~1-2 min

Nothing large is stored: the weights and the batch come from formulas a C++ test computes too (tools/ftcl_oracle.py
make-inputs; docs/ftcl-oracle.md "Formula inputs"): the weights are tests/parity_formula.h's formula_weights
(hash_uniform(i, 1000*seed + t + 1), bound 1/sqrt(fan_in), t the official state_dict index), the batch
ftcl_oracle.formula_batch (hash_uniform templates plus noise; labels by a fixed rule). The stage-A negative pairs (the
official code draws them with random.sample) are stored in the file. Each file also holds checksums and samples of
the generated inputs, so that a C++ generator can be checked before the step is.

The official step runs through tools/ftcl_oracle.py (the official code loaded at run time). The golden values come
from its float64 run (--dtype float64: the official code in double precision); the float32 run (as published) is a
check: a case is rejected when any selection the step makes (attention top-k sets, candidate snippets, LCS matches)
differs between the two precisions, when a top-k boundary or an LCS cell is closer than GAP_MIN / MARGIN_MIN to a tie
or to the threshold, or when the loss is NaN. "precision_check" records how far the two precisions are apart.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ftcl_oracle  # noqa: E402
from make_sal_parity_golden import sample_indices  # noqa: E402  ((j * 2654435761) mod n, all of a small tensor)

CASES = {  # stage: (N, T, seed); N = videos (stage A) or pairs (stage B)
    'a': (6, 48, 0),
    'b': (3, 48, 5),
}
SAMPLES = 256        # sampled gradient entries per tensor
CAS_SAMPLES = 512
FEATURE_SAMPLES = 64
GAP_MIN = 1e-5       # smallest admissible gap at a top-k boundary (attention values ~0.3, |Z| ~0.1-1)
MARGIN_MIN = 1e-4    # smallest admissible |S - threshold| over the LCS cells of the compared pairs
DEBUG_FULL = ('att', 'p_ins', 'p_con', 'p_bak', 'feat_norms')
DEBUG_INT = ('lcs_idx', 'fsd_act_idx', 'fsd_bak_idx')


def g9(v):
    """A value in 9 significant digits (float32 round-trips; the tests' tolerances are far wider than 1e-9)."""
    return float('%.9g' % float(v))


def run_oracle(tmp, stage, N, T, seed, threads):
    """make-inputs, then the step in float64 and float32; returns (weights, batch, {dtype: OUT.h5})."""
    oracle = os.path.join(HERE, 'ftcl_oracle.py')
    wp, bp = os.path.join(tmp, 'w_%s.h5' % stage), os.path.join(tmp, 'b_%s.h5' % stage)
    subprocess.run([sys.executable, oracle, 'make-inputs', wp, bp, '--stage', stage,
                    '--B' if stage == 'a' else '--P', str(N), '--T', str(T), '--seed', str(seed)], check=True)
    outs = {}
    for dt in ('float64', 'float32'):
        outs[dt] = os.path.join(tmp, 'o_%s_%s.h5' % (stage, dt))
        subprocess.run([sys.executable, oracle, 'step', '--stage', stage, wp, bp, outs[dt], '--dtype', dt,
                        '--threads', str(threads)], check=True)
    return wp, bp, outs


def inputs_json(stage, N, T, seed, wp, bp):
    """What a C++ test needs to regenerate the inputs, and checks of its regeneration."""
    inp = {'weights': 'formula_weights of tests/parity_formula.h: tensor t (official state_dict order) entry i = '
                      'float((2 hash_uniform(i, 1000*seed + t + 1) - 1) / sqrt(fan_in))',
           'batch': 'tools/ftcl_oracle.py formula_batch: ' + ' '.join(ftcl_oracle.formula_batch.__doc__.split()),
           'keys': [[n, list(s), fi] for n, s, fi in ftcl_oracle.KEYS], 'weight_sum': {}, 'feature_sum': {},
           'feature_samples': {}}
    with h5py.File(wp, 'r') as f:
        for n, _, _ in ftcl_oracle.KEYS:
            inp['weight_sum'][n] = float(np.asarray(f[n][()], np.float64).sum())
    with h5py.File(bp, 'r') as f:
        fk = ('features',) if stage == 'a' else ('features0', 'features1')
        for k in fk:
            x = np.asarray(f[k][()], np.float64).ravel()
            inp['feature_sum'][k] = float(x.sum())
            idx = sample_indices(x.size, FEATURE_SAMPLES)
            inp['feature_samples'][k] = {'index': idx, 'value': [g9(x[i]) for i in idx]}
        if stage == 'a':
            inp['labels'] = [[int(v) for v in row] for row in f['labels'][()]]
            inp['pos_pairs'] = f['pos_pairs'][()].tolist()
            inp['neg_pairs'] = f['neg_pairs'][()].tolist()
            inp['pairs_note'] = ('pos_pairs: the official in-batch rule (i<j, sum(y_i y_j) == 1 and y_i == y_j); '
                                 'neg_pairs: what the official random.sample(negative candidates, n_pos) is '
                                 'replaced by (make-inputs: random.Random(seed).sample)')
        else:
            inp['labels0'] = [[int(v) for v in row] for row in f['labels0'][()]]
            inp['labels1'] = [[int(v) for v in row] for row in f['labels1'][()]]
            inp['pair_label'] = [int(v) for v in f['pair_label'][()]]
    return inp


def step_json(stage, f):
    s = {'loss': {k: float(f['loss'][k][()]) for k in ftcl_oracle.LOSS_NAMES}, 'grad': {}, 'debug': {}, 'dp': {}}
    if stage == 'b':
        for side in (0, 1):
            s['loss_side%d' % side] = {k: float(f['loss/side%d/%s' % (side, k)][()]) for k in ftcl_oracle.ACM_TERMS}
    for name, _, _ in ftcl_oracle.KEYS:
        a = f['grad'][name][()].astype(np.float64).ravel()
        idx = sample_indices(a.size, SAMPLES)
        s['grad'][name] = {'norm': float(np.linalg.norm(a)), 'max_abs': float(np.abs(a).max()),
                           'index': idx, 'value': [g9(a[i]) for i in idx]}
    cas = f['cas'][()].astype(np.float64).ravel()
    idx = sample_indices(cas.size, CAS_SAMPLES)
    s['cas'] = {'shape': list(f['cas'].shape), 'max_abs': float(np.abs(cas).max()), 'index': idx,
                'value': [g9(cas[i]) for i in idx]}
    for side in ((None,) if stage == 'a' else (0, 1)):
        g = f['debug'] if side is None else f['debug/side%d' % side]
        d = s['debug'] if side is None else s['debug'].setdefault('side%d' % side, {})
        for k in DEBUG_FULL:
            d[k] = [g9(v) for v in g[k][()].ravel()]
        for k in DEBUG_INT:
            d[k] = g[k][()].tolist()
    for k in f['dp']:
        s['dp'][k] = [float(v) for v in f['dp'][k][()]]
    s['diagnostics'] = {k: (float(f.attrs[k]) if isinstance(f.attrs[k], (float, np.floating)) else int(f.attrs[k]))
                        for k in ('skipped_nan', 'total_minus_formula', 'gap_att', 'gap_cas', 'lcs_margin',
                                  'lcs_matches', 'lcs_nan_cells', 'zero_rows')}
    return s


def precision_check(stage, a, b):
    """How far the float32 run (a) is from the float64 run (b)."""
    rel = lambda x, y: abs(float(x) - float(y)) / max(abs(float(y)), 1e-300)
    loss = {k: rel(a['loss'][k][()], b['loss'][k][()]) for k in ftcl_oracle.LOSS_NAMES}
    worst = max(loss, key=loss.get)
    grad = {n: float(np.abs(a['grad'][n][()].astype(np.float64) - b['grad'][n][()]).max() /
                     max(np.abs(b['grad'][n][()]).max(), 1e-300)) for n, _, _ in ftcl_oracle.KEYS}
    gworst = max(grad, key=grad.get)
    dp = max([rel(x, y) for k in b['dp'] for x, y in zip(a['dp'][k][()], b['dp'][k][()])] or [0.0])
    att = max(float(np.abs(a[p + 'att'][()] - b[p + 'att'][()]).max())
              for p in (('debug/',) if stage == 'a' else ('debug/side0/', 'debug/side1/')))
    r = lambda v: float('%.3g' % v)
    return {'loss_rel_max': r(loss[worst]), 'loss_rel_max_term': worst, 'grad_rel_to_max': r(grad[gworst]),
            'grad_rel_to_max_tensor': gworst, 'cas_abs': r(np.abs(a['cas'][()] - b['cas'][()]).max()),
            'att_abs': r(att), 'dp_rel_max': r(dp)}


def check_selections(stage, a, b, where):
    """Exits when the step's outcome could depend on rounding or tie order."""
    for f, dt in ((a, 'float32'), (b, 'float64')):
        if int(f.attrs['skipped_nan']):
            sys.exit('error: %s (%s): the loss is NaN' % (where, dt))
        for k, lim in (('gap_att', GAP_MIN), ('gap_cas', GAP_MIN), ('lcs_margin', MARGIN_MIN)):
            if float(f.attrs[k]) < lim:
                sys.exit('error: %s (%s): %s = %.3g is below %g: a selection is within rounding of a tie (try '
                         'another seed)' % (where, dt, k, float(f.attrs[k]), lim))
        if int(f.attrs['zero_rows']) or int(f.attrs['lcs_nan_cells']):
            sys.exit('error: %s (%s): zero candidate rows (NaN cosines)' % (where, dt))
    if int(a.attrs['lcs_matches']) != int(b.attrs['lcs_matches']):
        sys.exit('error: %s: LCS matches differ between float32 and float64' % where)
    for p in (('debug/',) if stage == 'a' else ('debug/side0/', 'debug/side1/')):
        for k in DEBUG_INT:
            if not np.array_equal(a[p + k][()], b[p + k][()]):
                sys.exit('error: %s: %s%s differs between float32 and float64' % (where, p, k))
        T = a[p + 'att_order'].shape[1]
        for c, k in ((0, max(T // 8, 1)), (1, max(T // 3, 1)), (2, max(T // 3, 1))):
            sa = np.sort(a[p + 'att_order'][()][:, :k, c], axis=1)
            sb = np.sort(b[p + 'att_order'][()][:, :k, c], axis=1)
            if not np.array_equal(sa, sb):
                sys.exit('error: %s: the top-%d of attention channel %d differs between float32 and float64' % (
                    where, k, c))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'tests', 'golden', 'ftcl'))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64',
                    help='precision of the oracle run the golden values come from (the other one is the check)')
    ap.add_argument('--stages', default='ab', help='which files to write (default both: ab)')
    ap.add_argument('--keep', help='also keep the inputs and the oracle OUT.h5 files in this directory')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for stage in args.stages:
            N, T, seed = CASES[stage]
            wp, bp, outs = run_oracle(tmp, stage, N, T, seed, args.threads)
            ref, other = outs[args.dtype], outs['float32' if args.dtype == 'float64' else 'float64']
            with h5py.File(ref, 'r') as f, h5py.File(other, 'r') as fo:
                lam = tuple(float(v) for v in f.attrs['lambda_guide_feat_sparse_lcs_fsd'])
                g = {'method': 'ftcl', 'stage': stage, ('B' if stage == 'a' else 'P'): N, 'T': T, 'seed': seed,
                     'dtype': args.dtype, 'official': str(f.attrs['official']), 'torch': str(f.attrs['torch']),
                     'oracle': 'tools/ftcl_oracle.py step --stage %s --dtype %s (the official train_thu.train(), '
                               'dropout p = 0, one step, weights unchanged)' % (stage, args.dtype),
                     'total_formula': ('total = cls_ins + cls_con + cls_bak + %g*guide + %g*feat + %g*sparse + '
                                       '%g*lcs + %g*fsd' % lam) +
                                      ('' if stage == 'a' else
                                       ' (the six ACM terms: means of loss_side0 and loss_side1)'),
                     'lambda': dict(zip(('guide', 'feat', 'sparse', 'lcs', 'fsd'), lam)),
                     'inputs': inputs_json(stage, N, T, seed, wp, bp)}
                g.update(step_json(stage, f))
                g['precision_check'] = precision_check(stage, fo if args.dtype == 'float64' else f,
                                                       f if args.dtype == 'float64' else fo)
                check_selections(stage, fo, f, 'stage %s (N=%d T=%d seed %d)' % (stage, N, T, seed))
            path = os.path.join(args.out, 'step_%s.json' % stage)
            with open(path, 'w') as fo:
                json.dump(g, fo, separators=(',', ':'))
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                for p in [wp, bp] + list(outs.values()):
                    os.replace(p, os.path.join(args.keep, os.path.basename(p)))
            print('wrote %s (%d bytes): total %.9g; float32 vs float64: %s; diagnostics %s' % (
                path, os.path.getsize(path), g['loss']['total'], json.dumps(g['precision_check']),
                json.dumps(g['diagnostics'])))


if __name__ == '__main__':
    main()
