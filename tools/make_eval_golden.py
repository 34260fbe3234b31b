#!/usr/bin/env python3
"""Golden numbers for the evaluator tests: deterministic detection files on the real THUMOS14 gt, scored
by the official evaluator (../shared/oracle/official_eval.py).

  /usr/bin/python3 tools/make_eval_golden.py --gt ../shared/data/thumos14/gt.json --out-dir /tmp/eval_golden
      [--oracle ../shared/oracle] [--extra DETS.json ...]

Writes OUT_DIR/<case>.json for each generated case, runs the oracle on each (and on every --extra file),
and prints the expected mAP values (repr, bit exact) plus a checksum of each generated file; the C++
tests (tests/cpu/test_evaluator_official.cpp) regenerate the same files with the same splitmix64 stream.

The generator only uses operations that are exact or correctly rounded in both Python and C++
(integer arithmetic, one division by 10 or by a power of two), so both sides build identical doubles.
"""
import argparse
import json
import os
import subprocess
import sys

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


# name -> (seed, number of detections, share of GT-jittered detections in %, score levels (0 = continuous))
CASES = {
    'random20k': (1, 20000, 50, 0),
    'jitter_ties': (2, 6000, 90, 8),
}
EXTRA_VIDEOS = ['video_validation_0000051', 'video_test_9999999']  # not in the test subset: always FP


def tenths(x):
    return int(round(x * 10))


def generate(gt_db, seed, n, jitter_pct, levels):
    vids = [v for v, e in gt_db.items() if e['subset'] == 'test']
    labels = sorted({a['label'] for v in vids for a in gt_db[v]['annotations']})
    all_vids = vids + EXTRA_VIDEOS
    rng = SplitMix64(seed)
    res = {v: [] for v in all_vids}
    prev = None
    for _ in range(n):
        v = all_vids[rng.next() % len(all_vids)]
        anns = gt_db[v]['annotations'] if v in gt_db else []
        dur = tenths(gt_db[v]['duration']) if v in gt_db else 2000
        kind = rng.next() % 100
        if prev is not None and kind < 3:
            det = dict(prev)  # exact duplicate of the previous detection (same video or not)
            res[v].append(det)
            continue
        if anns and kind < jitter_pct:
            a = anns[rng.next() % len(anns)]
            s = tenths(a['segment'][0]) + int(rng.next() % 61) - 30
            e = tenths(a['segment'][1]) + int(rng.next() % 61) - 30
            label = a['label'] if rng.next() % 5 else labels[rng.next() % len(labels)]
        else:
            s = int(rng.next() % dur)
            e = int(rng.next() % dur)
            label = labels[rng.next() % len(labels)]
        if s > e:
            s, e = e, s
        if rng.next() % 50 == 0:
            e = s  # zero-length detection
        if levels:
            score = (rng.next() % levels) / levels
        else:
            score = (rng.next() >> 11) / 9007199254740992.0
        prev = {'label': label, 'score': score, 'segment': [s / 10, e / 10]}
        res[v].append(prev)
    return {'version': 'VERSION 1.3', 'results': {v: d for v, d in res.items() if d},
            'external_data': {'used': False, 'details': 'tools/make_eval_golden.py'}}


def checksum(dets):
    n, ssum, tsum = 0, 0.0, 0.0
    for v, ds in dets['results'].items():
        for d in ds:
            n += 1
            ssum += d['score']
            tsum += d['segment'][0] + d['segment'][1]
    return n, ssum, tsum


def run_oracle(oracle, gt, path, out):
    env = dict(os.environ)
    env.setdefault('OFFICIAL_AICL', '/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo')
    subprocess.run([sys.executable, os.path.join(oracle, 'official_eval.py'), '--gt', gt, '--dets', path,
                    '--subset', 'test', '--tiou', '0.1:0.7:7', '--joblib-backend', 'threading', '--out', out],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gt', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--oracle', default=os.path.join(here, '..', '..', 'shared', 'oracle'))
    p.add_argument('--extra', nargs='*', default=[], help='further detection files to score')
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    db = json.load(open(a.gt))['database']
    files = []
    for name, (seed, n, jit, levels) in CASES.items():
        dets = generate(db, seed, n, jit, levels)
        path = os.path.join(a.out_dir, name + '.json')
        with open(path + '.tmp', 'w') as f:
            json.dump(dets, f)
        os.replace(path + '.tmp', path)
        n, ssum, tsum = checksum(dets)
        print('%s: %d detections, score sum %r, segment sum %r' % (name, n, ssum, tsum))
        files.append(path)
    for path in files + a.extra:
        r = run_oracle(a.oracle, a.gt, path, os.path.join(a.out_dir, os.path.basename(path) + '.official.json'))
        print('%s: official mAP' % os.path.basename(path))
        print('  {' + ', '.join(repr(m) for m in r['mAP']) + '}, average ' + repr(r['average_mAP']))


if __name__ == '__main__':
    main()
