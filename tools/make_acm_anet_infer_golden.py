#!/usr/bin/env python3
"""Golden detections of the OFFICIAL ACM-Net ActivityNet 1.3 test post-processing (main_act.test of ispc-lab/ACM-Net)
on synthetic model outputs, for tests/cpu/test_acm_postprocess.cpp ("acm postprocess golden: ActivityNet").

  make_acm_anet_infer_golden.py OUT.json [--seed 0]

FTCL has no ActivityNet test of its own (../shared/specs/ftcl.md 4.4); aicl's FTCL ActivityNet variant declares
ACM-Net's (FtclMethod::postprocess_overrides): this checks that declaration against that code.

Nothing of the official code is copied: ACM-Net (OFFICIAL_ACMNET, a checkout or a git directory, `git archive
HEAD` of its code folders; default /work/.mirror/ispc-lab+ACM-Net/repo) is loaded at run time; wandb, tqdm (when absent) and sklearn (only
its evaluator uses it) are stubbed. What runs is the official test(args, model, dataloader, criterion) itself, with:
  - args: the official build_args(dataset="ActivityNet") (cls_threshold 0.10, test_upgrade_scale 20, nms_thresh 0.90,
    frames 16 / fps 25), save_dir a temporary directory, test False, device cpu;
  - model: a stand-in returning the 11 official outputs, of which test() reads act_inst_cls (the 201-way video
    scores), temp_att (the [1,T,3] attention) and act_inst_cas (the [1,T,201] CAS); they are synthetic float32 values
    written to OUT.json (compactly: the columns of a video's featured classes, and one shared value per time step
    for all other columns);
  - criterion: a stand-in returning a zero loss and the official loss_dict keys;
  - the data loader: one (name, features [1,T,1], labels, vid_len, duration) per video (the features are read only
    for their length T);
  - ANETDetection: a stand-in (evaluate() returns 0).
The official result file written by test() is read back into OUT.json's "official" key.
"""
import argparse
import atexit
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sal_oracle as so  # noqa: E402

DEFAULT_SOURCE = '/work/.mirror/ispc-lab+ACM-Net/repo'
K = 200


def die(msg):
    sys.stderr.write('make_acm_anet_infer_golden: %s\n' % msg)
    sys.exit(1)


