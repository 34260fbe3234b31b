// Op cases of kernels/infonce: AICL's snippet contrastive loss (four NCE terms) of one embedding and its backward.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/infonce.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

constexpr double kTau = 0.1;

struct Shape {
  int B, T, D, k;
  bool oracle;  // the closed-form inputs of tools/loss_oracle.py (B=2, T=30, D=8, k=3)
  bool grad;    // gradient-check inputs (every row positive); else post-ReLU-like device inputs
};

// tools/loss_oracle.py: post-ReLU-like rows and indices with a repeat (IA of video 1 picks one segment twice).
void oracle_inputs(const Shape& s, Values<double>& in) {
  for (std::size_t i = 0; i < in.f[0].size(); ++i) in.f[0][i] = std::max(0.0, std::sin(0.53 * double(i) + 0.1));
  for (int g = 0; g < 4; ++g)
    for (int b = 0; b < s.B; ++b)
      for (int j = 0; j < s.k; ++j) in.i[std::size_t(1 + g)][std::size_t(b * s.k + j)] = (b * 5 + j * 7 + g * 3) % s.T;
  in.i[3][std::size_t(1 * s.k + 2)] = in.i[3][std::size_t(1 * s.k + 0)];
}

// Random indices in [0, T) (repeats happen); device inputs also force one repeat (idx[1] = idx[0]) per group and
// zero about a quarter of the embedding entries, as a ReLU does.
void random_inputs(const Shape& s, unsigned seed, Values<double>& in) {
  in.f[0] = s.grad ? random_vector(in.f[0].size(), seed, 0.05, 1.0) : random_vector(in.f[0].size(), seed, -0.35, 1.0);
  if (!s.grad)
    for (double& e : in.f[0]) e = std::max(e, 0.0);
  const std::vector<double> r = random_vector(std::size_t(4 * s.B * s.k), seed + 1, 0, 1);
  for (int g = 0; g < 4; ++g) {
    auto& idx = in.i[std::size_t(1 + g)];
    for (int i = 0; i < s.B * s.k; ++i) idx[std::size_t(i)] = std::min(s.T - 1, int(r[std::size_t(g * s.B * s.k + i)] * s.T));
    if (!s.grad && s.k >= 2) idx[1] = idx[0];
  }
}

// Rows never selected get no gradient.
void unselected_rows_zero(const Shape& s, const CpuState& st, Report& rep) {
  std::vector<char> used(std::size_t(s.B) * s.T, 0);
  for (int g = 0; g < 4; ++g)
    for (int b = 0; b < s.B; ++b)
      for (int j = 0; j < s.k; ++j) used[std::size_t(b * s.T + st.in.i[std::size_t(1 + g)][std::size_t(b * s.k + j)])] = 1;
  std::size_t bad = 0;
  for (std::size_t r = 0; r < used.size(); ++r)
    for (int d = 0; d < s.D && !used[r]; ++d) bad += st.grad[0][r * std::size_t(s.D) + std::size_t(d)] != 0.0;
  rep.check(bad == 0, std::to_string(bad) + " gradient entries of never-selected rows are not 0");
}

OpCase infonce_case(const Shape& s) {
  OpCase c;
  c.op = "infonce";
  c.params = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " D=" + std::to_string(s.D) +
             " k=" + std::to_string(s.k) + (s.oracle ? " oracle" : "");
  c.checks = s.grad ? kGradCheck | kCuda | kPerf : kCuda | kPerf;
  const std::size_t nk = std::size_t(s.B) * s.k;
  c.inputs = {float_in("emb", std::size_t(s.B) * s.T * s.D), int_in("idx_CA", nk), int_in("idx_CB", nk),
              int_in("idx_IA", nk), int_in("idx_IB", nk)};
  // {total, IA, IB, CA, CB}; only the total has a gradient (the terms are for logging). Device: dot products over
  // D and sums over k rows in float vs the CPU's double: 1e-5 of the largest value (an emulation of the kernels'
  // float arithmetic measured 1.7e-7; a wrong term, sign or normalisation is O(1)).
  c.outputs = {float_out("loss_terms", 5, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [s](Values<double>& in) {
    s.oracle ? oracle_inputs(s, in) : random_inputs(s, 100 + unsigned(s.T), in);
    if (s.grad)  // keep every mean and negative row away from the zero vector (the 1e-12 clamp is a kink)
      for (double& e : in.f[0]) e += 0.01;
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.8, 0, 0, 0, 0}; };
  const int B = s.B, T = s.T, D = s.D, k = s.k;
  c.set_cpu_forward([=](const auto& a) {
    a.out[0][0] = aicl::infonce_forward(a.in[0], a.in_int[1], a.in_int[2], a.in_int[3], a.in_int[4], B, T, D, k, kTau,
                                        a.out[0] + 1);
  });
  c.set_cpu_backward([=](const auto& a) {
    aicl::infonce_backward(a.din[0], a.dout_host[0][0], a.in[0], a.in_int[1], a.in_int[2], a.in_int[3], a.in_int[4], B,
                           T, D, k, kTau);
  });
  c.grad.prefill = 0.3;
  c.grad.defaults.max_entries = 2000;
  c.grad_invariants = [s](const CpuState& st, Report& rep) { unselected_rows_zero(s, st, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::infonce_forward_cuda(a.out[0], a.in[0], a.in_int[1], a.in_int[2], a.in_int[3], a.in_int[4], B, T, D, k, kTau,
                               a.out[0] + 1, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::infonce_backward_cuda(a.din[0], a.dout_host[0][0], a.in[0], a.in_int[1], a.in_int[2], a.in_int[3],
                                a.in_int[4], B, T, D, k, kTau, stream_of(a));
  };
#endif
  // Gradient: measured 2.6e-6 of the largest entry in the emulation: 3e-5. The prefill stays well below the
  // increments, so that the many rounded adds of a repeated row cost far less than the tolerance.
  c.cuda_grad = {Cmp::rel_to_max, 3e-5};
  c.cuda_prefill = 1e-5;
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> infonce_cases() {
  // Gradient-check shapes: the oracle case, B = 1, odd T, k = 1, T < 20 (k chosen directly), repeated indices.
  // Device shapes: B = 1, D = 1, T < 20 with k >= 1, odd T / D, k not a multiple of the warp, the training shape.
  const Shape shapes[] = {{2, 30, 8, 3, true, true},    {1, 21, 5, 1, false, true},     {3, 9, 4, 4, false, true},
                          {1, 7, 16, 7, false, true},   {2, 40, 6, 2, false, true},     {1, 1, 1, 1, false, false},
                          {1, 7, 8, 1, false, false},   {2, 19, 33, 5, false, false},   {3, 41, 65, 2, false, false},
                          {2, 64, 300, 40, false, false}, {16, 750, 512, 37, false, false}};
  std::vector<OpCase> cs;
  for (const Shape& s : shapes) cs.push_back(infonce_case(s));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(infonce_cases);

}  // namespace aicl_test::ops
