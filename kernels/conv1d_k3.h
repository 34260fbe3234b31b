// Temporal convolution, kernel 3, zero padding 1, on time-major [B,T,C] activations (AICL's embedding convs).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// out[b,t,co] = bias[co] + sum_{k=0..2} sum_ci weight[co,ci,k] * in[b,t+k-1,ci]   (in[b,-1] = in[b,Tn] = 0),
// then max(0, .) when relu. out is [B,Tn,Cout] contiguous. Input row (b,t) starts at
// in + (b*Tn + t) * in_stride and holds Cin values (in_stride >= Cin lets a conv read half of the channels).
// weight is PyTorch's Conv1d layout [Cout,Cin,3], bias [Cout]. Videos never mix.
template <class T>
void conv1d_k3_forward(T* out, const T* in, int in_stride, const T* weight, const T* bias, int B, int Tn, int Cin,
                       int Cout, bool relu);

// Gradients of conv1d_k3_forward, ACCUMULATED (+=) into dweight [Cout,Cin,3], dbias [Cout] and din (rows of
// din_stride, Cin values each). din may be null (then that GEMM is skipped). out is the forward output.
// dout is SCRATCH: with relu it is first multiplied in place by (out > 0) (the gradient at out == 0 is taken
// as 0, like torch), and its rows at video boundaries are temporarily zeroed (then restored); afterwards dout
// holds the masked gradient.
template <class T>
void conv1d_k3_backward(T* dweight, T* dbias, T* din, int din_stride, T* dout, const T* out, const T* in,
                        int in_stride, const T* weight, int B, int Tn, int Cin, int Cout, bool relu);

namespace detail {
// How the three taps are turned into GEMMs; the public functions use the fastest measured (see bench_conv).
enum class Conv3Strategy {
  whole_batch,  // one GEMM per tap over all B*Tn rows; rows that would mix videos are saved/zeroed and restored
  per_video,    // one GEMM per tap and video (M = Tn or Tn-1)
};
template <class T>
void conv1d_k3_forward_with(Conv3Strategy s, T* out, const T* in, int in_stride, const T* weight, const T* bias,
                            int B, int Tn, int Cin, int Cout, bool relu);
template <class T>
void conv1d_k3_backward_with(Conv3Strategy s, T* dweight, T* dbias, T* din, int din_stride, T* dout,
                             const T* out, const T* in, int in_stride, const T* weight, int B, int Tn, int Cin,
                             int Cout, bool relu);
}  // namespace detail

// ---- CUDA twin (kernels/conv1d_k3.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Temporal conv k=3 (zero padding per video) on time-major [B,T,C] activations.

// Same contract as conv1d_k3_forward (kernels/conv1d_k3.h), float, DEVICE pointers, queued on `stream`.
// weight is PyTorch's [Cout,Cin,3], bias [Cout]; in rows have stride in_stride >= Cin; out is [B,Tn,Cout].
// GEMM precision follows set_cuda_math_mode (kernels/cuda_common.h): FP32 by default, TF32 on request.
void conv1d_k3_forward_cuda(float* out, const float* in, int in_stride, const float* weight, const float* bias,
                            int B, int Tn, int Cin, int Cout, bool relu, cudaStream_t stream);

// Same contract as conv1d_k3_backward: ACCUMULATES into dweight [Cout,Cin,3], dbias [Cout] and din (may be null;
// rows of din_stride). dout is scratch: afterwards it holds dout * (out > 0) when relu (unchanged otherwise).
void conv1d_k3_backward_cuda(float* dweight, float* dbias, float* din, int din_stride, float* dout,
                             const float* out, const float* in, int in_stride, const float* weight, int B, int Tn,
                             int Cin, int Cout, bool relu, cudaStream_t stream);

namespace detail {
// How the three taps become cuBLAS GEMMs (bench_cuda_dense compares them; the public functions use the default).
enum class Conv3CudaStrategy {
  shifted_gemms,  // weight repacked to [3][Cout][Cin]; one GEMM per tap over all B*Tn rows, shifted by one row;
                  // the B-1 rows per tap that would mix videos are saved/zeroed and restored (as on the CPU)
  im2col,         // one GEMM with K = 3*Cin against the weight as stored ([Cout, Cin*3]); needs a
                  // [B*Tn, 3*Cin] scratch (295 MB at B=16, T=750, Cin=2048)
};
constexpr Conv3CudaStrategy kDefaultConv3CudaStrategy = Conv3CudaStrategy::shifted_gemms;

void conv1d_k3_forward_cuda_with(Conv3CudaStrategy s, float* out, const float* in, int in_stride,
                                 const float* weight, const float* bias, int B, int Tn, int Cin, int Cout, bool relu,
                                 cudaStream_t stream);
void conv1d_k3_backward_cuda_with(Conv3CudaStrategy s, float* dweight, float* dbias, float* din, int din_stride,
                                  float* dout, const float* out, const float* in, int in_stride, const float* weight,
                                  int B, int Tn, int Cin, int Cout, bool relu, cudaStream_t stream);
}  // namespace detail

}  // namespace aicl
