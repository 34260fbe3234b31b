#!/usr/bin/env bash
# Whole-process timing: aicl_eval vs the official evaluator (official_eval.py) on the same detections.
#
#   bench/eval_vs_official.sh [BUILD_DIR] [RUNS]
#
# Real THUMOS14 gt (212 test videos), 20,000 random detections from the oracle's --make-random-dets
# (seed 0; 56 of them have start > end, hence --allow-inverted). Each tool is run RUNS times (default 5 for ours, 3 for the official one, which takes ~20 s);
# the median wall time of each and their ratio are printed, and the mAP of both is checked to agree.
# The official side uses joblib's default loky backend, as the official code does.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-5}"
official_runs="${OFFICIAL_RUNS:-3}"
py="${PY:-/usr/bin/python3}"
shared="${AICL_SHARED:-$here/../shared}"
gt="$shared/data/thumos14/gt.json"
split="$shared/data/thumos14/split_test.txt"
oracle="$shared/oracle"
export OFFICIAL_AICL="${OFFICIAL_AICL:-/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo}"
bin="$build/bin/aicl_eval"
for f in "$gt" "$split" "$oracle/official_eval.py" "$bin"; do
  [[ -e "$f" ]] || { echo "eval_vs_official.sh: missing $f" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" "$oracle/official_eval.py" --make-random-dets 20000 --gt "$gt" --split "$split" \
  --out-dets "$work/dets.json" --seed 0 >/dev/null

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

ours=()
for ((i = 0; i < runs; i++)); do
  t0=$(now)
  "$bin" --gt "$gt" --detections "$work/dets.json" --report "$work/ours.json" --quiet --allow-inverted
  t1=$(now)
  ours+=("$(echo "$t1 - $t0" | bc -l)")
done
official=()
for ((i = 0; i < official_runs; i++)); do
  t0=$(now)
  "$py" "$oracle/official_eval.py" --gt "$gt" --dets "$work/dets.json" --out "$work/official.json" >/dev/null 2>&1
  t1=$(now)
  official+=("$(echo "$t1 - $t0" | bc -l)")
done
m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_off=$(printf '%s\n' "${official[@]}" | median)
"$py" - "$work/ours.json" "$work/official.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = max(abs(x - y) for x, y in zip(a['mAP'] + [a['average_mAP']], b['mAP'] + [b['average_mAP']]))
print('mAP ours     ' + ' '.join('%.6f' % x for x in a['mAP']) + '  avg %.6f' % a['average_mAP'])
print('mAP official ' + ' '.join('%.6f' % x for x in b['mAP']) + '  avg %.6f' % b['average_mAP'])
print('max |difference| %.3g' % d)
sys.exit(0 if d <= 1e-6 else 1)
EOF
echo "aicl_eval runs (s):     ${ours[*]}"
echo "official_eval runs (s): ${official[*]}"
printf 'median: aicl_eval %.4f s, official %.2f s, ratio %.0fx\n' "$m_ours" "$m_off" "$(echo "$m_off / $m_ours" | bc -l)"
