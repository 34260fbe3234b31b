#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) and runs them on their seed corpora.
#   scripts/fuzz.sh --quick            each target for a few seconds (CI smoke run; fails on any finding)
#   scripts/fuzz.sh [SECONDS]          each target for SECONDS (default 300), new inputs kept in build-fuzz/corpus
#   scripts/fuzz.sh --target NAME ...  only that target (fuzz_npy, fuzz_eval_json, fuzz_config, fuzz_pickle)
# Environment: BUILD_FUZZ (build dir, default build-fuzz), JOBS (build parallelism, default 1).
# Needs clang and libclang-rt-14-dev
# (Debian: apt-get install -y clang libclang-rt-14-dev libomp-dev).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_FUZZ:-$root/build-fuzz}"
seconds=300
targets=(fuzz_npy fuzz_eval_json fuzz_config fuzz_pickle fuzz_sweep)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seconds=5 ;;
    --target) shift; targets=("$1") ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) seconds="$1" ;;
  esac
  shift
done
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install -y clang libclang-rt-14-dev libomp-dev)" >&2
  exit 2
fi

cmake -S "$root/fuzz" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j "${JOBS:-1}" --target "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  seeds="$root/fuzz/corpus/$t"
  work="$build/corpus/$t"          # grows with what the fuzzer finds; the checked-in seeds stay untouched
  artifacts="$build/artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  echo "== $t: ${seconds}s"
  # -max_len: larger than every seed; -rss_limit_mb: a reader that allocates by a header field would show here.
  if ! "$build/$t" "$work" "$seeds" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$artifacts" \
      2>"$build/$t.log"; then
    echo "fuzz.sh: $t found a problem; see $build/$t.log and $artifacts" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb" "$build/$t.log" || true
done
exit $status
