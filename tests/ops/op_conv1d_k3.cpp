// Op cases of kernels/conv1d_k3: temporal conv with odd kernel K (K = 3, 5, 7; zero padding K/2 per video), every CPU
// and CUDA GEMM strategy, FP32 and TF32. K = 3 cases keep their former names; other K are named "conv1d_k3 K=<K> ...".
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/conv1d_k3.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "kernels/cuda_common.h"
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int B, Tn, Cin, Cout, in_stride;
  int K = 3;
};

std::string params_of(const Shape& s, bool relu) {
  return (s.K == 3 ? std::string() : "K=" + std::to_string(s.K) + " ") + "B=" + std::to_string(s.B) +
         " T=" + std::to_string(s.Tn) + " Cin=" + std::to_string(s.Cin) + " Cout=" + std::to_string(s.Cout) +
         " stride=" + std::to_string(s.in_stride) + (relu ? " relu" : "");
}

// Pre-activations in double (direct loops): out[b,t,co] = bias + sum_k sum_ci w[co,ci,k] in[b,t+k-K/2,ci].
std::vector<double> pre_activations(const Values<double>& d, const Shape& s) {
  std::vector<double> out(std::size_t(s.B) * s.Tn * s.Cout);
  for (int b = 0; b < s.B; ++b)
    for (int t = 0; t < s.Tn; ++t)
      for (int co = 0; co < s.Cout; ++co) {
        double acc = d.f[2][std::size_t(co)];
        for (int k = 0; k < s.K; ++k) {
          const int src = t + k - s.K / 2;
          if (src < 0 || src >= s.Tn) continue;
          for (int ci = 0; ci < s.Cin; ++ci)
            acc += d.f[1][(std::size_t(co) * s.Cin + ci) * s.K + k] *
                   d.f[0][(std::size_t(b) * s.Tn + src) * s.in_stride + ci];
        }
        out[(std::size_t(b) * s.Tn + t) * s.Cout + co] = acc;
      }
  return out;
}

// Gradient-check inputs: in [-1, 1), weights scaled by 1/sqrt(K*Cin), bias [-0.3, 0.3). With relu, reseeded until
// every pre-activation is at least 1e-3 from the kink (steps of 1e-6 never cross it) and both signs occur.
void kink_free_inputs(Values<double>& d, const Shape& s, bool relu, unsigned seed) {
  for (unsigned attempt = 0; attempt < 200; ++attempt, seed += 1000) {
    d.f[0] = random_vector(d.f[0].size(), seed);
    const double w_scale = 1.0 / std::sqrt(double(s.K) * s.Cin);
    d.f[1] = random_vector(d.f[1].size(), seed + 1, -w_scale, w_scale);
    d.f[2] = random_vector(d.f[2].size(), seed + 2, -0.3, 0.3);
    if (!relu) return;
    const std::vector<double> pre = pre_activations(d, s);
    double closest = 1e300;
    std::size_t negatives = 0;
    for (double p : pre) closest = std::min(closest, std::fabs(p)), negatives += p < 0;
    if (closest > 1e-3 && negatives > 0 && negatives < pre.size()) return;
  }
  throw std::runtime_error("conv1d_k3 " + params_of(s, relu) + ": no relu inputs away from the kink");
}

// dout after the backward: masked by (out > 0) with relu (the gradient at 0 taken as 0, like torch), else untouched.
void check_dout_scratch(bool relu, const CpuState& st, Report& rep) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < st.dout_before[0].size(); ++i)
    bad += st.dout_after[0][i] != ((relu && !(st.out.f[0][i] > 0)) ? 0.0 : st.dout_before[0][i]);
  rep.check(bad == 0, std::to_string(bad) + " entries of dout are not the (masked) output gradient after the backward");
}

