#!/usr/bin/env python3
"""Train the OFFICIAL SAL (Neural Networks 2024, lizhilin-ustc/SAL) with its own trainer on a dataset ROOT (CPU),
then run the official inference + evaluation on its test split; or time the official step alone.

  sal_official_train.py --root ROOT --out-dir DIR --steps N --segments T [--batch-size 2] [--seed 1] [--lr 1e-4]
  sal_official_train.py --time-only --steps N [--segments 750] [--batch-size 2] [--threads 2]

Nothing of the official code is copied here: it is loaded at run time by tools/sal_oracle.py (OFFICIAL_SAL, default
/work/.mirror/lizhilin-ustc+SAL/repo; .cuda() is a no-op, tqdm and other missing modules are stubbed). In addition,
torch.Tensor.cpu returns a copy, as the device-to-host copy of the official GPU runs does (AICL-Q1: on a CPU tensor
.cpu() aliases and inference_thumos.py would binarise score_supp in place); --cpu-aliasing keeps PyTorch's CPU
behaviour.

Training, as main_thumos.py: the official Config through the official parse_args (official defaults: q 0.5, r 8,
hp_lambda 0.1, class_th 0.25, gamma 0.2, nms_thresh 0.4, nms_alpha 0.3, scale 24) with --data_path ROOT,
--num_segments T, --batch_size, --lr, --seed, --num_workers 0 and --soft_nms (as scripts/train.sh and
scripts/inference.sh); the official set_seed(config); ThumosTrainer(config) (Model, ThumosFeature loaders: train
random_perturb to T, shuffled; test uniform to T, batch 1; Adam(lr, betas (0.9, 0.999), weight_decay 5e-4)); then
the official ThumosTrainer.train() itself runs, with num_epochs = ceil(N / batches per epoch). Replaced: the
trainer's evaluate() (the official run evaluates on the test split every detection_inf_step steps from epoch 1 on and
keeps the best checkpoint; here nothing is evaluated during training unless --eval-every K, and the FINAL weights are
kept), and the train loader is wrapped so that it stops after N batches and times each batch; the optimizer is
wrapped (the official Adam still does the step) so that the end of each step is timed. Data loader workers are 0,
which changes only speed and the numpy RNG stream of random_perturb. Timing: median seconds per step after --warmup
steps, whole step (batch loading included) and compute only (forward, losses, backward, Adam). Then the official
inference() (soft-NMS, alpha 0.3) on the test split and the official evaluation (run_eval.evaluate -> ANETEval,
tIoU linspace(0.1, 0.7, 7), subset 'test'). Writes DIR/WEIGHTS.h5 (official state_dict keys; --no-weights skips it),
DIR/detections.json (the official temp_result.json), DIR/report.json (mAP per tIoU, average, cls_acc, timings,
losses). --record-batches FILE also writes each step's videos and the segment indices the official loader drew for
them, which `aicl_train --replay-batches FILE` replays (the same data stream on both trainers).
--replay-batches FILE trains the official model on such a file's batches instead (built by the official dataset
code), so that a run can change one random stream (the dropout masks: --aicl-dropout, --aicl-dropout-steps) and keep
the batches.

--time-only: the same official trainer and train() loop on a stand-in loader of random B x T x 2048 batches held in
memory (non-negative features, one random class per video), real Adam, dropout on; prints the median seconds of the
N timed steps (forward + losses + backward + Adam) after --warmup untimed ones, and writes --out-json if given.
"""
import argparse
import copy
import json
import math
import os
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sal_oracle as so  # noqa: E402  (the loader of the official code: imported, not duplicated)

NUM_CLASSES = 20


def die(msg, code=2):
    so.die(msg, code)


def atomic_json(path, obj):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.json', dir=d)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def check_root(root):
    for f in ('gt.json', 'split_train.txt', 'split_test.txt'):
        if not os.path.isfile(os.path.join(root, f)):
            die('%s: missing %s (expected the official layout: features/{train,test}/{rgb,flow}/<video>.npy, '
                'gt.json, split_{train,test}.txt; aicl_data export writes it)' % (root, f))
    for mode in ('train', 'test'):
        vids = [l.strip() for l in open(os.path.join(root, 'split_%s.txt' % mode)) if l.strip()]
        if not vids:
            die('%s: split_%s.txt is empty' % (root, mode))
        for v in vids:
            for mod in ('rgb', 'flow'):
                p = os.path.join(root, 'features', mode, mod, v + '.npy')
                if not os.path.isfile(p):
                    die('%s: missing feature file %s' % (root, os.path.relpath(p, root)))


