// The run directory: its lock, the metrics log (appended, truncated on resume).
#pragma once
#include <string>

#include "core/base/io.h"

namespace aicl {

// An exclusive lock on RUN/.lock for the life of the run (released by the OS when the process dies).
class RunLock {
 public:
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

void append_line(const std::string& path, const json& j);

// Training steps logged so far in RUN/metrics.jsonl (0 when it does not exist yet): progress lines.
long steps_logged(const std::string& run_dir);

// Keeps the metrics lines of steps <= last_step (a resumed run rewrites what came after its checkpoint).
void truncate_metrics(const std::string& path, long last_step);

}  // namespace aicl
