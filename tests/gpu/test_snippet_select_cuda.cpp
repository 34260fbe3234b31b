// GPU tests of the snippet selection's documented stable tie order, the even-T median and bad k. (Tie-free random
// inputs vs the CPU op: the op harness, tests/ops/op_snippet_select.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/snippet_select.h"

using aicl_test::random_floats;

namespace {

struct Shape {
  int B, Tn, k;
};

// The four score curves of one video, computed on the host exactly as both ops do (float, numpy median).
std::vector<std::vector<float>> scores_of(const float* x1, const float* x2, int Tn) {
  const float med1 = aicl::numpy_median(x1, Tn), med2 = aicl::numpy_median(x2, Tn);
  const float mx = *std::max_element(x1, x1 + Tn);
  std::vector<std::vector<float>> s(4, std::vector<float>(Tn));
  for (int t = 0; t < Tn; ++t) {
    const bool b1 = x1[t] > med1, b2 = x2[t] > med2;
    const float rev = mx - x1[t];
    s[0][t] = x1[t] * ((b1 && b2) ? 1.f : 0.f);
    s[1][t] = rev * ((!b1 && !b2) ? 1.f : 0.f);
    s[2][t] = x1[t] * ((b1 != b2) ? 1.f : 0.f);
    s[3][t] = rev * ((b1 != b2) ? 1.f : 0.f);
  }
  return s;
}

struct Selection {
  std::vector<int> idx[4];
};

Selection run_cpu(const std::vector<float>& a1, const std::vector<float>& a2, const Shape& s) {
  Selection r;
  for (auto& v : r.idx) v.resize(static_cast<size_t>(s.B) * s.k);
  aicl::snippet_select_forward(r.idx[0].data(), r.idx[1].data(), r.idx[2].data(), r.idx[3].data(), a1.data(),
                               a2.data(), s.B, s.Tn, s.k);
  return r;
}

Selection run_gpu(const std::vector<float>& a1, const std::vector<float>& a2, const Shape& s, cudaStream_t stream) {
  auto d1 = aicl_test::to_device(a1, stream);
  auto d2 = aicl_test::to_device(a2, stream);
  aicl::DeviceBuffer<int> out[4] = {aicl::DeviceBuffer<int>(static_cast<size_t>(s.B) * s.k),
                                    aicl::DeviceBuffer<int>(static_cast<size_t>(s.B) * s.k),
                                    aicl::DeviceBuffer<int>(static_cast<size_t>(s.B) * s.k),
                                    aicl::DeviceBuffer<int>(static_cast<size_t>(s.B) * s.k)};
  aicl::snippet_select_forward_cuda(out[0].data(), out[1].data(), out[2].data(), out[3].data(), d1.data(), d2.data(),
                                    s.B, s.Tn, s.k, stream);
  Selection r;
  for (int g = 0; g < 4; ++g) r.idx[g] = out[g].to_host(stream);
  return r;
}

// The stable descending order of v (ties by ascending index): what the GPU op documents.
std::vector<int> stable_desc_order(const std::vector<float>& v) {
  std::vector<int> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return v[x] > v[y]; });
  return order;
}

}  // namespace

TEST_CASE("snippet_select cuda: ties (small masks, k = T) follow the stable order and pick the CPU's scores", "[gpu][snippet_select]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  // Values from a coarse grid: many equal actionness values and zero-score fills beyond the masks.
  for (const Shape& s : {Shape{3, 41, 41}, Shape{2, 64, 10}, Shape{4, 21, 21}, Shape{1, 128, 30}}) {
    INFO("B=" << s.B << " T=" << s.Tn << " k=" << s.k);
    std::vector<float> a1(static_cast<size_t>(s.B) * s.Tn), a2(a1.size());
    std::mt19937 rng(500 + s.Tn);
    for (auto& v : a1) v = 0.125f * static_cast<float>(rng() % 8);
    for (auto& v : a2) v = 0.25f * static_cast<float>(rng() % 4);
    const Selection cpu = run_cpu(a1, a2, s), gpu = run_gpu(a1, a2, s, stream);
    for (int b = 0; b < s.B; ++b) {
      const auto sc = scores_of(a1.data() + static_cast<size_t>(b) * s.Tn, a2.data() + static_cast<size_t>(b) * s.Tn,
                                s.Tn);
      for (int g = 0; g < 4; ++g) {
        INFO("video " << b << " group " << g);
        const auto order = stable_desc_order(sc[g]);
        for (int j = 0; j < s.k; ++j) {
          const int got = gpu.idx[g][static_cast<size_t>(b) * s.k + j];
          const int want = cpu.idx[g][static_cast<size_t>(b) * s.k + j];
          REQUIRE(got == order[j]);
          REQUIRE(sc[g][got] == sc[g][want]);
        }
      }
    }
  }
}