def official_config(O, root, out, T, batch, lr, seed, soft_nms=True):
    """The official Config through the official parse_args."""
    flags = ['--exp_name', 'sal', '--model_name', 'ThumosModel', '--data_path', root,
             '--output_dir', out, '--num_segments', str(T), '--batch_size', str(batch), '--lr', repr(lr),
             '--seed', str(seed), '--num_workers', '0']
    return so.config_from_argv(O, flags + (['--soft_nms'] if soft_nms else []))


class TimedLoader(object):
    """Iterates the official DataLoader (a fresh iterator, i.e. a fresh shuffle, per epoch, as the official loop's
    `for ... in self.train_loader`) and stops for good after `limit` batches; records when each batch was asked
    for and when it was ready."""

    def __init__(self, inner, limit, record=False):
        self.inner, self.limit = inner, limit
        self.dataset = getattr(inner, 'dataset', None)
        self.served = 0
        self.t_ask, self.t_ready = [], []
        self.batches, self.drawn = [], None
        if record:  # each item's (video, sample_idx) as the official get_data draws it (num_workers 0: in order)
            self.drawn = []
            get_data = self.dataset.get_data

            def recording_get_data(index):
                out = get_data(index)
                self.drawn.append((self.dataset.vid_list[index], [int(i) for i in out[2]]))
                return out
            self.dataset.get_data = recording_get_data

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        if self.served >= self.limit:
            return
        it = iter(self.inner)
        while self.served < self.limit:
            t0 = time.time()
            try:
                item = next(it)
            except StopIteration:
                return
            self.t_ask.append(t0)
            self.t_ready.append(time.time())
            self.served += 1
            if self.drawn is not None:
                videos = [v for v, _ in self.drawn]
                if videos != list(item[3]):
                    die('recording the batches: the drawn videos %s are not the batch %s' % (videos, list(item[3])), 3)
                self.batches.append({'videos': videos, 'indices': [i for _, i in self.drawn]})
                self.drawn = []
            yield item


class TimedOptimizer(object):
    """The official Adam behind a proxy that records the end of each step and the step's loss (the official loop's
    local `cost`)."""

    def __init__(self, inner, train_code, every=10, total=0):
        self.inner, self.code, self.every, self.total = inner, train_code, every, total
        self.t_done, self.losses = [], []

    def zero_grad(self, *a, **k):
        return self.inner.zero_grad(*a, **k)

    def step(self, *a, **k):
        r = self.inner.step(*a, **k)
        self.t_done.append(time.time())
        frame = sys._getframe(1)
        if frame.f_code is not self.code:
            die('the official ThumosTrainer.train() loop changed: optimizer.step() called from %s'
                % frame.f_code.co_name, 3)
        loss = float(frame.f_locals['cost'].detach())
        self.losses.append(loss)
        n = len(self.losses)
        if loss != loss:
            die('loss became NaN at step %d' % n, 3)
        if self.every and (n == 1 or n % self.every == 0 or n == self.total):
            dt = ('  %.2f s since the previous step' % (self.t_done[-1] - self.t_done[-2])) if n > 1 else ''
            print('step %5d  loss %.4f%s' % (n, loss, dt), flush=True)
        return r

    def __getattr__(self, name):
        return getattr(self.inner, name)


def medians(loader, opt, warmup):
    n = len(opt.t_done)
    whole = [opt.t_done[i] - loader.t_ask[i] for i in range(n)]
    compute = [opt.t_done[i] - loader.t_ready[i] for i in range(n)]
    tail = lambda xs: xs[warmup:] if len(xs) > warmup else xs
    return statistics.median(tail(whole)), statistics.median(tail(compute)), whole, compute


