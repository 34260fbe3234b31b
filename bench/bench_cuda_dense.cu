// GPU speed of the dense AICL ops (conv1d_k3/k1, actionness, Adam/SGD) against the device peak and plain cuBLAS.
//
// Run: build/bin/bench_cuda_dense [--benchmark_filter=Conv3] [--benchmark_counters_tabular=true]
// Without a CUDA device it prints one line and exits 0.
//
// Every benchmark times its op with CUDA events on one stream (manual time = GPU time per call) at AICL's
// training shape B=16, T=750 (N = 12000 rows). Counters:
//   TFLOPS / GBps       achieved rate; FLOPs = 2*M*N*K summed over the op's GEMMs, bytes = the op's minimal
//                       DRAM traffic (each input read once, each output written once; listed per benchmark).
//   pct_peak            that rate over the assumed device peak (printed at start; see peaks_for()).
//   vs_cublas           (k=3 conv) time of the bare cuBLAS GEMMs the strategy issues, with the same shapes,
//                       timed in the same loop, over the op's time: the op's overhead (repack, bias/ReLU,
//                       boundary rows, im2col, dbias). Goal >= 0.6.
//   vs_one_gemm         (k=3 conv) same, against ONE GEMM M=B*T, N=Cout, K=3*Cin (the ideal of equal FLOPs).
// Args: strategy (0 shifted_gemms, 1 im2col), Cin, tf32 (0/1), [din (0/1) for backward].
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/actionness.h"
#include "kernels/adam.h"
#include "kernels/conv1d_k1.h"
#include "kernels/conv1d_k3.h"
#include "kernels/cuda_common.h"

