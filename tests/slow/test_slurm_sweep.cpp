// aicl_sweep --slurm against a real single-node Slurm (scripts/slurm-local.sh): a requeued (preempted) task and a
// cancelled-then-resubmitted one both end bitwise equal to the same sweep run here without Slurm.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/train/run_dir.h"
#include "core/train/sweep.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl_test::run_command;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The per-step losses of a run (metrics.jsonl without its wall-clock field).
std::string step_losses(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    aicl::json j = aicl::json::parse(line);
    j.erase("seconds");
    out += j.dump() + "\n";
  }
  return out;
}

// Every array of a weights file, in order (HDF5 files also hold object times, so bytes would differ).
std::vector<float> weights(const std::string& path) {
  aicl::H5File f = aicl::H5File::open_read(path);
  std::vector<float> all;
  for (const auto& name : f.list("/")) {
    const auto v = f.read_floats(name);
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

// The cluster for the life of the test; stopped (daemons killed) whatever happens.
struct LocalSlurm {
  std::string dir, conf;
  explicit LocalSlurm(const std::string& d) : dir(d) {
    const auto r = run_command(aicl_test::source_dir() + "/scripts/slurm-local.sh start " + dir);
    if (r.exit_code == 77) aicl_test::skip("no local Slurm: " + r.output);
    if (r.exit_code != 0) FAIL("scripts/slurm-local.sh start failed: " << r.output);
    conf = dir + "/slurm.conf";
  }
  ~LocalSlurm() { run_command(aicl_test::source_dir() + "/scripts/slurm-local.sh stop " + dir); }
  aicl_test::CommandResult run(const std::string& cmd) const { return run_command("SLURM_CONF=" + conf + " " + cmd); }
};

// Waits (up to `seconds`) until `done` holds.
template <class F>
bool wait_for(F done, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("sweep: a Slurm job array whose tasks are requeued or cancelled mid-run resumes bitwise", "[slurm]") {
  const fs::path dir = aicl_test::temp_dir("slurm_sweep");
  const LocalSlurm slurm((dir / "cluster").string());
  const std::string data = (dir / "synth.h5").string(), grid = (dir / "grid.json").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --train 24 --test 8 --max-segments 200 --seed 0 --out " + data)
              .exit_code == 0);
  const int steps = 80;
  aicl::write_json_file(grid, aicl::json{
      {"train", {{"data", data}, {"steps", steps}, {"segments", 64}, {"batch", 4}, {"eval_every", 40},
                 {"val_fraction", 0.2}, {"select", "all"}, {"threads", 1}, {"checkpoint_every", 5}}},
      {"grid", {{"seed", {1, 2}}}},
      {"slurm", {{"cpus_per_task", 1}, {"time", "00:10:00"}}}});
  const std::string ref = (dir / "ref").string(), out = (dir / "slurm").string();
  const auto local = run_command(bin("aicl_sweep") + " --quiet --grid " + grid + " --out " + ref);
  REQUIRE(local.exit_code == 0);

  const auto sub = slurm.run(bin("aicl_sweep") + " --grid " + grid + " --out " + out + " --slurm");
  INFO(sub.output);
  REQUIRE(sub.exit_code == 0);
  const std::string job = text_of(out + "/slurm_jobs.txt").substr(0, text_of(out + "/slurm_jobs.txt").find('\n'));
  const aicl::json plan = aicl::load_sweep(out);
  const std::string run0 = aicl::sweep_run_dir(out, plan["configurations"][0]);
  const std::string run1 = aicl::sweep_run_dir(out, plan["configurations"][1]);
  // Preempt both tasks once they have checkpoints and before they finish: task 0 is requeued by Slurm (as a
  // preemption with requeue does), task 1 cancelled and later resubmitted by rerunning the same command.
  const auto mid_run = [&](const std::string& run) {
    const long n = aicl::steps_logged(run);
    return n >= 12 && n <= steps - 20 && fs::exists(run + "/checkpoint.h5");
  };
  REQUIRE(wait_for([&] { return mid_run(run0) && mid_run(run1); }, 120));
  CHECK(slurm.run("scontrol requeue " + job + "_0").exit_code == 0);
  CHECK(slurm.run("scancel " + job + "_1").exit_code == 0);
  // Task 1 stays unfinished until resubmitted; its run keeps its checkpoint.
  REQUIRE(wait_for([&] { return slurm.run("squeue -h -j " + job + "_1").output.find(job) == std::string::npos; }, 60));
  CHECK(aicl::sweep_task_state(run1) == "started");
  const auto collect_mid = run_command(bin("aicl_sweep") + " --collect " + out);
  CHECK(collect_mid.output.find("unfinished: " + plan["configurations"][1]["name"].get<std::string>()) !=
        std::string::npos);
  const auto again = slurm.run(bin("aicl_sweep") + " --grid " + grid + " --out " + out + " --slurm");
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(text_of(out + "/sweep.sbatch").find("#SBATCH --array=1\n") != std::string::npos);  // only the unfinished
  REQUIRE(wait_for([&] { return aicl::sweep_task_state(run0) == "finished" && aicl::sweep_task_state(run1) == "finished"; },
                   240));
  // Both resumed rather than started over, and both equal the uninterrupted local runs.
  for (int i : {0, 1}) {
    const aicl::json& c = plan["configurations"][i];
    const std::string run = aicl::sweep_run_dir(out, c), ref_run = aicl::sweep_run_dir(ref, c);
    INFO(c["name"].get<std::string>());
    CHECK(text_of(out + "/logs/task-" + std::to_string(i) + ".log").find("resuming") != std::string::npos);
    CHECK(step_losses(run) == step_losses(ref_run));
    for (const char* f : {"last.h5", "best.h5", "best_test.h5"}) CHECK(weights(run + "/" + f) == weights(ref_run + "/" + f));
    CHECK(text_of(run + "/detections.json") == text_of(ref_run + "/detections.json"));
    CHECK(aicl::read_json_file(run + "/eval.json")["by_rule"] == aicl::read_json_file(ref_run + "/eval.json")["by_rule"]);
  }
  const auto collect = run_command(bin("aicl_sweep") + " --collect " + out);
  CHECK(collect.exit_code == 0);
  CHECK(aicl::read_json_file(out + "/summary.json")["groups"][0]["summary"]["rules"] ==
        aicl::read_json_file(ref + "/summary.json")["groups"][0]["summary"]["rules"]);
}
