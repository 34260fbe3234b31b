// Tests of the video CE, GCE and MSE losses: official reference values, finite-difference gradients, bad inputs.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "kernels/ce_loss.h"
#include "kernels/gce_loss.h"
#include "kernels/mse_loss.h"
#include "gradcheck.h"

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

TEST_CASE("video_ce_backward: finite differences in logits", "[ce_loss][grad]") {
  std::vector<double> logits, labels;
  ce_inputs(logits, labels);
  for (int B : {3, 1}) {
    const int C = 20;
    std::vector<double> x(logits.begin(), logits.begin() + B * C), y(labels.begin(), labels.begin() + B * C);
    const double w = 1.7;
    std::vector<double> grad(x.size(), -0.25);  // pre-filled: backward must accumulate
    aicl::video_ce_backward(grad.data(), w, x.data(), y.data(), B, C);
    for (auto& g : grad) g += 0.25;
    auto rep = aicl_test::grad_check(x, grad, [&] { return w * aicl::video_ce_forward(x.data(), y.data(), B, C); });
    INFO(rep.describe("dlogits"));
    CHECK(rep.ok());
    // The rows of the gradient sum to -(dloss/B)(mass - mass) = 0 up to the 1e-10 label offset.
    for (int b = 0; b < B; ++b) {
      double s = 0;
      for (int c = 0; c < C; ++c) s += grad[b * C + c];
      CHECK(std::fabs(s) < 1e-12);
    }
  }
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

TEST_CASE("gce_backward: finite differences in p (including p at 0 and 1)", "[gce_loss][grad]") {
  std::vector<double> p, y;
  gce_inputs(p, y);
  for (int B : {3, 1}) {
    const int T = 50;
    std::vector<double> x(p.begin(), p.begin() + B * T), lab(y.begin(), y.begin() + B * T);
    if (B == 1) {
      x[0] = 0.0;  // the 1e-7 terms keep (p + 1e-7)^(q-1) finite at the ends
      x[1] = 1.0;
    }
    const double w = 0.6;
    std::vector<double> grad(x.size(), 0.0);
    aicl::gce_backward(grad.data(), w, x.data(), lab.data(), B, T, 0.7);
    auto loss = [&] { return w * aicl::gce_forward(x.data(), lab.data(), B, T, 0.7); };
    auto rep = aicl_test::grad_check(x, grad, loss, 1e-6, 1e-7, 1e-5, 400,
                                     [&](size_t i) { return B == 1 && i < 2; });
    if (B == 1) {
      // At p = 0 and p = 1 the power terms curve on the 1e-7 scale: a much smaller step, looser tolerance.
      auto ends = aicl_test::grad_check(x, grad, loss, 1e-10, 1e-5, 1e-4, 400, [](size_t i) { return i >= 2; });
      INFO(ends.describe("dp at p=0, p=1"));
      CHECK(ends.ok());
      CHECK(ends.checked == 2);
    }
    INFO(rep.describe("dp"));
    CHECK(rep.ok());
  }
  std::vector<float> g(4);
  const std::vector<float> pf(4, 0.5f);
  CHECK_THROWS_AS(aicl::gce_forward(pf.data(), pf.data(), 1, 0, 0.7), aicl::Error);
  CHECK_THROWS_AS(aicl::gce_backward(g.data(), 1.0f, pf.data(), pf.data(), 1, 4, 0.0), aicl::Error);
}

TEST_CASE("mse: value and gradients to both inputs", "[mse_loss][grad]") {
  const std::vector<double> a0 = {0.1, 0.5, -0.2, 0.9, 0.3}, b0 = {0.2, 0.1, 0.4, 0.9, -0.6};
  // (0.01 + 0.16 + 0.36 + 0 + 0.81) / 5
  CHECK(aicl::mse_forward(a0.data(), b0.data(), 5) == Approx(1.34 / 5).epsilon(1e-14));
  // The official symmetric 0.5*mse(a,b) + 0.5*mse(b,a) has the same value.
  CHECK(aicl::mse_forward(b0.data(), a0.data(), 5) == aicl::mse_forward(a0.data(), b0.data(), 5));
  auto a = aicl_test::random_vector(37, 5), b = aicl_test::random_vector(37, 6);
  const double w = 5.0;
  std::vector<double> da(37, 1.0), db(37, 2.0);  // pre-filled: backward must accumulate
  aicl::mse_backward(da.data(), db.data(), w, a.data(), b.data(), a.size());
  for (auto& g : da) g -= 1.0;
  for (auto& g : db) g -= 2.0;
  auto loss = [&] { return w * aicl::mse_forward(a.data(), b.data(), a.size()); };
  auto ra = aicl_test::grad_check(a, da, loss);
  auto rb = aicl_test::grad_check(b, db, loss);
  INFO(ra.describe("da") << "\n" << rb.describe("db"));
  CHECK(ra.ok());
  CHECK(rb.ok());
  // A null side is skipped.
  std::vector<double> only(37, 0.0);
  aicl::mse_backward<double>(only.data(), nullptr, w, a.data(), b.data(), a.size());
  for (size_t i = 0; i < only.size(); ++i) REQUIRE(only[i] == Approx(da[i]).margin(1e-15));  // da had +1 -1
  CHECK_THROWS_AS(aicl::mse_forward(a.data(), b.data(), 0), aicl::Error);
  CHECK_THROWS_AS(aicl::mse_backward(da.data(), db.data(), w, a.data(), b.data(), 0), aicl::Error);
}