namespace {

constexpr int kBatch = 16, kT = 750, kRows = kBatch * kT, kCout = 512, kRowStride = 2048, kD = 512, kClasses = 20;

using Strategy = aicl::detail::Conv3CudaStrategy;

// Assumed peaks. FP32 (non-tensor) = SMs x FP32 lanes/SM x 2 x boost clock from the device attributes (H100 SXM:
// 132 x 128 x 2 x 1.98 GHz = 66.9 TFLOP/s, NVIDIA's datasheet says 67). TF32 tensor-core DENSE peaks are NVIDIA's
// datasheet figures with sparsity halved: H100 SXM / H200 494.7 (989.4 sparse), H100 PCIe 378 (756 sparse), A100
// 156; unknown devices print 0 (no pct_peak). Memory bandwidth = 2 x memory clock x bus width from the attributes.
struct Peaks {
  std::string name;
  double fp32_tflops = 0, tf32_tflops = 0, mem_gbps = 0;
};

Peaks& peaks() {
  static Peaks p;
  return p;
}

Peaks peaks_for_current_device() {
  Peaks p;
  int dev = 0;
  AICL_CUDA_CHECK(cudaGetDevice(&dev));
  p.name = aicl::cuda_device_name();
  int sms = 0, clock_khz = 0, mem_khz = 0, bus_bits = 0, major = 0, minor = 0;
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  // FP32 lanes per SM: 64 on sm_70/sm_80 (V100, A100), 128 on sm_86/89/90 and later.
  const int lanes = (major == 7 || (major == 8 && minor == 0)) ? 64 : 128;
  p.fp32_tflops = double(sms) * lanes * 2 * clock_khz * 1e3 / 1e12;
  p.mem_gbps = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  auto has = [&](const char* s) { return p.name.find(s) != std::string::npos; };
  if (has("H200") || (has("H100") && !has("PCIe")))
    p.tf32_tflops = 494.7;
  else if (has("H100"))
    p.tf32_tflops = 378.0;
  else if (has("A100"))
    p.tf32_tflops = 156.0;
  return p;
}

std::vector<float> random_floats(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

aicl::DeviceBuffer<float> device_random(std::size_t n, unsigned seed, cudaStream_t s, float lo = -1.f,
                                        float hi = 1.f) {
  return aicl::DeviceBuffer<float>(random_floats(n, seed, lo, hi), s);
}

// Event-timed runs of fn on `stream`: milliseconds per call, averaged over reps back-to-back calls.
class GpuTimer {
 public:
  explicit GpuTimer(cudaStream_t s) : s_(s) {
    AICL_CUDA_CHECK(cudaEventCreate(&start_));
    AICL_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~GpuTimer() {
    AICL_CUDA_CHECK_NOTHROW(cudaEventDestroy(start_));
    AICL_CUDA_CHECK_NOTHROW(cudaEventDestroy(stop_));
  }
  double ms(const std::function<void()>& fn, int reps = 1) {
    AICL_CUDA_CHECK(cudaEventRecord(start_, s_));
    for (int i = 0; i < reps; ++i) fn();
    AICL_CUDA_CHECK(cudaEventRecord(stop_, s_));
    AICL_CUDA_CHECK(cudaEventSynchronize(stop_));
    float t = 0;
    AICL_CUDA_CHECK(cudaEventElapsedTime(&t, start_, stop_));
    return double(t) / reps;
  }

 private:
  cudaStream_t s_;
  cudaEvent_t start_, stop_;
};

struct MathMode {
  explicit MathMode(bool tf32) {
    aicl::set_cuda_math_mode(tf32 ? aicl::CudaMathMode::tf32 : aicl::CudaMathMode::fp32);
  }
  ~MathMode() { aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32); }
};

void set_rate_counters(benchmark::State& st, double flops, double bytes, double total_ms, bool tf32) {
  const double per_call_s = total_ms / 1e3 / double(st.iterations());
  const Peaks& p = peaks();
  if (flops > 0) {
    const double tflops = flops / per_call_s / 1e12;
    st.counters["TFLOPS"] = tflops;
    const double peak = tf32 ? p.tf32_tflops : p.fp32_tflops;
    if (peak > 0) st.counters["pct_peak"] = 100.0 * tflops / peak;
  } else {
    const double gbps = bytes / per_call_s / 1e9;
    st.counters["GBps"] = gbps;
    if (p.mem_gbps > 0) st.counters["pct_peak"] = 100.0 * gbps / p.mem_gbps;
  }
}

// ---- conv1d_k3 ----

struct Conv3Buffers {
  aicl::DeviceBuffer<float> in, w, bias, out, dout, dw, db, din;
  Conv3Buffers(int Cin, cudaStream_t s)
      : in(device_random(std::size_t(kRows) * kRowStride, 1, s)),
        w(device_random(std::size_t(kCout) * Cin * 3, 2, s, -0.05f, 0.05f)),
        bias(device_random(kCout, 3, s)),
        out(std::size_t(kRows) * kCout),
        dout(device_random(std::size_t(kRows) * kCout, 4, s)),
        dw(std::size_t(kCout) * Cin * 3),
        db(kCout),
        din(std::size_t(kRows) * kRowStride) {
    dw.zero(s);
    db.zero(s);
    din.zero(s);
  }
};

// The bare GEMMs a strategy issues (same shapes and operands), for vs_cublas.
void forward_gemms_only(Strategy s, Conv3Buffers& b, aicl::DeviceBuffer<float>& scratch, int Cin, cudaStream_t st) {
  if (s == Strategy::im2col) {
    aicl::cublas_gemm(false, true, kRows, kCout, 3 * Cin, 1.f, scratch.data(), 3 * Cin, b.w.data(), 3 * Cin, 0.f,
                      b.out.data(), kCout, st);
  } else {
    const float* taps = scratch.data();
    const std::size_t plane = std::size_t(kCout) * Cin;
    aicl::cublas_gemm(false, true, kRows, kCout, Cin, 1.f, b.in.data(), kRowStride, taps + plane, Cin, 0.f,
                      b.out.data(), kCout, st);
    aicl::cublas_gemm(false, true, kRows - 1, kCout, Cin, 1.f, b.in.data(), kRowStride, taps, Cin, 1.f,
                      b.out.data() + kCout, kCout, st);
    aicl::cublas_gemm(false, true, kRows - 1, kCout, Cin, 1.f, b.in.data() + kRowStride, kRowStride,
                      taps + 2 * plane, Cin, 1.f, b.out.data(), kCout, st);
  }
}

void backward_gemms_only(Strategy s, Conv3Buffers& b, aicl::DeviceBuffer<float>& scratch,
                         aicl::DeviceBuffer<float>& tap_grads, bool with_din, int Cin, cudaStream_t st) {
  if (s == Strategy::im2col) {
    aicl::cublas_gemm(true, false, kCout, 3 * Cin, kRows, 1.f, b.dout.data(), kCout, scratch.data(), 3 * Cin, 1.f,
                      b.dw.data(), 3 * Cin, st);
    if (with_din)
      aicl::cublas_gemm(false, false, kRows, 3 * Cin, kCout, 1.f, b.dout.data(), kCout, b.w.data(), 3 * Cin, 0.f,
                        scratch.data(), 3 * Cin, st);
  } else {
    const std::size_t plane = std::size_t(kCout) * Cin;
    float* g = tap_grads.data();
    const float* taps = scratch.data();
    aicl::cublas_gemm(true, false, kCout, Cin, kRows, 1.f, b.dout.data(), kCout, b.in.data(), kRowStride, 0.f,
                      g + plane, Cin, st);
    aicl::cublas_gemm(true, false, kCout, Cin, kRows - 1, 1.f, b.dout.data() + kCout, kCout, b.in.data(),
                      kRowStride, 0.f, g, Cin, st);
    aicl::cublas_gemm(true, false, kCout, Cin, kRows - 1, 1.f, b.dout.data(), kCout, b.in.data() + kRowStride,
                      kRowStride, 0.f, g + 2 * plane, Cin, st);
    if (with_din) {
      aicl::cublas_gemm(false, false, kRows, Cin, kCout, 1.f, b.dout.data(), kCout, taps + plane, Cin, 1.f,
                        b.din.data(), kRowStride, st);
      aicl::cublas_gemm(false, false, kRows - 1, Cin, kCout, 1.f, b.dout.data() + kCout, kCout, taps, Cin, 1.f,
                        b.din.data(), kRowStride, st);
      aicl::cublas_gemm(false, false, kRows - 1, Cin, kCout, 1.f, b.dout.data(), kCout, taps + 2 * plane, Cin, 1.f,
                        b.din.data() + kRowStride, kRowStride, st);
    }
  }
}

void BM_Conv3Forward(benchmark::State& st) {
  const Strategy s = st.range(0) ? Strategy::im2col : Strategy::shifted_gemms;
  const int Cin = int(st.range(1));
  const bool tf32 = st.range(2) != 0;
  MathMode mode(tf32);
  aicl::CudaStream stream;
  Conv3Buffers b(Cin, stream);
  aicl::DeviceBuffer<float> scratch(s == Strategy::im2col ? std::size_t(kRows) * 3 * Cin
                                                          : std::size_t(3) * kCout * Cin);
  scratch.zero(stream);
  aicl::DeviceBuffer<float> col_one(std::size_t(kRows) * 3 * Cin);  // operand of the single reference GEMM
  col_one.zero(stream);
  GpuTimer timer(stream);
  auto op = [&] {
    aicl::detail::conv1d_k3_forward_cuda_with(s, b.out.data(), b.in.data(), kRowStride, b.w.data(), b.bias.data(),
                                              kBatch, kT, Cin, kCout, 3, true, stream);
  };
  op();  // warm-up (cuBLAS heuristics, memory pool)
  double op_ms = 0, gemm_ms = 0, one_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
    gemm_ms += timer.ms([&] { forward_gemms_only(s, b, scratch, Cin, stream); });
    one_ms += timer.ms([&] {
      aicl::cublas_gemm(false, true, kRows, kCout, 3 * Cin, 1.f, col_one.data(), 3 * Cin, b.w.data(), 3 * Cin, 0.f,
                        b.out.data(), kCout, stream);
    });
  }
  const double flops = 2.0 * kRows * kCout * 3.0 * Cin;
  set_rate_counters(st, flops, 0, op_ms, tf32);
  st.counters["vs_cublas"] = gemm_ms / op_ms;
  st.counters["vs_one_gemm"] = one_ms / op_ms;
}

void BM_Conv3Backward(benchmark::State& st) {
  const Strategy s = st.range(0) ? Strategy::im2col : Strategy::shifted_gemms;
  const int Cin = int(st.range(1));
  const bool tf32 = st.range(2) != 0;
  const bool with_din = st.range(3) != 0;
  MathMode mode(tf32);
  aicl::CudaStream stream;
  Conv3Buffers b(Cin, stream);
  aicl::detail::conv1d_k3_forward_cuda_with(s, b.out.data(), b.in.data(), kRowStride, b.w.data(), b.bias.data(),
                                            kBatch, kT, Cin, kCout, 3, true, stream);
  aicl::DeviceBuffer<float> scratch(s == Strategy::im2col ? std::size_t(kRows) * 3 * Cin
                                                          : std::size_t(3) * kCout * Cin);
  scratch.zero(stream);
  aicl::DeviceBuffer<float> tap_grads(std::size_t(3) * kCout * Cin);
  aicl::DeviceBuffer<float> one_a(std::size_t(kRows) * 3 * Cin), one_c(std::size_t(kCout) * 3 * Cin);
  one_a.zero(stream);
  GpuTimer timer(stream);
  auto op = [&] {
    // dout is scratch (masked in place); masking twice is a no-op, so reusing it keeps the work identical.
    aicl::detail::conv1d_k3_backward_cuda_with(s, b.dw.data(), b.db.data(), with_din ? b.din.data() : nullptr,
                                               kRowStride, b.dout.data(), b.out.data(), b.in.data(), kRowStride,
                                               b.w.data(), kBatch, kT, Cin, kCout, 3, true, stream);
  };
  op();
  double op_ms = 0, gemm_ms = 0, one_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
    gemm_ms += timer.ms([&] { backward_gemms_only(s, b, scratch, tap_grads, with_din, Cin, stream); });
    one_ms += timer.ms([&] {
      aicl::cublas_gemm(true, false, kCout, 3 * Cin, kRows, 1.f, b.dout.data(), kCout, one_a.data(), 3 * Cin, 0.f,
                        one_c.data(), 3 * Cin, stream);
      if (with_din)
        aicl::cublas_gemm(false, false, kRows, 3 * Cin, kCout, 1.f, b.dout.data(), kCout, b.w.data(), 3 * Cin, 0.f,
                          one_a.data(), 3 * Cin, stream);
    });
  }
  const double flops = 2.0 * kRows * kCout * 3.0 * Cin * (with_din ? 2 : 1);
  set_rate_counters(st, flops, 0, op_ms, tf32);
  st.counters["vs_cublas"] = gemm_ms / op_ms;
  st.counters["vs_one_gemm"] = one_ms / op_ms;
}

