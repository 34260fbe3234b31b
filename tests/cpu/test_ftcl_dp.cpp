// Tie rules, thresholds and argument errors of kernels/lcs_dp and kernels/fsd_dp on hand-made cases (the official
// parity is tests/cpu/test_ftcl_dp_parity.cpp, the gradient checks tests/ops/op_{fsd,lcs}_dp.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/base/error.h"
#include "kernels/fsd_dp.h"
#include "kernels/lcs_dp.h"

TEST_CASE("lcs_dp: an up/left tie goes up (to C(i-1,j)), as Python's max returns its first argument") {
  // Matches at (1,2) and (2,1) with the same score: C(2,2) = max(C(1,2), C(2,1)) ties; the path takes (1,2).
  const std::vector<float> S = {0.5f, 0.95f, 0.95f, 0.5f};
  const float dv = 0.75f;
  float value = 0;
  aicl::lcs_dp_forward(&value, S.data(), 1, 2);
  CHECK(value == 0.95f);
  std::vector<float> dS(4, 0.f);
  aicl::lcs_dp_backward(dS.data(), &dv, S.data(), 1, 2);
  CHECK(dS == std::vector<float>{0.f, 0.75f, 0.f, 0.f});
  // A strictly larger left neighbour is taken instead.
  const std::vector<float> S2 = {0.5f, 0.95f, 0.96f, 0.5f};
  std::vector<float> dS2(4, 0.f);
  aicl::lcs_dp_backward(dS2.data(), &dv, S2.data(), 1, 2);
  CHECK(dS2 == std::vector<float>{0.f, 0.f, 0.75f, 0.f});
  // Stage A: the same tie on scores 5·(S − 0.8), gradient 5·dvalue.
  const std::vector<float> S3 = {0.5f, 0.99f, 0.99f, 0.5f};
  std::vector<float> dS3(4, 0.f);
  aicl::lcs_dp_backward(dS3.data(), &dv, S3.data(), 1, 2, 0.92f, true);
  CHECK(dS3 == std::vector<float>{0.f, 3.75f, 0.f, 0.f});
}

TEST_CASE("lcs_dp: a score equal to 0.92f is not a match, the next float is, NaN never matches") {
  const float tau = 0.92f, up = std::nextafter(tau, 2.f), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> S = {tau, up, nan};
  std::vector<float> value(3);
  aicl::lcs_dp_forward(value.data(), S.data(), 3, 1);
  CHECK(value == std::vector<float>{0.f, up, 0.f});
  const std::vector<float> dv = {1.f, 2.f, 3.f};
  std::vector<float> dS(3, 0.5f);  // accumulates
  aicl::lcs_dp_backward(dS.data(), dv.data(), S.data(), 3, 1);
  CHECK(dS == std::vector<float>{0.5f, 2.5f, 0.5f});
  // Stage A in float: 5·(0.984f − 0.8f) = 0.92000008f passes 0.92f, 5·(prev(0.984f) − 0.8f) = 0.9199998f does not
  // (numpy float32 gives the same: the official variant's rounding).
  const float a = 0.984f, a_down = std::nextafter(a, 0.f);
  std::vector<float> va(2);
  const std::vector<float> Sa = {a, a_down};
  aicl::lcs_dp_forward(va.data(), Sa.data(), 2, 1, 0.92f, true);
  CHECK(va[0] == (a - 0.8f) * 5.f);
  CHECK(va[0] > tau);
  CHECK(va[1] == 0.f);
}

TEST_CASE("fsd_dp: equal moves share the gradient, L=1 closed form, null gradients skipped") {
  // All-zero scores: every smooth max ties three ways, C(1,1) = γ log 3, and dg = E·2/3.
  const std::vector<double> z(1, 0.0);
  double v = 0, dm = 0, dg = 0;
  const double dv = 1.0;
  aicl::fsd_dp_forward(&v, z.data(), z.data(), 1, 1);
  CHECK(v == Approx(0.1 * std::log(3.0)).epsilon(1e-15));
  aicl::fsd_dp_backward(&dm, &dg, &dv, z.data(), z.data(), 1, 1);
  CHECK(dm == 1.0);
  CHECK(dg == Approx(2.0 / 3.0).epsilon(1e-15));
  double dm2 = 0;
  aicl::fsd_dp_backward(&dm2, static_cast<double*>(nullptr), &dv, z.data(), z.data(), 1, 1);
  CHECK(dm2 == 1.0);
}

TEST_CASE("fsd_dp / lcs_dp: bad shapes and gamma are one-line errors") {
  float v = 0, x = 0;
  CHECK_THROWS_AS(aicl::fsd_dp_forward(&v, &x, &x, 1, 0), aicl::Error);
  CHECK_THROWS_AS(aicl::fsd_dp_forward(&v, &x, &x, -1, 5), aicl::Error);
  CHECK_THROWS_AS(aicl::fsd_dp_forward(&v, &x, &x, 1, 1, 0.0), aicl::Error);
  CHECK_THROWS_AS(aicl::lcs_dp_forward(&v, &x, 1, 0), aicl::Error);
  CHECK_THROWS_AS(aicl::lcs_dp_backward(&x, &v, &x, -2, 30), aicl::Error);
  // P = 0 is an empty batch.
  CHECK_NOTHROW(aicl::lcs_dp_forward(&v, &x, 0, 30));
  CHECK_NOTHROW(aicl::fsd_dp_forward(&v, &x, &x, 0, 5));
}
