#!/usr/bin/env python3
"""One OFFICIAL SAL ActivityNet 1.3 training step (lizhilin-ustc/SAL_ActivityNet) on given weights and batch.

  sal_anet_oracle.py step WEIGHTS.h5 BATCH.h5 OUT.h5 [--dtype float32|float64] [--threads 2]
  sal_anet_oracle.py make-inputs WEIGHTS.h5 BATCH.h5 --B 2 --T 50 --seed 0 [--ema-mu M --ema-var V]
  sal_anet_oracle.py time [--B 32 --T 50 --classes 200 --steps 10 --warmup 2 --threads 2 --out-json F]

Nothing of the official code is copied here: it is loaded at run time from OFFICIAL_SAL_ANET (a checkout, or a git
directory read with `git archive $OFFICIAL_SAL_ANET_REV`, default HEAD; default
/work/.mirror/lizhilin-ustc+SAL_ActivityNet/repo) through tools/sal_oracle.py's loader (its CPU shims: .cuda() a
no-op, tqdm / terminaltables stubbed, numpy aliases).

The published main_SA13_1.py does not run as is; the stand-ins, and nothing else, are:
  * `core.SA13_2` (imported by main_SA13_1.py, not in the repository): a module whose SALModel is core/SA13_1.py's
    SALModel, the only model file (taken as the intended one);
  * `torch.utils.tensorboard` (not installed here): SummaryWriter is a no-op;
  * the Trainer is used through its train_one_step() only: train() instantiates the undefined ASLModel, builds the
    data loaders and runs 50,000 steps. train_one_step() is the official code unchanged: it is called with the
    official SALModel(2048, C) loaded from WEIGHTS.h5 (every Dropout at p = 0), an iterator yielding the batch,
    and a stand-in optimizer whose step() records the official function's locals and the gradients.
The Trainer comes from the official __init__ with the official config (build_args(dataset="ActivityNet")); the
number of classes is the batch's (C = 20 for the golden files: only shapes and the initial mu = 1/C depend on it).

WEIGHTS.h5: root datasets named by the official state_dict keys of core/SA13_1.py SALModel(2048, C) (16 tensors).
BATCH.h5: features float32 [B,T,2048] (RGB first), labels float32 [B,C]; optional root attributes ema_mu, ema_var.
OUT.h5: as tools/sal_oracle.py step (loss/*, grad/*, cas, debug/*, attributes ema_*), one step.
"""
import argparse
import importlib
import os
import sys
import time
import types

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sal_oracle as so  # noqa: E402

DEFAULT_SOURCE = '/work/.mirror/lizhilin-ustc+SAL_ActivityNet/repo'
FEATURE_DIM = 2048
BILINEAR = 512 * 512
PACKAGES = ('core', 'eval', 'eval1')
LOSS_NAMES = so.LOSS_NAMES
_STATE = {}


def keys(C):
    """name, shape, fan_in in the state_dict order of core/SA13_1.py SALModel(2048, C)."""
    return [
        ('base_module.0.weight', (512, 2048, 7), 2048 * 7),
        ('base_module.0.bias', (512,), 2048 * 7),
        ('cls.0.weight', (C, 512, 1), 512),
        ('cls.0.bias', (C,), 512),
        ('action_rgb.0.weight', (512, 1024, 3), 1024 * 3),
        ('action_rgb.0.bias', (512,), 1024 * 3),
        ('action_flow.0.weight', (512, 1024, 3), 1024 * 3),
        ('action_flow.0.bias', (512,), 1024 * 3),
        ('cls_rgb.0.weight', (1, 512, 1), 512),
        ('cls_rgb.0.bias', (1,), 512),
        ('cls_flow.0.weight', (1, 512, 1), 512),
        ('cls_flow.0.bias', (1,), 512),
        ('fc.weight', (C, BILINEAR), BILINEAR),
        ('fc.bias', (C,), BILINEAR),
        ('fc1.weight', (512, BILINEAR), BILINEAR),
        ('fc1.bias', (512,), BILINEAR),
    ]


