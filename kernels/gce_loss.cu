// CUDA generalized cross-entropy: one block per video (fixed-order reductions), then a single-block final pass.
#include "kernels/gce_loss.h"

#include <cub/block/block_reduce.cuh>

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;
constexpr float kGceEps = 1e-7f;  // official: (p + 1e-7)^q, (1 - p + 1e-7)^q, sums + 1e-7

// Two sums reduced together.
struct Pair {
  float x, y;
};
struct PairSum {
  __device__ Pair operator()(const Pair& a, const Pair& b) const { return Pair{__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y)}; }
};
using PairReduce = cub::BlockReduce<Pair, kThreads>;

// The per-segment weight: m[t], or 1 without a mask (multiplying by 1 leaves every value unchanged).
__device__ __forceinline__ float weight(const float* m, int t) { return m ? m[t] : 1.f; }

// pos_b = sum_t y m + 1e-7 and neg_b = sum_t (1 - y) m + 1e-7 of one video, broadcast to every thread.
__device__ Pair label_masses(const float* y, const float* m, int Tn, typename PairReduce::TempStorage& tmp,
                             Pair* shared) {
  Pair s{0.f, 0.f};
  for (int t = threadIdx.x; t < Tn; t += kThreads) {
    s.x = __fadd_rn(s.x, __fmul_rn(y[t], weight(m, t)));
    s.y = __fadd_rn(s.y, __fmul_rn(__fsub_rn(1.f, y[t]), weight(m, t)));
  }
  const Pair total = PairReduce(tmp).Reduce(s, PairSum());
  if (threadIdx.x == 0) *shared = Pair{__fadd_rn(total.x, kGceEps), __fadd_rn(total.y, kGceEps)};
  __syncthreads();
  return *shared;
}

// row_out[2b], row_out[2b+1] = the video's first and second normalised sums.
__global__ void gce_rows_kernel(float* row_out, const float* p, const float* y, const float* mask, int Tn, float q) {
  __shared__ typename PairReduce::TempStorage tmp;
  __shared__ Pair masses;
  const long b = blockIdx.x;
  const float* pb = p + b * Tn;
  const float* yb = y + b * Tn;
  const float* wb = mask ? mask + b * Tn : nullptr;
  const Pair m = label_masses(yb, wb, Tn, tmp, &masses);
  Pair s{0.f, 0.f};
  for (int t = threadIdx.x; t < Tn; t += kThreads) {
    const float pt = pb[t], yt = __fmul_rn(yb[t], weight(wb, t)), nt = __fmul_rn(__fsub_rn(1.f, yb[t]), weight(wb, t));
    const float pos_term = __fdiv_rn(__fsub_rn(1.f, powf(__fadd_rn(pt, kGceEps), q)), q);
    const float neg_term = __fdiv_rn(__fsub_rn(1.f, powf(__fadd_rn(__fsub_rn(1.f, pt), kGceEps), q)), q);
    s.x = __fadd_rn(s.x, __fmul_rn(pos_term, yt));
    s.y = __fadd_rn(s.y, __fmul_rn(neg_term, nt));
  }
  const Pair total = PairReduce(tmp).Reduce(s, PairSum());
  if (threadIdx.x == 0) {
    row_out[2 * b] = __fdiv_rn(total.x, m.x);
    row_out[2 * b + 1] = __fdiv_rn(total.y, m.y);
  }
}

// One block: loss = (sum_b first_b) / B + (sum_b second_b) / B, the videos added in a fixed order.
__global__ void gce_final_kernel(float* loss, const float* rows, int B) {
  __shared__ typename PairReduce::TempStorage tmp;
  Pair s{0.f, 0.f};
  for (int b = threadIdx.x; b < B; b += kThreads) {
    s.x = __fadd_rn(s.x, rows[2 * b]);
    s.y = __fadd_rn(s.y, rows[2 * b + 1]);
  }
  const Pair total = PairReduce(tmp).Reduce(s, PairSum());
  if (threadIdx.x == 0) *loss = __fadd_rn(__fdiv_rn(total.x, float(B)), __fdiv_rn(total.y, float(B)));
}

__global__ void gce_backward_kernel(float* dp, float scale, const float* p, const float* y, const float* mask, int Tn,
                                    float q) {
  __shared__ typename PairReduce::TempStorage tmp;
  __shared__ Pair masses;
  const long b = blockIdx.x;
  const float* pb = p + b * Tn;
  const float* yb = y + b * Tn;
  const float* wb = mask ? mask + b * Tn : nullptr;
  const Pair m = label_masses(yb, wb, Tn, tmp, &masses);
  for (int t = threadIdx.x; t < Tn; t += kThreads) {
    const float pt = pb[t], yt = __fmul_rn(yb[t], weight(wb, t)), nt = __fmul_rn(__fsub_rn(1.f, yb[t]), weight(wb, t));
    // d/dp (1 - (p+e)^q)/q = -(p+e)^(q-1);  d/dp (1 - (1-p+e)^q)/q = +(1-p+e)^(q-1).
    const float pos = __fdiv_rn(__fmul_rn(powf(__fadd_rn(pt, kGceEps), q - 1.f), yt), m.x);
    const float neg = __fdiv_rn(__fmul_rn(powf(__fadd_rn(__fsub_rn(1.f, pt), kGceEps), q - 1.f), nt), m.y);
    dp[b * Tn + t] = __fadd_rn(dp[b * Tn + t], __fmul_rn(scale, __fsub_rn(neg, pos)));
  }
}

void check_gce_args(const char* op, int B, int Tn, double q) {
  if (B < 1 || Tn < 1) fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (!(q > 0)) fail(std::string(op) + ": q=" + std::to_string(q) + " must be > 0");
}

}  // namespace

void gce_forward_cuda(float* loss, const float* p, const float* y, int B, int Tn, double q, cudaStream_t stream,
                      const float* m) {
  check_gce_args("gce_forward_cuda", B, Tn, q);
  ScratchBuffer<float> rows(2 * std::size_t(B), stream);
  gce_rows_kernel<<<B, kThreads, 0, stream>>>(rows.data(), p, y, m, Tn, float(q));
  AICL_CUDA_CHECK_LAUNCH();
  gce_final_kernel<<<1, kThreads, 0, stream>>>(loss, rows.data(), B);
  AICL_CUDA_CHECK_LAUNCH();
}

void gce_backward_cuda(float* dp, float dloss, const float* p, const float* y, int B, int Tn, double q,
                       cudaStream_t stream, const float* m) {
  check_gce_args("gce_backward_cuda", B, Tn, q);
  gce_backward_kernel<<<B, kThreads, 0, stream>>>(dp, float(double(dloss) / B), p, y, m, Tn, float(q));
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
