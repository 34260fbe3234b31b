// Op cases of kernels/conv1d_k1: the pointwise conv (a linear layer per row) of AICL's heads.
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/conv1d_k1.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int N, Cin, Cout;
  double w_range;  // weights uniform in [-w_range, w_range)
  unsigned checks;
};

// Device tolerance 1e-4 of the largest value (largest increment for gradients): float sums in another order than
// the CPU's (its bias sums run in double); a wrong row, channel or reduction is O(1).
OpCase conv1d_k1_case(const Shape& s) {
  OpCase c;
  c.op = "conv1d_k1";
  c.params = "N=" + std::to_string(s.N) + " Cin=" + std::to_string(s.Cin) + " Cout=" + std::to_string(s.Cout);
  c.checks = s.checks;
  const std::size_t n_in = std::size_t(s.N) * s.Cin, n_w = std::size_t(s.Cout) * s.Cin;
  c.inputs = {float_in("in", n_in, true, /*nullable=*/true), float_in("weight", n_w), float_in("bias", s.Cout)};
  c.outputs = {float_out("out", std::size_t(s.N) * s.Cout, {Cmp::rel_to_max, 1e-4})};
  c.make_inputs = [s, n_in, n_w](Values<double>& in) {
    in.f[0] = random_vector(n_in, 1);
    in.f[1] = random_vector(n_w, 2, -s.w_range, s.w_range);
    in.f[2] = random_vector(std::size_t(s.Cout), 3);
  };
  const int N = s.N, Cin = s.Cin, Cout = s.Cout;
  c.set_cpu_forward([=](const auto& a) { aicl::conv1d_k1_forward(a.out[0], a.in[0], a.in[1], a.in[2], N, Cin, Cout); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::conv1d_k1_backward(a.din[1], a.din[2], a.din[0], a.dout[0], a.in[0], a.in[1], N, Cin, Cout);
  });
  c.grad.prefill = -0.5;
  c.grad.proj_seed = 4;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::conv1d_k1_forward_cuda(a.out[0], a.in[0], a.in[1], a.in[2], N, Cin, Cout, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::conv1d_k1_backward_cuda(a.din[1], a.din[2], a.din[0], a.dout[0], a.in[0], a.in[1], N, Cin, Cout,
                                  stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-4};
  c.cuda_prefill = 0.5;
  c.cuda_deterministic_backward = true;  // fixed-order reductions, no atomics
  return c;
}

std::vector<OpCase> conv1d_k1_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf, device = kCuda | kPerf;
  // Gradient-check shapes; then AICL's heads (512->20, 512->1) at B=1 and at the training batch (16 x 750), odd
  // sizes, the widest hand-written layer (64) and the cuBLAS fallback (65, 100).
  const Shape shapes[] = {{1, 1, 1, 1, grad},         {5, 4, 1, 1, grad},         {7, 6, 20, 1, grad},
                          {3, 9, 5, 1, grad},         {1, 512, 20, 0.2, device},  {1, 512, 1, 0.2, device},
                          {7, 5, 3, 0.2, device},     {1503, 512, 20, 0.2, device}, {12000, 512, 1, 0.2, device},
                          {12000, 512, 20, 0.2, device}, {257, 33, 64, 0.2, device}, {513, 16, 65, 0.2, device},
                          {300, 64, 100, 0.2, device}};
  std::vector<OpCase> cs;
  for (const Shape& s : shapes) cs.push_back(conv1d_k1_case(s));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(conv1d_k1_cases);

}  // namespace aicl_test::ops
