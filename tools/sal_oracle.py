#!/usr/bin/env python3
"""One (or two) OFFICIAL SAL training steps (Neural Networks 2024, lizhilin-ustc/SAL) on given weights and batch.

  sal_oracle.py step WEIGHTS.h5 BATCH.h5 OUT.h5 [--dtype float32|float64] [--steps 1|2] [--threads 2]
  sal_oracle.py make-inputs WEIGHTS.h5 BATCH.h5 --B 2 --T 64 --seed 0 [--ema-mu M --ema-var V]

Nothing of the official code is copied here: it is loaded at run time from OFFICIAL_SAL, a plain checkout (used
in place) or a git directory (`git archive $OFFICIAL_SAL_REV`, default HEAD, extracted into a temporary directory
removed at exit); default /work/.mirror/lizhilin-ustc+SAL/repo. See docs/sal-oracle.md.

WEIGHTS.h5: root datasets named by the official state_dict keys of models/model_x4.py Model(2048, 20, T) (16
  tensors; root attributes such as method/method_config are ignored).
BATCH.h5: features float32 [B,T,2048] (RGB first), labels float32 [B,20]; optional root attributes ema_mu, ema_var
  (the mask's EMA state the step starts from; default the official initial 1/20 and 1.0).

The step is the official ThumosTrainer.train() itself, run for one epoch over a stand-in loader that yields the
batch (and, with --steps 2, the batch rolled by one video: video b+1 at position b), on a trainer built by the
official ThumosTrainer.__init__ with the data loaders replaced and the model being the official Model loaded from
WEIGHTS.h5 with every Dropout at p = 0. The optimizer is a stand-in whose zero_grad() zeroes the gradients and whose
step() records the loop's locals and the gradients (so the weights never change and step 2 sees the same weights,
with the EMA state the official update_prob_t left). Loss terms are recorded from inside the official loop: forward
hooks on the official CrossEntropyLoss / GeneralizedCE_Mask modules and recording wrappers of F.mse_loss and
F.kl_div; the official total is then re-evaluated from them in the official order.
"""
import argparse
import atexit
import contextlib
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

DEFAULT_SOURCE = '/work/.mirror/lizhilin-ustc+SAL/repo'
NUM_CLASSES = 20
FEATURE_DIM = 2048
BILINEAR = 512 * 512
# name, shape, fan_in: the official state_dict order of models/model_x4.py Model(2048, 20, T)
KEYS = [
    ('encoder.0.weight', (512, 2048, 3), 2048 * 3),
    ('encoder.0.bias', (512,), 2048 * 3),
    ('action_rgb.0.weight', (512, 1024, 3), 1024 * 3),
    ('action_rgb.0.bias', (512,), 1024 * 3),
    ('action_flow.0.weight', (512, 1024, 3), 1024 * 3),
    ('action_flow.0.bias', (512,), 1024 * 3),
    ('cls.0.weight', (NUM_CLASSES, 512, 1), 512),
    ('cls.0.bias', (NUM_CLASSES,), 512),
    ('cls_rgb.0.weight', (1, 512, 1), 512),
    ('cls_rgb.0.bias', (1,), 512),
    ('cls_flow.0.weight', (1, 512, 1), 512),
    ('cls_flow.0.bias', (1,), 512),
    ('fc.weight', (NUM_CLASSES, BILINEAR), BILINEAR),
    ('fc.bias', (NUM_CLASSES,), BILINEAR),
    ('fc1.weight', (512, BILINEAR), BILINEAR),
    ('fc1.bias', (512,), BILINEAR),
]
OFFICIAL_MODULES = ('config.config_thumos', 'utils.loss', 'utils.misc_utils', 'models.model_x4', 'main_thumos')
PACKAGES = ('config', 'dataset', 'eval', 'models', 'utils')
LOSS_NAMES = ('total', 'mil', 'mse', 'kl', 'act', 'act_flow', 'act_rgb', 'se', 'se_fused', 'se_flow', 'se_rgb',
              'mix', 'mix_flow', 'mix_rgb')
