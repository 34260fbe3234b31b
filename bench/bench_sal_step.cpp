// Benchmark of SAL on the CPU: the whole training step as aicl_train runs it (TrainBackend: gather, forward,
// backward, checks, Adam over 145.8 M parameters), and its memory- and compute-bound parts (the fc1 Adam update,
// the Gram matrices) beside the machine's measured peaks (a streaming triad and a square sgemm) in the same run.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/base/rng.h"
#include "core/methods/sal/sal.h"
#include "core/runtime/backend.h"
#include "core/runtime/sampling.h"
#include "kernels/adam.h"
#include "kernels/bilinear_pool.h"
#include "kernels/gemm.h"

namespace {

// A THUMOS14-like feature table: 40 videos of 300..1500 segments of 2048 non-negative values.
struct Table {
  std::vector<float> rows;
  std::vector<int> length;
  std::vector<size_t> offset;
  explicit Table(int videos) : length(videos), offset(videos) {
    aicl::Rng rng(11);
    size_t total = 0;
    for (int i = 0; i < videos; ++i) {
      length[i] = 300 + static_cast<int>(rng.below(1200));
      offset[i] = total;
      total += static_cast<size_t>(length[i]);
    }
    rows.resize(total * 2048);
    for (auto& e : rows) e = static_cast<float>(rng.uniform() * rng.uniform() * 2.0);
  }
};

void BM_SalTrainStep(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), T = static_cast<int>(state.range(1)), C = 20;
  static const Table table(40);
  aicl::SalMethod method{aicl::SalConfig()};
  aicl::ParameterSet params = method.layout();
  method.init_params(params, 1);
  std::vector<float> m(params.size(), 0.0f), v(params.size(), 0.0f);
  aicl::TrainBackendSetup setup;
  setup.max_batch = B;
  setup.segments = T;
  setup.num_classes = C;
  setup.feature_rows = table.rows.data();
  setup.num_rows = table.rows.size() / 2048;
  setup.feature_dim = 2048;
  setup.seed = 1;
  aicl::TrainBackend backend(aicl::cpu_ops(), method, params, m, v, setup);
  aicl::Rng rng(5);
  std::vector<size_t> rows(static_cast<size_t>(B) * T);
  std::vector<float> labels(static_cast<size_t>(B) * C);
  long step = 0;
  double gemm_s = 0;
  for (auto _ : state) {
    ++step;
    labels.assign(labels.size(), 0.0f);
    for (int b = 0; b < B; ++b) {
      const size_t vi = rng.below(table.length.size());
      const std::vector<int> idx = aicl::random_perturb(table.length[vi], T, rng);
      for (int t = 0; t < T; ++t) rows[static_cast<size_t>(b) * T + t] = table.offset[vi] + static_cast<size_t>(idx[t]);
      labels[static_cast<size_t>(b) * C + vi % C] = 1;
    }
    const double g0 = aicl::gemm_seconds();
    backend.step(rows, labels, B, T, step);
    gemm_s += aicl::gemm_seconds() - g0;
    benchmark::DoNotOptimize(backend.take_losses());
  }
  state.counters["s_per_step"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["gemm_s_per_step"] = gemm_s / static_cast<double>(state.iterations());
}

// Adam over fc1 alone (134.2 M parameters): one pass reading param, grad, m, v and writing param, m, v.
void BM_Fc1Adam(benchmark::State& state) {
  const size_t n = size_t(512) * 512 * 512;
  std::vector<float> p(n, 0.01f), g(n, 0.001f), m(n, 0.0f), v(n, 0.0f);
  long step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(aicl::adam_step(p.data(), g.data(), m.data(), v.data(), n, 1e-4,
                                                                 0.9, 0.999, 1e-8, 5e-4, ++step));
  state.counters["GB_per_s"] = benchmark::Counter(7.0 * 4.0 * n * static_cast<double>(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}

// The machine's bandwidth for Adam's own access pattern: read 4 streams and write 3 of them back in place, 537 MB
// each, with next to no arithmetic. The STREAM-like triad below is the usual yardstick, but it writes a stream it
// does not read (a write-allocate read that its byte count leaves out); this is the ceiling BM_Fc1Adam can reach.
void BM_AdamTrafficPeak(benchmark::State& state) {
  const size_t n = size_t(512) * 512 * 512;
  std::vector<float> p(n, 0.01f), g(n, 0.001f), m(n, 0.0f), v(n, 0.0f);
  for (auto _ : state) {
#pragma omp parallel for
    for (long i = 0; i < long(n); ++i) {
      const float gi = g[i];
      m[i] += gi;
      v[i] -= gi;
      p[i] += gi;
    }
    benchmark::DoNotOptimize(p.data());
  }
  state.counters["GB_per_s"] = benchmark::Counter(7.0 * 4.0 * n * static_cast<double>(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}

// The machine's streaming bandwidth: a[i] = b[i] + s c[i] over 3 x 537 MB (read 2, write 1).
void BM_TriadPeak(benchmark::State& state) {
  const size_t n = size_t(512) * 512 * 512;
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  for (auto _ : state) {
#pragma omp parallel for
    for (long i = 0; i < long(n); ++i) a[i] = b[i] + 0.5f * c[i];
    benchmark::DoNotOptimize(a.data());
  }
  state.counters["GB_per_s"] = benchmark::Counter(3.0 * 4.0 * n * static_cast<double>(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}

// The Gram matrices of one step's three pooled embeddings (B = 2, T = 750, D = 512), forward and backward.
void BM_Gram(benchmark::State& state) {
  const int B = 2, T = 750, D = 512;
  std::vector<float> E(static_cast<size_t>(B) * T * D), G(static_cast<size_t>(B) * D * D), dE(E.size());
  aicl::Rng rng(3);
  for (auto& e : E) e = static_cast<float>(rng.uniform());
  for (auto& g : G) g = static_cast<float>(rng.uniform(-1, 1));
  for (auto _ : state) {
    aicl::gram_forward(G.data(), E.data(), B, T, D);
    aicl::gram_backward(dE.data(), G.data(), E.data(), B, T, D);
    benchmark::DoNotOptimize(dE.data());
  }
  // forward 2·T·D² per video, backward two GEMMs of the same size
  state.counters["GFLOPS"] = benchmark::Counter(3.0 * 2.0 * B * T * double(D) * D *
                                                    static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}

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

BENCHMARK(BM_SalTrainStep)->Args({2, 750})->Args({2, 128})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fc1Adam)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamTrafficPeak)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TriadPeak)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Gram)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SgemmPeak)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
