// Temporal sampling of a video's L segments to the model's T, as the official loaders do (Q14).
#include "core/runtime/sampling.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"

namespace aicl {

std::vector<int> uniform_sampling(int L, int T) {
  AICL_CHECK(L > 0 && T > 0, "uniform_sampling: empty video or T <= 0");
  std::vector<int> idx(T);
  for (int i = 0; i < T; ++i) {
    // numpy: np.arange(T) * L / T in float64, then floor.
    idx[i] = L == T ? i : static_cast<int>(std::floor(static_cast<double>(i) * L / T));
  }
  return idx;
}

std::vector<int> random_perturb(int L, int T, Rng& rng) {
  AICL_CHECK(L > 0 && T > 0, "random_perturb: empty video or T <= 0");
  std::vector<int> idx(T);
  if (L == T) {
    for (int i = 0; i < T; ++i) idx[i] = i;
    return idx;
  }
  auto anchor = [&](int i) { return static_cast<int>(static_cast<double>(i) * L / T); };
  for (int i = 0; i < T; ++i) {
    const int lo = anchor(i);
    if (i < T - 1) {
      const int hi = anchor(i + 1);
      idx[i] = lo != hi ? lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))) : lo;
    } else {
      idx[i] = lo < L - 1 ? lo + static_cast<int>(rng.below(static_cast<uint64_t>(L - lo))) : lo;
    }
  }
  return idx;
}

std::vector<int> uniform_keep_short(int L, int T) {
  AICL_CHECK(L > 0 && T > 0, "uniform_keep_short: empty video or T <= 0");
  if (L > 1 && L <= T) {
    std::vector<int> idx(L);
    for (int i = 0; i < L; ++i) idx[i] = i;
    return idx;
  }
  // np.arange(T) * (L / T), then floor: the ratio is rounded first, unlike uniform_sampling's arange(T) * L / T
  // (e.g. L = 58, T = 50: i = 25 gives 28.999999999999996, so 28 where the exact floor is 29). L = 1: T = 2, {0, 0}.
  const int n = L == 1 ? 2 : T;
  const double scale = static_cast<double>(L) / n;
  std::vector<int> idx(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = static_cast<int>(std::floor(static_cast<double>(i) * scale));
  return idx;
}

std::vector<int> random_sample(int L, int T, Rng& rng) {
  AICL_CHECK(L > 0 && T > 0, "random_sample: empty video or T <= 0");
  std::vector<int> idx(T);
  if (L == T) {
    for (int i = 0; i < T; ++i) idx[i] = i;
  } else if (L < T) {
    for (int i = 0; i < T; ++i) idx[i] = static_cast<int>(rng.below(static_cast<uint64_t>(L)));
    std::sort(idx.begin(), idx.end());
  } else {
    auto anchor = [&](int i) { return static_cast<int>(static_cast<double>(i) * L / T); };
    for (int i = 0; i + 1 < T; ++i) {
      const int lo = anchor(i), hi = anchor(i + 1);
      idx[i] = lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
    }
    const int lo = T >= 2 ? idx[T - 2] : 0;
    idx[T - 1] = lo + static_cast<int>(rng.below(static_cast<uint64_t>(L - lo)));
  }
  return idx;
}

std::vector<int> sample_test_segments(const std::string& rule, int L, int T) {
  if (rule == "uniform") return uniform_sampling(L, T);
  if (rule == "uniform_keep_short") return uniform_keep_short(L, T);
  fail("unknown test sampling '" + rule + "' (known: uniform, uniform_keep_short)");
}

std::vector<int> sample_train_segments(const std::string& rule, int L, int T, Rng& rng) {
  if (rule == "random_perturb") return random_perturb(L, T, rng);
  if (rule == "random_sample") return random_sample(L, T, rng);
  fail("unknown train sampling '" + rule + "' (known: random_perturb, random_sample)");
}

}  // namespace aicl
