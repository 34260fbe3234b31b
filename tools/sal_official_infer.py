#!/usr/bin/env python3
"""Official SAL inference + official evaluation on the test split of a dataset ROOT.

  sal_official_infer.py WEIGHTS.h5 --root ROOT --out-dir DIR [--segments 750] [--threads 2]
      [--no-soft-nms] [--cpu-aliasing] [--dump SCORES.h5]

Runs inference_thumos.inference() of the official SAL code (lizhilin-ustc/SAL, Neural Networks 2024) with the
official Config as scripts/inference.sh builds it (--soft_nms; every other value the official default: class_th
0.25, gamma 0.2, nms_thresh 0.4, nms_alpha 0.3, scale 24, act_thresh arange(0.1, 1.0, 0.1)) on the official
models/model_x4.py Model loaded from WEIGHTS.h5, over ROOT/split_test.txt, features sampled uniformly to
--segments by the official ThumosFeature (sampling='uniform', as get_dataloaders builds the test loader, but alone,
so that no train split is needed). inference() itself runs the official evaluation (run_eval.evaluate -> ANETEval)
at tIoU linspace(0.1, 0.7, 7) on subset 'test' of ROOT/gt.json.

Nothing of the official code is copied here: it is loaded at run time by tools/sal_oracle.py's loader (OFFICIAL_SAL,
a checkout or a git directory; default /work/.mirror/lizhilin-ustc+SAL/repo). On top of that loader:
  * torch.Tensor.cpu returns a copy, as the device-to-host copy of the official GPU runs does (quirk Q1 of
    ../shared/oracle/README.md: on a CPU tensor .cpu() is the tensor itself, and inference() would then
    binarize the softmax scores in place through score_np); --cpu-aliasing keeps PyTorch's CPU behaviour;
  * the official evaluator's joblib.Parallel runs with the 'threading' backend (the same per-class function, the
    same numbers; the default loky worker processes would lack the numpy aliases the evaluator needs).

WEIGHTS.h5: root datasets named by the 16 official state_dict keys (what aicl::save_weights(..., "sal") and
  aicl_train --method sal write; root attributes are ignored).
ROOT: the official layout (features/test/{rgb,flow}/<video>.npy, gt.json, split_test.txt), e.g. from
  `aicl_data export --in D.h5 --out ROOT`.
Writes in DIR:
  detections.json   the official output file (temp_result.json) as written: key 'score', official class names
  report.json       {tiou, mAP, average_mAP, cls_acc, num_videos, num_detections, ...}
--dump SCORES.h5: per test video (group = video name) the official forward's cas [T,20], sc [20], action_flow and
  action_rgb [T], and what inference() derives from them: combined_cas [T,20] and score_supp [20] (the softmax of
  0.35 cas_top + 0.65 sc), for step-by-step comparisons.
"""
import argparse
import contextlib
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import sal_oracle  # noqa: E402  (the official-code loader and the weights reader)

die = sal_oracle.die


def check_root(root):
    for f in ('gt.json', 'split_test.txt'):
        if not os.path.isfile(os.path.join(root, f)):
            die('%s: missing %s (expected the official layout: features/test/{rgb,flow}/<video>.npy, gt.json, '
                'split_test.txt; e.g. aicl_data export --in D.h5 --out ROOT)' % (root, f))
    vids = [l.strip() for l in open(os.path.join(root, 'split_test.txt')) if l.strip()]
    if not vids:
        die('%s: split_test.txt is empty' % root)
    for v in vids:
        for mod in ('rgb', 'flow'):
            p = os.path.join(root, 'features', 'test', mod, v + '.npy')
            if not os.path.isfile(p):
                die('%s: missing feature file %s' % (root, os.path.relpath(p, root)))
    return vids


def make_config(O, root, T, soft_nms, out):
    """The official Config through the official parse_args, as scripts/inference.sh (plus --num_segments T,
    --num_workers 0, outputs under `out`)."""
    flags = ['--exp_name', 'infer', '--model_name', 'ThumosModel', '--data_path', root,
             '--output_dir', out, '--num_segments', str(T), '--num_workers', '0', '--inference_only']
    return sal_oracle.config_from_argv(O, flags + (['--soft_nms'] if soft_nms else []))


@contextlib.contextmanager
def recording(O, net, dump):
    """With --dump: records the official forward's outputs of every video (a forward hook on the model)."""
    if not dump:
        yield None
        return
    rec = []

    def hook(module, inp, out):
        cas, _, action_flow, action_rgb = out[0], out[1], out[2], out[3]
        rec.append({'cas': cas[0].detach().clone(), 'sc': out[6][0].detach().clone(),
                    'action_flow': action_flow[0, 0].detach().clone(),
                    'action_rgb': action_rgb[0, 0].detach().clone()})
    h = net.register_forward_hook(hook)
    try:
        yield rec
    finally:
        h.remove()


