// aicl_sweep without Slurm: the grid's expansion and its refusals, a local sweep and its summary, the array script.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/sweep.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl::json;
using aicl_test::run_command;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

std::string expand_error(const json& g) {
  try {
    aicl::expand_sweep(g, "g.json");
  } catch (const aicl::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sweep: the grid's cartesian product, named and checked as aicl_train options", "[sweep]") {
  const json g{{"train", {{"data", "/d/x.h5"}, {"steps", 10}}},
               {"grid", {{"seed", {1, 2, 3}}, {"lr", {1e-4, 5e-5}}}}};
  const json plan = aicl::expand_sweep(g, "g.json");
  REQUIRE(plan["configurations"].size() == 6);
  // Keys in alphabetical order (lr, seed), the last one varying fastest.
  CHECK(plan["configurations"][0]["overrides"] == json{{"lr", 1e-4}, {"seed", 1}});
  CHECK(plan["configurations"][1]["overrides"] == json{{"lr", 1e-4}, {"seed", 2}});
  CHECK(plan["configurations"][3]["overrides"] == json{{"lr", 5e-5}, {"seed", 1}});
  CHECK(plan["configurations"][5]["name"] == "0005-lr=5e-05,seed=3");
  // A relative data path becomes absolute (array tasks may run in another directory).
  const json rel = aicl::expand_sweep(json{{"train", {{"data", "x.h5"}}}, {"grid", {{"seed", {1}}}}}, "g.json");
  CHECK(rel["train"]["data"] == (fs::current_path() / "x.h5").string());
  // Names stay usable as directory names whatever the values hold.
  const json odd = aicl::expand_sweep(
      json{{"train", {{"data", "/d"}}}, {"grid", {{"method_config", {json{{"gce_q", 0.5}}}}}}}, "g.json");
  CHECK(odd["configurations"][0]["name"] == "0000-method_config=__gce_q__0.5_");
}

TEST_CASE("sweep: a bad grid file is one clear error naming the file and the key", "[sweep]") {
  const json train{{"data", "/d.h5"}};
  CHECK(expand_error(json::array()) .find("g.json: must hold a JSON object") != std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", json::object()}}).find("\"grid\" must be a non-empty") !=
        std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"seed", json::array()}}}}).find("grid.seed: a non-empty list") !=
        std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"seed", {1}}}}, {"extra", 1}}).find("unknown key 'extra'") !=
        std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"lrr", {1}}}}}).find("lrr") != std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"steps", {"ten"}}}}}).find("steps") != std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"run_dir", {"a"}}}}}).find("'run_dir' is aicl_sweep's") !=
        std::string::npos);
  CHECK(expand_error(json{{"train", json::object()}, {"grid", {{"seed", {1}}}}}).find("no \"data\"") !=
        std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"seed", {1}}}}, {"slurm", {{"array", "0-3"}}}})
            .find("slurm.array: set by aicl_sweep itself") != std::string::npos);
  CHECK(expand_error(json{{"train", train}, {"grid", {{"seed", {1}}}}, {"slurm", {{"max_parallel", 0}}}})
            .find("slurm.max_parallel") != std::string::npos);
  json big{{"train", train}, {"grid", json::object()}};
  for (const char* k : {"seed", "lr", "steps", "batch", "segments"}) big["grid"][k] = json(std::vector<int>(20, 1));
  CHECK(expand_error(big).find("more than 100000 configurations") != std::string::npos);
}

TEST_CASE("sweep: the Slurm array script runs the unfinished configurations, each resumable", "[sweep]") {
  const json plan = aicl::expand_sweep(
      json{{"train", {{"data", "/d.h5"}}}, {"grid", {{"seed", {1, 2, 3, 4, 5}}}},
           {"slurm", {{"partition", "gpu"}, {"cpus_per_task", 8}, {"max_parallel", 2}, {"exclusive", true}, {"requeue_off", false}}}},
      "g.json");
  const std::string s = aicl::slurm_array_script(plan, "/shared/sw", "/opt/aicl/bin/aicl_sweep", {0, 1, 2, 4});
  CHECK(s.find("#SBATCH --array=0-2,4%2\n") != std::string::npos);
  CHECK(s.find("#SBATCH --requeue\n") != std::string::npos);
  CHECK(s.find("#SBATCH --open-mode=append\n") != std::string::npos);
  CHECK(s.find("#SBATCH --output=/shared/sw/logs/task-%a.log\n") != std::string::npos);
  CHECK(s.find("#SBATCH --cpus-per-task=8\n") != std::string::npos);
  CHECK(s.find("#SBATCH --partition=gpu\n") != std::string::npos);
  CHECK(s.find("#SBATCH --exclusive\n") != std::string::npos);
  CHECK(s.find("requeue-off") == std::string::npos);  // a false switch is left out
  CHECK(s.find("exec /opt/aicl/bin/aicl_sweep --task \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-0}\" "
               "/shared/sw\n") != std::string::npos);
  CHECK_THROWS_WITH(aicl::slurm_array_script(plan, "/shared/my sweep", "/opt/aicl_sweep", {0}),
                    Catch::Contains("a path with blanks"));
}

