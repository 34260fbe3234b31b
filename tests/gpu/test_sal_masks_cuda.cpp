// GPU tests of SAL's masks over several calls: the EMA state on the device, the pseudo-label chain, bad shapes.
//
// The chain is top-k, then AND with the top half of the relu sums. (One call vs the CPU: tests/ops.)
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "gpu/gpu_test_util.h"
#include "kernels/confidence_mask.h"
#include "kernels/topk_mask.h"

using aicl_test::random_floats;

TEST_CASE("confidence_mask_forward_cuda: the EMA state stays on the device across steps and tracks the CPU's",
          "[confidence_mask][cuda]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int N = 1500, C = 20, steps = 4;
  double cpu_state[2] = {0.3, 1e-3};
  aicl::DeviceBuffer<double> d_state(std::vector<double>{0.3, 1e-3}, stream);
  aicl::DeviceBuffer<float> d_m(N);
  std::vector<float> cpu_m(N);
  for (int s = 0; s < steps; ++s) {  // no download between the steps: each call reads the previous update
    const auto cas = random_floats(std::size_t(N) * C, 80 + s, -3.f, 3.f);
    auto d_cas = aicl_test::to_device(cas, stream);
    aicl::confidence_mask_forward_cuda(d_m.data(), d_state.data(), d_cas.data(), N, C, 0.7, 0.5, stream);
    aicl::confidence_mask_forward(cpu_m.data(), cpu_state, cas.data(), N, C, 0.7, 0.5);
  }
  const std::vector<double> st = d_state.to_host(stream);
  CHECK(st[0] == Approx(cpu_state[0]).epsilon(1e-6));
  CHECK(st[1] == Approx(cpu_state[1]).epsilon(1e-5));
  const std::vector<float> m = d_m.to_host(stream);
  int below = 0;
  for (int n = 0; n < N; ++n) {
    REQUIRE(std::fabs(m[n] - cpu_m[n]) <= 1e-5f);
    below += cpu_m[n] < 1.f;
  }
  CHECK(below > 0);  // the mask is selective by then, so the comparison covers the Gaussian branch
  CHECK_THROWS_AS(aicl::confidence_mask_forward_cuda(d_m.data(), d_state.data(), d_m.data(), 1, C, 0.7, 0.5, stream),
                  aicl::Error);
}

TEST_CASE("topk_mask_forward_cuda: SAL's pseudo label, actionness top-k AND confidence top half, equals the CPU's",
          "[topk_mask][cuda]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int B = 2, T = 750, C = 20;
  const auto act = random_floats(std::size_t(B) * T, 90, 0.f, 1.f);
  const auto cas = random_floats(std::size_t(B) * T * C, 91, -2.f, 1.f);
  std::vector<float> conf(std::size_t(B) * T), y(std::size_t(B) * T);
  aicl::relu_row_sum_forward(conf.data(), cas.data(), B * T, C);
  aicl::topk_mask_forward(y.data(), act.data(), B, T, T / 8 + 17, false);
  aicl::topk_mask_forward(y.data(), conf.data(), B, T, T / 2, true);

  auto d_act = aicl_test::to_device(act, stream);
  auto d_cas = aicl_test::to_device(cas, stream);
  aicl::DeviceBuffer<float> d_conf(conf.size()), d_y(y.size());
  aicl::relu_row_sum_forward_cuda(d_conf.data(), d_cas.data(), B * T, C, stream);
  aicl::topk_mask_forward_cuda(d_y.data(), d_act.data(), B, T, T / 8 + 17, false, stream);
  aicl::topk_mask_forward_cuda(d_y.data(), d_conf.data(), B, T, T / 2, true, stream);
  CHECK(aicl_test::count_bit_differences(d_conf.to_host(stream), conf) == 0);
  CHECK(d_y.to_host(stream) == y);  // no ties at either boundary (a confidence of 0 lies far below the top half)
  CHECK_THROWS_AS(aicl::topk_mask_forward_cuda(d_y.data(), d_act.data(), B, T, 0, false, stream), aicl::Error);
  CHECK_THROWS_AS(aicl::topk_mask_forward_cuda(d_y.data(), d_act.data(), B, T, T + 1, false, stream), aicl::Error);
}
