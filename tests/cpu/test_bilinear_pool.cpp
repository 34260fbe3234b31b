// Edge cases of SAL's bilinear pooling beyond the op harness: exact zeros, an all-zero row, the 1/T² scale, bad shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "kernels/bilinear_pool.h"

TEST_CASE("signed_sqrt_l2: zero entries stay zero and get no gradient, an all-zero row gives zeros", "[bilinear]") {
  // Row 0 mixes zeros and non-zeros; row 1 is all zero (norm 0 < 1e-12: the clamp, as F.normalize).
  const std::vector<double> c = {0.0, 0.25, 0.0, -0.04, 0.0, 0.0, 0.0, 0.0};
  std::vector<double> v(8), norm(2), dc(8, 0.0);
  aicl::signed_sqrt_l2_forward(v.data(), norm.data(), c.data(), 2, 4, 1e-5);
  CHECK(v[0] == 0.0);
  CHECK(v[2] == 0.0);
  const double u1 = std::sqrt(0.25 + 1e-5), u3 = -std::sqrt(0.04 + 1e-5), n = std::sqrt(u1 * u1 + u3 * u3);
  CHECK(norm[0] == Approx(n).epsilon(1e-15));
  CHECK(v[1] == Approx(u1 / n).epsilon(1e-15));
  CHECK(v[3] == Approx(u3 / n).epsilon(1e-15));
  CHECK(norm[1] == 0.0);
  for (int i = 4; i < 8; ++i) CHECK(v[i] == 0.0);
  const std::vector<double> dv = {1, 2, 3, 4, 5, 6, 7, 8};
  aicl::signed_sqrt_l2_backward(dc.data(), dv.data(), v.data(), norm.data(), c.data(), 2, 4, 1e-5);
  for (int i : {0, 2, 4, 5, 6, 7}) CHECK(dc[i] == 0.0);
  CHECK(dc[1] != 0.0);
  CHECK(dc[3] != 0.0);
}

TEST_CASE("gram: divides the sum by T squared (not T), and bad shapes are refused", "[bilinear]") {
  // E = [[1, 2], [3, 4]] over T = 2: G = EᵀE / 4 = [[10, 14], [14, 20]] / 4.
  const std::vector<float> E = {1, 2, 3, 4};
  std::vector<float> G(4);
  aicl::gram_forward(G.data(), E.data(), 1, 2, 2);
  CHECK(G == std::vector<float>{2.5f, 3.5f, 3.5f, 5.0f});
  CHECK_THROWS_AS(aicl::gram_forward(G.data(), E.data(), 1, 0, 2), aicl::Error);
  CHECK_THROWS_AS(aicl::signed_sqrt_l2_forward(G.data(), G.data(), E.data(), 0, 4, 1e-5), aicl::Error);
}
