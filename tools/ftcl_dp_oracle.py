#!/usr/bin/env python3
"""The OFFICIAL FTCL dynamic-programming losses (CVPR 2022, MengyuanChen21/CVPR2022-FTCL) on given score matrices.

  ftcl_dp_oracle.py fsd IN.npz OUT.npz          IN: m, g float32 [P,L,L], dvalue [P] -> OUT: value [P], dm, dg
  ftcl_dp_oracle.py lcs IN.npz OUT.npz [--stage-a]   IN: S float32 [P,L,L], dvalue [P] -> OUT: value [P], dS
  ftcl_dp_oracle.py bench [--pairs 16] [--repeat 5] [--threads 2] [--features]

Run with Debian's /usr/bin/python3 (torch 1.13 CPU). Nothing of the official code is copied here: it is loaded at run
time from OFFICIAL_FTCL, a plain checkout or a git directory (`git archive $OFFICIAL_FTCL_REV`, default HEAD, into a
temporary directory removed at exit); default /work/.mirror/MengyuanChen21+CVPR2022-FTCL/repo.

The functions called are the official ones, unchanged:
  - stage B FSD: FTCLLoss.dp_for_fsd(candi_0, candi_1) (utils/ftcl_criterion.py), one call per pair;
  - stage B LCS: FTCLLoss.dp_for_lcs(lcs_candi_0, lcs_candi_1), one call for all pairs;
  - stage A LCS (--stage-a): ACMLoss.dp_for_lcs([[0, 1]], lcs_candi) (utils/net_utils.py), one call per pair (the
    mean over one pair is the pair's value).
with the loss objects built by the official constructors from the official argument defaults (config/model_config.py
build_args: thres 0.92, lcs_len 30, fsd_len 5; the lengths are then set to the L of the input).
CPU shims, set on the loaded modules only: their `torch` name is a proxy whose zeros() drops device="cuda"
(torch.zeros(..., device="cuda") fails without CUDA) and whose tensor() can map a hard-coded dtype=float32 to
another dtype (off here; tools/ftcl_oracle.py --dtype float64 sets it); tqdm is a pass-through when not installed; and their
`get_similarity` is replaced by a feeder that returns the given score matrices in call order (the DP under test
takes score matrices; the cosine itself is not part of these ops). `bench --features` keeps the official
get_similarity and feeds random features instead (L=30, D=2048 for LCS; L=5, D=1024 for FSD), as a training step does.
Gradients are torch autograd's (float32), with dvalue as the seed of each pair's value.
"""
import argparse
import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

import numpy as np

sys.dont_write_bytecode = True

DEFAULT_SOURCE = '/work/.mirror/MengyuanChen21+CVPR2022-FTCL/repo'
_STATE = {}


def die(msg, code=2):
    sys.stderr.write('error: %s\n' % msg)
    sys.exit(code)


def _is_git_dir(p):
    return os.path.isfile(os.path.join(p, 'HEAD')) and os.path.isdir(os.path.join(p, 'objects'))


def official_source():
    """A directory holding the official tree (extracted from a git directory when needed) and its revision."""
    src = os.path.abspath(os.path.expanduser(os.environ.get('OFFICIAL_FTCL') or DEFAULT_SOURCE))
    if not os.path.isdir(src):
        die('OFFICIAL_FTCL=%s: no such directory (point it to the official FTCL repository: a checkout or a git '
            'directory)' % src)
    if os.path.isfile(os.path.join(src, 'utils', 'ftcl_criterion.py')):
        return src, 'working tree'
    gitdir = src if _is_git_dir(src) else os.path.join(src, '.git')
    if not _is_git_dir(gitdir):
        die('OFFICIAL_FTCL=%s: neither a checkout with utils/ftcl_criterion.py nor a git directory' % src)
    rev = os.environ.get('OFFICIAL_FTCL_REV', 'HEAD')
    sha = subprocess.run(['git', '--git-dir', gitdir, 'rev-parse', rev], capture_output=True, text=True).stdout.strip()
    dst = tempfile.mkdtemp(prefix='ftcl_official_')
    atexit.register(shutil.rmtree, dst, True)
    arch = subprocess.Popen(['git', '--git-dir', gitdir, 'archive', rev], stdout=subprocess.PIPE)
    tar = subprocess.run(['tar', '-x', '-C', dst], stdin=arch.stdout)
    arch.stdout.close()
    if arch.wait() != 0 or tar.returncode != 0:
        die('OFFICIAL_FTCL=%s: git archive %s failed' % (src, rev))
    if not os.path.isfile(os.path.join(dst, 'utils', 'ftcl_criterion.py')):
        die('OFFICIAL_FTCL=%s (%s) has no utils/ftcl_criterion.py' % (src, rev))
    return dst, sha or rev


