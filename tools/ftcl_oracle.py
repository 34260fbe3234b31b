#!/usr/bin/env python3
"""One OFFICIAL FTCL training step (CVPR 2022, MengyuanChen21/CVPR2022-FTCL), stage A or B, on given weights and batch.

  ftcl_oracle.py step --stage a|b WEIGHTS.h5 BATCH.h5 OUT.h5 [--dtype float32|float64] [--threads 2]
                      [--pair-seed 0] [--fd-check]
  ftcl_oracle.py make-inputs WEIGHTS.h5 BATCH.h5 --stage a --B N --T T --seed S
  ftcl_oracle.py make-inputs WEIGHTS.h5 BATCH.h5 --stage b --P N --T T --seed S

Nothing of the official code is copied here: it is loaded at run time by tools/ftcl_dp_oracle.py's loader
(OFFICIAL_FTCL, a checkout or a git directory, `git archive $OFFICIAL_FTCL_REV`, default HEAD, into a temporary
directory removed at exit; default /work/.mirror/MengyuanChen21+CVPR2022-FTCL/repo). See docs/ftcl-oracle.md.
Missing third-party modules are stubbed by that loader (tqdm: a pass-through); wandb is never imported.

The step IS the official train_thu.train(args, model, dataloader, pair_dataloader, criterion, optimizer), with:
  - args: the official config.model_config.build_args(dataset="THUMOS") on the command line `main_thu.py` (stage A) or
    `main_thu.py --ftcl` (stage B), as main_thu.py builds it; args.device = cpu;
  - model: the official model/ACMNet.ACMNet(args) (stage A) or model/FTCLNet.FTCLNet(args) (stage B), loaded from
    WEIGHTS.h5 (load_state_dict strict), every nn.Dropout at p = 0 (the snippet dropout r and the element-wise
    dropout of spec 1.2 step 4 become the identity), train mode (the official train() sets it);
  - criterion: the official utils/net_utils.ACMLoss(args) (stage A) or utils/ftcl_criterion.FTCLLoss(args) (stage B);
  - the data loaders: a one-element list yielding the batch ((features, labels) for stage A; (features0, features1,
    labels0, labels1) for stage B);
  - the optimizer: a stand-in. zero_grad() clears the gradients; step() (reached only when the loss is not NaN) checks
    that it is called from the official train(), then records the gradients. The weights never change.
  - stage A's negative pairs: the official generate_pairs() draws them with random.sample(neg_candidates, n_pos); the
    module's `random` is replaced during the step by a stand-in whose sample() returns BATCH.h5's neg_pairs (checked
    to be n_pos distinct official candidates) or, without them, Python's random.Random(--pair-seed).sample(...).
  - float64 (--dtype float64): model, batch and torch's default dtype are float64 for the step, so that the
    official torch.zeros(...) DP tables and loss vectors are double too (otherwise FSD/LCS values would be rounded to
    float32 when stored into them), and the official modules' torch.tensor(..., dtype=torch.float32) is float64:
    assign2Tensor's float32 mask times a 0-dim double value is float32 under torch's promotion rules, which would
    round every FSD cell to float32.
Loss terms are recorded by forward hooks on the model and the criterion and by recording wrappers (instance attributes)
of the criterion's get_lcs_loss / get_fsd_loss (and, stage B, forward_once, dp_for_lcs, dp_for_fsd). The official
total is then re-evaluated from the terms and must agree (total_minus_formula).

BATCH.h5, stage A: features float [B,T,2048] (non-negative in practice), labels {0,1} [B,20] with >= 1 positive per
  video, optional pos_pairs / neg_pairs int [n,2] (pos_pairs must equal the official in-batch rule's list; neg_pairs
  must be n_pos distinct official negative candidates). Stage B: features0, features1 [P,T,2048], labels0, labels1
  [P,20], optional pair_label [P] (must equal the official sum(labels0*labels1) > 0). T >= 30 (lcs_len).
WEIGHTS.h5: root datasets named by the official state_dict keys (KEYS below; other root datasets/attributes ignored).

OUT.h5 (float32, or float64 with --dtype float64):
  loss/total, loss/{cls_ins, cls_con, cls_bak, guide, feat, sparse, lcs, fsd}: unweighted terms;
    stage A: total = cls_ins + cls_con + cls_bak + 2e-3*guide + 5e-5*feat + 2e-4*sparse + 0.1*lcs + 0.8*fsd with
      lcs = mean_neg LCS' - mean_pos LCS' (LCS' the stage-A scaled LCS), fsd = mean_neg FSD(act_i, bak_j) - mean_pos
      FSD(act_i, act_j); lcs = fsd = 0 when the batch has no positive pair;
    stage B: the six ACM terms are the means of the two sides (loss/side0/*, loss/side1/* hold each side), lcs =
      sum_neg LCS/(n_neg+1e-10) - sum_pos LCS/(n_pos+1e-10), fsd likewise with FSD(act0,act1) for positive and
      FSD(act0, bak1) for negative pairs; total = the same formula (the official ((acm0 + acm1)/2 + 0.1 lcs + 0.8 fsd)).
  grad/<key> for every parameter (all zero when the step was skipped: skipped_nan = 1; a parameter the backward did
    not reach has grad None in torch, written as zeros and named in the attribute grad_none);
  cas: the instance-branch class probabilities softmax(Z * a_ins) [B,T,21] (stage B: side 0);
  debug[/side0|/side1]/{att [B,T,3], p_ins, p_con, p_bak [B,21], feat_norms [B,3] (|f_ins|, |f_con|, |f_bak|),
    att_order [B,T,3] (descending torch.sort order of each attention channel), lcs_idx [B,30], fsd_act_idx,
    fsd_bak_idx [B,5] (time-sorted candidate snippets)};
  stage A: pairs/pos, pairs/neg int64 [n,2] (the pairs the step used), dp/{pos_lcs, neg_lcs, pos_fsd, neg_fsd} (per
    pair, recomputed afterwards by the official dp functions on one pair each); stage B: pair_label [P],
    dp/{lcs, fsd} [P] (the official per-pair values of the step);
  root attributes: stage, B or P, T, dtype, skipped_nan, total_minus_formula, seconds, official, torch, and selection
    diagnostics: gap_att / gap_cas (the smallest gap between the k-th and (k+1)-th value of every top-k the step takes:
    attention k_ins, k_con, k_bak and the instance ranks 5, 10, 30; Z_b per class at k_b), lcs_margin (min |S - 0.92|,
    stage A |5 max(0, S - 0.8) - 0.92|, over the compared pairs' cells), lcs_matches, lcs_nan_cells, zero_rows
    (candidate rows with norm 0: NaN cosines, Q16).

What a C++ reimplementation must match (observed in the official step, besides ../shared/specs/ftcl.md):
  - a NaN total skips backward and step (Q14): gradients zero, no update; OUT.h5 then has skipped_nan = 1;
  - stage A: lcs and fsd are both exactly 0 (no DP, no gradient) when the batch has no positive pair (even if
    --without_* is not given); feature_trans then gets no gradient at all (grad None: torch's Adam skips a parameter
    whose grad is None, weight decay included, but torch 1.x's zero_grad() leaves zeros once a gradient existed, and
    Adam then steps it with g = 0 + weight_decay * w); negatives are sampled down to n_pos, so a batch with
    fewer negative candidates than positives makes the official random.sample raise (the oracle refuses such a batch);
  - stage A positives need sum(y_i*y_j) == 1 AND y_i == y_j: two identical two-label videos form neither a positive
    nor (sharing classes) a negative;
  - stage B ignores any given pair label: the official one is recomputed as sum(y0*y1) > 0 (any shared class);
  - the ACM log epsilon is 1e-45 in stage A (ACMLoss) and 1e-10 in stage B (FTCLLoss) (Q7);
  - stage A loss_dict's lcs_loss / fsd_loss are the WEIGHTED terms (0.1 lcs, 0.8 fsd); OUT.h5 keeps them unweighted.
"""
import argparse
import contextlib
import importlib
import io
import os
import random
import sys
import time

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ftcl_dp_oracle  # noqa: E402  (the official-code loader and its CPU shims)
import sal_oracle  # noqa: E402  (atomic_h5, _open_h5, write_formula_weights)

