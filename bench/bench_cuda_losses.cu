// GPU speed of AICL's pooling, loss, selection and contrastive ops at the training shape (B=16, T=750, C=20, D=512).
//
// Run: build/bin/bench_cuda_losses [--benchmark_filter=InfoNCE] [--benchmark_counters_tabular=true]
// Without a CUDA device it prints one line and exits 0.
//
// Each benchmark times its op with CUDA events on one stream (manual time = GPU time per call, averaged over
// back-to-back calls, so launch overhead that the GPU hides behind queued work is not counted; scratch allocation
// from the stream-ordered pool is). Counter GBps = the op's minimal DRAM traffic (each input read once, each output
// written once, accumulated outputs read and written; listed per benchmark) over the time; pct_peak = that over the
// device bandwidth from its attributes (2 x memory clock x bus width). These ops are tiny (at most a few MB), so the
// times are launch- and latency-bound and pct_peak is expected to be low: the figure to compare is the time
// against the CPU twins (bench/bench_losses.cpp) and against the dense ops of one training step.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "kernels/ce_loss.h"
#include "kernels/cuda_common.h"
#include "kernels/gce_loss.h"
#include "kernels/infonce.h"
#include "kernels/mse_loss.h"
#include "kernels/snippet_select.h"
#include "kernels/topk_mil.h"
#include "bench/bench_inputs.h"

