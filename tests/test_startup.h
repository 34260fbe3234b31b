// Work queued during static initialisation and run by main() before Catch2 starts (tests generated from registries).
#pragma once
#include <functional>
#include <utility>
#include <vector>

namespace aicl_test {

inline std::vector<std::function<void()>>& startup_hooks() {
  static std::vector<std::function<void()>> hooks;
  return hooks;
}

// Queues f; returns true so that it can initialise a static (every translation unit's statics exist by then).
inline bool at_startup(std::function<void()> f) {
  startup_hooks().push_back(std::move(f));
  return true;
}

}  // namespace aicl_test
