// Rank-range selection of snippet indices on the GPU: stable descending ranks by counting (see rank_select.h).
#include "kernels/rank_select.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {

void check_args(const char* fn, int ld, int stride, int col, int B, int Tn, int r0, int n) {
  if (B < 0 || Tn < 1 || n < 0 || r0 < 0 || r0 + n > Tn || col < 0 || col >= stride || ld < n)
    fail(std::string(fn) + ": bad arguments B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " ranks [" +
         std::to_string(r0) + ", " + std::to_string(r0 + n) + ") col=" + std::to_string(col) + " stride=" +
         std::to_string(stride) + " ld=" + std::to_string(ld));
}

// sel[b·n + rank − r0] = t for the snippets whose stable descending rank falls in [r0, r0 + n). Block b, the
// video's scores staged in shared memory.
__global__ void rank_kernel(int* sel, const float* score, int stride, int col, int Tn, int r0, int n) {
  extern __shared__ float s[];
  const long b = blockIdx.x;
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) s[t] = score[(b * Tn + t) * stride + col];
  __syncthreads();
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) {
    const int rank = stable_desc_rank(s, Tn, t, r0 + n);
    if (rank >= r0 && rank < r0 + n) sel[b * n + rank - r0] = t;
  }
}

// idx[b·ld + j] = sel's entry of rank j (rank order) or of time position j (time_order: a chosen index's position
// is the number of chosen indices below it; they are distinct).
__global__ void place_kernel(int* idx, int ld, const int* sel, int B, int n, bool time_order) {
  const long i = blockIdx.x * long(blockDim.x) + threadIdx.x;
  if (i >= long(B) * n) return;
  const long b = i / n;
  const int j = int(i % n), v = sel[i];
  int pos = j;
  if (time_order) {
    pos = 0;
    for (int u = 0; u < n; ++u) pos += sel[b * n + u] < v ? 1 : 0;
  }
  idx[b * ld + pos] = v;
}

}  // namespace

void rank_select_forward_cuda(int* idx, int ld, const float* score, int stride, int col, int B, int Tn, int r0,
                              int n, bool time_order, cudaStream_t stream) {
  check_args("rank_select_forward_cuda", ld, stride, col, B, Tn, r0, n);
  if (B == 0 || n == 0) return;
  const std::size_t smem = opt_in_dynamic_smem(reinterpret_cast<const void*>(rank_kernel),
                                               std::size_t(Tn) * sizeof(float),
                                               "rank_select_forward_cuda (T = " + std::to_string(Tn) + ")");
  ScratchBuffer<int> sel(std::size_t(B) * n, stream);
  rank_kernel<<<B, 256, smem, stream>>>(sel.data(), score, stride, col, Tn, r0, n);
  AICL_CUDA_CHECK_LAUNCH();
  const long total = long(B) * n;
  place_kernel<<<unsigned((total + 127) / 128), 128, 0, stream>>>(idx, ld, sel.data(), B, n, time_order);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