die = ftcl_dp_oracle.die
FEATURE_DIM = 2048
NUM_CLASSES = 20
LCS_LEN = 30
FSD_LEN = 5
# name, shape, fan_in: the official state_dict order of ACMNet(args) / FTCLNet(args) on THUMOS
KEYS = [
    ('feature_embedding.0.weight', (2048, 2048, 3), 2048 * 3),
    ('feature_embedding.0.bias', (2048,), 2048 * 3),
    ('att_branch.weight', (3, 2048, 1), 2048),
    ('att_branch.bias', (3,), 2048),
    ('snippet_cls.weight', (21, 2048), 2048),
    ('snippet_cls.bias', (21,), 2048),
    ('feature_trans.weight', (1024, 2048), 2048),
    ('feature_trans.bias', (1024,), 2048),
]
ACM_TERMS = ('cls_ins', 'cls_con', 'cls_bak', 'guide', 'feat', 'sparse')
TERMS = ACM_TERMS + ('lcs', 'fsd')
LOSS_NAMES = ('total',) + TERMS
OFFICIAL_DICT = {'cls_ins': 'act_inst_loss', 'cls_con': 'act_cont_loss', 'cls_bak': 'act_back_loss',
                 'guide': 'guide_loss', 'feat': 'feat_loss', 'sparse': 'sparse_loss'}
_STATE = {}


# ----------------------------------------------------------------------------- loading the official code

def load(threads=2):
    """The official modules through ftcl_dp_oracle.load (config, utils.net_utils, utils.ftcl_criterion with its CPU
    shims), plus model.ACMNet, model.FTCLNet and train_thu."""
    if _STATE:
        return _STATE['ns']
    O = ftcl_dp_oracle.load(threads)
    O.torch.nn.Module.cuda = lambda self, *a, **k: self
    O.ACMNet = importlib.import_module('model.ACMNet').ACMNet
    O.FTCLNet = importlib.import_module('model.FTCLNet').FTCLNet
    O.train_thu = importlib.import_module('train_thu')
    _STATE['ns'] = O
    return O


def official_args(O, stage):
    """The official args of main_thu.py (build_args(dataset="THUMOS")), with --ftcl for stage B."""
    old = sys.argv
    sys.argv = ['main_thu.py'] + (['--ftcl'] if stage == 'b' else [])
    try:
        args = O.cfg.build_args(dataset='THUMOS')
    finally:
        sys.argv = old
    args.device = O.torch.device('cpu')
    return args


# ----------------------------------------------------------------------------- files

def read_weights(path, net):
    """WEIGHTS.h5 into the official model (strict): tools/sal_oracle.py's loader, with FTCL named in its errors."""
    sal_oracle.load_weights(path, net, 'FTCL', _STATE['ns'].torch)


