// aicl_train / aicl_eval (data mode) through their binaries: a tiny run writes every output; bad input fails cleanly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/methods/aicl/aicl.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/runtime/weights.h"
#include "data/dataset.h"
#include "test_util.h"

namespace fs = std::filesystem;
using aicl_test::run_command;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

// A tiny synthetic dataset, made once per test process.
std::string tiny_dataset(const fs::path& dir) {
  const std::string path = (dir / "tiny.h5").string();
  auto r = run_command(bin("aicl_data") + " synth --out " + path + " --train 8 --test 6 --max-segments 80 --seed 3");
  REQUIRE(r.exit_code == 0);
  return path;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

// Expects exit 2 and one error line containing `needle`, and nothing else on stdout/stderr.
void expect_clean_failure(const std::string& cmd, const std::string& needle) {
  auto r = run_command(cmd);
  INFO(cmd << "\n-> exit " << r.exit_code << ": " << r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find(needle) != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("aicl_train: a tiny run writes config, metrics, checkpoints, detections and report") {
  auto dir = aicl_test::temp_dir("train_tiny");
  const std::string data = tiny_dataset(dir), run = (dir / "run").string();
  auto r = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run +
                       " --steps 3 --batch 4 --segments 40 --eval-every 2 --val-fraction 0.25 --threads 1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"config.json", "metrics.jsonl", "checkpoint.h5", "best.h5", "detections.json", "eval.json"})
    CHECK(fs::exists(fs::path(run) / f));
  // 3 step lines + 2 evaluation lines (steps 2 and 3).
  CHECK(count_lines(run + "/metrics.jsonl") == 5);
  const aicl::json cfg = aicl::read_json_file(run + "/config.json");
  CHECK(cfg["segments"] == 40);
  CHECK(cfg["select"] == "val");
  const aicl::json rep = aicl::read_json_file(run + "/eval.json");
  CHECK(rep["selection"]["rule"] == "val");
  CHECK(rep["mAP"].size() == 7);
  // The weights load back into the model.
  aicl::AiclModel model;
  aicl::load_weights(run + "/best.h5", model.params());
  fs::remove_all(dir);
}

TEST_CASE("aicl_train: --config supplies every option and flags override it") {
  auto dir = aicl_test::temp_dir("train_config");
  const std::string data = tiny_dataset(dir), run = (dir / "run").string(), cfg = (dir / "cfg.json").string();
  aicl::write_json_file(cfg, aicl::json{{"data", data}, {"run_dir", run}, {"steps", 5}, {"batch", 4},
                                        {"segments", 40}, {"eval_every", 0}, {"threads", 1}});
  auto r = run_command(bin("aicl_train") + " --config " + cfg + " --steps 2 --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(run + "/metrics.jsonl") == 2);
  CHECK(aicl::read_json_file(run + "/config.json")["steps"] == 2);
  aicl::write_json_file(cfg, aicl::json{{"data", data}, {"stepz", 5}});
  expect_clean_failure(bin("aicl_train") + " --config " + cfg, "unknown key 'stepz'");
  aicl::write_json_file(cfg, aicl::json{{"data", data}, {"steps", "five"}});
  expect_clean_failure(bin("aicl_train") + " --config " + cfg, "'steps' must be an integer");
  std::ofstream(cfg) << R"({"data": ")" << data << R"(", "steps": 4294967297})";  // would wrap to 1 as an int
  expect_clean_failure(bin("aicl_train") + " --config " + cfg, "'steps' must be an integer within the int range");
  fs::remove_all(dir);
}

TEST_CASE("aicl_train: bad flags and bad data give one clear line and exit 2") {
  auto dir = aicl_test::temp_dir("train_bad");
  const std::string data = tiny_dataset(dir), run = (dir / "run").string();
  const std::string base = bin("aicl_train") + " --data " + data + " --run-dir " + run + " --threads 1 ";
  expect_clean_failure(base + "--segments 18", "--segments: 18 is out of range");
  expect_clean_failure(base + "--segments 19", "--segments: must be >= 20 for method aicl");
  expect_clean_failure(base + "--batch 0", "--batch: 0 is out of range");
  expect_clean_failure(base + "--lr -1", "--lr: -1 is out of range");
  expect_clean_failure(base + "--steps abc", "--steps: 'abc' is not an integer");
  expect_clean_failure(base + "--optimizer rmsprop", "--optimizer: must be 'adam' or 'sgd'");
  expect_clean_failure(base + "--select val", "--select val: needs --val-fraction");
  expect_clean_failure(base + "--batch 64", "--batch: 64 is larger than the 8 training videos");
  expect_clean_failure(base + "--bogus 1", "--bogus: unknown flag");
  expect_clean_failure(bin("aicl_train") + " --data " + (dir / "nope.h5").string() + " --run-dir " + run,
                       "nope.h5: no such file");
  {
    const std::string junk = (dir / "junk.h5").string();
    std::ofstream(junk) << "not hdf5";
    expect_clean_failure(bin("aicl_train") + " --data " + junk + " --run-dir " + run, "junk.h5: not an HDF5 file");
  }
  fs::remove_all(dir);
}

TEST_CASE("weights: missing parameters, wrong shapes and NaN are named") {
  auto dir = aicl_test::temp_dir("weights_bad");
  const std::string data = tiny_dataset(dir), w = (dir / "w.h5").string();
  aicl::AiclModel model;
  model.params().init_uniform(1);
  const std::string eval = bin("aicl_eval") + " --data " + data + " --segments 40 --out " + (dir / "d.json").string() +
                           " --weights " + w;
  {  // a missing key
    aicl::H5File f = aicl::H5File::create(w);
    const auto& t = model.params().tensor(0);
    f.write_floats(t.name, model.params().value(0), std::vector<int64_t>(t.shape.begin(), t.shape.end()));
  }
  expect_clean_failure(eval, "missing parameter 'actionness_module.base_module.0.bias'");
  {  // a wrong shape
    aicl::H5File f = aicl::H5File::create(w);
    for (size_t i = 0; i < model.params().tensors().size(); ++i) {
      const auto& t = model.params().tensor(static_cast<int>(i));
      std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
      if (i == 2) shape = {20, 256, 2};
      f.write_floats(t.name, model.params().value(static_cast<int>(i)), shape);
    }
  }
  expect_clean_failure(eval, "'actionness_module.cls.0.weight' has shape [20,256,2], the model needs [20,512,1]");
  model.params().value(3)[5] = std::nanf("");
  aicl::save_weights(w, model.params());
  expect_clean_failure(eval, "'actionness_module.cls.0.bias' has a non-finite value at flat index 5");
  CHECK_FALSE(fs::exists(dir / "d.json"));  // nothing half-written
  fs::remove_all(dir);
}

TEST_CASE("aicl_train --parity-step: bad batch files are named") {
  auto dir = aicl_test::temp_dir("parity_bad");
  aicl::AiclModel model;
  model.params().init_uniform(1);
  const std::string w = (dir / "w.h5").string(), b = (dir / "b.h5").string(), o = (dir / "o.h5").string();
  aicl::save_weights(w, model.params());
  const std::string cmd = bin("aicl_train") + " --parity-step --weights " + w + " --batch " + b + " --out " + o;
  {
    aicl::H5File f = aicl::H5File::create(b);
    std::vector<float> x(2 * 10 * 2048, 0.5f), y(2 * 20, 0.0f);
    y[0] = y[21] = 1;
    f.write_floats("features", x.data(), {2, 10, 2048});
    f.write_floats("labels", y.data(), {2, 20});
  }
  expect_clean_failure(cmd, "T = 10 segments is too short");
  {
    aicl::H5File f = aicl::H5File::create(b);
    std::vector<float> x(2 * 40 * 2048, 0.5f), y(2 * 20, 0.0f);
    y[0] = 1;  // the second video has no label
    f.write_floats("features", x.data(), {2, 40, 2048});
    f.write_floats("labels", y.data(), {2, 20});
  }
  expect_clean_failure(cmd, "video 1 of the batch has no label");
  {
    aicl::H5File f = aicl::H5File::create(b);
    std::vector<float> x(2 * 40 * 2048, 0.5f), y(2 * 20, 0.0f);
    y[0] = y[21] = 1;
    x[777] = std::numeric_limits<float>::infinity();
    f.write_floats("features", x.data(), {2, 40, 2048});
    f.write_floats("labels", y.data(), {2, 20});
  }
  expect_clean_failure(cmd, "features hold NaN or Inf");
  CHECK_FALSE(fs::exists(o));
  fs::remove_all(dir);
}

TEST_CASE("aicl_train: a non-finite loss stops the run naming the step and the term") {
  auto dir = aicl_test::temp_dir("train_nan");
  const std::string data = tiny_dataset(dir), w = (dir / "huge.h5").string(), run = (dir / "run").string();
  aicl::AiclModel model;
  std::fill(model.params().values.begin(), model.params().values.end(), 1e30f);  // finite, but overflows at once
  aicl::save_weights(w, model.params());
  auto r = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run + " --init-weights " + w +
                       " --steps 3 --batch 4 --segments 40 --eval-every 0 --threads 1 --quiet");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("step 1: loss term '") != std::string::npos);
  CHECK(r.output.find("is not finite") != std::string::npos);
  CHECK_FALSE(fs::exists(run + "/checkpoint.h5"));  // nothing from the broken step was saved
  fs::remove_all(dir);
}

TEST_CASE("aicl_train: a stray argument and a truncated checkpoint are named") {
  auto dir = aicl_test::temp_dir("train_trunc");
  const std::string data = tiny_dataset(dir), run = (dir / "run").string();
  expect_clean_failure(bin("aicl_train") + " stray.h5 --data " + data + " --run-dir " + run,
                       "unexpected argument 'stray.h5'");
  auto r = run_command(bin("aicl_train") + " --data " + data + " --run-dir " + run +
                       " --steps 2 --batch 4 --segments 40 --eval-every 0 --checkpoint-every 1 --threads 1 --quiet");
  REQUIRE(r.exit_code == 0);
  fs::resize_file(run + "/checkpoint.h5", 3000);
  expect_clean_failure(bin("aicl_train") + " --resume " + run + " --steps 4 --quiet", "checkpoint.h5: ");
  fs::remove_all(dir);
}

// Inference mode never fails on its own output: detections of a class without ground truth in the subset are
// written, left out of the score, and counted in the report and in one stderr line.
TEST_CASE("aicl_eval --data: detections of classes without ground truth in the subset are written and not scored") {
  auto dir = aicl_test::temp_dir("eval_nogt");
  const std::string data = tiny_dataset(dir), w = (dir / "w.h5").string(), out = (dir / "d.json").string(),
                    rep = (dir / "r.json").string();
  // A class with no instance among the test videos, made to win every video's class selection.
  aicl::Dataset ds(data);
  std::set<std::string> in_test;
  for (const auto& [name, v] : ds.ground_truth_json()["database"].items())
    if (v["subset"] == "test")
      for (const auto& a : v["annotations"]) in_test.insert(a["label"].get<std::string>());
  int missing = -1;
  for (int c = 0; c < ds.num_classes() && missing < 0; ++c)
    if (!in_test.count(ds.class_names()[c])) missing = c;
  REQUIRE(missing >= 0);
  aicl::AiclModel model;
  model.params().init_uniform(1);
  model.params().value(aicl::kClsB)[missing] = 20.0f;
  aicl::save_weights(w, model.params());
  const auto r = run_command(bin("aicl_eval") + " --data " + data + " --weights " + w + " --segments 40 --out " + out +
                             " --report " + rep + " --quiet");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("aicl_eval: note: ") == 0);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  const aicl::json report = aicl::read_json_file(rep);
  CHECK(report["dropped_detections"].get<int>() > 0);
  CHECK(report["dropped_labels"][0] == ds.class_names()[missing]);
  CHECK(aicl::read_json_file(out)["results"].dump().find(ds.class_names()[missing]) != std::string::npos);
  fs::remove_all(dir);
}
