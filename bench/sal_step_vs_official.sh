#!/usr/bin/env bash
# SAL training step on the CPU, ours vs the official code, B = 2, T = 750, 2 threads each, runs alternated so that
# background load hits both alike.
#   bench/sal_step_vs_official.sh BUILD_DIR
# ours:     BUILD_DIR/bin/bench_sal_step --benchmark_filter='BM_SalTrainStep/2/750' (the trainer's own CPU step:
#           gather, forward, backward, loss checks, Adam over 145.8 M parameters), mean seconds per iteration of one
#           benchmark run of >= MIN_TIME s (the first iteration of the run included);
# official: tools/sal_official_train.py --time-only (the official ThumosTrainer.train() loop on random in-memory
#           batches: forward, losses, backward, official Adam), median of STEPS steps after 2 warm-up steps, timed
#           twice per round: plain and under kept_heap (bench/kept_heap.sh: glibc keeps freed memory, so the step
#           stops page-faulting its re-allocated 0.5 GB tensors); the goal is judged against the faster of the two.
# Then the memory- and compute-bound parts beside the machine's peaks in one bench_sal_step run: BM_Fc1Adam vs
# BM_AdamTrafficPeak (the same 4-read/3-write traffic, no arithmetic) and the STREAM-like BM_TriadPeak (GB/s), and
# BM_Gram vs BM_SgemmPeak/1024 (GFLOPS).
# Environment: REPS (3), STEPS (5), MIN_TIME (8), PY (/usr/bin/python3 with torch), OFFICIAL_SAL (see
# tools/sal_oracle.py).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$1
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-/usr/bin/python3}
reps=${REPS:-3} steps=${STEPS:-5} min_time=${MIN_TIME:-8}
bench="$build/bin/bench_sal_step"
. "$here/bench/kept_heap.sh"
[ -x "$bench" ] || { echo "error: $bench not found (cmake --build $build --target bench_sal_step)" >&2; exit 2; }
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
field() {  # field JSON BENCHMARK_NAME KEY: a number from a google-benchmark JSON report
  "$py" -c "
import json,sys
for b in json.load(open(sys.argv[1]))['benchmarks']:
    if b['name'] == sys.argv[2] and b.get('run_type', 'iteration') == 'iteration':
        print(b[sys.argv[3]]); break
else:
    sys.exit('no %s in %s' % (sys.argv[2], sys.argv[1]))" "$1" "$2" "$3"
}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# B=2 T=750, OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=2, torch threads 2; ours >= ${min_time} s per run, official ${steps} steps after 2 warm-up"
printf '%-4s %-12s %-10s %-12s %-16s %-16s %-14s\n' rep ours_s/step iters gemm_s/step official_s/step \
  kept_heap_s/step load
ours=() offs=() kepts=()
official() {  # official [kept_heap]: the official median s/step of one --time-only run
  "$@" "$py" "$here/tools/sal_official_train.py" --time-only --steps "$steps" --warmup 2 --threads 2 \
    --out-json "$tmp/off.json" > "$tmp/off.log" 2>&1 || { cat "$tmp/off.log" >&2; exit 1; }
  json_median_s "$py" "$tmp/off.json"
}
for r in $(seq "$reps"); do
  "$bench" --benchmark_filter='BM_SalTrainStep/2/750' --benchmark_min_time="$min_time" \
    --benchmark_format=json > "$tmp/ours.json" 2> "$tmp/ours.err" || { cat "$tmp/ours.err" >&2; exit 1; }
  name=BM_SalTrainStep/2/750/real_time
  o=$(field "$tmp/ours.json" $name s_per_step)
  it=$(field "$tmp/ours.json" $name iterations)
  g=$(field "$tmp/ours.json" $name gemm_s_per_step)
  f=$(official)
  k=$(official kept_heap)
  ours+=("$o") offs+=("$f") kepts+=("$k")
  printf '%-4s %-12.3f %-10s %-12.3f %-16.3f %-16.3f %-14s\n' "$r" "$o" "$it" "$g" "$f" "$k" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
done
"$py" -c "
import statistics,sys
o,f,k=([float(x) for x in a.split()] for a in sys.argv[1:4])
mo,mf,mk=statistics.median(o),statistics.median(f),statistics.median(k)
best=min(mf,mk)
print('median over %d alternated runs: ours %.3f s/step, official %.3f s/step plain (ours %.2fx faster), %.3f s/step '
      'kept_heap (ours %.2fx faster); goal >= 1.3x against the faster official: %s'
      % (len(o), mo, mf, mf/mo, mk, mk/mo, 'met' if best/mo >= 1.3 else 'NOT met'))
print('per-run ratios plain / kept_heap: ' + ' '.join('%.2fx/%.2fx' % (b/a, c/a) for a,b,c in zip(o,f,k)))" \
  "${ours[*]}" "${offs[*]}" "${kepts[*]}"
echo "# parts vs peaks (one bench_sal_step run, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$bench" --benchmark_filter='BM_Fc1Adam|BM_AdamTrafficPeak|BM_TriadPeak|BM_Gram|BM_SgemmPeak' --benchmark_format=json \
  > "$tmp/parts.json" 2> "$tmp/parts.err" || { cat "$tmp/parts.err" >&2; exit 1; }
"$py" -c "
import json,sys
b={x['name'].replace('/real_time',''):x for x in json.load(open(sys.argv[1]))['benchmarks']}
a,p,t,g,s=(b[k] for k in ('BM_Fc1Adam','BM_AdamTrafficPeak','BM_TriadPeak','BM_Gram','BM_SgemmPeak/1024'))
pct=lambda x,y: 100*x['GB_per_s']/y['GB_per_s']
print('BM_Fc1Adam   %7.1f ms  %6.1f GB/s  = %.0f%% of BM_AdamTrafficPeak %.1f GB/s (%.1f ms), %.0f%% of BM_TriadPeak %.1f GB/s'
      % (a['real_time'], a['GB_per_s'], pct(a,p), p['GB_per_s'], p['real_time'], pct(a,t), t['GB_per_s']))
print('BM_Gram      %7.1f ms  %6.1f GFLOPS = %.0f%% of BM_SgemmPeak/1024 %.1f GFLOPS' % (g['real_time'], g['GFLOPS'], 100*g['GFLOPS']/s['GFLOPS'], s['GFLOPS']))" "$tmp/parts.json"
