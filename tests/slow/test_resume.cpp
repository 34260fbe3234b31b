// Crash safety: a training run SIGKILLed at random moments and resumed ends bitwise identical to an uninterrupted one.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/methods/aicl/aicl.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "test_util.h"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using aicl_test::run_command;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

// The per-step lines of metrics.jsonl without the wall-clock field.
std::vector<std::string> step_losses(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    aicl::json j = aicl::json::parse(line);
    if (!j.contains("loss")) continue;
    j.erase("seconds");
    out.push_back(j.dump());
  }
  return out;
}

std::vector<float> final_weights(const std::string& run) {
  aicl::H5File f = aicl::H5File::open_read(run + "/best.h5");
  std::vector<float> all;
  for (const auto& name : f.list("/")) {
    auto v = f.read_floats(name);
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// How many step lines metrics.jsonl holds, counting only complete lines (the file may be mid-append).
size_t logged_steps(const std::string& run) {
  const std::string text = file_text(run + "/metrics.jsonl");
  size_t n = 0, start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    if (text.find("\"loss\"", start) < nl) ++n;
  return n;
}

struct KillResult { bool killed; int exit_code; };

// Runs `cmd` (output to `log`) in its own process group, polls `ready` every millisecond and SIGKILLs the group
// `delay_us` after it first holds. Returns whether the kill happened before the command exited on its own.
template <class Ready>
KillResult run_and_kill(const std::string& cmd, const std::string& log, Ready ready, int delay_us) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    // exec: the child is the trainer itself, so once it is reaped its run lock is released too.
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd + " > " + log + " 2>&1").c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::setpgid(pid, pid);
  bool killed = false;
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (!killed && ready()) {
      ::usleep(static_cast<useconds_t>(delay_us));
      killed = ::kill(-pid, SIGKILL) == 0;
    }
    ::usleep(1000);
  }
  const bool by_signal = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return {killed && by_signal, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

TEST_CASE("resume: SIGKILL at random moments, then --resume, equals the uninterrupted run bit for bit") {
  auto dir = aicl_test::temp_dir("resume");
  const std::string data = (dir / "tiny.h5").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --out " + data + " --train 8 --test 6 --max-segments 80 --seed 3")
              .exit_code == 0);
  const std::string args = " --steps 24 --batch 4 --segments 40 --eval-every 8 --val-fraction 0.25 "
                           "--checkpoint-every 2 --threads 1 --quiet";
  const std::string ref = (dir / "ref").string(), run = (dir / "run").string();
  auto r = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + ref + args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);

  // Kills are driven by the run's progress, not by wall-clock guesses (a fast machine finishes a tiny run before
  // any fixed timeout): each attempt is SIGKILLed a random 0-4 ms after its metrics show a random target step,
  // which lands kills inside steps, evaluations and checkpoint writes alike.
  std::mt19937 rng(20261124);
  int kills = 0, attempts = 0;
  bool done = false;
  while (!done && attempts < 40) {
    ++attempts;
    const bool have_ckpt = fs::exists(run + "/checkpoint.h5");
    const std::string cmd = have_ckpt ? bin("aicl_train") + " --resume " + run + " --quiet"
                                      : bin("aicl_train") + " --data " + data + " --run-dir " + run + args;
    // Past every step logged so far (a resume first drops the lines after its checkpoint, so an earlier target
    // could fire before the run made any progress). The first three attempts stop well before the end.
    const size_t seen = logged_steps(run);
    size_t target = seen + 1 + rng() % 5;
    if (attempts <= 3) target = std::min<size_t>(target, std::max<size_t>(seen + 1, 16));
    const int delay_us = static_cast<int>(rng() % 4000);
    const std::string log = (dir / "attempt.log").string();
    const KillResult k = run_and_kill(cmd, log, [&] { return logged_steps(run) >= target; }, delay_us);
    if (k.killed) ++kills;
    else if (k.exit_code == 0) done = true;
    else FAIL("unexpected exit " << k.exit_code << " of " << cmd << ": " << file_text(log));
  }
  REQUIRE(done);
  INFO("killed " << kills << " times");
  CHECK(kills >= 2);  // the test is only meaningful if it really interrupted the run
  CHECK(step_losses(run) == step_losses(ref));
  CHECK(final_weights(run) == final_weights(ref));
  CHECK(aicl::read_json_file(run + "/eval.json")["mAP"] == aicl::read_json_file(ref + "/eval.json")["mAP"]);
  fs::remove_all(dir);
}

TEST_CASE("resume: a run directory in use is refused, a finished one is not overwritten") {
  auto dir = aicl_test::temp_dir("lock");
  const std::string data = (dir / "tiny.h5").string(), run = (dir / "run").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --out " + data + " --train 8 --test 6 --max-segments 80 --seed 3")
              .exit_code == 0);
  const std::string train = bin("aicl_train") + " --data " + data + " --run-dir " + run +
                            " --steps 400 --batch 4 --segments 40 --eval-every 0 --threads 1 --quiet";
  // Start a long run in the background, wait until it holds the lock, then try a second one.
  REQUIRE(std::system((train + " > /dev/null 2>&1 & echo $! > " + (dir / "pid").string()).c_str()) == 0);
  for (int i = 0; i < 100 && !fs::exists(run + "/config.json"); ++i) ::usleep(50000);
  auto second = run_command(bin("aicl_train") + " --resume " + run + " --quiet");
  std::ifstream pid_in((dir / "pid").string());
  long pid = 0;
  pid_in >> pid;
  if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
  INFO(second.output);
  CHECK(second.exit_code == 2);
  CHECK(second.output.find("in use by another aicl_train") != std::string::npos);
  ::usleep(200000);
  fs::remove_all(dir);
}

TEST_CASE("disk full: the step that cannot write its checkpoint fails clearly, the previous checkpoint stays") {
  auto dir = aicl_test::temp_dir("diskfull");
  const std::string data = (dir / "tiny.h5").string(), mnt = (dir / "small").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --out " + data + " --train 8 --test 6 --max-segments 80 --seed 3")
              .exit_code == 0);
  fs::create_directories(mnt);
  // A 120 MB filesystem holds one checkpoint (~76 MB) but not a second one beside it.
  if (run_command("mount -t tmpfs -o size=120m tmpfs " + mnt).exit_code != 0) {
    fs::remove_all(dir);
    aicl_test::skip("cannot mount a small tmpfs here (needs root)");
  }
  const std::string run = mnt + "/run";
  auto r = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run +
                       " --steps 6 --batch 4 --segments 40 --eval-every 0 --checkpoint-every 2 --threads 1 --quiet");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("disk full") != std::string::npos);
  bool temp_left = false;
  for (const auto& e : fs::directory_iterator(run)) temp_left = temp_left || e.path().string().find(".tmp.") != std::string::npos;
  CHECK_FALSE(temp_left);
  {
    aicl::H5File f = aicl::H5File::open_read(run + "/checkpoint.h5");
    CHECK(f.attr_double("/", "step") == 2);
    CHECK(f.attr_string("/", "complete") == "yes");
  }
  run_command("umount " + mnt);
  fs::remove_all(dir);
}