TEST_CASE("snippet_select cuda: even-T median averages the two middle values, and k outside [1, T] throws", "[gpu][snippet_select]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  // T = 4, a1 = {0.1, 0.4, 0.2, 0.3}: median (0.2 + 0.3) / 2 = 0.25, so bin1 = {0, 1, 0, 1}; a2 has the same bins.
  // CA picks 1 then 3 (scores 0.4, 0.3); CB (bins both 0) picks 0 (max - 0.1) then 2.
  const std::vector<float> a1 = {0.1f, 0.4f, 0.2f, 0.3f}, a2 = {0.0f, 0.9f, 0.1f, 0.8f};
  const Shape s{1, 4, 2};
  const Selection gpu = run_gpu(a1, a2, s, stream), cpu = run_cpu(a1, a2, s);
  REQUIRE(gpu.idx[0] == std::vector<int>{1, 3});
  REQUIRE(gpu.idx[1] == std::vector<int>{0, 2});
  for (int g = 0; g < 4; ++g) {
    // IA / IB are empty masks (all zero scores): the GPU fills them with the lowest indices, in order.
    if (g >= 2) REQUIRE(gpu.idx[g] == std::vector<int>{0, 1});
    else REQUIRE(gpu.idx[g] == cpu.idx[g]);
  }
  aicl::DeviceBuffer<int> di(8);
  aicl::DeviceBuffer<float> df(8);
  REQUIRE_THROWS_AS(aicl::snippet_select_forward_cuda(di.data(), di.data(), di.data(), di.data(), df.data(), df.data(),
                                                      1, 4, 0, stream),
                    aicl::Error);
  REQUIRE_THROWS_AS(aicl::snippet_select_forward_cuda(di.data(), di.data(), di.data(), di.data(), df.data(), df.data(),
                                                      1, 4, 5, stream),
                    aicl::Error);
}

TEST_CASE("snippet_select cuda: T where dynamic + static shared memory crosses 48 KiB launches and matches the CPU",
          "[gpu][snippet_select]") {
  // T floats of dynamic shared memory: 12288 of them are exactly 48 KiB, and the kernel's static arrays made
  // 12279 <= T <= 12288 fail to launch while the opt-in looked at the dynamic part only (issue 14 item 5).
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  for (const int Tn : {12270, 12279, 12284, 12288, 12289}) {
    const Shape s{2, Tn, Tn / 20};
    INFO("T=" << Tn << " k=" << s.k);
    const auto a1 = random_floats(static_cast<size_t>(s.B) * Tn, 700 + Tn, 0.f, 1.f);
    const auto a2 = random_floats(a1.size(), 800 + Tn, 0.f, 1.f);
    const Selection cpu = run_cpu(a1, a2, s), gpu = run_gpu(a1, a2, s, stream);
    for (int b = 0; b < s.B; ++b) {
      const auto sc = scores_of(a1.data() + static_cast<size_t>(b) * Tn, a2.data() + static_cast<size_t>(b) * Tn, Tn);
      for (int g = 0; g < 4; ++g)
        for (int j = 0; j < s.k; ++j) {
          const size_t at = static_cast<size_t>(b) * s.k + j;
          REQUIRE(sc[g][gpu.idx[g][at]] == sc[g][cpu.idx[g][at]]);  // the same scores in the same order
        }
    }
  }
}