def run_inference(O, net, config, test_loader, backend):
    """The official inference() (eval mode, no grad) and evaluation; returns (report, detections path)."""
    import joblib
    infer = sys.modules['inference_thumos']
    t0 = time.time()
    try:
        with joblib.parallel_backend(backend):
            mean_ap, test_acc, tiou_map = infer.inference(net, config, test_loader, model_file=None)
    except KeyError as e:
        die('%s: the official evaluator found a predicted label (%s) with no ground truth in subset "test"; use a '
            'dataset whose test split covers all 20 classes' % (config.gt_path, e))
    wall = time.time() - t0
    dets = os.path.join(config.model_path, 'temp_result.json')
    res = json.load(open(dets))
    import numpy as np
    tiou = [float(t) for t in np.linspace(0.1, 0.7, 7)]
    return {'tiou': tiou, 'mAP': [float(m) for m in tiou_map], 'average_mAP': float(mean_ap),
            'cls_acc': float(test_acc), 'segments': config.num_segments, 'soft_nms': bool(config.soft_nms),
            'nms_alpha': config.nms_alpha, 'nms_thresh': config.nms_thresh, 'class_th': config.class_thresh,
            'num_videos': len(test_loader.dataset),
            'num_detections': sum(len(v) for v in res['results'].values()),
            'gt': os.path.abspath(config.gt_path), 'subset': 'test', 'wall_s': round(wall, 3),
            'joblib_backend': backend}, dets


def print_report(r):
    print('official inference (segments %d, soft-NMS %s): %d videos, %d detections, cls_acc %.2f%%' % (
        r['segments'], 'on' if r['soft_nms'] else 'off', r['num_videos'], r['num_detections'], 100 * r['cls_acc']))
    print('  tIoU ' + ' '.join('%5.2f' % t for t in r['tiou']) + '   avg')
    print('  mAP  ' + ' '.join('%5.2f' % (100 * m) for m in r['mAP']) + '  %5.2f' % (100 * r['average_mAP']))


def save_weights(path, net):
    with so.atomic_h5(path) as f:
        for k, v in net.state_dict().items():
            f.create_dataset(k, data=v.detach().clone().numpy())


