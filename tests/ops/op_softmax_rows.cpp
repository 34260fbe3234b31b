// Op cases of kernels/softmax_rows: row-wise softmax (FTCL's 3-way attention, its 21-way CAS) and its backward.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/softmax_rows.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// Every row sums to 1 and its gradient row sums to 0 (the softmax Jacobian annihilates constants).
void invariants(int N, int C, const CpuState& s, Report& rep) {
  for (int n = 0; n < N; ++n) {
    double sum = 0, gsum = 0;
    for (int c = 0; c < C; ++c) sum += s.out.f[0][std::size_t(n) * C + c], gsum += s.grad[0][std::size_t(n) * C + c];
    rep.check(std::fabs(sum - 1) < 1e-12, "row " + std::to_string(n) + " sums to " + std::to_string(sum));
    rep.check(std::fabs(gsum) < 1e-12, "gradient row " + std::to_string(n) + " sums to " + std::to_string(gsum));
  }
}

OpCase softmax_case(int N, int C, unsigned checks) {
  OpCase c;
  c.op = "softmax_rows";
  c.params = "N=" + std::to_string(N) + " C=" + std::to_string(C);
  c.checks = checks;
  const std::size_t n = std::size_t(N) * C;
  // Device: expf within 2 ulp, the rest rounded as on the CPU: a few ulp of entries <= 1.
  c.inputs = {float_in("x", n)};
  c.outputs = {float_out("out", n, {Cmp::abs, 1e-6})};
  c.make_inputs = [=](Values<double>& in) { in.f[0] = random_vector(n, 900 + N + C, -4, 4); };
  c.set_cpu_forward([=](const auto& a) { aicl::softmax_rows_forward(a.out[0], a.in[0], N, C); });
  c.set_cpu_backward([=](const auto& a) { aicl::softmax_rows_backward(a.din[0], a.dout[0], a.out[0], N, C); });
  c.grad_invariants = [=](const CpuState& s, Report& rep) { invariants(N, C, s, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) { aicl::softmax_rows_forward_cuda(a.out[0], a.in[0], N, C, stream_of(a)); };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::softmax_rows_backward_cuda(a.din[0], a.dout[0], a.out[0], N, C, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-5};
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> softmax_rows_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  // C = 1 (always 1), FTCL's attention (C = 3) and CAS (C = 21) at a small and the training N (16 x 750).
  return {softmax_case(4, 1, kGradCheck | kCuda), softmax_case(9, 3, all), softmax_case(5, 21, all),
          softmax_case(12000, 3, kCuda | kPerf), softmax_case(12000, 21, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(softmax_rows_cases);

}  // namespace aicl_test::ops
