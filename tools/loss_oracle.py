#!/usr/bin/env python3
"""Prints reference values of the OFFICIAL AICL losses (float64 and float32) on formula inputs, for tests/cpu.

The inputs are closed-form (sin of the flat index), rebuilt identically by tests/cpu/test_losses.cpp and
tests/cpu/test_infonce.cpp; the official CrossEntropyLoss, GeneralizedCE(q=0.7) and ContrastiveLoss(.NCE) are run
on them through /work/shared/oracle/aicl_official.py. Never needed by CI.
  export OFFICIAL_AICL=/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo
  /usr/bin/python3 tools/loss_oracle.py
"""
import math
import os
import sys

sys.path.insert(0, os.environ.get('AICL_ORACLE_DIR', '/work/shared/oracle'))
import aicl_official  # noqa: E402


def ce_inputs(np):
    B, C = 3, 20
    logits = np.array([2 * math.sin(0.37 * i + 0.5) for i in range(B * C)]).reshape(B, C)
    labels = np.zeros((B, C))
    labels[0, 3] = 1
    labels[1, 0] = labels[1, 19] = 1
    labels[2, 5] = labels[2, 6] = labels[2, 7] = 1
    return logits, labels


def gce_inputs(np):
    B, T = 3, 50
    p = np.array([0.5 + 0.49 * math.sin(0.91 * i + 0.2) for i in range(B * T)]).reshape(B, T)
    y = np.array([1.0 if (i * 7) % 5 < 2 else 0.0 for i in range(B * T)]).reshape(B, T)
    y[2, :] = 0  # a video with an empty pseudo label: the 1e-7 keeps the first term finite (0)
    return p, y


def infonce_inputs(np):
    B, T, D, k = 2, 30, 8, 3
    emb = np.array([max(0.0, math.sin(0.53 * i + 0.1)) for i in range(B * T * D)]).reshape(B, T, D)
    idx = np.zeros((4, B, k), dtype=np.int64)  # CA, CB, IA, IB
    for g in range(4):
        for b in range(B):
            for j in range(k):
                idx[g, b, j] = (b * 5 + j * 7 + g * 3) % T
    idx[2, 1, 2] = idx[2, 1, 0]  # a repeated index
    return emb, idx, k


def main():
    O = aicl_official.load(threads=2, quiet=True)
    np, torch = O.np, O.torch
    for dtype in (torch.float64, torch.float32):
        logits, labels = ce_inputs(np)
        ce = O.loss.CrossEntropyLoss()(torch.tensor(logits, dtype=dtype), torch.tensor(labels, dtype=dtype))
        p, y = gce_inputs(np)
        gce = O.loss.GeneralizedCE(q=0.7)(torch.tensor(p, dtype=dtype), torch.tensor(y, dtype=dtype))
        emb, idx, k = infonce_inputs(np)
        e = torch.tensor(emb, dtype=dtype)
        gathered = {n: torch.gather(e, 1, torch.tensor(idx[g]).unsqueeze(2).expand(-1, -1, e.shape[2]))
                    for g, n in enumerate(('CA', 'CB', 'IA', 'IB'))}
        closs = O.main.ContrastiveLoss()
        m = {n: torch.mean(v, 1) for n, v in gathered.items()}
        terms = [closs.NCE(m['IA'], m['CA'], gathered['CB']), closs.NCE(m['IB'], m['CB'], gathered['CA']),
                 closs.NCE(m['CA'], m['IA'], gathered['CB']), closs.NCE(m['CB'], m['IB'], gathered['CA'])]
        total = closs(gathered)
        print('%s: ce %.17g  gce %.17g  infonce %.17g  terms %s' % (
            dtype, ce.item(), gce.item(), total.item(), ' '.join('%.17g' % t.item() for t in terms)))


if __name__ == '__main__':
    main()
