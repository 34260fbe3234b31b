// GPU tests of top-k MIL pooling beyond random-input parity: bit-exactness where the softmax is exact, the stable tie
// order, determinism, bad k. (Random inputs, backward and pseudo label vs the CPU: tests/ops/op_topk_mil.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/topk_mil.h"

using aicl_test::random_floats;

namespace {

struct Shape {
  int B, Tn, C, k;
};

// The CPU op's outputs for one input.
struct CpuResult {
  std::vector<float> cas_top, combined;
  std::vector<int> idx;
};

CpuResult run_cpu(const std::vector<float>& cas, const std::vector<float>& flow, const std::vector<float>& rgb,
                  const Shape& s) {
  CpuResult r;
  r.cas_top.resize(static_cast<size_t>(s.B) * s.C);
  r.combined.resize(cas.size());
  r.idx.resize(static_cast<size_t>(s.B) * s.k * s.C);
  aicl::topk_mil_forward(r.cas_top.data(), r.idx.data(), r.combined.data(), cas.data(), flow.data(), rgb.data(),
                         s.B, s.Tn, s.C, s.k);
  return r;
}

struct GpuResult {
  std::vector<float> cas_top, combined;
  std::vector<int> idx;
};

GpuResult run_gpu(const std::vector<float>& cas, const std::vector<float>& flow, const std::vector<float>& rgb,
                  const Shape& s, cudaStream_t stream) {
  auto d_cas = aicl_test::to_device(cas, stream);
  auto d_flow = aicl_test::to_device(flow, stream);
  auto d_rgb = aicl_test::to_device(rgb, stream);
  aicl::DeviceBuffer<float> d_top(static_cast<size_t>(s.B) * s.C), d_comb(cas.size());
  aicl::DeviceBuffer<int> d_idx(static_cast<size_t>(s.B) * s.k * s.C);
  aicl::topk_mil_forward_cuda(d_top.data(), d_idx.data(), d_comb.data(), d_cas.data(), d_flow.data(), d_rgb.data(),
                              s.B, s.Tn, s.C, s.k, stream);
  return GpuResult{d_top.to_host(stream), d_comb.to_host(stream), d_idx.to_host(stream)};
}

// Column (b, c) of a [B,Tn,C] array.
std::vector<float> column(const std::vector<float>& a, const Shape& s, int b, int c) {
  std::vector<float> col(s.Tn);
  for (int t = 0; t < s.Tn; ++t) col[t] = a[(static_cast<size_t>(b) * s.Tn + t) * s.C + c];
  return col;
}

// cas_top recomputed on the host from given indices in the GPU's (and CPU's) order: sum in rank order, then / k.
float mean_at(const std::vector<float>& cas, const std::vector<int>& idx, const Shape& s, int b, int c) {
  float acc = 0.f;
  for (int j = 0; j < s.k; ++j) acc += cas[(static_cast<size_t>(b) * s.Tn + idx[(static_cast<size_t>(b) * s.k + j) * s.C + c]) * s.C + c];
  return acc / static_cast<float>(s.k);
}

}  // namespace

TEST_CASE("topk_mil cuda: bit-exact with the CPU where the softmax is exact (C = 1, tie-free)", "[gpu][topk_mil]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  // With one class softmax = exp(0) / exp(0) = 1 exactly on both sides, so combined = (1 + (flow + rgb)) / 3 must
  // agree bit for bit (no contraction, true division by 3), and so must the indices and cas_top.
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{3, 41, 1, 5}, Shape{16, 750, 1, 93}}) {
    INFO("B=" << s.B << " T=" << s.Tn << " k=" << s.k);
    const auto cas = random_floats(static_cast<size_t>(s.B) * s.Tn, 11, -4.f, 4.f);
    auto flow = random_floats(static_cast<size_t>(s.B) * s.Tn, 12, 0.f, 1.f);
    const auto rgb = random_floats(static_cast<size_t>(s.B) * s.Tn, 13, 0.f, 1.f);
    const CpuResult cpu = run_cpu(cas, flow, rgb, s);
    // Require tie-free columns so that the index order is defined the same way on both sides.
    for (int b = 0; b < s.B; ++b) {
      auto col = column(cpu.combined, s, b, 0);
      std::sort(col.begin(), col.end());
      REQUIRE(std::adjacent_find(col.begin(), col.end()) == col.end());
    }
    const GpuResult gpu = run_gpu(cas, flow, rgb, s, stream);
    REQUIRE(aicl_test::count_bit_differences(gpu.combined, cpu.combined) == 0);
    REQUIRE(gpu.idx == cpu.idx);
    REQUIRE(aicl_test::count_bit_differences(gpu.cas_top, cpu.cas_top) == 0);
  }
}

