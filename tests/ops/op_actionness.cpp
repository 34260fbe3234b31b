// Op cases of kernels/actionness: sigmoid, class-aware actionness, stream mean (a + b) / 2, stream mix wa*a + wb*b.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/actionness.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// The sigmoid's exp is CUDA's expf (within 2 ulp) on the device: outputs agree per element to 1e-6 (~8 ulp). The
// backward and the class sums use the CPU's exact float operations (no fma): bit for bit.
const Tol kSigmoidTol{Cmp::rel_elem, 1e-6};

// n = 1, 2, 17 in [-4, 4): the gradient check's shapes; 999, 12000 and 2^20 + 3 in [-30, 30) (saturated tails) for
// the device.
OpCase sigmoid_case(std::size_t n, double range, unsigned checks) {
  OpCase c;
  c.op = "sigmoid";
  c.params = "n=" + std::to_string(n);
  c.checks = checks;
  c.inputs = {float_in("x", n)};
  c.outputs = {float_out("y", n, kSigmoidTol)};
  c.make_inputs = [n, range](Values<double>& in) { in.f[0] = random_vector(n, 3, -range, range); };
  c.set_cpu_forward([n](const auto& a) { aicl::sigmoid_forward(a.out[0], a.in[0], n); });
  c.set_cpu_backward([n](const auto& a) { aicl::sigmoid_backward(a.din[0], a.dout[0], a.out[0], n); });
  c.grad.prefill = 1.5;
  c.grad.proj_seed = 4;
#if AICL_HAVE_CUDA
  c.forward_cuda = [n](const Args<float>& a) { aicl::sigmoid_forward_cuda(a.out[0], a.in[0], n, stream_of(a)); };
  c.backward_cuda = [n](const Args<float>& a) {
    aicl::sigmoid_backward_cuda(a.din[0], a.dout[0], a.out[0], n, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 1.0;
  return c;
}

std::vector<OpCase> sigmoid_cases() {
  std::vector<OpCase> cs;
  for (std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(17)})
    cs.push_back(sigmoid_case(n, 4, kGradCheck | kCuda | kPerf));
  for (std::size_t n : {std::size_t(999), std::size_t(12000), std::size_t(1 << 20) + 3})
    cs.push_back(sigmoid_case(n, 30, kCuda | kPerf));
  return cs;
}

// a1 equals the double formula 1 / (1 + exp(-sum_c cas)) to 1e-14 relative.
void caa_formula(int N, int C, const CpuState& s, Report& rep) {
  for (int n = 0; n < N; ++n) {
    double sum = 0;
    for (int c = 0; c < C; ++c) sum += s.in.f[0][std::size_t(n) * C + c];
    const double want = 1 / (1 + std::exp(-sum)), got = s.out.f[0][std::size_t(n)];
    rep.check(std::fabs(got - want) <= 1e-14 * std::fabs(want),
              "a1[" + std::to_string(n) + "] = " + std::to_string(got) + ", formula " + std::to_string(want));
  }
}

// Gradient-check shapes (cas in [-0.6, 0.6)) and device shapes (cas in [-3, 3)).
OpCase caa_case(int N, int C, double range, unsigned checks) {
  OpCase c;
  c.op = "class_aware_actionness";
  c.params = "N=" + std::to_string(N) + " C=" + std::to_string(C);
  c.checks = checks;
  const std::size_t total = std::size_t(N) * C;
  c.inputs = {float_in("cas", total)};
  c.outputs = {float_out("a1", std::size_t(N), kSigmoidTol)};
  c.make_inputs = [total, range](Values<double>& in) { in.f[0] = random_vector(total, 8, -range, range); };
  c.set_cpu_forward([N, C](const auto& a) { aicl::class_aware_actionness_forward(a.out[0], a.in[0], N, C); });
  c.set_cpu_backward(
      [N, C](const auto& a) { aicl::class_aware_actionness_backward(a.din[0], a.dout[0], a.out[0], N, C); });
  c.grad.prefill = -2.0;
  c.grad.proj_seed = 9;
  c.grad_invariants = [N, C](const CpuState& s, Report& rep) { caa_formula(N, C, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [N, C](const Args<float>& a) {
    aicl::class_aware_actionness_forward_cuda(a.out[0], a.in[0], N, C, stream_of(a));
  };
  c.backward_cuda = [N, C](const Args<float>& a) {
    aicl::class_aware_actionness_backward_cuda(a.din[0], a.dout[0], a.out[0], N, C, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 1.0;
  return c;
}

std::vector<OpCase> class_aware_actionness_cases() {
  std::vector<OpCase> cs;
  for (auto [N, C] : {std::pair{1, 1}, std::pair{1, 20}, std::pair{5, 20}, std::pair{7, 3}})
    cs.push_back(caa_case(N, C, 0.6, kGradCheck | kCuda | kPerf));
  for (auto [N, C] : {std::pair{37, 20}, std::pair{12000, 20}, std::pair{513, 7}})
    cs.push_back(caa_case(N, C, 3.0, kCuda | kPerf));
  return cs;
}

// The class-agnostic actionness (a + b) / 2 and its backward: exact float operations on both devices, bit for bit.
OpCase stream_mean_case(std::size_t n, unsigned checks) {
  OpCase c;
  c.op = "stream_mean";
  c.params = "n=" + std::to_string(n);
  c.checks = checks;
  c.inputs = {float_in("a", n), float_in("b", n)};
  c.outputs = {float_out("mean", n, Tol{Cmp::bits})};
  c.make_inputs = [n](Values<double>& in) {
    in.f[0] = random_vector(n, 21, 0, 1);
    in.f[1] = random_vector(n, 22, 0, 1);
  };
  c.set_cpu_forward([n](const auto& a) { aicl::stream_mean_forward(a.out[0], a.in[0], a.in[1], n); });
  c.set_cpu_backward([n](const auto& a) { aicl::stream_mean_backward(a.din[0], a.din[1], a.dout[0], n); });
  c.grad.prefill = 0.5;
  c.grad.proj_seed = 23;
#if AICL_HAVE_CUDA
  c.forward_cuda = [n](const Args<float>& a) {
    aicl::stream_mean_forward_cuda(a.out[0], a.in[0], a.in[1], n, stream_of(a));
  };
  c.backward_cuda = [n](const Args<float>& a) {
    aicl::stream_mean_backward_cuda(a.din[0], a.din[1], a.dout[0], n, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 1.0;
  return c;
}

std::vector<OpCase> stream_mean_cases() {
  std::vector<OpCase> cs;
  for (std::size_t n : {std::size_t(1), std::size_t(9)}) cs.push_back(stream_mean_case(n, kGradCheck | kCuda | kPerf));
  cs.push_back(stream_mean_case(12000, kCuda | kPerf));
  return cs;
}

// SAL's fused actionness wa * a + wb * b and its backward: the same rounded float products and sums on both devices.
OpCase stream_mix_case(std::size_t n, double wa, double wb, unsigned checks) {
  OpCase c;
  c.op = "stream_mix";
  c.params = "n=" + std::to_string(n) + " wa=" + num(wa) + " wb=" + num(wb);
  c.checks = checks;
  c.inputs = {float_in("a", n), float_in("b", n)};
  c.outputs = {float_out("mix", n, Tol{Cmp::bits})};
  c.make_inputs = [n](Values<double>& in) {
    in.f[0] = random_vector(n, 61, 0, 1);
    in.f[1] = random_vector(n, 62, 0, 1);
  };
  c.set_cpu_forward([=](const auto& a) { aicl::stream_mix_forward(a.out[0], a.in[0], a.in[1], wa, wb, n); });
  c.set_cpu_backward([=](const auto& a) { aicl::stream_mix_backward(a.din[0], a.din[1], a.dout[0], wa, wb, n); });
  c.grad.prefill = 0.5;
  c.grad.proj_seed = 63;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::stream_mix_forward_cuda(a.out[0], a.in[0], a.in[1], wa, wb, n, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::stream_mix_backward_cuda(a.din[0], a.din[1], a.dout[0], wa, wb, n, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 1.0;
  return c;
}

std::vector<OpCase> stream_mix_cases() {
  // SAL THUMOS: (1 - 0.1) * a_f + 0.1 * a_r at B*T = 1500 (and 16 * 750); ActivityNet: 0.7, 0.3.
  return {stream_mix_case(1, 0.9, 0.1, kGradCheck | kCuda | kPerf), stream_mix_case(9, 0.7, 0.3, kGradCheck | kCuda),
          stream_mix_case(1500, 0.9, 0.1, kCuda | kPerf), stream_mix_case(12000, 0.9, 0.1, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(sigmoid_cases);
AICL_REGISTER_OP(stream_mean_cases);
AICL_REGISTER_OP(stream_mix_cases);
AICL_REGISTER_OP(class_aware_actionness_cases);

}  // namespace aicl_test::ops