def _dataset(f, path, name, ndim, kind='f', required=True):
    import h5py
    if name not in f or not isinstance(f[name], h5py.Dataset):
        if required:
            die('%s: missing dataset %r' % (path, name))
        return None
    ds = f[name]
    if len(ds.shape) != ndim:
        die('%s: %s has shape %s, expected %d dimensions' % (path, name, tuple(ds.shape), ndim))
    if kind == 'f' and ds.dtype.kind not in 'fiub':
        die('%s: %s has type %s, expected numbers' % (path, name, ds.dtype))
    if kind == 'i' and ds.dtype.kind not in 'iu':
        die('%s: %s has type %s, expected integers' % (path, name, ds.dtype))
    return ds[()]


def _check_features(path, name, x, y):
    if x.shape[2] != FEATURE_DIM:
        die('%s: %s has shape %s, expected [N,T,%d]' % (path, name, x.shape, FEATURE_DIM))
    if x.shape[0] < 1:
        die('%s: %s is empty' % (path, name))
    T = x.shape[1]
    if T < LCS_LEN:
        die('%s: T=%d is below %d: the official LCS takes the top-%d snippets (lcs_len)' % (path, T, LCS_LEN, LCS_LEN))
    if not np.isfinite(x).all():
        die('%s: %s holds NaN or inf' % (path, name))
    if y.shape != (x.shape[0], NUM_CLASSES):
        die('%s: %s has shape %s, expected [%d,%d]' % (path, name.replace('features', 'labels'), y.shape, x.shape[0],
                                                        NUM_CLASSES))
    if not np.all((y == 0) | (y == 1)):
        die('%s: %s must hold only 0 and 1' % (path, name.replace('features', 'labels')))
    if (y.sum(1) < 1).any():
        die('%s: every video needs at least one positive label (the official class targets divide by the label '
            'sum)' % path)


def read_batch(path, stage):
    """The batch of one stage as numpy arrays (float32 features/labels; int64 pairs), checked."""
    with sal_oracle._open_h5(path, 'batch') as f:
        if stage == 'a':
            for k in ('features0', 'features1'):
                if k in f:
                    die('%s: holds %s: a stage-B batch (use --stage b)' % (path, k))
            x = _dataset(f, path, 'features', 3)
            y = _dataset(f, path, 'labels', 2)
            pos = _dataset(f, path, 'pos_pairs', 2, 'i', False)
            neg = _dataset(f, path, 'neg_pairs', 2, 'i', False)
        else:
            if 'features' in f and 'features0' not in f:
                die('%s: holds features but no features0/features1: a stage-A batch (use --stage a)' % path)
            x0 = _dataset(f, path, 'features0', 3)
            x1 = _dataset(f, path, 'features1', 3)
            y0 = _dataset(f, path, 'labels0', 2)
            y1 = _dataset(f, path, 'labels1', 2)
            pl = _dataset(f, path, 'pair_label', 1, 'f', False)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    if stage == 'a':
        x, y = f32(x), f32(y)
        _check_features(path, 'features', x, y)
        B = x.shape[0]
        pairs = {}
        for name, p in (('pos_pairs', pos), ('neg_pairs', neg)):
            if p is None:
                continue
            if p.shape[1:] != (2,):
                die('%s: %s has shape %s, expected [n,2]' % (path, name, p.shape))
            if p.size and (p.min() < 0 or p.max() >= B):
                die('%s: %s holds a video index outside 0..%d' % (path, name, B - 1))
            pairs[name] = [[int(a), int(b)] for a, b in p]
        return {'features': x, 'labels': y, 'pairs': pairs}
    x0, x1, y0, y1 = f32(x0), f32(x1), f32(y0), f32(y1)
    _check_features(path, 'features0', x0, y0)
    if x1.shape != x0.shape:
        die('%s: features1 has shape %s, features0 %s: they must be equal' % (path, x1.shape, x0.shape))
    _check_features(path, 'features1', x1, y1)
    official = ((y0 * y1).sum(1) > 0).astype(np.float32)
    if pl is not None:
        if pl.shape != (x0.shape[0],):
            die('%s: pair_label has shape %s, expected [%d]' % (path, pl.shape, x0.shape[0]))
        if not np.array_equal(np.asarray(pl, np.float64), official.astype(np.float64)):
            bad = int(np.nonzero(np.asarray(pl, np.float64) != official)[0][0])
            die('%s: pair_label[%d] = %g but the official pair label (labels0 and labels1 share a class) is %g' % (
                path, bad, float(pl[bad]), official[bad]))
    return {'features0': x0, 'features1': x1, 'labels0': y0, 'labels1': y1, 'pair_label': official}


# ----------------------------------------------------------------------------- the official step

class _PairSampler(object):
    """Stand-in for utils.net_utils.random during the step: sample(population, k) returns the injected negative pairs,
    or random.Random(seed).sample(population, k) (the official function on a seeded RNG)."""

    def __init__(self, neg, seed):
        self.neg = neg
        self.rng = random.Random(seed)
        self.calls = []
        self.returned = []

    def sample(self, population, k):
        self.calls.append((list(population), k))
        out = self.rng.sample(population, k) if self.neg is None else [list(p) for p in self.neg]
        self.returned.append([list(p) for p in out])
        return out


def official_pairs(O, y):
    """The official generate_pairs() on labels y: (positive pairs, negative candidates), the sampling captured."""
    nu = O.nu
    cap = _PairSampler(None, 0)
    saved = nu.random
    nu.random = cap
    try:
        pos, _ = nu.generate_pairs(O.torch.from_numpy(y))
    except ValueError as e:
        die('the official generate_pairs failed: %s' % e)
    finally:
        nu.random = saved
    return pos, cap.calls[0][0]


