#!/usr/bin/env bash
# FTCL's stage-B training step on the CPU at the official shape (16 pairs = 32 videos, T = 750, 2048-wide features),
# ours vs the official code, 2 threads each, runs alternated so that background load hits both alike.
#   bench/ftcl_step_vs_official.sh BUILD_DIR [WORK_DIR]
# ours:     aicl_train --method ftcl --stage b on a synthetic THUMOS14-like file (40 training videos; --batch counts
#           pairs): the trainer's whole CPU step (pair batch gathering, both sides' forward, ACM losses, LCS/FSD DP,
#           backward, Adam over 14.7 M parameters), median of metrics.jsonl's per-step seconds after WARMUP steps;
# official: tools/ftcl_official_train.py --time-only (the official train_thu.train in stage B with FTCLLoss and the
#           official Adam on random in-memory pairs: compute only, no data loading; each step timed from the loop
#           taking its batch, since the official loop calls zero_grad only after its forward and loss), median after
#           WARMUP steps;
#           timed plain and under kept_heap (bench/kept_heap.sh: glibc keeps freed memory, no fresh page faults
#           for re-allocated tensors), both reported.
# Environment: ROUNDS (2), STEPS (3 timed steps per run), WARMUP (1), PAIRS (16), T (750), PY (/usr/bin/python3 with
# torch), OFFICIAL_FTCL (see tools/ftcl_oracle.py), BLAS (env: keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as the machine
# sets them; native: unset both for this command alone, for both sides, so OpenBLAS runs the kernels it detects).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/ftcl_step.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
rounds=${ROUNDS:-2} steps=${STEPS:-3} warmup=${WARMUP:-1} pairs=${PAIRS:-16} T=${T:-750}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
case ${BLAS:-env} in
  env) ;;
  native) unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE ;;
  *) echo "$0: BLAS must be env or native" >&2; exit 2 ;;
esac
mkdir -p "$work"
. "$here/bench/kept_heap.sh"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Which GEMM kernels each side runs: our OpenBLAS (the library aicl_train loads, asked under this environment) and
# whether torch's convolutions go through oneDNN (which picks its own ISA, whatever OPENBLAS_CORETYPE says).
blas_lib=$(ldd "$build/bin/aicl_train" | awk '/libopenblas/ {print $3; exit}')
"$py" -c "
import ctypes, sys, torch
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
print('# ours: OpenBLAS %s kernels (OPENBLAS_CORETYPE=%s); official: torch %s, oneDNN convolutions %s' % (
    lib.openblas_get_corename().decode(), sys.argv[2], torch.__version__, torch.backends.mkldnn.is_available()))
" "$blas_lib" "${OPENBLAS_CORETYPE:-unset}"
[ -f "$work/synth.h5" ] || "$build/bin/aicl_data" synth --train 40 --test 2 --max-segments 900 --seed 0 \
  --out "$work/synth.h5" > /dev/null
ours=() official=() kept=()
official() {  # official [kept_heap]: the official median s/step of one timing run
  "$@" "$py" "$here/tools/ftcl_official_train.py" --time-only --pairs "$pairs" --segments "$T" --steps "$steps" \
    --warmup "$warmup" --threads 2 --out-json "$work/official.json" > "$work/official.log" 2>&1 \
    || { tail -5 "$work/official.log" >&2; exit 1; }
  json_median_s "$py" "$work/official.json"
}
for r in $(seq "$rounds"); do
  rm -rf "$work/ours"
  "$build/bin/aicl_train" --method ftcl --stage b --data "$work/synth.h5" --run-dir "$work/ours" --batch "$pairs" \
    --segments "$T" --steps $((steps + warmup)) --eval-every 0 --select last --checkpoint-every 1000000 --threads 2 \
    --quiet > "$work/ours.log" 2>&1 || { tail -5 "$work/ours.log" >&2; exit 1; }
  o=$(metrics_median_s "$py" "$work/ours/metrics.jsonl" "$warmup")
  rm -f "$work/ours/best.h5" "$work/ours/checkpoint.h5"
  f=$(official)
  k=$(official kept_heap)
  echo "round $r: ours $o s/step, official $f s/step plain, $k s/step kept_heap"
  ours+=("$o") official+=("$f") kept+=("$k")
done
report_rounds "$py" "${ours[*]}" "${official[*]}" "${kept[*]}"
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
