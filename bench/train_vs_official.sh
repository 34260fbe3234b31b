#!/usr/bin/env bash
# Seconds per training step, aicl_train vs the official trainer (../shared/oracle/official_train.py), same data,
# same machine, 2 threads each, runs alternated so that background load hits both alike.
#   bench/train_vs_official.sh BUILD DATA.h5 NPY_ROOT [T...]     (needs OFFICIAL_AICL and /usr/bin/python3 + torch)
# DATA.h5 and NPY_ROOT hold the same videos (aicl_data export). Per-step medians after 3 warm-up steps.
# The official trainer is timed twice per round: plain (as its users run it) and under kept_heap
# (bench/kept_heap.sh: glibc keeps freed memory, so PyTorch's per-step tensors stop costing fresh page faults).
set -euo pipefail
build=$1 data=$2 root=$3; shift 3
sizes=("${@:-128 750}")
[ ${#sizes[@]} -gt 0 ] || sizes=(128 750)
oracle=${ORACLE:-$(cd "$(dirname "$0")/../../shared/oracle" && pwd)}
steps=${STEPS:-13} reps=${REPS:-2}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kept_heap.sh"
official() {  # official T [kept_heap]: the official trainer's median s/step
  local T=$1; shift
  "$@" /usr/bin/python3 "$oracle/official_train.py" --root "$root" --out-dir "$tmp/off" --steps "$steps" \
    --segments "$T" --threads 2 --warmup 3 --joblib-backend threading 2>&1 |
    sed -n 's/.*median \([0-9.]*\) s\/step.*/\1/p' | head -1
}
printf '%-6s %-4s %-12s %-16s %-16s\n' T rep ours_s/step official_s/step kept_heap_s/step
for T in ${sizes[@]}; do
  for r in $(seq "$reps"); do
    rm -rf "$tmp/ours"
    "$build/bin/aicl_train" --data "$data" --run-dir "$tmp/ours" --steps "$steps" --segments "$T" --eval-every 0 \
      --checkpoint-every 100000 --threads 2 --quiet --select last > /dev/null 2>&1 || true
    o=$(metrics_median_s python3 "$tmp/ours/metrics.jsonl" 3)
    off=$(official "$T") kept=$(official "$T" kept_heap)
    printf '%-6s %-4s %-12s %-16s %-16s\n' "$T" "$r" "$o" "$off" "$kept"
  done
done
