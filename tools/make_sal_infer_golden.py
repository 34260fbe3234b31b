#!/usr/bin/env python3
"""Makes the golden file of the SAL inference parity test (tests/cpu/test_sal_inference_parity.cpp).

A small synthetic dataset (aicl_data synth with fixed flags, deterministic) is exported to the official npy layout;
the weights are the integer-hash formula of tests/parity_formula.h over the 16 official SAL tensors
(tools/sal_oracle.py write_formula_weights, as tools/make_sal_parity_golden.py uses them); the official SAL
inference() and evaluation run on them through tools/sal_official_infer.py (GPU .cpu() semantics, soft-NMS on, as
scripts/inference.sh). Kept: the detections (key 'score'), the per-tIoU mAP, the average, cls_acc, and per video
the official video scores score_supp (softmax of 0.35 cas_top + 0.65 sc; 7 significant digits), which let the
test say whether a difference starts in the forward or in the post-processing.

  /usr/bin/python3 tools/make_sal_infer_golden.py [--bin build-cpu/bin] [--weight-seed 7] [--keep DIR]
      [--out tests/golden/infer/sal_official_infer.json]

About 1.5-3 minutes on 2 cores (the official model's construction and 60 forwards of the bilinear branch).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sal_oracle  # noqa: E402

SYNTH = ['--train', '2', '--test', '60', '--max-segments', '200', '--seed', '5', '--difficulty', '1']
SEGMENTS = 64
WEIGHT_SEED = 7  # the largest mAP of seeds 1-12 (most, AICL's seed 3 included, give 0 at every tIoU)


def f7(v):
    return float('%.7g' % float(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('--bin', default=os.path.join(HERE, '..', 'build-cpu', 'bin'))
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'tests', 'golden', 'infer',
                                                  'sal_official_infer.json'))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--weight-seed', type=int, default=WEIGHT_SEED)
    ap.add_argument('--keep', default=None, help='keep the dataset, weights and official outputs in this directory')
    args = ap.parse_args()
    tmp_ctx = tempfile.TemporaryDirectory() if not args.keep else None
    tmp = args.keep or tmp_ctx.name
    os.makedirs(tmp, exist_ok=True)
    try:
        ds = os.path.join(tmp, 's.h5')
        subprocess.run([os.path.join(args.bin, 'aicl_data'), 'synth', '--out', ds] + SYNTH, check=True)
        root = os.path.join(tmp, 'root')
        subprocess.run([os.path.join(args.bin, 'aicl_data'), 'export', '--in', ds, '--out', root], check=True)
        wp = os.path.join(tmp, 'w.h5')
        with sal_oracle.atomic_h5(wp) as f:
            sal_oracle.write_formula_weights(f, args.weight_seed)
        od = os.path.join(tmp, 'off')
        dump = os.path.join(tmp, 'off_scores.h5')
        subprocess.run([sys.executable, os.path.join(HERE, 'sal_official_infer.py'), wp, '--root', root,
                        '--out-dir', od, '--segments', str(SEGMENTS), '--threads', str(args.threads),
                        '--dump', dump], check=True)
        dets = json.load(open(os.path.join(od, 'detections.json')))
        rep = json.load(open(os.path.join(od, 'report.json')))
        with h5py.File(dump, 'r') as f:
            scores = {v: [f7(x) for x in f[v]['score_supp'][()]] for v in f.keys()}
    finally:
        if tmp_ctx:
            tmp_ctx.cleanup()
    golden = {'synth_args': SYNTH, 'segments': SEGMENTS, 'weight_seed': args.weight_seed,
              'tiou': rep['tiou'], 'mAP': rep['mAP'], 'average_mAP': rep['average_mAP'], 'cls_acc': rep['cls_acc'],
              'nms_alpha': rep['nms_alpha'], 'soft_nms': rep['soft_nms'], 'video_scores': scores,
              'results': dets['results']}
    tmp_out = args.out + '.tmp'
    with open(tmp_out, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    os.replace(tmp_out, args.out)
    print('wrote', args.out, 'detections', sum(len(v) for v in dets['results'].values()), 'mAP', rep['mAP'],
          'cls_acc', rep['cls_acc'])


if __name__ == '__main__':
    main()