class _TorchCpu(types.ModuleType):
    """The loaded modules' `torch`: the real module, except that zeros(..., device='cuda') makes a CPU tensor."""

    def __init__(self, torch):
        super().__init__('torch')
        self._torch = torch
        self.float32_as = None  # tools/ftcl_oracle.py --dtype float64: the dtype that replaces a hard-coded float32

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def zeros(self, *a, **k):
        if str(k.get('device', 'cpu')).startswith('cuda'):
            k['device'] = 'cpu'
        return self._torch.zeros(*a, **k)

    def tensor(self, *a, **k):
        if self.float32_as is not None and k.get('dtype') is self._torch.float32:
            k['dtype'] = self.float32_as  # assign2Tensor's mask: float32 would round every FSD cell in a double run
        return self._torch.tensor(*a, **k)


class _Feeder(object):
    """Stand-in for get_similarity: returns the queued score matrices in call order (None: the official one)."""

    def __init__(self, official):
        self.official = official
        self.queue = None

    def __call__(self, a, b):
        if self.queue is None:
            return self.official(a, b)
        return self.queue.pop(0)


def load(threads=2):
    """Imports the official config, utils.net_utils and utils.ftcl_criterion with the CPU shims above."""
    if _STATE:
        return _STATE['ns']
    root, rev = official_source()
    os.environ.setdefault('OMP_NUM_THREADS', str(threads))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name, val in (('float', float), ('int', int), ('bool', bool), ('object', object)):
            if not hasattr(np, name):
                setattr(np, name, val)
    import torch
    torch.set_num_threads(threads)
    torch.Tensor.cuda = lambda self, *a, **k: self
    stubbed = []
    try:
        importlib.import_module('tqdm')
    except Exception:
        m = types.ModuleType('tqdm')
        m.tqdm = lambda it=None, *a, **k: it
        sys.modules['tqdm'] = m
        stubbed.append('tqdm')
    sys.path.insert(0, root)
    for pkg in ('config', 'utils', 'model', 'dataset'):
        if os.path.isdir(os.path.join(root, pkg)):
            m = types.ModuleType(pkg)
            m.__path__ = [os.path.join(root, pkg)]
            sys.modules[pkg] = m
    cfg = importlib.import_module('config.model_config')
    nu = importlib.import_module('utils.net_utils')
    crit = importlib.import_module('utils.ftcl_criterion')
    proxy = _TorchCpu(torch)
    feeder = _Feeder(nu.get_similarity)
    for mod in (nu, crit):
        mod.torch = proxy
        mod.get_similarity = feeder
    old = sys.argv
    sys.argv = ['main_thu.py']
    try:
        args = cfg.build_args()
    finally:
        sys.argv = old
    ns = types.SimpleNamespace(torch=torch, cfg=cfg, nu=nu, crit=crit, args=args, feeder=feeder, rev=rev, root=root,
                               stubbed=stubbed,
                               ftcl=crit.FTCLLoss(args), acm=nu.ACMLoss(args))
    _STATE['ns'] = ns
    return ns


def _as_t(O, a, grad=False):
    t = O.torch.tensor(np.ascontiguousarray(a, dtype=np.float32))
    if grad:
        t.requires_grad_(True)
    return t


def fsd(m, g, dvalue, threads=2, features=None):
    """Official FTCLLoss.dp_for_fsd per pair: value [P], dm, dg [P,L,L] (float32 autograd, seeded by dvalue)."""
    O = load(threads)
    P, L = m.shape[0], m.shape[1]
    O.ftcl.fsd_len = L
    value = np.zeros(P, np.float32)
    dm = np.zeros_like(m, dtype=np.float32)
    dg = np.zeros_like(g, dtype=np.float32)
    for p in range(P):
        if features is None:
            mt, gt = _as_t(O, m[p], True), _as_t(O, g[p], True)
            O.feeder.queue = [mt, gt]
            c0 = O.torch.zeros((L, 2))
            c1 = O.torch.zeros((L, 2))
        else:
            O.feeder.queue = None
            c0, c1 = _as_t(O, features[0][p], True), _as_t(O, features[1][p], True)
        v = O.ftcl.dp_for_fsd(c0, c1)
        v.backward(O.torch.tensor(float(dvalue[p]), dtype=O.torch.float32))
        value[p] = v.item()
        if features is None:
            dm[p], dg[p] = mt.grad.numpy(), gt.grad.numpy()
    O.feeder.queue = None
    return value, dm, dg


