// GPU sigmoid / class-aware actionness against the CPU reference ops.
//
// Tolerances: the backward kernels and the class sums use the CPU's exact float operations (explicit
// round-to-nearest, no fma), so they must match bit for bit. The sigmoid's exp is CUDA's expf (max 2 ulp error)
// against glibc's expf, so forward outputs are compared per element with a relative tolerance of 1e-6 (~8 ulp).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/actionness.cuda.h"
#include "kernels/actionness.h"

using aicl_test::random_floats;
using aicl_test::to_device;

namespace {

constexpr double kSigmoidRelTol = 1e-6;

// Largest per-element relative error |got - want| / |want| (want is a sigmoid: positive).
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double scale = std::max(std::fabs(double(want[i])), 1e-30);
    worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])) / scale);
  }
  return worst;
}

}  // namespace

TEST_CASE("sigmoid CUDA forward/backward match the CPU op", "[gpu][actionness]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  for (std::size_t n : {std::size_t(1), std::size_t(999), std::size_t(12000), std::size_t(1 << 20) + 3}) {
    INFO("n=" << n);
    // Wide range: saturated tails (|x| up to 30) as well as the steep middle.
    const auto x = random_floats(n, unsigned(n), -30.f, 30.f);
    std::vector<float> y(n);
    aicl::sigmoid_forward<float>(y.data(), x.data(), n);
    auto d_x = to_device(x, stream);
    aicl::DeviceBuffer<float> d_y(n);
    aicl::sigmoid_forward_cuda(d_y.data(), d_x.data(), n, stream);
    const auto got_y = d_y.to_host(stream);
    INFO("max relative error " << max_relative_error(got_y, y));
    REQUIRE(max_relative_error(got_y, y) <= kSigmoidRelTol);

    // Backward from the same y on both sides: identical float operations, identical bits.
    const auto dy = random_floats(n, unsigned(n) + 1);
    const auto dx0 = random_floats(n, unsigned(n) + 2);
    std::vector<float> dx = dx0;
    aicl::sigmoid_backward<float>(dx.data(), dy.data(), y.data(), n);
    auto d_dy = to_device(dy, stream);
    auto d_yref = to_device(y, stream);
    auto d_dx = to_device(dx0, stream);
    aicl::sigmoid_backward_cuda(d_dx.data(), d_dy.data(), d_yref.data(), n, stream);
    REQUIRE(aicl_test::count_bit_differences(d_dx.to_host(stream), dx) == 0);
  }
}

TEST_CASE("class-aware actionness CUDA forward/backward match the CPU op", "[gpu][actionness]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  struct Case { int N, C; };
  for (const Case c : {Case{1, 20}, Case{1, 1}, Case{37, 20}, Case{12000, 20}, Case{513, 7}}) {
    INFO("N=" << c.N << " C=" << c.C);
    const std::size_t total = std::size_t(c.N) * c.C;
    const auto cas = random_floats(total, unsigned(total), -3.f, 3.f);
    std::vector<float> a1(c.N);
    aicl::class_aware_actionness_forward<float>(a1.data(), cas.data(), c.N, c.C);
    auto d_cas = to_device(cas, stream);
    aicl::DeviceBuffer<float> d_a1(c.N);
    aicl::class_aware_actionness_forward_cuda(d_a1.data(), d_cas.data(), c.N, c.C, stream);
    const auto got = d_a1.to_host(stream);
    INFO("max relative error " << max_relative_error(got, a1));
    REQUIRE(max_relative_error(got, a1) <= kSigmoidRelTol);

    const auto da1 = random_floats(c.N, unsigned(total) + 1);
    const auto dcas0 = random_floats(total, unsigned(total) + 2);
    std::vector<float> dcas = dcas0;
    aicl::class_aware_actionness_backward<float>(dcas.data(), da1.data(), a1.data(), c.N, c.C);
    auto d_da1 = to_device(da1, stream);
    auto d_a1ref = to_device(a1, stream);
    auto d_dcas = to_device(dcas0, stream);
    aicl::class_aware_actionness_backward_cuda(d_dcas.data(), d_da1.data(), d_a1ref.data(), c.N, c.C, stream);
    REQUIRE(aicl_test::count_bit_differences(d_dcas.to_host(stream), dcas) == 0);
  }
}