namespace {

constexpr int B = 16, T = 750, C = 20, D = 512, K = T / 8, KS = T / 20;
constexpr double kF = sizeof(float);

double& mem_gbps() {
  static double g = 0;
  return g;
}

using aicl_bench::uniform;

// Device inputs and outputs shared by every benchmark (built once, on the benchmark stream).
struct Setup {
  aicl::CudaStream stream;
  aicl::DeviceBuffer<float> cas, flow, rgb, a1, a2, emb, labels, y, combined, cas_top, loss, dcas, dtop, dp, dflow,
      drgb, demb, dlogits;
  aicl::DeviceBuffer<int> topk, idx[4];
  Setup()
      : cas(uniform(std::size_t(B) * T * C, -3, 3, 1), stream),
        flow(uniform(B * T, 0, 1, 2), stream),
        rgb(uniform(B * T, 0, 1, 3), stream),
        a1(uniform(B * T, 0, 1, 4), stream),
        a2(uniform(B * T, 0, 1, 5), stream),
        emb(uniform(std::size_t(B) * T * D, 0, 1, 6), stream),
        labels(std::size_t(B) * C),
        y(std::size_t(B) * T),
        combined(std::size_t(B) * T * C),
        cas_top(std::size_t(B) * C),
        loss(8),
        dcas(std::size_t(B) * T * C),
        dtop(uniform(B * C, -1, 1, 7), stream),
        dp(std::size_t(B) * T),
        dflow(std::size_t(B) * T),
        drgb(std::size_t(B) * T),
        demb(std::size_t(B) * T * D),
        dlogits(std::size_t(B) * C),
        topk(std::size_t(B) * K * C),
        idx{aicl::DeviceBuffer<int>(B * KS), aicl::DeviceBuffer<int>(B * KS), aicl::DeviceBuffer<int>(B * KS),
            aicl::DeviceBuffer<int>(B * KS)} {
    std::vector<float> lab(std::size_t(B) * C, 0.f);
    for (int b = 0; b < B; ++b) lab[b * C + b % C] = 1.f;
    labels.upload(lab.data(), lab.size(), stream);
    for (auto* z : {&dcas, &dp, &dflow, &drgb, &demb, &dlogits}) z->zero(stream);
    aicl::topk_mil_forward_cuda(cas_top.data(), topk.data(), combined.data(), cas.data(), flow.data(), rgb.data(), B,
                                T, C, K, stream);
    aicl::pseudo_label_forward_cuda(y.data(), topk.data(), labels.data(), B, T, C, K, stream);
    aicl::snippet_select_forward_cuda(idx[0].data(), idx[1].data(), idx[2].data(), idx[3].data(), a1.data(),
                                      a2.data(), B, T, KS, stream);
    stream.synchronize();
  }
};

// Never destroyed: freeing device memory from a static destructor would race the CUDA runtime's own teardown.
Setup& setup() {
  static Setup* s = new Setup;
  return *s;
}

// Times `reps` back-to-back calls of fn with CUDA events; milliseconds per call.
double time_ms(cudaStream_t s, const std::function<void()>& fn, int reps = 20) {
  cudaEvent_t start, stop;
  AICL_CUDA_CHECK(cudaEventCreate(&start));
  AICL_CUDA_CHECK(cudaEventCreate(&stop));
  AICL_CUDA_CHECK(cudaEventRecord(start, s));
  for (int i = 0; i < reps; ++i) fn();
  AICL_CUDA_CHECK(cudaEventRecord(stop, s));
  AICL_CUDA_CHECK(cudaEventSynchronize(stop));
  float t = 0;
  AICL_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
  AICL_CUDA_CHECK(cudaEventDestroy(start));
  AICL_CUDA_CHECK(cudaEventDestroy(stop));
  return double(t) / reps;
}

// Runs the benchmark loop around fn and sets GBps / pct_peak from `bytes` per call.
void run(benchmark::State& st, double bytes, const std::function<void()>& fn) {
  Setup& s = setup();
  fn();  // warm-up (first-call attribute setup, pool growth)
  s.stream.synchronize();
  double total_ms = 0;
  for (auto _ : st) {
    const double ms = time_ms(s.stream, fn);
    total_ms += ms;
    st.SetIterationTime(ms / 1e3);
  }
  const double per_call_s = total_ms / 1e3 / double(st.iterations());
  const double gbps = bytes / per_call_s / 1e9;
  st.counters["GBps"] = gbps;
  if (mem_gbps() > 0) st.counters["pct_peak"] = 100.0 * gbps / mem_gbps();
}

void BM_TopkMilForward(benchmark::State& st) {
  Setup& s = setup();
  // cas, flow, rgb read; combined, topk_idx, cas_top written (the column re-read of combined is not counted).
  const double bytes = kF * (2.0 * B * T * C + 2.0 * B * T + double(B) * K * C + B * C);
  run(st, bytes, [&] {
    aicl::topk_mil_forward_cuda(s.cas_top.data(), s.topk.data(), s.combined.data(), s.cas.data(), s.flow.data(),
                                s.rgb.data(), B, T, C, K, s.stream);
  });
}
void BM_TopkMilBackward(benchmark::State& st) {
  Setup& s = setup();
  const double bytes = kF * (double(B) * C + double(B) * K * C + 2.0 * B * K * C);  // dtop, idx, dcas RMW at idx
  run(st, bytes, [&] {
    aicl::topk_mil_backward_cuda(s.dcas.data(), s.dtop.data(), s.topk.data(), B, T, C, K, s.stream);
  });
}
void BM_PseudoLabel(benchmark::State& st) {
  Setup& s = setup();
  const double bytes = kF * (double(B) * K * C + B * C + double(B) * T);
  run(st, bytes, [&] {
    aicl::pseudo_label_forward_cuda(s.y.data(), s.topk.data(), s.labels.data(), B, T, C, K, s.stream);
  });
}
void BM_VideoCE(benchmark::State& st) {
  Setup& s = setup();
  const bool backward = st.range(0) != 0;
  const double bytes = kF * (backward ? 4.0 * B * C : 2.0 * B * C + 1);
  run(st, bytes, [&] {
    if (backward)
      aicl::video_ce_backward_cuda(s.dlogits.data(), 1.f, s.cas_top.data(), s.labels.data(), B, C, s.stream);
    else
      aicl::video_ce_forward_cuda(s.loss.data(), s.cas_top.data(), s.labels.data(), B, C, s.stream);
  });
}
void BM_GCE(benchmark::State& st) {
  Setup& s = setup();
  const bool backward = st.range(0) != 0;
  const double bytes = kF * (backward ? 4.0 * B * T : 2.0 * B * T + 1);
  run(st, bytes, [&] {
    if (backward)
      aicl::gce_backward_cuda(s.dp.data(), 1.f, s.flow.data(), s.y.data(), B, T, 0.7, s.stream);
    else
      aicl::gce_forward_cuda(s.loss.data(), s.flow.data(), s.y.data(), B, T, 0.7, s.stream);
  });
}
void BM_MSE(benchmark::State& st) {
  Setup& s = setup();
  const bool backward = st.range(0) != 0;
  const double n = double(B) * T;
  const double bytes = kF * (backward ? 6.0 * n : 2.0 * n + 1);  // backward: a, b read, da, db read and written
  run(st, bytes, [&] {
    if (backward)
      aicl::mse_backward_cuda(s.dflow.data(), s.drgb.data(), 1.f, s.flow.data(), s.rgb.data(), B * T, s.stream);
    else
      aicl::mse_forward_cuda(s.loss.data(), s.flow.data(), s.rgb.data(), B * T, s.stream);
  });
}
void BM_SnippetSelect(benchmark::State& st) {
  Setup& s = setup();
  const double bytes = kF * (2.0 * B * T + 4.0 * B * KS);
  run(st, bytes, [&] {
    aicl::snippet_select_forward_cuda(s.idx[0].data(), s.idx[1].data(), s.idx[2].data(), s.idx[3].data(),
                                      s.a1.data(), s.a2.data(), B, T, KS, s.stream);
  });
}
void BM_InfoNCE(benchmark::State& st) {
  Setup& s = setup();
  const bool backward = st.range(0) != 0;
  // Gathered rows (4 groups x k rows x D) read once; backward also reads and writes those rows of demb.
  const double rows = 4.0 * B * KS * D;
  const double bytes = kF * ((backward ? 3.0 : 1.0) * rows + 4.0 * B * KS);
  run(st, bytes, [&] {
    if (backward)
      aicl::infonce_backward_cuda(s.demb.data(), 1.f, s.emb.data(), s.idx[0].data(), s.idx[1].data(),
                                  s.idx[2].data(), s.idx[3].data(), B, T, D, KS, 0.1, s.stream);
    else
      aicl::infonce_forward_cuda(s.loss.data(), s.emb.data(), s.idx[0].data(), s.idx[1].data(), s.idx[2].data(),
                                 s.idx[3].data(), B, T, D, KS, 0.1, s.loss.data() + 1, s.stream);
  });
}
// Every op of this file that one AICL training step runs (1 top-k MIL + pseudo label + CE, 2 GCE, 2 MSE, 1
// selection, 3 InfoNCE, each forward and backward); bytes = the sum of the per-op figures above.
void BM_TrainingStepLosses(benchmark::State& st) {
  Setup& s = setup();
  const double n = double(B) * T, rows = 4.0 * B * KS * D;
  const double bytes = kF * ((2.0 * B * T * C + 2.0 * n + double(B) * K * C + B * C) +
                             (double(B) * C + 3.0 * B * K * C) + (double(B) * K * C + B * C + n) + 6.0 * B * C +
                             2 * 6.0 * n + 2 * 8.0 * n + (2.0 * n + 4.0 * B * KS) + 3 * (4.0 * rows + 8.0 * B * KS));
  run(st, bytes, [&] {
    aicl::topk_mil_forward_cuda(s.cas_top.data(), s.topk.data(), s.combined.data(), s.cas.data(), s.flow.data(),
                                s.rgb.data(), B, T, C, K, s.stream);
    aicl::pseudo_label_forward_cuda(s.y.data(), s.topk.data(), s.labels.data(), B, T, C, K, s.stream);
    aicl::video_ce_forward_cuda(s.loss.data(), s.cas_top.data(), s.labels.data(), B, C, s.stream);
    aicl::video_ce_backward_cuda(s.dlogits.data(), 1.f, s.cas_top.data(), s.labels.data(), B, C, s.stream);
    aicl::topk_mil_backward_cuda(s.dcas.data(), s.dlogits.data(), s.topk.data(), B, T, C, K, s.stream);
    for (const aicl::DeviceBuffer<float>* p : {&s.flow, &s.rgb}) {
      aicl::gce_forward_cuda(s.loss.data() + 1, p->data(), s.y.data(), B, T, 0.7, s.stream);
      aicl::gce_backward_cuda(s.dp.data(), 1.f, p->data(), s.y.data(), B, T, 0.7, s.stream);
    }
    for (int i = 0; i < 2; ++i) {
      aicl::mse_forward_cuda(s.loss.data() + 2, s.flow.data(), s.rgb.data(), B * T, s.stream);
      aicl::mse_backward_cuda(s.dflow.data(), s.drgb.data(), 1.f, s.flow.data(), s.rgb.data(), B * T, s.stream);
    }
    aicl::snippet_select_forward_cuda(s.idx[0].data(), s.idx[1].data(), s.idx[2].data(), s.idx[3].data(),
                                      s.a1.data(), s.a2.data(), B, T, KS, s.stream);
    for (int e = 0; e < 3; ++e) {
      aicl::infonce_forward_cuda(s.loss.data() + 3, s.emb.data(), s.idx[0].data(), s.idx[1].data(), s.idx[2].data(),
                                 s.idx[3].data(), B, T, D, KS, 0.1, nullptr, s.stream);
      aicl::infonce_backward_cuda(s.demb.data(), 0.01f, s.emb.data(), s.idx[0].data(), s.idx[1].data(),
                                  s.idx[2].data(), s.idx[3].data(), B, T, D, KS, 0.1, s.stream);
    }
  });
}

}  // namespace

BENCHMARK(BM_TopkMilForward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TopkMilBackward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PseudoLabel)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VideoCE)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GCE)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MSE)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SnippetSelect)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InfoNCE)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrainingStepLosses)->UseManualTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  if (!aicl::cuda_device_available()) {
    std::printf("bench_cuda_losses: no CUDA device available; skipping (nothing measured)\n");
    return 0;
  }
  int dev = 0, mem_khz = 0, bus_bits = 0;
  AICL_CUDA_CHECK(cudaGetDevice(&dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
  mem_gbps() = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  std::printf("device: %s | memory bandwidth %.0f GB/s (2 x mem clock x bus width) | B=%d T=%d C=%d D=%d k=%d k_sel=%d\n",
              aicl::cuda_device_name().c_str(), mem_gbps(), B, T, C, D, K, KS);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
