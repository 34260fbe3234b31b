"""Diagnostic (docs/sal-training.md): first- and second-order statistics of the dropout masks a SAL run draws, for
aicl's Philox stream (the numpy replica in tools/sal_official_train.py) and torch's nn.Dropout(0.5), the same
statistics for both: 40 steps x 5 sites of [B=2, T=128, D=512] masks, seed 3.

  /usr/bin/python3 tools/sal_mask_stats.py          (torch optional: without it only aicl's stream is reported)
"""
import importlib.util
import os

import numpy as np

B, T, D, STEPS, SITES, SEED = 2, 128, 512, 40, 5, 3
N = B * T * D


def aicl_masks():
    """[STEPS * SITES, B, T, D] keep masks in draw order (step-major), as kernels/dropout_philox.h draws them."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sal_official_train.py')
    spec = importlib.util.spec_from_file_location('sal_official_train', path)
    sot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sot)
    return np.stack([(sot.philox_uniforms(SEED, step, site, (N + 3) // 4)[:N] < np.float32(0.5)).reshape(B, T, D)
                     for step in range(1, STEPS + 1) for site in range(SITES)]).astype(np.float64)


def torch_masks():
    """The same count of torch's nn.Dropout(0.5) masks on [B, D, T] (the official layout), permuted to [B, T, D]."""
    import torch
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    drop = torch.nn.Dropout(0.5).train()
    x = torch.ones(B, D, T)
    return np.stack([(drop(x) > 0).permute(0, 2, 1).numpy() for _ in range(STEPS * SITES)]).astype(np.float64)


def corr(a, b):
    a, b = a - a.mean(), b - b.mean()
    return (a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean())


def report(name, x):
    """x [STEPS * SITES, B, T, D] in draw order; an independent pair of masks has mean |corr| about 0.8 / sqrt(N)."""
    ms = x.reshape(STEPS, SITES, B, T, D)
    per_ch = x.mean(axis=(0, 1, 2))
    print('%s: keep rate %.5f, per-mask rate std %.5f (binomial %.5f)' % (
        name, x.mean(), x.reshape(len(x), -1).mean(1).std(), 0.5 / np.sqrt(N)))
    print('  mean |corr|: sites of a step %.4f, a site at consecutive steps %.4f (independent: about %.4f)' % (
        np.mean([abs(corr(ms[s, a], ms[s, b])) for s in range(STEPS) for a in range(SITES) for b in range(a + 1, SITES)]),
        np.mean([abs(corr(ms[s, a], ms[s + 1, a])) for s in range(STEPS - 1) for a in range(SITES)]),
        0.8 / np.sqrt(N)))
    print('  corr: channel d vs d+1 %.1e, d vs d+4 %.1e, snippet t vs t+1 %.1e, video 0 vs 1 %.1e' % (
        corr(x[..., :-1], x[..., 1:]), corr(x[..., :-4], x[..., 4:]), corr(x[:, :, :-1], x[:, :, 1:]),
        corr(x[:, 0], x[:, 1])))
    print('  per-channel keep rate over all draws: min %.4f max %.4f std %.5f (binomial %.5f)' % (
        per_ch.min(), per_ch.max(), per_ch.std(), 0.5 / np.sqrt(len(x) * B * T)))


if __name__ == '__main__':
    report('aicl Philox (seed 3)', aicl_masks())
    try:
        import torch
        report('torch %s nn.Dropout (seed 3, MKL %s)' % (torch.__version__, torch.backends.mkl.is_available()),
               torch_masks())
    except ImportError:
        print('torch: not installed, its stream not reported')
