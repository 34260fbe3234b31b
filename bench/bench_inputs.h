// Benchmark inputs shared by the bench_*.cpp / .cu programs: seeded uniform random vectors.
#pragma once
#include <cstddef>
#include <random>
#include <vector>

namespace aicl_bench {

// n values uniform in [lo, hi) from std::mt19937(seed): the same inputs on every run and machine.
inline std::vector<float> uniform(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

}  // namespace aicl_bench