_STATE = {}


def die(msg, code=2):
    sys.stderr.write('error: %s\n' % msg)
    sys.exit(code)


def _mktemp(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


# ----------------------------------------------------------------------------- loading the official code

def _is_git_dir(p):
    return os.path.isfile(os.path.join(p, 'HEAD')) and os.path.isdir(os.path.join(p, 'objects'))


def official_source(env='OFFICIAL_SAL', default=DEFAULT_SOURCE, markers=('main_thumos.py', 'models/model_x4.py'),
                    what='SAL'):
    """A directory holding the official code: $env (or `default`) itself when it is a checkout with `markers`, else
    `git archive ${env}_REV` (default HEAD) of that git directory, extracted into a temporary directory."""
    src = os.path.abspath(os.path.expanduser(os.environ.get(env) or default))
    if not os.path.isdir(src):
        die('%s=%s: no such directory (point it to the official %s repository: a checkout or a git '
            'directory)' % (env, src, what))
    if all(os.path.isfile(os.path.join(src, m)) for m in markers):
        return src
    gitdir = src if _is_git_dir(src) else os.path.join(src, '.git')
    if not _is_git_dir(gitdir):
        die('%s=%s: neither a checkout with %s nor a git directory' % (env, src, markers[0]))
    rev = os.environ.get(env + '_REV', 'HEAD')
    dst = _mktemp('sal_official_')
    arch = subprocess.Popen(['git', '--git-dir', gitdir, 'archive', rev], stdout=subprocess.PIPE)
    tar = subprocess.run(['tar', '-x', '-C', dst], stdin=arch.stdout)
    arch.stdout.close()
    if arch.wait() != 0 or tar.returncode != 0:
        die('%s=%s: git archive %s failed' % (env, src, rev))
    for m in markers[1:]:
        if not os.path.isfile(os.path.join(dst, m)):
            die('%s=%s (%s) has no %s' % (env, src, rev, m))
    return dst


class _Nop(object):
    """Stand-in for tqdm / SummaryWriter objects: every call is a no-op."""

    def __init__(self, *a, **k):
        self._it = a[0] if a else k.get('iterable')

    def __iter__(self):
        return iter(self._it if self._it is not None else ())

    def __call__(self, *a, **k):
        return _Nop()

    def __getattr__(self, name):
        return _Nop()


def _stub_missing():
    stubbed = []
    for name, attrs in (('tqdm', {'tqdm': _Nop, 'trange': lambda *a, **k: _Nop(range(*a))}),
                        ('terminaltables', {'AsciiTable': _Nop})):
        try:
            importlib.import_module(name)
        except Exception:
            m = types.ModuleType(name)
            m.__dict__.update(attrs)
            m.__getattr__ = lambda attr: _Nop()
            sys.modules[name] = m
            stubbed.append(name)
    try:
        importlib.import_module('matplotlib.pyplot')
    except Exception:
        for name in ('matplotlib', 'matplotlib.pyplot'):
            m = types.ModuleType(name)
            m.__getattr__ = lambda attr: _Nop()
            sys.modules[name] = m
        sys.modules['matplotlib'].pyplot = sys.modules['matplotlib.pyplot']
        stubbed.append('matplotlib')
    return stubbed


def stub_sklearn():
    """sklearn.metrics as a stand-in module when sklearn is absent: the ACM-Net/FTCL evaluation files import
    average_precision_score at the top and never call it."""
    if 'sklearn' in sys.modules:
        return
    try:
        importlib.import_module('sklearn.metrics')
    except Exception:
        sk, skm = types.ModuleType('sklearn'), types.ModuleType('sklearn.metrics')
        skm.average_precision_score = None
        sk.metrics = skm
        sys.modules['sklearn'], sys.modules['sklearn.metrics'] = sk, skm


def zero_loss_criterion(torch):
    """A stand-in criterion for the official ACM-Net/FTCL test(): a zero loss and the official loss_dict keys."""
    def criterion(*_, **__):
        return torch.tensor(0.0), {n: 0.0 for n in ('act_inst_loss', 'act_cont_loss', 'act_back_loss', 'guide_loss',
                                                     'sparse_loss', 'feat_loss')}
    return criterion


def feeding(loader, model):
    """The loader's items, with model.current set to each item's video name (item[0][0]) before it is yielded."""
    for item in loader:
        model.current = item[0][0]
        yield item


def load(threads=2, quiet=False):
    """Imports the official modules (CPU shims: .cuda() is a no-op; missing tqdm/matplotlib stubbed; numpy
    aliases restored; the official namespace packages pinned against same-named installed ones)."""
    if _STATE:
        return _STATE['ns']
    root = official_source()
    torch, stubbed, mods = import_official(root, PACKAGES, OFFICIAL_MODULES, threads)
    ns = types.SimpleNamespace(root=root, torch=torch, cfg=mods['config.config_thumos'], loss=mods['utils.loss'],
                               misc=mods['utils.misc_utils'], model=mods['models.model_x4'],
                               main=mods['main_thumos'], stubbed=stubbed)
    if not quiet:
        sys.stderr.write('[official SAL] code from %s (stubbed: %s)\n' % (
            os.environ.get('OFFICIAL_SAL') or DEFAULT_SOURCE, ', '.join(stubbed) or 'nothing'))
    _STATE['ns'] = ns
    return ns


def import_official(root, packages, modules, threads, extra_modules=None):
    """The CPU shims of load(), then imports `modules` from `root` (its `packages` pinned as namespace packages);
    extra_modules: {name: module} put into sys.modules first (stand-ins for modules the official code imports but
    does not ship). Returns (torch, the names stubbed, {name: module})."""
    os.environ.setdefault('MPLBACKEND', 'Agg')
    os.environ.setdefault('OMP_NUM_THREADS', str(threads))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name, val in (('float', float), ('int', int), ('bool', bool), ('object', object)):
            try:
                getattr(np, name)
            except AttributeError:
                setattr(np, name, val)
    import torch
    torch.set_num_threads(threads)
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    stubbed = _stub_missing()
    sys.path.insert(0, root)
    for pkg in packages:
        if os.path.isdir(os.path.join(root, pkg)):
            m = types.ModuleType(pkg)
            m.__path__ = [os.path.join(root, pkg)]
            sys.modules[pkg] = m
    for name, m in (extra_modules or {}).items():
        sys.modules[name] = m
        stubbed.append(name)
    mods = {}
    for name in modules:
        mods[name] = importlib.import_module(name)
    return torch, stubbed, mods


def make_config(O, T):
    """The official Config through the official parse_args (official defaults: q_val 0.5, r 8, hp_lambda 0.1,
    batch 2, ...), with num_segments = T, num_workers 0 and one epoch."""
    out = _mktemp('sal_out_')
    return config_from_argv(O, ['--exp_name', 'oracle', '--model_name', 'SAL', '--data_path', out,
                                '--output_dir', out, '--num_segments', str(T), '--num_workers', '0',
                                '--num_epochs', '1'])


def debug_outputs(loc, cas, cas_top_bg, B, T, tdt):
    """The step's CAS and debug tensors from the official train() locals, in the --parity-step layout."""
    sq = lambda t: t.detach().reshape(B, T)
    return {
        'cas': cas,
        'debug/y': sq(loc['cls_agnostic_gt']).to(tdt),
        'debug/y_mix': sq(loc['cls_agnostic_gt_aug']).to(tdt),
        'debug/m': sq(loc['mask']),
        'debug/m_mix': sq(loc['mask_aug']),
        'debug/p_max': sq(loc['max_probs']),
        'debug/cas_top': loc['cas_top'],
        'debug/cas_top_bg': cas_top_bg,
        'debug/sc': loc['sc'],
        'debug/sc_rgb': loc['sc_rgb'],
        'debug/sc_flow': loc['sc_flow'],
        'debug/action_flow': sq(loc['action_flow']),
        'debug/action_rgb': sq(loc['action_rgb']),
        'debug/action_flow_mix': sq(loc['action_flow_aug']),
        'debug/action_rgb_mix': sq(loc['action_rgb_aug']),
    }


def config_from_argv(O, flags):
    """The official Config from the official parse_args() on the command line main_thumos.py FLAGS."""
    old = sys.argv
    sys.argv = ['main_thumos.py'] + list(flags)
    try:
        args = O.cfg.parse_args()
    finally:
        sys.argv = old
    return O.cfg.Config(args)


# ----------------------------------------------------------------------------- files

def _umask_mode():
    m = os.umask(0)
    os.umask(m)
    return 0o666 & ~m


@contextlib.contextmanager
def atomic_h5(path):
    """An h5py.File written to a temporary name beside `path`, renamed into place on success."""
    import h5py
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        die('%s: directory %s does not exist' % (path, d))
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.h5', dir=d)
    os.close(fd)
    try:
        with h5py.File(tmp, 'w') as f:
            yield f
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _open_h5(path, what):
    import h5py
    if not os.path.isfile(path):
        die('%s: no such %s file' % (path, what))
    try:
        return h5py.File(path, 'r')
    except Exception as e:
        die('%s: not a readable HDF5 file (%s)' % (path, str(e).splitlines()[0] if str(e) else type(e).__name__))


def load_weights(path, net, what='SAL', torch=None):
    """WEIGHTS.h5 into the official model `net` (strict); one-line errors for missing keys, shapes, types, NaN.
    `what` names the method in the errors; `torch` defaults to the module this loader imported."""
    import h5py
    torch = torch or _STATE['ns'].torch
    with _open_h5(path, 'weights') as f:
        want = net.state_dict()
        have = [k for k in f.keys() if isinstance(f[k], h5py.Dataset)]
        missing = [k for k in want if k not in have]
        if missing:
            die('%s: not official %s weights: missing %s%s' % (path, what, ', '.join(missing[:4]),
                                                               ' ...' if len(missing) > 4 else ''))
        sd = {}
        for k, v in want.items():
            ds = f[k]
            if tuple(ds.shape) != tuple(v.shape):
                die('%s: %s has shape %s, expected %s' % (path, k, tuple(ds.shape), tuple(v.shape)))
            if ds.dtype.kind != 'f':
                die('%s: %s has type %s, expected floating point' % (path, k, ds.dtype))
            t = torch.from_numpy(np.ascontiguousarray(ds[()], dtype=np.float32))
            if not bool(torch.isfinite(t).all()):
                die('%s: %s holds NaN or inf' % (path, k))
            sd[k] = t
    net.load_state_dict(sd, strict=True)
    del sd


def read_batch(path):
    with _open_h5(path, 'batch') as f:
        for k in ('features', 'labels'):
            if k not in f:
                die('%s: missing dataset %r' % (path, k))
        x = np.ascontiguousarray(f['features'][()], dtype=np.float32)
        y = np.ascontiguousarray(f['labels'][()], dtype=np.float32)
        ema = {}
        for k in ('ema_mu', 'ema_var'):
            if k in f.attrs:
                try:
                    ema[k] = float(np.asarray(f.attrs[k]).reshape(()))
                except Exception:
                    die('%s: attribute %s is not a number' % (path, k))
    if x.ndim != 3 or x.shape[2] != FEATURE_DIM:
        die('%s: features has shape %s, expected [B,T,%d]' % (path, x.shape, FEATURE_DIM))
    B, T = x.shape[0], x.shape[1]
    if B < 1:
        die('%s: empty batch' % path)
    if y.shape != (B, NUM_CLASSES):
        die('%s: labels has shape %s, expected [%d,%d]' % (path, y.shape, B, NUM_CLASSES))
    if T // 8 + 17 > T:
        die('%s: T=%d is below 19: the official actionness top-k takes T//8 + 17 segments' % (path, T))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        die('%s: features/labels hold NaN or inf' % path)
    if (y < 0).any() or (y.sum(1) <= 0).any():
        die('%s: labels must be non-negative with at least one positive per video (the official CE divides by '
            'the label sum)' % path)
    if 'ema_mu' in ema and not np.isfinite(ema['ema_mu']):
        die('%s: ema_mu is not finite' % path)
    if 'ema_var' in ema and not (np.isfinite(ema['ema_var']) and ema['ema_var'] > 0):
        die('%s: ema_var must be finite and > 0 (the mask divides by it)' % path)
    return x, y, ema


# ----------------------------------------------------------------------------- the official step

class _Recorder(object):
    """Outputs of the official loss modules and of F.mse_loss / F.kl_div, in call order."""

    def __init__(self, O):
        self.O = O
        self.rec = self.fresh()

    @staticmethod
    def fresh():
        return {'ce': [], 'gce': [], 'mse': [], 'kl': []}

    def __enter__(self):
        O = self.O
        kinds = ((O.loss.CrossEntropyLoss, 'ce'), (O.loss.GeneralizedCE_Mask, 'gce'))

        def hook(module, inp, out):
            for cls, key in kinds:
                if type(module) is cls:
                    self.rec[key].append(out)
        self.handle = O.torch.nn.modules.module.register_module_forward_hook(hook)
        F = O.main.F
        self.F = F
        outer = self

        class Fproxy(object):
            def __getattr__(_, name):
                return getattr(F, name)

            @staticmethod
            def mse_loss(*a, **k):
                out = F.mse_loss(*a, **k)
                outer.rec['mse'].append(out)
                return out

            @staticmethod
            def kl_div(*a, **k):
                out = F.kl_div(*a, **k)
                outer.rec['kl'].append(out)
                return out
        O.main.F = Fproxy()
        return self

    def __exit__(self, *exc):
        self.handle.remove()
        self.O.main.F = self.F
        return False


class _StandInOptimizer(object):
    """zero_grad() zeroes the gradients; step() records the official loop's locals, the gradients, the loss
    records and the trainer's EMA state (the weights are never changed)."""

    def __init__(self, net, trainer_code, recorder, trainer_ref):
        self.net = net
        self.code = trainer_code
        self.recorder = recorder
        self.trainer = trainer_ref
        self.steps = []
        self.t0 = None

    def zero_grad(self, *a, **k):
        for p in self.net.parameters():
            p.grad = None
        self.t0 = time.time()

    def step(self, *a, **k):
        dt = time.time() - self.t0
        frame = sys._getframe(1)
        if frame.f_code is not self.code:
            die('the official ThumosTrainer.train() loop changed: optimizer.step() called from %s'
                % frame.f_code.co_name, 3)
        loc = dict(frame.f_locals)
        tr = self.trainer[0]
        grads = {n: p.grad.detach().clone() for n, p in self.net.named_parameters()}
        self.steps.append({'locals': loc, 'grads': grads, 'rec': self.recorder.rec, 'seconds': dt,
                           'ema_mu': float(tr.prob_max_mu_t), 'ema_var': float(tr.prob_max_var_t)})
        self.recorder.rec = _Recorder.fresh()


def _boundary_ties(torch, score, k, dim):
    """How many top-k selections (rows along `dim`) have a tie across the k-th / (k+1)-th boundary, i.e. a set
    that depends on the implementation's tie order."""
    n = score.shape[dim]
    if k >= n:
        return 0
    s, _ = torch.sort(score.detach(), dim=dim, descending=True)
    kth = s.narrow(dim, k - 1, 1)
    nxt = s.narrow(dim, k, 1)
    return int((kth == nxt).sum())


def official_steps(O, net, x, y, dtype, steps, ema_in):
    torch = O.torch
    B, T, _ = x.shape
    tdt = torch.float64 if dtype == 'float64' else torch.float32
    config = make_config(O, T)
    net.to(tdt).train()
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    batches = [(x, y)]
    if steps == 2:
        batches.append((np.roll(x, -1, axis=0), np.roll(y, -1, axis=0)))  # video b+1 at position b
    loader = [(torch.from_numpy(np.ascontiguousarray(xb)).to(tdt), torch.from_numpy(np.ascontiguousarray(yb)).to(tdt),
               None, ['v%d' % b for b in range(B)], torch.full((B,), T)) for xb, yb in batches]

    def model_factory(len_feature, num_classes, num_segments, *a, **k):
        if (len_feature, num_classes, num_segments) != (FEATURE_DIM, NUM_CLASSES, T):
            die('the official trainer asked for Model%s' % ((len_feature, num_classes, num_segments),), 3)
        return net
    main = O.main
    saved = (main.Model, main.get_dataloaders)
    main.Model = model_factory
    main.get_dataloaders = lambda cfg: (loader, None)
    try:
        tr = main.ThumosTrainer(config)          # the official __init__: losses (q = 0.5), EMA state, ema_p
    finally:
        main.Model, main.get_dataloaders = saved
    if tr.net is not net:
        die('the official trainer did not take the given model', 3)
    if 'ema_mu' in ema_in:
        tr.prob_max_mu_t = ema_in['ema_mu']
    if 'ema_var' in ema_in:
        tr.prob_max_var_t = ema_in['ema_var']
    ema_first = (float(tr.prob_max_mu_t), float(tr.prob_max_var_t))
    with _Recorder(O) as rec:
        opt = _StandInOptimizer(net, main.ThumosTrainer.train.__code__, rec, [tr])
        tr.optimizer = opt
        tr.train()
    if len(opt.steps) != steps:
        die('the official loop ran %d steps, expected %d' % (len(opt.steps), steps), 3)

    results = []
    ema_prev = ema_first
    for s in opt.steps:
        loc, r = s['locals'], s['rec']
        if not (len(r['ce']) == 4 and len(r['gce']) == 4 and len(r['mse']) == 1 and len(r['kl']) == 1):
            die('official loss calls differ from the expected 4 CE, 4 GCE_Mask, 1 mse, 1 kl_div: %s'
                % {k: len(v) for k, v in r.items()}, 3)
        mil, se_fused, se_flow, se_rgb = r['ce']
        act_flow, act_rgb, mix_flow, mix_rgb = r['gce']
        mse, kl = r['mse'][0], r['kl'][0]
        act = act_flow + act_rgb
        mix = mix_flow + mix_rgb
        se = se_fused + se_flow + se_rgb
        cost = loc['cost']
        # the official line: mil_loss + mc_loss + bg_loss + act_loss + 3*se_loss + mix_loss, re-evaluated in order
        total_re = mil + 5 * mse + 10 * kl + act + 3 * se + mix
        diff = float((cost.detach() - total_re.detach()).abs())
        if diff > 1e-6 * max(1.0, abs(float(cost))):
            die('official total %.9g != weighted sum %.9g (|diff| %.3g)' % (float(cost), float(total_re), diff), 3)
        for name, mine in (('mil_loss', mil), ('act_loss', act), ('mix_loss', mix), ('se_loss', se)):
            if float(loc[name]) != float(mine):
                die('recorded %s %.9g != the official local %.9g' % (name, float(mine), float(loc[name])), 3)
        cas_bg = loc['cas_bg']
        cas_top_bg = torch.mean(torch.gather(cas_bg, 1, loc['topk_indices_bg']), dim=1)  # before the softmax
        if not torch.equal(torch.softmax(cas_top_bg, -1), loc['cas_top_bg']):
            die('re-evaluated cas_top_bg does not reproduce the official softmax(cas_top_bg)', 3)
        k = T // config.r
        ties = {
            'ties_mil': _boundary_ties(torch, loc['combined_cas'], k, 1),
            'ties_bg': _boundary_ties(torch, torch.softmax(cas_bg, -1), k, 1),
            'ties_agno': _boundary_ties(torch, loc['action'], k + 17, 1),
            'ties_conf': _boundary_ties(torch, loc['confidence'], T // 2, 1),
            'conf_zero': int((loc['confidence'] == 0).sum()),
        }
        losses = {'total': cost, 'mil': mil, 'mse': mse, 'kl': kl, 'act': act, 'act_flow': act_flow,
                  'act_rgb': act_rgb, 'se': se, 'se_fused': se_fused, 'se_flow': se_flow, 'se_rgb': se_rgb,
                  'mix': mix, 'mix_flow': mix_flow, 'mix_rgb': mix_rgb}
        out = {'loss/' + n: losses[n] for n in LOSS_NAMES}
        for name, _, _ in KEYS:
            out['grad/' + name] = s['grads'][name]
        out.update(debug_outputs(loc, loc['cas'], cas_top_bg, B, T, tdt))
        meta = {'ema_mu_in': ema_prev[0], 'ema_var_in': ema_prev[1], 'ema_mu': s['ema_mu'],
                'ema_var': s['ema_var'], 'total_minus_weighted_sum': diff, 'seconds': s['seconds']}
        meta.update(ties)
        ema_prev = (s['ema_mu'], s['ema_var'])
        results.append((out, meta))
    return results


def write_out(path, results, B, T, dtype):
    npdt = np.float64 if dtype == 'float64' else np.float32
    with atomic_h5(path) as f:
        for i, (out, meta) in enumerate(results):
            g = f if i == 0 else f.create_group('step%d' % (i + 1))
            for k, v in out.items():
                g.create_dataset(k, data=v.detach().cpu().numpy().astype(npdt))
            for k, v in meta.items():
                g.attrs[k] = v
        f.attrs['B'] = B
        f.attrs['T'] = T
        f.attrs['dtype'] = dtype
        f.attrs['steps'] = len(results)


# ----------------------------------------------------------------------------- formula inputs

def _formula():
    """hash_uniform / formula_batch: the numpy twins of tests/parity_formula.h (tools/make_parity_golden.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import make_parity_golden as mpg
    return mpg.hash_uniform, mpg.formula_batch


def make_inputs(wpath, bpath, B, T, seed, ema_mu=None, ema_var=None, keys_for=None):
    """Formula WEIGHTS.h5 and BATCH.h5; keys_for(C) gives another model's state_dict keys (default KEYS)."""
    _, formula_batch = _formula()
    x, y = formula_batch(B, T, seed)
    with atomic_h5(wpath) as f:
        write_formula_weights(f, seed, keys_for(y.shape[1]) if keys_for else KEYS)
    with atomic_h5(bpath) as f:
        f.create_dataset('features', data=x)
        f.create_dataset('labels', data=y)
        f.attrs['seed'] = seed
        if ema_mu is not None:
            f.attrs['ema_mu'] = float(ema_mu)
        if ema_var is not None:
            f.attrs['ema_var'] = float(ema_var)


def write_formula_weights(f, seed, keys=None):
    """Dataset t of `keys` (name, shape, fan_in; default KEYS): (2u - 1)/sqrt(fan_in) with u = hash_uniform(i, 1000*seed + t + 1), rounded to float32
    (tests/parity_formula.h formula_weights), written in blocks of rows so that fc1 (134 M entries) needs only a
    few hundred MB."""
    hash_uniform, _ = _formula()
    for t, (name, shape, fan_in) in enumerate(KEYS if keys is None else keys):
        n = int(np.prod(shape))
        row = n // shape[0]
        rows = max(1, (1 << 22) // row)
        bound = 1.0 / np.sqrt(float(fan_in))
        ds = f.create_dataset(name, shape=shape, dtype=np.float32)
        for r0 in range(0, shape[0], rows):
            r1 = min(shape[0], r0 + rows)
            u = hash_uniform(np.arange(r0 * row, r1 * row, dtype=np.uint64), 1000 * seed + t + 1)
            ds[r0:r1] = ((2.0 * u - 1.0) * bound).astype(np.float32).reshape((r1 - r0,) + tuple(shape[1:]))


# ----------------------------------------------------------------------------- CLI

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest='cmd', required=True)
    ps = sub.add_parser('step', help='run the official step(s) and write OUT.h5')
    ps.add_argument('weights')
    ps.add_argument('batch')
    ps.add_argument('out')
    ps.add_argument('--dtype', choices=('float32', 'float64'), default='float32',
                    help='run the official code in this precision (float32 = as published)')
    ps.add_argument('--steps', type=int, choices=(1, 2), default=1,
                    help='2: a second step on the batch rolled by one video, EMA state carried')
    ps.add_argument('--threads', type=int, default=2)
    pm = sub.add_parser('make-inputs', help='write formula WEIGHTS.h5 and BATCH.h5 (tests/parity_formula.h)')
    pm.add_argument('weights')
    pm.add_argument('batch')
    pm.add_argument('--B', type=int, required=True)
    pm.add_argument('--T', type=int, required=True)
    pm.add_argument('--seed', type=int, required=True)
    pm.add_argument('--ema-mu', type=float, default=None, help='root attribute ema_mu of BATCH.h5')
    pm.add_argument('--ema-var', type=float, default=None, help='root attribute ema_var of BATCH.h5')
    a = p.parse_args()

    if a.cmd == 'make-inputs':
        if a.B < 1 or a.T < 19 or a.seed < 0:
            p.error('--B must be >= 1, --T >= 19 and --seed >= 0')
        t0 = time.time()
        make_inputs(a.weights, a.batch, a.B, a.T, a.seed, a.ema_mu, a.ema_var)
        print('wrote %s (formula weights, seed %d) and %s (B=%d T=%d) in %.1f s' % (
            a.weights, a.seed, a.batch, a.B, a.T, time.time() - t0))
        return

    if a.threads < 1:
        p.error('--threads must be >= 1')
    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):
        die('%s: directory %s does not exist' % (a.out, out_dir))
    if not os.path.isfile(a.weights):
        die('%s: no such weights file' % a.weights)
    t_start = time.time()
    x, y, ema = read_batch(a.batch)
    B, T = x.shape[0], x.shape[1]
    O = load(a.threads)
    t_import = time.time()
    net = O.model.Model(FEATURE_DIM, NUM_CLASSES, T)   # the official init (fc1: kaiming_normal_), then replaced
    keys = list(net.state_dict().keys())
    if keys != [k for k, _, _ in KEYS]:
        die('the official Model state_dict differs from the expected 16 keys: %s' % keys, 3)
    t_model = time.time()
    load_weights(a.weights, net)
    t0 = time.time()
    results = official_steps(O, net, x, y, a.dtype, a.steps, ema)
    dt = time.time() - t0
    write_out(a.out, results, B, T, a.dtype)
    t_end = time.time()
    for i, (out, meta) in enumerate(results):
        L = {k.split('/')[1]: float(v) for k, v in out.items() if k.startswith('loss/')}
        print('step %d: B=%d T=%d  total=%.7g mil=%.7g mse=%.7g kl=%.7g act=%.7g se=%.7g mix=%.7g  '
              'ema mu %.9g -> %.9g, var %.9g -> %.9g  (%.2f s)' % (
                  i + 1, B, T, L['total'], L['mil'], L['mse'], L['kl'], L['act'], L['se'], L['mix'],
                  meta['ema_mu_in'], meta['ema_mu'], meta['ema_var_in'], meta['ema_var'], meta['seconds']))
        ties = {k: v for k, v in meta.items() if k.startswith('ties_') and v}
        if ties:
            print('step %d: WARNING: top-k boundary ties (the selected set depends on the tie order): %s' % (
                i + 1, ties))
        print('step %d: check: total - (mil + 5*mse + 10*kl + act + 3*se + mix) = %.3g -> OK' % (
            i + 1, meta['total_minus_weighted_sum']))
    print('official loop %.2f s (steps %s s); imports+batch %.1f s, official Model() %.1f s, weights %.1f s, '
          'writing %.1f s; wrote %s' % (dt, '/'.join('%.2f' % m['seconds'] for _, m in results),
                                        t_import - t_start, t_model - t_import, t0 - t_model, t_end - t0 - dt, a.out))


if __name__ == '__main__':
    main()
