#!/usr/bin/env python3
"""ActivityNet-v1.3-scale detections for timing the evaluator: N detections per video of a ground-truth subset.

  /usr/bin/python3 bench/make_anet_scale_dets.py --gt ../shared/data/anet13/gt.json --subset validation \
      --per-video 100 --out dets.json [--seed 0]

A third of each video's detections are its ground-truth instances jittered by up to 20% of their length (the
right label 80% of the time), the rest random segments of random classes; scores U(0,1). Written with the keys
both readers take ("score300" for AICL's copy of the official reader, plus "version" and "external_data"), so
that neither side needs a converted copy. Deterministic for a given seed (Python's random).
"""
import argparse
import json
import os
import random


def make(db, subset, per_video, seed):
    rng = random.Random(seed)
    videos = [v for v, e in db.items() if e['subset'] == subset]
    labels = sorted({a['label'] for e in db.values() for a in e['annotations']})
    results = {}
    for v in videos:
        anns = db[v]['annotations']
        dur = float(db[v].get('duration') or max([a['segment'][1] for a in anns] + [60.0]))
        out = []
        for i in range(per_video):
            if anns and i % 3 == 0:
                a = anns[rng.randrange(len(anns))]
                s, e = a['segment']
                j = 0.2 * (e - s)
                s, e = s + rng.uniform(-j, j), e + rng.uniform(-j, j)
                label = a['label'] if rng.random() < 0.8 else rng.choice(labels)
            else:
                s, e = sorted((rng.uniform(0, dur), rng.uniform(0, dur)))
                label = rng.choice(labels)
            s, e = max(0.0, min(s, e)), max(s, e)
            out.append({'label': label, 'score300': round(rng.random(), 6), 'segment': [round(s, 2), round(e, 2)]})
        results[v] = out
    return {'version': 'VERSION 1.3', 'external_data': {'used': False}, 'results': results}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gt', required=True)
    p.add_argument('--subset', default='validation')
    p.add_argument('--per-video', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    dets = make(json.load(open(a.gt))['database'], a.subset, a.per_video, a.seed)
    with open(a.out + '.tmp', 'w') as f:
        json.dump(dets, f)
    os.replace(a.out + '.tmp', a.out)
    n = sum(len(d) for d in dets['results'].values())
    print('%s: %d detections in %d videos' % (a.out, n, len(dets['results'])))


if __name__ == '__main__':
    main()
