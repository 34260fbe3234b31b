// Microbenchmarks of AICL's pooling, loss and selection ops at the paper's training shape (B=16, T=750, C=20, D=512).
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/ce_loss.h"
#include "kernels/gce_loss.h"
#include "kernels/infonce.h"
#include "kernels/mse_loss.h"
#include "kernels/snippet_select.h"
#include "kernels/topk_mil.h"
#include "bench/bench_inputs.h"

namespace {

constexpr int B = 16, T = 750, C = 20, D = 512, K = T / 8, KS = T / 20;

using aicl_bench::uniform;

struct Inputs {
  std::vector<float> cas = uniform(static_cast<size_t>(B) * T * C, -3, 3, 1);
  std::vector<float> flow = uniform(B * T, 0, 1, 2), rgb = uniform(B * T, 0, 1, 3);
  std::vector<float> a1 = uniform(B * T, 0, 1, 4), a2 = uniform(B * T, 0, 1, 5);
  std::vector<float> emb = uniform(static_cast<size_t>(B) * T * D, 0, 1, 6);
  std::vector<float> labels = std::vector<float>(B * C, 0);
  std::vector<float> cas_top = std::vector<float>(B * C), combined = std::vector<float>(cas.size());
  std::vector<int> topk = std::vector<int>(B * K * C);
  std::vector<int> idx[4];
  Inputs() {
    for (int b = 0; b < B; ++b) labels[b * C + b % C] = 1;
    for (auto& i : idx) i.resize(B * KS);
    aicl::snippet_select_forward(idx[0].data(), idx[1].data(), idx[2].data(), idx[3].data(), a1.data(), a2.data(), B,
                                 T, KS);
    aicl::topk_mil_forward(cas_top.data(), topk.data(), combined.data(), cas.data(), flow.data(), rgb.data(), B, T,
                           C, K);
  }
};

Inputs& inputs() {
  static Inputs in;
  return in;
}

void BM_topk_mil_forward(benchmark::State& st) {
  auto& in = inputs();
  for (auto _ : st)
    aicl::topk_mil_forward(in.cas_top.data(), in.topk.data(), in.combined.data(), in.cas.data(), in.flow.data(),
                           in.rgb.data(), B, T, C, K);
}
void BM_topk_mil_backward(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> dcas(in.cas.size(), 0);
  for (auto _ : st) aicl::topk_mil_backward(dcas.data(), in.cas_top.data(), in.topk.data(), B, T, C, K);
}
void BM_pseudo_label(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> y(B * T);
  for (auto _ : st) aicl::pseudo_label_forward(y.data(), in.topk.data(), in.labels.data(), B, T, C, K);
}
void BM_video_ce_fwd_bwd(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> g(B * C, 0);
  for (auto _ : st) {
    benchmark::DoNotOptimize(aicl::video_ce_forward(in.cas_top.data(), in.labels.data(), B, C));
    aicl::video_ce_backward(g.data(), 1.0f, in.cas_top.data(), in.labels.data(), B, C);
  }
}
void BM_gce_fwd_bwd(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> g(B * T, 0), y(B * T);
  for (int i = 0; i < B * T; ++i) y[i] = i % 7 == 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(aicl::gce_forward(in.flow.data(), y.data(), B, T, 0.7));
    aicl::gce_backward(g.data(), 1.0f, in.flow.data(), y.data(), B, T, 0.7);
  }
}
void BM_mse_fwd_bwd(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> ga(B * T, 0), gb(B * T, 0);
  for (auto _ : st) {
    benchmark::DoNotOptimize(aicl::mse_forward(in.flow.data(), in.rgb.data(), B * T));
    aicl::mse_backward(ga.data(), gb.data(), 1.0f, in.flow.data(), in.rgb.data(), B * T);
  }
}
void BM_snippet_select(benchmark::State& st) {
  auto& in = inputs();
  for (auto _ : st)
    aicl::snippet_select_forward(in.idx[0].data(), in.idx[1].data(), in.idx[2].data(), in.idx[3].data(), in.a1.data(),
                                 in.a2.data(), B, T, KS);
}
void BM_infonce_forward(benchmark::State& st) {
  auto& in = inputs();
  for (auto _ : st)
    benchmark::DoNotOptimize(aicl::infonce_forward(in.emb.data(), in.idx[0].data(), in.idx[1].data(),
                                                   in.idx[2].data(), in.idx[3].data(), B, T, D, KS, 0.1));
}
void BM_infonce_backward(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> g(in.emb.size(), 0);
  for (auto _ : st)
    aicl::infonce_backward(g.data(), 1.0f, in.emb.data(), in.idx[0].data(), in.idx[1].data(), in.idx[2].data(),
                           in.idx[3].data(), B, T, D, KS, 0.1);
}

}  // namespace

BENCHMARK(BM_topk_mil_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_topk_mil_backward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_pseudo_label)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_video_ce_fwd_bwd)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gce_fwd_bwd)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mse_fwd_bwd)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_snippet_select)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_infonce_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_infonce_backward)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
