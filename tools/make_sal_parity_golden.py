#!/usr/bin/env python3
"""Makes the compact golden files of the SAL whole-step parity test (tests/cpu/test_sal_parity.cpp).

Weights and batches come from the integer-hash formula of tests/parity_formula.h (the C++ test computes the same
values: formula_weights with salt 1000*seed + t + 1 and bound 1/sqrt(fan_in) per tensor t of the official
state_dict order, formula_batch), so nothing large is stored. The official SAL step runs through
tools/sal_oracle.py (the official code loaded at run time from OFFICIAL_SAL). Kept per step: every loss term, the
mask EMA state before and after, each gradient's norm / max |g| and SAMPLES sampled entries with their flat
indices, sampled CAS entries, the full [B,T] pseudo labels, masks and actionness curves and the [B,20] video
scores.

The golden values come from the oracle in float64 (--dtype float64, the default): the official code, same
operations, run in double precision, so that a float32 implementation is measured against the exact result and
the oracle's own float32 rounding does not eat into the tolerances (KL_bg, ~2e-3, loses 1e-5..4e-5 of its
relative precision to the cancellation in float32). The float32 oracle runs too: the case is rejected when a
pseudo label (y, y_mix) differs between the two precisions or any top-k selection has a tie at its boundary,
and each step records how far the two precisions are apart ("precision_check").

  /usr/bin/python3 tools/make_sal_parity_golden.py [--out tests/golden/parity] [--threads 2] [--dtype float64]

Cases (B, T, seed, steps, starting EMA):
  * B=2, T=64, seed 0, two steps: the second on the batch rolled by one video with the EMA state carried;
  * B=3, T=45, seed 1: odd T, and B=3 so that the mix-up pairs (b, b-1) differ from (b-1, b);
  * B=2, T=120, seed 2, starting from a selective mask state, ema_mu 0.078, ema_var 5e-5: the steady state the
    official EMA reaches on batches like this one (mu = the mean and V = the variance of the max softmax over
    the batch's segments, which a first oracle run measured at 0.0778 and 4.9e-5 for these formula weights), so
    that after the step's update mu sits at the batch mean: 56% of the segments get a weight < 1, 28% < 0.5,
    the smallest 1e-3. (0.06 / 1e-6, the first choice, leaves mu below almost every segment: min weight 0.97;
    and V_in = 1e-6 makes the float32-vs-float64 difference of the updated V 7e-7 relative, too close to the
    test's 1e-6 tolerance; see docs/sal-oracle.md.)
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
import sal_oracle  # noqa: E402

CASES = [  # B, T, seed, steps, (ema_mu, ema_var) or None
    (2, 64, 0, 2, None),
    (3, 45, 1, 1, None),
    (2, 120, 2, 1, (0.078, 5e-5)),
]
SAMPLES = 256        # sampled gradient entries per tensor (step 1)
SAMPLES_STEP2 = 96   # and in the second step (keeps the two-step file compact)
CAS_SAMPLES = 512
DEBUG_BT = ('y', 'y_mix', 'm', 'm_mix', 'action_flow', 'action_rgb', 'action_flow_mix', 'action_rgb_mix')
DEBUG_BC = ('cas_top', 'cas_top_bg', 'sc', 'sc_rgb', 'sc_flow')


def sample_indices(n, count):
    """As tools/make_parity_golden.py: all of a small tensor, else (j * 2654435761) mod n for j < count."""
    if n <= count:
        return list(range(n))
    return [(j * 2654435761) % n for j in range(count)]


def f7(v):
    """A float32 value in 7 significant digits (its JSON text stays short; the tests' tolerances are far wider)."""
    return float('%.7g' % float(v))


def step_json(g, samples, keys=None):
    s = {'ema': {k: float(g.attrs[a]) for k, a in (('mu_in', 'ema_mu_in'), ('var_in', 'ema_var_in'),
                                                  ('mu', 'ema_mu'), ('var', 'ema_var'))},
         'total_minus_weighted_sum': float(g.attrs['total_minus_weighted_sum']),
         'ties': {k: int(g.attrs[k]) for k in ('ties_mil', 'ties_bg', 'ties_agno', 'ties_conf', 'conf_zero')},
         'loss': {k: float(g['loss'][k][()]) for k in sal_oracle.LOSS_NAMES}, 'grad': {}, 'debug': {}}
    for name, _, _ in keys or sal_oracle.KEYS:
        a = g['grad'][name][()].astype(np.float64).ravel()
        idx = sample_indices(a.size, samples)
        s['grad'][name] = {'norm': float(np.linalg.norm(a)), 'max_abs': float(np.abs(a).max()),
                           'index': idx, 'value': [f7(a[i]) for i in idx]}
    cas = g['cas'][()].astype(np.float64).ravel()
    idx = sample_indices(cas.size, CAS_SAMPLES)
    s['cas'] = {'max_abs': float(np.abs(cas).max()), 'index': idx, 'value': [f7(cas[i]) for i in idx]}
    for k in DEBUG_BT + DEBUG_BC:
        a = g['debug'][k][()].ravel()
        s['debug'][k] = [int(v) for v in a] if k in ('y', 'y_mix') else [f7(v) for v in a]
    return s


def precision_check(a, b, keys=None):
    """How far the float32 and float64 official runs are apart (for scale; the tests' tolerances are wider)."""
    rel = lambda x, y: abs(float(x) - float(y)) / max(abs(float(y)), 1e-300)
    loss = {k: rel(a['loss'][k][()], b['loss'][k][()]) for k in sal_oracle.LOSS_NAMES}
    worst = max(loss, key=loss.get)
    grad = max(float(np.abs(a['grad'][n][()].astype(np.float64) - b['grad'][n][()]).max() /
                     max(np.abs(b['grad'][n][()]).max(), 1e-300)) for n, _, _ in keys or sal_oracle.KEYS)
    absdiff = lambda k: float(np.abs(a[k][()].astype(np.float64) - b[k][()]).max())
    return {'loss_rel_max': float('%.3g' % loss[worst]), 'loss_rel_max_term': worst,
            'grad_rel_to_max': float('%.3g' % grad), 'cas_abs': float('%.3g' % absdiff('cas')),
            'm_abs': float('%.3g' % max(absdiff('debug/m'), absdiff('debug/m_mix'))),
            'ema_mu_rel': float('%.3g' % rel(a.attrs['ema_mu'], b.attrs['ema_mu'])),
            'ema_var_rel': float('%.3g' % rel(a.attrs['ema_var'], b.attrs['ema_var']))}


def run_oracle(oracle, tmp, B, T, seed, ema, threads, step_args=()):
    """ORACLE make-inputs (formula weights and batch, optional starting EMA) and ORACLE step in float64 and
    float32; returns {dtype: OUT.h5 path}."""
    wp, bp = os.path.join(tmp, 'w.h5'), os.path.join(tmp, 'b.h5')
    cmd = [sys.executable, oracle, 'make-inputs', wp, bp, '--B', str(B), '--T', str(T), '--seed', str(seed)]
    if ema:
        cmd += ['--ema-mu', repr(ema[0]), '--ema-var', repr(ema[1])]
    subprocess.run(cmd, check=True)
    outs = {}
    for dt in ('float64', 'float32'):
        outs[dt] = os.path.join(tmp, 'o_%s.h5' % dt)
        subprocess.run([sys.executable, oracle, 'step', wp, bp, outs[dt]] + list(step_args) +
                       ['--dtype', dt, '--threads', str(threads)], check=True)
    return outs


def check_selections(s, gs, go, tie_keys, where):
    """Exits when a top-k of the step has a tie at its boundary (in either precision) or a pseudo label differs
    between the two precisions: the golden would then depend on the tie order or on rounding."""
    for k in tie_keys:
        if s['ties'][k] or int(go.attrs[k]):
            sys.exit('error: %s has top-k boundary ties (%s): the golden would depend on the tie order' % (where, k))
    for k in ('y', 'y_mix'):
        if not np.array_equal(gs['debug'][k][()], go['debug'][k][()]):
            sys.exit('error: %s: debug/%s differs between float32 and float64: a selection is within rounding of a '
                     'tie' % (where, k))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'tests', 'golden', 'parity'))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64',
                    help='precision of the oracle run the golden values come from (the other one is run too, as a '
                         'check that no selection depends on the precision)')
    ap.add_argument('--keep', help='also keep the oracle OUT.h5 files in this directory')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    oracle = os.path.join(HERE, 'sal_oracle.py')
    with tempfile.TemporaryDirectory() as tmp:
        for B, T, seed, steps, ema in CASES:
            outs = run_oracle(oracle, tmp, B, T, seed, ema, args.threads, ['--steps', str(steps)])
            ref, other = outs[args.dtype], outs['float32' if args.dtype == 'float64' else 'float64']
            g = {'method': 'sal', 'B': B, 'T': T, 'seed': seed, 'dtype': args.dtype,
                 'oracle': 'tools/sal_oracle.py step --dtype %s (the official SAL code, dropout p = 0); second '
                           'step: the batch rolled by one video (video b+1 at position b), same weights, EMA '
                           'carried' % args.dtype,
                 'steps': []}
            if ema:
                g['batch_ema'] = {'mu': ema[0], 'var': ema[1]}
            with h5py.File(ref, 'r') as f, h5py.File(other, 'r') as fo:
                for i in range(steps):
                    gs, go = (f, fo) if i == 0 else (f['step2'], fo['step2'])
                    s = step_json(gs, SAMPLES if i == 0 else SAMPLES_STEP2)
                    s['precision_check'] = precision_check(gs, go)
                    check_selections(s, gs, go, ('ties_mil', 'ties_bg', 'ties_agno', 'ties_conf'),
                                     'case B=%d T=%d step %d' % (B, T, i + 1))
                    g['steps'].append(s)
            path = os.path.join(args.out, 'sal_B%d_T%d.json' % (B, T))
            with open(path, 'w') as fo:
                json.dump(g, fo, separators=(',', ':'))
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                for dt, o in outs.items():
                    os.replace(o, os.path.join(args.keep, 'sal_B%d_T%d_%s.h5' % (B, T, dt)))
            print('wrote %s (%d bytes): total loss %s; float32 vs float64: %s' % (
                path, os.path.getsize(path), ', '.join('%.7g' % s['loss']['total'] for s in g['steps']),
                '; '.join(json.dumps(s['precision_check'], separators=(',', ':')) for s in g['steps'])))


if __name__ == '__main__':
    main()