def official_source():
    src = os.path.abspath(os.path.expanduser(os.environ.get('OFFICIAL_ACMNET') or DEFAULT_SOURCE))
    if os.path.isfile(os.path.join(src, 'main_act.py')):
        return src, 'working tree'
    gitdir = src if os.path.isfile(os.path.join(src, 'HEAD')) else os.path.join(src, '.git')
    if not os.path.isfile(os.path.join(gitdir, 'HEAD')):
        die('OFFICIAL_ACMNET=%s: neither a checkout with main_act.py nor a git directory' % src)
    sha = subprocess.run(['git', '--git-dir', gitdir, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout
    dst = tempfile.mkdtemp(prefix='acmnet_official_')
    atexit.register(shutil.rmtree, dst, True)
    # the code only: the mirror may lack large data blobs (data/ActivityNet13/gt.json)
    arch = subprocess.Popen(['git', '--git-dir', gitdir, 'archive', 'HEAD', '--', 'main_act.py', 'config', 'dataset',
                             'model', 'utils'], stdout=subprocess.PIPE)
    tar = subprocess.run(['tar', '-x', '-C', dst], stdin=arch.stdout)
    arch.stdout.close()
    if arch.wait() != 0 or tar.returncode != 0 or not os.path.isfile(os.path.join(dst, 'main_act.py')):
        die('OFFICIAL_ACMNET=%s: git archive HEAD failed or has no main_act.py' % src)
    return dst, sha.strip()


def load():
    root, rev = official_source()
    for name, val in (('float', float), ('int', int), ('bool', bool), ('object', object)):
        if not hasattr(np, name):
            setattr(np, name, val)
    import torch
    torch.set_num_threads(2)
    sys.modules['wandb'] = types.ModuleType('wandb')
    try:
        importlib.import_module('tqdm')
    except Exception:
        m = types.ModuleType('tqdm')
        m.tqdm = lambda it=None, *a, **k: it
        sys.modules['tqdm'] = m
    so.stub_sklearn()
    sys.path.insert(0, root)
    for pkg in ('config', 'utils', 'model', 'dataset'):
        m = types.ModuleType(pkg)
        m.__path__ = [os.path.join(root, pkg)]
        sys.modules[pkg] = m
    return torch, importlib.import_module('config.model_config'), importlib.import_module('main_act'), rev


def synth_video(rng, T, classes, strength):
    """Float32 outputs: the featured classes' CAS columns (bumps on a random walk), one shared value per step for
    every other column (and the background), an attention softmax [T,3] and video scores [K+1]."""
    base = (0.002 + 0.004 * rng.random(T)).astype(np.float32)
    cols = []
    for c in classes:
        col = 0.01 * np.abs(np.cumsum(rng.normal(0, 0.3, T)))
        for _ in range(rng.integers(1, 4)):
            s = int(rng.integers(0, max(1, T - 3)))
            e = min(T, s + int(rng.integers(2, max(3, T // 3))))
            col[s:e] += strength * rng.uniform(0.02, 0.06)
        cols.append(col.astype(np.float32))
    logit = np.cumsum(rng.normal(0, 0.5, (T, 3)), axis=0) * 0.4
    e = np.exp(logit - logit.max(axis=1, keepdims=True))
    att = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    video = np.abs(rng.normal(0, 0.01, K + 1))
    video[list(classes)] = strength * rng.uniform(0.9, 1.1, size=len(classes)) * 0.1
    return base, cols, att, (video / video.sum()).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch, cfg, main_act, rev = load()

    class Det:  # the evaluator is not what is checked here
        def __init__(self, **k):
            pass

        def evaluate(self):
            return 0.0

    main_act.ANETDetection = Det
    old = sys.argv
    sys.argv = ['main_act.py']
    try:
        args = cfg.build_args(dataset='ActivityNet')
    finally:
        sys.argv = old
    rng = np.random.default_rng(a.seed)
    # (T, L, classes, strength): a video kept whole (L <= 75), one resampled (L > 75), a 2-segment one (L = 1), a weak
    # one (the argmax fallback), two classes, one class near the threshold
    specs = [(60, 60, [3], 4.0), (75, 412, [107, 12], 3.5), (2, 1, [5], 3.0), (40, 40, [150], 0.05),
             (75, 75, [44, 199], 2.5), (31, 31, [0], 1.2)]
    videos, loader, outs = [], [], {}
    for i, (T, L, classes, strength) in enumerate(specs):
        base, cols, att, video = synth_video(rng, T, classes, strength)
        cas = np.repeat(base[:, None], K + 1, axis=1)
        for c, col in zip(classes, cols):
            cas[:, c] = col
        name = 'v_synth_%03d' % i
        labels = np.zeros(K, dtype=np.float32)
        labels[classes] = 1
        videos.append({'name': name, 'T': T, 'L': L, 'labels': labels.tolist(), 'classes': classes,
                       'cas_base': [float(x) for x in base], 'cas_cols': [[float(x) for x in c] for c in cols],
                       'att': [float(x) for x in att.reshape(-1)], 'video': [float(x) for x in video]})
        outs[name] = (torch.from_numpy(video)[None], torch.from_numpy(att)[None], torch.from_numpy(cas)[None])
        loader.append(([name], torch.zeros(1, T, 1), torch.from_numpy(labels)[None], torch.tensor([L]),
                       torch.tensor([L * 16 / 25.0])))

    class Model:
        def eval(self):
            return self

        def __call__(self, x):
            cls, att, cas = outs[self.current]
            return (cls, cls, cls, None, None, None, att, cas, cas, cas, cas)

    model = Model()
    criterion = so.zero_loss_criterion(torch)

    with tempfile.TemporaryDirectory() as tmp:
        args.save_dir, args.test, args.device = tmp, False, torch.device('cpu')
        log, _ = main_act.test(args, model, so.feeding(loader, model), criterion)
        with open(os.path.join(tmp, '%s_lateset_result.json' % args.dataset)) as f:
            official = json.load(f)
    result = {'official': 'ispc-lab/ACM-Net main_act.test @ %s' % rev, 'class_names': list(args.class_name_lst),
              'test_acc': float(log['test_acc']), 'videos': videos, 'detections': official['results']}
    with open(a.out, 'w') as f:
        json.dump(result, f)
    n = sum(len(v) for v in official['results'].values())
    print('%d videos, %d detections, test_acc %.4f -> %s' % (len(videos), n, log['test_acc'], a.out))


if __name__ == '__main__':
    main()
