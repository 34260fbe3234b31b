// CUDA top-k MIL pooling: combined CAS without FMA contraction, rank-based stable top-k per (video, class),
// gather-mean, scatter backward without atomics, pseudo label.
#include "kernels/topk_mil.h"

#include <string>

#include "kernels/cuda_common.h"
#include "kernels/softmax_row.h"
#include "kernels/topk_order.h"

namespace aicl {

namespace {

constexpr int kRowThreads = 128;     // combined CAS: one thread per (b,t) row
constexpr int kSelectThreads = 256;  // top-k: one block per (b,c) column
constexpr int kElemThreads = 256;    // backward / pseudo label: one thread per (b,j,c)

// combined[r,c] = (softmax_c(cas[r,:]) + (flow[r] + rgb[r])) / 3, or the softmax alone when flow is null, in the
// CPU twin's order, each operation rounded on its own (the _rn intrinsics are never contracted into FMAs).
__global__ void combined_cas_kernel(float* combined, const float* cas, const float* flow, const float* rgb, long rows,
                                    int C) {
  for (long r = blockIdx.x * long(blockDim.x) + threadIdx.x; r < rows; r += long(gridDim.x) * blockDim.x) {
    float* out = combined + r * C;
    softmax_row_rn(out, cas + r * C, C);
    if (!flow) continue;
    const float actionness_sum = __fadd_rn(flow[r], rgb[r]);
    for (int c = 0; c < C; ++c) out[c] = __fdiv_rn(__fadd_rn(out[c], actionness_sum), 3.f);
  }
}

// combined = (w_cas·S + w_rgb·rgb) + w_flow·flow (S = softmax or the raw cas), the CPU twin's order, no FMA.
__global__ void weighted_combined_kernel(float* combined, const float* cas, const float* flow, const float* rgb,
                                         bool softmax, float wc, float wr, float wf, long rows, int C) {
  for (long r = blockIdx.x * long(blockDim.x) + threadIdx.x; r < rows; r += long(gridDim.x) * blockDim.x) {
    float* out = combined + r * C;
    if (softmax) softmax_row_rn(out, cas + r * C, C);
    else
      for (int c = 0; c < C; ++c) out[c] = cas[r * C + c];
    for (int c = 0; c < C; ++c) {
      float v = __fmul_rn(wc, out[c]);
      if (flow) {
        v = __fadd_rn(v, __fmul_rn(wr, rgb[r]));
        v = __fadd_rn(v, __fmul_rn(wf, flow[r]));
      }
      out[c] = v;
    }
  }
}

// One block per (b,c). The column is staged in shared memory; element i's rank in the stable descending order is
// #{j : v_j before v_i} (greater, or equal with j < i), so ranks are distinct and rank < k picks the top k. A thread
// stops counting once the rank reaches k (most elements of a long column leave early). Then the raw cas at the k
// indices is gathered and summed in rank order by one thread (the CPU's order) and divided by k.
__global__ void topk_select_kernel(float* cas_top, int* topk_idx, const float* combined, const float* cas, int Tn,
                                   int C, int k) {
  extern __shared__ float smem[];
  float* col = smem;                            // [Tn]; reused for the gathered cas values
  int* sel = reinterpret_cast<int*>(smem + Tn);  // [k]
  const long b = blockIdx.x / C;
  const int c = int(blockIdx.x % C);
  const float* comb_col = combined + b * Tn * C + c;
  const float* cas_col = cas + b * Tn * C + c;
  for (int t = threadIdx.x; t < Tn; t += blockDim.x) col[t] = comb_col[long(t) * C];
  __syncthreads();
  for (int i = threadIdx.x; i < Tn; i += blockDim.x) {
    const int rank = stable_desc_rank(col, Tn, i, k);
    if (rank < k) sel[rank] = i;
  }
  __syncthreads();
  for (int j = threadIdx.x; j < k; j += blockDim.x) {
    const int t = sel[j];
    topk_idx[(b * k + j) * C + c] = t;
    col[j] = cas_col[long(t) * C];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float acc = 0.f;
    for (int j = 0; j < k; ++j) acc = __fadd_rn(acc, col[j]);
    cas_top[b * C + c] = __fdiv_rn(acc, float(k));
  }
}

__global__ void topk_backward_kernel(float* dcas, const float* dcas_top, const int* topk_idx, int Tn, int C, int k,
                                     long total) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
    const int c = int(i % C);
    const long b = i / (long(k) * C);
    const int t = topk_idx[i];
    if (t < 0 || t >= Tn) continue;
    float& d = dcas[(b * Tn + t) * C + c];
    d = __fadd_rn(d, __fdiv_rn(dcas_top[b * C + c], float(k)));
  }
}