def load(threads=2, quiet=False):
    if _STATE:
        return _STATE['ns']
    root = so.official_source('OFFICIAL_SAL_ANET', DEFAULT_SOURCE, ('main_SA13_1.py', 'core/SA13_1.py'),
                              'SAL_ActivityNet')
    tb = types.ModuleType('torch.utils.tensorboard')
    tb.SummaryWriter = so._Nop
    torch, stubbed, mods = so.import_official(root, PACKAGES, ('core.SA13_1', 'core.loss_asl', 'core.config13_base'),
                                              threads, {'torch.utils.tensorboard': tb})
    sa13_2 = types.ModuleType('core.SA13_2')
    sa13_2.SALModel = mods['core.SA13_1'].SALModel
    sys.modules['core.SA13_2'] = sa13_2
    stubbed.append('core.SA13_2 (= core/SA13_1.py)')
    main = importlib.import_module('main_SA13_1')
    ns = types.SimpleNamespace(root=root, torch=torch, model=mods['core.SA13_1'], loss=mods['core.loss_asl'],
                               cfg=mods['core.config13_base'], main=main, stubbed=stubbed)
    so._STATE['ns'] = ns  # sal_oracle.load_weights reads torch from there
    if not quiet:
        sys.stderr.write('[official SAL_ActivityNet] code from %s (stand-ins: %s)\n' % (
            os.environ.get('OFFICIAL_SAL_ANET') or DEFAULT_SOURCE, ', '.join(stubbed)))
    _STATE['ns'] = ns
    return ns


def official_config(O, C):
    old = sys.argv
    sys.argv = ['main_SA13_1.py']
    try:
        cfg = O.cfg.build_args(dataset='ActivityNet')
    finally:
        sys.argv = old
    cfg.NUM_CLASSES = C
    return cfg


class _Optimizer(object):
    """zero_grad() clears the gradients; step() records train_one_step's locals, the gradients and the EMA state."""

    def __init__(self, net, code, trainer):
        self.net, self.code, self.trainer, self.steps = net, code, trainer, []

    def zero_grad(self, *a, **k):
        for p in self.net.parameters():
            p.grad = None
        self.t0 = time.time()

    def step(self, *a, **k):
        frame = sys._getframe(1)
        if frame.f_code is not self.code:
            so.die('the official train_one_step changed: optimizer.step() called from %s' % frame.f_code.co_name, 3)
        self.steps.append({'locals': dict(frame.f_locals), 'seconds': time.time() - self.t0,
                           'grads': {n: p.grad.detach().clone() for n, p in self.net.named_parameters()},
                           'ema_mu': float(self.trainer.prob_max_mu_t), 'ema_var': float(self.trainer.prob_max_var_t)})


