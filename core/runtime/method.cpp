// Checks shared by every method: config keys and finite loss terms.
#include "core/runtime/method.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"

namespace aicl {

void check_config_keys(const json& j, const std::vector<std::string>& known, const std::string& source) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(source + ": unknown key '" + it.key() + "' (known: " + list + ")");
    }
}

void Method::parity_step(const std::string&, const std::string&, const std::string&) const {
  fail("--parity-step: method '" + name() + "' has no parity step");
}

std::string first_nonfinite_loss(const std::vector<std::string>& names, const std::vector<double>& values) {
  for (size_t i = 0; i < values.size() && i < names.size(); ++i)
    if (!std::isfinite(values[i])) return i == 0 ? std::string("total") : names[i];
  return "";
}

void check_losses_finite(long step, const std::vector<std::string>& names, const std::vector<double>& values) {
  for (size_t i = 0; i < values.size() && i < names.size(); ++i)
    if (!std::isfinite(values[i]))
      fail("step " + std::to_string(step) + ": loss term '" + (i == 0 ? std::string("total") : names[i]) +
           "' is not finite (" + std::to_string(values[i]) + "); stopping (last checkpoint kept)");
}

}  // namespace aicl
