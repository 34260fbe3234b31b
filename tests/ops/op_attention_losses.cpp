// Op cases of kernels/attention_losses: ACM-Net's guide loss (instance CAS vs detached attention) and sparsity loss.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/attention_losses.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

std::string shape(int B, int T) { return "B=" + std::to_string(B) + " T=" + std::to_string(T); }

// p rows: positive entries summing to 1 (a softmax); att: the same for A = 3 columns. |1 − p_bg − a_ins| is then
// away from its kink at 0 except on a set of measure zero.
std::vector<double> simplex_rows(std::size_t rows, int C, unsigned seed) {
  std::vector<double> v = random_vector(rows * C, seed, 0.05, 1);
  for (std::size_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += v[r * C + c];
    for (int c = 0; c < C; ++c) v[r * C + c] /= s;
  }
  return v;
}

OpCase guide_case(int B, int T, int C, unsigned checks) {
  OpCase c;
  c.op = "guide_loss";
  c.params = shape(B, T) + " C=" + std::to_string(C);
  c.checks = checks;
  const std::size_t N = std::size_t(B) * T;
  // Device: the same float terms summed per video in double, in order: equal up to the final rounding.
  c.inputs = {float_in("p", N * C), float_in("att", N * 3, false)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-6})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = simplex_rows(N, C, 930 + T);
    in.f[1] = simplex_rows(N, 3, 931 + T);
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.9}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::guide_loss_forward(a.in[0], a.in[1], B, T, C, 3); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::guide_loss_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, C, 3);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::guide_loss_forward_cuda(a.out[0], a.in[0], a.in[1], B, T, C, 3, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::guide_loss_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in[1], B, T, C, 3, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  return c;
}

OpCase sparsity_case(int B, int T, int cols, unsigned checks) {
  OpCase c;
  c.op = "att_sparsity";
  c.params = shape(B, T) + " cols=" + std::to_string(cols);
  c.checks = checks;
  const std::size_t N = std::size_t(B) * T;
  c.inputs = {float_in("att", N * 3)};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-6})};
  c.make_inputs = [=](Values<double>& in) { in.f[0] = simplex_rows(N, 3, 940 + T); };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {1.1}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::att_sparsity_forward(a.in[0], B, T, 3, cols); });
  c.set_cpu_backward([=](const auto& a) { aicl::att_sparsity_backward(a.din[0], a.dout_host[0][0], B, T, 3, cols); });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::att_sparsity_forward_cuda(a.out[0], a.in[0], B, T, 3, cols, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::att_sparsity_backward_cuda(a.din[0], a.dout_host[0][0], B, T, 3, cols, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> guide_loss_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  return {guide_case(2, 7, 5, all), guide_case(1, 3, 21, kGradCheck | kCuda), guide_case(16, 750, 21, kCuda | kPerf)};
}

std::vector<OpCase> att_sparsity_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  return {sparsity_case(2, 7, 2, all), sparsity_case(3, 4, 3, kGradCheck | kCuda),
          sparsity_case(16, 750, 2, kCuda | kPerf)};
}

}  // namespace

AICL_REGISTER_OP(guide_loss_cases);
AICL_REGISTER_OP(att_sparsity_cases);

}  // namespace aicl_test::ops
