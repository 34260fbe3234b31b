// The run directory: its lock, the metrics log.
#include "core/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/base/error.h"

namespace aicl {

RunLock::RunLock(const std::string& run_dir) {
  const std::string path = run_dir + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd_ < 0) fail(run_dir + ": cannot create the lock file (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fail(run_dir + ": run directory is in use by another aicl_train");
  }
}

RunLock::~RunLock() { ::close(fd_); }

void append_line(const std::string& path, const json& j) {
  std::ofstream out(path, std::ios::app);
  out << j.dump() << "\n";
  if (!out) fail(path + ": cannot append (disk full?)");
}

void truncate_metrics(const std::string& path, long last_step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step")) continue;  // a torn last line from a killed run
    if (j["step"].get<long>() <= last_step) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

long steps_logged(const std::string& run_dir) {
  std::ifstream in(run_dir + "/metrics.jsonl");
  long n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"seconds\"") != std::string::npos) ++n;
  return n;
}

}  // namespace aicl
