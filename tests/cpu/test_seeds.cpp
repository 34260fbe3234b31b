// aicl_train --seeds and --select all: seed lists, the summary's statistics against the runs' eval.json files, the
// paper's number, continuing a preempted set, and bad flags.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/provenance.h"
#include "core/eval/plot.h"
#include "core/train/seeds.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl_test::run_command;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

aicl::json fake_eval(const std::string& rule, std::vector<double> mAP) {
  double avg = 0;
  for (double m : mAP) avg += m / static_cast<double>(mAP.size());
  return aicl::json{{"tiou", {0.5, 0.75}}, {"mAP", mAP}, {"average_mAP", avg}, {"method", "sal"},
                    {"selection", {{"rule", rule}, {"step", 10}}}};
}

}  // namespace

TEST_CASE("seeds: seed lists") {
  CHECK(aicl::parse_seed_list("1-5", "--seeds") == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(aicl::parse_seed_list("1,3,7", "--seeds") == std::vector<int>{1, 3, 7});
  CHECK(aicl::parse_seed_list("1-3,9", "--seeds") == std::vector<int>{1, 2, 3, 9});
  CHECK(aicl::parse_seed_list("2,1-3", "--seeds") == std::vector<int>{2, 1, 3});  // each once, in order
  CHECK(aicl::parse_seed_list("0,2147483647", "--seeds") == std::vector<int>{0, 2147483647});
  for (const char* bad : {"", "a", "1,", "-1", "1-", "1,x"})
    CHECK_THROWS_WITH(aicl::parse_seed_list(bad, "--seeds"), Catch::Contains("is not a seed"));
  CHECK_THROWS_WITH(aicl::parse_seed_list("5-1", "--seeds"), Catch::Contains("'5-1' is an empty range"));
  CHECK_THROWS_WITH(aicl::parse_seed_list("3", "--seeds"), Catch::Contains("fewer than two seeds"));
  CHECK_THROWS_WITH(aicl::parse_seed_list("0-20000", "--seeds"), Catch::Contains("more than 10000 seeds"));
}

TEST_CASE("seeds: the summary's mean, sample std, min and max per rule, and the paper's gap") {
  aicl::json runs = aicl::json::array();
  runs.push_back({{"seed", 1}, {"run_dir", "r/seed-1"}, {"eval", fake_eval("test", {0.40, 0.20})}});
  runs.push_back({{"seed", 2}, {"run_dir", "r/seed-2"}, {"eval", fake_eval("test", {0.44, 0.30})}});
  aicl::json e3 = fake_eval("val", {0.30, 0.10});
  e3["by_rule"] = {{"val", {{"mAP", {0.30, 0.10}}, {"average_mAP", 0.20}}},
                   {"test", {{"mAP", {0.50, 0.20}}, {"average_mAP", 0.35}}},
                   {"last", {{"mAP", {0.20, 0.00}}, {"average_mAP", 0.10}}}};
  runs.push_back({{"seed", 3}, {"run_dir", "r/seed-3"}, {"eval", e3}});
  const aicl::json s = aicl::summarize_seed_runs(runs, "sal", "anet13", false);
  const aicl::json& t = s["rules"]["test"];
  CHECK(t["average_mAP"]["n"] == 3);
  const double avgs[3] = {0.30, 0.37, 0.35}, mean = (0.30 + 0.37 + 0.35) / 3;
  double ss = 0;
  for (double a : avgs) ss += (a - mean) * (a - mean);
  CHECK(t["average_mAP"]["mean"].get<double>() == Approx(mean).epsilon(1e-12));
  CHECK(t["average_mAP"]["std"].get<double>() == Approx(std::sqrt(ss / 2)).epsilon(1e-12));
  CHECK(t["average_mAP"]["min"].get<double>() == Approx(0.30));
  CHECK(t["average_mAP"]["max"].get<double>() == Approx(0.37));
  CHECK(t["mAP"][0]["mean"].get<double>() == Approx((0.40 + 0.44 + 0.50) / 3).epsilon(1e-12));
  CHECK(s["rules"]["val"]["average_mAP"]["n"] == 1);
  CHECK(s["rules"]["val"]["average_mAP"]["std"] == 0.0);
  CHECK(s["rules"]["last"]["average_mAP"]["n"] == 1);
  // SAL on ActivityNet 1.3: 28.8 in the SAL README.
  REQUIRE(s["paper"]["average_mAP"] == 28.8);
  CHECK(t["paper_gap"].get<double>() == Approx(mean - 0.288).epsilon(1e-12));
  CHECK(t["paper_gap_std"].get<double>() == Approx((mean - 0.288) / std::sqrt(ss / 2)).epsilon(1e-9));
  CHECK(s["rules"]["val"]["paper_gap_std"].is_null());  // one run: no spread to measure the gap with
  const std::string table = aicl::seed_summary_table(s);
  CHECK(table.find("| test | 3 |") != std::string::npos);
  CHECK(table.find("28.8") != std::string::npos);
  // The summary's figure: a legend entry per rule, error bars (one per tIoU and the average, per rule), the
  // paper's diamonds at the tIoUs both have (0.5 and 0.75) and at the average
  const std::string svg = aicl::seed_summary_svg(s);
  for (const char* rule : {"rule: test", "rule: val", "rule: last", "average", "paper"})
    CHECK(svg.find(rule) != std::string::npos);
  size_t diamonds = 0, dots = 0;
  for (size_t p = svg.find("stroke=\"#d62728\""); p != std::string::npos; p = svg.find("stroke=\"#d62728\"", p + 1))
    ++diamonds;
  for (size_t p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1)) ++dots;
  CHECK(diamonds == 3);
  CHECK(dots == 3 * 3 + 3);  // 3 rules x (2 tIoUs + average) markers, plus 3 legend dots
  // Synthetic data never compares with a paper; unknown pairs have no paper number.
  CHECK(aicl::summarize_seed_runs(runs, "sal", "anet13", true)["paper"].is_null());
  CHECK(aicl::paper_number("sal", "mine").is_null());
  CHECK(aicl::paper_number("aicl", "thumos14")["average_mAP"] == 46.4);
  runs[1]["eval"]["tiou"] = {0.5};
  CHECK_THROWS_WITH(aicl::summarize_seed_runs(runs, "sal", "anet13", false),
                    Catch::Contains("r/seed-2/eval.json: other tIoU thresholds"));
}

