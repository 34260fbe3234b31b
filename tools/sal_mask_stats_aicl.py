# Diagnostic (docs/sal-training.md): first/second-order statistics of aicl's Philox dropout masks (numpy replica in
# tools/sal_official_train.py), seed 3, steps 1-40, five sites. Run from the repo root: /usr/bin/python3 tools/sal_mask_stats_aicl.py
import sys, numpy as np
sys.argv = ['x']
sys.path.insert(0, 'tools')
import importlib.util
spec = importlib.util.spec_from_file_location('sot', 'tools/sal_official_train.py'); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
B, T, D = 2, 128, 512
n = B * T * D
def mask(seed, step, site):
    u = m.philox_uniforms(seed, step, site, (n + 3) // 4)[:n]
    return (u < np.float32(0.5)).reshape(B, T, D).astype(np.float64)
seed = 3
ms = {(st, si): mask(seed, st, si) for st in range(1, 41) for si in range(5)}
allm = np.stack(list(ms.values()))
print('keep rate', allm.mean(), 'std of per-mask rate', allm.reshape(len(ms), -1).mean(1).std(), 'expected', 0.5 / np.sqrt(n))
def corr(a, b): a = a - a.mean(); b = b - b.mean(); return (a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean())
print('site pairs same step', np.mean([abs(corr(ms[(st, a)], ms[(st, b)])) for st in range(1, 41) for a in range(5) for b in range(a + 1, 5)]))
print('same site consecutive steps', np.mean([abs(corr(ms[(st, a)], ms[(st + 1, a)])) for st in range(1, 40) for a in range(5)]))
x = allm
print('d vs d+1', corr(x[..., :-1], x[..., 1:]), 'd vs d+4', corr(x[..., :-4], x[..., 4:]), 't vs t+1', corr(x[:, :, :-1], x[:, :, 1:]), 'b0 vs b1', corr(x[:, 0], x[:, 1]))
# per-channel keep rate over a whole epoch of steps (a unit dropped far more often than others would be a bias)
per_ch = x.mean(axis=(0, 1, 2))
print('per-channel keep rate: min %.4f max %.4f std %.5f expected std %.5f' % (per_ch.min(), per_ch.max(), per_ch.std(), 0.5 / np.sqrt(x.shape[0] * B * T)))
# seeds differ
print('seed 3 vs 4 same step/site', abs(corr(mask(3, 5, 0), mask(4, 5, 0))))
