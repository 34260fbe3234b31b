// Tests of the video CE, GCE and MSE losses: official reference values, bad inputs (gradients: tests/ops).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "kernels/ce_loss.h"
#include "kernels/gce_loss.h"
#include "kernels/mse_loss.h"

namespace {

// The closed-form inputs of tools/loss_oracle.py (reference values below come from the official code on them).
void ce_inputs(std::vector<double>& logits, std::vector<double>& labels) {
  const int B = 3, C = 20;
  logits.resize(B * C);
  for (int i = 0; i < B * C; ++i) logits[i] = 2 * std::sin(0.37 * i + 0.5);
  labels.assign(B * C, 0);
  labels[0 * C + 3] = 1;
  labels[1 * C + 0] = labels[1 * C + 19] = 1;
  labels[2 * C + 5] = labels[2 * C + 6] = labels[2 * C + 7] = 1;
}

void gce_inputs(std::vector<double>& p, std::vector<double>& y) {
  const int B = 3, T = 50;
  p.resize(B * T);
  y.resize(B * T);
  for (int i = 0; i < B * T; ++i) {
    p[i] = 0.5 + 0.49 * std::sin(0.91 * i + 0.2);
    y[i] = (i * 7) % 5 < 2 ? 1.0 : 0.0;
  }
  for (int t = 0; t < T; ++t) y[2 * T + t] = 0;  // a video with an empty pseudo label
}

template <class T>
std::vector<T> to(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("video_ce_forward: equals the official CrossEntropyLoss", "[ce_loss]") {
  std::vector<double> logits, labels;
  ce_inputs(logits, labels);
  // tools/loss_oracle.py: official CrossEntropyLoss in float64 / float32 (torch 1.13 CPU).
  CHECK(aicl::video_ce_forward(logits.data(), labels.data(), 3, 20) == Approx(3.30128218281736).epsilon(1e-13));
  const auto fl = to<float>(logits), fy = to<float>(labels);
  CHECK(aicl::video_ce_forward(fl.data(), fy.data(), 3, 20) == Approx(3.3012821674346924).epsilon(2e-7));
  // Hand value: one video, uniform logits, one class: -log(1/C) * (1 + 1e-10) - sum of the 1e-10 terms of the others.
  const std::vector<double> zero(4, 0.0), one_hot = {0, 1, 0, 0};
  CHECK(aicl::video_ce_forward(zero.data(), one_hot.data(), 1, 4) ==
        Approx(std::log(4.0) * (1 + 4e-10)).epsilon(1e-15));
}

TEST_CASE("video_ce: a video without any positive label is rejected, not NaN", "[ce_loss]") {
  const std::vector<float> logits(2 * 5, 0.3f);
  const std::vector<float> labels = {0, 1, 0, 0, 0, /* video 1: none */ 0, 0, 0, 0, 0};
  std::vector<float> g(10, 0);
  CHECK_THROWS_AS(aicl::video_ce_forward(logits.data(), labels.data(), 2, 5), aicl::Error);
  CHECK_THROWS_AS(aicl::video_ce_backward(g.data(), 1.0f, logits.data(), labels.data(), 2, 5), aicl::Error);
  CHECK_THROWS_WITH(aicl::video_ce_forward(logits.data(), labels.data(), 2, 5),
                    Catch::Contains("video 1") && Catch::Contains("no positive label"));
}

TEST_CASE("gce_forward: equals the official GeneralizedCE(q=0.7)", "[gce_loss]") {
  std::vector<double> p, y;
  gce_inputs(p, y);
  CHECK(aicl::gce_forward(p.data(), y.data(), 3, 50, 0.7) == Approx(1.0216974785387678).epsilon(1e-13));
  const auto fp = to<float>(p), fy = to<float>(y);
  CHECK(aicl::gce_forward(fp.data(), fy.data(), 3, 50, 0.7) == Approx(1.0216975212097168).epsilon(1e-6));
  // Hand value: one segment, y = 1, p = 1 - 1e-7: first term (1 - 1^q)/q / (1 + 1e-7) = 0, second term 0.
  const std::vector<double> p1 = {1.0 - 1e-7}, y1 = {1.0};
  CHECK(std::fabs(aicl::gce_forward(p1.data(), y1.data(), 1, 1, 0.7)) < 1e-15);
  // p = 0, y = 0: first term 0, second (1 - (1 + 1e-7)^q)/q / (1 + 1e-7).
  const std::vector<double> p0 = {0.0}, y0 = {0.0};
  CHECK(aicl::gce_forward(p0.data(), y0.data(), 1, 1, 0.7) ==
        Approx((1 - std::pow(1 + 1e-7, 0.7)) / 0.7 / (1 + 1e-7)).epsilon(1e-12));
}

TEST_CASE("gce: T = 0 and q = 0 are rejected", "[gce_loss]") {
  std::vector<float> g(4);
  const std::vector<float> pf(4, 0.5f);
  CHECK_THROWS_AS(aicl::gce_forward(pf.data(), pf.data(), 1, 0, 0.7), aicl::Error);
  CHECK_THROWS_AS(aicl::gce_backward(g.data(), 1.0f, pf.data(), pf.data(), 1, 4, 0.0), aicl::Error);
}

TEST_CASE("mse: value, the official symmetric form, n = 0 rejected", "[mse_loss]") {
  const std::vector<double> a0 = {0.1, 0.5, -0.2, 0.9, 0.3}, b0 = {0.2, 0.1, 0.4, 0.9, -0.6};
  // (0.01 + 0.16 + 0.36 + 0 + 0.81) / 5
  CHECK(aicl::mse_forward(a0.data(), b0.data(), 5) == Approx(1.34 / 5).epsilon(1e-14));
  // The official symmetric 0.5*mse(a,b) + 0.5*mse(b,a) has the same value.
  CHECK(aicl::mse_forward(b0.data(), a0.data(), 5) == aicl::mse_forward(a0.data(), b0.data(), 5));
  std::vector<double> da(5, 0.0), db(5, 0.0);
  CHECK_THROWS_AS(aicl::mse_forward(a0.data(), b0.data(), 0), aicl::Error);
  CHECK_THROWS_AS(aicl::mse_backward(da.data(), db.data(), 5.0, a0.data(), b0.data(), 0), aicl::Error);
}