TEST_CASE("topk_mil cuda: ties are broken by ascending time index and select the CPU's values", "[gpu][topk_mil]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  // C = 1 (exact softmax) and flow + rgb drawn from 3 values: every column is full of exact ties.
  const Shape s{4, 37, 1, 20};
  const auto cas = random_floats(static_cast<size_t>(s.B) * s.Tn, 21, -1.f, 1.f);
  std::vector<float> flow(static_cast<size_t>(s.B) * s.Tn), rgb(flow.size(), 0.25f);
  std::mt19937 rng(22);
  for (auto& f : flow) f = 0.125f * static_cast<float>(rng() % 3);
  const CpuResult cpu = run_cpu(cas, flow, rgb, s);
  const GpuResult gpu = run_gpu(cas, flow, rgb, s, stream);
  REQUIRE(aicl_test::count_bit_differences(gpu.combined, cpu.combined) == 0);
  for (int b = 0; b < s.B; ++b) {
    const auto col = column(cpu.combined, s, b, 0);
    // The documented GPU order: stable descending (ties by ascending index).
    std::vector<int> order(s.Tn);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return col[x] > col[y]; });
    std::vector<float> gpu_vals, cpu_vals;
    for (int j = 0; j < s.k; ++j) {
      REQUIRE(gpu.idx[static_cast<size_t>(b) * s.k + j] == order[j]);
      gpu_vals.push_back(col[gpu.idx[static_cast<size_t>(b) * s.k + j]]);
      cpu_vals.push_back(col[cpu.idx[static_cast<size_t>(b) * s.k + j]]);
    }
    REQUIRE(gpu_vals == cpu_vals);  // both descending: the same values in the same order
    REQUIRE(gpu.cas_top[b] == mean_at(cas, gpu.idx, s, b, 0));
  }
}

TEST_CASE("topk_mil cuda: deterministic, and k outside [1, T] is rejected", "[gpu][topk_mil]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const Shape s{16, 750, 20, 93};
  const auto cas = random_floats(static_cast<size_t>(s.B) * s.Tn * s.C, 5, -4.f, 4.f);
  const auto flow = random_floats(static_cast<size_t>(s.B) * s.Tn, 6, 0.f, 1.f);
  const auto rgb = random_floats(static_cast<size_t>(s.B) * s.Tn, 7, 0.f, 1.f);
  const GpuResult a = run_gpu(cas, flow, rgb, s, stream), b = run_gpu(cas, flow, rgb, s, stream);
  REQUIRE(a.idx == b.idx);
  REQUIRE(aicl_test::count_bit_differences(a.cas_top, b.cas_top) == 0);
  REQUIRE(aicl_test::count_bit_differences(a.combined, b.combined) == 0);
  aicl::DeviceBuffer<float> d(16);
  aicl::DeviceBuffer<int> di(16);
  REQUIRE_THROWS_AS(aicl::topk_mil_forward_cuda(d.data(), di.data(), d.data(), d.data(), d.data(), d.data(), 1, 7, 1,
                                                0, stream),
                    aicl::Error);
  REQUIRE_THROWS_AS(aicl::topk_mil_forward_cuda(d.data(), di.data(), d.data(), d.data(), d.data(), d.data(), 1, 7, 1,
                                                8, stream),
                    aicl::Error);
  REQUIRE_THROWS_AS(aicl::topk_mil_backward_cuda(d.data(), d.data(), di.data(), 1, 7, 1, 0, stream), aicl::Error);
}
