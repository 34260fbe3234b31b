// Mean squared error between two same-size arrays (AICL's modality and actionness consistency terms, quirk Q12).
#pragma once
#include <cstddef>

namespace aicl {

// mean_i (a[i] - b[i])^2 over n entries. The official symmetric 0.5*mse(a,b) + 0.5*mse(b,a) equals this value.
// n = 0 is rejected with aicl::Error.
template <class T>
T mse_forward(const T* a, const T* b, size_t n);

// Gradient to BOTH inputs, as the official symmetric form gives (neither side is detached):
// da[i] += dloss * 2 (a[i] - b[i]) / n,  db[i] -= the same. Either pointer may be null to skip that side.
template <class T>
void mse_backward(T* da, T* db, T dloss, const T* a, const T* b, size_t n);

}  // namespace aicl
