#!/usr/bin/env bash
# On the GPU device machine (repo root, .device/ carried; see scripts/device-prepare.sh): unpack the carried .debs
# into a private prefix (never into /), build only what the GPU checks need (library, CLIs, GPU tests, CUDA
# benchmarks), run the GPU tests and the CUDA benchmarks, and, unless `quick`, our trainer in FP32 and TF32 and the
# official trainer on the same GPU (TF32 off, then torch's defaults). Every phase has a time limit so that the whole
# check stays under ~8 minutes of wall time (the device budget is 15 minutes per task, start-up included).
# Results go to $OUT: summary.txt (passed / failed / SKIPPED GPU tests counted separately: a run where the GPU was
# invisible must not look green), build.log, gpu_tests.log, the benchmarks and the training logs.
#   scripts/device-run.sh [quick]
#   AICL_CUDA=OFF scripts/device-run.sh   (a check of the prefix build on a machine without nvcc: CPU tests only)
# Written without a GPU at hand (2026-11-24): the prefix build was checked in a bare Debian 12 chroot (no CUDA
# there); the CUDA and official-on-GPU parts have not run yet.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/.device/out}
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.txt"; }
P=${AICL_PREFIX:-/tmp/aicl-prefix}
arch=x86_64-linux-gnu
mkdir -p "$P"
for f in .device/debs/*.deb; do
  if command -v dpkg-deb > /dev/null; then dpkg-deb -x "$f" "$P"
  else (cd "$P" && ar p "$OLDPWD/$f" data.tar.xz | tar -xJ); fi
done
# The .pc files name /usr; point them into the prefix.
find "$P/usr" -name '*.pc' -exec sed -i "s|=/usr/|=$P/usr/|g; s| /usr/| $P/usr/|g" {} +
export PKG_CONFIG_PATH="$P/usr/lib/$arch/pkgconfig:$P/usr/share/pkgconfig"
# The binaries find the prefix's libraries through DT_RPATH (unlike RUNPATH it also serves the libraries' own
# dependencies, e.g. libhdf5 -> libsz), so nothing runs with a global LD_LIBRARY_PATH that could shadow the
# image's newer system libraries for cmake, python or torch.
ldflags="-Wl,-rpath-link,$P/usr/lib/$arch -Wl,--disable-new-dtags -Wl,-rpath,$P/usr/lib/$arch"
if ! command -v pkg-config > /dev/null; then  # the carried pkgconf, with its library
  printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$P/usr/lib/$arch" "$P/usr/bin/pkgconf" > "$P/pkg-config"
  chmod +x "$P/pkg-config"
  export PKG_CONFIG="$P/pkg-config"
fi

start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }
log "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*'); $(date -u)"
# The official code's Python dependencies: say what is missing instead of failing later.
log "python deps: $(python3 -c "
import importlib
m=['torch','numpy','pandas','scipy','joblib','h5py']
miss=[x for x in m if importlib.util.find_spec(x) is None]
print('all of ' + ' '.join(m) + ' import' if not miss else 'MISSING ' + ' '.join(miss))" 2>&1)"
B=build-gpu
t0=$(date +%s)
cuda=${AICL_CUDA:-ON}
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DAICL_CUDA=$cuda -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" \
  -DCMAKE_PREFIX_PATH="$P/usr" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DAICL_OPENBLAS_OPENMP_PC="$P/usr/lib/$arch/openblas-openmp/pkgconfig" \
  -DHDF5_C_INCLUDE_DIR="$P/usr/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$P/usr/lib/$arch/hdf5/serial/libhdf5.so" \
  ${PKG_CONFIG:+-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG} > "$out/build.log" 2>&1 || { log "configure failed"; tail -30 "$out/build.log"; exit 1; }
targets="aicl_train aicl_eval aicl_data"
[ "$cuda" = OFF ] && targets="$targets test_cpu" || targets="$targets aicl_cuda test_gpu bench_cuda_dense bench_cuda_losses bench_cuda_step"
timeout 330 ninja -C $B -j "$(nproc)" $targets >> "$out/build.log" 2>&1 \
  || { log "build failed or over 330 s ($(elapsed))"; grep -m20 -E 'error|Error' "$out/build.log"; exit 1; }
log "built in $(( $(date +%s) - t0 )) s"
if [ "$cuda" = OFF ]; then
  ctest --test-dir $B -L cpu -j "$(nproc)" > "$out/cpu_tests.log" 2>&1
  log "cpu tests (prefix self-check): $(grep -E 'tests passed|tests failed' "$out/cpu_tests.log")"
  exit 0
fi

# One GPU shared by 4 test processes: the tests are independent and small next to 141 GiB.
timeout 150 ctest --test-dir $B -L gpu --output-on-failure -j 4 --timeout 120 > "$out/gpu_tests.log" 2>&1
passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$out/gpu_tests.log")
failed=$(grep -cE '\*\*\*(Failed|Exception|Timeout)|\*\*\*Not Run' "$out/gpu_tests.log")
skipped=$(grep -cE '\*\*\*Skipped' "$out/gpu_tests.log")
verdict=GREEN
[ "$failed" -gt 0 ] && verdict=FAILED
[ "$skipped" -gt 0 ] || [ "$passed" -eq 0 ] && [ "$verdict" = GREEN ] && verdict="NOT GREEN (skipped tests: GPU invisible?)"
log "gpu tests: $passed passed, $failed failed, $skipped SKIPPED -> $verdict ($(elapsed))"
grep -E '\*\*\*(Failed|Exception|Timeout|Skipped)' "$out/gpu_tests.log" | head -30 | tee -a "$out/summary.txt"

for b in bench_cuda_dense bench_cuda_losses bench_cuda_step; do
  timeout 60 $B/bin/$b --benchmark_min_time=0.1 --benchmark_counters_tabular=true > "$out/$b.txt" 2>&1
  log "$b: exit $? ($(grep -c '^BM_' "$out/$b.txt") rows, $(elapsed))"
done
# Ours, compute only: BM_TrainStep keeps the features on the device (no host batch loading), 10 queued steps per
# read; the trainer's whole step (batch drawing and upload included) is the aicl_train line below.
log "ours compute-only (bench_cuda_step BM_TrainStep/T/tf32, s per step): $(grep -E '^BM_TrainStep' "$out/bench_cuda_step.txt" | awk '{printf "%s %s %s; ", $1, $2, $3}')"
[ "${1:-}" = quick ] && exit 0

# Ours vs the official trainer on the same GPU at the paper size (B = 16, T = 750), FP32 both sides.
d=/tmp/aicl-gpu-data
$B/bin/aicl_data synth --out $d.h5 --train 120 --test 80 --seed 0 > /dev/null && $B/bin/aicl_data export --in $d.h5 --out $d
for prec in fp32 tf32; do
  timeout 60 $B/bin/aicl_train --data $d.h5 --run-dir /tmp/ours-gpu-$prec --device cuda --precision $prec --steps 60 \
    --segments 750 --eval-every 0 --log-every 10 --quiet > "$out/ours_train_$prec.log" 2>&1
  log "ours (cuda, $prec): exit $? $(python3 -c "
import json,statistics
s=[json.loads(l)['seconds'] for l in open('/tmp/ours-gpu-$prec/metrics.jsonl') if '\"seconds\"' in l][10:]
print('median %.4f s/step over %d steps' % (statistics.median(s), len(s)))" 2>&1) ($(elapsed))"
done
if [ -d .device/oracle ] && [ -d .device/aicl_official ]; then
  for tf in "" --tf32; do
    OFFICIAL_AICL=$PWD/.device/aicl_official timeout 100 python3 bench/official_gpu_train.py --oracle .device/oracle $tf \
      --root $d --out-dir /tmp/off-gpu$tf --steps 20 --segments 750 --warmup 5 --joblib-backend threading \
      > "$out/official_train${tf:+_tf32}.log" 2>&1
    # The oracle prints the whole step (its single-process loader, num_workers 0, included) and the compute-only
    # median (from the batch in host memory: the pageable .cuda() copy, forward, losses, backward, Adam).
    log "official (cuda, ${tf:+torch default TF32}${tf:-TF32 off}): exit $? $(grep -m1 -o 'median [0-9.]* s/step.*' "$out/official_train${tf:+_tf32}.log") ($(elapsed))"
  done
fi
log "done in $(elapsed)"
