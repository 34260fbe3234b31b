// Temporal convolution, kernel 3, zero padding 1, on time-major [B,T,C] activations (AICL's embedding convs).
#pragma once

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

}  // namespace aicl
