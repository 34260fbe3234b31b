// Op cases of kernels/bilinear_pool: SAL's per-video Gram matrix over time and the signed sqrt + L2 normalisation.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/bilinear_pool.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

constexpr double kEps = 1e-5;  // the official epsilon inside the square root

// E in [0, 1) (post-ReLU embeddings). Device: cuBLAS sums in another order than OpenBLAS: 1e-5 of the largest value.
OpCase gram_case(int B, int Tn, int D, unsigned checks) {
  OpCase c;
  c.op = "gram";
  c.params = "B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " D=" + std::to_string(D);
  c.checks = checks;
  const std::size_t ne = std::size_t(B) * Tn * D, ng = std::size_t(B) * D * D;
  c.inputs = {float_in("E", ne)};
  c.outputs = {float_out("G", ng, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [ne](Values<double>& in) { in.f[0] = random_vector(ne, 31, 0, 1); };
  c.set_cpu_forward([=](const auto& a) { aicl::gram_forward(a.out[0], a.in[0], B, Tn, D); });
  c.set_cpu_backward([=](const auto& a) { aicl::gram_backward(a.din[0], a.dout[0], a.in[0], B, Tn, D); });
  c.grad.prefill = 0.25;
  c.grad.proj_seed = 32;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) { aicl::gram_forward_cuda(a.out[0], a.in[0], B, Tn, D, stream_of(a)); };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::gram_backward_cuda(a.din[0], a.dout[0], a.in[0], B, Tn, D, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_prefill = 0.5;
  return c;
}

std::vector<OpCase> gram_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf;
  // Gradient-check shapes (T = 1, odd sizes); SAL's training shape (B = 2, T = 750, D = 512) on the device.
  return {gram_case(1, 1, 3, grad), gram_case(2, 5, 4, grad), gram_case(3, 7, 6, grad),
          gram_case(2, 750, 512, kCuda | kPerf)};
}

// c keeps away from 0 (where sign(c) jumps) for the finite differences: |c| in [0.05, 1), a third negative.
// The output v is compared per element on the device (the row norm is a fixed-order double sum on both sides);
// the norm output feeds no gradient.
OpCase ssl2_case(int B, int n, unsigned checks) {
  OpCase c;
  c.op = "signed_sqrt_l2";
  c.params = "B=" + std::to_string(B) + " n=" + std::to_string(n);
  c.checks = checks;
  const std::size_t total = std::size_t(B) * n;
  c.inputs = {float_in("c", total)};
  c.outputs = {float_out("v", total, {Cmp::rel_to_max, 1e-6}), float_out("norm", std::size_t(B), {Cmp::rel_elem, 1e-6}, false)};
  c.make_inputs = [total](Values<double>& in) {
    in.f[0] = random_vector(total, 41, 0.05, 1);
    for (std::size_t i = 0; i < total; i += 3) in.f[0][i] = -in.f[0][i];
  };
  c.set_cpu_forward([=](const auto& a) { aicl::signed_sqrt_l2_forward(a.out[0], a.out[1], a.in[0], B, n, kEps); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::signed_sqrt_l2_backward(a.din[0], a.dout[0], a.out[0], a.out[1], a.in[0], B, n, kEps);
  });
  c.grad.prefill = -0.5;
  c.grad.proj_seed = 42;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::signed_sqrt_l2_forward_cuda(a.out[0], a.out[1], a.in[0], B, n, kEps, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::signed_sqrt_l2_backward_cuda(a.din[0], a.dout[0], a.out[0], a.out[1], a.in[0], B, n, kEps, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-6};
  c.cuda_prefill = 0.5;
  c.cuda_deterministic_backward = true;  // fixed-order reductions, no atomics
  return c;
}

std::vector<OpCase> signed_sqrt_l2_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf;
  return {ssl2_case(1, 1, grad), ssl2_case(2, 7, grad), ssl2_case(3, 40, grad),
          ssl2_case(2, 512 * 512, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(gram_cases);
AICL_REGISTER_OP(signed_sqrt_l2_cases);

}  // namespace aicl_test::ops
