#!/usr/bin/env python3
"""Train the OFFICIAL FTCL (CVPR 2022, MengyuanChen21/CVPR2022-FTCL) with its own main() on a dataset ROOT (CPU), one
stage, and report the official test of the final weights.

  ftcl_official_train.py --root ROOT --out-dir DIR --stage a|b --epochs N --segments T [--feature-dim 2048]
      [--seed 0] [--checkpoint STAGE_A.pth] [--threads 2] [--without-contrast]
  ftcl_official_train.py --time-only [--pairs 16] [--segments 750] [--steps 3] [--warmup 1] [--out-json F]

--time-only: the official train_thu.train() in stage B (FTCLNet on both sides, FTCLLoss with its Python DP loops,
backward, the official Adam) on random in-memory pairs (half of them positives), each step timed from the loop
taking its batch to the end of the optimizer's step (compute only: the batches are in memory).

ROOT: the official layout, as `aicl_data export --layout concat` writes it (train/ and test/ <video>.npy [L, D],
gt.json, split_train.txt, split_test.txt). Nothing of the official code is copied here: it is loaded at run time by
tools/ftcl_oracle.py's loader (OFFICIAL_FTCL; wandb stubbed, tqdm a pass-through when absent). What runs is the
official main_thu.main(args) itself, with args from the official build_args(dataset="THUMOS") on the command line
`main_thu.py --without_wandb --epochs N --seed S [--ftcl --checkpoint A.pth]` (stage B) and the official
setup_seed(args.seed) first, as `python main_thu.py ...` runs; changed in args: data_dir and test_gt_file_path = ROOT,
sample_segments_num = T (training random_sample and test uniform_sample), feature_dim = D (the features' width),
start_test_epoch = N - 1 (only the final weights are tested: the official run tests after every epoch and keeps the
best on test; here the comparison is of final weights), group/model_name so that the checkpoints land in DIR.
Shims: torch.device("cuda") is the CPU in main_thu (the model, the batches and args.device live there); .cuda() is a
no-op (loader); sklearn (imported, never called) stubbed when absent; the evaluator's joblib.Parallel runs in threads. The official test() evaluates with the official ANETDetection (tIoU arange(0.1, 1.0, 0.1), the mean of
the first 7 reported).

Writes DIR/report.json {average_mAP, mAP (7 values), test_acc, epochs, steps, seconds, losses per epoch} and
DIR/THUMOS_latest.pth (the official checkpoint of the final weights; stage B's --checkpoint) and DIR/WEIGHTS.h5
(official state_dict keys, aicl_eval / aicl_train --init-weights).
"""
import argparse
import importlib
import json
import os
import sys
import time
import types

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ftcl_oracle  # noqa: E402
import sal_oracle as so  # noqa: E402


class _TorchCpuDevice(types.ModuleType):
    """main_thu's `torch`: the real module, except that torch.device("cuda") is the CPU."""

    def __init__(self, torch):
        super().__init__('torch')
        self._torch = torch

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def device(self, *a, **k):
        return self._torch.device('cpu')


