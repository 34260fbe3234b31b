#!/usr/bin/env python3
"""Golden detections of the OFFICIAL FTCL test post-processing (test_thu.test, = ACM-Net's THUMOS test) on synthetic
model outputs, for tests/cpu/test_acm_postprocess.cpp ("acm postprocess golden").

  make_ftcl_infer_golden.py OUT.json [--seed 0]
  make_ftcl_infer_golden.py --forward OUT.json [--seed 1]

--forward: the official ACMNet(args) forward in eval mode (no dropout; float32, CPU) on the FTCL oracle's formula
weights and features (tools/ftcl_oracle.py make-inputs: sal_oracle.write_formula_weights, video_features), batch 1
per video as test() runs it; writes each video's act_inst_cls (21-way video softmax), temp_att [T,3] and
act_inst_cas [T,21] for tests/cpu/test_ftcl_parity.cpp ("parity: FTCL inference outputs ...").

Nothing of the official code is copied: test_thu.py and utils/net_evaluation.py are loaded at run time through
tools/ftcl_oracle.py's loader (OFFICIAL_FTCL, default /work/.mirror/MengyuanChen21+CVPR2022-FTCL/repo). What runs
is the official test(args, model, dataloader, criterion) itself, with:
  - args: the official build_args(dataset="THUMOS") of main_thu.py (cls_threshold 0.25, test_upgrade_scale 20,
    nms_thresh 0.55, frames 16 / fps 25), save_dir a temporary directory, test False;
  - model: a stand-in returning the 14 official outputs, of which test() reads act_inst_cls (the 21-way video
    scores, softmax), temp_att (the [1,T,3] attention) and act_inst_cas (the [1,T,21] CAS); they are synthetic
    float32 softmaxes written to OUT.json;
  - criterion: a stand-in returning a zero loss and the official loss_dict keys;
  - the data loader: one (name, features [1,T,1], labels, vid_len, duration) per video (features are only read for
    their length T);
  - ANETDetection: a stand-in (evaluate() returns 0); sklearn (absent here, only the evaluator uses it) a stub.
The official result file written by test() is read back into OUT.json's "official" key.
"""
import argparse
import importlib
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcl_oracle  # noqa: E402

K = 20


