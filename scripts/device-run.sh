#!/usr/bin/env bash
# On the GPU device machine (repo root, .device/ carried; see scripts/device-prepare.sh): unpack the carried .debs
# into a private prefix (never into /), build with CUDA, run the GPU tests and the CUDA benchmarks, and, unless
# `quick`, the official trainer on the same GPU (FP32 with TF32 off, as ours). Results go to $OUT (8 files at
# most come back from the device: summary.txt, build.log, gpu_tests.log, 3 benchmarks, 2 training logs).
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

log "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); $(date -u)"
B=build-gpu
t0=$(date +%s)
cuda=${AICL_CUDA:-ON}
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DAICL_CUDA=$cuda -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" \
  -DCMAKE_PREFIX_PATH="$P/usr" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DAICL_OPENBLAS_OPENMP_PC="$P/usr/lib/$arch/openblas-openmp/pkgconfig" \
  -DHDF5_C_INCLUDE_DIR="$P/usr/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$P/usr/lib/$arch/hdf5/serial/libhdf5.so" \
  ${PKG_CONFIG:+-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG} > "$out/build.log" 2>&1 || { log "configure failed"; tail -30 "$out/build.log"; exit 1; }
ninja -C $B -j "$(nproc)" >> "$out/build.log" 2>&1 || { log "build failed"; grep -m20 -E 'error|Error' "$out/build.log"; exit 1; }
log "built in $(( $(date +%s) - t0 )) s"
if [ "$cuda" = OFF ]; then
  ctest --test-dir $B -L cpu -j "$(nproc)" > "$out/cpu_tests.log" 2>&1
  log "cpu tests (prefix self-check): $(grep -E 'tests passed|tests failed' "$out/cpu_tests.log")"
  exit 0
fi

ctest --test-dir $B -L gpu --output-on-failure -j 1 > "$out/gpu_tests.log" 2>&1
log "gpu tests: $(grep -E 'tests passed|tests failed' "$out/gpu_tests.log")"
grep -E '\*\*\*Failed|Exception|SKIPPED' "$out/gpu_tests.log" | head -20 | tee -a "$out/summary.txt"

for b in bench_cuda_dense bench_cuda_losses bench_cuda_step; do
  timeout 240 $B/bin/$b --benchmark_counters_tabular=true > "$out/$b.txt" 2>&1
  log "$b: exit $? ($(grep -c '^BM_' "$out/$b.txt") rows)"
done
[ "${1:-}" = quick ] && exit 0

# Ours vs the official trainer on the same GPU at the paper size (B = 16, T = 750), FP32 both sides.
d=/tmp/aicl-gpu-data
$B/bin/aicl_data synth --out $d.h5 --train 120 --test 80 --seed 0 > /dev/null && $B/bin/aicl_data export --in $d.h5 --out $d
$B/bin/aicl_train --data $d.h5 --run-dir /tmp/ours-gpu --device cuda --steps 60 --segments 750 --eval-every 0 \
  --log-every 10 --quiet > "$out/ours_train.log" 2>&1
log "ours (cuda, FP32): $(python3 -c "
import json,statistics
s=[json.loads(l)['seconds'] for l in open('/tmp/ours-gpu/metrics.jsonl') if '\"seconds\"' in l][10:]
print('median %.4f s/step over %d steps' % (statistics.median(s), len(s)))" 2>&1)"
if [ -d .device/oracle ] && [ -d .device/aicl_official ]; then
  OFFICIAL_AICL=$PWD/.device/aicl_official timeout 500 python3 bench/official_gpu_train.py --oracle .device/oracle \
    --root $d --out-dir /tmp/off-gpu --steps 30 --segments 750 --warmup 5 --joblib-backend threading \
    > "$out/official_train.log" 2>&1
  log "official (cuda, TF32 off): exit $? $(grep -m1 -o 'median [0-9.]* s/step' "$out/official_train.log")"
fi
