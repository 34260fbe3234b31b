#!/usr/bin/env bash
# FTCL's DP losses, ours vs the official functions, in one run on the same machine: a 16-pair batch, forward +
# backward, FSD (L=5), LCS (L=30) and stage A's LCS variant.
#
#   bench/ftcl_dp_vs_official.sh [BUILD_DIR]
#
# Official: tools/ftcl_dp_oracle.py bench (Debian's /usr/bin/python3, torch CPU, 2 threads, median of REPEAT=5),
# the official FTCLLoss.dp_for_fsd / dp_for_lcs and ACMLoss.dp_for_lcs with autograd, fed the score matrices
# directly (the same work as our ops), and once more with the official get_similarity on random features (as in a
# training step: LCS 30x2048, FSD 5x1024 per side), for context. Ours: build/bin/bench_ftcl_dp (Google Benchmark,
# median of 5 repetitions, one thread). Prints both and the ratios.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
py="${PY:-/usr/bin/python3}"
repeat="${REPEAT:-5}"
bin="$build/bin/bench_ftcl_dp"
[[ -x "$bin" ]] || { echo "ftcl_dp_vs_official.sh: missing $bin (build the bench_ftcl_dp target)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
OMP_NUM_THREADS=2 "$py" "$here/tools/ftcl_dp_oracle.py" --threads 2 bench --pairs 16 --repeat "$repeat" | tee "$work/official.txt"
OMP_NUM_THREADS=2 "$py" "$here/tools/ftcl_dp_oracle.py" --threads 2 bench --pairs 16 --repeat 3 --features | tee "$work/official_feat.txt"
OMP_NUM_THREADS=1 "$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=csv 2>/dev/null > "$work/ours.csv"
echo "ours (bench_ftcl_dp, median of 5 repetitions):"
awk -F, '/_median"/ {gsub(/"/, "", $1); sub(/_median$/, "", $1); printf "  %-40s %12.2f us\n", $1, $3 / 1000}' "$work/ours.csv"

ours_us() { awk -F, -v n="$1" '$1 ~ "\""n"_median\"" {print $3 / 1000}' "$work/ours.csv"; }
off_ms() { awk -v n="$1" '$1 == n {print $2}' "$2"; }
echo "ratio official / ours (forward+backward, 16 pairs):"
for pair in "fsd BM_fsd_dp_fwd_bwd_16pairs" "lcs BM_lcs_dp_fwd_bwd_16pairs" "lcs_stage_a BM_lcs_dp_stage_a_fwd_bwd_16pairs"; do
  set -- $pair
  o=$(off_ms "$1" "$work/official.txt"); f=$(off_ms "$1" "$work/official_feat.txt"); u=$(ours_us "$2")
  awk -v n="$1" -v o="$o" -v f="$f" -v u="$u" 'BEGIN {printf "  %-12s DP only %10.0fx   with the official cosine %10.0fx\n", n, o * 1000 / u, f * 1000 / u}'
done