void conv3_args(benchmark::internal::Benchmark* b, bool backward) {
  for (int s : {0, 1})
    for (int cin : {2048, 1024})
      for (int tf32 : {0, 1}) {
        if (backward) {
          for (int din : {0, 1}) b->Args({s, cin, tf32, din});
        } else {
          b->Args({s, cin, tf32});
        }
      }
}
BENCHMARK(BM_Conv3Forward)
    ->Apply([](benchmark::internal::Benchmark* b) { conv3_args(b, false); })
    ->ArgNames({"im2col", "Cin", "tf32"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv3Backward)
    ->Apply([](benchmark::internal::Benchmark* b) { conv3_args(b, true); })
    ->ArgNames({"im2col", "Cin", "tf32", "din"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---- conv1d_k1 (heads: 512 -> 20 classifier, 512 -> 1 stream heads) ----
// Bytes counted: forward = in + weight + out; backward = dout + in (+ din read and written when computed).

void BM_Conv1Forward(benchmark::State& st) {
  const int Cout = int(st.range(0));
  aicl::CudaStream stream;
  auto in = device_random(std::size_t(kRows) * kD, 1, stream);
  auto w = device_random(std::size_t(Cout) * kD, 2, stream);
  auto bias = device_random(Cout, 3, stream);
  aicl::DeviceBuffer<float> out(std::size_t(kRows) * Cout);
  GpuTimer timer(stream);
  auto op = [&] { aicl::conv1d_k1_forward_cuda(out.data(), in.data(), w.data(), bias.data(), kRows, kD, Cout, stream); };
  op();
  double op_ms = 0, gemm_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 10);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
    gemm_ms += timer.ms(
        [&] {
          aicl::cublas_gemm(false, true, kRows, Cout, kD, 1.f, in.data(), kD, w.data(), kD, 0.f, out.data(), Cout,
                            stream);
        },
        10);
  }
  set_rate_counters(st, 0, 4.0 * (double(kRows) * kD + double(Cout) * kD + double(kRows) * Cout), op_ms, false);
  st.counters["vs_cublas"] = gemm_ms / op_ms;  // > 1: the hand-written kernel beats a bare cuBLAS GEMM
}
BENCHMARK(BM_Conv1Forward)->Arg(20)->Arg(1)->ArgName("Cout")->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_Conv1Backward(benchmark::State& st) {
  const int Cout = int(st.range(0));
  const bool with_din = st.range(1) != 0;
  aicl::CudaStream stream;
  auto in = device_random(std::size_t(kRows) * kD, 1, stream);
  auto w = device_random(std::size_t(Cout) * kD, 2, stream);
  auto dout = device_random(std::size_t(kRows) * Cout, 3, stream);
  aicl::DeviceBuffer<float> dw(std::size_t(Cout) * kD), db(Cout), din(std::size_t(kRows) * kD);
  dw.zero(stream);
  db.zero(stream);
  din.zero(stream);
  GpuTimer timer(stream);
  auto op = [&] {
    aicl::conv1d_k1_backward_cuda(dw.data(), db.data(), with_din ? din.data() : nullptr, dout.data(), in.data(),
                                  w.data(), kRows, kD, Cout, stream);
  };
  op();
  double op_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 10);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
  }
  const double bytes = 4.0 * (double(kRows) * Cout + double(kRows) * kD + (with_din ? 2.0 * kRows * kD : 0.0));
  set_rate_counters(st, 0, bytes, op_ms, false);
}
BENCHMARK(BM_Conv1Backward)
    ->Args({20, 1})
    ->Args({20, 0})
    ->Args({1, 1})
    ->ArgNames({"Cout", "din"})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---- actionness (N = 12000 rows, 20 classes) ----

