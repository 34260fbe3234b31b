// GPU Adam / SGD argument checks. (Bit-for-bit CPU parity over several steps: the op harness, tests/ops/op_adam.cpp.)
#include <catch2/catch.hpp>

#include "gpu/gpu_test_util.h"
#include "kernels/adam.h"

TEST_CASE("optimizer CUDA steps reject bad arguments", "[gpu][adam]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  aicl::DeviceBuffer<float> p(4), g(4), m(4), v(4);
  REQUIRE_THROWS_AS(aicl::adam_step_cuda(p.data(), g.data(), m.data(), v.data(), 4, 1e-3, 0.9, 0.999, 1e-8, 0, 0,
                                         stream),
                    aicl::Error);
  REQUIRE_THROWS_AS(aicl::sgd_step_cuda(p.data(), g.data(), nullptr, 4, 1e-3, 0.9, 0, 1, stream), aicl::Error);
}
