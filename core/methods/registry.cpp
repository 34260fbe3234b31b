// The method registry: one line per built-in method.
#include "core/methods/registry.h"

#include <algorithm>
#include <map>

#include "core/base/error.h"
#include "core/methods/aicl/aicl.h"
#include "core/methods/ftcl/ftcl.h"
#include "core/methods/sal/sal.h"

namespace aicl {

namespace {

std::map<std::string, MethodFactory>& registry() {
  static std::map<std::string, MethodFactory> methods = {
      {"aicl", make_aicl_method},
      {"ftcl", make_ftcl_method},
      {"sal", make_sal_method},
  };
  return methods;
}

}  // namespace

void register_method(const std::string& name, MethodFactory factory) { registry()[name] = std::move(factory); }

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : registry()) out.push_back(name);
  return out;
}

int smallest_min_segments() {
  int best = -1;
  for (const auto& [name, factory] : registry()) {
    const int t = factory(MethodContext{}, json(), name)->min_segments();
    best = best < 0 ? t : std::min(best, t);
  }
  return std::max(best, 1);
}

std::unique_ptr<Method> make_method(const std::string& name, const MethodContext& ctx, const json& config,
                                    const std::string& source) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string list;
    for (const auto& n : method_names()) list += (list.empty() ? "" : ", ") + n;
    fail("--method: unknown method '" + name + "' (known: " + list + ")");
  }
  return it->second(ctx, config, source);
}

}  // namespace aicl
