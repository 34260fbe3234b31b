// Op cases of kernels/row_scale: rows scaled by one column of a strided array (FTCL's Z·a_b).
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/row_scale.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

OpCase row_scale_case(int N, int C, int stride, int col, unsigned checks) {
  OpCase c;
  c.op = "row_scale";
  c.params = "N=" + std::to_string(N) + " C=" + std::to_string(C) + " stride=" + std::to_string(stride) +
             " col=" + std::to_string(col);
  c.checks = checks;
  const std::size_t n = std::size_t(N) * C, na = std::size_t(N) * stride;
  // Device: the same single products (bits); the row sums of da in the same order (bits).
  c.inputs = {float_in("x", n, true, true), float_in("a", na, true, true)};
  c.outputs = {float_out("out", n, {Cmp::bits})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(n, 910 + N);
    in.f[1] = random_vector(na, 911 + N, 0, 1);
  };
  c.set_cpu_forward([=](const auto& a) { aicl::row_scale_forward(a.out[0], a.in[0], a.in[1], stride, col, N, C); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::row_scale_backward(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], stride, col, N, C);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::row_scale_forward_cuda(a.out[0], a.in[0], a.in[1], stride, col, N, C, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::row_scale_backward_cuda(a.din[0], a.din[1], a.dout[0], a.in[0], a.in[1], stride, col, N, C, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  c.cuda_null_grad_same_bits = true;
  return c;
}

std::vector<OpCase> row_scale_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  // FTCL: the three attention columns of [N, 3] on [N, 21] logits; a plain [N, 1] scale; the training N.
  return {row_scale_case(6, 21, 3, 0, all), row_scale_case(5, 4, 3, 2, kGradCheck | kCuda),
          row_scale_case(7, 3, 1, 0, kGradCheck | kCuda), row_scale_case(12000, 21, 3, 1, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(row_scale_cases);

}  // namespace aicl_test::ops
