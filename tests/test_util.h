// Helpers shared by tests: skipping (exit 77 -> ctest "skipped"), paths, temp dirs, running the CLIs.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace aicl_test {

// Ends this test process with ctest's skip code, saying why. Each TEST_CASE runs in its own process.
[[noreturn]] inline void skip(const std::string& why) {
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(77);
}

inline std::string shared_dir() { return AICL_SHARED_DIR; }
inline std::string source_dir() { return AICL_SOURCE_DIR; }
inline std::string bin_dir() { return AICL_BIN_DIR; }

// ../shared/data/thumos14 or skip.
inline std::string thumos_anno_or_skip() {
  std::string d = shared_dir() + "/data/thumos14";
  if (!std::filesystem::exists(d + "/gt.json")) skip("real THUMOS14 annotations not found at " + d);
  return d;
}

// A fresh, empty temporary directory for one test.
inline std::filesystem::path temp_dir(const std::string& tag) {
  auto base = std::filesystem::temp_directory_path() / ("aicl_test_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  return base;
}

struct CommandResult { int exit_code; std::string output; };

// Runs a shell command, capturing stdout+stderr.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r{-1, {}};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace aicl_test
