// Op cases of kernels/topk_mask: SAL's per-video top-k mask (overwrite / intersect) and the relu row sum (no gradient).
#include <algorithm>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/topk_mask.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "kernels/cuda_common.h"
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct MaskShape {
  int B, T, k;
  bool intersect, ties;
};

// The selected scores of row b, sorted: on ties both devices pick k equal-valued sets, perhaps other indices.
std::vector<float> selected_values(const MaskShape& s, const std::vector<float>& score, const std::vector<float>& m,
                                   int b) {
  std::vector<float> v;
  for (int t = 0; t < s.T; ++t)
    if (m[std::size_t(b) * s.T + t] == 1.f) v.push_back(score[std::size_t(b) * s.T + t]);
  std::sort(v.begin(), v.end());
  return v;
}

// Tie-heavy rows (CUDA's ascending-index tie rule is not torch CPU's): every entry 0 or 1, k ones per row, the
// same multiset of selected scores as the CPU.
void compare_tied_masks(const MaskShape& s, const CudaCompare& cc, Report& rep) {
  const std::vector<float>&gpu = cc.gpu.f[0], &cpu = cc.cpu.f[0];
  for (float v : gpu) rep.check(v == 0.f || v == 1.f, "mask value other than 0 or 1");
  for (int b = 0; b < s.B; ++b) {
    const auto g = selected_values(s, cc.in.f[0], gpu, b), c = selected_values(s, cc.in.f[0], cpu, b);
    rep.check(int(g.size()) == s.k, "b=" + std::to_string(b) + ": " + std::to_string(g.size()) + " ones, k=" +
                                        std::to_string(s.k));
    rep.check(g == c, "b=" + std::to_string(b) + ": the selected scores differ from the CPU's");
  }
}

// score: uniform in [0, 1) (tie-free) or 4 levels (ties everywhere); prior mask: 0/1 with probability 1/2.
OpCase topk_mask_case(const MaskShape& s) {
  OpCase c;
  c.op = "topk_mask";
  c.params = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " k=" + std::to_string(s.k) +
             (s.intersect ? " intersect" : "") + (s.ties ? " ties" : "");
  c.checks = kCuda | kPerf;  // no gradient; CPU values and torch's tie set: tests/cpu/test_topk_mask.cpp
  const std::size_t n = std::size_t(s.B) * s.T;
  c.inputs = {float_in("score", n, false), float_in("prior", n, false)};
  c.outputs = {float_out("mask", n, s.ties ? Tol{Cmp::custom} : Tol{Cmp::bits}, false)};
  c.make_inputs = [s, n](Values<double>& in) {
    in.f[0] = random_vector(n, 31 + unsigned(s.T), 0, 1);
    if (s.ties)
      for (double& v : in.f[0]) v = double(int(v * 4)) / 4;
    in.f[1] = random_vector(n, 37, 0, 1);
    for (double& v : in.f[1]) v = v < 0.5 ? 0.0 : 1.0;
  };
  // The prior mask is copied into the output first: intersect reads it there (overwrite ignores it).
  c.set_cpu_forward([s, n](const auto& a) {
    std::copy(a.in[1], a.in[1] + n, a.out[0]);
    aicl::topk_mask_forward(a.out[0], a.in[0], s.B, s.T, s.k, s.intersect);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [s, n](const Args<float>& a) {
    AICL_CUDA_CHECK(cudaMemcpyAsync(a.out[0], a.in[1], n * sizeof(float), cudaMemcpyDeviceToDevice, stream_of(a)));
    aicl::topk_mask_forward_cuda(a.out[0], a.in[0], s.B, s.T, s.k, s.intersect, stream_of(a));
  };
#endif
  if (s.ties) c.cuda_compare = [s](const CudaCompare& cc, Report& rep) { compare_tied_masks(s, cc, rep); };
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> topk_mask_cases() {
  // SAL THUMOS (T = 750): actionness top-110, then AND with the confidence top-375; ActivityNet's top-40 of 50;
  // k = T; B = 16; a row past 12288 floats of shared memory (opt-in); tie-heavy rows.
  const MaskShape shapes[] = {{2, 750, 110, false, false}, {2, 750, 375, true, false}, {3, 50, 40, true, false},
                              {1, 1, 1, false, false},     {1, 9, 9, true, false},      {16, 750, 93, false, false},
                              {1, 13000, 7, false, false}, {4, 200, 25, false, true},   {2, 750, 375, false, true}};
  std::vector<OpCase> cs;
  for (const MaskShape& s : shapes) cs.push_back(topk_mask_case(s));
  return cs;
}

// SAL's confidence sum_c relu(cas): sequential float sums on both devices, bit for bit.
OpCase relu_row_sum_case(int N, int C) {
  OpCase c;
  c.op = "relu_row_sum";
  c.params = "N=" + std::to_string(N) + " C=" + std::to_string(C);
  c.checks = kCuda | kPerf;  // no gradient (it only feeds a top-k)
  const std::size_t total = std::size_t(N) * C;
  c.inputs = {float_in("cas", total, false)};
  c.outputs = {float_out("conf", std::size_t(N), {Cmp::bits}, false)};
  c.make_inputs = [total, N](Values<double>& in) { in.f[0] = random_vector(total, 43 + unsigned(N), -3, 3); };
  c.set_cpu_forward([N, C](const auto& a) { aicl::relu_row_sum_forward(a.out[0], a.in[0], N, C); });
#if AICL_HAVE_CUDA
  c.forward_cuda = [N, C](const Args<float>& a) {
    aicl::relu_row_sum_forward_cuda(a.out[0], a.in[0], N, C, stream_of(a));
  };
#endif
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> relu_row_sum_cases() {
  return {relu_row_sum_case(1500, 20), relu_row_sum_case(1, 1), relu_row_sum_case(1600, 200),
          relu_row_sum_case(12000, 20)};
}

}  // namespace

AICL_REGISTER_OP(topk_mask_cases);
AICL_REGISTER_OP(relu_row_sum_cases);

}  // namespace aicl_test::ops
