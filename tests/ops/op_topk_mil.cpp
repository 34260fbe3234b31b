// Op cases of kernels/topk_mil: top-k MIL pooling of the CAS (combined CAS, top-k indices, cas_top) and the pseudo label.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/topk_mil.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int B, T, C, k;
};

std::string params_of(const Shape& s) {
  return "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C) +
         " k=" + std::to_string(s.k);
}

// Combined CAS values agree to 1e-6 absolute: CUDA's expf is within 2 ulp and glibc's within 1, so a softmax entry
// (<= 1) differs by a few ulp of itself and combined = (softmax + s) / 3 by a third of that plus one rounding;
// 1e-6 is ~8 ulp at 1.0, while a formula error is >= 1e-3.
constexpr float kCombinedTol = 1e-6f;

std::size_t at(const Shape& s, int b, int j, int c) { return (std::size_t(b) * s.k + j) * s.C + c; }
float combined_at(const Shape& s, const std::vector<float>& comb, int b, int t, int c) {
  return comb[(std::size_t(b) * s.T + t) * s.C + c];
}

// cas_top from given indices in the ops' order: the raw cas summed in rank order, then divided by k.
float mean_at(const Shape& s, const std::vector<float>& cas, const std::vector<int>& idx, int b, int c) {
  float acc = 0.f;
  for (int j = 0; j < s.k; ++j) acc += cas[(std::size_t(b) * s.T + idx[at(s, b, j, c)]) * s.C + c];
  return acc / float(s.k);
}

// One (b, c) column: distinct in-range indices; the j-th selected value is the CPU's j-th up to the combined
// tolerance; where the CPU's value is isolated (farther than the tolerance from every other) the index is the
// CPU's. cas_top is the mean at the device's own indices (bit-exact), the CPU's where the indices are.
void compare_column(const Shape& s, const CudaCompare& cc, int b, int c, long& clean, long& checked, Report& rep) {
  const std::vector<int>&gi = cc.gpu.i[1], &ci = cc.cpu.i[1];
  const std::string where = "b=" + std::to_string(b) + " c=" + std::to_string(c);
  std::set<int> seen;
  bool same = true;
  for (int j = 0; j < s.k; ++j) {
    const int g = gi[at(s, b, j, c)], w = ci[at(s, b, j, c)];
    same = same && g == w;
    if (g < 0 || g >= s.T || !seen.insert(g).second) {
      rep.check(false, where + " rank " + std::to_string(j) + ": index " + std::to_string(g) + " out of range or repeated");
      return;
    }
    const float wv = combined_at(s, cc.cpu.f[2], b, w, c);
    rep.check(std::fabs(combined_at(s, cc.cpu.f[2], b, g, c) - wv) <= 2 * kCombinedTol,
              where + " rank " + std::to_string(j) + ": selected value differs from the CPU's");
    bool isolated = true;
    for (int t = 0; t < s.T && isolated; ++t)
      if (t != w && std::fabs(combined_at(s, cc.cpu.f[2], b, t, c) - wv) <= 4 * kCombinedTol) isolated = false;
    ++checked;
    if (isolated) {
      ++clean;
      rep.check(g == w, where + " rank " + std::to_string(j) + ": isolated value at another index than the CPU's");
    }
  }
  const float top = cc.gpu.f[0][std::size_t(b) * s.C + c];
  rep.check(top == mean_at(s, cc.in.f[0], gi, b, c), where + ": cas_top is not the mean at its own indices");
  if (same) rep.check(top == cc.cpu.f[0][std::size_t(b) * s.C + c], where + ": cas_top differs from the CPU's");
}

void compare_topk(const Shape& s, const CudaCompare& cc, Report& rep) {
  long clean = 0, checked = 0;
  for (int b = 0; b < s.B; ++b)
    for (int c = 0; c < s.C; ++c) compare_column(s, cc, b, c, clean, checked, rep);
  // Random inputs are almost tie-free, so the exact-index check covered most ranks (else it proved little).
  rep.check(clean * 10 >= checked * 9, "only " + std::to_string(clean) + " of " + std::to_string(checked) +
                                           " ranks were isolated");
}