TEST_CASE("aicl_train --seeds --select all: runs, summary equal to the eval.json files, a preempted set continues") {
  const fs::path dir = aicl_test::temp_dir("seeds");
  const std::string data = (dir / "tiny.h5").string(), run = (dir / "set").string();
  REQUIRE(run_command(bin("aicl_data") + " synth --out " + data + " --train 10 --test 6 --max-segments 80 --seed 3")
              .exit_code == 0);
  const std::string cmd = bin("aicl_train") + " --data " + data + " --run-dir " + run +
                          " --seeds 4,7 --steps 4 --batch 4 --segments 40 --eval-every 2 --val-fraction 0.2 "
                          "--select all --threads 1 --quiet";
  auto r = run_command(cmd);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("| val | 2 |") != std::string::npos);
  const aicl::json s = aicl::read_json_file(run + "/summary.json");
  CHECK(s["seeds"] == aicl::json{4, 7});
  CHECK(s["synthetic_data"] == true);
  CHECK(s["provenance"]["method"] == "aicl");
  for (const char* rule : {"val", "test", "last"}) {
    double sum = 0;
    std::vector<double> v;
    for (int seed : {4, 7}) {
      const aicl::json e = aicl::read_json_file(run + "/seed-" + std::to_string(seed) + "/eval.json");
      CHECK(aicl::read_json_file(run + "/seed-" + std::to_string(seed) + "/config.json")["seed"] == seed);
      // Provenance: the build, the seed, the data and the device of each run.
      const aicl::json& p = e["provenance"];
      CHECK(p["seed"] == seed);
      CHECK(!p["aicl_commit"].get<std::string>().empty());
      CHECK(p["method"] == "aicl");
      CHECK(p["dataset"]["profile"] == "thumos14");
      CHECK(p["dataset"]["fingerprint_sha256"] == aicl::file_fingerprint(data));
      CHECK(p["device"] == "cpu");
      // The BLAS kernels too: OPENBLAS_CORETYPE alone can halve GEMM speed.
      CHECK(p["device_description"].get<std::string>().find(std::string("OpenBLAS ") + aicl::blas_core()) !=
            std::string::npos);
      CHECK(p["selection"]["rule"] == "val");
      v.push_back(e["by_rule"][rule]["average_mAP"]);
      sum += v.back();
    }
    INFO(rule);
    CHECK(s["rules"][rule]["average_mAP"]["mean"].get<double>() == Approx(sum / 2).margin(1e-15));
    CHECK(s["rules"][rule]["average_mAP"]["std"].get<double>() ==
          Approx(std::fabs(v[0] - v[1]) / std::sqrt(2.0)).margin(1e-15));
  }
  for (const char* f : {"best.h5", "best_test.h5", "last.h5", "detections.json"})
    CHECK(fs::exists(fs::path(run) / "seed-4" / f));
  for (const char* f : {"summary.svg", "summary.html", "summary.md"}) CHECK(fs::exists(fs::path(run) / f));
  // Preempted after its last checkpoint: the set continues that run (from the checkpoint) and reads the other.
  const aicl::json before = aicl::read_json_file(run + "/seed-7/eval.json");
  fs::remove(fs::path(run) / "seed-7" / "eval.json");
  const auto seed4_time = fs::last_write_time(fs::path(run) / "seed-4" / "eval.json");
  r = run_command(cmd);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::last_write_time(fs::path(run) / "seed-4" / "eval.json") == seed4_time);
  const aicl::json after = aicl::read_json_file(run + "/seed-7/eval.json");
  CHECK(after["by_rule"] == before["by_rule"]);
  CHECK(aicl::read_json_file(run + "/summary.json")["rules"] == s["rules"]);
  // Concurrently: two child processes (one thread each, as above) give the same runs and summary
  const std::string run2 = (dir / "set2").string();
  auto par = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run2 +
                         " --seeds 4,7 --jobs 2 --steps 4 --batch 4 --segments 40 --eval-every 2 --val-fraction 0.2 "
                         "--select all --threads 1");
  INFO(par.output);
  REQUIRE(par.exit_code == 0);
  CHECK(par.output.find("2 of 2 seeds to run, 2 at a time with 1 threads each") != std::string::npos);
  CHECK(aicl::read_json_file(run2 + "/summary.json")["rules"] == s["rules"]);
  CHECK(fs::exists(fs::path(run2) / "seed-7.log"));
  auto bad = run_command(cmd + " --seed 3");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--seeds: cannot be combined with --seed") != std::string::npos);
  bad = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run + "2 --seeds 1-2 --select all");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--select all: needs --val-fraction > 0") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("provenance: the file fingerprint covers the size and both ends of a file") {
  const fs::path dir = aicl_test::temp_dir("fingerprint");
  const std::string f = (dir / "x.bin").string();
  std::string bytes(3 << 20, 'a');
  aicl::write_file_atomic(f, bytes);
  const std::string base = aicl::file_fingerprint(f);
  CHECK(base.size() == 64);
  bytes.back() = 'b';  // the last MiB
  aicl::write_file_atomic(f, bytes);
  CHECK(aicl::file_fingerprint(f) != base);
  bytes.back() = 'a';
  bytes.push_back('a');  // the size
  aicl::write_file_atomic(f, bytes);
  CHECK(aicl::file_fingerprint(f) != base);
  CHECK(aicl::file_fingerprint((dir / "none").string()).empty());
  aicl::write_file_atomic(f, "small");
  CHECK(aicl::file_fingerprint(f).size() == 64);
  fs::remove_all(dir);
}
