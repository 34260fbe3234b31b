# Sourced by the step benchmarks: kept_heap CMD... runs CMD with glibc told to keep freed memory (no mmap for big
# blocks, no trimming), so a PyTorch step that frees and re-allocates its 0.5 GB tensors every step stops paying
# fresh page faults for them. The official code's own time is measured both ways: plain (what its users run) and
# kept (what it costs without the allocator's page faults). Checked bitwise equal both ways for SAL (five T = 750
# steps' losses; a 25-step training run's losses and mAP) and AICL (6 steps' losses and final weights); the FTCL and
# SAL ActivityNet steps were timed, not compared.
kept_heap() {
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=1000000000 "$@"
}
