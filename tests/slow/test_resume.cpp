// Crash safety: a training run SIGKILLed at random moments and resumed ends bitwise identical to an uninterrupted one.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/aicl_model.h"
#include "core/h5.h"
#include "core/io.h"
#include "test_util.h"

#include <csignal>

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

  std::mt19937 rng(20261124);
  std::uniform_real_distribution<double> when(0.2, 2.5);
  int kills = 0, attempts = 0;
  bool done = false;
  while (!done && attempts < 40) {
    ++attempts;
    const bool have_ckpt = fs::exists(run + "/checkpoint.h5");
    const std::string cmd = have_ckpt ? bin("aicl_train") + " --resume " + run + " --quiet"
                                      : bin("aicl_train") + " --data " + data + " --run-dir " + run + args;
    char t[32];
    std::snprintf(t, sizeof t, "%.2f", when(rng));
    auto k = run_command(std::string("timeout -s KILL ") + t + " " + cmd);
    if (k.exit_code == 0) done = true;
    else if (k.exit_code == 137) ++kills;  // killed by SIGKILL
    else FAIL("unexpected exit " << k.exit_code << ": " << k.output);
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
