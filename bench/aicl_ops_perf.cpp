// Times the forward and backward of every registered op case (tests/ops) on the CPU (float) and, with a GPU, on CUDA.
//
//   build/bin/aicl_ops_perf                                  # every case, every backend
//   build/bin/aicl_ops_perf --benchmark_filter='conv1d_k3 B=16'   # Google Benchmark flags select and repeat
//
// Benchmark names: "<cpu|cuda>/<fwd|bwd>/<op> <params>[/<variant>]". The backward accumulates into the same gradient
// buffers on every call (as in training); CUDA times come from CUDA events around 10 calls after a warm-up call.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include "ops/op_check.h"

namespace {

using aicl_test::ops::OpCase;

std::string bench_name(const char* backend, const char* pass, const OpCase& c,
                       const std::vector<std::string>& variants, int v) {
  std::string n = std::string(backend) + "/" + pass + "/" + c.name();
  if (variants.size() > 1) n += "/" + (variants[std::size_t(v)].empty() ? std::string("default") : variants[std::size_t(v)]);
  return n;
}

// The timer of a case is built on first use (inputs can be large), then shared by the benchmark's repetitions.
template <class Timer>
std::shared_ptr<std::unique_ptr<Timer>> lazy() {
  return std::make_shared<std::unique_ptr<Timer>>();
}

void register_cpu(const OpCase& c, int v) {
  auto timer = lazy<aicl_test::ops::CpuTimer>();
  for (const bool backward : {false, true}) {
    if (backward ? !c.backward_f : !c.forward_f) continue;
    benchmark::RegisterBenchmark(bench_name("cpu", backward ? "bwd" : "fwd", c, c.cpu_variants, v).c_str(),
                                 [&c, v, timer, backward](benchmark::State& st) {
                                   if (!*timer) *timer = std::make_unique<aicl_test::ops::CpuTimer>(c, v);
                                   for (auto _ : st) backward ? (*timer)->backward() : (*timer)->forward();
                                 })
        ->UseRealTime()  // the kernels use OpenMP / BLAS threads
        ->Unit(benchmark::kMicrosecond);
  }
}

void register_cuda(const OpCase& c, int v) {
  auto timer = lazy<aicl_test::ops::CudaTimer>();
  for (const bool backward : {false, true}) {
    if (backward ? !c.backward_cuda : !c.forward_cuda) continue;
    benchmark::RegisterBenchmark(bench_name("cuda", backward ? "bwd" : "fwd", c, c.cuda_variants, v).c_str(),
                                 [&c, v, timer, backward](benchmark::State& st) {
                                   if (!*timer) *timer = std::make_unique<aicl_test::ops::CudaTimer>(c, v);
                                   for (auto _ : st) {
                                     const double ms = backward ? (*timer)->backward_ms(10) : (*timer)->forward_ms(10);
                                     st.SetIterationTime(ms / 1e3);
                                   }
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool cuda = aicl_test::ops::cuda_usable();
  for (const OpCase& c : aicl_test::ops::all_cases()) {
    if (!(c.checks & aicl_test::ops::kPerf)) continue;
    for (int v = 0; v < int(c.cpu_variants.size()); ++v) register_cpu(c, v);
    if (cuda)
      for (int v = 0; v < int(c.cuda_variants.size()); ++v) register_cuda(c, v);
  }
  if (!cuda) std::fprintf(stderr, "aicl_ops_perf: no CUDA backend or device: CPU timings only\n");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
