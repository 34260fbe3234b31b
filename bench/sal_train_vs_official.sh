#!/usr/bin/env bash
# SAL training quality over seeds, ours vs the official code, on one synthetic dataset, same budget.
#   bench/sal_train_vs_official.sh BUILD_DIR [WORK_DIR]
# Makes WORK_DIR/synth.h5 (aicl_data synth) and its official layout WORK_DIR/root (aicl_data export), then for every
# seed, alternated: ours (aicl_train --method sal --select last: the final weights, evaluated on the test split) and
# the official trainer (tools/sal_official_train.py: official set_seed, Model, ThumosFeature loaders, Adam, the
# official ThumosTrainer.train() loop, final weights, official inference with soft-NMS and official evaluation),
# both with the same steps, batch, segments, lr and seed. Prints a table of the average mAP (tIoU 0.1:0.7) per seed
# and the mean +- sample std of each side; writes WORK_DIR/summary.json.
# Environment (defaults = the budget chosen in docs/sal-training.md): SEEDS ("1 2 3"), STEPS (150), T (128),
# LR (1e-4, the official), BATCH (2), TRAIN (40), TEST (40), MAX_SEGMENTS (400), DIFFICULTY (0.2), DATA_SEED (0),
# PY (/usr/bin/python3 with torch), OFFICIAL_SAL (see tools/sal_oracle.py), KEEP (1: keep run directories' weights),
# OFFICIAL_FLAGS (more flags for tools/sal_official_train.py, e.g. --aicl-dropout: the official model draws aicl's masks).
# The official trainer runs under kept_heap (bench/kept_heap.sh): the same numbers, about 4x faster on a VM where
# page faults are dear (its per-step 0.5 GB tensors are not handed back to the kernel and faulted in again).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/sal_train_vs_official.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
seeds=${SEEDS:-1 2 3} steps=${STEPS:-150} T=${T:-128} lr=${LR:-1e-4} batch=${BATCH:-2}
ntrain=${TRAIN:-40} ntest=${TEST:-40} maxseg=${MAX_SEGMENTS:-400} diff=${DIFFICULTY:-0.2} dseed=${DATA_SEED:-0}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$work"
. "$here/bench/kept_heap.sh"
log="$work/log.txt"
say() { echo "$*" | tee -a "$log"; }
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# data: synth --train $ntrain --test $ntest --max-segments $maxseg --difficulty $diff --seed $dseed"
say "# budget: $steps steps, batch $batch, T=$T (inference T=$T), lr $lr, Adam wd 5e-4, 2 threads; seeds $seeds"
say "# official trainer flags: ${OFFICIAL_FLAGS:-none}"
if [ ! -f "$work/synth.h5" ]; then
  "$build/bin/aicl_data" synth --out "$work/synth.h5" --train "$ntrain" --test "$ntest" --max-segments "$maxseg" \
    --difficulty "$diff" --seed "$dseed" >> "$log"
fi
[ -d "$work/root" ] || "$build/bin/aicl_data" export --in "$work/synth.h5" --out "$work/root" >> "$log"
t_all=$(date +%s)
for s in $seeds; do
  d="$work/ours_s$s"
  rm -rf "$d"
  t0=$(date +%s)
  "$build/bin/aicl_train" --method sal --data "$work/synth.h5" --run-dir "$d" --steps "$steps" --segments "$T" \
    --batch "$batch" --lr "$lr" --seed "$s" --select last --eval-every 0 --checkpoint-every 1000000 --threads 2 \
    --quiet > "$d.log" 2>&1 || { tail -5 "$d.log" >&2; exit 1; }
  echo $(( $(date +%s) - t0 )) > "$d/wall_s"
  [ "${KEEP:-0}" = 1 ] || rm -f "$d/checkpoint.h5" "$d/best.h5"
  say "seed $s ours: avg mAP $("$py" -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['average_mAP']))" "$d/eval.json"), $(cat "$d/wall_s") s"
  d="$work/official_s$s"
  rm -rf "$d"
  t0=$(date +%s)
  w=--no-weights; [ "${KEEP:-0}" = 1 ] && w=
  kept_heap "$py" "$here/tools/sal_official_train.py" --root "$work/root" --out-dir "$d" --steps "$steps" \
    --segments "$T" --batch-size "$batch" --lr "$lr" --seed "$s" --threads 2 --log-every 50 $w ${OFFICIAL_FLAGS:-} \
    > "$d.log" 2>&1 \
    || { tail -5 "$d.log" >&2; exit 1; }
  echo $(( $(date +%s) - t0 )) > "$d/wall_s"
  say "seed $s official: avg mAP $("$py" -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['average_mAP']))" "$d/report.json"), $(cat "$d/wall_s") s"
done
say "# total wall $(( $(date +%s) - t_all )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$work" $seeds <<'EOF' | tee -a "$log"
import json, os, statistics, sys
work, seeds = sys.argv[1], sys.argv[2:]
rows = []
for s in seeds:
    o = json.load(open(os.path.join(work, 'ours_s%s' % s, 'eval.json')))
    f = json.load(open(os.path.join(work, 'official_s%s' % s, 'report.json')))
    om = [json.loads(l) for l in open(os.path.join(work, 'ours_s%s' % s, 'metrics.jsonl')) if '"seconds"' in l]
    osec = statistics.median([m['seconds'] for m in om[3:]]) if len(om) > 3 else float('nan')
    rows.append({'seed': int(s), 'ours': o['average_mAP'], 'ours_mAP': o['mAP'], 'ours_cls_acc': o.get('cls_acc'),
                 'ours_s_per_step': osec, 'ours_wall_s': int(open(os.path.join(work, 'ours_s%s' % s, 'wall_s')).read()),
                 'official': f['average_mAP'], 'official_mAP': f['mAP'], 'official_cls_acc': f['cls_acc'],
                 'official_s_per_step': f['sec_per_step_median'],
                 'official_wall_s': int(open(os.path.join(work, 'official_s%s' % s, 'wall_s')).read()),
                 'ours_loss_last10': statistics.mean([m['loss'] for m in om[-10:]]),
                 'official_loss_last10': f['loss_last10_mean']})
print('| seed | ours avg mAP | official avg mAP | ours mAP@0.1/0.3/0.5/0.7 | official mAP@0.1/0.3/0.5/0.7 | '
      'ours / official s/step | ours / official wall |')
print('| --- | --- | --- | --- | --- | --- | --- |')
pick = lambda m: '/'.join('%.1f' % (100 * m[i]) for i in (0, 2, 4, 6))
for r in rows:
    print('| %d | %.2f | %.2f | %s | %s | %.2f / %.2f | %d / %d s |' % (
        r['seed'], 100 * r['ours'], 100 * r['official'], pick(r['ours_mAP']), pick(r['official_mAP']),
        r['ours_s_per_step'], r['official_s_per_step'], r['ours_wall_s'], r['official_wall_s']))
def ms(xs):
    xs = [100 * x for x in xs]
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)
mo, so_ = ms([r['ours'] for r in rows])
mf, sf = ms([r['official'] for r in rows])
print('| mean +- std | **%.2f +- %.2f** | **%.2f +- %.2f** | | | | |' % (mo, so_, mf, sf))
summary = {'rows': rows, 'ours_mean': mo, 'ours_std': so_, 'official_mean': mf, 'official_std': sf}
with open(os.path.join(work, 'summary.json'), 'w') as fh:
    json.dump(summary, fh, indent=1)
EOF
say "# wrote $work/summary.json and $log"
