// --device cpu|cuda: accepted values, and the clean errors of a CPU-only build or a machine without a GPU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/base/error.h"
#include "core/runtime/device.h"
#include "test_util.h"

namespace {
// True when --device cuda can work here (the CUDA library opens and a device is present).
bool cuda_usable() { return aicl::cuda_usable(); }
// The error --device cuda must give here when it cannot work: the build decides whether the library exists.
std::string expected_cuda_error() {
  return std::filesystem::exists(aicl_test::bin_dir() + "/libaicl_cuda.so") ? "--device cuda: no CUDA device found"
                                                                            : "--device cuda: this aicl was built without CUDA";
}
}  // namespace

TEST_CASE("device option: cpu is accepted, unknown names are rejected, cuda needs a CUDA build and a device") {
  CHECK_NOTHROW(aicl::check_device_option("cpu", "--device"));
  CHECK_THROWS_WITH(aicl::check_device_option("gpu", "--device"), Catch::Contains("--device: must be cpu or cuda"));
  if (cuda_usable()) {
    CHECK_NOTHROW(aicl::check_device_option("cuda", "--device"));
  } else {
    CHECK_THROWS_WITH(aicl::check_device_option("cuda", "--device"), Catch::Contains(expected_cuda_error()));
  }
}

TEST_CASE("precision option: fp32 anywhere, tf32 only on cuda, anything else refused") {
  CHECK_NOTHROW(aicl::check_precision_option("cpu", "fp32", "--precision"));
  CHECK_NOTHROW(aicl::check_precision_option("cuda", "tf32", "--precision"));
  CHECK_NOTHROW(aicl::set_device_precision("cpu", "fp32", "--precision"));  // nothing to set on the CPU
  CHECK_THROWS_WITH(aicl::check_precision_option("cpu", "tf32", "--precision"),
                    Catch::Contains("--precision tf32: only with --device cuda"));
  CHECK_THROWS_WITH(aicl::check_precision_option("cuda", "fp16", "--precision"),
                    Catch::Contains("--precision: must be fp32 or tf32 (got 'fp16')"));
  // From the command line: one line, exit 2, no run directory contents; fp32 is recorded in config.json.
  const auto dir = aicl_test::temp_dir("precision_option");
  const std::string bin = aicl_test::bin_dir(), data = (dir / "tiny.h5").string();
  auto r = aicl_test::run_command(bin + "/aicl_data synth --out " + data + " --train 4 --test 2 --max-segments 40 --seed 3");
  REQUIRE(r.exit_code == 0);
  const std::string train = bin + "/aicl_train --data " + data + " --steps 1 --batch 2 --segments 24 --eval-every 0 " +
                            "--threads 1 --quiet --run-dir ";
  r = aicl_test::run_command(train + (dir / "bad").string() + " --precision tf32");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--precision tf32: only with --device cuda") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "bad" / "config.json"));
  r = aicl_test::run_command(bin + "/aicl_eval --data " + data + " --weights none.h5 --out " + (dir / "d.json").string() +
                             " --precision bf16");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--precision: must be fp32 or tf32 (got 'bf16')") != std::string::npos);
  r = aicl_test::run_command(train + (dir / "ok").string());
  REQUIRE(r.exit_code == 0);
  std::ifstream cfg(dir / "ok" / "config.json");
  const std::string text((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"precision\": \"fp32\"") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("device option: aicl_train and aicl_eval --device cuda fail cleanly where CUDA cannot run") {
  if (cuda_usable()) aicl_test::skip("a CUDA device is present: the GPU tests (ctest -L gpu) cover --device cuda");
  const auto dir = aicl_test::temp_dir("device_option");
  const std::string bin = aicl_test::bin_dir(), data = (dir / "tiny.h5").string();
  auto r = aicl_test::run_command(bin + "/aicl_data synth --out " + data + " --train 4 --test 2 --max-segments 40 --seed 3");
  REQUIRE(r.exit_code == 0);
  for (const std::string& cmd :
       {bin + "/aicl_train --data " + data + " --run-dir " + (dir / "run").string() + " --steps 1 --batch 2 --device cuda",
        bin + "/aicl_eval --data " + data + " --weights " + (dir / "none.h5").string() + " --out " +
            (dir / "d.json").string() + " --device cuda"}) {
    r = aicl_test::run_command(cmd);
    INFO(cmd << "\n-> exit " << r.exit_code << ": " << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(expected_cuda_error()) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }
  // Nothing was written for the refused run.
  CHECK(!std::filesystem::exists(dir / "run" / "config.json"));
  std::filesystem::remove_all(dir);
}
