// GPU speed of the whole AICL training step (CUDA TrainBackend) and of inference over 210 THUMOS14-sized videos.
//
// Run: build/bin/bench_cuda_step [--benchmark_filter=TrainStep] [--benchmark_counters_tabular=true]
// Optional: AICL_BENCH_DATA=/path/thumos14.h5 adds an end-to-end inference benchmark (device features, GPU forward,
// host post-processing) over that dataset's test subset. Without a CUDA device it prints one line and exits 0.
//
// BM_TrainStep/T/tf32: one training step at B=16, F=2048 (T = 750, the official setting, and 128) as the trainer
// runs it: host-drawn sampling indices uploaded through the pinned ring, device gather, forward, backward, Adam.
// Each iteration queues 10 steps back to back and then reads their losses (the one synchronisation), so the time
// per step includes the host's launch work only where the GPU cannot hide it. tf32 = 1 runs the GEMMs on TF32
// tensor cores (set_cuda_math_mode), 0 in FP32.
// BM_InferenceForward210/tf32: the GPU half of inference for 210 videos (lengths uniform in [24, 640] segments,
// mean ~332 as THUMOS14's test split, whose mean is 331), each sampled to T = 750: 14 chunks of at most 16
// videos, each gathered on the device, forwarded, and its cas_top / combined CAS downloaded (what
// localize_videos does on the GPU before the host post-processing).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "core/eval/localize.h"
#include "core/methods/aicl/aicl.h"
#include "core/runtime/backend.h"
#include "core/runtime/sampling.h"
#include "data/dataset.h"
#include "kernels/cuda_common.h"
#include "kernels/ops_cuda.h"

namespace {

constexpr int kF = 2048, kC = 20, kB = 16, kVideos = 210, kInferT = 750;

// A synthetic feature table of kVideos videos (features uniform in [0, 2), as post-ReLU I3D features are >= 0).
struct Table {
  std::vector<float> rows;
  std::vector<size_t> offset;
  std::vector<int> length;
  Table() {
    std::mt19937 rng(1);
    size_t n = 0;
    for (int i = 0; i < kVideos; ++i) {
      length.push_back(24 + static_cast<int>(rng() % 617));
      offset.push_back(n);
      n += length.back();
    }
    rows.resize(n * kF);
    std::uniform_real_distribution<float> u(0.f, 2.f);
    for (auto& e : rows) e = u(rng);
  }
};

Table& table() {
  static Table* t = new Table;  // never destroyed (no device memory inside)
  return *t;
}

void BM_TrainStep(benchmark::State& st) {
  const int T = static_cast<int>(st.range(0));
  aicl::set_cuda_math_mode(st.range(1) ? aicl::CudaMathMode::tf32 : aicl::CudaMathMode::fp32);
  Table& tb = table();
  aicl::AiclModel host;
  host.params().init_uniform(1);
  std::vector<float> m(host.params().size(), 0.f), v = m;
  aicl::TrainBackendSetup setup;
  setup.max_batch = kB;
  setup.segments = T;
  setup.loss_window = 10;
  setup.num_classes = kC;
  setup.feature_rows = tb.rows.data();
  setup.num_rows = tb.rows.size() / kF;
  setup.feature_dim = kF;
  aicl::AiclMethod method(host.config());
  auto backend = std::make_unique<aicl::TrainBackend>(aicl::cuda_ops(), method, host.params(), m, v, setup);
  aicl::Rng rng(3);
  std::vector<size_t> rows(static_cast<size_t>(kB) * T);
  std::vector<float> labels(static_cast<size_t>(kB) * kC, 0.f);
  for (int b = 0; b < kB; ++b) labels[b * kC + b % kC] = 1.f;
  long step = 0;
  auto one_step = [&] {
    for (int b = 0; b < kB; ++b) {
      const int vi = static_cast<int>(rng.below(kVideos));
      const std::vector<int> idx = aicl::random_perturb(tb.length[vi], T, rng);
      for (int t = 0; t < T; ++t) rows[static_cast<size_t>(b) * T + t] = tb.offset[vi] + idx[t];
    }
    backend->step(rows, labels, kB, T, ++step);
  };
  for (int i = 0; i < 3; ++i) one_step();  // warm-up: cuBLAS heuristics, scratch pool growth
  backend->take_losses();
  constexpr int kSteps = 10;
  double last_loss = 0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kSteps; ++i) one_step();
    const auto losses = backend->take_losses();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.SetIterationTime(secs / kSteps);
    last_loss = losses.back()[0];
  }
  // Dense FLOPs of a step: three k=3 convs forward (2*N*3*Cin*512) and backward (dweight only: the same again).
  const double N = double(kB) * T;
  const double flops = 2.0 * 2.0 * N * 3.0 * 512.0 * (2048.0 + 1024.0 + 1024.0);
  st.counters["conv_TFLOPS"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["loss"] = last_loss;
  aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32);
}

