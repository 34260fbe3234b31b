// SAL's adaptive actionness mask (kernels/confidence_mask): torch float32 parity, the EMA state, the formula, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "core/base/error.h"
#include "gradcheck.h"
#include "kernels/confidence_mask.h"
#include "kernels/softmax_row.h"

namespace {

constexpr int kN = 24, kC = 5;

// The LCG of tools/actionness_golden.py: m * 2^(scale_exp-15), m a 16-bit signed integer (exact in float).
std::vector<float> lcg_input(std::uint64_t seed, int count, int scale_exp) {
  std::uint64_t x = seed;
  std::vector<float> out;
  for (int i = 0; i < count; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(float(std::ldexp(double(long((x >> 40) & 0xFFFF) - 32768), scale_exp - 15)));
  }
  return out;
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// torch 1.13 CPU (float32), the official main_thumos.py expressions on cas = lcg_input(seed, 24*5, 0).view(24, 5):
//   probs = softmax(cas, -1); mp = probs.max(-1)[0]; mu = 0.7*mu + 0.3*mean(mp.double()).item();
//   var = 0.7*var + 0.3*var(mp.double(), unbiased=True).item();
//   m = exp(-((clamp(mp - mu, max=0.0)**2) / (2*var/4)))
// Steps 1 and 2: seeds 3, 4 from the official start (mu, V) = (1/5, 1). Selective: seed 5 from (0.3, 1e-3).
const double kState1[2] = {0.24812147930264472, 0.7010483912910409};
const double kState2[2] = {0.2840482484847307, 0.4917764959349798};
const std::uint32_t kMask2[kN] = {0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                  0x3f7f7a09, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000};
const double kStateSel[2] = {0.31735518988221884, 0.001667884326117503};
const std::uint32_t kMaskSel[kN] = {0x3f800000, 0x3f800000, 0x3f800000, 0x3f766452, 0x3ecafac8, 0x3f800000,
                                    0x3f800000, 0x3efc7862, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                    0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x395ae14d, 0x3f800000,
                                    0x3f800000, 0x3f800000, 0x3df439c5, 0x3f800000, 0x3f800000, 0x3f800000};

void check_mask(const std::vector<float>& m, const std::uint32_t* want) {
  for (int n = 0; n < kN; ++n) {
    INFO("n=" << n);
    CHECK(m[n] == Approx(from_bits(want[n])).epsilon(2e-7));  // torch's Sleef exp vs glibc's: an ulp at most
  }
}

// The official definition evaluated in double from scratch (softmax by exp / sum), for the double twin.
std::vector<double> reference_mask(const std::vector<double>& cas, int N, int C, double* state, double momentum,
                                   double var_scale) {
  std::vector<double> p(N);
  for (int n = 0; n < N; ++n) {
    double s = 0, best = 0;
    for (int c = 0; c < C; ++c) s += std::exp(cas[n * C + c]);
    for (int c = 0; c < C; ++c) best = std::max(best, std::exp(cas[n * C + c]) / s);
    p[n] = best;
  }
  double mean = 0, var = 0;
  for (double v : p) mean += v / N;
  for (double v : p) var += (v - mean) * (v - mean) / (N - 1);
  state[0] = momentum * state[0] + (1 - momentum) * mean;
  state[1] = momentum * state[1] + (1 - momentum) * var;
  std::vector<double> m(N);
  for (int n = 0; n < N; ++n) {
    const double d = std::min(p[n] - state[0], 0.0);
    m[n] = std::exp(-d * d / (var_scale * state[1]));
  }
  return m;
}

}  // namespace

// torch's softmax uses a vectorised exp (Sleef), glibc's expf may round a p an ulp away: the state is checked to
// 1e-8 relative (a formula slip such as a biased variance, 1/23 here, is far larger), the mask to an ulp.
TEST_CASE("confidence_mask_forward: torch float32 values of the official update_prob_t then calculate_mask",
          "[confidence_mask]") {
  double state[2] = {1.0 / kC, 1.0};
  std::vector<float> m(kN);
  aicl::confidence_mask_forward(m.data(), state, lcg_input(3, kN * kC, 0).data(), kN, kC, 0.7, 0.5);
  CHECK(state[0] == Approx(kState1[0]).epsilon(1e-8));
  CHECK(state[1] == Approx(kState1[1]).epsilon(1e-8));
  CHECK(m == std::vector<float>(kN, 1.0f));  // V = 0.7 is still wide: every segment weighs ~1
  aicl::confidence_mask_forward(m.data(), state, lcg_input(4, kN * kC, 0).data(), kN, kC, 0.7, 0.5);
  CHECK(state[0] == Approx(kState2[0]).epsilon(1e-8));  // the EMA carried over from the first step
  CHECK(state[1] == Approx(kState2[1]).epsilon(1e-8));
  check_mask(m, kMask2);

  double sel[2] = {0.3, 1e-3};
  aicl::confidence_mask_forward(m.data(), sel, lcg_input(5, kN * kC, 0).data(), kN, kC, 0.7, 0.5);
  CHECK(sel[0] == Approx(kStateSel[0]).epsilon(1e-8));
  CHECK(sel[1] == Approx(kStateSel[1]).epsilon(1e-8));
  check_mask(m, kMaskSel);
}

TEST_CASE("confidence_mask_forward: the double twin is the official formula, and float agrees", "[confidence_mask]") {
  for (auto [N, C, momentum, var_scale] : {std::tuple{2, 1, 0.7, 0.5}, std::tuple{37, 20, 0.7, 0.5},
                                           std::tuple{300, 200, 0.99, 6.0}}) {
    INFO("N=" << N << " C=" << C);
    const auto cas = aicl_test::random_vector(std::size_t(N) * C, 17 + N, -3, 3);
    double want_state[2] = {0.05, 2e-3}, state[2] = {0.05, 2e-3}, fstate[2] = {0.05, 2e-3};
    const std::vector<double> want = reference_mask(cas, N, C, want_state, momentum, var_scale);
    std::vector<double> m(N);
    aicl::confidence_mask_forward(m.data(), state, cas.data(), N, C, momentum, var_scale);
    CHECK(state[0] == Approx(want_state[0]).epsilon(1e-14));
    CHECK(state[1] == Approx(want_state[1]).epsilon(1e-12));
    for (int n = 0; n < N; ++n) REQUIRE(m[n] == Approx(want[n]).epsilon(1e-12).margin(1e-14));
    const std::vector<float> fcas(cas.begin(), cas.end());
    std::vector<float> fm(N);
    aicl::confidence_mask_forward(fm.data(), fstate, fcas.data(), N, C, momentum, var_scale);
    CHECK(fstate[0] == Approx(state[0]).epsilon(1e-6));
    for (int n = 0; n < N; ++n) REQUIRE(fm[n] == Approx(want[n]).margin(2e-4));
  }
}

TEST_CASE("confidence_mask_forward: weight 1 at or above the running mean, Gaussian below it", "[confidence_mask]") {
  const int N = 64, C = 4;
  const auto cas = aicl_test::random_vector(std::size_t(N) * C, 5, -2, 2);
  std::vector<double> narrow(N), wide(N);
  double s1[2] = {0.4, 1e-3}, s2[2] = {0.4, 1e-3};
  aicl::confidence_mask_forward(narrow.data(), s1, cas.data(), N, C, 0.7, 0.5);  // THUMOS: V/2
  aicl::confidence_mask_forward(wide.data(), s2, cas.data(), N, C, 0.7, 6.0);    // ActivityNet: 6V
  CHECK(s1[0] == s2[0]);
  CHECK(s1[1] == s2[1]);  // var_scale only shapes the mask, not the statistics
  int below = 0;
  for (int n = 0; n < N; ++n) {
    REQUIRE(narrow[n] > 0);
    REQUIRE(narrow[n] <= 1);
    if (narrow[n] < 1) {
      ++below;
      CHECK(wide[n] > narrow[n]);
      CHECK(std::log(wide[n]) == Approx(std::log(narrow[n]) / 12).epsilon(1e-12));  // exponent scales by 0.5 / 6
    } else {
      CHECK(wide[n] == 1);
    }
  }
  CHECK(below > 0);
  CHECK(below < N);
}

TEST_CASE("confidence_mask_forward: fewer than 2 segments or no class is rejected", "[confidence_mask]") {
  std::vector<float> cas(8, 0.5f), m(4);
  double state[2] = {0.05, 1.0};
  CHECK_THROWS_WITH(aicl::confidence_mask_forward(m.data(), state, cas.data(), 1, 8, 0.7, 0.5),
                    Catch::Contains("N=1") && Catch::Contains("N >= 2"));
  CHECK_THROWS_AS(aicl::confidence_mask_forward(m.data(), state, cas.data(), 4, 0, 0.7, 0.5), aicl::Error);
  CHECK(state[0] == 0.05);  // a rejected call leaves the state alone
  CHECK(state[1] == 1.0);
}

TEST_CASE("softmax_row_max: bit-equal to the largest entry of softmax_row (topk_mil's softmax)", "[confidence_mask]") {
  for (int C : {1, 2, 5, 20, 200}) {
    const auto x = aicl_test::random_vector(std::size_t(C) * 50, 90 + C, -6, 6);
    const std::vector<float> xf(x.begin(), x.end());
    std::vector<float> row(C);
    for (int r = 0; r < 50; ++r) {
      aicl::softmax_row(row.data(), xf.data() + r * C, C);
      const float want = *std::max_element(row.begin(), row.end());
      const float got = aicl::softmax_row_max(xf.data() + r * C, C);
      REQUIRE(std::memcmp(&got, &want, sizeof got) == 0);
    }
  }
  const std::vector<float> nan_row = {0.5f, std::nanf(""), 1.0f};
  CHECK(std::isnan(aicl::softmax_row_max(nan_row.data(), 3)));
}
