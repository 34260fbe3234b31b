// CUDA per-video top-k mask (stable rank per element, one block per video) and the row sum of ReLU.
#include "kernels/topk_mask.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {

constexpr int kMaskThreads = 256;  // one block per video
constexpr unsigned kRowThreads = 128;

// One block per video: the row is staged in shared memory, each t is in the top k when its stable descending rank
// is below k, and each thread writes its own mask entries (read-modify-write when intersecting).
__global__ void topk_mask_kernel(float* mask, const float* score, int Tn, int k, bool intersect) {
  extern __shared__ float row[];
  const long b = blockIdx.x;
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) row[t] = score[b * Tn + t];
  __syncthreads();
  float* m = mask + b * Tn;
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) {
    const bool selected = stable_desc_rank(row, Tn, t, k) < k;
    m[t] = (selected && (!intersect || m[t] != 0.f)) ? 1.f : 0.f;
  }
}

// One thread per row: C is small (20 or 200 classes) and the sequential sum keeps the CPU's order.
__global__ void relu_row_sum_kernel(float* out, const float* in, int N, int C) {
  for (long n = blockIdx.x * long(blockDim.x) + threadIdx.x; n < N; n += long(gridDim.x) * blockDim.x) {
    const float* row = in + n * C;
    float s = 0.f;
    for (int c = 0; c < C; ++c) s = __fadd_rn(s, row[c] < 0.f ? 0.f : row[c]);
    out[n] = s;
  }
}

}  // namespace

void topk_mask_forward_cuda(float* mask, const float* score, int B, int Tn, int k, bool intersect,
                            cudaStream_t stream) {
  if (B < 0 || Tn < 1)
    fail("topk_mask_forward_cuda: bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (k < 1 || k > Tn)
    fail("topk_mask_forward_cuda: k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) + "]");
  if (B == 0) return;
  const std::size_t smem = sizeof(float) * std::size_t(Tn);
  allow_topk_smem(topk_mask_kernel, smem, "topk_mask_forward_cuda", Tn);
  topk_mask_kernel<<<unsigned(B), kMaskThreads, smem, stream>>>(mask, score, Tn, k, intersect);
  AICL_CUDA_CHECK_LAUNCH();
}

void relu_row_sum_forward_cuda(float* out, const float* in, int N, int C, cudaStream_t stream) {
  if (N < 0 || C < 1)
    fail("relu_row_sum_forward_cuda: bad shape N=" + std::to_string(N) + " C=" + std::to_string(C));
  if (N == 0) return;
  relu_row_sum_kernel<<<cuda_blocks_for(std::size_t(N), kRowThreads), kRowThreads, 0, stream>>>(out, in, N, C);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
