// Elementwise sigmoid, AICL's class-aware actionness a1 = sigmoid(sum over classes of the CAS), and the mean of two
// stream actionness curves (AICL's class-agnostic actionness a2 = (flow + rgb) / 2).
#pragma once
#include <cstddef>

namespace aicl {

// out[i] = 1 / (1 + exp(-in[i])) (torch's formula).
template <class T>
void sigmoid_forward(T* out, const T* in, std::size_t n);

// din[i] += dout[i] * (1 - out[i]) * out[i], with out the sigmoid's output (ACCUMULATES).
template <class T>
void sigmoid_backward(T* din, const T* dout, const T* out, std::size_t n);

// a1[n] = sigmoid(sum_c cas[n,c]) for cas [N,C] row-major (sequential sum over c in T's precision).
template <class T>
void class_aware_actionness_forward(T* a1, const T* cas, int N, int C);

// dcas[n,c] += da1[n] * (1 - a1[n]) * a1[n] for every c (ACCUMULATES).
template <class T>
void class_aware_actionness_backward(T* dcas, const T* da1, const T* a1, int N, int C);

// out[i] = (a[i] + b[i]) / 2 (float expression order: the sum, then the division).
template <class T>
void stream_mean_forward(T* out, const T* a, const T* b, std::size_t n);

// da[i] += dout[i] / 2, db[i] += dout[i] / 2 (ACCUMULATES; the half is formed first, as 0.5 * dout).
template <class T>
void stream_mean_backward(T* da, T* db, const T* dout, std::size_t n);

}  // namespace aicl
