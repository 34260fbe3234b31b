// Gathers chosen rows of each video's [Tn, D] features, or their mean (FTCL's LCS/FSD candidate sets and ACM-Net's
// attention-top-k mean features), and scatters the gradient back.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// x [B, Tn, D]; idx[b·ld + j], j < n: time indices of video b (e.g. from rank_select_forward).
//   mean = false: out[b, j, :] = x[b, idx[b·ld + j], :]                    (out [B, n, D])
//   mean = true:  out[b, :] = (Σ_j x[b, idx[b·ld + j], :]) / n, summed in j order in T, then divided (torch.mean
//                 of the gathered rows)                                      (out [B, D])
// OVERWRITES out. Throws aicl::Error unless B >= 0, Tn >= 1, D >= 1, n >= 1, ld >= n (an index outside [0, Tn)
// throws on the CPU).
template <class T>
void gather_rows_forward(T* out, const T* x, const int* idx, int ld, int B, int Tn, int D, int n, bool mean);

// dx[b, idx[b·ld + j], :] += dout[b, j, :]   (mean: dout[b, :] / n) (ACCUMULATES). The indices of one video must be
// distinct (the CUDA twin scatters without atomics); the CPU adds in j order either way.
template <class T>
void gather_rows_backward(T* dx, const T* dout, const int* idx, int ld, int B, int Tn, int D, int n, bool mean);

// ---- CUDA twin (kernels/gather_rows.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread per output element (the mean sums its n rows in the CPU's order); the backward one thread per
// (b, j, d): distinct indices make every write distinct. Bit for bit the CPU's float results; indices outside
// [0, Tn) are skipped (no host check without a synchronisation).
void gather_rows_forward_cuda(float* out, const float* x, const int* idx, int ld, int B, int Tn, int D, int n,
                              bool mean, cudaStream_t stream);
void gather_rows_backward_cuda(float* dx, const float* dout, const int* idx, int ld, int B, int Tn, int D, int n,
                               bool mean, cudaStream_t stream);

}  // namespace aicl
