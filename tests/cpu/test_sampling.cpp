// Temporal sampling as the official loaders (Q14): uniform floor(i*L/T) at test time, random perturbation in training.
#include <catch2/catch.hpp>

#include <set>

#include "core/base/error.h"
#include "core/runtime/sampling.h"

using aicl::random_perturb;
using aicl::uniform_sampling;

TEST_CASE("sampling: uniform equals numpy floor(arange(T)*L/T), repeats when L < T") {
  // Expected values printed by numpy: np.floor(np.arange(T)*L/T).astype(int).
  auto u = uniform_sampling(100, 64);
  CHECK(std::vector<int>(u.begin(), u.begin() + 8) == std::vector<int>{0, 1, 3, 4, 6, 7, 9, 10});
  CHECK(std::vector<int>(u.end() - 4, u.end()) == std::vector<int>{93, 95, 96, 98});
  u = uniform_sampling(50, 64);
  CHECK(std::vector<int>(u.begin(), u.begin() + 8) == std::vector<int>{0, 0, 1, 2, 3, 3, 4, 5});
  u = uniform_sampling(1000, 750);
  CHECK(std::vector<int>(u.end() - 4, u.end()) == std::vector<int>{994, 996, 997, 998});
  u = uniform_sampling(7, 20);
  CHECK(std::vector<int>(u.end() - 4, u.end()) == std::vector<int>{5, 5, 6, 6});
  u = uniform_sampling(750, 750);
  for (int i = 0; i < 750; ++i) CHECK(u[i] == i);
  CHECK_THROWS_AS(uniform_sampling(0, 10), aicl::Error);
}

TEST_CASE("sampling: random perturbation stays in [int(s_i), int(s_i+1)] (inclusive) and is the identity at L == T") {
  aicl::Rng rng(5);
  auto p = random_perturb(750, 750, rng);
  for (int i = 0; i < 750; ++i) CHECK(p[i] == i);
  for (int L : {37, 100, 128, 1000, 5000}) {
    const int T = 128;
    std::set<int> seen_upper;  // the inclusive upper anchor must be reachable
    for (int rep = 0; rep < 200; ++rep) {
      p = random_perturb(L, T, rng);
      for (int i = 0; i < T; ++i) {
        const int lo = static_cast<int>(static_cast<double>(i) * L / T);
        const int hi = i + 1 < T ? static_cast<int>(static_cast<double>(i + 1) * L / T) : L - 1;
        REQUIRE(p[i] >= lo);
        REQUIRE(p[i] <= hi);
        if (i + 1 < T && lo != hi && p[i] == hi) seen_upper.insert(i);
      }
    }
    if (L > T) CHECK(!seen_upper.empty());
  }
}