template <class T>
void cpu_forward(const Shape& s, bool relu, const Args<T>& a) {
  using S = aicl::detail::Conv3Strategy;
  if (a.variant == 0)
    aicl::conv1d_k3_forward(a.out[0], a.in[0], s.in_stride, a.in[1], a.in[2], s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
  else
    aicl::detail::conv1d_k3_forward_with(a.variant == 1 ? S::whole_batch : S::per_video, a.out[0], a.in[0],
                                         s.in_stride, a.in[1], a.in[2], s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
}

template <class T>
void cpu_backward(const Shape& s, bool relu, const Args<T>& a) {
  using S = aicl::detail::Conv3Strategy;
  if (a.variant == 0)
    aicl::conv1d_k3_backward(a.din[1], a.din[2], a.din[0], s.in_stride, a.dout[0], a.out[0], a.in[0], s.in_stride,
                             a.in[1], s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
  else
    aicl::detail::conv1d_k3_backward_with(a.variant == 1 ? S::whole_batch : S::per_video, a.din[1], a.din[2],
                                          a.din[0], s.in_stride, a.dout[0], a.out[0], a.in[0], s.in_stride, a.in[1],
                                          s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
}

#if AICL_HAVE_CUDA
using CudaS = aicl::detail::Conv3CudaStrategy;

// strategy < 0: the public entry points; else detail::Conv3CudaStrategy(strategy).
void cuda_forward(const Shape& s, bool relu, int strategy, const Args<float>& a) {
  if (strategy < 0)
    aicl::conv1d_k3_forward_cuda(a.out[0], a.in[0], s.in_stride, a.in[1], a.in[2], s.B, s.Tn, s.Cin, s.Cout, s.K,
                                 relu, stream_of(a));
  else
    aicl::detail::conv1d_k3_forward_cuda_with(CudaS(strategy), a.out[0], a.in[0], s.in_stride, a.in[1], a.in[2],
                                              s.B, s.Tn, s.Cin, s.Cout, s.K, relu, stream_of(a));
}

void cuda_backward(const Shape& s, bool relu, int strategy, const Args<float>& a) {
  if (strategy < 0)
    aicl::conv1d_k3_backward_cuda(a.din[1], a.din[2], a.din[0], s.in_stride, a.dout[0], a.out[0], a.in[0],
                                  s.in_stride, a.in[1], s.B, s.Tn, s.Cin, s.Cout, s.K, relu, stream_of(a));
  else
    aicl::detail::conv1d_k3_backward_cuda_with(CudaS(strategy), a.din[1], a.din[2], a.din[0], s.in_stride,
                                               a.dout[0], a.out[0], a.in[0], s.in_stride, a.in[1], s.B, s.Tn, s.Cin,
                                               s.Cout, s.K, relu, stream_of(a));
}

// Sets TF32 GEMMs for one call and restores FP32 afterwards (also when the call throws).
struct MathModeGuard {
  explicit MathModeGuard(bool tf32) : on(tf32) {
    if (on) aicl::set_cuda_math_mode(aicl::CudaMathMode::tf32);
  }
  ~MathModeGuard() {
    if (on) aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32);
  }
  bool on;
};
#endif

// Device tolerances over the largest value (gradients: the largest increment). FP32: 1e-4 (float sums in another
// order; an n-term dot product is off by ~sqrt(n) * 6e-8 of its terms, ~1e-5 of the output scale at n = 6144 and
// ~1.5e-5 at n = 7*2048, while a wrong tap, shift or leaked video boundary is O(1)). TF32: 5e-3 (inputs rounded to
// 10-bit mantissas, ~1e-3 of the output scale, still 200x below an O(1) bug).
OpCase conv1d_k3_case(const Shape& s, bool relu, bool grad_shape, bool tf32) {
  OpCase c;
  c.op = tf32 ? "conv1d_k3_tf32" : "conv1d_k3";
  c.params = params_of(s, relu);
  c.checks = tf32 ? kCuda : grad_shape ? kGradCheck | kCuda | kPerf : kCuda | kPerf;
  const std::size_t n_in = std::size_t(s.B) * s.Tn * s.in_stride, n_w = std::size_t(s.Cout) * s.Cin * s.K;
  const double tol = tf32 ? 5e-3 : 1e-4;
  c.inputs = {float_in("in", n_in, true, /*nullable=*/true), float_in("weight", n_w), float_in("bias", s.Cout)};
  c.outputs = {float_out("out", std::size_t(s.B) * s.Tn * s.Cout, {Cmp::rel_to_max, tol})};
  c.make_inputs = [s, relu, grad_shape](Values<double>& in) {
    if (grad_shape) return kink_free_inputs(in, s, relu, 31);
    in.f[0] = random_vector(in.f[0].size(), 7);
    in.f[1] = random_vector(in.f[1].size(), 8, -0.1, 0.1);
    in.f[2] = random_vector(in.f[2].size(), 9, -0.5, 0.5);
  };
  c.set_cpu_forward([s, relu](const auto& a) { cpu_forward(s, relu, a); });
  c.set_cpu_backward([s, relu](const auto& a) { cpu_backward(s, relu, a); });
  c.cpu_variants = {"", "whole_batch", "per_video"};
  c.grad_invariants = [relu](const CpuState& st, Report& rep) { check_dout_scratch(relu, st, rep); };
#if AICL_HAVE_CUDA
  // CUDA variant -> strategy (-1: the public entry points); TF32 runs both strategies, FP32 also the public ones.
  const std::vector<int> strategy = tf32 ? std::vector<int>{int(CudaS::shifted_gemms), int(CudaS::im2col)}
                                         : std::vector<int>{-1, int(CudaS::shifted_gemms), int(CudaS::im2col)};
  c.forward_cuda = [s, relu, strategy, tf32](const Args<float>& a) {
    MathModeGuard guard(tf32);
    cuda_forward(s, relu, strategy.at(std::size_t(a.variant)), a);
  };
  c.backward_cuda = [s, relu, strategy, tf32](const Args<float>& a) {
    MathModeGuard guard(tf32);
    cuda_backward(s, relu, strategy.at(std::size_t(a.variant)), a);
  };
#endif
  c.cuda_variants = tf32 ? std::vector<std::string>{"shifted_gemms", "im2col"}
                         : std::vector<std::string>{"", "shifted_gemms", "im2col"};
  c.cuda_grad = {Cmp::rel_to_max, tol};
  c.cuda_prefill = 0.5;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> conv1d_k3_cases() {
  // Gradient-check shapes: T = 1 (only the centre tap), T = 2 (every row a boundary row), several videos,
  // in_stride > Cin (reading half of the channels), odd T, single channels.
  const Shape grad_shapes[] = {{1, 1, 3, 2, 3}, {1, 2, 4, 3, 4}, {2, 1, 2, 3, 2},
                               {2, 5, 3, 4, 7}, {3, 7, 5, 6, 5}, {2, 4, 1, 1, 2}};
  // Device shapes: the same edge cases at GEMM-friendly sizes and the real AICL widths 2048->512 and 1024->512.
  const Shape device_shapes[] = {{1, 1, 8, 4, 8},     {1, 2, 8, 4, 8},     {3, 1, 5, 3, 5},
                                 {2, 2, 7, 5, 9},     {3, 7, 16, 8, 16},   {1, 17, 33, 20, 40},
                                 {4, 33, 64, 32, 64}, {2, 19, 2048, 512, 2048}, {3, 9, 1024, 512, 2048}};
  std::vector<OpCase> cs;
  for (const Shape& s : grad_shapes)
    for (bool relu : {false, true}) cs.push_back(conv1d_k3_case(s, relu, true, false));
  for (const Shape& s : device_shapes)
    for (bool relu : {false, true}) cs.push_back(conv1d_k3_case(s, relu, false, false));
  // The former public-entry and determinism shapes (relu).
  cs.push_back(conv1d_k3_case({2, 5, 12, 6, 12}, true, false, false));
  cs.push_back(conv1d_k3_case({4, 45, 256, 128, 256}, true, false, false));

  // K = 7 (SAL-ActivityNet's base module, padding 3) and K = 5. Gradient-check shapes: T = 1, 2, 3 < K (only the
  // taps with |j-K/2| < T pair rows; the others must get no gradient and leak nothing), T between K/2 and K, T > K
  // with several videos (every tap crosses each video boundary over |j-K/2| rows), in_stride > Cin, single channels.
  const Shape grad_shapes_k[] = {{1, 1, 3, 2, 3, 7}, {2, 2, 3, 3, 4, 7}, {3, 3, 2, 3, 2, 7}, {2, 5, 3, 2, 5, 7},
                                 {3, 9, 3, 4, 5, 7}, {2, 4, 1, 1, 2, 7}, {2, 1, 2, 3, 2, 5}, {3, 2, 3, 2, 3, 5},
                                 {2, 3, 2, 3, 4, 5}, {3, 6, 3, 2, 3, 5}};
  for (const Shape& s : grad_shapes_k)
    for (bool relu : {false, true}) cs.push_back(conv1d_k3_case(s, relu, true, false));
  // Device shapes: the same edge cases at GEMM-friendly sizes and the 2048->512 / 1024->512 widths.
  const Shape device_shapes_k[] = {{1, 1, 8, 4, 8, 7},          {3, 2, 8, 4, 8, 7},          {2, 3, 16, 8, 16, 7},
                                   {3, 5, 16, 8, 20, 7},        {1, 17, 33, 20, 40, 7},      {4, 33, 64, 32, 64, 7},
                                   {2, 19, 2048, 512, 2048, 7}, {3, 9, 1024, 512, 2048, 7}, {3, 4, 16, 8, 16, 5},
                                   {4, 33, 64, 32, 64, 5}};
  for (const Shape& s : device_shapes_k)
    for (bool relu : {false, true}) cs.push_back(conv1d_k3_case(s, relu, false, false));
  return cs;
}

std::vector<OpCase> conv1d_k3_tf32_cases() {
  std::vector<OpCase> cs;
  for (const Shape& s : {Shape{3, 7, 64, 32, 64}, Shape{2, 19, 2048, 512, 2048}, Shape{3, 9, 1024, 512, 2048},
                         Shape{3, 7, 64, 32, 64, 7}, Shape{2, 19, 2048, 512, 2048, 7}})
    cs.push_back(conv1d_k3_case(s, true, false, true));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(conv1d_k3_cases);
AICL_REGISTER_OP(conv1d_k3_tf32_cases);

}  // namespace aicl_test::ops
