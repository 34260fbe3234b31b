#!/usr/bin/env bash
# SAL training, ours vs the official trainer from the SAME initial weights on the SAME data stream: losses per step
# and final weights compared. Separates "our training math drifts over many steps" (Adam, the mask EMA, the losses'
# state) from "the two sides draw different random streams" (init, data order, perturbation, dropout).
#   bench/sal_same_start.sh BUILD_DIR [WORK_DIR]
# The data stream is made identical by construction: 2 training videos (so every batch of 2 holds both) cropped to
# exactly T segments (so random_perturb is the identity on both sides), dropout off on both sides. The official
# initial weights (official set_seed + Model) are written by tools/sal_official_train.py --save-init and given to
# ours with aicl_train --init-weights. Prints the per-step losses side by side, the largest relative loss difference,
# the largest weight difference per tensor after the last step, and both sides' test mAP.
# Environment: STEPS (30), T (128), SEED (1), MULTI (1: training videos with two classes each, 0: one class),
# PY (/usr/bin/python3 with torch), OFFICIAL_SAL (see tools/sal_oracle.py).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/sal_same_start.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
steps=${STEPS:-30} T=${T:-128} seed=${SEED:-1} multi=${MULTI:-1}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$work"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $steps steps, T=$T, seed $seed"
rm -rf "$work/root" "$work/fixed.h5" "$work/ours" "$work/official"
"$build/bin/aicl_data" synth --out "$work/synth.h5" --train 40 --test 40 --max-segments 400 --difficulty 0.2 \
  --seed 0 > /dev/null
"$build/bin/aicl_data" export --in "$work/synth.h5" --out "$work/root" > /dev/null
# Keep two training videos of >= T segments (with two classes each when MULTI=1), cropped to T segments.
"$py" - "$work/root" "$T" "$multi" <<'EOF'
import json, os, sys
import numpy as np
root, T, multi = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
gt = json.load(open(os.path.join(root, 'gt.json')))
db = gt['database']
train = open(os.path.join(root, 'split_train.txt')).read().split()
dur = T * 16 / 25.0  # THUMOS14: 25 fps, 16 frames per segment
feat = lambda v, s: os.path.join(root, 'features', 'train', s, v + '.npy')
keep = []
for v in train:
    labels = {a['label'] for a in db[v]['annotations'] if a['segment'][0] < dur - 1}
    if np.load(feat(v, 'rgb')).shape[0] >= T and (len(labels) >= 2) == multi and len(keep) < 2:
        keep.append(v)
if len(keep) < 2:
    sys.exit('sal_same_start: fewer than two suitable training videos')
for v in train:
    for s in ('rgb', 'flow'):
        if v in keep:
            np.save(feat(v, s), np.load(feat(v, s))[:T])
        else:
            os.remove(feat(v, s))
    if v in keep:
        db[v]['annotations'] = [dict(a, segment=[a['segment'][0], min(a['segment'][1], dur)])
                                for a in db[v]['annotations'] if a['segment'][0] < dur - 1]
        db[v]['duration'] = dur
    else:
        del db[v]
json.dump(gt, open(os.path.join(root, 'gt.json'), 'w'))
open(os.path.join(root, 'split_train.txt'), 'w').write('\n'.join(keep) + '\n')
print('# training videos: %s (%s)' % (', '.join(keep), '; '.join(
    '+'.join(sorted({a['label'] for a in db[v]['annotations']})) for v in keep)))
EOF
"$build/bin/aicl_data" import --root "$work/root" --out "$work/fixed.h5" > /dev/null 2>&1
"$py" "$here/tools/sal_official_train.py" --root "$work/root" --out-dir "$work/official" --steps "$steps" \
  --segments "$T" --batch-size 2 --seed "$seed" --no-dropout --save-init "$work/init.h5" --log-every 0 --threads 2 \
  > "$work/official.log" 2>&1 || { tail -5 "$work/official.log" >&2; exit 1; }
echo '{"dropout": 0}' > "$work/nodrop.json"
"$build/bin/aicl_train" --method sal --data "$work/fixed.h5" --run-dir "$work/ours" --init-weights "$work/init.h5" \
  --method-config "$work/nodrop.json" --steps "$steps" --segments "$T" --batch 2 --seed "$seed" --select last \
  --eval-every 0 --checkpoint-every 1000000 --threads 2 --quiet > "$work/ours.log" 2>&1 \
  || { tail -5 "$work/ours.log" >&2; exit 1; }
"$py" - "$work" <<'EOF'
import json, os, sys
import h5py
import numpy as np
work = sys.argv[1]
off = json.load(open(os.path.join(work, 'official', 'report.json')))
ours = [json.loads(l) for l in open(os.path.join(work, 'ours', 'metrics.jsonl')) if '"seconds"' in l]
lo, lf = [m['loss'] for m in ours], off['losses']
rel = [abs(a - b) / abs(b) for a, b in zip(lo, lf)]
for i in sorted(set([0, 1, 4, 9, len(lf) - 1] + list(range(19, len(lf), 10)))):
    if i < len(lf):
        print('step %4d  ours %.6f  official %.6f  rel. diff %.1e' % (i + 1, lo[i], lf[i], rel[i]))
print('largest relative loss difference over %d steps: %.1e' % (len(lf), max(rel)))
with h5py.File(os.path.join(work, 'ours', 'best.h5'), 'r') as a, \
        h5py.File(os.path.join(work, 'official', 'WEIGHTS.h5'), 'r') as b:
    worst = max((float(np.abs(a[k][()] - b[k][()]).max() / max(np.abs(b[k][()]).max(), 1e-30)), k) for k in b)
print('final weights: largest difference / tensor max abs: %.1e (%s)' % worst)
eo = json.load(open(os.path.join(work, 'ours', 'eval.json')))
print('test avg mAP: ours %.2f, official %.2f' % (100 * eo['average_mAP'], 100 * off['average_mAP']))
EOF
