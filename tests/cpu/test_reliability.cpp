// Bad-input rows of docs/reliability.md that no other test covered, and regression tests of the reader bugs the
// fuzzers found (npy shapes whose byte count overflows, JSON numbers beyond double range).
#include <catch2/catch.hpp>

#include <fstream>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/trainer.h"
#include "data/npy.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

std::string bin(const std::string& name) { return aicl_test::bin_dir() + "/" + name; }

// A .npy file whose header claims `shape` and that has no data at all.
std::string npy_header_only(const std::string& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string b = "\x93NUMPY\x01";
  b += '\0';
  b += static_cast<char>(dict.size() & 0xff);
  b += static_cast<char>(dict.size() >> 8);
  return b + dict;
}

void expect_cli_error(const std::string& cmd, const std::string& prog, const std::string& needle) {
  const auto r = aicl_test::run_command(cmd);
  INFO(cmd << "\n" << r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find(prog + ": error: ") == 0);
  CHECK(r.output.find(needle) != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("reliability: an npy shape whose byte count overflows is an error, not a crash or an empty matrix") {
  // 2^31 x 2^31 floats: rows*cols*4 wraps to 0, which once passed the size checks and then threw
  // std::length_error from vector::resize (found by fuzz_npy's seed review).
  CHECK_THROWS_WITH(aicl::parse_npy(npy_header_only("(2147483648, 2147483648)"), "x.npy"),
                    Catch::Contains("x.npy: shape (2147483648, 2147483648) is too large"));
  // 2^40 x 2^24: rows*cols itself wraps to 0 and the file was accepted as a matrix with no data.
  CHECK_THROWS_WITH(aicl::parse_npy(npy_header_only("(1099511627776, 16777216)"), "x.npy"),
                    Catch::Contains("is too large"));
  // The limit is about overflow only: a large but representable shape is still judged by its data size.
  CHECK_THROWS_WITH(aicl::parse_npy(npy_header_only("(1000000, 1024)"), "x.npy"), Catch::Contains("truncated data"));
  CHECK(aicl::parse_npy(npy_header_only("(0, 1024)"), "x.npy").rows == 0);
}

TEST_CASE("reliability: a JSON number beyond double range is 'invalid JSON' naming the file") {
  auto dir = aicl_test::temp_dir("rel_json");
  const std::string cfg = (dir / "cfg.json").string();
  std::ofstream(cfg) << R"({"lr": 1e999})";
  // nlohmann reports this as out_of_range, which read_json_file used to let through without the file name.
  CHECK_THROWS_WITH(aicl::read_json_file(cfg), Catch::StartsWith(cfg + ": invalid JSON") && Catch::Contains("1e999"));
  if (std::ifstream(bin("aicl_train")).good()) {
    expect_cli_error(bin("aicl_train") + " --config " + cfg, "aicl_train", cfg + ": invalid JSON");
    std::ofstream(cfg) << "[1, 2]";
    expect_cli_error(bin("aicl_train") + " --config " + cfg, "aicl_train", cfg + ": the config must be a JSON object");
  }
  fs::remove_all(dir);
}

TEST_CASE("reliability: --resume of a non-run, a damaged checkpoint, and a run without checkpoint (starts over)") {
  if (!std::ifstream(bin("aicl_train")).good()) FAIL("build the aicl_train and aicl_data targets first");
  auto dir = aicl_test::temp_dir("rel_resume");
  const std::string data = (dir / "tiny.h5").string(), run = (dir / "run").string();
  REQUIRE(aicl_test::run_command(bin("aicl_data") + " synth --out " + data + " --train 8 --test 4 --max-segments 60")
              .exit_code == 0);
  fs::create_directories(run);
  expect_cli_error(bin("aicl_train") + " --resume " + run, "aicl_train", run + ": not a run directory (no config.json)");
  aicl::TrainOptions o;
  o.data = data;
  o.run_dir = run;
  o.steps = 2;
  o.batch = 2;
  o.segments = 40;
  o.threads = 1;
  aicl::write_json_file(run + "/config.json", o.to_json());
  std::ofstream(run + "/checkpoint.h5") << "not a checkpoint";
  expect_cli_error(bin("aicl_train") + " --resume " + run + " --quiet", "aicl_train",
                   run + "/checkpoint.h5: not an HDF5 file");
  CHECK_FALSE(fs::exists(run + "/best.h5"));
  expect_cli_error(bin("aicl_train") + " --resume " + run + " --data " + data, "aicl_train",
                   "--data: cannot be changed when resuming");
  // Config but no checkpoint (stopped before its first one): the run starts over from its config, with a note.
  fs::remove(run + "/checkpoint.h5");
  const auto r = aicl_test::run_command(bin("aicl_train") + " --resume " + run + " --quiet");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("has no checkpoint yet (stopped before its first): starting it over") != std::string::npos);
  CHECK(fs::exists(run + "/checkpoint.h5"));
  CHECK(fs::exists(run + "/eval.json"));
  fs::remove_all(dir);
}

TEST_CASE("reliability: a directory where a file is expected, and a missing positional argument") {
  if (!std::ifstream(bin("aicl_eval")).good()) FAIL("build the aicl_eval and aicl_data targets first");
  auto dir = aicl_test::temp_dir("rel_dir");
  const std::string d = dir.string();
  expect_cli_error(bin("aicl_eval") + " --gt " + d + " --detections " + d, "aicl_eval", d + ": is a directory");
  expect_cli_error(bin("aicl_data") + " inspect", "aicl_data", "inspect: expected one dataset file");
  expect_cli_error(bin("aicl_data") + " inspect " + d, "aicl_data", d);
  fs::remove_all(dir);
}

TEST_CASE("reliability: aicl_eval inference-mode flags are checked before any file is read") {
  if (!std::ifstream(bin("aicl_eval")).good()) FAIL("build the aicl_eval target first");
  const std::string base = bin("aicl_eval") + " --data none.h5 --weights none.h5 --out none.json";
  expect_cli_error(base + " --score-key points", "aicl_eval", "--score-key: must be score or score300");
  expect_cli_error(base + " --segments 18", "aicl_eval", "--segments: 18 is out of range");
  expect_cli_error(base + " --allow-inverted", "aicl_eval", "--allow-inverted: unknown flag");  // scoring-mode flag
  expect_cli_error(base + " --tiou 1.5", "aicl_eval", "--tiou");  // shared with scoring mode since --protocol
  expect_cli_error(base + " --precision fp16", "aicl_eval", "--precision: must be fp32 or tf32");
  CHECK_FALSE(fs::exists("none.json"));
}
