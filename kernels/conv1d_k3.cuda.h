// CUDA twin of kernels/conv1d_k3.h: temporal conv k=3 (zero padding per video) on time-major [B,T,C] activations.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

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