def lcs(S, dvalue, stage_a=False, threads=2, features=None):
    """Official LCS: stage B FTCLLoss.dp_for_lcs over all pairs; stage A ACMLoss.dp_for_lcs per pair."""
    O = load(threads)
    P, L = S.shape[0], S.shape[1]
    O.ftcl.lcs_len = L
    O.acm.lcs_len = L
    dS = np.zeros_like(S, dtype=np.float32)
    if features is None:
        St = [_as_t(O, S[p], True) for p in range(P)]
    seeds = O.torch.tensor(np.asarray(dvalue, np.float32))
    if not stage_a:
        if features is None:
            O.feeder.queue = list(St)
            c0 = O.torch.zeros((P, L, 2))
            c1 = O.torch.zeros((P, L, 2))
        else:
            O.feeder.queue = None
            c0, c1 = _as_t(O, features[0], True), _as_t(O, features[1], True)
        v = O.ftcl.dp_for_lcs(c0, c1)
        if v.requires_grad:  # no match in any pair: the official value carries no graph (zero gradient)
            (v * seeds).sum().backward()
        value = v.detach().numpy().astype(np.float32)
    else:
        value = np.zeros(P, np.float32)
        for p in range(P):
            if features is None:
                O.feeder.queue = [St[p]]
                cand = O.torch.zeros((2, L, 2))
            else:
                O.feeder.queue = None
                cand = _as_t(O, np.stack([features[0][p], features[1][p]]), True)
            v = O.acm.dp_for_lcs([[0, 1]], cand)
            if v.requires_grad:
                v.backward(seeds[p])
            value[p] = v.item()
    O.feeder.queue = None
    if features is None:
        for p in range(P):
            if St[p].grad is not None:
                dS[p] = St[p].grad.numpy()
    return value, dS


def bench(pairs=16, repeat=5, threads=2, with_features=False, seed=0):
    """Median seconds of the official forward+backward of a P-pair batch: FSD (L=5), LCS (L=30), LCS stage A."""
    O = load(threads)
    rng = np.random.RandomState(seed)
    out = {}
    # About a third of the cells above the threshold, as in a trained model's candidate sets.
    S = rng.uniform(0.6, 1.0, (pairs, 30, 30)).astype(np.float32)
    Sa = rng.uniform(0.95, 1.0, (pairs, 30, 30)).astype(np.float32)
    m = rng.uniform(-1, 1, (pairs, 5, 5)).astype(np.float32)
    g = rng.uniform(-1, 1, (pairs, 5, 5)).astype(np.float32)
    dv = rng.uniform(-1, 1, pairs).astype(np.float32)
    feats = None
    if with_features:
        feats = {'lcs': (rng.rand(pairs, 30, 2048).astype(np.float32), rng.rand(pairs, 30, 2048).astype(np.float32)),
                 'fsd': (rng.rand(pairs, 5, 1024).astype(np.float32), rng.rand(pairs, 5, 1024).astype(np.float32))}
    jobs = (('fsd', lambda: fsd(m, g, dv, threads, feats and feats['fsd'])),
            ('lcs', lambda: lcs(S, dv, False, threads, feats and feats['lcs'])),
            ('lcs_stage_a', lambda: lcs(Sa, dv, True, threads, feats and feats['lcs'])))
    for name, fn in jobs:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = sorted(times)[len(times) // 2]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--threads', type=int, default=2)
    sub = p.add_subparsers(dest='cmd', required=True)
    pf = sub.add_parser('fsd')
    pf.add_argument('inp')
    pf.add_argument('out')
    pl = sub.add_parser('lcs')
    pl.add_argument('inp')
    pl.add_argument('out')
    pl.add_argument('--stage-a', action='store_true')
    pb = sub.add_parser('bench')
    pb.add_argument('--pairs', type=int, default=16)
    pb.add_argument('--repeat', type=int, default=5)
    pb.add_argument('--features', action='store_true')
    a = p.parse_args()
    if a.cmd == 'fsd':
        d = np.load(a.inp)
        v, dm, dg = fsd(d['m'], d['g'], d['dvalue'], a.threads)
        np.savez(a.out, value=v, dm=dm, dg=dg)
    elif a.cmd == 'lcs':
        d = np.load(a.inp)
        v, dS = lcs(d['S'], d['dvalue'], a.stage_a, a.threads)
        np.savez(a.out, value=v, dS=dS)
    else:
        r = bench(a.pairs, a.repeat, a.threads, a.features)
        O = load(a.threads)
        print('official (%s, torch %s, %d threads), %d pairs, forward+backward, median of %d%s:' % (
            O.rev[:12], O.torch.__version__, a.threads, a.pairs, a.repeat,
            ', with the official get_similarity on random features' if a.features else ', DP only'))
        for k, v in r.items():
            print('  %-12s %10.3f ms' % (k, v * 1e3))


if __name__ == '__main__':
    main()