def softmax32(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def synth_video(rng, T, classes, strength):
    """A smooth CAS / attention with action bumps of the given classes (logits: random walk + bumps)."""
    walk = np.cumsum(rng.normal(0, 0.3, size=(T, K + 1)), axis=0) * 0.2
    logit = walk + rng.normal(0, 0.2, size=(T, K + 1))
    logit[:, K] += 1.5  # background
    att = np.cumsum(rng.normal(0, 0.4, size=(T, 3)), axis=0) * 0.3
    for c in classes:
        for _ in range(rng.integers(1, 4)):
            s = int(rng.integers(0, max(1, T - 4)))
            e = min(T, s + int(rng.integers(2, max(3, T // 4))))
            logit[s:e, c] += strength * rng.uniform(0.6, 1.4)
            att[s:e, 0] += rng.uniform(1.0, 3.0)
    cas = softmax32(logit)
    att = softmax32(att)
    video = np.zeros(K + 1)
    video[list(classes)] = strength * rng.uniform(0.9, 1.1, size=len(classes))
    video[K] = 1.0
    video += rng.normal(0, 0.3, size=K + 1)
    return cas, att, softmax32(video)


def forward(O, out, seed):
    torch = O.torch
    args = ftcl_oracle.official_args(O, 'a')
    net = O.ACMNet(args)
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, 'w.h5')
        with ftcl_oracle.sal_oracle.atomic_h5(w) as f:
            ftcl_oracle.sal_oracle.write_formula_weights(f, seed, ftcl_oracle.KEYS)
        ftcl_oracle.read_weights(w, net)
    net.eval()
    videos = []
    for v, (T, classes) in enumerate([(48, [3]), (13, [7, 12]), (2, [5])]):
        x = ftcl_oracle.video_features(v, T, seed, classes)
        with torch.no_grad():
            o = net(torch.from_numpy(x)[None])
        videos.append({'v': v, 'T': T, 'classes': classes, 'feature_sum': float(x.astype(np.float64).sum()),
                       'video': [float(z) for z in o[0][0].numpy().reshape(-1)],
                       'att': [float(z) for z in o[6][0].numpy().reshape(-1)],
                       'cas': [float(z) for z in o[7][0].numpy().reshape(-1)]})
    with open(out, 'w') as f:
        json.dump({'seed': seed, 'torch': torch.__version__, 'videos': videos}, f)
    print('%d videos -> %s' % (len(videos), out))


# --e2e: the synthetic THUMOS14-like split (aicl_data synth flags) and the formula-weight tensors scaled (float32) so that
# the model is not near-uniform (class scores above 0.25, structured CAS and attention)
E2E_SYNTH = ['--train', '2', '--test', '16', '--max-segments', '160', '--seed', '5', '--difficulty', '1']
E2E_SHARPEN = {'snippet_cls.weight': 30.0, 'att_branch.weight': 30.0}


def end_to_end(O, out, seed, bin_dir):
    """The official ACMNet (formula weights, E2E_SHARPEN applied) and the official test() on a synthetic split read
    from its .h5 (features sampled by the official uniform_sample at 750: every video kept whole), the official
    evaluator stubbed: detections (labels as class indices) and the class accuracy."""
    import subprocess
    import h5py
    torch = O.torch
    ftcl_oracle.sal_oracle.stub_sklearn()
    test_thu = importlib.import_module('test_thu')

    class Det:  # the official evaluator raises KeyError on a predicted class without ground truth in a small split;
        def __init__(self, **k):  # our evaluator's equality with it is checked on its own (docs/evaluator.md)
            pass

        def evaluate(self):
            return 0.0

    test_thu.ANETDetection = Det
    sample = importlib.import_module('dataset.dataset_class').uniform_sample
    args = ftcl_oracle.official_args(O, 'a')
    net = O.ACMNet(args)
    with tempfile.TemporaryDirectory() as tmp:
        ds = os.path.join(tmp, 's.h5')
        subprocess.run([os.path.join(bin_dir, 'aicl_data'), 'synth', '--out', ds] + E2E_SYNTH, check=True,
                       stdout=subprocess.DEVNULL)
        root = os.path.join(tmp, 'root')
        subprocess.run([os.path.join(bin_dir, 'aicl_data'), 'export', '--in', ds, '--out', root], check=True,
                       stdout=subprocess.DEVNULL)
        w = os.path.join(tmp, 'w.h5')
        with ftcl_oracle.sal_oracle.atomic_h5(w) as f:
            ftcl_oracle.sal_oracle.write_formula_weights(f, seed, ftcl_oracle.KEYS)
        ftcl_oracle.read_weights(w, net)
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name in E2E_SHARPEN:
                    p.mul_(np.float32(E2E_SHARPEN[name]))
        with h5py.File(ds, 'r') as f:
            prof = json.loads(f.attrs['profile'])
            dec = lambda a: [x.decode() if isinstance(x, bytes) else x for x in a]
            names, subset = dec(f['videos/name'][()]), dec(f['videos/subset'][()])
            nseg, labels, feats = f['videos/num_segments'][()], f['videos/labels'][()], f['features'][()]
        offs = np.concatenate([[0], np.cumsum(nseg)])
        loader = []
        for i, n in enumerate(names):
            if subset[i] != prof['test_subset'] or nseg[i] == 0:
                continue
            x = sample(feats[offs[i]:offs[i + 1]], args.sample_segments_num)
            loader.append(([n], torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None],
                           torch.from_numpy(labels[i:i + 1].astype(np.float32)), torch.tensor([int(nseg[i])]),
                           torch.tensor([float(nseg[i]) * 16 / 25.0])))

        criterion = ftcl_oracle.sal_oracle.zero_loss_criterion(torch)
        args.save_dir, args.test, args.ftcl = tmp, False, False
        args.test_gt_file_path = os.path.join(root, 'gt.json')
        net.eval()
        with torch.no_grad():
            log, _ = test_thu.test(args, net, loader, criterion)
        with open(os.path.join(tmp, '%s_lateset_result.json' % args.dataset)) as f:
            res = json.load(f)['results']
    index = {n: i for i, n in enumerate(args.class_name_lst)}
    results = {v: [{'label': index[d['label']], 'score': d['score'], 'segment': d['segment']} for d in dets]
               for v, dets in res.items()}
    golden = {'synth_args': E2E_SYNTH, 'weight_seed': seed, 'sharpen': E2E_SHARPEN, 'segments': 750,
              'test_acc': float(log['test_acc']), 'results': results}
    with open(out, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    print('%d videos, %d detections, test_acc %.4f -> %s' % (
        len(loader), sum(len(v) for v in results.values()), log['test_acc'], out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--forward', action='store_true')
    ap.add_argument('--e2e', action='store_true')
    ap.add_argument('--bin', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build-cpu', 'bin'))
    a = ap.parse_args()
    O = ftcl_oracle.load()
    if a.forward:
        return forward(O, a.out, 1 if a.seed is None else a.seed)
    if a.e2e:
        return end_to_end(O, a.out, 7 if a.seed is None else a.seed, a.bin)
    a.seed = 0 if a.seed is None else a.seed
    torch = O.torch
    ftcl_oracle.sal_oracle.stub_sklearn()
    test_thu = importlib.import_module('test_thu')

    class Det:  # the evaluator is not what is checked here
        def __init__(self, **k):
            pass

        def evaluate(self):
            return 0.0

    test_thu.ANETDetection = Det
    args = ftcl_oracle.official_args(O, 'a')
    rng = np.random.default_rng(a.seed)
    # (T, L, classes, strength): native lengths (L <= 750 kept whole), one of T < L (as a resampled L > 750), T = 2 (L = 1),
    # a weak video (argmax fallback), two classes
    specs = [(64, 64, [3], 4.0), (200, 200, [7, 12], 3.5), (300, 1713, [0], 4.0), (2, 1, [5], 3.0),
             (48, 48, [9], 0.3), (120, 120, [4, 7], 2.5), (33, 33, [19], 5.0)]
    videos, loader = [], []
    for i, (T, L, classes, strength) in enumerate(specs):
        cas, att, video = synth_video(rng, T, classes, strength)
        name = 'video_test_%07d' % i
        labels = np.zeros(K, dtype=np.float32)
        labels[classes] = 1
        videos.append({'name': name, 'T': T, 'L': L, 'labels': labels.tolist(),
                       'cas': [float(x) for x in cas.reshape(-1)], 'att': [float(x) for x in att.reshape(-1)],
                       'video': [float(x) for x in video]})
        loader.append(([name], torch.zeros(1, T, 1), torch.from_numpy(labels)[None], torch.tensor([L]),
                       torch.tensor([L * 16 / 25.0])))
    outs = {v['name']: v for v in videos}

    class Model:
        def eval(self):
            return self

        def __call__(self, x):
            v = outs[self.current]
            T = v['T']
            cas = torch.tensor(np.array(v['cas'], dtype=np.float32).reshape(1, T, K + 1))
            att = torch.tensor(np.array(v['att'], dtype=np.float32).reshape(1, T, 3))
            cls = torch.tensor(np.array(v['video'], dtype=np.float32).reshape(1, K + 1))
            return (cls, cls, cls, None, None, None, att, cas, cas, cas, cas, None, None, None)

    model = Model()
    criterion = ftcl_oracle.sal_oracle.zero_loss_criterion(torch)

    with tempfile.TemporaryDirectory() as tmp:
        args.save_dir = tmp
        args.test = False
        args.ftcl = False
        args.test_gt_file_path = os.path.join(tmp, 'gt.json')
        log, _ = test_thu.test(args, model, ftcl_oracle.sal_oracle.feeding(loader, model), criterion)
        with open(os.path.join(tmp, '%s_lateset_result.json' % args.dataset)) as f:
            official = json.load(f)
    result = {'official_rev': O.rev if hasattr(O, 'rev') else '', 'class_names': list(args.class_name_lst),
              'test_acc': float(log['test_acc']), 'videos': videos, 'official': official['results']}
    with open(a.out, 'w') as f:
        json.dump(result, f)
    n = sum(len(v) for v in official['results'].values())
    print('%d videos, %d detections, test_acc %.4f -> %s' % (len(videos), n, log['test_acc'], a.out))


if __name__ == '__main__':
    main()
