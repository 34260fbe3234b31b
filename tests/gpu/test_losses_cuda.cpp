// GPU tests: video CE, GCE and MSE CUDA ops against their CPU twins (forward scalar in device memory, backward).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/ce_loss.cuda.h"
#include "kernels/ce_loss.h"
#include "kernels/gce_loss.cuda.h"
#include "kernels/gce_loss.h"
#include "kernels/mse_loss.cuda.h"
#include "kernels/mse_loss.h"

using aicl_test::random_floats;

namespace {

// Tolerances (relative to max |reference|). The CPU twins accumulate in double, the GPU ops in float with a
// different (fixed) summation order, so the scalar losses agree to a few float ulps times log2 of the number of
// terms: 1e-5 leaves a wide margin (observed errors are expected around 1e-7..1e-6) while any formula error
// (a missing 1e-10/1e-7 term aside) is O(1). Element-wise gradients carry only a few roundings: 2e-6.
constexpr double kLossTol = 1e-5;
constexpr double kGradTol = 2e-6;

float device_scalar(const aicl::DeviceBuffer<float>& d, cudaStream_t s) { return d.to_host(s)[0]; }

std::vector<float> multi_hot(int B, int C, unsigned seed) {
  std::vector<float> y(static_cast<size_t>(B) * C, 0.f);
  std::mt19937 rng(seed);
  for (int b = 0; b < B; ++b) {
    y[static_cast<size_t>(b) * C + rng() % C] = 1.f;  // at least one positive class per video
    for (int c = 0; c < C; ++c)
      if (rng() % 5 == 0) y[static_cast<size_t>(b) * C + c] = 1.f;
  }
  return y;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("video_ce cuda: forward and backward match the CPU op, several shapes", "[gpu][ce_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int shapes[][2] = {{1, 1}, {1, 20}, {3, 7}, {16, 20}, {5, 300}};
  unsigned seed = 10;
  for (const auto& sh : shapes) {
    const int B = sh[0], C = sh[1];
    INFO("B=" << B << " C=" << C);
    const auto logits = random_floats(static_cast<size_t>(B) * C, ++seed, -3.f, 3.f);
    const auto labels = multi_hot(B, C, ++seed);
    auto d_logits = aicl_test::to_device(logits, stream);
    auto d_labels = aicl_test::to_device(labels, stream);
    aicl::DeviceBuffer<float> d_loss(1);
    aicl::video_ce_forward_cuda(d_loss.data(), d_logits.data(), d_labels.data(), B, C, stream);
    const float got = device_scalar(d_loss, stream);
    const float want = aicl::video_ce_forward(logits.data(), labels.data(), B, C);
    AICL_REQUIRE_CLOSE(std::vector<float>{got}, std::vector<float>{want}, kLossTol, "video_ce loss");

    // Backward accumulates: prefill, compare the increment with the CPU's increment from the same prefill.
    const auto before = random_floats(logits.size(), ++seed, -0.05f, 0.05f);
    auto d_grad = aicl_test::to_device(before, stream);
    aicl::video_ce_backward_cuda(d_grad.data(), 0.7f, d_logits.data(), d_labels.data(), B, C, stream);
    std::vector<float> want_grad = before;
    aicl::video_ce_backward(want_grad.data(), 0.7f, logits.data(), labels.data(), B, C);
    const auto r = aicl_test::compare_increment(aicl_test::to_host(d_grad, stream), want_grad, before);
    INFO(r.describe("video_ce dlogits"));
    REQUIRE(!r.nonfinite);
    REQUIRE(r.rel_err <= kGradTol * 4);  // softmax * mass - label: one more cancellation than GCE/MSE
  }
}

TEST_CASE("video_ce cuda: deterministic, and a label-less video gives NaN instead of an exception", "[gpu][ce_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int B = 16, C = 20;
  const auto logits = random_floats(B * C, 3, -3.f, 3.f);
  auto labels = multi_hot(B, C, 4);
  auto d_logits = aicl_test::to_device(logits, stream);
  auto d_labels = aicl_test::to_device(labels, stream);
  aicl::DeviceBuffer<float> d_loss(1);
  aicl::video_ce_forward_cuda(d_loss.data(), d_logits.data(), d_labels.data(), B, C, stream);
  const float first = device_scalar(d_loss, stream);
  aicl::video_ce_forward_cuda(d_loss.data(), d_logits.data(), d_labels.data(), B, C, stream);
  REQUIRE(same_bits(first, device_scalar(d_loss, stream)));

  for (int c = 0; c < C; ++c) labels[5 * C + c] = 0.f;  // video 5 has no class: 0/0 as in the official code
  d_labels.upload(labels.data(), labels.size(), stream);
  aicl::video_ce_forward_cuda(d_loss.data(), d_logits.data(), d_labels.data(), B, C, stream);
  REQUIRE(std::isnan(device_scalar(d_loss, stream)));
  REQUIRE_THROWS_AS(aicl::video_ce_forward_cuda(d_loss.data(), d_logits.data(), d_labels.data(), 0, C, stream),
                    aicl::Error);
}

TEST_CASE("gce cuda: forward and backward match the CPU op, including p = 0, p = 1 and empty masks", "[gpu][gce_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int shapes[][2] = {{1, 1}, {1, 7}, {3, 41}, {4, 19}, {16, 750}};
  unsigned seed = 100;
  for (const auto& sh : shapes) {
    const int B = sh[0], Tn = sh[1];
    INFO("B=" << B << " T=" << Tn);
    auto p = random_floats(static_cast<size_t>(B) * Tn, ++seed, 0.f, 1.f);
    std::vector<float> y(p.size());
    std::mt19937 rng(++seed);
    for (auto& v : y) v = (rng() % 3 == 0) ? 1.f : 0.f;
    p[0] = 0.f;  // the 1e-7 terms keep both powers finite at the ends
    p[p.size() - 1] = 1.f;
    if (B >= 3) {
      for (int t = 0; t < Tn; ++t) y[static_cast<size_t>(1) * Tn + t] = 0.f;  // no positive segment
      for (int t = 0; t < Tn; ++t) y[static_cast<size_t>(2) * Tn + t] = 1.f;  // no negative segment
    }
    auto d_p = aicl_test::to_device(p, stream);
    auto d_y = aicl_test::to_device(y, stream);
    aicl::DeviceBuffer<float> d_loss(1);
    aicl::gce_forward_cuda(d_loss.data(), d_p.data(), d_y.data(), B, Tn, 0.7, stream);
    const float want = aicl::gce_forward(p.data(), y.data(), B, Tn, 0.7);
    AICL_REQUIRE_CLOSE(std::vector<float>{device_scalar(d_loss, stream)}, std::vector<float>{want}, kLossTol,
                       "gce loss");

    const auto before = random_floats(p.size(), ++seed, -0.01f, 0.01f);
    auto d_grad = aicl_test::to_device(before, stream);
    aicl::gce_backward_cuda(d_grad.data(), 1.3f, d_p.data(), d_y.data(), B, Tn, 0.7, stream);
    std::vector<float> want_grad = before;
    aicl::gce_backward(want_grad.data(), 1.3f, p.data(), y.data(), B, Tn, 0.7);
    // powf(x, -0.3) is within 2 ulp in CUDA; the per-video masses are float sums: 1e-5 of the largest entry.
    const auto r = aicl_test::compare_increment(aicl_test::to_host(d_grad, stream), want_grad, before);
    INFO(r.describe("gce dp"));
    REQUIRE(!r.nonfinite);
    REQUIRE(r.rel_err <= 1e-5);
  }
}

TEST_CASE("gce cuda: deterministic and rejects bad arguments", "[gpu][gce_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int B = 16, Tn = 750;
  const auto p = random_floats(B * Tn, 7, 0.f, 1.f);
  std::vector<float> y(p.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = (i % 11 == 0) ? 1.f : 0.f;
  auto d_p = aicl_test::to_device(p, stream);
  auto d_y = aicl_test::to_device(y, stream);
  aicl::DeviceBuffer<float> d_loss(1);
  aicl::gce_forward_cuda(d_loss.data(), d_p.data(), d_y.data(), B, Tn, 0.7, stream);
  const float first = device_scalar(d_loss, stream);
  aicl::gce_forward_cuda(d_loss.data(), d_p.data(), d_y.data(), B, Tn, 0.7, stream);
  REQUIRE(same_bits(first, device_scalar(d_loss, stream)));
  REQUIRE_THROWS_AS(aicl::gce_forward_cuda(d_loss.data(), d_p.data(), d_y.data(), B, Tn, 0.0, stream), aicl::Error);
  REQUIRE_THROWS_AS(aicl::gce_backward_cuda(d_p.data(), 1.f, d_p.data(), d_y.data(), B, 0, 0.7, stream),
                    aicl::Error);
}

TEST_CASE("mse cuda: forward and backward match the CPU op, one block up to the capped multi-block path", "[gpu][mse_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  // 1, odd, just over one block's chunk (4096), the training size (16*750), and above 1024 chunks (capped grid).
  const size_t sizes[] = {1, 7, 4097, 12000, 5000001};
  unsigned seed = 200;
  for (size_t n : sizes) {
    INFO("n=" << n);
    const auto a = random_floats(n, ++seed, 0.f, 1.f);
    const auto b = random_floats(n, ++seed, 0.f, 1.f);
    auto d_a = aicl_test::to_device(a, stream);
    auto d_b = aicl_test::to_device(b, stream);
    aicl::DeviceBuffer<float> d_loss(1);
    aicl::mse_forward_cuda(d_loss.data(), d_a.data(), d_b.data(), n, stream);
    const float first = device_scalar(d_loss, stream);
    AICL_REQUIRE_CLOSE(std::vector<float>{first}, std::vector<float>{aicl::mse_forward(a.data(), b.data(), n)},
                       kLossTol, "mse loss");
    aicl::mse_forward_cuda(d_loss.data(), d_a.data(), d_b.data(), n, stream);
    REQUIRE(same_bits(first, device_scalar(d_loss, stream)));

    // Prefill at the size of the increments (2 * 5 * |a - b| / n), so its rounding does not swamp them.
    const float fill = 10.f / static_cast<float>(n);
    const auto before_a = random_floats(n, ++seed, -fill, fill), before_b = random_floats(n, ++seed, -fill, fill);
    auto d_ga = aicl_test::to_device(before_a, stream);
    auto d_gb = aicl_test::to_device(before_b, stream);
    aicl::mse_backward_cuda(d_ga.data(), d_gb.data(), 5.f, d_a.data(), d_b.data(), n, stream);
    std::vector<float> want_a = before_a, want_b = before_b;
    aicl::mse_backward(want_a.data(), want_b.data(), 5.f, a.data(), b.data(), n);
    const auto ra = aicl_test::compare_increment(aicl_test::to_host(d_ga, stream), want_a, before_a, 1e-12);
    const auto rb = aicl_test::compare_increment(aicl_test::to_host(d_gb, stream), want_b, before_b, 1e-12);
    INFO(ra.describe("mse da") << "\n" << rb.describe("mse db"));
    REQUIRE((!ra.nonfinite && !rb.nonfinite));
    REQUIRE(ra.rel_err <= kGradTol);
    REQUIRE(rb.rel_err <= kGradTol);

    // A null side is skipped: only db changes.
    auto d_gb2 = aicl_test::to_device(before_b, stream);
    aicl::mse_backward_cuda(nullptr, d_gb2.data(), 5.f, d_a.data(), d_b.data(), n, stream);
    REQUIRE(aicl_test::to_host(d_gb2, stream) == aicl_test::to_host(d_gb, stream));
  }
  aicl::DeviceBuffer<float> d_loss(1);
  REQUIRE_THROWS_AS(aicl::mse_forward_cuda(d_loss.data(), d_loss.data(), d_loss.data(), 0, stream), aicl::Error);
}
