// Training runs as child processes, N at a time, with one progress line for the set (aicl_train --seeds --jobs,
// aicl_sweep --jobs).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace aicl {

struct ChildJob {
  std::string label;              // "seed 3", "0002-lr=5e-05": progress and error lines
  std::string run_dir;            // whose metrics.jsonl shows the progress
  std::string log;                // the child's stdout and stderr
  std::vector<std::string> args;  // argv, args[0] the program's path
  int steps = 0;                  // the run's total steps (progress)
  pid_t pid = -1;
  int status = 0;
  bool done = false;
};

// Threads for each of `parallel` children sharing `threads` (0: all cores): at least 1.
int threads_per_child(int threads, int parallel);

// Runs the jobs, `parallel` at a time, with one progress line "<what>: <label> <steps>/<steps> ..." (rewritten on
// a terminal, every 30 s otherwise; none when quiet). When all have ended, a job that failed is named (with its log)
// in the error, after `what` and before `retry`.
void run_child_jobs(std::vector<ChildJob>& all, int parallel, bool quiet, const std::string& what,
                    const std::string& retry);

}  // namespace aicl
