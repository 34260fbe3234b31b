// libFuzzer target: the training config reader as `aicl_train --config FILE` runs it (read_json_file, then
// TrainOptions::from_json). Bad input must end in aicl::Error, never another exception or a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/trainer.h"

namespace {

// One file per fuzzing process, rewritten for each input: read_json_file is the code under test.
const std::string& input_path() {
  static const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";  // memory-backed if possible
  static const std::string path = dir + "/aicl_fuzz_config_" + std::to_string(::getpid()) + ".json";
  return path;
}

// Oracle: an accepted value must survive to_json() unchanged (it found F3, silently narrowed integers; fixed).
// AICL_FUZZ_CONFIG_ROUNDTRIP=0 turns it off.
bool roundtrip_check() {
  static const char* env = std::getenv("AICL_FUZZ_CONFIG_ROUNDTRIP");
  static const bool on = env == nullptr || std::string(env) != "0";
  return on;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(input_path().c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  try {
    const aicl::json j = aicl::read_json_file(input_path());
    const aicl::TrainOptions o = aicl::TrainOptions::from_json(j, "fuzz-config.json");
    const aicl::json back = o.to_json();
    if (roundtrip_check())
      for (auto it = j.begin(); it != j.end(); ++it)
        if (back.at(it.key()) != it.value() &&
            !(it.value().is_number() && back.at(it.key()).get<double>() == it.value().get<double>()))
          std::abort();
    (void)back.dump();
  } catch (const aicl::Error&) {
  }
  return 0;
}