// cas, flow, rgb: cas uniform in [-range, range), the curves in [0, 1).
void topk_inputs(const Shape& s, double range, unsigned seed, Values<double>& in) {
  const std::size_t bt = std::size_t(s.B) * s.T;
  in.f[0] = random_vector(bt * s.C, seed, -range, range);
  in.f[1] = random_vector(bt, seed + 1, 0, 1);
  in.f[2] = random_vector(bt, seed + 2, 0, 1);
}

// The gradient flows to cas through cas_top with the selection fixed (the indices are piecewise constant).
// softmax_only: flow = rgb = nullptr, combined = softmax_c(cas) (SAL's background top-k on softmax(cas_bg)); the
// curves stay in the inputs so that both kinds share the generator, unused.
OpCase topk_mil_case(const Shape& s, bool grad_shape, bool softmax_only = false) {
  OpCase c;
  c.op = "topk_mil";
  c.params = params_of(s) + (softmax_only ? " softmax-only" : "");
  c.checks = grad_shape ? kGradCheck | kCuda | kPerf : kCuda | kPerf;
  const std::size_t bt = std::size_t(s.B) * s.T;
  c.inputs = {float_in("cas", bt * s.C), float_in("flow", bt, false), float_in("rgb", bt, false)};
  c.outputs = {float_out("cas_top", std::size_t(s.B) * s.C, {Cmp::custom}),
               int_out("topk_idx", std::size_t(s.B) * s.k * s.C, {Cmp::custom}),
               float_out("combined", bt * s.C, {Cmp::abs, kCombinedTol}, false)};
  c.make_inputs = [s, grad_shape](Values<double>& in) {
    grad_shape ? topk_inputs(s, 2, 21, in) : topk_inputs(s, 4, 1 + unsigned(s.T), in);
  };
  const int B = s.B, T = s.T, C = s.C, k = s.k;
  c.set_cpu_forward([=](const auto& a) {
    aicl::topk_mil_forward(a.out[0], a.out_int[1], a.out[2], a.in[0], softmax_only ? nullptr : a.in[1],
                           softmax_only ? nullptr : a.in[2], B, T, C, k);
  });
  c.set_cpu_backward([=](const auto& a) { aicl::topk_mil_backward(a.din[0], a.dout[0], a.out_int[1], B, T, C, k); });
  c.grad.prefill = 0.5;
  c.grad.proj_seed = 24;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::topk_mil_forward_cuda(a.out[0], a.out_int[1], a.out[2], a.in[0], softmax_only ? nullptr : a.in[1],
                                softmax_only ? nullptr : a.in[2], B, T, C, k, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::topk_mil_backward_cuda(a.din[0], a.dout[0], a.out_int[1], B, T, C, k, stream_of(a));
  };
#endif
  c.cuda_compare = [s](const CudaCompare& cc, Report& rep) { compare_topk(s, cc, rep); };
  c.cuda_grad = {Cmp::bits};  // a scatter of dcas_top / k at distinct indices: the CPU's bits
  c.cuda_prefill = 1.0;
  c.cuda_deterministic_forward = true;
  return c;
}

// Device shapes: T < 8 (the official k = T//8 is 0, any 1 <= k <= T is legal), odd T, C = 1, B = 1, k = T,
// the training shape.
const Shape kDeviceShapes[] = {{1, 1, 1, 1}, {2, 5, 3, 2}, {1, 13, 20, 1}, {3, 41, 20, 5},
                               {2, 33, 1, 4}, {1, 64, 7, 64}, {16, 750, 20, 93}};

std::vector<OpCase> topk_mil_cases() {
  std::vector<OpCase> cs;
  for (const Shape& s : {Shape{2, 33, 20, 4}, Shape{1, 8, 20, 1}, Shape{1, 7, 20, 7}}) cs.push_back(topk_mil_case(s, true));
  for (const Shape& s : kDeviceShapes) cs.push_back(topk_mil_case(s, false));
  // SAL's background top-k: softmax(cas_bg) alone, at the gradient-check shape, T < 8 and the training shape.
  cs.push_back(topk_mil_case(Shape{2, 33, 20, 4}, true, true));
  for (const Shape& s : {Shape{1, 7, 20, 7}, Shape{2, 750, 20, 93}, Shape{16, 750, 20, 93}})
    cs.push_back(topk_mil_case(s, false, true));
  return cs;
}

