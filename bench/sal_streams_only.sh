#!/usr/bin/env bash
# SAL training, streams only: ours vs the official trainer from ONE fixed initial weights file, over several stream
# seeds (epoch order, random perturbation, dropout masks drawn by each side's own rules from --seed S).
#   bench/sal_streams_only.sh BUILD_DIR [WORK_DIR]
# Answers whether our stream rules (not our init, not our step: docs/sal-training.md shows both equal) make runs
# worse: with the init fixed, the only difference between the two columns is how each trainer draws its streams.
# The init is the official one of INIT_SEED (official set_seed + Model, written by tools/sal_official_train.py
# --save-init), given to both sides (aicl_train --init-weights, sal_official_train.py --init-weights). Data: the
# synthetic set of bench/sal_train_vs_official.sh (same flags, reused if WORK_DIR already holds it).
# Environment: SEEDS ("1 2 3 4 5 6"), INIT_SEED (21), STEPS (100), T (128), NODROP (0; 1: dropout off on both sides,
# leaving the data stream (epoch order, random perturbation) as the only random stream), PY, OFFICIAL_SAL
# (tools/sal_oracle.py).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/sal_streams_only.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
seeds=${SEEDS:-1 2 3 4 5 6} init_seed=${INIT_SEED:-21} steps=${STEPS:-100} T=${T:-128} nodrop=${NODROP:-0}
ours_drop=() off_drop=()
if [ "$nodrop" = 1 ]; then
  mkdir -p "$work" && echo '{"dropout": 0}' > "$work/nodrop.json"
  ours_drop=(--method-config "$work/nodrop.json") off_drop=(--no-dropout)
fi
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$work"
log="$work/log.txt"
say() { echo "$*" | tee -a "$log"; }
mapv() { "$py" -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['average_mAP']))" "$1"; }
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# streams only: init = official init of seed $init_seed; $steps steps, batch 2, T=$T, lr 1e-4; stream seeds $seeds; dropout off: $nodrop"
[ -f "$work/synth.h5" ] || "$build/bin/aicl_data" synth --out "$work/synth.h5" --train 40 --test 40 \
  --max-segments 400 --difficulty 0.2 --seed 0 >> "$log"
[ -d "$work/root" ] || "$build/bin/aicl_data" export --in "$work/synth.h5" --out "$work/root" >> "$log"
init="$work/init_s$init_seed.h5"
if [ ! -f "$init" ]; then
  "$py" "$here/tools/sal_official_train.py" --root "$work/root" --out-dir "$work/init_run" --steps 1 --segments "$T" \
    --batch-size 2 --seed "$init_seed" --save-init "$init" --no-weights --log-every 0 --threads 2 \
    > "$work/init_run.log" 2>&1 || { tail -5 "$work/init_run.log" >&2; exit 1; }
fi
for s in $seeds; do
  d="$work/ours_s$s"
  if [ ! -f "$d/eval.json" ]; then
    rm -rf "$d"
    "$build/bin/aicl_train" --method sal --data "$work/synth.h5" --run-dir "$d" --init-weights "$init" \
      --steps "$steps" --segments "$T" --batch 2 --lr 1e-4 --seed "$s" --select last --eval-every 0 \
      --checkpoint-every 1000000 --threads 2 --quiet "${ours_drop[@]}" > "$d.log" 2>&1 || { tail -5 "$d.log" >&2; exit 1; }
    rm -f "$d/checkpoint.h5" "$d/best.h5" "$d/last.h5"
  fi
  say "stream seed $s ours: avg mAP $(mapv "$d/eval.json")"
  d="$work/official_s$s"
  if [ ! -f "$d/report.json" ]; then
    rm -rf "$d"
    "$py" "$here/tools/sal_official_train.py" --root "$work/root" --out-dir "$d" --init-weights "$init" \
      --steps "$steps" --segments "$T" --batch-size 2 --lr 1e-4 --seed "$s" --threads 2 --log-every 0 --no-weights \
      "${off_drop[@]}" \
      > "$d.log" 2>&1 || { tail -5 "$d.log" >&2; exit 1; }
  fi
  say "stream seed $s official: avg mAP $(mapv "$d/report.json")"
done
"$py" - "$work" $seeds <<'EOF' | tee -a "$log"
import json, os, statistics, sys
from scipy.stats import mannwhitneyu
work, seeds = sys.argv[1], sys.argv[2:]
ours = [100 * json.load(open(os.path.join(work, 'ours_s%s' % s, 'eval.json')))['average_mAP'] for s in seeds]
off = [100 * json.load(open(os.path.join(work, 'official_s%s' % s, 'report.json')))['average_mAP'] for s in seeds]
print('| stream seed | %s | mean ± std |' % ' | '.join(seeds))
print('| --- |%s --- |' % (' --- |' * len(seeds)))
ms = lambda xs: '%.2f ± %.2f' % (statistics.mean(xs), statistics.stdev(xs)) if len(xs) > 1 else '%.2f' % xs[0]
print('| ours | %s | **%s** |' % (' | '.join('%.2f' % x for x in ours), ms(ours)))
print('| official | %s | **%s** |' % (' | '.join('%.2f' % x for x in off), ms(off)))
if len(seeds) > 1:
    u = mannwhitneyu(ours, off, alternative='two-sided')
    print('Mann-Whitney U = %g of %d, p = %.2f' % (u.statistic, len(ours) * len(off), u.pvalue))
EOF
