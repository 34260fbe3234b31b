// Child training processes run N at a time (posix_spawn, waitpid), their progress read from their metrics.jsonl.
#include "core/train/child_jobs.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/base/error.h"
#include "core/train/run_dir.h"

extern char** environ;

namespace aicl {

namespace {

void start_job(ChildJob& j, const std::string& what) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, j.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& a : j.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&j.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) fail(what + ": cannot start " + j.args[0] + " for " + j.label);
}

std::string progress_line(const std::vector<ChildJob>& all) {
  std::string line;
  for (const ChildJob& j : all)
    line += " " + j.label + " " +
            (j.pid < 0 ? std::string("waiting")
                       : j.done ? std::string("done")
                                : std::to_string(steps_logged(j.run_dir)) + "/" + std::to_string(j.steps));
  return line;
}

}  // namespace

int threads_per_child(int threads, int parallel) {
  const int cores = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, parallel));
}

void run_child_jobs(std::vector<ChildJob>& all, int parallel, bool quiet, const std::string& what,
                    const std::string& retry) {
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  size_t next = 0, running = 0, finished = 0;
  auto last = std::chrono::steady_clock::now() - std::chrono::seconds(60);
  while (finished < all.size()) {
    while (running < static_cast<size_t>(parallel) && next < all.size()) {
      start_job(all[next], what);
      ++next, ++running;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (ChildJob& j : all)
        if (j.pid == pid && !j.done) j.done = true, j.status = status, --running, ++finished;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!quiet && (tty || now - last >= std::chrono::seconds(30))) {
      std::printf("%s%s:%s%s", tty ? "\r\033[K" : "", what.c_str(), progress_line(all).c_str(), tty ? "" : "\n");
      std::fflush(stdout);
      last = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!quiet && tty) std::printf("\n");
  for (const ChildJob& j : all)
    if (!WIFEXITED(j.status) || WEXITSTATUS(j.status) != 0)
      fail(what + ": " + j.label + " failed (see " + j.log + "); the others are kept, " + retry);
}

}  // namespace aicl