void BM_ClassAwareActionness(benchmark::State& st) {
  const bool backward = st.range(0) != 0;
  aicl::CudaStream stream;
  auto cas = device_random(std::size_t(kRows) * kClasses, 1, stream);
  auto a1 = device_random(kRows, 2, stream, 0.f, 1.f);
  auto da1 = device_random(kRows, 3, stream);
  aicl::DeviceBuffer<float> dcas(std::size_t(kRows) * kClasses);
  dcas.zero(stream);
  GpuTimer timer(stream);
  auto op = [&] {
    if (backward)
      aicl::class_aware_actionness_backward_cuda(dcas.data(), da1.data(), a1.data(), kRows, kClasses, stream);
    else
      aicl::class_aware_actionness_forward_cuda(a1.data(), cas.data(), kRows, kClasses, stream);
  };
  op();
  double op_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 20);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
  }
  // forward: cas read + a1 written; backward: dcas read + written, da1 and a1 read.
  const double bytes = backward ? 4.0 * (2.0 * kRows * kClasses + 2.0 * kRows) : 4.0 * (double(kRows) * kClasses + kRows);
  set_rate_counters(st, 0, bytes, op_ms, false);
}
BENCHMARK(BM_ClassAwareActionness)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_Sigmoid(benchmark::State& st) {
  const bool backward = st.range(0) != 0;
  const std::size_t n = std::size_t(kRows) * kClasses;
  aicl::CudaStream stream;
  auto x = device_random(n, 1, stream);
  auto y = device_random(n, 2, stream, 0.f, 1.f);
  auto dx = device_random(n, 3, stream);
  GpuTimer timer(stream);
  auto op = [&] {
    if (backward)
      aicl::sigmoid_backward_cuda(dx.data(), x.data(), y.data(), n, stream);
    else
      aicl::sigmoid_forward_cuda(y.data(), x.data(), n, stream);
  };
  op();
  double op_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 20);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
  }
  set_rate_counters(st, 0, 4.0 * double(n) * (backward ? 4 : 2), op_ms, false);
}
BENCHMARK(BM_Sigmoid)->Arg(0)->Arg(1)->ArgName("backward")->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---- optimizer steps over one flat buffer (8M floats, about AICL's 6.3M parameters rounded up) ----

constexpr std::size_t kParams = std::size_t(1) << 23;

void BM_AdamStep(benchmark::State& st) {
  aicl::CudaStream stream;
  auto p = device_random(kParams, 1, stream);
  auto g = device_random(kParams, 2, stream, -1e-3f, 1e-3f);
  aicl::DeviceBuffer<float> m(kParams), v(kParams);
  m.zero(stream);
  v.zero(stream);
  GpuTimer timer(stream);
  long step = 0;
  auto op = [&] { aicl::adam_step_cuda(p.data(), g.data(), m.data(), v.data(), kParams, 1e-4, 0.9, 0.999, 1e-8, 5e-4, ++step, stream); };
  op();
  double op_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 5);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
  }
  set_rate_counters(st, 0, 4.0 * double(kParams) * 7, op_ms, false);  // read p, g, m, v; write p, m, v
}
BENCHMARK(BM_AdamStep)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_SgdStep(benchmark::State& st) {
  aicl::CudaStream stream;
  auto p = device_random(kParams, 1, stream);
  auto g = device_random(kParams, 2, stream, -1e-3f, 1e-3f);
  aicl::DeviceBuffer<float> buf(kParams);
  buf.zero(stream);
  GpuTimer timer(stream);
  long step = 0;
  auto op = [&] { aicl::sgd_step_cuda(p.data(), g.data(), buf.data(), kParams, 1e-3, 0.9, 1e-4, ++step, stream); };
  op();
  double op_ms = 0;
  for (auto _ : st) {
    const double t = timer.ms(op, 5);
    st.SetIterationTime(t / 1e3);
    op_ms += t;
  }
  set_rate_counters(st, 0, 4.0 * double(kParams) * 5, op_ms, false);  // read p, g, buf; write p, buf
}
BENCHMARK(BM_SgdStep)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (!aicl::cuda_device_available()) {
    std::printf("bench_cuda_dense: no CUDA device available; skipping (nothing measured)\n");
    return 0;
  }
  peaks() = peaks_for_current_device();
  const Peaks& p = peaks();
  std::printf("device: %s | assumed peaks: FP32 %.1f TFLOP/s (SMs x lanes x 2 x clock), TF32 dense %.1f TFLOP/s "
              "(datasheet, 0 = unknown), memory %.0f GB/s (2 x mem clock x bus width)\n",
              p.name.c_str(), p.fp32_tflops, p.tf32_tflops, p.mem_gbps);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
