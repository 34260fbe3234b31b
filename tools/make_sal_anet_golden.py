#!/usr/bin/env python3
"""Makes the golden files of the SAL ActivityNet step parity test (tests/cpu/test_sal_anet_parity.cpp).

As tools/make_sal_parity_golden.py (whose JSON layout and checks it reuses), with the official SAL_ActivityNet
train_one_step run through tools/sal_anet_oracle.py (main_SA13_1.py + core/SA13_1.py, dropout off) on formula
weights over the SA13_1 state_dict (C = 20 classes) and formula batches:
  * B=2, T=50, seed 0, from the official initial EMA state (mu 1/20, var 1: the mask is 1 everywhere);
  * B=3, T=64, seed 1, from a selective EMA state (mu 0.075, var 4.4e-5: the mean and variance of the max
    softmax the first case measured), T != 50 (k = 16 for the MIL, 8 for the background, the pseudo labels a
    fixed top-40).

  /usr/bin/python3 tools/make_sal_anet_golden.py [--out tests/golden/parity] [--threads 2]
"""
import argparse
import json
import os
import sys
import tempfile

import h5py

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_sal_parity_golden as msg  # noqa: E402
import sal_anet_oracle  # noqa: E402

CASES = [(2, 50, 0, None), (3, 64, 1, (0.075, 4.4e-5))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'tests', 'golden', 'parity'))
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    keys = sal_anet_oracle.keys(20)
    oracle = os.path.join(HERE, 'sal_anet_oracle.py')
    with tempfile.TemporaryDirectory() as tmp:
        for B, T, seed, ema in CASES:
            outs = msg.run_oracle(oracle, tmp, B, T, seed, ema, args.threads)
            g = {'method': 'sal', 'variant': 'activitynet', 'B': B, 'T': T, 'C': 20, 'seed': seed,
                 'dtype': 'float64',
                 'oracle': 'tools/sal_anet_oracle.py step --dtype float64 (the official SAL_ActivityNet '
                           'train_one_step, core/SA13_1.py SALModel, dropout p = 0)',
                 'steps': []}
            if ema:
                g['batch_ema'] = {'mu': ema[0], 'var': ema[1]}
            with h5py.File(outs['float64'], 'r') as f, h5py.File(outs['float32'], 'r') as fo:
                s = msg.step_json(f, msg.SAMPLES, keys)
                s['precision_check'] = msg.precision_check(f, fo, keys)
                msg.check_selections(s, f, fo, ('ties_mil', 'ties_bg', 'ties_agno'), 'case B=%d T=%d' % (B, T))
                g['steps'].append(s)
            path = os.path.join(args.out, 'sal_anet_B%d_T%d.json' % (B, T))
            with open(path, 'w') as fo:
                json.dump(g, fo, separators=(',', ':'))
            print('wrote %s (%d bytes): total loss %.7g; float32 vs float64: %s' % (
                path, os.path.getsize(path), g['steps'][0]['loss']['total'],
                json.dumps(g['steps'][0]['precision_check'], separators=(',', ':'))))


if __name__ == '__main__':
    main()
