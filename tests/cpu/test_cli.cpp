// Tests of the shared flag parser: unknown flags, missing values, ranges give clear errors.
#include <catch2/catch.hpp>

#include "core/base/cli.h"
#include "core/base/error.h"

using aicl::Flags;

static Flags parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return Flags(static_cast<int>(argv.size()), argv.data(), 0, {"steps", "lr"}, {"verbose"});
}

TEST_CASE("flags: values, switches, positionals") {
  auto f = parse({"--steps", "10", "--lr=0.5", "--verbose", "file.h5"});
  CHECK(f.integer("steps", 1, 1, 100) == 10);
  CHECK(f.real("lr", 0, 0, 1) == 0.5);
  CHECK(f.has("verbose"));
  REQUIRE(f.positional().size() == 1);
  CHECK(f.positional()[0] == "file.h5");
  CHECK(f.integer("missing-flag-default", 7, 0, 10) == 7);
}

TEST_CASE("flags: bad input is a clear error naming the flag") {
  CHECK_THROWS_WITH(parse({"--nope"}), Catch::Contains("--nope: unknown flag"));
  CHECK_THROWS_WITH(parse({"--steps"}), Catch::Contains("--steps: missing value"));
  CHECK_THROWS_WITH(parse({"--steps", "1", "--steps", "2"}), Catch::Contains("more than once"));
  CHECK_THROWS_WITH(parse({"--steps", "abc"}).integer("steps", 1, 1, 10), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(parse({"--steps", "0"}).integer("steps", 1, 1, 10), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(parse({"--lr", "nan"}).real("lr", 1, 0, 1), Catch::Contains("not a finite number"));
  CHECK_THROWS_WITH(parse({"--verbose=1"}), Catch::Contains("takes no value"));
}