TEST_CASE("sweep: run here, continued after a kill, summarized by settings over seeds", "[sweep]") {
  const fs::path dir = aicl_test::temp_dir("sweep_local");
  const std::string data = (dir / "synth.h5").string(), grid = (dir / "grid.json").string(),
                    out = (dir / "out").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --train 24 --test 8 --max-segments 200 --seed 0 --out " + data)
              .exit_code == 0);
  aicl::write_json_file(grid, json{{"train", {{"data", data}, {"steps", 12}, {"segments", 64}, {"batch", 4},
                                              {"eval_every", 0}, {"threads", 1}, {"checkpoint_every", 4}}},
                                   {"grid", {{"seed", {1, 2}}, {"lr", {1e-4, 2e-4}}}}});
  REQUIRE(aicl::prepare_sweep(grid, out)["configurations"].size() == 4);
  const json plan = aicl::load_sweep(out);
  const std::string run0 = aicl::sweep_run_dir(out, plan["configurations"][0]);
  const auto task0 = run_command(bin("aicl_sweep") + " --task 0 " + out + " --quiet");  // what array task 0 runs
  INFO(task0.output);
  REQUIRE(task0.exit_code == 0);
  const std::string first_eval = aicl::read_json_file(run0 + "/eval.json").dump();
  CHECK(aicl::sweep_task_state(run0) == "finished");
  // Unfinish it: back to a started run with only its config (killed before its first checkpoint).
  for (const char* f : {"eval.json", "checkpoint.h5", "last.h5", "metrics.jsonl", "detections.json"})
    fs::remove(fs::path(run0) / f);
  CHECK(aicl::sweep_task_state(run0) == "started");
  const auto mid = run_command(bin("aicl_sweep") + " --collect " + out);
  CHECK(mid.exit_code == 0);
  CHECK(mid.output.find("0 of 4 configurations finished") != std::string::npos);
  CHECK(mid.output.find("unfinished: 0000-lr=0.0001,seed=1 (started, 0 steps logged)") != std::string::npos);
  const auto r = run_command(bin("aicl_sweep") + " --grid " + grid + " --out " + out);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("configuration 1/4 0000-lr=0.0001,seed=1: resuming") != std::string::npos);
  CHECK(r.output.find("4 of 4 configurations finished") != std::string::npos);
  // Started over from its config, it equals its first, uninterrupted run.
  json again = aicl::read_json_file(run0 + "/eval.json"), first = json::parse(first_eval);
  for (json* e : {&again, &first}) e->erase("seconds"), e->erase("provenance");
  CHECK(again == first);
  // One group per learning rate, each over both seeds, with the runs' own numbers.
  const json s = aicl::read_json_file(out + "/summary.json");
  REQUIRE(s["groups"].size() == 2);
  CHECK(s["groups"][0]["settings"] == json{{"lr", 1e-4}});
  CHECK(s["groups"][1]["summary"]["seeds"] == json{1, 2});
  const double a = aicl::read_json_file(aicl::sweep_run_dir(out, plan["configurations"][2]) + "/eval.json")["average_mAP"];
  const double b = aicl::read_json_file(aicl::sweep_run_dir(out, plan["configurations"][3]) + "/eval.json")["average_mAP"];
  CHECK(s["groups"][1]["summary"]["rules"]["last"]["average_mAP"]["mean"].get<double>() ==
        Approx((a + b) / 2).margin(1e-15));
  // --jobs 2: the configurations as two child processes at a time, one thread each (as the runs above): the same
  // numbers, each run's output in logs/task-<i>.log.
  const std::string out2 = (dir / "out2").string();
  const auto par = run_command(bin("aicl_sweep") + " --grid " + grid + " --out " + out2 + " --jobs 2 --threads 2");
  INFO(par.output);
  REQUIRE(par.exit_code == 0);
  CHECK(par.output.find("4 of 4 configurations to run, 2 at a time with 1 threads each") != std::string::npos);
  for (int i = 0; i < 4; ++i) {
    const json& c = plan["configurations"][i];
    CHECK(aicl::read_json_file(aicl::sweep_run_dir(out2, c) + "/eval.json")["mAP"] ==
          aicl::read_json_file(aicl::sweep_run_dir(out, c) + "/eval.json")["mAP"]);
    CHECK(fs::exists(out2 + "/logs/task-" + std::to_string(i) + ".log"));
  }
  CHECK(aicl::read_json_file(out2 + "/summary.json")["groups"][1]["summary"]["rules"] == s["groups"][1]["summary"]["rules"]);
  // The same runs with other sbatch options: accepted, and the plan takes the new options.
  json g2 = aicl::read_json_file(grid);
  g2["slurm"] = json{{"time", "02:00:00"}};
  aicl::write_json_file(grid, g2);
  CHECK(aicl::prepare_sweep(grid, out)["slurm"] == json{{"time", "02:00:00"}});
  CHECK(aicl::load_sweep(out)["slurm"] == json{{"time", "02:00:00"}});
  // Rerunning a finished sweep trains nothing; another grid in the same directory is refused.
  const auto done = run_command(bin("aicl_sweep") + " --grid " + grid + " --out " + out + " --quiet");
  CHECK(done.exit_code == 0);
  CHECK(done.output.find("resuming") == std::string::npos);
  aicl::write_json_file(grid, json{{"train", {{"data", data}, {"steps", 13}}}, {"grid", {{"seed", {1}}}}});
  const auto other = run_command(bin("aicl_sweep") + " --grid " + grid + " --out " + out);
  CHECK(other.exit_code == 2);
  CHECK(other.output.find("holds another sweep") != std::string::npos);
  // Flags: one line each.
  CHECK(run_command(bin("aicl_sweep") + " --task 9 " + out).output.find("--task: 9 is not a configuration") !=
        std::string::npos);
  CHECK(run_command(bin("aicl_sweep") + " --collect " + (dir / "nowhere").string()).output.find("not a sweep") !=
        std::string::npos);
  CHECK(run_command(bin("aicl_sweep") + " --grid " + grid + " --out " + out + " --dry-run").output.find(
            "--dry-run: only with --slurm") != std::string::npos);
}