def philox_uniforms(seed, step, tensor, blocks):
    """aicl's dropout uniforms (kernels/dropout_philox.h): Philox4x32-10 of counter (block lo, block hi, tensor, step)
    and key (seed lo, seed hi), each 32-bit word >> 8 times 2^-24; [blocks * 4] float32 in element order."""
    import numpy as np
    M0, M1, W0, W1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57), 0x9E3779B9, 0xBB67AE85
    b = np.arange(blocks, dtype=np.uint64)
    c = [b & np.uint64(0xFFFFFFFF), b >> np.uint64(32), np.full(blocks, tensor, np.uint64),
         np.full(blocks, step, np.uint64)]
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    lo32 = np.uint64(0xFFFFFFFF)
    for r in range(10):
        if r:
            k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & lo32, (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1),
             p0 & lo32]
    words = np.stack(c, axis=1).reshape(-1)
    return (words >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def replace_dropout(net, masked):
    """Every nn.Dropout of the model calls masked(mod, torch_forward, x) instead of drawing torch's mask (in training
    with p > 0; otherwise it passes x through, as nn.Dropout does); torch_forward is the module's own forward."""
    torch = sys.modules['torch']

    def make(mod):
        torch_forward = mod.forward
        return lambda x: masked(mod, torch_forward, x) if mod.training and mod.p != 0 else x
    for mod in net.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.forward = make(mod)


def use_aicl_dropout(net, seed, steps=None):
    """Diagnostic: every nn.Dropout of the model draws aicl's masks instead of torch's (the same seed, 1-based step
    and site numbers 0-4 in the official call order flow, rgb, flow mix, rgb mix, encoder), so that the two trainers
    can be compared step by step with dropout on. With steps = (first, last), torch's own dropout still runs at every
    call (its global generator advances as in a plain run) and aicl's masks replace its output in those steps only."""
    import numpy as np
    torch = sys.modules['torch']
    calls = [0]

    def masked(mod, torch_forward, x):  # x [B, D, T]; aicl's element order is [B, T, D]
        site, step = calls[0] % 5, calls[0] // 5 + 1
        calls[0] += 1
        if steps is not None:
            y = torch_forward(x)
            if not steps[0] <= step <= steps[1]:
                return y
        B, D, T = x.shape
        u = philox_uniforms(seed, step, site, (B * T * D + 3) // 4)[:B * T * D]
        keep = torch.from_numpy((u < np.float32(1.0 - mod.p)).reshape(B, T, D)).permute(0, 2, 1)
        return x * keep.to(x.dtype) * (1.0 / (1.0 - mod.p))
    replace_dropout(net, masked)


class ReplayLoader(object):
    """Diagnostic: the official train loader's batches as recorded by --record-batches (videos and segment indices of
    every step), in order, each built by the official dataset itself (get_data with random_perturb answering the
    recorded indices, get_label, the default collate). It draws nothing for the data; it makes only the two draws
    per epoch the official DataLoader makes from torch's global generator, so with torch's masks the run is the
    recorded one and with --aicl-dropout it differs from it in the dropout masks only. len() is the official batches
    per epoch, so the official loop runs the same epochs; each epoch goes on where the previous one stopped."""

    def __init__(self, dataset, path, steps, batch_size):
        try:
            rec = json.load(open(path))['steps']
        except (OSError, ValueError, KeyError, TypeError) as e:
            die('--replay-batches %s: not a file written by --record-batches (%s)' % (path, e))
        if len(rec) < steps:
            die('--replay-batches %s: %d steps recorded, %d asked for' % (path, len(rec), steps))
        pos = dict((v, i) for i, v in enumerate(dataset.vid_list))
        for n, b in enumerate(rec[:steps]):
            if len(b['videos']) != batch_size or any(v not in pos for v in b['videos']):
                die('--replay-batches %s: step %d holds %s, not %d videos of the training split'
                    % (path, n + 1, b['videos'], batch_size))
        self.dataset, self.rec, self.pos = dataset, rec[:steps], pos
        self.next = 0
        self.per_epoch = int(math.ceil(len(dataset) / float(batch_size)))

    def __len__(self):
        return self.per_epoch

    def batch(self, step):
        import numpy as np
        torch = sys.modules['torch']
        ds, items = self.dataset, []
        for v, idx in zip(step['videos'], step['indices']):
            want = np.asarray(idx, dtype=int)
            ds.random_perturb = lambda length, want=want: want
            try:
                items.append(ds[self.pos[v]])
            finally:
                del ds.random_perturb
        return torch.utils.data.dataloader.default_collate(items)

    def __iter__(self):
        # the two draws the official DataLoader(shuffle=True) makes from torch's global generator per epoch (the
        # iterator's base seed, the RandomSampler's seed), so that torch's own dropout masks stay those of the run
        torch = sys.modules['torch']
        for _ in range(2):
            torch.empty((), dtype=torch.int64).random_()
        for _ in range(self.per_epoch):
            if self.next >= len(self.rec):
                return
            self.next += 1
            yield self.batch(self.rec[self.next - 1])


def use_own_generator_dropout(net, seed):
    """Diagnostic: every nn.Dropout of the model draws torch's own Bernoulli masks (bernoulli_ on [B, D, T], as
    nn.Dropout does) from a torch.Generator of its own seeded with `seed`, not from the global generator. The global
    generator (the official shuffle) is then drawn as under --aicl-dropout: the same epoch orders as that run, with
    masks of torch's kind instead of aicl's."""
    torch = sys.modules['torch']
    gen = torch.Generator()
    gen.manual_seed(seed)

    def masked(mod, torch_forward, x):
        keep = torch.empty_like(x).bernoulli_(1.0 - mod.p, generator=gen)
        return x * keep * (1.0 / (1.0 - mod.p))
    replace_dropout(net, masked)


def write_batches(path, config, loader):
    """The recorded batches, in the layout aicl_train --replay-batches reads."""
    atomic_json(path, {'source': 'official SAL ThumosFeature train loader (num_workers 0)', 'seed': config.seed,
                       'segments': config.num_segments, 'steps': loader.batches})


def build_trainer(O, config, loaders=None):
    """The official ThumosTrainer(config); with `loaders`, main_thumos.get_dataloaders is replaced while it runs."""
    main = O.main
    if loaders is None:
        return main.ThumosTrainer(config)
    saved = main.get_dataloaders
    main.get_dataloaders = lambda cfg: loaders
    try:
        return main.ThumosTrainer(config)
    finally:
        main.get_dataloaders = saved


def train(a):
    check_root(a.root)
    O = so.load(a.threads)
    if not a.cpu_aliasing:
        O.torch.Tensor.cpu = lambda self, *x, **k: self.clone()
    torch = O.torch
    os.makedirs(a.out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix='sal_official_out_')
    config = official_config(O, os.path.abspath(a.root), work, a.segments, a.batch_size, a.lr, a.seed,
                             not a.no_soft_nms)
    O.main.set_seed(config)
    trainer = build_trainer(O, config)
    if a.no_dropout:  # a diagnostic, not the official recipe: every nn.Dropout of the model at p = 0
        for mod in trainer.net.modules():
            if isinstance(mod, torch.nn.Dropout):
                mod.p = 0.0
    if a.aicl_dropout or a.aicl_dropout_steps:  # steps None: aicl's masks at every step, torch's never drawn
        use_aicl_dropout(trainer.net, a.seed, a.aicl_dropout_steps)
    if a.own_generator_dropout:
        use_own_generator_dropout(trainer.net, a.seed)
    if a.replay_batches:
        trainer.train_loader = ReplayLoader(trainer.train_loader.dataset, a.replay_batches, a.steps,
                                            config.batch_size)
    if a.save_init:  # the official init (after set_seed), for a same-start comparison with ours (--init-weights)
        save_weights(a.save_init, trainer.net)
    if a.init_weights:  # a diagnostic: start from given weights (official keys) instead of the official init
        so.load_weights(a.init_weights, trainer.net)
    per_epoch = len(trainer.train_loader)
    config.num_epochs = int(math.ceil(a.steps / float(per_epoch)))
    print('official SAL trainer: %d train videos, %d test videos, T=%d, batch %d (%d steps/epoch), lr %g, seed %d, '
          '%d steps (%d epochs), %d threads' % (
              len(trainer.train_loader.dataset), len(trainer.test_loader.dataset), config.num_segments,
              config.batch_size, per_epoch, config.lr, config.seed, a.steps, config.num_epochs,
              torch.get_num_threads()), flush=True)
    loader = TimedLoader(trainer.train_loader, a.steps, record=bool(a.record_batches))
    trainer.train_loader = loader
    if a.no_train:  # the official stream alone: epochs of the loader after the official init, no model step
        while loader.served < a.steps:
            for _ in loader:
                pass
        write_batches(a.record_batches, config, loader)
        print('wrote %d batches of the official loader to %s (no training)' % (loader.served, a.record_batches))
        return
    opt = TimedOptimizer(trainer.optimizer, O.main.ThumosTrainer.train.__code__, a.log_every, a.steps)
    trainer.optimizer = opt
    evals = []

    def evaluate(epoch=0):  # replaces ThumosTrainer.evaluate (official: every detection_inf_step steps, epoch > 0)
        if a.eval_every and trainer.step % a.eval_every == 0:
            r, _ = run_inference(O, trainer.net, config, trainer.test_loader, a.joblib_backend)
            trainer.net.train()
            evals.append({'step': trainer.step, 'average_mAP': r['average_mAP'], 'mAP': r['mAP']})
            print('step %5d  official avg mAP %.2f%%' % (trainer.step, 100 * r['average_mAP']), flush=True)
    trainer.evaluate = evaluate
    t0 = time.time()
    trainer.train()  # the official loop
    train_s = time.time() - t0
    if trainer.step != a.steps:
        die('the official loop ran %d steps, expected %d' % (trainer.step, a.steps), 3)
    if a.record_batches:
        write_batches(a.record_batches, config, loader)
    med, cmed, whole, compute = medians(loader, opt, a.warmup)
    print('trained %d steps in %.1f s: median %.3f s/step (after %d warm-up steps; compute only %.3f s/step)'
          % (trainer.step, train_s, med, a.warmup, cmed), flush=True)
    wpath = None
    if not a.no_weights:
        wpath = os.path.join(a.out_dir, 'WEIGHTS.h5')
        save_weights(wpath, trainer.net)
    icfg, iloader = config, trainer.test_loader
    if a.infer_segments and a.infer_segments != config.num_segments:
        import torch.utils.data as data
        icfg = copy.copy(config)
        icfg.num_segments = a.infer_segments
        iloader = data.DataLoader(
            O.main.ThumosFeature(data_path=icfg.data_path, mode='test', modal=icfg.modal,
                                 feature_fps=icfg.feature_fps, num_segments=icfg.num_segments,
                                 len_feature=icfg.len_feature, seed=icfg.seed, sampling='uniform',
                                 supervision='strong'),
            batch_size=1, shuffle=False, num_workers=0)
    r, dets = run_inference(O, trainer.net, icfg, iloader, a.joblib_backend)
    os.replace(dets, os.path.join(a.out_dir, 'detections.json'))
    print_report(r)
    report = dict(r)
    report.update({
        'method': 'sal (official code)', 'root': os.path.abspath(a.root), 'steps': trainer.step,
        'train_segments': config.num_segments, 'batch_size': config.batch_size, 'lr': config.lr, 'seed': config.seed,
        'threads': torch.get_num_threads(), 'torch': torch.__version__, 'gpu_semantics': not a.cpu_aliasing,
        'train_videos': len(trainer.train_loader.dataset), 'epochs': config.num_epochs,
        'sec_per_step_median': med, 'compute_sec_per_step_median': cmed, 'warmup': a.warmup, 'train_s': train_s,
        'ema_mu': float(trainer.prob_max_mu_t), 'ema_var': float(trainer.prob_max_var_t),
        'loss_first': opt.losses[0], 'loss_last10_mean': sum(opt.losses[-10:]) / len(opt.losses[-10:]),
        'losses': opt.losses, 'step_s': whole, 'compute_s': compute, 'evals': evals,
        'weights': os.path.abspath(wpath) if wpath else None})
    atomic_json(os.path.join(a.out_dir, 'report.json'), report)
    print('wrote %s/report.json, detections.json%s' % (a.out_dir, ', WEIGHTS.h5' if wpath else ''))


def time_only(a):
    O = so.load(a.threads)
    torch = O.torch
    import numpy as np
    B, T = a.batch_size, a.segments
    rng = np.random.RandomState(a.seed)
    batches = []
    for i in range(min(4, a.steps + a.warmup)):
        x = (rng.uniform(size=(B, T, 2048)) * rng.uniform(size=(B, T, 2048)) * 2.0).astype(np.float32)
        y = np.zeros((B, NUM_CLASSES), np.float32)
        y[np.arange(B), rng.randint(0, NUM_CLASSES, size=B)] = 1
        batches.append((torch.from_numpy(x), torch.from_numpy(y), None, ['r%d' % b for b in range(B)],
                        torch.full((B,), T)))
    n = a.steps + a.warmup
    stand_in = [batches[i % len(batches)] for i in range(n)]
    work = tempfile.mkdtemp(prefix='sal_official_out_')
    config = official_config(O, work, work, T, B, a.lr, a.seed)
    config.num_epochs = 1
    torch.manual_seed(a.seed)
    trainer = build_trainer(O, config, (stand_in, None))
    loader = TimedLoader(stand_in, n)
    trainer.train_loader = loader
    opt = TimedOptimizer(trainer.optimizer, O.main.ThumosTrainer.train.__code__, 0)
    trainer.optimizer = opt
    trainer.evaluate = lambda epoch=0: None
    trainer.train()
    if trainer.step != n:
        die('the official loop ran %d steps, expected %d' % (trainer.step, n), 3)
    _, cmed, _, compute = medians(loader, opt, a.warmup)
    timed = compute[a.warmup:]
    print('official SAL step (time-only): B=%d T=%d threads %d torch %s: %d timed steps after %d warm-up: '
          'median %.3f s/step (min %.3f, max %.3f)' % (B, T, torch.get_num_threads(), torch.__version__, len(timed),
                                                     a.warmup, cmed, min(timed), max(timed)), flush=True)
    if a.out_json:
        atomic_json(a.out_json, {'B': B, 'T': T, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                                 'warmup': a.warmup, 'compute_s': compute, 'median_s': cmed,
                                 'losses': opt.losses})


def step_range(text):
    try:
        first, last = (int(x) for x in text.split(':'))
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not FIRST:LAST (two step numbers)' % text)
    return first, last


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--root', help='dataset root in the official layout (aicl_data export)')
    p.add_argument('--out-dir', help='where report.json, detections.json and WEIGHTS.h5 go')
    p.add_argument('--time-only', action='store_true', help='time the official step on random batches only')
    p.add_argument('--steps', type=int, default=100, help='optimizer steps (time-only: timed steps)')
    p.add_argument('--segments', type=int, default=750, help='num_segments T for training')
    p.add_argument('--infer-segments', type=int, default=0, help='num_segments for inference (default: T)')
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--seed', type=int, default=1, help='official --seed')
    p.add_argument('--lr', type=float, default=1e-4)
    p.add_argument('--warmup', type=int, default=3, help='steps left out of the median timing')
    p.add_argument('--eval-every', type=int, default=0, help='official inference every K steps (0 = off)')
    p.add_argument('--log-every', type=int, default=10)
    p.add_argument('--no-soft-nms', action='store_true')
    p.add_argument('--no-dropout', action='store_true',
                   help='diagnostic: every nn.Dropout at p = 0 (ours: --method-config FILE holding {"dropout": 0})')
    p.add_argument('--init-weights', help='diagnostic: start from these weights (official state_dict keys; ours: '
                                          'aicl_train --init-weights) instead of the official init')
    p.add_argument('--save-init', help='write the official initial weights (after set_seed) here')
    p.add_argument('--no-weights', action='store_true', help='do not write WEIGHTS.h5 (583 MB)')
    p.add_argument('--aicl-dropout', action='store_true',
                   help='diagnostic: the dropout masks of aicl_train (Philox keyed by seed, step, site) instead of '
                        'torch\'s, for a step-by-step comparison with dropout on')
    p.add_argument('--aicl-dropout-steps', type=step_range, metavar='FIRST:LAST',
                   help='diagnostic: aicl\'s masks in steps FIRST..LAST only, torch\'s own (global generator, drawn at '
                        'every step) in the others; with --replay-batches a run of torch\'s masks is then the recorded '
                        'run itself')
    p.add_argument('--own-generator-dropout', action='store_true',
                   help='diagnostic: torch\'s Bernoulli masks from a generator of their own (seeded with --seed), so '
                        'the shuffle draws the global generator as under --aicl-dropout (the same epoch orders)')
    p.add_argument('--no-train', action='store_true',
                   help='with --record-batches: only draw the --steps batches (after the official init; with dropout '
                        'on, a real run\'s later epochs shuffle from another torch RNG state) and write them')
    p.add_argument('--record-batches', help='write each step\'s videos and sampled segment indices here (JSON; '
                                            'aicl_train --replay-batches replays them)')
    p.add_argument('--replay-batches', help='diagnostic: train on the batches a --record-batches run wrote (its videos '
                                            'and segment indices, in order) instead of the shuffled loader')
    p.add_argument('--joblib-backend', default='threading', choices=('threading',),
                   help='backend of the official evaluator\'s Parallel(n_jobs=#classes): threads run the same '
                        'official per-class function in this process (same numbers as loky, whose fresh worker '
                        'processes would lack the numpy np.float alias the official code needs)')
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.add_argument('--cpu-aliasing', action='store_true', help='keep PyTorch CPU semantics for .cpu() (aliasing)')
    p.add_argument('--out-json', help='--time-only: write the timings here')
    a = p.parse_args()
    if a.threads < 1 or a.steps < 1 or a.batch_size < 1 or a.warmup < 0:
        p.error('--threads, --steps and --batch-size must be >= 1, --warmup >= 0')
    if a.segments < 19:
        p.error('--segments must be >= 19 (the official actionness top-k takes T//8 + 17 segments)')
    if a.no_train and not a.record_batches:
        p.error('--no-train needs --record-batches')
    if a.aicl_dropout + a.own_generator_dropout + a.no_dropout + bool(a.aicl_dropout_steps) > 1:
        p.error('--aicl-dropout, --aicl-dropout-steps, --own-generator-dropout and --no-dropout exclude each other')
    if a.replay_batches and (a.record_batches or a.no_train):
        p.error('--replay-batches goes with neither --record-batches nor --no-train')
    if a.time_only:
        time_only(a)
    else:
        if not a.root or not a.out_dir:
            p.error('--root and --out-dir are required (or --time-only)')
        train(a)


if __name__ == '__main__':
    main()