def time_only(a):
    """The official stage-B step (train_thu.train with args.ftcl: FTCLNet forward on both sides, FTCLLoss with its LCS and
    FSD loops, backward, the official Adam) on random in-memory pairs, timed from the loop taking its batch to the end
    of step: the official loop runs the forward and FTCLLoss before it calls zero_grad, so zero_grad would miss them."""
    import statistics
    O = ftcl_oracle.load(a.threads)
    torch = O.torch
    old = sys.argv
    sys.argv = ['main_thu.py', '--without_wandb', '--ftcl']
    try:
        args = O.cfg.build_args(dataset='THUMOS')
    finally:
        sys.argv = old
    args.device = torch.device('cpu')
    args.feature_dim = a.feature_dim
    torch.manual_seed(0)
    model = O.FTCLNet(args)
    criterion = importlib.import_module('utils.ftcl_criterion').FTCLLoss(args)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=args.weight_decay)
    times, t0 = [], [0.0]
    step = opt.step

    def timed_step(*p, **k):
        r = step(*p, **k)
        times.append(time.perf_counter() - t0[0])
        return r

    def timed(batches):  # each step's clock starts when the official loop takes its batch
        for b in batches:
            t0[0] = time.perf_counter()
            yield b

    opt.step = timed_step
    g = torch.Generator().manual_seed(1)
    K = args.action_cls_num
    batches = []
    for _ in range(a.warmup + a.steps):
        y0 = torch.zeros(a.pairs, K)
        y1 = torch.zeros(a.pairs, K)
        for p in range(a.pairs):  # half the pairs share their class (positives), half do not
            c = int(torch.randint(K, (1,), generator=g))
            y0[p, c] = 1
            y1[p, c if p % 2 == 0 else (c + 1) % K] = 1
        batches.append((torch.rand(a.pairs, a.segments, a.feature_dim, generator=g),
                        torch.rand(a.pairs, a.segments, a.feature_dim, generator=g), y0, y1))
    O.train_thu.train(args, model, None, timed(batches), criterion, opt)
    med = statistics.median(times[a.warmup:])
    out = {'median_s': med, 'steps': times[a.warmup:], 'pairs': a.pairs, 'segments': a.segments,
           'feature_dim': a.feature_dim, 'threads': a.threads}
    if a.out_json:
        with open(a.out_json, 'w') as f:
            json.dump(out, f)
    print('official FTCL stage-B step: median %.3f s over %d steps (P=%d pairs, T=%d, D=%d, %d threads)' % (
        med, a.steps, a.pairs, a.segments, a.feature_dim, a.threads))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument('--time-only', action='store_true', help='time the official stage-B step on random pairs')
    ap.add_argument('--steps', type=int, default=3, help='--time-only: timed steps')
    ap.add_argument('--warmup', type=int, default=1, help='--time-only: untimed first steps')
    ap.add_argument('--pairs', type=int, default=16, help='--time-only: pairs per step (32 videos)')
    ap.add_argument('--out-json', help='--time-only: write the timings here')
    ap.add_argument('--root')
    ap.add_argument('--out-dir')
    ap.add_argument('--stage', choices=['a', 'b'])
    ap.add_argument('--epochs', type=int)
    ap.add_argument('--segments', type=int, default=750)
    ap.add_argument('--feature-dim', type=int, default=2048)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--checkpoint', help='stage B: the stage-A official checkpoint (.pth)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--without-contrast', action='store_true',
                    help='the official --without_lcs --without_fsd (stage A = plain ACM-Net)')
    a = ap.parse_args()
    if a.time_only:
        return time_only(a)
    if not (a.root and a.out_dir and a.stage and a.epochs is not None):
        ap.error('--root, --out-dir, --stage and --epochs are required (or --time-only)')
    if a.stage == 'b' and not a.checkpoint:
        ap.error('--stage b needs --checkpoint (stage A\'s THUMOS_latest.pth)')
    if a.epochs < 1:
        ap.error('--epochs must be >= 1')
    O = ftcl_oracle.load(a.threads)
    torch = O.torch
    sys.modules.setdefault('wandb', types.ModuleType('wandb'))
    so.stub_sklearn()
    main_thu = importlib.import_module('main_thu')
    main_thu.torch = _TorchCpuDevice(torch)
    out = os.path.abspath(a.out_dir)
    os.makedirs(out, exist_ok=True)
    argv = ['main_thu.py', '--without_wandb', '--epochs', str(a.epochs), '--seed', str(a.seed),
            '--group', 'g', '--model_name', 'm']
    if a.stage == 'b':
        argv += ['--ftcl', '--checkpoint', os.path.abspath(a.checkpoint)]
    if a.without_contrast:
        argv += ['--without_lcs', '--without_fsd']
    old = sys.argv
    sys.argv = argv
    try:
        args = O.cfg.build_args(dataset='THUMOS')
    finally:
        sys.argv = old
    args.data_dir = os.path.abspath(a.root)
    args.test_gt_file_path = os.path.join(args.data_dir, 'gt.json')
    args.sample_segments_num = a.segments
    args.feature_dim = a.feature_dim
    args.start_test_epoch = a.epochs - 1
    tests, epochs_log, steps = [], [], [0]
    official_test, official_train = main_thu.test, main_thu.train

    def test(*p, **k):
        r = official_test(*p, **k)
        tests.append(r[0])
        return r

    def train(args_, model, loader, pair_loader, *p, **k):
        counted = pair_loader if args_.ftcl else loader
        steps[0] += len(counted)
        r = official_train(args_, model, loader, pair_loader, *p, **k)
        epochs_log.append({k2: float(v) for k2, v in r.items() if np.isscalar(v)})
        return r

    main_thu.test, main_thu.train = test, train
    test_thu = importlib.import_module('test_thu')
    evals = []

    class Recorded(test_thu.ANETDetection):  # the official evaluator; its per-tIoU mAP kept for the report
        def evaluate(self):
            r = super().evaluate()
            evals.append([float(x) for x in self.mAP[:7]])
            return r

    test_thu.ANETDetection = Recorded
    import joblib
    ne = importlib.import_module('utils.net_evaluation')  # the same per-class function in threads: loky workers
    ne.Parallel = lambda *p, **k: joblib.Parallel(*p, backend='threading', **k)  # lack the loader's numpy aliases
    main_thu.setup_seed(args.seed)
    t0 = time.time()
    main_thu.main(args)
    seconds = time.time() - t0
    save_dir = args.save_dir
    ckpt = os.path.join(save_dir, 'THUMOS_latest.pth')
    os.replace(ckpt, os.path.join(out, 'THUMOS_latest.pth'))
    state = torch.load(os.path.join(out, 'THUMOS_latest.pth'), map_location='cpu')['model_state_dict']
    with so.atomic_h5(os.path.join(out, 'WEIGHTS.h5')) as f:
        for k, v in state.items():
            f.create_dataset(k, data=v.detach().numpy())
    last = tests[-1]
    report = {'stage': a.stage, 'epochs': a.epochs, 'steps': steps[0], 'seed': a.seed, 'segments': a.segments,
              'feature_dim': a.feature_dim, 'average_mAP': float(last['test_mAP']) / 100, 'mAP': evals[-1],
              'test_acc': float(last['test_acc']), 'seconds': seconds, 'epoch_logs': epochs_log}
    with open(os.path.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    print('official FTCL stage %s: %d epochs (%d steps) in %.0f s; final weights: test avg mAP %.4f, test acc %.4f'
          % (a.stage, a.epochs, steps[0], seconds, report['average_mAP'], report['test_acc']))


if __name__ == '__main__':
    main()