// Several threads may write 1 to the same y[b,t] (classes sharing a segment): the same value, so the result is exact.
__global__ void pseudo_label_kernel(float* y, const int* topk_idx, const float* labels, int Tn, int C, int k,
                                    long total) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
    const int c = int(i % C);
    const long b = i / (long(k) * C);
    if (labels[b * C + c] == 0.f) continue;
    const int t = topk_idx[i];
    if (t < 0 || t >= Tn) continue;
    y[b * Tn + t] = 1.f;
  }
}

void check_topk_shape(const char* op, int B, int Tn, int C, int k) {
  if (B < 0 || Tn < 1 || C < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn) +
         " C=" + std::to_string(C));
  if (k < 1 || k > Tn)
    fail(std::string(op) + ": k=" + std::to_string(k) + " must be in [1, T=" + std::to_string(Tn) +
         "] (k = T//8 is 0 for videos shorter than 8 segments)");
}

// The per-(video, class) top-k of `combined` and the mean raw CAS at those indices (both forward variants).
void launch_topk_select(const char* op, float* cas_top, int* topk_idx, const float* combined, const float* cas, int B,
                        int Tn, int C, int k, cudaStream_t stream) {
  const std::size_t smem = sizeof(float) * std::size_t(Tn) + sizeof(int) * std::size_t(k);
  allow_topk_smem(topk_select_kernel, smem, op, Tn);
  const long slices = long(B) * C;
  if (slices > 0x7fffffffL) fail(std::string(op) + ": B*C too large for one launch");
  topk_select_kernel<<<unsigned(slices), kSelectThreads, smem, stream>>>(cas_top, topk_idx, combined, cas, Tn, C,
                                                                        k);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

void topk_mil_forward_cuda(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                           const float* rgb, int B, int Tn, int C, int k, cudaStream_t stream) {
  check_topk_shape("topk_mil_forward_cuda", B, Tn, C, k);
  if (!flow != !rgb) fail("topk_mil_forward_cuda: flow and rgb must both be given or both be null");
  if (B == 0) return;
  const long rows = long(B) * Tn;
  combined_cas_kernel<<<cuda_blocks_for(std::size_t(rows), kRowThreads), kRowThreads, 0, stream>>>(
      combined, cas, flow, rgb, rows, C);
  AICL_CUDA_CHECK_LAUNCH();
  launch_topk_select("topk_mil_forward_cuda", cas_top, topk_idx, combined, cas, B, Tn, C, k, stream);
}

void topk_mil_weighted_forward_cuda(float* cas_top, int* topk_idx, float* combined, const float* cas,
                                    const float* flow, const float* rgb, const MilSelection& sel, int B, int Tn, int C,
                                    int k, cudaStream_t stream) {
  check_topk_shape("topk_mil_weighted_forward_cuda", B, Tn, C, k);
  if (!flow != !rgb) fail("topk_mil_weighted_forward_cuda: flow and rgb must both be given or both be null");
  if (B == 0) return;
  const long rows = long(B) * Tn;
  weighted_combined_kernel<<<cuda_blocks_for(std::size_t(rows), kRowThreads), kRowThreads, 0, stream>>>(
      combined, cas, flow, rgb, sel.softmax, float(sel.w_cas), float(sel.w_rgb), float(sel.w_flow), rows, C);
  AICL_CUDA_CHECK_LAUNCH();
  launch_topk_select("topk_mil_weighted_forward_cuda", cas_top, topk_idx, combined, cas, B, Tn, C, k, stream);
}

void topk_mil_backward_cuda(float* dcas, const float* dcas_top, const int* topk_idx, int B, int Tn, int C, int k,
                            cudaStream_t stream) {
  check_topk_shape("topk_mil_backward_cuda", B, Tn, C, k);
  const long total = long(B) * k * C;
  if (total == 0) return;
  topk_backward_kernel<<<cuda_blocks_for(std::size_t(total), kElemThreads), kElemThreads, 0, stream>>>(
      dcas, dcas_top, topk_idx, Tn, C, k, total);
  AICL_CUDA_CHECK_LAUNCH();
}

void pseudo_label_forward_cuda(float* y, const int* topk_idx, const float* labels, int B, int Tn, int C, int k,
                               cudaStream_t stream) {
  check_topk_shape("pseudo_label_forward_cuda", B, Tn, C, k);
  if (B == 0) return;
  AICL_CUDA_CHECK(cudaMemsetAsync(y, 0, sizeof(float) * std::size_t(B) * Tn, stream));
  const long total = long(B) * k * C;
  pseudo_label_kernel<<<cuda_blocks_for(std::size_t(total), kElemThreads), kElemThreads, 0, stream>>>(
      y, topk_idx, labels, Tn, C, k, total);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
