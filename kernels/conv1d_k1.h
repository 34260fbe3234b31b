// Pointwise (kernel 1) conv on time-major rows: a linear layer applied to each of the N = B*T segments.
#pragma once

namespace aicl {

// out[n,co] = bias[co] + sum_ci weight[co,ci] * in[n,ci]. in [N,Cin], out [N,Cout] contiguous; weight is
// PyTorch's Conv1d k=1 layout [Cout,Cin,1] (== [Cout,Cin]), bias [Cout].
template <class T>
void conv1d_k1_forward(T* out, const T* in, const T* weight, const T* bias, int N, int Cin, int Cout);

// ACCUMULATES (+=): dweight += dout^T in, dbias += column sums of dout, din += dout weight (din may be null).
template <class T>
void conv1d_k1_backward(T* dweight, T* dbias, T* din, const T* dout, const T* in, const T* weight, int N, int Cin,
                        int Cout);

}  // namespace aicl
