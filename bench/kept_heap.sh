# Sourced by the step benchmarks: running the official side (kept_heap) and the medians and report they share.
# kept_heap CMD... runs CMD with glibc told to keep freed memory (no mmap for big blocks, no trimming), so a PyTorch
# step that frees and re-allocates its 0.5 GB tensors every step stops paying fresh page faults for them. The
# official code's own time is measured both ways: plain (what its users run) and kept (what it costs without the
# allocator's page faults). Checked bitwise equal both ways for SAL (five T = 750 steps' losses; a 25-step training
# run's losses and mAP) and AICL (6 steps' losses and final weights); the FTCL and SAL ActivityNet steps were timed,
# not compared.
kept_heap() {
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=1000000000 "$@"
}

# metrics_median_s PY METRICS.jsonl WARMUP: the median (3 decimals) of our trainer's per-step seconds after WARMUP
# steps.
metrics_median_s() {
  "$1" -c "
import json, statistics, sys
s = [json.loads(l)['seconds'] for l in open(sys.argv[1]) if '\"seconds\"' in l]
print('%.3f' % statistics.median(s[int(sys.argv[2]):]))" "$2" "$3"
}

# json_median_s PY FILE: the median_s (3 decimals) of an official timing run's --out-json FILE.
json_median_s() {
  "$1" -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['median_s'])" "$2"
}

# report_rounds PY "OURS..." "PLAIN..." "KEPT...": the medians over rounds (space-separated s/step) and ours' speed
# against the official timed each way.
report_rounds() {
  "$1" - "$2" "$3" "$4" <<'PYEOF'
import statistics, sys
mo, mf, mk = (statistics.median(float(v) for v in a.split()) for a in sys.argv[1:4])
print('median over rounds: ours %.3f s/step; official %.3f s/step plain (ours %.2fx its speed), %.3f s/step kept_heap '
      '(ours %.2fx its speed)' % (mo, mf, mf / mo, mk, mk / mo))
PYEOF
}
