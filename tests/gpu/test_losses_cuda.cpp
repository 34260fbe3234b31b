// GPU tests of the video CE, GCE and MSE CUDA ops beyond CPU parity: determinism, NaN on a label-less video, bad
// arguments. (Forward and backward against the CPU twins: the op harness, tests/ops/op_*_loss.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/ce_loss.h"
#include "kernels/gce_loss.h"
#include "kernels/mse_loss.h"

using aicl_test::random_floats;

namespace {

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

TEST_CASE("mse cuda: n = 0 is rejected", "[gpu][mse_loss]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  aicl::DeviceBuffer<float> d_loss(1);
  REQUIRE_THROWS_AS(aicl::mse_forward_cuda(d_loss.data(), d_loss.data(), d_loss.data(), 0, stream), aicl::Error);
}
