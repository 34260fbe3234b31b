#!/usr/bin/env python3
"""Tie-order oracle for AICL's index-producing ops: runs the OFFICIAL code (torch CPU) on tie-heavy inputs.

Generates deterministic tie-heavy cases whose inputs are exact float32 values encoded as base-36 "level" strings,
runs the official selection code on them, and writes the inputs and torch's index outputs:
  * snip: a1, a2 [B,T] = level/16; the official np.median binarisation (as in AICL.forward) and the official
          AICL.consistency_snippets_mining1 / Inconsistency_snippets_mining1 with an embedding whose row t holds t,
          so the gathered rows ARE the selected indices; k = T (the full sort order) or T//20.
  * topk: cas [B,T,20] rows taken from a few fixed prototypes (so combined values tie exactly), flow, rgb = level/16;
          the official instance_selection_function(softmax(cas), flow, rgb), torch.topk(k=T//8, dim=1) and the mean of
          the raw gathered cas, as in ThumosTrainer.forward_pass.
Usage (needs /usr/bin/python3 with torch and OFFICIAL_AICL, never needed by CI):
  export OFFICIAL_AICL=/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo
  /usr/bin/python3 tools/selection_tie_oracle.py --out /tmp/ties.txt [--cases 100]
  g++ -O2 -std=c++17 -fopenmp -I. tools/check_selection_ties.cpp kernels/snippet_select.cpu.cpp \
      kernels/topk_mil.cpu.cpp -o /tmp/check_ties && /tmp/check_ties /tmp/ties.txt
  /usr/bin/python3 tools/selection_tie_oracle.py --emit-test   # the small cases written into the Catch2 tests
"""
import argparse
import os
import sys

sys.path.insert(0, os.environ.get('AICL_ORACLE_DIR', '/work/shared/oracle'))
import aicl_official  # noqa: E402

DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
NUM_CLASSES = 20
NUM_PROTOTYPES = 5


def encode(levels):
    return ''.join(DIGITS[int(v)] for v in levels)


def prototype_cas(np, proto, c):
    # exact float32 values, shared with tools/check_selection_ties.cpp and the tests
    return np.float32(((proto * 7 + c * 3) % 11) / 4.0 - 1.25)


def snip_case(O, rng, B, T, levels, full):
    np, torch = O.np, O.torch
    l1 = rng.integers(0, levels, size=(B, T))
    l2 = rng.integers(0, levels, size=(B, T))
    a1 = torch.from_numpy((l1 / 16.0).astype(np.float32))
    a2 = torch.from_numpy((l2 / 16.0).astype(np.float32))
    # official binarisation (AICL.forward): np.median over time, strict '>'
    n1 = a1.numpy()
    bin1 = np.where(n1 > np.median(n1, 1, keepdims=True), 1.0, 0.0)
    n2 = a2.numpy()
    bin2 = np.where(n2 > np.median(n2, 1, keepdims=True), 1.0, 0.0)
    k = T if full else T // 20
    emb = torch.arange(T, dtype=torch.float32).view(1, T, 1).expand(B, T, 1).contiguous()
    net = O.model.AICL(None)
    CA, CB = net.consistency_snippets_mining1(bin1, bin2, a1, emb, k)
    IA, IB = net.Inconsistency_snippets_mining1(bin1, bin2, a1, emb, k)
    out = [x[:, :, 0].long().numpy() for x in (CA, CB, IA, IB)]
    return {'kind': 'snip', 'B': B, 'T': T, 'k': k, 'inputs': [l1, l2], 'outputs': out}


