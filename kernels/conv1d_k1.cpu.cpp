// CPU pointwise conv (per-segment linear layer): one GEMM each for forward, weight gradient and input gradient.
#include "kernels/conv1d_k1.h"

#include <cstddef>
#include <vector>

#include "kernels/gemm.h"

namespace aicl {

namespace {
constexpr std::size_t kParallelWork = 1 << 15;  // below this many elements an OpenMP region costs more than it saves
}

template <class T>
void conv1d_k1_forward(T* out, const T* in, const T* weight, const T* bias, int N, int Cin, int Cout) {
  if (N <= 0 || Cout <= 0) return;
  gemm<T>(false, true, N, Cout, Cin, T(1), in, Cin, weight, Cin, T(0), out, Cout);
#pragma omp parallel for if (std::size_t(N) * Cout > kParallelWork)
  for (int n = 0; n < N; ++n) {
    T* o = out + std::size_t(n) * Cout;
    for (int co = 0; co < Cout; ++co) o[co] += bias[co];
  }
}

template <class T>
void conv1d_k1_backward(T* dweight, T* dbias, T* din, const T* dout, const T* in, const T* weight, int N, int Cin,
                        int Cout) {
  if (N <= 0 || Cout <= 0) return;
  gemm<T>(true, false, Cout, Cin, N, T(1), dout, Cout, in, Cin, T(1), dweight, Cin);
  if (din) gemm<T>(false, false, N, Cin, Cout, T(1), dout, Cout, weight, Cin, T(1), din, Cin);
  // Column sums in double: the float result then does not drift with N.
  std::vector<double> acc(Cout, 0.0);
  for (int n = 0; n < N; ++n) {
    const T* g = dout + std::size_t(n) * Cout;
    for (int co = 0; co < Cout; ++co) acc[co] += double(g[co]);
  }
  for (int co = 0; co < Cout; ++co) dbias[co] += T(acc[co]);
}

template void conv1d_k1_forward<float>(float*, const float*, const float*, const float*, int, int, int);
template void conv1d_k1_forward<double>(double*, const double*, const double*, const double*, int, int, int);
template void conv1d_k1_backward<float>(float*, float*, float*, const float*, const float*, const float*, int, int,
                                        int);
template void conv1d_k1_backward<double>(double*, double*, double*, const double*, const double*, const double*,
                                         int, int, int);

}  // namespace aicl
