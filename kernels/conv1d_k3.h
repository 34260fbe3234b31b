// Temporal convolution, odd kernel size K, zero padding K/2 ("same" length), on time-major [B,T,C] activations
// (AICL's and SAL-THUMOS's embedding convs use K = 3, SAL-ActivityNet's base module K = 7). The op keeps its
// historical name conv1d_k3: K = 3 is what every existing caller passes.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// With P = K/2 (K odd, K >= 1; an even or non-positive K throws aicl::Error):
// out[b,t,co] = bias[co] + sum_{j=0..K-1} sum_ci weight[co,ci,j] * in[b,t+j-P,ci]   (in[b,s] = 0 outside [0,Tn)),
// then max(0, .) when relu. out is [B,Tn,Cout] contiguous. Input row (b,t) starts at
// in + (b*Tn + t) * in_stride and holds Cin values (in_stride >= Cin lets a conv read half of the channels).
// weight is PyTorch's Conv1d layout [Cout,Cin,K], bias [Cout]. Videos never mix (Tn < K is fine: taps whose
// shift reaches past the whole video contribute nothing).
template <class T>
void conv1d_k3_forward(T* out, const T* in, int in_stride, const T* weight, const T* bias, int B, int Tn, int Cin,
                       int Cout, int K, bool relu);

// Gradients of conv1d_k3_forward, ACCUMULATED (+=) into dweight [Cout,Cin,K], dbias [Cout] and din (rows of
// din_stride, Cin values each). din may be null (then those GEMMs are skipped). out is the forward output.
// dout is SCRATCH: with relu it is first multiplied in place by (out > 0) (the gradient at out == 0 is taken
// as 0, like torch), and its rows at video boundaries are temporarily zeroed (then restored); afterwards dout
// holds the masked gradient.
template <class T>
void conv1d_k3_backward(T* dweight, T* dbias, T* din, int din_stride, T* dout, const T* out, const T* in,
                        int in_stride, const T* weight, int B, int Tn, int Cin, int Cout, int K, bool relu);

namespace detail {
// How the K taps are turned into GEMMs; the public functions use the fastest measured (see bench_conv).
enum class Conv3Strategy {
  whole_batch,  // one GEMM per tap over all B*Tn rows (tap j shifted by j-K/2 rows); the |j-K/2| rows per video
                // boundary that would mix videos are saved/zeroed and restored
  per_video,    // one GEMM per tap and video (M = Tn - |j-K/2|)
};
template <class T>
void conv1d_k3_forward_with(Conv3Strategy s, T* out, const T* in, int in_stride, const T* weight, const T* bias,
                            int B, int Tn, int Cin, int Cout, int K, bool relu);
template <class T>
void conv1d_k3_backward_with(Conv3Strategy s, T* dweight, T* dbias, T* din, int din_stride, T* dout,
                             const T* out, const T* in, int in_stride, const T* weight, int B, int Tn, int Cin,
                             int Cout, int K, bool relu);
}  // namespace detail

// ---- CUDA twin (kernels/conv1d_k3.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Temporal conv, odd K, zero padding K/2 per video, on time-major [B,T,C] activations.

// Same contract as conv1d_k3_forward (kernels/conv1d_k3.h), float, DEVICE pointers, queued on `stream`.
// weight is PyTorch's [Cout,Cin,K], bias [Cout]; in rows have stride in_stride >= Cin; out is [B,Tn,Cout].
// GEMM precision follows set_cuda_math_mode (kernels/cuda_common.h): FP32 by default, TF32 on request.
void conv1d_k3_forward_cuda(float* out, const float* in, int in_stride, const float* weight, const float* bias,
                            int B, int Tn, int Cin, int Cout, int K, bool relu, cudaStream_t stream);

// Same contract as conv1d_k3_backward: ACCUMULATES into dweight [Cout,Cin,K], dbias [Cout] and din (may be null;
// rows of din_stride). dout is scratch: afterwards it holds dout * (out > 0) when relu (unchanged otherwise).
void conv1d_k3_backward_cuda(float* dweight, float* dbias, float* din, int din_stride, float* dout,
                             const float* out, const float* in, int in_stride, const float* weight, int B, int Tn,
                             int Cin, int Cout, int K, bool relu, cudaStream_t stream);

namespace detail {
// How the K taps become cuBLAS GEMMs (bench_cuda_dense compares them; the public functions use the default).
enum class Conv3CudaStrategy {
  shifted_gemms,  // weight repacked to [K][Cout][Cin]; one GEMM per tap over all B*Tn rows, shifted by j-K/2 rows;
                  // the (B-1)*|j-K/2| rows per tap that would mix videos are saved/zeroed and restored (as on the CPU)
  im2col,         // one GEMM with inner dimension K*Cin against the weight as stored ([Cout, Cin*K]); needs a
                  // [B*Tn, K*Cin] scratch (295 MB at B=16, T=750, Cin=2048, K=3; K=7: 688 MB)
};
constexpr Conv3CudaStrategy kDefaultConv3CudaStrategy = Conv3CudaStrategy::shifted_gemms;

void conv1d_k3_forward_cuda_with(Conv3CudaStrategy s, float* out, const float* in, int in_stride,
                                 const float* weight, const float* bias, int B, int Tn, int Cin, int Cout, int K,
                                 bool relu, cudaStream_t stream);
void conv1d_k3_backward_cuda_with(Conv3CudaStrategy s, float* dweight, float* dbias, float* din, int din_stride,
                                  float* dout, const float* out, const float* in, int in_stride, const float* weight,
                                  int B, int Tn, int Cin, int Cout, int K, bool relu, cudaStream_t stream);
}  // namespace detail

}  // namespace aicl
