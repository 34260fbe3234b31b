// Dropout's Philox mask: the keep rate is 1 − p, the mask is a pure function of (seed, step, tensor, index), and
// another step or tensor draws another mask.
#include <catch2/catch.hpp>

#include <vector>

#include "core/base/error.h"
#include "kernels/dropout.h"

TEST_CASE("dropout: the Philox mask keeps 1 - p of the entries and depends on seed, step and tensor", "[dropout]") {
  const std::size_t n = 200000;
  const aicl::DropoutKey k{42, 1, 0};
  std::size_t kept = 0, same_step = 0, same_tensor = 0, same_seed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool keep = aicl::dropout_keep(k, i, 0.5);
    kept += keep;
    same_step += keep == aicl::dropout_keep({42, 2, 0}, i, 0.5);
    same_tensor += keep == aicl::dropout_keep({42, 1, 1}, i, 0.5);
    same_seed += keep == aicl::dropout_keep({43, 1, 0}, i, 0.5);
  }
  // Binomial(200000, 0.5): the standard deviation is ~224, so 2,000 is ~9 sigma.
  CHECK(kept > n / 2 - 2000);
  CHECK(kept < n / 2 + 2000);
  for (std::size_t agree : {same_step, same_tensor, same_seed}) {  // independent masks agree on about half
    CHECK(agree > n / 2 - 2000);
    CHECK(agree < n / 2 + 2000);
  }
  // The forward applies exactly that mask, scaled by 1/(1 - p); p = 0 is the identity.
  std::vector<float> x(1000, 1.5f), y(1000);
  aicl::dropout_forward(y.data(), x.data(), x.size(), 0.5, k);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (aicl::dropout_keep(k, i, 0.5) ? 3.0f : 0.0f));
  // one Philox block per four masks: a length that is no multiple of 4, above the threaded size, forward and backward
  std::vector<float> xl(70001, 1.5f), yl(70001), dl(70001, 0.0f);
  aicl::dropout_forward(yl.data(), xl.data(), xl.size(), 0.5, k);
  aicl::dropout_backward(dl.data(), xl.data(), xl.size(), 0.5, k);
  size_t wrong = 0;
  for (std::size_t i = 0; i < xl.size(); ++i) {
    const float want = aicl::dropout_keep(k, i, 0.5) ? 3.0f : 0.0f;
    wrong += yl[i] != want || dl[i] != want;
  }
  CHECK(wrong == 0);
  aicl::dropout_forward(y.data(), x.data(), x.size(), 0.0, k);
  CHECK(y == x);
  CHECK_THROWS_AS(aicl::dropout_forward(y.data(), x.data(), x.size(), 1.0, k), aicl::Error);
}

TEST_CASE("dropout: group > 1 draws once per row of `group` elements (FTCL's snippet dropout)", "[dropout]") {
  const aicl::DropoutKey k{7, 3, 2};
  const std::size_t rows = 400, D = 5;
  std::vector<float> x(rows * D, 1.0f), y(rows * D), dx(rows * D, 0.0f);
  aicl::dropout_forward(y.data(), x.data(), x.size(), 0.7, k, D);
  aicl::dropout_backward(dx.data(), x.data(), x.size(), 0.7, k, D);
  const float scale = static_cast<float>(1.0 / (1.0 - 0.7));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t d = 0; d < D; ++d) {  // row r uses draw r, the element-wise mask's entry r
      const float want = aicl::dropout_keep(k, r, 0.7) ? scale : 0.0f;
      CHECK(y[r * D + d] == want);
      CHECK(dx[r * D + d] == want);
    }
  CHECK_THROWS_AS(aicl::dropout_forward(y.data(), x.data(), x.size(), 0.5, k, 0), aicl::Error);
}
