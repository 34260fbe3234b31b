// Temporal sampling of a video's L segments to the model's T, as the official loaders do (Q14).
#include "core/runtime/sampling.h"

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

}  // namespace aicl
