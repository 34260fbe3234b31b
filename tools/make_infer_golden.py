#!/usr/bin/env python3
"""Makes the golden file of the inference parity test (tests/cpu/test_inference_parity.cpp).

A small synthetic dataset (aicl_data synth, deterministic) is exported to the official npy layout; weights come
from the same integer-hash formula as the step parity test; the official inference (../shared/oracle/
official_infer.py, GPU semantics) runs on it and its detections + mAP are stored.

  OFFICIAL_AICL=<official repo> /usr/bin/python3 tools/make_infer_golden.py --bin build/bin
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.dirname(__file__))
from make_parity_golden import formula_weights  # noqa: E402

SYNTH = ['--train', '2', '--test', '60', '--max-segments', '200', '--seed', '5', '--difficulty', '1']  # all 20 classes in test
SEGMENTS = 64
WEIGHT_SEED = 3


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--bin', default=os.path.join(here, '..', 'build', 'bin'))
    ap.add_argument('--oracle', default=os.path.join(here, '..', '..', 'shared', 'oracle'))
    ap.add_argument('--out', default=os.path.join(here, '..', 'tests', 'golden', 'infer', 'official_infer.json'))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ds = os.path.join(tmp, 's.h5')
        subprocess.run([os.path.join(args.bin, 'aicl_data'), 'synth', '--out', ds] + SYNTH, check=True)
        root = os.path.join(tmp, 'root')
        subprocess.run([os.path.join(args.bin, 'aicl_data'), 'export', '--in', ds, '--out', root], check=True)
        wp = os.path.join(tmp, 'w.h5')
        with h5py.File(wp, 'w') as f:
            for k, v in formula_weights(WEIGHT_SEED).items():
                f.create_dataset(k, data=v)
        od = os.path.join(tmp, 'off')
        subprocess.run([sys.executable, os.path.join(args.oracle, 'official_infer.py'), wp, '--root', root,
                        '--out-dir', od, '--segments', str(SEGMENTS), '--joblib-backend', 'threading'], check=True)
        dets = json.load(open(os.path.join(od, 'detections.json')))
        rep = json.load(open(os.path.join(od, 'report.json')))
    golden = {'synth_args': SYNTH, 'segments': SEGMENTS, 'weight_seed': WEIGHT_SEED,
              'mAP': rep['mAP'], 'average_mAP': rep['average_mAP'], 'cls_acc': rep.get('cls_acc'),
              'results': dets['results']}
    with open(args.out, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    print('wrote', args.out, 'detections', sum(len(v) for v in dets['results'].values()), 'mAP', rep['mAP'])


if __name__ == '__main__':
    main()
