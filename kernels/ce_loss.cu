// CUDA video-level cross-entropy with normalised labels: one block per video, fixed-order reductions.
#include "kernels/ce_loss.h"

#include <cub/block/block_reduce.cuh>

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 128;  // C is small (20 for THUMOS14); threads loop over c when C is larger
constexpr float kLabelEps = 1e-10f;

struct MaxOp {
  __device__ float operator()(float a, float b) const { return a < b ? b : a; }
};

// Per-video statistics every thread of the block needs: label sum, log-sum-exp of the logits.
struct RowStats {
  float label_sum, lse;
};

using Reduce = cub::BlockReduce<float, kThreads>;

// Computes the label sum and the max-shifted log-sum-exp of row x (all threads get the result).
__device__ RowStats row_stats(const float* x, const float* y, int C, typename Reduce::TempStorage& tmp,
                              float* shared2) {
  float s = 0.f, mx = -INFINITY;
  for (int c = threadIdx.x; c < C; c += kThreads) {
    s = __fadd_rn(s, y[c]);
    mx = MaxOp()(mx, x[c]);
  }
  const float label_sum = Reduce(tmp).Sum(s);
  __syncthreads();
  const float row_max = Reduce(tmp).Reduce(mx, MaxOp());
  if (threadIdx.x == 0) {
    shared2[0] = label_sum;
    shared2[1] = row_max;
  }
  __syncthreads();
  const float m = shared2[1];
  float e = 0.f;
  for (int c = threadIdx.x; c < C; c += kThreads) e = __fadd_rn(e, expf(__fsub_rn(x[c], m)));
  const float esum = Reduce(tmp).Sum(e);
  __syncthreads();  // shared2 is read below by every thread; the write comes after this barrier
  if (threadIdx.x == 0) shared2[1] = __fadd_rn(m, logf(esum));
  __syncthreads();
  return RowStats{shared2[0], shared2[1]};
}

__global__ void video_ce_rows_kernel(float* row_out, const float* logits, const float* labels, int C) {
  __shared__ typename Reduce::TempStorage tmp;
  __shared__ float shared2[2];
  const long b = blockIdx.x;
  const float* x = logits + b * C;
  const float* y = labels + b * C;
  const RowStats st = row_stats(x, y, C, tmp, shared2);
  float row = 0.f;
  for (int c = threadIdx.x; c < C; c += kThreads) {
    const float ln = __fadd_rn(__fdiv_rn(y[c], st.label_sum), kLabelEps);
    row = __fadd_rn(row, __fmul_rn(ln, __fsub_rn(x[c], st.lse)));
  }
  const float total = Reduce(tmp).Sum(row);
  if (threadIdx.x == 0) row_out[b] = total;
}

// One block: loss = -(sum of the rows in a fixed order) / B.
__global__ void video_ce_final_kernel(float* loss, const float* rows, int B) {
  __shared__ typename Reduce::TempStorage tmp;
  float s = 0.f;
  for (int b = threadIdx.x; b < B; b += kThreads) s = __fadd_rn(s, rows[b]);
  const float total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) *loss = -__fdiv_rn(total, float(B));
}

__global__ void video_ce_backward_kernel(float* dlogits, float scale, const float* logits, const float* labels,
                                         int C) {
  __shared__ typename Reduce::TempStorage tmp;
  __shared__ float shared2[2];
  __shared__ float mass_shared;
  const long b = blockIdx.x;
  const float* x = logits + b * C;
  const float* y = labels + b * C;
  const RowStats st = row_stats(x, y, C, tmp, shared2);
  float m = 0.f;
  for (int c = threadIdx.x; c < C; c += kThreads) m = __fadd_rn(m, __fadd_rn(__fdiv_rn(y[c], st.label_sum), kLabelEps));
  const float mass = Reduce(tmp).Sum(m);
  if (threadIdx.x == 0) mass_shared = mass;
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += kThreads) {
    const float ln = __fadd_rn(__fdiv_rn(y[c], st.label_sum), kLabelEps);
    const float softmax = expf(__fsub_rn(x[c], st.lse));
    const float g = __fmul_rn(scale, __fsub_rn(ln, __fmul_rn(softmax, mass_shared)));
    dlogits[b * C + c] = __fadd_rn(dlogits[b * C + c], g);
  }
}

void check_shape(const char* op, int B, int C) {
  if (B < 1 || C < 1) fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " C=" + std::to_string(C));
}

}  // namespace

void video_ce_forward_cuda(float* loss, const float* logits, const float* labels, int B, int C, cudaStream_t stream) {
  check_shape("video_ce_forward_cuda", B, C);
  ScratchBuffer<float> rows(std::size_t(B), stream);
  video_ce_rows_kernel<<<B, kThreads, 0, stream>>>(rows.data(), logits, labels, C);
  AICL_CUDA_CHECK_LAUNCH();
  video_ce_final_kernel<<<1, kThreads, 0, stream>>>(loss, rows.data(), B);
  AICL_CUDA_CHECK_LAUNCH();
}

void video_ce_backward_cuda(float* dlogits, float dloss, const float* logits, const float* labels, int B, int C,
                            cudaStream_t stream) {
  check_shape("video_ce_backward_cuda", B, C);
  const float scale = float(-double(dloss) / B);
  video_ce_backward_kernel<<<B, kThreads, 0, stream>>>(dlogits, scale, logits, labels, C);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