def check_stage_a_pairs(O, path, y, given, pair_seed):
    """The positive and the negative pairs of a stage-A step; given pairs are checked against the official rule."""
    pos, cand = official_pairs(O, y)
    if 'pos_pairs' in given and given['pos_pairs'] != pos:
        die('%s: pos_pairs %s differ from the official in-batch positives %s (i<j, same single class)' % (
            path, given['pos_pairs'], pos))
    if len(cand) < len(pos):
        die('%s: %d positive pairs but only %d negative candidates: the official random.sample(neg, n_pos) raises' % (
            path, len(pos), len(cand)))
    if 'neg_pairs' in given:
        neg = given['neg_pairs']
        if len(neg) != len(pos):
            die('%s: %d neg_pairs, expected %d (the official draws as many negatives as positives)' % (
                path, len(neg), len(pos)))
        for p in neg:
            if p not in cand:
                die('%s: neg_pairs %s is not an official negative candidate (i<j with disjoint labels)' % (path, p))
        if len(set(map(tuple, neg))) != len(neg):
            die('%s: neg_pairs holds a pair twice (random.sample draws distinct pairs)' % path)
        return pos, neg, None
    return pos, None, pair_seed


class _StandInOptimizer(object):
    """zero_grad() clears the gradients; step() checks its caller is the official train() and records them."""

    def __init__(self, net, code):
        self.net = net
        self.code = code
        self.steps = []
        self.none = []

    def zero_grad(self, *a, **k):
        for p in self.net.parameters():
            p.grad = None

    def step(self, *a, **k):
        frame = sys._getframe(1)
        if frame.f_code is not self.code:
            die('the official train() loop changed: optimizer.step() called from %s' % frame.f_code.co_name, 3)
        self.none = [n for n, p in self.net.named_parameters() if p.grad is None]
        self.steps.append({n: p.grad.detach().clone() if p.grad is not None else p.detach().new_zeros(p.shape)
                           for n, p in self.net.named_parameters()})


@contextlib.contextmanager
def _default_dtype(torch, dt):
    """torch's default dtype = dt, and (dt float64) the official modules' torch.tensor(..., dtype=torch.float32) made
    double too (ftcl_dp_oracle's proxy): assign2Tensor's float32 mask times a 0-dim double new_val is float32 by torch's
    promotion rules, which would round every FSD cell to float32 in a double run."""
    old = torch.get_default_dtype()
    proxy = _STATE['ns'].nu.torch
    old_as = proxy.float32_as
    torch.set_default_dtype(dt)
    proxy.float32_as = dt if dt == torch.float64 else None
    try:
        yield
    finally:
        torch.set_default_dtype(old)
        proxy.float32_as = old_as


def run_official(O, stage, net, batch, tdt, neg_pairs, pair_seed):
    """One call of the official train() on the batch; returns the records (losses, outputs, gradients)."""
    torch = O.torch
    args = official_args(O, stage)
    criterion = O.nu.ACMLoss(args) if stage == 'a' else O.crit.FTCLLoss(args)
    rec = {'model': [], 'crit': [], 'lcs': [], 'fsd': [], 'sides': [], 'lcs_pp': [], 'fsd_pp': [], 'pair_label': []}

    def wrap(name, key, record_arg=False):
        orig = getattr(criterion, name)

        def f(*a, **k):
            out = orig(*a, **k)
            rec[key].append(out)
            if record_arg:
                rec['pair_label'].append(a[0].detach().clone())
            return out
        setattr(criterion, name, f)
    wrap('get_lcs_loss', 'lcs', stage == 'b')
    wrap('get_fsd_loss', 'fsd')
    if stage == 'b':
        wrap('forward_once', 'sides')
        wrap('dp_for_lcs', 'lcs_pp')
        wrap('dp_for_fsd', 'fsd_pp')
    h1 = net.register_forward_hook(lambda m, i, o: rec['model'].append(o))
    h2 = criterion.register_forward_hook(lambda m, i, o: rec['crit'].append(o))
    t = lambda a: torch.from_numpy(a).to(tdt)
    if stage == 'a':
        loader, pair_loader = [(t(batch['features']), t(batch['labels']))], None
    else:
        loader, pair_loader = None, [(t(batch['features0']), t(batch['features1']), t(batch['labels0']),
                                      t(batch['labels1']))]
    opt = _StandInOptimizer(net, O.train_thu.train.__code__)
    sampler = _PairSampler(neg_pairs, pair_seed)
    saved_random = O.nu.random
    O.nu.random = sampler
    net.to(tdt)
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    t0 = time.time()
    try:
        with _default_dtype(torch, tdt), contextlib.redirect_stdout(io.StringIO()):
            O.train_thu.train(args, net, loader, pair_loader, criterion, opt)
    finally:
        O.nu.random = saved_random
        h1.remove()
        h2.remove()
    rec['seconds'] = time.time() - t0
    rec['args'] = args
    rec['criterion'] = criterion
    rec['grads'] = opt.steps
    rec['grad_none'] = opt.none
    rec['sampler'] = sampler
    if len(rec['model']) != 1 or len(rec['crit']) != 1:
        die('the official train() ran the model %d and the criterion %d times, expected once' % (
            len(rec['model']), len(rec['crit'])), 3)
    return rec


def _topk_gap(torch, v, k, dim):
    """The smallest gap between the k-th and (k+1)-th largest values along dim (inf when k >= size)."""
    n = v.shape[dim]
    if k >= n:
        return float('inf')
    s, _ = torch.sort(v.detach(), dim=dim, descending=True)
    return float((s.narrow(dim, k - 1, 1) - s.narrow(dim, k, 1)).min())