def write_dump(O, path, rec, vids, config):
    """The recorded forward outputs, plus combined_cas and score_supp by the official expressions."""
    import numpy as np
    torch = O.torch
    if len(rec) != len(vids):
        die('recorded %d forwards for %d test videos' % (len(rec), len(vids)), 3)
    with sal_oracle.atomic_h5(path) as f:
        for v, r in zip(vids, rec):
            cas = r['cas'].unsqueeze(0)
            combined = O.misc.instance_selection_function(torch.softmax(cas, -1), r['action_flow'].view(1, -1, 1),
                                                          r['action_rgb'].view(1, -1, 1))
            _, idx = torch.topk(combined, config.num_segments // config.r, dim=1)
            top = torch.mean(torch.gather(cas, 1, idx), dim=1)
            score = torch.softmax(0.35 * top + (1 - 0.35) * r['sc'].unsqueeze(0), dim=1)
            g = f.create_group(v)
            for k in ('cas', 'sc', 'action_flow', 'action_rgb'):
                g.create_dataset(k, data=r[k].numpy().astype(np.float32))
            g.create_dataset('combined_cas', data=combined[0].numpy())
            g.create_dataset('cas_top', data=top[0].numpy())
            g.create_dataset('score_supp', data=score[0].numpy())


def run(a):
    vids = check_root(a.root)
    if a.segments < 19:
        die('--segments %d: must be >= 19 (the method\'s minimum; T//8 must be > 0)' % a.segments)
    t_start = time.time()
    O = sal_oracle.load(a.threads)
    torch = O.torch
    if not a.cpu_aliasing:
        torch.Tensor.cpu = lambda self, *args, **kw: self.clone()   # GPU semantics (quirk Q1)
    infer = sys.modules['inference_thumos']
    dataset = sys.modules['dataset.thumos_features']
    out = sal_oracle._mktemp('sal_infer_')
    config = make_config(O, os.path.abspath(a.root), a.segments, not a.no_soft_nms, out)
    net = O.model.Model(config.len_feature, config.num_classes, config.num_segments)
    if [k for k in net.state_dict()] != [k for k, _, _ in sal_oracle.KEYS]:
        die('the official Model state_dict differs from the expected 16 keys', 3)
    sal_oracle.load_weights(a.weights, net)
    net = net.cuda()
    import torch.utils.data as data
    loader = data.DataLoader(   # as the official get_dataloaders builds the test loader
        dataset.ThumosFeature(data_path=config.data_path, mode='test', modal=config.modal,
                              feature_fps=config.feature_fps, num_segments=config.num_segments,
                              len_feature=config.len_feature, seed=config.seed, sampling='uniform',
                              supervision='strong'),
        batch_size=1, shuffle=False, num_workers=config.num_workers)
    t0 = time.time()
    import joblib
    try:
        with recording(O, net, a.dump) as rec, joblib.parallel_backend('threading'):
            mean_ap, test_acc, tiou_map = infer.inference(net, config, loader, model_file=None)
    except KeyError as e:
        die('%s: the official evaluator found a predicted label (%s) with no ground truth in subset "test"; use a '
            'dataset whose test split covers all 20 classes' % (config.gt_path, e))
    wall = time.time() - t0
    os.makedirs(a.out_dir, exist_ok=True)
    src = os.path.join(config.model_path, 'temp_result.json')
    dst = os.path.join(a.out_dir, 'detections.json')
    shutil.copyfile(src, dst + '.tmp')
    os.replace(dst + '.tmp', dst)
    res = json.load(open(src))
    if a.dump:
        write_dump(O, a.dump, rec, vids, config)
    tiou = [float(t) for t in O.misc.np.linspace(0.1, 0.7, 7)]
    report = {'tiou': tiou, 'mAP': [float(m) for m in tiou_map], 'average_mAP': float(mean_ap),
              'cls_acc': float(test_acc), 'segments': config.num_segments, 'soft_nms': bool(config.soft_nms),
              'class_th': config.class_thresh, 'gamma': config.gamma, 'nms_thresh': config.nms_thresh,
              'nms_alpha': config.nms_alpha, 'scale': config.scale, 'num_videos': len(loader.dataset),
              'num_detections': sum(len(v) for v in res['results'].values()),
              'gt': os.path.abspath(config.gt_path), 'subset': 'test', 'weights': os.path.abspath(a.weights),
              'gpu_semantics': not a.cpu_aliasing, 'joblib_backend': 'threading', 'wall_s': round(wall, 3),
              'process_s': round(time.time() - t_start, 3)}
    tmp = os.path.join(a.out_dir, 'report.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, os.path.join(a.out_dir, 'report.json'))
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('weights', help='WEIGHTS.h5: the 16 official state_dict keys as root datasets')
    p.add_argument('--root', required=True, help='dataset root in the official layout')
    p.add_argument('--out-dir', required=True, help='where detections.json and report.json go')
    p.add_argument('--segments', type=int, default=750, help='uniform sampling length (official num_segments)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--no-soft-nms', action='store_true', help='hard NMS (the official default without --soft_nms)')
    p.add_argument('--cpu-aliasing', action='store_true',
                   help="keep PyTorch's CPU .cpu() (aliasing; not what the official GPU runs do: quirk Q1)")
    p.add_argument('--dump', default=None, help='SCORES.h5: per-video forward outputs and scores (see below)')
    a = p.parse_args()
    if a.threads < 1:
        p.error('--threads must be >= 1')
    if not os.path.isfile(a.weights):
        die('%s: no such weights file' % a.weights)
    r = run(a)
    print('official SAL inference: %d videos, %d detections, cls_acc %.2f%%' % (
        r['num_videos'], r['num_detections'], 100 * r['cls_acc']))
    print('  tIoU ' + ' '.join('%5.2f' % t for t in r['tiou']) + '   avg')
    print('  mAP  ' + ' '.join('%5.2f' % (100 * m) for m in r['mAP']) + '  %5.2f' % (100 * r['average_mAP']))
    print('  inference + evaluation %.2f s, process %.1f s; wrote %s/{detections.json,report.json}' % (
        r['wall_s'], r['process_s'], a.out_dir))


if __name__ == '__main__':
    main()
