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

std::string config_variant(const json& config, const std::string& fallback, const std::string& method,
                           const std::string& source) {
  if (!config.is_object() || !config.contains("variant")) return fallback;
  const json& v = config["variant"];
  if (!v.is_string() || (v != "thumos14" && v != "activitynet"))
    fail(source + ": method " + method + " key 'variant' must be \"thumos14\" or \"activitynet\"");
  return v.get<std::string>();
}

int rgb_stream_width(const MethodContext& ctx, const std::string& method, const std::string& source) {
  if (ctx.stream_widths.size() != 2)
    fail(source + ": " + method + " needs two feature streams (RGB, flow); the dataset has " +
         std::to_string(ctx.stream_widths.size()));
  const int rgb = ctx.stream_widths[0];
  if (rgb < 1 || rgb >= ctx.feature_dim)
    fail(source + ": " + method + "'s RGB stream width " + std::to_string(rgb) + " does not fit the " +
         std::to_string(ctx.feature_dim) + " feature channels");
  return rgb;
}

namespace {
// The index of the first loss value that is not finite, or values.size().
size_t first_nonfinite(const std::vector<std::string>& names, const std::vector<double>& values) {
  size_t i = 0;
  while (i < values.size() && i < names.size() && std::isfinite(values[i])) ++i;
  return i < values.size() && i < names.size() ? i : values.size();
}
std::string term_name(const std::vector<std::string>& names, size_t i) { return i == 0 ? "total" : names[i]; }
}  // namespace

std::string first_nonfinite_loss(const std::vector<std::string>& names, const std::vector<double>& values) {
  const size_t i = first_nonfinite(names, values);
  return i < values.size() ? term_name(names, i) : "";
}

void check_losses_finite(long step, const std::vector<std::string>& names, const std::vector<double>& values) {
  const size_t i = first_nonfinite(names, values);
  if (i < values.size())
    fail("step " + std::to_string(step) + ": loss term '" + term_name(names, i) + "' is not finite (" +
         std::to_string(values[i]) + "); stopping (last checkpoint kept)");
}

}  // namespace aicl