def official_step(O, net, x, y, dtype, ema_in):
    torch = O.torch
    B, T, _ = x.shape
    C = y.shape[1]
    tdt = torch.float64 if dtype == 'float64' else torch.float32
    net.to(tdt).train()
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    tr = O.main.Trainer(official_config(O, C))  # the official __init__: ema_p 0.99, mu = 1/C, var = 1
    if 'ema_mu' in ema_in:
        tr.prob_max_mu_t = ema_in['ema_mu']
    if 'ema_var' in ema_in:
        tr.prob_max_var_t = ema_in['ema_var']
    ema_first = (float(tr.prob_max_mu_t), float(tr.prob_max_var_t))
    tr.ulb_prob_t = tr.ulb_prob_t.to(tdt)
    batch = iter([(torch.from_numpy(np.ascontiguousarray(x)).to(tdt), torch.from_numpy(np.ascontiguousarray(y)).to(tdt))])
    opt = _Optimizer(net, O.main.Trainer.train_one_step.__code__, tr)
    with so._Recorder(O) as rec:
        tr.train_one_step(net, batch, opt, so._Nop(), 1)
        r = rec.rec
    if len(opt.steps) != 1:
        so.die('the official train_one_step did not call optimizer.step() once', 3)
    s = opt.steps[0]
    loc = s['locals']
    if not (len(r['ce']) == 4 and len(r['gce']) == 4 and len(r['mse']) == 1 and len(r['kl']) == 1):
        so.die('official loss calls differ from the expected 4 CE, 4 GCE_Mask, 1 mse, 1 kl_div: %s'
               % {k: len(v) for k, v in r.items()}, 3)
    mil, se_fused, se_flow, se_rgb = r['ce']
    act_flow, act_rgb, mix_flow, mix_rgb = r['gce']
    mse, kl = r['mse'][0], r['kl'][0]
    act, mix, se = act_flow + act_rgb, mix_flow + mix_rgb, se_fused + se_flow + se_rgb
    cost = loc['cost']
    # the official line: base_loss + sta_loss + 20*mu_loss + fp_loss + 3*sc_loss + aug_loss, re-evaluated in order
    total_re = mil + act + 20 * mse + kl + 3 * se + mix
    diff = float((cost.detach() - total_re.detach()).abs())
    if diff > 1e-6 * max(1.0, abs(float(cost))):
        so.die('official total %.9g != weighted sum %.9g (|diff| %.3g)' % (float(cost), float(total_re), diff), 3)
    for name, mine in (('base_loss', mil), ('sta_loss', act), ('aug_loss', mix), ('sc_loss', se)):
        if float(loc[name]) != float(mine):
            so.die('recorded %s %.9g != the official local %.9g' % (name, float(mine), float(loc[name])), 3)
    cas, cas_bg = loc['cas'], loc['cas_bg']
    cas_top_bg = torch.mean(torch.gather(cas_bg, 1, loc['topk_indices_bg']), dim=1)  # before the softmax
    if not torch.equal(torch.softmax(cas_top_bg, -1), loc['cas_top_bg']):
        so.die('re-evaluated cas_top_bg does not reproduce the official softmax(cas_top_bg)', 3)
    ties = {
        'ties_mil': so._boundary_ties(torch, cas, T // 4, 1),
        'ties_bg': so._boundary_ties(torch, torch.softmax(cas_bg, -1), T // 8, 1),
        'ties_agno': so._boundary_ties(torch, loc['action'], 40, 1),
        'ties_conf': 0,
        'conf_zero': 0,
    }
    losses = {'total': cost, 'mil': mil, 'mse': mse, 'kl': kl, 'act': act, 'act_flow': act_flow,
              'act_rgb': act_rgb, 'se': se, 'se_fused': se_fused, 'se_flow': se_flow, 'se_rgb': se_rgb,
              'mix': mix, 'mix_flow': mix_flow, 'mix_rgb': mix_rgb}
    out = {'loss/' + n: losses[n] for n in LOSS_NAMES}
    for name, _, _ in keys(C):
        out['grad/' + name] = s['grads'][name]
    out.update(so.debug_outputs(loc, cas, cas_top_bg, B, T, tdt))
    meta = {'ema_mu_in': ema_first[0], 'ema_var_in': ema_first[1], 'ema_mu': s['ema_mu'], 'ema_var': s['ema_var'],
            'total_minus_weighted_sum': diff, 'seconds': s['seconds']}
    meta.update(ties)
    return [(out, meta)]


def make_inputs(wpath, bpath, B, T, seed, ema_mu=None, ema_var=None):
    """tests/parity_formula.h formula weights over the SA13_1 state_dict (tensor t: salt 1000*seed + t + 1) and
    the formula batch (labels [B, 20])."""
    so.make_inputs(wpath, bpath, B, T, seed, ema_mu, ema_var, keys_for=keys)


def read_batch(path):
    with so._open_h5(path, 'batch') as f:
        x = np.ascontiguousarray(f['features'][()], dtype=np.float32)
        y = np.ascontiguousarray(f['labels'][()], dtype=np.float32)
        ema = {k: float(np.asarray(f.attrs[k]).reshape(())) for k in ('ema_mu', 'ema_var') if k in f.attrs}
    if x.ndim != 3 or x.shape[2] != FEATURE_DIM or y.ndim != 2 or y.shape[0] != x.shape[0]:
        so.die('%s: features must be [B,T,%d] and labels [B,C]' % (path, FEATURE_DIM))
    if x.shape[1] < 40:
        so.die('%s: T=%d is below 40: the official pseudo labels take topk(action, 40)' % (path, x.shape[1]))
    if (y.sum(1) <= 0).any():
        so.die('%s: every video needs a positive label (the official CE divides by the label sum)' % path)
    return x, y, ema


class _TimedAdam(object):
    """The official optimizer (torch.optim.Adam(lr, betas (0.9, 0.999), weight_decay 5e-4), as Trainer.train builds
    it) behind a proxy that times each step from zero_grad() to the end of step()."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, []

    def zero_grad(self, *a, **k):
        self.t0 = time.time()
        return self.inner.zero_grad(*a, **k)

    def step(self, *a, **k):
        r = self.inner.step(*a, **k)
        self.seconds.append(time.time() - self.t0)
        return r


def time_steps(a):
    """The official train_one_step timed with the official Adam and dropout on (the training recipe), on random
    batches held in memory: forward, losses, backward and Adam, no data loading."""
    import statistics
    O = load(a.threads)
    torch = O.torch
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)
    net = O.model.SALModel(FEATURE_DIM, a.classes)
    net.train()
    tr = O.main.Trainer(official_config(O, a.classes))
    opt = _TimedAdam(torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0005))
    batches = []
    for _ in range(2):
        x = (rng.uniform(size=(a.B, a.T, FEATURE_DIM)) * rng.uniform(size=(a.B, a.T, FEATURE_DIM)) * 2)
        y = np.zeros((a.B, a.classes), np.float32)
        y[np.arange(a.B), rng.randint(0, a.classes, size=a.B)] = 1
        batches.append((torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)))
    n = a.steps + a.warmup
    it = iter([batches[i % 2] for i in range(n)])
    for step in range(1, n + 1):
        tr.train_one_step(net, it, opt, so._Nop(), step)
    timed = opt.seconds[a.warmup:]
    med = statistics.median(timed)
    print('official SAL_ActivityNet step (time-only): B=%d T=%d C=%d threads %d torch %s: %d timed steps after %d '
          'warm-up: median %.3f s/step (min %.3f, max %.3f)' % (a.B, a.T, a.classes, torch.get_num_threads(),
                                                             torch.__version__, len(timed), a.warmup, med,
                                                             min(timed), max(timed)), flush=True)
    if a.out_json:
        import json
        with open(a.out_json, 'w') as f:
            json.dump({'B': a.B, 'T': a.T, 'C': a.classes, 'threads': torch.get_num_threads(),
                       'torch': torch.__version__, 'warmup': a.warmup, 'seconds': opt.seconds, 'median_s': med}, f)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest='cmd', required=True)
    ps = sub.add_parser('step', help='run the official train_one_step and write OUT.h5')
    ps.add_argument('weights')
    ps.add_argument('batch')
    ps.add_argument('out')
    ps.add_argument('--dtype', choices=('float32', 'float64'), default='float32')
    ps.add_argument('--threads', type=int, default=2)
    pm = sub.add_parser('make-inputs', help='write formula WEIGHTS.h5 and BATCH.h5 (tests/parity_formula.h)')
    pm.add_argument('weights')
    pm.add_argument('batch')
    pm.add_argument('--B', type=int, required=True)
    pm.add_argument('--T', type=int, required=True)
    pm.add_argument('--seed', type=int, required=True)
    pm.add_argument('--ema-mu', type=float, default=None)
    pm.add_argument('--ema-var', type=float, default=None)
    pt = sub.add_parser('time', help='time the official train_one_step with the official Adam, dropout on')
    pt.add_argument('--B', type=int, default=32)
    pt.add_argument('--T', type=int, default=50)
    pt.add_argument('--classes', type=int, default=200)
    pt.add_argument('--steps', type=int, default=10, help='timed steps')
    pt.add_argument('--warmup', type=int, default=2)
    pt.add_argument('--seed', type=int, default=0)
    pt.add_argument('--threads', type=int, default=2)
    pt.add_argument('--out-json')
    a = p.parse_args()
    if a.cmd == 'time':
        if a.B < 2 or a.T < 40 or a.classes < 2 or a.steps < 1 or a.warmup < 0:
            p.error('time: --B >= 2, --T >= 40, --classes >= 2, --steps >= 1, --warmup >= 0')
        time_steps(a)
        return
    if a.cmd == 'make-inputs':
        if a.B < 1 or a.T < 40 or a.seed < 0:
            p.error('--B must be >= 1, --T >= 40 and --seed >= 0')
        make_inputs(a.weights, a.batch, a.B, a.T, a.seed, a.ema_mu, a.ema_var)
        print('wrote %s and %s (B=%d T=%d seed %d)' % (a.weights, a.batch, a.B, a.T, a.seed))
        return
    x, y, ema = read_batch(a.batch)
    B, T, C = x.shape[0], x.shape[1], y.shape[1]
    O = load(a.threads)
    net = O.model.SALModel(FEATURE_DIM, C)
    got = list(net.state_dict().keys())
    if got != [k for k, _, _ in keys(C)]:
        so.die('the official SALModel state_dict differs from the expected 16 keys: %s' % got, 3)
    so.load_weights(a.weights, net)
    results = official_step(O, net, x, y, a.dtype, ema)
    so.write_out(a.out, results, B, T, a.dtype)
    out, meta = results[0]
    L = {k.split('/')[1]: float(v) for k, v in out.items() if k.startswith('loss/')}
    print('step: B=%d T=%d C=%d total=%.7g mil=%.7g mse=%.7g kl=%.7g act=%.7g se=%.7g mix=%.7g  ema mu %.9g -> '
          '%.9g, var %.9g -> %.9g (%.2f s); ties %s' % (
              B, T, C, L['total'], L['mil'], L['mse'], L['kl'], L['act'], L['se'], L['mix'], meta['ema_mu_in'],
              meta['ema_mu'], meta['ema_var_in'], meta['ema_var'], meta['seconds'],
              {k: v for k, v in meta.items() if k.startswith('ties_') and v} or 'none'))


if __name__ == '__main__':
    main()
