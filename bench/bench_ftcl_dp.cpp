// Microbenchmarks of FTCL's DP losses (kernels/fsd_dp, kernels/lcs_dp) at a training step's shape: a batch of 16
// pairs, FSD L=5 and LCS L=30 (stage B and stage A's variant), forward + backward. bench/ftcl_dp_vs_official.sh
// runs this beside the official functions.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/fsd_dp.h"
#include "kernels/lcs_dp.h"
#include "bench/bench_inputs.h"

namespace {

constexpr int P = 16, LF = 5, LL = 30;

using aicl_bench::uniform;

// The inputs of ftcl_dp_oracle.py bench in kind: about a third of the LCS cells above the threshold.
struct Inputs {
  std::vector<float> m = uniform(P * LF * LF, -1, 1, 1), g = uniform(P * LF * LF, -1, 1, 2);
  std::vector<float> S = uniform(P * LL * LL, 0.6f, 1, 3), Sa = uniform(P * LL * LL, 0.95f, 1, 4);
  std::vector<float> dv = uniform(P, -1, 1, 5);
};

Inputs& inputs() {
  static Inputs in;
  return in;
}

void BM_fsd_dp_fwd_bwd_16pairs(benchmark::State& st) {
  auto& in = inputs();
  std::vector<float> value(P), dm(in.m.size()), dg(in.g.size());
  for (auto _ : st) {
    aicl::fsd_dp_forward(value.data(), in.m.data(), in.g.data(), P, LF, 0.1);
    aicl::fsd_dp_backward(dm.data(), dg.data(), in.dv.data(), in.m.data(), in.g.data(), P, LF, 0.1);
    benchmark::DoNotOptimize(value.data());
    benchmark::DoNotOptimize(dg.data());
  }
}
BENCHMARK(BM_fsd_dp_fwd_bwd_16pairs);

void lcs_bench(benchmark::State& st, const std::vector<float>& S, bool stage_a) {
  auto& in = inputs();
  std::vector<float> value(P), dS(S.size());
  for (auto _ : st) {
    aicl::lcs_dp_forward(value.data(), S.data(), P, LL, 0.92f, stage_a);
    aicl::lcs_dp_backward(dS.data(), in.dv.data(), S.data(), P, LL, 0.92f, stage_a);
    benchmark::DoNotOptimize(value.data());
    benchmark::DoNotOptimize(dS.data());
  }
}

void BM_lcs_dp_fwd_bwd_16pairs(benchmark::State& st) { lcs_bench(st, inputs().S, false); }
BENCHMARK(BM_lcs_dp_fwd_bwd_16pairs);

void BM_lcs_dp_stage_a_fwd_bwd_16pairs(benchmark::State& st) { lcs_bench(st, inputs().Sa, true); }
BENCHMARK(BM_lcs_dp_stage_a_fwd_bwd_16pairs);

}  // namespace

BENCHMARK_MAIN();
