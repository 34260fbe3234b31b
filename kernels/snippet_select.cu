// CUDA consistent / inconsistent snippet mining: per-video exact medians, binarisation, stable rank-based top-k.
#include "kernels/snippet_select.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;  // one block per video

// torch's order for descending sorts: NaN above everything, otherwise '>'.
__device__ __forceinline__ bool desc_greater(float a, float b) { return (isnan(a) && !isnan(b)) || a > b; }

// numpy_median of v[0..n) (shared memory, not modified). Element i's ascending rank is #{j : v_j < v_i} +
// #{j < i : v_j == v_i}: ranks are distinct, so exactly one thread holds rank n/2 and (for even n) one holds
// n/2 - 1; their values are the sorted array's middle values whatever the ties. Every thread gets the result.
__device__ float block_median(const float* v, int n, float* slots) {
  const int hi = n / 2;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float vi = v[i];
    int rank = 0;
    for (int j = 0; j < n; ++j) {
      const float vj = v[j];
      rank += (vj < vi || (j < i && vj == vi)) ? 1 : 0;
    }
    if (rank == hi) slots[1] = vi;
    if (rank == hi - 1) slots[0] = vi;
  }
  __syncthreads();
  // numpy for an even count: the two middle values summed in the dtype, then halved.
  const float m = (n % 2 == 1) ? slots[1] : __fdiv_rn(__fadd_rn(slots[0], slots[1]), 2.f);
  __syncthreads();  // slots may be reused by the caller
  return m;
}

// out[rank] = i for every i whose rank in the stable descending order of v[0..n) is below k (ties: lower index
// first). A thread stops counting once the rank reaches k.
__device__ void block_topk_desc(int* out, const float* v, int n, int k) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float vi = v[i];
    int rank = 0;
    for (int j0 = 0; j0 < n && rank < k; j0 += 32) {
      const int j1 = j0 + 32 < n ? j0 + 32 : n;
      for (int j = j0; j < j1; ++j) {
        const float vj = v[j];
        rank += (desc_greater(vj, vi) || (j < i && !desc_greater(vi, vj))) ? 1 : 0;
      }
    }
    if (rank < k) out[rank] = i;
  }
}

__global__ void snippet_select_kernel(int* idx_CA, int* idx_CB, int* idx_IA, int* idx_IB, const float* a1,
                                      const float* a2, int Tn, int k) {
  extern __shared__ float buf[];  // [Tn]: one curve or one score at a time
  __shared__ float slots[2];
  __shared__ float warp_max[kThreads / 32];
  const long b = blockIdx.x;
  const float* x1 = a1 + b * Tn;
  const float* x2 = a2 + b * Tn;

  for (int t = threadIdx.x; t < Tn; t += blockDim.x) buf[t] = x2[t];
  __syncthreads();
  const float med2 = block_median(buf, Tn, slots);
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) buf[t] = x1[t];
  __syncthreads();
  const float med1 = block_median(buf, Tn, slots);

  // max_t a1 (order-free for non-NaN values, so any reduction order gives the CPU's value).
  float mx = -INFINITY;
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) mx = mx < buf[t] ? buf[t] : mx;
  for (int off = 16; off > 0; off >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, mx, off);
    mx = mx < o ? o : mx;
  }
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = mx;
  __syncthreads();
  mx = warp_max[0];
  for (int w = 1; w < kThreads / 32; ++w) mx = mx < warp_max[w] ? warp_max[w] : mx;
  __syncthreads();  // everyone has read buf (a1) and warp_max before buf is overwritten

  int* const outs[4] = {idx_CA + b * k, idx_CB + b * k, idx_IA + b * k, idx_IB + b * k};
  for (int g = 0; g < 4; ++g) {
    for (int t = threadIdx.x; t < Tn; t += blockDim.x) {
      const float v1 = x1[t];
      const bool bin1 = v1 > med1, bin2 = x2[t] > med2;
      const float act = (bin1 && bin2) ? 1.f : 0.f;
      const float bkg = (!bin1 && !bin2) ? 1.f : 0.f;
      const float inc = (bin1 != bin2) ? 1.f : 0.f;
      const float rev = __fsub_rn(mx, v1);
      float s;
      if (g == 0) s = __fmul_rn(v1, act);        // CA
      else if (g == 1) s = __fmul_rn(rev, bkg);  // CB
      else if (g == 2) s = __fmul_rn(v1, inc);   // IA
      else s = __fmul_rn(rev, inc);              // IB
      buf[t] = s;
    }
    __syncthreads();
    block_topk_desc(outs[g], buf, Tn, k);
    __syncthreads();
  }
}

}  // namespace

void snippet_select_forward_cuda(int* idx_CA, int* idx_CB, int* idx_IA, int* idx_IB, const float* a1, const float* a2,
                                 int B, int Tn, int k, cudaStream_t stream) {
  if (B < 0 || Tn < 1)
    fail("snippet_select_forward_cuda: bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn));
  if (k < 1 || k > Tn)
    fail("snippet_select_forward_cuda: k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) +
         "] (k = T//20 is 0 for videos shorter than 20 segments)");
  if (B == 0) return;
  // The kernel's static arrays count too: without them T in [12279, 12288] launched with too much shared memory.
  const std::size_t smem = opt_in_dynamic_smem(reinterpret_cast<const void*>(snippet_select_kernel),
                                               sizeof(float) * std::size_t(Tn),
                                               "snippet_select_forward_cuda: T=" + std::to_string(Tn));
  snippet_select_kernel<<<B, kThreads, smem, stream>>>(idx_CA, idx_CB, idx_IA, idx_IB, a1, a2, Tn, k);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
