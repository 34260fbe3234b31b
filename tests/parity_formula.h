// Deterministic weights and batches for the whole-step parity test; tools/make_parity_golden.py computes the same.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/runtime/parameters.h"

namespace aicl_test {

// u in [0,1) from an integer hash of (i, salt); all arithmetic mod 2^64, as the numpy twin.
inline double hash_uniform(uint64_t i, uint64_t salt) {
  uint64_t h = i + salt * 0x9E3779B97F4A7C15ull;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

inline void formula_weights(aicl::ParameterSet& p, int seed) {
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const auto& pt = p.tensor(static_cast<int>(t));
    const double bound = 1.0 / std::sqrt(static_cast<double>(pt.fan_in));
    float* v = p.value(static_cast<int>(t));
    for (size_t i = 0; i < pt.numel; ++i)
      v[i] = static_cast<float>((2.0 * hash_uniform(i, 1000 * seed + t + 1) - 1.0) * bound);
  }
}

// features [B,T,2048] and labels [B,20], as formula_batch() in tools/make_parity_golden.py.
inline void formula_batch(int B, int T, int seed, std::vector<float>& x, std::vector<float>& labels) {
  const int F = 2048, C = 20;
  std::vector<double> xd(static_cast<size_t>(B) * T * F);
  for (size_t i = 0; i < xd.size(); ++i) {
    const double u = hash_uniform(i, 77 + seed);
    xd[i] = u * u * 2.0;
  }
  labels.assign(static_cast<size_t>(B) * C, 0.0f);
  for (int b = 0; b < B; ++b) {
    const int c1 = (7 * b + 3 * seed) % C;
    labels[b * C + c1] = 1;
    if (b % 2 == 1) labels[b * C + (c1 + 5) % C] = 1;
    for (int c = 0; c < C; ++c) {
      if (labels[b * C + c] == 0) continue;
      const int s = (11 * b + 5 * c) % std::max(1, T / 2);
      const int e = std::min(T, s + T / 3);
      for (int t = s; t < e; ++t)
        for (int f = (c * 97) % 1024; f < F; f += 20) xd[(static_cast<size_t>(b) * T + t) * F + f] += 1.5;
      for (int t = s + 1; t < e - 1; ++t)
        for (int f = 1024 + (c * 53) % 1024; f < F; f += 20) xd[(static_cast<size_t>(b) * T + t) * F + f] += 1.0;
    }
  }
  x.assign(xd.begin(), xd.end());
}

}  // namespace aicl_test