def side_debug(O, net, x, outs, args):
    """Debug arrays of one side, and its selection gaps, from the official outputs (and the raw Z_b, recomputed with
    the model's own modules: the official forward does not return them)."""
    torch = O.torch
    T = x.shape[1]
    att = outs[6].detach()
    ks = (max(T // args.ins_topk_seg, 1), max(T // args.con_topk_seg, 1), max(T // args.bak_topk_seg, 1))
    order = torch.stack([torch.sort(att[:, :, c], dim=1, descending=True)[1] for c in range(3)], dim=2)
    ins = order[:, :, 0]
    lcs_idx = torch.sort(ins[:, :args.lcs_len], dim=1)[0]
    fsd_act = torch.sort(ins[:, :args.fsd_len], dim=1)[0]
    fsd_bak = torch.sort(ins[:, args.fsd_len:2 * args.fsd_len], dim=1)[0]
    gaps = [_topk_gap(torch, att[:, :, c], ks[c], 1) for c in range(3)]
    gaps += [_topk_gap(torch, att[:, :, 0], k, 1) for k in (args.fsd_len, 2 * args.fsd_len, args.lcs_len)]
    with torch.no_grad():
        E = net.feature_embedding(x.permute(0, 2, 1)).permute(0, 2, 1)
        Z = net.snippet_cls(E)
        gap_cas = min(_topk_gap(torch, Z * att[:, :, c:c + 1], ks[c], 1) for c in range(3))
    dbg = {'att': att, 'p_ins': outs[0], 'p_con': outs[1], 'p_bak': outs[2],
           'feat_norms': torch.stack([torch.norm(outs[i].detach(), p=2, dim=1) for i in (3, 4, 5)], dim=1),
           'att_order': order, 'lcs_idx': lcs_idx, 'fsd_act_idx': fsd_act, 'fsd_bak_idx': fsd_bak}
    return dbg, min(gaps), gap_cas


def lcs_margin(O, stage, thres, S):
    """(min |decision value - thres|, matches, NaN cells) of one similarity matrix, as the official DP compares."""
    torch = O.torch
    v = torch.maximum(torch.zeros_like(S), S - 0.8) * 5 if stage == 'a' else S
    nan = int(torch.isnan(v).sum())
    fin = v[~torch.isnan(v)]
    margin = float((fin - thres).abs().min()) if fin.numel() else float('inf')
    return margin, int((v > thres).sum()), nan


def official_step(O, stage, net, batch, dtype, neg_pairs, pair_seed, pos_pairs=None):
    torch = O.torch
    tdt = torch.float64 if dtype == 'float64' else torch.float32
    rec = run_official(O, stage, net, batch, tdt, neg_pairs, pair_seed)
    crit, args = rec['criterion'], rec['args']
    loss, loss_dict = rec['crit'][0]
    skipped = bool(torch.isnan(loss))
    if len(rec['grads']) != (0 if skipped else 1):
        die('the official train() called optimizer.step() %d times with a %s loss' % (
            len(rec['grads']), 'NaN' if skipped else 'finite'), 3)
    grads = rec['grads'][0] if rec['grads'] else {n: torch.zeros_like(p) for n, p in net.named_parameters()}
    num = lambda v: float(v) if not hasattr(v, 'detach') else float(v.detach())
    out, meta, lam = {}, {}, (crit.lamb1, crit.lamb2, crit.lamb3, crit.lamb_lcs, crit.lamb_fsd)
    if stage == 'a':
        terms = {k: float(loss_dict[OFFICIAL_DICT[k]]) for k in ACM_TERMS}
        terms['lcs'] = num(rec['lcs'][0]) if rec['lcs'] else 0.0
        terms['fsd'] = num(rec['fsd'][0]) if rec['fsd'] else 0.0
        sides = [(batch['features'], rec['model'][0])]
    else:
        for s, (_, d) in enumerate(rec['sides']):
            for k in ACM_TERMS:
                out['loss/side%d/%s' % (s, k)] = float(d[OFFICIAL_DICT[k]])
        if len(rec['sides']) != 2:
            die('the official FTCLLoss ran forward_once %d times, expected 2' % len(rec['sides']), 3)
        terms = {k: float(loss_dict[OFFICIAL_DICT[k]]) for k in ACM_TERMS}  # the official (side0 + side1) / 2.0
        terms['lcs'] = num(rec['lcs'][0])
        terms['fsd'] = num(rec['fsd'][0])
        sides = [(batch['features0'], rec['model'][0][0]), (batch['features1'], rec['model'][0][1])]
    formula = (terms['cls_ins'] + terms['cls_con'] + terms['cls_bak'] + lam[0] * terms['guide'] +
               lam[1] * terms['feat'] + lam[2] * terms['sparse'] + lam[3] * terms['lcs'] + lam[4] * terms['fsd'])
    total = float(loss.detach())
    meta['total_minus_formula'] = total - formula if not skipped else 0.0
    if not skipped and abs(total - formula) > (1e-12 if dtype == 'float64' else 2e-6) * max(1.0, abs(total)):
        die('official total %.12g != the formula %.12g from the recorded terms' % (total, formula), 3)
    out['loss/total'] = total
    for k in TERMS:
        out['loss/' + k] = terms[k]
    for n, _, _ in KEYS:
        out['grad/' + n] = grads[n]
    out['cas'] = sides[0][1][7].detach()
    gap_att, gap_cas = float('inf'), float('inf')
    for s, (x, outs) in enumerate(sides):
        dbg, ga, gc = side_debug(O, net, O.torch.from_numpy(x).to(tdt), outs, args)
        gap_att, gap_cas = min(gap_att, ga), min(gap_cas, gc)
        prefix = 'debug/' if stage == 'a' else 'debug/side%d/' % s
        for k, v in dbg.items():
            out[prefix + k] = v
    thres = args.thres
    margins = []
    zero_rows = 0
    with torch.no_grad():
        if stage == 'a':
            outs = sides[0][1]
            lcs_c, act_c, bak_c = outs[11], outs[12], outs[13]
            pos = [list(p) for p in (pos_pairs or [])]
            if len(rec['sampler'].returned) != 1:
                die('the official generate_pairs sampled negatives %d times, expected once' % len(
                    rec['sampler'].returned), 3)
            used_neg = rec['sampler'].returned[0]
            out['pairs/pos'] = np.asarray(pos, np.int64).reshape(-1, 2)
            out['pairs/neg'] = np.asarray(used_neg, np.int64).reshape(-1, 2)
            with _default_dtype(torch, tdt):
                for kind, plist in (('pos', pos), ('neg', used_neg)):
                    out['dp/%s_lcs' % kind] = [float(crit.dp_for_lcs([p], lcs_c)) for p in plist]
                    out['dp/%s_fsd' % kind] = [float(crit.dp_for_fsd([p], act_c, bak_c, act_act=(kind == 'pos')))
                                               for p in plist]
            for i, j in pos + used_neg:
                margins.append(lcs_margin(O, 'a', thres, O.nu.get_similarity(lcs_c[i], lcs_c[j])))
            rows = [lcs_c, act_c[..., :act_c.shape[-1] // 2], act_c[..., act_c.shape[-1] // 2:],
                    bak_c[..., :bak_c.shape[-1] // 2], bak_c[..., bak_c.shape[-1] // 2:]]
        else:
            o0, o1 = sides[0][1], sides[1][1]
            out['pair_label'] = rec['pair_label'][0]
            out['dp/lcs'] = rec['lcs_pp'][0].detach()
            out['dp/fsd'] = [float(v) for v in rec['fsd_pp']]
            for p in range(o0[11].shape[0]):
                margins.append(lcs_margin(O, 'b', thres, O.nu.get_similarity(o0[11][p], o1[11][p])))
            rows = []
            for o in (o0, o1):
                h = o[12].shape[-1] // 2
                rows += [o[11], o[12][..., :h], o[12][..., h:], o[13][..., :h], o[13][..., h:]]
        for r in rows:
            zero_rows += int((torch.linalg.vector_norm(r.detach(), ord=2, dim=-1) == 0).sum())
    meta.update({'lambda_guide_feat_sparse_lcs_fsd': np.asarray(lam, np.float64), 'skipped_nan': int(skipped),
                 'grad_none': ','.join(rec['grad_none']), 'seconds': rec['seconds'], 'gap_att': gap_att,
                 'gap_cas': gap_cas,
                 'lcs_margin': min([m[0] for m in margins] or [float('inf')]),
                 'lcs_matches': sum(m[1] for m in margins), 'lcs_nan_cells': sum(m[2] for m in margins),
                 'zero_rows': zero_rows})
    return out, meta, grads


def write_out(path, out, meta, stage, dtype, O):
    npdt = np.float64 if dtype == 'float64' else np.float32
    with sal_oracle.atomic_h5(path) as f:
        for k, v in out.items():
            if hasattr(v, 'detach'):
                v = v.detach().cpu().numpy()
            v = np.asarray(v)
            if v.dtype.kind == 'f' or k.startswith(('loss/', 'dp/')):
                v = v.astype(npdt)
            f.create_dataset(k, data=v)
        for k, v in meta.items():
            f.attrs[k] = v
        f.attrs['stage'] = stage
        f.attrs['dtype'] = dtype
        f.attrs['official'] = 'MengyuanChen21/CVPR2022-FTCL %s' % O.rev
        f.attrs['torch'] = str(O.torch.__version__)


# ----------------------------------------------------------------------------- finite differences

def fd_check(O, stage, net, batch, neg_pairs, grads, h=1e-6):
    """Central differences of the official loss (float64) on two entries per parameter (its largest |grad| and a
    hashed one), against the recorded autograd gradient. Returns rows (key, index, autograd, fd).

    The guide loss detaches the instance attention (|1 - P_ins[..., 20] - a_ins.detach()|), so autograd leaves out
    that path while a plain difference of losses does not: each perturbed loss is taken with the guide term
    re-evaluated on the unperturbed run's a_ins (total - lamb1*guide + lamb1*guide(P_ins(w), a_ins(w0)))."""
    torch = O.torch
    params = dict(net.named_parameters())

    def sides(rec):
        return [rec['model'][0]] if stage == 'a' else list(rec['model'][0])

    def guide(outs, a0):
        return float(torch.sum(torch.abs(1 - outs[7][:, :, -1] - a0), dim=1).mean())

    base = run_official(O, stage, net, batch, torch.float64, neg_pairs, 0)
    a0 = [o[6][:, :, 0].detach().clone() for o in sides(base)]
    lamb1 = base['criterion'].lamb1

    def adjusted(rec):
        outs = sides(rec)
        g_rec = sum(guide(o, o[6][:, :, 0].detach()) for o in outs) / len(outs)
        g_fix = sum(guide(o, a) for o, a in zip(outs, a0)) / len(outs)
        return float(rec['crit'][0][0].detach()) - lamb1 * g_rec + lamb1 * g_fix

    rows = []
    for t, (name, _, _) in enumerate(KEYS):
        g = grads[name].reshape(-1)
        n = g.numel()
        for idx in (int(g.abs().argmax()), (t * 2654435761 + 12345) % n):
            p = params[name].data.view(-1)
            w0 = float(p[idx])
            vals = []
            for d in (h, -h):
                p[idx] = w0 + d
                vals.append(adjusted(run_official(O, stage, net, batch, torch.float64, neg_pairs, 0)))
            p[idx] = w0
            rows.append((name, idx, float(g[idx]), (vals[0] - vals[1]) / (2 * h)))
    return rows


# ----------------------------------------------------------------------------- formula inputs

def _hash_uniform():
    return sal_oracle._formula()[0]


def video_features(v, T, seed, classes):
    """[T,2048] float32 features of video v with the given classes (see formula_batch)."""
    hu = _hash_uniform()
    t = np.arange(T)
    k = (t // 6) % 3                                   # three background templates, shared by every video
    for c in sorted(classes):
        s = (5 * v + 7 * c + seed) % (T // 2)
        e = min(T, s + T // 3)
        k[s:e] = 3 + 4 * c + ((t[s:e] - s) // 3) % 4  # four templates per class, cycling every 3 snippets
    f = np.arange(FEATURE_DIM, dtype=np.uint64)
    tv = hu(k.astype(np.uint64)[:, None] * np.uint64(FEATURE_DIM) + f[None, :], 5000 + seed)
    eps = 0.05 + 0.45 * hu(np.uint64(v * T) + t.astype(np.uint64), 7000 + seed)
    nz = hu((np.uint64(v * T) + t.astype(np.uint64))[:, None] * np.uint64(FEATURE_DIM) + f[None, :], 6000 + seed)
    return (2.0 * tv * tv + eps[:, None] * nz).astype(np.float32)


def stage_a_labels(B, seed):
    """Video b: group g = b // 3; b % 3 in {0, 1}: the single class (5g + 3 seed + 1) mod 20; b % 3 == 2: the two
    classes (5g + 3 seed + 8) mod 20 and (5g + 3 seed + 13) mod 20."""
    y = np.zeros((B, NUM_CLASSES), np.float32)
    for b in range(B):
        c = 5 * (b // 3) + 3 * seed + 1
        for d in ((0,) if b % 3 < 2 else (7, 12)):
            y[b, (c + d) % NUM_CLASSES] = 1
    return y


def stage_b_labels(P, seed):
    """Pair p, c = (5p + 3 seed + 1) mod 20: p % 3 == 0: both videos {c} (positive); p % 3 == 1: {c} and {c + 10}
    (negative); p % 3 == 2: both {c, c + 6} (positive, two labels)."""
    y0 = np.zeros((P, NUM_CLASSES), np.float32)
    y1 = np.zeros((P, NUM_CLASSES), np.float32)
    for p in range(P):
        c = (5 * p + 3 * seed + 1) % NUM_CLASSES
        if p % 3 == 0:
            y0[p, c] = y1[p, c] = 1
        elif p % 3 == 1:
            y0[p, c] = 1
            y1[p, (c + 10) % NUM_CLASSES] = 1
        else:
            for d in (0, 6):
                y0[p, (c + d) % NUM_CLASSES] = y1[p, (c + d) % NUM_CLASSES] = 1
    return y0, y1


def formula_batch(stage, N, T, seed):
    """The deterministic batch of make-inputs (docs/ftcl-oracle.md "Formula inputs"). hash_uniform is
    tests/parity_formula.h's; video v (stage A: v = b; stage B: v = 2p for side 0, 2p + 1 for side 1), snippet t,
    feature f: x = 2 u(k(v,t)*2048 + f, 5000 + seed)^2 + eps(v,t) u((v*T + t)*2048 + f, 6000 + seed), with
    eps(v,t) = 0.05 + 0.45 u(v*T + t, 7000 + seed) and the template k(v,t) = (t // 6) mod 3, overwritten for each of the
    video's classes c (ascending) on t in [s, min(T, s + T//3)), s = (5v + 7c + seed) mod (T//2), by
    3 + 4c + ((t - s) // 3) mod 4; computed in double, rounded to float32."""
    if stage == 'a':
        y = stage_a_labels(N, seed)
        x = np.stack([video_features(b, T, seed, np.nonzero(y[b])[0]) for b in range(N)])
        return {'features': x, 'labels': y}
    y0, y1 = stage_b_labels(N, seed)
    x0 = np.stack([video_features(2 * p, T, seed, np.nonzero(y0[p])[0]) for p in range(N)])
    x1 = np.stack([video_features(2 * p + 1, T, seed, np.nonzero(y1[p])[0]) for p in range(N)])
    return {'features0': x0, 'features1': x1, 'labels0': y0, 'labels1': y1,
            'pair_label': ((y0 * y1).sum(1) > 0).astype(np.float32)}


def stage_a_neg_pairs(y, seed):
    """make-inputs' negative pairs: random.Random(seed).sample(official candidates, n_pos) (the official call on a
    seeded RNG; the candidates and positives by the official rule, re-implemented here without torch: it is only
    input generation, and step checks the result against the official generate_pairs)."""
    B = y.shape[0]
    pos, cand = [], []
    for i in range(B - 1):
        for j in range(i + 1, B):
            s = float((y[i] * y[j]).sum())
            if s == 1 and np.array_equal(y[i], y[j]):
                pos.append([i, j])
            elif s == 0:
                cand.append([i, j])
    return pos, random.Random(seed).sample(cand, len(pos))


def make_inputs(wpath, bpath, stage, N, T, seed):
    batch = formula_batch(stage, N, T, seed)
    with sal_oracle.atomic_h5(wpath) as f:
        sal_oracle.write_formula_weights(f, seed, KEYS)
        f.attrs['method'] = 'ftcl'
    with sal_oracle.atomic_h5(bpath) as f:
        for k, v in batch.items():
            f.create_dataset(k, data=v)
        if stage == 'a':
            pos, neg = stage_a_neg_pairs(batch['labels'], seed)
            f.create_dataset('pos_pairs', data=np.asarray(pos, np.int64).reshape(-1, 2))
            f.create_dataset('neg_pairs', data=np.asarray(neg, np.int64).reshape(-1, 2))
        f.attrs['seed'] = seed
        f.attrs['stage'] = stage
    return batch


# ----------------------------------------------------------------------------- CLI

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest='cmd', required=True)
    ps = sub.add_parser('step', help='run the official step and write OUT.h5')
    ps.add_argument('--stage', choices=('a', 'b'), required=True)
    ps.add_argument('weights')
    ps.add_argument('batch')
    ps.add_argument('out')
    ps.add_argument('--dtype', choices=('float32', 'float64'), default='float32',
                    help='run the official code in this precision (float32 = as published)')
    ps.add_argument('--threads', type=int, default=2)
    ps.add_argument('--pair-seed', type=int, default=0,
                    help='stage A without neg_pairs in BATCH.h5: seed of the official random.sample of negatives')
    ps.add_argument('--fd-check', action='store_true',
                    help='also compare 16 gradient entries with central differences of the official loss (float64)')
    pm = sub.add_parser('make-inputs', help='write formula WEIGHTS.h5 and BATCH.h5')
    pm.add_argument('weights')
    pm.add_argument('batch')
    pm.add_argument('--stage', choices=('a', 'b'), required=True)
    pm.add_argument('--B', type=int, help='stage A: videos')
    pm.add_argument('--P', type=int, help='stage B: pairs')
    pm.add_argument('--T', type=int, required=True)
    pm.add_argument('--seed', type=int, required=True)
    a = p.parse_args()

    if a.cmd == 'make-inputs':
        N = a.B if a.stage == 'a' else a.P
        other = a.P if a.stage == 'a' else a.B
        if N is None or other is not None:
            p.error('stage a takes --B (videos), stage b --P (pairs)')
        if N < 1 or a.T < LCS_LEN or a.seed < 0:
            p.error('--B/--P must be >= 1, --T >= %d and --seed >= 0' % LCS_LEN)
        t0 = time.time()
        make_inputs(a.weights, a.batch, a.stage, N, a.T, a.seed)
        print('wrote %s (formula weights, seed %d) and %s (stage %s, %s=%d, T=%d) in %.1f s' % (
            a.weights, a.seed, a.batch, a.stage, 'B' if a.stage == 'a' else 'P', N, a.T, time.time() - t0))
        return

    if a.threads < 1:
        p.error('--threads must be >= 1')
    if a.fd_check and a.dtype != 'float64':
        p.error('--fd-check needs --dtype float64')
    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):
        die('%s: directory %s does not exist' % (a.out, out_dir))
    if not os.path.isfile(a.weights):
        die('%s: no such weights file' % a.weights)
    batch = read_batch(a.batch, a.stage)
    O = load(a.threads)
    pos, neg, pair_seed = None, None, a.pair_seed
    if a.stage == 'a':
        pos, neg, pair_seed = check_stage_a_pairs(O, a.batch, batch['labels'], batch['pairs'], a.pair_seed)
    args = official_args(O, a.stage)
    with _default_dtype(O.torch, O.torch.float32):
        net = (O.ACMNet if a.stage == 'a' else O.FTCLNet)(args)
    keys = list(net.state_dict().keys())
    if keys != [k for k, _, _ in KEYS]:
        die('the official model state_dict differs from the expected 8 keys: %s' % keys, 3)
    read_weights(a.weights, net)
    out, meta, grads = official_step(O, a.stage, net, batch, a.dtype, neg, pair_seed, pos)
    N = batch['features'].shape[0] if a.stage == 'a' else batch['features0'].shape[0]
    T = (batch['features'] if a.stage == 'a' else batch['features0']).shape[1]
    meta['B' if a.stage == 'a' else 'P'] = N
    meta['T'] = T
    write_out(a.out, out, meta, a.stage, a.dtype, O)
    L = {k.split('/')[1]: float(v) for k, v in out.items() if k.startswith('loss/') and k.count('/') == 1}
    print('stage %s: %s=%d T=%d %s  total=%.9g  %s' % (a.stage, 'B' if a.stage == 'a' else 'P', N, T, a.dtype,
                                                    L['total'], ' '.join('%s=%.7g' % (k, L[k]) for k in TERMS)))
    if a.stage == 'a':
        print('pairs: pos %s neg %s' % (out['pairs/pos'].tolist(), out['pairs/neg'].tolist()))
    print('check: total - formula = %.3g; skipped_nan %d; gaps att %.3g cas %.3g; lcs margin %.3g, %d matches, '
          '%d NaN cells; zero rows %d; official step %.2f s; wrote %s' % (
              meta['total_minus_formula'], meta['skipped_nan'], meta['gap_att'], meta['gap_cas'], meta['lcs_margin'],
              meta['lcs_matches'], meta['lcs_nan_cells'], meta['zero_rows'], meta['seconds'], a.out))
    if meta['skipped_nan']:
        print('WARNING: the loss is NaN: the official step skipped backward and update (gradients written as 0)')
    if meta['grad_none']:
        print('note: no gradient reached %s (written as 0)' % meta['grad_none'])
    if a.fd_check:
        used_neg = out['pairs/neg'].tolist() if a.stage == 'a' else None
        rows = fd_check(O, a.stage, net, batch, used_neg, grads)
        worst = 0.0
        for name, idx, g, fd in rows:
            err = abs(g - fd) / max(abs(fd), abs(g), 1e-8)
            worst = max(worst, err if max(abs(fd), abs(g)) > 1e-8 else 0.0)
            print('fd-check %-28s [%9d] autograd %+.9e  central difference %+.9e  rel %.2e' % (name, idx, g, fd, err))
        print('fd-check: worst relative difference %.2e over %d entries' % (worst, len(rows)))


if __name__ == '__main__':
    main()