def topk_case(O, rng, B, T, levels):
    np, torch = O.np, O.torch
    lp = rng.integers(0, NUM_PROTOTYPES, size=(B, T))
    lf = rng.integers(0, levels, size=(B, T))
    lr = rng.integers(0, levels, size=(B, T))
    table = np.array([[prototype_cas(np, p, c) for c in range(NUM_CLASSES)] for p in range(NUM_PROTOTYPES)],
                     dtype=np.float32)
    cas = torch.from_numpy(table[lp])                                   # B,T,C
    flow = torch.from_numpy((lf / 16.0).astype(np.float32)).unsqueeze(1)  # B,1,T as the model outputs it
    rgb = torch.from_numpy((lr / 16.0).astype(np.float32)).unsqueeze(1)
    combined = O.misc.instance_selection_function(torch.softmax(cas, -1), flow.permute(0, 2, 1),
                                                  rgb.permute(0, 2, 1))
    k = T // 8
    _, idx = torch.topk(combined, k, dim=1)
    cas_top = torch.mean(torch.gather(cas, 1, idx), dim=1)
    return {'kind': 'topk', 'B': B, 'T': T, 'k': k, 'inputs': [lp, lf, lr], 'outputs': [idx.numpy()],
            'combined': combined.numpy(), 'cas_top': cas_top.numpy()}


def make_cases(O, ncases, seed):
    np = O.np
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(ncases):
        T = (64, 128, 750, 21, 41)[i % 5]
        levels = int(rng.integers(2, 9))
        cases.append(snip_case(O, rng, 2, T, levels, full=(i % 2 == 0)))
        cases.append(topk_case(O, rng, 2, T, levels))
    return cases


def write_cases(path, cases):
    with open(path + '.tmp', 'w') as f:
        f.write('%d\n' % len(cases))
        for c in cases:
            f.write('%s %d %d %d\n' % (c['kind'], c['B'], c['T'], c['k']))
            for arr in c['inputs']:
                for row in arr:
                    f.write(encode(row) + '\n')
            for arr in c['outputs']:
                f.write(' '.join(str(int(v)) for v in arr.reshape(-1)) + '\n')
            if c['kind'] == 'topk':
                f.write(' '.join(float(v).hex() for v in c['combined'].reshape(-1)) + '\n')
                f.write(' '.join(float(v).hex() for v in c['cas_top'].reshape(-1)) + '\n')
    os.replace(path + '.tmp', path)


def emit_test(O):
    """Prints C++ initialisers for a few small cases (B=1 or 2, T=64/41/128) for tests/cpu/*.cpp."""
    np = O.np
    rng = np.random.default_rng(20261124)
    for T, levels, full in ((64, 3, False), (41, 4, False), (128, 5, False), (64, 3, True)):
        c = snip_case(O, rng, 2, T, levels, full=full)
        print('// snip T=%d k=%d' % (T, c['k']))
        print('{%d, %d, {%s}, {%s}, {%s}},' % (
            T, c['k'], ', '.join('"%s"' % encode(r) for r in c['inputs'][0]),
            ', '.join('"%s"' % encode(r) for r in c['inputs'][1]),
            ', '.join('{%s}' % ', '.join(str(int(v)) for v in o.reshape(-1)) for o in c['outputs'])))
    for T, levels in ((64, 3), (41, 2)):
        c = topk_case(O, rng, 2, T, levels)
        print('// topk T=%d k=%d' % (T, c['k']))
        print('{%d, %d, {%s}, {%s}, {%s}, {%s}},' % (
            T, c['k'], ', '.join('"%s"' % encode(r) for r in c['inputs'][0]),
            ', '.join('"%s"' % encode(r) for r in c['inputs'][1]),
            ', '.join('"%s"' % encode(r) for r in c['inputs'][2]),
            ', '.join(str(int(v)) for v in c['outputs'][0].reshape(-1))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', help='write all cases here')
    p.add_argument('--cases', type=int, default=100, help='cases per kind')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--emit-test', action='store_true')
    a = p.parse_args()
    O = aicl_official.load(threads=2, quiet=True)
    if a.emit_test:
        emit_test(O)
    if a.out:
        write_cases(a.out, make_cases(O, a.cases, a.seed))


if __name__ == '__main__':
    main()
