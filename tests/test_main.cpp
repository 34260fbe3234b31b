// Catch2 v2 main for every test executable (compiled once): runs the startup hooks (generated tests), then Catch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_startup.h"

int main(int argc, char* argv[]) {
  for (const auto& hook : aicl_test::startup_hooks()) hook();
  return Catch::Session().run(argc, argv);
}
