// Speed of conv1d_k3 (AICL's embedding convs, ~all training FLOPs) against a plain sgemm of equal FLOPs.
//
// Run: build/bin/bench_conv [--benchmark_filter=...]   (AICL_THREADS=n overrides the default of 2 threads)
// Each conv benchmark reports GFLOPS (2*B*T*Cout*3*Cin per call) and vs_sgemm, its ratio to the GFLOPS of the
// sgemm with M = B*T, N = Cout, K = 3*Cin measured earlier in the same run (the sgemm benchmarks run first).
// BM_Conv3InterleavedWithSgemm alternates the sgemm and both strategies' forward / weight-backward calls in one
// loop (ratios robust to background load on a shared machine):
//   build/bin/bench_conv --benchmark_filter=Interleaved --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/conv1d_k3.h"
#include "kernels/gemm.h"

namespace {

constexpr int kBatch = 16, kCout = 512, kRowStride = 2048;  // the model's input rows are 2048 wide

using Strategy = aicl::detail::Conv3Strategy;

std::map<std::pair<int, int>, double>& sgemm_peak() {  // (Cin, T) -> GFLOPS
  static std::map<std::pair<int, int>, double> peak;
  return peak;
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

double conv_flops(int Cin, int T) { return 2.0 * kBatch * T * double(kCout) * 3.0 * Cin; }

// Wall-clock GFLOPS of the timed loop (measured here so that later benchmarks can divide by the sgemm peak).
struct WallTimer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

double report(benchmark::State& state, int Cin, int T, const WallTimer& timer, bool is_sgemm = false) {
  const double gflops = conv_flops(Cin, T) * double(state.iterations()) * 1e-9 / timer.seconds();
  state.counters["GFLOPS"] = gflops;
  if (is_sgemm) return gflops;
  auto it = sgemm_peak().find({Cin, T});
  if (it != sgemm_peak().end()) state.counters["vs_sgemm"] = gflops / it->second;
  return gflops;
}

// Plain sgemm of the same FLOP count: C[B*T, Cout] = A[B*T, 3*Cin] * W^T[3*Cin, Cout].
void BM_SgemmPeak(benchmark::State& state) {
  const int Cin = int(state.range(0)), T = int(state.range(1)), M = kBatch * T, K = 3 * Cin;
  const auto a = random_floats(size_t(M) * K, 1), w = random_floats(size_t(kCout) * K, 2);
  std::vector<float> c(size_t(M) * kCout);
  WallTimer timer;
  for (auto _ : state) {
    aicl::gemm<float>(false, true, M, kCout, K, 1.f, a.data(), K, w.data(), K, 0.f, c.data(), kCout);
    benchmark::DoNotOptimize(c.data());
  }
  sgemm_peak()[{Cin, T}] = report(state, Cin, T, timer, true);
}

void BM_Conv3Forward(benchmark::State& state, Strategy strategy) {
  const int Cin = int(state.range(0)), T = int(state.range(1));
  const auto x = random_floats(size_t(kBatch) * T * kRowStride, 3);
  const auto w = random_floats(size_t(kCout) * Cin * 3, 4), b = random_floats(kCout, 5);
  std::vector<float> out(size_t(kBatch) * T * kCout);
  WallTimer timer;
  for (auto _ : state) {
    aicl::detail::conv1d_k3_forward_with(strategy, out.data(), x.data(), kRowStride, w.data(), b.data(), kBatch, T,
                                         Cin, kCout, 3, true);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, Cin, T, timer);
}

// Weight (and bias) gradients only, as in training: the model's input features need no gradient.
void BM_Conv3BackwardWeights(benchmark::State& state, Strategy strategy) {
  const int Cin = int(state.range(0)), T = int(state.range(1));
  const auto x = random_floats(size_t(kBatch) * T * kRowStride, 3);
  const auto out = random_floats(size_t(kBatch) * T * kCout, 6);
  auto dout = random_floats(size_t(kBatch) * T * kCout, 7);
  const auto w = random_floats(size_t(kCout) * Cin * 3, 4);
  std::vector<float> dw(w.size(), 0.f), db(kCout, 0.f);
  WallTimer timer;
  for (auto _ : state) {
    aicl::detail::conv1d_k3_backward_with(strategy, dw.data(), db.data(), static_cast<float*>(nullptr), 0,
                                          dout.data(), out.data(),
                                          x.data(), kRowStride, w.data(), kBatch, T, Cin, kCout, 3, true);
    benchmark::DoNotOptimize(dw.data());
  }
  report(state, Cin, T, timer);
}

// The sgemm and both strategies' forward and weight-backward alternated inside one loop, each call timed on its
// own: on a shared machine they then see the same background load, so the ratios stay meaningful when
// absolute GFLOPS do not. Counters: <call>_GFLOPS and <call>_vs_sgemm (sgemm time / call time).
void BM_Conv3InterleavedWithSgemm(benchmark::State& state) {
  const int Cin = int(state.range(0)), T = int(state.range(1)), M = kBatch * T, K = 3 * Cin;
  const auto a = random_floats(size_t(M) * K, 1), wg = random_floats(size_t(kCout) * K, 2);
  std::vector<float> c(size_t(M) * kCout);
  const auto x = random_floats(size_t(kBatch) * T * kRowStride, 3);
  const auto w = random_floats(size_t(kCout) * Cin * 3, 4), b = random_floats(kCout, 5);
  std::vector<float> out(size_t(kBatch) * T * kCout), dw(w.size(), 0.f), db(kCout, 0.f);
  auto dout = random_floats(out.size(), 7);
  const Strategy strategies[2] = {Strategy::whole_batch, Strategy::per_video};
  const char* names[2] = {"whole", "pervideo"};
  double t_gemm = 0, t_fwd[2] = {0, 0}, t_bwd[2] = {0, 0};
  for (auto _ : state) {
    WallTimer t0;
    aicl::gemm<float>(false, true, M, kCout, K, 1.f, a.data(), K, wg.data(), K, 0.f, c.data(), kCout);
    t_gemm += t0.seconds();
    for (int s = 0; s < 2; ++s) {
      WallTimer t1;
      aicl::detail::conv1d_k3_forward_with(strategies[s], out.data(), x.data(), kRowStride, w.data(), b.data(),
                                           kBatch, T, Cin, kCout, 3, true);
      t_fwd[s] += t1.seconds();
      WallTimer t2;
      aicl::detail::conv1d_k3_backward_with(strategies[s], dw.data(), db.data(), static_cast<float*>(nullptr), 0,
                                            dout.data(), out.data(), x.data(), kRowStride, w.data(), kBatch, T,
                                            Cin, kCout, 3, true);
      t_bwd[s] += t2.seconds();
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::DoNotOptimize(dw.data());
  }
  const double gflop = conv_flops(Cin, T) * double(state.iterations()) * 1e-9;
  state.counters["sgemm_GFLOPS"] = gflop / t_gemm;
  for (int s = 0; s < 2; ++s) {
    state.counters[std::string("fwd_") + names[s] + "_GFLOPS"] = gflop / t_fwd[s];
    state.counters[std::string("fwd_") + names[s] + "_vs_sgemm"] = t_gemm / t_fwd[s];
    state.counters[std::string("bwdW_") + names[s] + "_GFLOPS"] = gflop / t_bwd[s];
    state.counters[std::string("bwdW_") + names[s] + "_vs_sgemm"] = t_gemm / t_bwd[s];
  }
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int T : {750, 128})
    for (int Cin : {2048, 1024}) b->Args({Cin, T});
  b->ArgNames({"Cin", "T"})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
}

}  // namespace

BENCHMARK(BM_SgemmPeak)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Conv3Forward, whole_batch, Strategy::whole_batch)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Conv3Forward, per_video, Strategy::per_video)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Conv3BackwardWeights, whole_batch, Strategy::whole_batch)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Conv3BackwardWeights, per_video, Strategy::per_video)->Apply(shapes);
BENCHMARK(BM_Conv3InterleavedWithSgemm)->Apply(shapes)->MinTime(3.0);

int main(int argc, char** argv) {
  const char* env = std::getenv("AICL_THREADS");
  aicl::set_num_threads(env ? std::atoi(env) : 2);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
