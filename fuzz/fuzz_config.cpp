// libFuzzer target: the training config reader as `aicl_train --config FILE` runs it (read_json_file, then
// TrainOptions::from_json). Bad input must end in aicl::Error, never another exception or a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/trainer.h"
#include "fuzz_file.h"

namespace {

// Oracle: an accepted value must survive to_json() unchanged (it found F3, silently narrowed integers; fixed).
// AICL_FUZZ_CONFIG_ROUNDTRIP=0 turns it off.
bool roundtrip_check() {
  static const char* env = std::getenv("AICL_FUZZ_CONFIG_ROUNDTRIP");
  static const bool on = env == nullptr || std::string(env) != "0";
  return on;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = aicl_fuzz::write_input(data, size, "config");  // read_json_file is under test too
  try {
    const aicl::json j = aicl::read_json_file(path);
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
