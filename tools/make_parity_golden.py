#!/usr/bin/env python3
"""Makes the compact golden files for the whole-step parity test (tests/cpu/test_parity_step.cpp).

Weights and batch come from a deterministic integer-hash formula that the C++ test computes too
(tests/parity_formula.h), so nothing large is stored. The official AICL step runs through
../shared/oracle/official_step.py; we keep the losses, every gradient's norm / max and a few hundred
sampled entries per tensor, sampled CAS entries and the full actionness curves.

  OFFICIAL_AICL=<official repo> /usr/bin/python3 tools/make_parity_golden.py [--oracle ../shared/oracle]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

KEYS = [  # name, shape, fan_in (official state_dict order)
    ('actionness_module.base_module.0.weight', (512, 2048, 3), 2048 * 3),
    ('actionness_module.base_module.0.bias', (512,), 2048 * 3),
    ('actionness_module.cls.0.weight', (20, 512, 1), 512),
    ('actionness_module.cls.0.bias', (20,), 512),
    ('actionness_module.action_module_rgb.0.weight', (512, 1024, 3), 1024 * 3),
    ('actionness_module.action_module_rgb.0.bias', (512,), 1024 * 3),
    ('actionness_module.cls_rgb.weight', (1, 512, 1), 512),
    ('actionness_module.cls_rgb.bias', (1,), 512),
    ('actionness_module.action_module_flow.0.weight', (512, 1024, 3), 1024 * 3),
    ('actionness_module.action_module_flow.0.bias', (512,), 1024 * 3),
    ('actionness_module.cls_flow.weight', (1, 512, 1), 512),
    ('actionness_module.cls_flow.bias', (1,), 512),
]
CASES = [(4, 64, 0), (3, 45, 1), (2, 120, 2)]  # (B, T, seed)
SAMPLES = 256

M32 = np.uint64(0xFFFFFFFF)


def hash_uniform(i, salt):
    """u in [0,1): the same integer hash as tests/parity_formula.h (all arithmetic mod 2^64)."""
    with np.errstate(over='ignore'):
        h = (np.asarray(i, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return (h >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def formula_weights(seed):
    out = {}
    for t, (name, shape, fan_in) in enumerate(KEYS):
        n = int(np.prod(shape))
        u = hash_uniform(np.arange(n, dtype=np.uint64), 1000 * seed + t + 1)
        bound = 1.0 / np.sqrt(float(fan_in))
        out[name] = ((2.0 * u - 1.0) * bound).astype(np.float32).reshape(shape)
    return out


def formula_batch(B, T, seed):
    n = B * T * 2048
    u = hash_uniform(np.arange(n, dtype=np.uint64), 77 + seed).reshape(B, T, 2048)
    x = u * u * 2.0
    labels = np.zeros((B, 20), np.float32)
    for b in range(B):
        c1 = (7 * b + 3 * seed) % 20
        labels[b, c1] = 1
        if b % 2 == 1:
            labels[b, (c1 + 5) % 20] = 1
        # a class-specific bump over a stretch of segments so that selection and MIL are non-trivial
        for c in np.nonzero(labels[b])[0]:
            s = (11 * b + 5 * c) % max(1, T // 2)
            e = min(T, s + T // 3)
            x[b, s:e, (c * 97) % 1024::20] += 1.5          # RGB evidence
            x[b, s + 1:e - 1, 1024 + (c * 53) % 1024::20] += 1.0  # flow evidence
    return x.astype(np.float32), labels


def sample_indices(n, count):
    if n <= count:
        return list(range(n))
    return [(j * 2654435761) % n for j in range(count)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--oracle', default=os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'oracle'))
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'tests', 'golden', 'parity'))
    args = ap.parse_args()
    if 'OFFICIAL_AICL' not in os.environ:
        sys.exit('error: set OFFICIAL_AICL to the official AICL repository')
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for B, T, seed in CASES:
            w = formula_weights(seed)
            x, y = formula_batch(B, T, seed)
            wp, bp, op = (os.path.join(tmp, n) for n in ('w.h5', 'b.h5', 'o.h5'))
            with h5py.File(wp, 'w') as f:
                for k, v in w.items():
                    f.create_dataset(k, data=v)
            with h5py.File(bp, 'w') as f:
                f.create_dataset('features', data=x)
                f.create_dataset('labels', data=y)
            subprocess.run([sys.executable, os.path.join(args.oracle, 'official_step.py'), wp, bp, op], check=True)
            g = {'B': B, 'T': T, 'seed': seed, 'loss': {}, 'grad': {}, 'cas': {}, 'actionness': {}}
            with h5py.File(op, 'r') as f:
                for k in f['loss']:
                    g['loss'][k] = float(f['loss'][k][()])
                for name, _, _ in KEYS:
                    a = f['grad'][name][()].astype(np.float64).ravel()
                    idx = sample_indices(a.size, SAMPLES)
                    g['grad'][name] = {'norm': float(np.linalg.norm(a)), 'max_abs': float(np.abs(a).max()),
                                       'index': idx, 'value': [float(a[i]) for i in idx]}
                cas = f['cas'][()].astype(np.float64).ravel()
                idx = sample_indices(cas.size, 4 * SAMPLES)
                g['cas'] = {'index': idx, 'value': [float(cas[i]) for i in idx],
                            'max_abs': float(np.abs(cas).max())}
                for k in ('class_aware', 'class_agnostic'):
                    g['actionness'][k] = [float(v) for v in f['actionness'][k][()].ravel()]
                g['debug_pseudo_label'] = [int(v) for v in f['debug']['pseudo_label'][()].ravel()]
            path = os.path.join(args.out, 'step_B%d_T%d.json' % (B, T))
            with open(path, 'w') as fo:
                json.dump(g, fo, separators=(',', ':'))
            print('wrote', path, 'total loss', g['loss']['total'])


if __name__ == '__main__':
    main()
