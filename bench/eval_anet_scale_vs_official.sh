#!/usr/bin/env bash
# Whole-process timing at ActivityNet v1.3 validation scale: aicl_eval vs the official evaluator (AICL's copy of
# ActivityNet's eval_detection.py, run by ../shared/oracle/official_eval.py), one run each, same detections.
#
#   bench/eval_anet_scale_vs_official.sh [BUILD_DIR] [PER_VIDEO]
#
# Ground truth: ../shared/data/anet13/gt.json, subset validation (4,728 videos, 200 classes), tIoU
# 0.5:0.95:10. Detections: bench/make_anet_scale_dets.py, PER_VIDEO (default 100) per video, seed 0 (~470k).
# The official side runs with joblib's threading backend (OFFICIAL_BACKEND=loky for the default one: it starts
# one worker process per class, 200 here). Prints both wall times (and CPU times), their ratio, and checks
# that the two mAPs agree to 1e-6.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
per_video="${2:-100}"
py="${PY:-/usr/bin/python3}"
shared="${AICL_SHARED:-$here/../shared}"
gt="$shared/data/anet13/gt.json"
oracle="$shared/oracle"
backend="${OFFICIAL_BACKEND:-threading}"
export OFFICIAL_AICL="${OFFICIAL_AICL:-/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo}"
bin="$build/bin/aicl_eval"
for f in "$gt" "$oracle/official_eval.py" "$bin"; do
  [[ -e "$f" ]] || { echo "eval_anet_scale_vs_official.sh: missing $f" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" "$here/bench/make_anet_scale_dets.py" --gt "$gt" --subset validation --per-video "$per_video" \
  --out "$work/dets.json"

timed() {  # timed NAME CMD...: wall and CPU seconds of one whole process into $work/NAME.time
  local name="$1"
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@"
}
timed ours "$bin" --gt "$gt" --detections "$work/dets.json" --subset validation --tiou 0.5:0.95:10 \
  --report "$work/ours.json" --quiet
timed official "$py" "$oracle/official_eval.py" --gt "$gt" --dets "$work/dets.json" --subset validation \
  --tiou 0.5:0.95:10 --joblib-backend "$backend" --out "$work/official.json" >/dev/null 2>&1
"$py" - "$work/ours.json" "$work/official.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = max(abs(x - y) for x, y in zip(a['mAP'] + [a['average_mAP']], b['mAP'] + [b['average_mAP']]))
print('average mAP ours %.6f, official %.6f, max |difference| %.3g' % (a['average_mAP'], b['average_mAP'], d))
sys.exit(0 if d <= 1e-6 else 1)
EOF
read -r ow ou os om < "$work/ours.time"
read -r fw fu fs fm < "$work/official.time"
printf 'aicl_eval: %.2f s wall, %.2f s CPU, %d MB\n' "$ow" "$(echo "$ou + $os" | bc -l)" "$((om / 1024))"
printf 'official (%s): %.1f s wall, %.1f s CPU, %d MB\n' "$backend" "$fw" "$(echo "$fu + $fs" | bc -l)" "$((fm / 1024))"
printf 'ratio: %.0fx wall, %.0fx CPU\n' "$(echo "$fw / $ow" | bc -l)" "$(echo "($fu + $fs) / ($ou + $os)" | bc -l)"
