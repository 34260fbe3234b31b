// Op cases of kernels/confidence_mask: SAL's adaptive mask with its {mu, V} EMA state (no gradient).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/confidence_mask.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "kernels/cuda_common.h"
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct MaskCase {
  int N, C;
  double momentum, var_scale, mu0, v0;
};

// The state's 2 doubles travel in a float output of 4 slots, as raw bytes: each call starts from the case's
// initial state (so repeated device calls agree), and no host round trip is needed to read the device's doubles.
constexpr std::size_t kStateFloats = 4;

void state_of(const std::vector<float>& raw, double st[2]) { std::memcpy(st, raw.data(), 2 * sizeof(double)); }

// mu to 1e-6 and V to 1e-5 relative: p carries CUDA's expf (within 2 ulp) and the double sums another order, so the
// statistics agree to about float precision of p (a formula slip, e.g. the biased variance, is >= 1/N).
void compare_state(const CudaCompare& cc, Report& rep) {
  double g[2], w[2];
  state_of(cc.gpu.f[1], g);
  state_of(cc.cpu.f[1], w);
  const double tol[2] = {1e-6, 1e-5};
  const char* names[2] = {"mu", "V"};
  for (int i = 0; i < 2; ++i)
    rep.check(std::fabs(g[i] - w[i]) <= tol[i] * std::fabs(w[i]),
              std::string(names[i]) + ": device " + std::to_string(g[i]) + ", CPU " + std::to_string(w[i]));
}

// m agrees to 1e-5 absolute: m = exp(-d^2/den) moves by at most ~0.86/sqrt(den) per unit of p, and p, mu differ by
// a few 1e-8 between the devices (den ~ 2e-3 in the selective case: ~2e-6).
OpCase confidence_mask_case(const MaskCase& s) {
  OpCase c;
  c.op = "confidence_mask";
  c.params = "N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) + " momentum=" + num(s.momentum) +
             " var_scale=" + num(s.var_scale) + " V0=" + num(s.v0);
  c.checks = kCuda | kPerf;  // no gradient; CPU values against torch: tests/cpu/test_confidence_mask.cpp
  const std::size_t total = std::size_t(s.N) * s.C;
  c.inputs = {float_in("cas", total, false)};
  c.outputs = {float_out("m", std::size_t(s.N), {Cmp::abs, 1e-5}, false),
               float_out("state", kStateFloats, {Cmp::custom}, false)};
  c.make_inputs = [s, total](Values<double>& in) { in.f[0] = random_vector(total, 51 + unsigned(s.N), -3, 3); };
  c.set_cpu_forward([s](const auto& a) {
    double st[2] = {s.mu0, s.v0};
    aicl::confidence_mask_forward(a.out[0], st, a.in[0], s.N, s.C, s.momentum, s.var_scale);
    std::memcpy(a.out[1], st, sizeof st);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [s](const Args<float>& a) {
    static_assert(kStateFloats * sizeof(float) == 2 * sizeof(double), "the state slot holds 2 doubles");
    const double init[2] = {s.mu0, s.v0};
    double* st = reinterpret_cast<double*>(a.out[1]);  // cudaMalloc'd: aligned for doubles
    // From pageable memory the runtime stages `init` before returning, so the frame may end right after.
    AICL_CUDA_CHECK(cudaMemcpyAsync(st, init, sizeof init, cudaMemcpyHostToDevice, stream_of(a)));
    aicl::confidence_mask_forward_cuda(a.out[0], st, a.in[0], s.N, s.C, s.momentum, s.var_scale, stream_of(a));
  };
#endif
  c.cuda_compare = [](const CudaCompare& cc, Report& rep) { compare_state(cc, rep); };
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> confidence_mask_cases() {
  // THUMOS (B*T = 1500, C = 20) from the official start and from a small V (a selective mask); ActivityNet
  // (B*T = 32*50, C = 200, momentum 0.99, var 6V); N = 2 (the smallest unbiased variance); B = 16 (12000 rows,
  // uneven over the device's 256 lanes).
  return {confidence_mask_case({1500, 20, 0.7, 0.5, 0.05, 1.0}), confidence_mask_case({1500, 20, 0.7, 0.5, 0.3, 1e-3}),
          confidence_mask_case({1600, 200, 0.99, 6.0, 0.005, 1.0}), confidence_mask_case({2, 3, 0.7, 0.5, 0.05, 1.0}),
          confidence_mask_case({12000, 20, 0.7, 0.5, 0.2, 1e-2})};
}

}  // namespace

AICL_REGISTER_OP(confidence_mask_cases);

}  // namespace aicl_test::ops