// The weighted selection (SAL-ActivityNet): raw = the training MIL top-k on the raw cas (streams unused),
// otherwise 0.6 softmax + 0.2 rgb + 0.2 flow (inference).
OpCase topk_mil_weighted_case(const Shape& s, bool grad_shape, bool raw) {
  OpCase c = topk_mil_case(s, grad_shape);
  c.op = "topk_mil_weighted";
  c.params = params_of(s) + (raw ? " raw" : " 0.6/0.2/0.2");
  const aicl::MilSelection sel = raw ? aicl::MilSelection{false, 1, 0, 0} : aicl::MilSelection{true, 0.6, 0.2, 0.2};
  const int B = s.B, T = s.T, C = s.C, k = s.k;
  c.set_cpu_forward([=](const auto& a) {
    aicl::topk_mil_weighted_forward(a.out[0], a.out_int[1], a.out[2], a.in[0], raw ? nullptr : a.in[1],
                                    raw ? nullptr : a.in[2], sel, B, T, C, k);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::topk_mil_weighted_forward_cuda(a.out[0], a.out_int[1], a.out[2], a.in[0], raw ? nullptr : a.in[1],
                                         raw ? nullptr : a.in[2], sel, B, T, C, k, stream_of(a));
  };
#endif
  return c;
}

std::vector<OpCase> topk_mil_weighted_cases() {
  std::vector<OpCase> cs;
  for (bool raw : {true, false}) {
    for (const Shape& s : {Shape{2, 33, 20, 8}, Shape{1, 7, 20, 1}}) cs.push_back(topk_mil_weighted_case(s, true, raw));
    for (const Shape& s : {Shape{1, 2, 3, 1}, Shape{3, 41, 20, 10}, Shape{32, 50, 200, 12}})
      cs.push_back(topk_mil_weighted_case(s, false, raw));
  }
  return cs;
}

// Pseudo label from the top-k indices of a real forward; labels 1 with probability 1/3. Exact on the device.
OpCase pseudo_label_case(const Shape& s) {
  OpCase c;
  c.op = "pseudo_label";
  c.params = params_of(s);
  c.checks = kCuda | kPerf;  // no gradient
  const std::size_t bt = std::size_t(s.B) * s.T;
  c.inputs = {int_in("topk_idx", std::size_t(s.B) * s.k * s.C), float_in("labels", std::size_t(s.B) * s.C, false)};
  c.outputs = {float_out("y", bt, {Cmp::bits}, false)};
  const int B = s.B, T = s.T, C = s.C, k = s.k;
  c.make_inputs = [=](Values<double>& in) {
    Values<double> src{{{}, {}, {}}, {}};
    topk_inputs(s, 4, 41 + unsigned(T), src);
    std::vector<double> top(std::size_t(B) * C), comb(bt * C);
    aicl::topk_mil_forward(top.data(), in.i[0].data(), comb.data(), src.f[0].data(), src.f[1].data(), src.f[2].data(),
                           B, T, C, k);
    const std::vector<double> u = random_vector(std::size_t(B) * C, 45 + unsigned(T), 0, 1);
    for (std::size_t i = 0; i < u.size(); ++i) in.f[1][i] = u[i] < 1.0 / 3 ? 1.0 : 0.0;
  };
  c.set_cpu_forward([=](const auto& a) { aicl::pseudo_label_forward(a.out[0], a.in_int[0], a.in[1], B, T, C, k); });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::pseudo_label_forward_cuda(a.out[0], a.in_int[0], a.in[1], B, T, C, k, stream_of(a));
  };
#endif
  return c;
}

std::vector<OpCase> pseudo_label_cases() {
  std::vector<OpCase> cs;
  for (const Shape& s : kDeviceShapes) cs.push_back(pseudo_label_case(s));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(topk_mil_cases);
AICL_REGISTER_OP(pseudo_label_cases);
AICL_REGISTER_OP(topk_mil_weighted_cases);

}  // namespace aicl_test::ops
