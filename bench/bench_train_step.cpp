// Benchmark of one whole AICL training step on the CPU exactly as aicl_train runs it (sampling, gather, forward,
// backward, checks, Adam) and of its conv GEMMs alone; the step also reports the time spent inside BLAS, so
// that the share of everything besides the GEMMs is read off the same iterations.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "core/methods/aicl/aicl.h"
#include "core/base/rng.h"
#include "core/runtime/sampling.h"
#include "core/runtime/backend.h"
#include "kernels/adam.h"
#include "kernels/conv1d_k3.h"
#include "kernels/gemm.h"

namespace {

struct StepFixture {
  aicl::AiclModel model;
  std::vector<float> x, labels, m, v;
  aicl::AiclActivations act;
  int B, T;
  StepFixture(int B_, int T_) : B(B_), T(T_) {
    model.params().init_uniform(1);
    aicl::Rng rng(7);
    x.resize(static_cast<size_t>(B) * T * 2048);
    for (auto& e : x) e = static_cast<float>(rng.uniform() * rng.uniform() * 2.0);
    labels.assign(static_cast<size_t>(B) * 20, 0.0f);
    for (int b = 0; b < B; ++b) labels[b * 20 + (b * 7) % 20] = 1;
    m.assign(model.params().size(), 0.0f);
    v.assign(model.params().size(), 0.0f);
  }
};

// FLOPs of the three k=3 convs: forward + weight gradient (the features need no input gradient).
double conv_flops(int B, int T) {
  const double rows = static_cast<double>(B) * T;
  const double fwd = 2.0 * rows * 512 * 3 * (2048 + 1024 + 1024);
  return 2.0 * fwd;
}

// The trainer's step (TrainBackend on the CPU op table, as aicl_train uses it) on a THUMOS14-like feature table: 60 videos
// of 300..1500 segments, random-perturbation sampling to T drawn on the host every step, Adam.
void BM_TrainStep(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), T = static_cast<int>(state.range(1)), F = 2048, C = 20;
  StepFixture f(B, T);
  aicl::Rng rng(11);
  std::vector<int> length(60);
  std::vector<size_t> offset(60);
  size_t total = 0;
  for (size_t i = 0; i < length.size(); ++i) {
    length[i] = 300 + static_cast<int>(rng.below(1200));
    offset[i] = total;
    total += static_cast<size_t>(length[i]);
  }
  std::vector<float> table(total * F);
  for (auto& e : table) e = static_cast<float>(rng.uniform() * rng.uniform() * 2.0);
  aicl::TrainBackendSetup setup;
  setup.max_batch = B;
  setup.segments = T;
  setup.num_classes = C;
  setup.feature_rows = table.data();
  setup.num_rows = total;
  setup.feature_dim = F;
  aicl::AiclMethod method(f.model.config());
  auto backend = std::make_unique<aicl::TrainBackend>(aicl::cpu_ops(), method, f.model.params(), f.m, f.v, setup);
  std::vector<size_t> rows(static_cast<size_t>(B) * T);
  std::vector<float> labels(static_cast<size_t>(B) * C);
  long step = 0;
  double gemm_s = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    ++step;
    labels.assign(labels.size(), 0.0f);
    for (int b = 0; b < B; ++b) {
      const size_t vi = rng.below(length.size());
      const std::vector<int> idx = aicl::random_perturb(length[vi], T, rng);
      for (int t = 0; t < T; ++t) rows[static_cast<size_t>(b) * T + t] = offset[vi] + static_cast<size_t>(idx[t]);
      labels[static_cast<size_t>(b) * C + vi % C] = 1;
    }
    const double g0 = aicl::gemm_seconds();
    backend->step(rows, labels, B, T, step);
    gemm_s += aicl::gemm_seconds() - g0;
    benchmark::DoNotOptimize(backend->take_losses());
  }
  const double loop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.counters["s_per_step"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // Seconds per step inside BLAS (all GEMMs: the k=3 convs and the 1x1 heads); the rest of s_per_step is
  // sampling, gather, elementwise passes, losses, selection, checks and Adam.
  state.counters["gemm_s_per_step"] = gemm_s / static_cast<double>(state.iterations());
  state.counters["non_gemm_share"] = 1.0 - gemm_s / loop_s;
  state.counters["conv_GFLOP"] = conv_flops(B, T) / 1e9;
}

// The three k=3 convs alone, forward + weight-gradient backward, exactly as the step calls them.
void BM_ConvsOnly(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), T = static_cast<int>(state.range(1));
  StepFixture f(B, T);
  auto& p = f.model.params();
  const size_t n = static_cast<size_t>(B) * T * 512;
  std::vector<float> e0(n), e1(n), e2(n), d(n);
  aicl::Rng rng(3);
  std::vector<float> dsrc(n);
  for (auto& e : dsrc) e = static_cast<float>(rng.uniform(-1, 1));
  for (auto _ : state) {
    aicl::conv1d_k3_forward(e0.data(), f.x.data(), 2048, p.value(aicl::kBaseW), p.value(aicl::kBaseB), B, T, 2048, 512, 3, true);
    aicl::conv1d_k3_forward(e1.data(), f.x.data(), 2048, p.value(aicl::kRgbW), p.value(aicl::kRgbB), B, T, 1024, 512, 3, true);
    aicl::conv1d_k3_forward(e2.data(), f.x.data() + 1024, 2048, p.value(aicl::kFlowW), p.value(aicl::kFlowB), B, T, 1024,
                            512, 3, true);
    d = dsrc;
    aicl::conv1d_k3_backward(p.grad(aicl::kBaseW), p.grad(aicl::kBaseB), static_cast<float*>(nullptr), 0, d.data(), e0.data(),
                             f.x.data(), 2048, p.value(aicl::kBaseW), B, T, 2048, 512, 3, true);
    d = dsrc;
    aicl::conv1d_k3_backward(p.grad(aicl::kRgbW), p.grad(aicl::kRgbB), static_cast<float*>(nullptr), 0, d.data(), e1.data(),
                             f.x.data(), 2048, p.value(aicl::kRgbW), B, T, 1024, 512, 3, true);
    d = dsrc;
    aicl::conv1d_k3_backward(p.grad(aicl::kFlowW), p.grad(aicl::kFlowB), static_cast<float*>(nullptr), 0, d.data(),
                             e2.data(), f.x.data() + 1024, 2048, p.value(aicl::kFlowW), B, T, 1024, 512, 3, true);
  }
  state.counters["GFLOPS"] = benchmark::Counter(conv_flops(B, T) * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}

// A plain square sgemm: the machine's GEMM peak in the same run.
void BM_SgemmPeak(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<float> a(static_cast<size_t>(n) * n, 0.5f), b(a), c(a.size());
  for (auto _ : state) {
    aicl::gemm<float>(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SgemmPeak)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ConvsOnly)->Args({16, 128})->Args({16, 750})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TrainStep)->Args({16, 128})->Args({16, 750})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
