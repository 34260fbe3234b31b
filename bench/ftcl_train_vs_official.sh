#!/usr/bin/env bash
# FTCL training quality over seeds, ours vs the official code, both stages, one synthetic dataset, same budget.
#   bench/ftcl_train_vs_official.sh BUILD_DIR [WORK_DIR]
# Makes WORK_DIR/synth.h5 (aicl_data synth, STREAM_WIDTH-wide streams) and its official layout WORK_DIR/root
# (aicl_data export --layout concat), then per seed: the official stage A (tools/ftcl_official_train.py: the official
# main_thu.main, EPOCHS_A epochs) and stage B from its final weights (EPOCHS_B epochs), and ours with the same number
# of steps (aicl_train --method ftcl --stage a, then --stage b --init-weights from our stage A's final weights), T,
# batch 16 (pairs in stage B), Adam 1e-4 with L2 5e-5, seed. Both sides' final weights are tested on the test split
# (the official test() with its evaluator; ours with FTCL's declared post-processing, the same tIoUs). Prints a table
# of the average mAP (tIoU 0.1:0.7) per seed and stage and the mean +- sample std per side; writes summary.json.
# Environment: SEEDS ("0 1 2"), EPOCHS_A (100), EPOCHS_B (10), T (128), STREAM_WIDTH (128), TRAIN (40), TEST (60),
# MAX_SEGMENTS (200), DIFFICULTY (0.2), ACM_ONLY (0; 1: stage A without its in-batch LCS/FSD terms, the official
# --without_lcs --without_fsd, on both sides), PY (/usr/bin/python3 with torch), OFFICIAL_FTCL (tools/ftcl_oracle.py).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/ftcl_train_vs_official.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
seeds=${SEEDS:-0 1 2} ea=${EPOCHS_A:-100} eb=${EPOCHS_B:-10} T=${T:-128} sw=${STREAM_WIDTH:-128}
ntrain=${TRAIN:-40} ntest=${TEST:-60} maxseg=${MAX_SEGMENTS:-200} diff=${DIFFICULTY:-0.2} acm_only=${ACM_ONLY:-0}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$work"
log="$work/log.txt"
say() { echo "$*" | tee -a "$log"; }
mapv() { "$py" -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['average_mAP']))" "$1"; }
steps_of() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['steps'])" "$1"; }
say "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# data: synth --train $ntrain --test $ntest --max-segments $maxseg --difficulty $diff --stream-width $sw --seed 0"
say "# budget: stage A $ea epochs, stage B $eb epochs, batch 16, T=$T, Adam 1e-4 L2 5e-5, 2 threads; seeds $seeds; stage A without LCS/FSD: $acm_only"
[ -f "$work/synth.h5" ] || "$build/bin/aicl_data" synth --out "$work/synth.h5" --train "$ntrain" --test "$ntest" \
  --max-segments "$maxseg" --difficulty "$diff" --stream-width "$sw" --seed 0 >> "$log"
[ -d "$work/root" ] || "$build/bin/aicl_data" export --in "$work/synth.h5" --out "$work/root" --layout concat >> "$log"
F=$((2 * sw))
echo "{\"stage\": \"a\", \"use_lcs\": $([ "$acm_only" = 1 ] && echo false || echo true), \"use_fsd\": $([ "$acm_only" = 1 ] && echo false || echo true)}" > "$work/stage_a.json"
echo '{"stage": "b"}' > "$work/stage_b.json"
ours() {  # ours STAGE SEED STEPS RUN [INIT]
  rm -rf "$4"
  local init=()
  [ $# -ge 5 ] && init=(--init-weights "$5")
  "$build/bin/aicl_train" --method ftcl --method-config "$work/stage_$1.json" --data "$work/synth.h5" --run-dir "$4" --steps "$3" \
    --segments "$T" --batch 16 --lr 1e-4 --weight-decay 5e-5 --seed "$2" --select last --eval-every 0 \
    --checkpoint-every 1000000 --threads 2 --quiet "${init[@]}" > "$4.log" 2>&1 || { tail -5 "$4.log" >&2; exit 1; }
}
official() {  # official STAGE SEED EPOCHS DIR [CHECKPOINT]
  rm -rf "$4"
  local ck=()
  [ $# -ge 5 ] && ck=(--checkpoint "$5")
  [ "$1" = a ] && [ "$acm_only" = 1 ] && ck+=(--without-contrast)
  "$py" "$here/tools/ftcl_official_train.py" --root "$work/root" --out-dir "$4" --stage "$1" --epochs "$3" \
    --segments "$T" --feature-dim "$F" --seed "$2" --threads 2 "${ck[@]}" > "$4.log" 2>&1 \
    || { tail -5 "$4.log" >&2; exit 1; }
}
for s in $seeds; do
  official a "$s" "$ea" "$work/off_a_s$s"
  official b "$s" "$eb" "$work/off_b_s$s" "$work/off_a_s$s/THUMOS_latest.pth"
  ours a "$s" "$(steps_of "$work/off_a_s$s/report.json")" "$work/ours_a_s$s"
  ours b "$s" "$(steps_of "$work/off_b_s$s/report.json")" "$work/ours_b_s$s" "$work/ours_a_s$s/best.h5"
  say "seed $s: stage A ours $(mapv "$work/ours_a_s$s/eval.json") official $(mapv "$work/off_a_s$s/report.json");" \
      "stage B ours $(mapv "$work/ours_b_s$s/eval.json") official $(mapv "$work/off_b_s$s/report.json")" \
      "($(steps_of "$work/off_a_s$s/report.json") + $(steps_of "$work/off_b_s$s/report.json") steps)"
done
"$py" - "$work" $seeds <<'EOF' | tee -a "$log"
import json, os, statistics, sys
work, seeds = sys.argv[1], sys.argv[2:]
rd = lambda *p: json.load(open(os.path.join(work, *p)))
rows = [{'seed': int(s),
         'ours_a': 100 * rd('ours_a_s%s' % s, 'eval.json')['average_mAP'],
         'official_a': 100 * rd('off_a_s%s' % s, 'report.json')['average_mAP'],
         'ours_b': 100 * rd('ours_b_s%s' % s, 'eval.json')['average_mAP'],
         'official_b': 100 * rd('off_b_s%s' % s, 'report.json')['average_mAP'],
         'steps_a': rd('off_a_s%s' % s, 'report.json')['steps'],
         'steps_b': rd('off_b_s%s' % s, 'report.json')['steps']} for s in seeds]
print('| seed | stage A ours | stage A official | stage B ours | stage B official |')
print('| --- | --- | --- | --- | --- |')
for r in rows:
    print('| %d | %.2f | %.2f | %.2f | %.2f |' % (r['seed'], r['ours_a'], r['official_a'], r['ours_b'], r['official_b']))
ms = lambda k: '%.2f ± %.2f' % (statistics.mean(r[k] for r in rows), statistics.stdev(r[k] for r in rows)) \
    if len(rows) > 1 else '%.2f' % rows[0][k]
print('| **mean ± std** | **%s** | **%s** | **%s** | **%s** |' % (ms('ours_a'), ms('official_a'), ms('ours_b'),
                                                              ms('official_b')))
json.dump({'rows': rows}, open(os.path.join(work, 'summary.json'), 'w'), indent=1)
EOF
