#!/usr/bin/env bash
# SAL's ActivityNet 1.3 training step on the CPU at the official shape (B = 32, T = 50, 200 classes, 2048-wide
# features), ours vs the official code, 2 threads each, runs alternated so that background load hits both alike.
#   bench/sal_anet_step_vs_official.sh BUILD_DIR [WORK_DIR]
# ours:     aicl_train --method sal on a synthetic anet13 file (the profile selects SAL's ActivityNet variant): the
#           trainer's whole CPU step (batch gathering, forward, losses, backward, loss checks, Adam over 145.8 M
#           parameters), median of metrics.jsonl's per-step seconds after WARMUP steps;
# official: tools/sal_anet_oracle.py time (the official Trainer.train_one_step with the official Adam, dropout on, on
#           random in-memory batches: forward, losses, backward, Adam; no data loading), median after WARMUP steps;
#           timed plain and under kept_heap (bench/kept_heap.sh: glibc keeps freed memory, no fresh page faults
#           for re-allocated tensors), both reported.
# Environment: ROUNDS (2), STEPS (6 timed steps per run), WARMUP (2), PY (/usr/bin/python3 with torch),
# OFFICIAL_SAL_ANET (see tools/sal_anet_oracle.py).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/sal_anet_step.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
rounds=${ROUNDS:-2} steps=${STEPS:-6} warmup=${WARMUP:-2}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$work"
. "$here/bench/kept_heap.sh"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$work/anet.h5" ] || "$build/bin/aicl_data" synth --profile anet13 --train 40 --test 2 --seed 0 \
  --out "$work/anet.h5" > /dev/null
ours=() official=() kept=()
official() {  # official [kept_heap]: the official median s/step of one timing run
  "$@" "$py" "$here/tools/sal_anet_oracle.py" time --B 32 --T 50 --classes 200 --steps "$steps" --warmup "$warmup" \
    --threads 2 --out-json "$work/official.json" > "$work/official.log" 2>&1 \
    || { tail -5 "$work/official.log" >&2; exit 1; }
  json_median_s "$py" "$work/official.json"
}
for r in $(seq "$rounds"); do
  rm -rf "$work/ours"
  "$build/bin/aicl_train" --method sal --data "$work/anet.h5" --run-dir "$work/ours" --batch 32 --segments 50 \
    --steps $((steps + warmup)) --eval-every 0 --select last --checkpoint-every 1000000 --threads 2 --quiet \
    > "$work/ours.log" 2>&1 || { tail -5 "$work/ours.log" >&2; exit 1; }
  o=$(metrics_median_s "$py" "$work/ours/metrics.jsonl" "$warmup")
  rm -f "$work/ours/best.h5" "$work/ours/checkpoint.h5"
  f=$(official)
  k=$(official kept_heap)
  echo "round $r: ours $o s/step, official $f s/step plain, $k s/step kept_heap"
  ours+=("$o") official+=("$f") kept+=("$k")
done
report_rounds "$py" "${ours[*]}" "${official[*]}" "${kept[*]}"
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
