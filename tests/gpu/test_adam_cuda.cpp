// GPU Adam / SGD steps against the CPU reference: every element must match adam_step<float> / sgd_step<float>
// bit for bit over several steps (same host scalars, same per-element rounding; see kernels/adam.cu).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/adam.cuda.h"
#include "kernels/adam.h"

using aicl_test::random_floats;
using aicl_test::to_device;

TEST_CASE("Adam CUDA step matches the CPU adam_step bit for bit over several steps", "[gpu][adam]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t(1 << 20) + 7}) {
    for (double wd : {0.0, 5e-4}) {
      for (double lr : {1e-4, 3e-2}) {
        INFO("n=" << n << " weight_decay=" << wd << " lr=" << lr);
        std::vector<float> p = random_floats(n, 1), m(n, 0.f), v(n, 0.f);
        auto d_p = to_device(p, stream);
        auto d_m = to_device(m, stream);
        auto d_v = to_device(v, stream);
        for (long step = 1; step <= 5; ++step) {
          INFO("step " << step);
          // Gradients of varied scale (tiny ones exercise eps, large ones the moments).
          const float scale = step % 2 ? 1e-3f : 10.f;
          const auto g = random_floats(n, unsigned(100 + step), -scale, scale);
          aicl::adam_step<float>(p.data(), g.data(), m.data(), v.data(), n, lr, 0.9, 0.999, 1e-8, wd, step);
          auto d_g = to_device(g, stream);
          aicl::adam_step_cuda(d_p.data(), d_g.data(), d_m.data(), d_v.data(), n, lr, 0.9, 0.999, 1e-8, wd, step,
                               stream);
          REQUIRE(aicl_test::count_bit_differences(d_p.to_host(stream), p) == 0);
          REQUIRE(aicl_test::count_bit_differences(d_m.to_host(stream), m) == 0);
          REQUIRE(aicl_test::count_bit_differences(d_v.to_host(stream), v) == 0);
        }
      }
    }
  }
}

TEST_CASE("SGD CUDA step matches the CPU sgd_step bit for bit (with and without momentum)", "[gpu][adam]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  for (std::size_t n : {std::size_t(1), std::size_t(4099), std::size_t(1 << 20) + 7}) {
    for (double momentum : {0.0, 0.9}) {
      for (double wd : {0.0, 1e-4}) {
        INFO("n=" << n << " momentum=" << momentum << " weight_decay=" << wd);
        std::vector<float> p = random_floats(n, 2), buf(n, 0.f);
        auto d_p = to_device(p, stream);
        auto d_buf = to_device(buf, stream);
        for (long step = 1; step <= 4; ++step) {
          INFO("step " << step);
          const auto g = random_floats(n, unsigned(200 + step));
          aicl::sgd_step<float>(p.data(), g.data(), momentum != 0 ? buf.data() : nullptr, n, 0.01, momentum, wd,
                                step);
          auto d_g = to_device(g, stream);
          aicl::sgd_step_cuda(d_p.data(), d_g.data(), momentum != 0 ? d_buf.data() : nullptr, n, 0.01, momentum, wd,
                              step, stream);
          REQUIRE(aicl_test::count_bit_differences(d_p.to_host(stream), p) == 0);
          if (momentum != 0) REQUIRE(aicl_test::count_bit_differences(d_buf.to_host(stream), buf) == 0);
        }
      }
    }
  }
}

TEST_CASE("optimizer CUDA steps reject bad arguments", "[gpu][adam]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  aicl::DeviceBuffer<float> p(4), g(4), m(4), v(4);
  REQUIRE_THROWS_AS(aicl::adam_step_cuda(p.data(), g.data(), m.data(), v.data(), 4, 1e-3, 0.9, 0.999, 1e-8, 0, 0,
                                         stream),
                    aicl::Error);
  REQUIRE_THROWS_AS(aicl::sgd_step_cuda(p.data(), g.data(), nullptr, 4, 1e-3, 0.9, 0, 1, stream), aicl::Error);
}
