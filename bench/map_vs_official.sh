#!/usr/bin/env bash
# Trained mAP, aicl_train vs the official trainer, on the same data and budget, over several seeds.
#   bench/map_vs_official.sh BUILD DATA.h5 NPY_ROOT [SEEDS...]      (needs OFFICIAL_AICL, /usr/bin/python3 + torch)
# Env: STEPS (300), T (128). Final weights on both sides (official_train keeps the final weights).
set -euo pipefail
build=$1 data=$2 root=$3; shift 3
seeds=("${@:-1 2 3}")
oracle=${ORACLE:-$(cd "$(dirname "$0")/../../shared/oracle" && pwd)}
steps=${STEPS:-300} T=${T:-128}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%-5s %-10s %-10s\n' seed ours_avg official_avg
for s in ${seeds[@]}; do
  "$build/bin/aicl_train" --data "$data" --run-dir "$tmp/ours$s" --steps "$steps" --segments "$T" --eval-every 0 \
    --seed "$s" --threads 2 --quiet > /dev/null
  o=$(python3 -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['average_mAP']))" "$tmp/ours$s/eval.json")
  /usr/bin/python3 "$oracle/official_train.py" --root "$root" --out-dir "$tmp/off$s" --steps "$steps" --segments "$T" \
    --seed "$s" --threads 2 --joblib-backend threading > "$tmp/off$s.log" 2>&1
  f=$(python3 -c "import json,sys; print('%.2f' % (100*json.load(open(sys.argv[1]))['inference']['average_mAP']))" "$tmp/off$s/train.json")
  printf '%-5s %-10s %-10s\n' "$s" "$o" "$f"
done
