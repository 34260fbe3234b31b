#!/usr/bin/env bash
# `make demo`: synthetic THUMOS14-like dataset -> inspect -> train AICL on the CPU -> inference + mAP table + figures.
set -euo pipefail
build=${1:-build}
bin=$build/bin
out=${DEMO_DIR:-$build/demo}
steps=${DEMO_STEPS:-400}
mkdir -p "$out"
echo "== 1/3 synthetic dataset (THUMOS14-like: 20 classes, RGB/flow evidence, motionless context) =="
[ -f "$out/synth.h5" ] || "$bin/aicl_data" synth --out "$out/synth.h5" --train 120 --test 80 --max-segments 500 --seed 0 --difficulty 0.5
"$bin/aicl_data" inspect "$out/synth.h5" | head -8
echo
echo "== 2/3 train AICL ($steps steps, B=16, T=128, Adam 1e-4; model selection on 20% held-out training videos) =="
rm -rf "$out/run"
"$bin/aicl_train" --data "$out/synth.h5" --run-dir "$out/run" --steps "$steps" --segments 128 \
  --eval-every 100 --val-fraction 0.2 --seed 1
echo
echo "== 3/3 inference + evaluation of the selected weights on the test split =="
"$bin/aicl_eval" --data "$out/synth.h5" --weights "$out/run/best.h5" --segments 128 \
  --out "$out/detections.json" --report "$out/eval.json" --plot "$out/figures" --plot-run "$out/run"
echo "outputs in $out/ (run/metrics.jsonl, run/best.h5, detections.json, eval.json, figures/index.html)"