void BM_InferenceForward210(benchmark::State& st) {
  aicl::set_cuda_math_mode(st.range(0) ? aicl::CudaMathMode::tf32 : aicl::CudaMathMode::fp32);
  Table& tb = table();
  aicl::Ops& ops = aicl::cuda_ops();
  aicl::AiclModel host;
  host.params().init_uniform(1);
  aicl::Buf<float> params(ops, host.params().size());
  ops.upload(params.data(), host.params().values.data(), host.params().size() * sizeof(float));
  const aicl::ParamView p{&host.params(), params.data(), nullptr};
  auto table_dev = ops.feature_table(tb.rows.data(), tb.rows.size() / kF, kF, 16 * kInferT, 0);
  constexpr int kChunk = 16;
  const size_t cap = static_cast<size_t>(kChunk) * kInferT;
  aicl::Buf<float> x(ops, cap * kF);
  std::vector<size_t> rows(cap);
  std::vector<float> cas_top(kChunk * kC), combined(cap * kC);
  aicl::AiclActivations act(ops);
  auto run_all = [&] {
    for (int start = 0; start < kVideos; start += kChunk) {
      const int nb = std::min(kChunk, kVideos - start);
      for (int b = 0; b < nb; ++b) {
        const std::vector<int> idx = aicl::uniform_sampling(tb.length[start + b], kInferT);
        for (int t = 0; t < kInferT; ++t) rows[static_cast<size_t>(b) * kInferT + t] = tb.offset[start + b] + idx[t];
      }
      table_dev->assemble(rows.data(), nb * kInferT, nullptr, 0, x.data(), nullptr);
      aicl::aicl_forward(ops, host.config(), p, x.data(), nb, kInferT, act);
      ops.download(cas_top.data(), act.cas_top.data(), static_cast<size_t>(nb) * kC * sizeof(float));
      ops.download(combined.data(), act.combined.data(), static_cast<size_t>(nb) * kInferT * kC * sizeof(float));
    }
  };
  run_all();  // warm-up
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    run_all();
    st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  st.counters["videos_per_s"] = benchmark::Counter(kVideos, benchmark::Counter::kIsIterationInvariantRate);
  aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32);
}

// End to end on a real dataset file (AICL_BENCH_DATA): device features, GPU forward, host post-processing.
void BM_InferenceEndToEnd(benchmark::State& st) {
  const char* path = std::getenv("AICL_BENCH_DATA");
  aicl::Dataset ds(path);
  std::vector<float> rows(ds.total_segments() * static_cast<size_t>(ds.feature_dim()));
  ds.read_all_features(rows.data());
  aicl::AiclConfig cfg;
  cfg.num_classes = ds.num_classes();
  aicl::AiclModel host(cfg);
  host.params().init_uniform(1);
  std::vector<float> m(host.params().size(), 0.f), v = m;
  aicl::TrainBackendSetup setup;
  setup.max_batch = 1;
  setup.segments = kInferT;
  setup.num_classes = cfg.num_classes;
  setup.feature_rows = rows.data();
  setup.num_rows = ds.total_segments();
  setup.feature_dim = ds.feature_dim();
  std::vector<size_t> offsets;
  for (size_t i = 0; i < ds.num_videos(); ++i) offsets.push_back(ds.row_offset(i));
  aicl::AiclMethod method(cfg);
  aicl::TrainBackend backend(aicl::cuda_ops(), method, host.params(), m, v, setup);
  const aicl::InferenceModel model{&method, &backend.ops(), backend.params()};
  const aicl::VideoFeatures feats{&backend.features(), &offsets};
  const std::vector<size_t> test = ds.subset_indices(ds.profile().test_subset);
  const aicl::PostprocessConfig post = aicl::postprocess_config_for(ds.profile());
  aicl::localize_videos(model, ds, test, feats, kInferT, post);  // warm-up
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const aicl::LocalizeResult r = aicl::localize_videos(model, ds, test, feats, kInferT, post);
    benchmark::DoNotOptimize(r.num_videos);
    st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  st.counters["videos"] = static_cast<double>(test.size());
}

}  // namespace

BENCHMARK(BM_TrainStep)->Args({750, 0})->Args({750, 1})->Args({128, 0})->Args({128, 1})->ArgNames({"T", "tf32"})
    ->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_InferenceForward210)->Arg(0)->Arg(1)->ArgName("tf32")->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  if (!aicl::cuda_device_available()) {
    std::printf("bench_cuda_step: no CUDA device available; skipping (nothing measured)\n");
    return 0;
  }
  std::printf("device: %s | B=%d F=%d C=%d; inference: %d videos at T=%d\n", aicl::cuda_device_name().c_str(), kB, kF,
              kC, kVideos, kInferT);
  if (std::getenv("AICL_BENCH_DATA"))
    benchmark::RegisterBenchmark("BM_InferenceEndToEnd", BM_InferenceEndToEnd)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
