// libFuzzer target: the sweep grid reader as `aicl_sweep --grid FILE` runs it (read_json_file, then expand_sweep).
// Bad input must end in aicl::Error; an accepted grid must name every configuration with a safe directory name.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/sweep.h"
#include "fuzz_file.h"

namespace {

// The run directories are OUT/runs/<name>: a name must not climb out of runs/ or hold a separator.
bool safe_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == ',' || c == '-' || c == '+' ||
          c == '_'))
      return false;
  return name[0] != '.';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = aicl_fuzz::write_input(data, size, "sweep");
  try {
    const aicl::json plan = aicl::expand_sweep(aicl::read_json_file(path), "fuzz-grid.json");
    for (const aicl::json& c : plan["configurations"])
      if (!safe_name(c["name"].get<std::string>())) std::abort();
    (void)aicl::slurm_array_script(plan, "/tmp/sweep", "/usr/bin/aicl_sweep", {0});
  } catch (const aicl::Error&) {
  }
  return 0;
}
