// CPU conv1d (odd kernel K, zero padding K/2) forward/backward as K tap-shifted GEMMs over time-major activations.
//
// With P = K/2, tap j of the kernel multiplies input row t+s into output row t, s = j-P, so each tap is one GEMM
// between the input shifted by |s| rows and the tap's [Cout,Cin] weight slice. Over the whole batch (B*Tn rows at
// once) a shifted GEMM would leak the last |s| rows of one video into the first |s| output rows of the next (s < 0)
// or the first |s| rows of the next video into the last |s| output rows of this one (s > 0); those rows are saved
// before the GEMM and restored after it (forward), or their gradient rows are zeroed while the shifted GEMMs run
// (backward). Rows whose source lies outside [0,Tn) at the two ends of the batch are outside the shifted GEMM's
// range, and a tap with |s| >= Tn has no valid pair at all and is skipped. This keeps zero padding exact with no
// im2col copy. The centre tap runs first (beta = 0), then taps j = 0..K-1 in order: for K = 3 these are exactly
// the GEMMs, in the same order, of the former kernel-3-only code (bitwise identical results).
#include "kernels/conv1d_k3.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "kernels/gemm.h"

namespace aicl {

namespace {

constexpr std::size_t kParallelWork = 1 << 15;  // below this many elements an OpenMP region costs more than it saves

// Per-thread scratch that only grows: the tap buffers are tens of MB, and a fresh allocation every call costs
// page faults on first touch (measurable at small T). `slot` separates buffers that are live at the same time.
template <class T>
T* scratch(int slot, std::size_t n) {
  thread_local std::vector<T> buffers[3];
  std::vector<T>& b = buffers[slot];
  if (b.size() < n) b.resize(n);
  return b.data();
}

void check_kernel_size(const char* fn, int K) {
  AICL_CHECK(K >= 1 && K % 2 == 1, std::string(fn) + ": kernel size K=" + std::to_string(K) +
                                       " is not supported (odd K >= 1 only: zero padding K/2 keeps the length)");
}

// [Cout,Cin,K] -> [K][Cout][Cin]: each tap becomes a contiguous row-major matrix a GEMM can read.
template <class T>
void repack_taps(T* taps, const T* weight, int Cin, int Cout, int K) {
  const std::size_t plane = std::size_t(Cout) * Cin;
#pragma omp parallel for if (plane * K > kParallelWork)
  for (int co = 0; co < Cout; ++co) {
    const T* w = weight + std::size_t(co) * Cin * K;
    T* t0 = taps + std::size_t(co) * Cin;
    for (int ci = 0; ci < Cin; ++ci)
      for (int j = 0; j < K; ++j) t0[j * plane + ci] = w[std::size_t(K) * ci + j];
  }
}

// out[r] = relu?(out[r] + bias) for every row.
template <class T>
void add_bias_relu(T* out, const T* bias, long rows, int Cout, bool relu) {
#pragma omp parallel for if (std::size_t(rows) * Cout > kParallelWork)
  for (long r = 0; r < rows; ++r) {
    T* o = out + std::size_t(r) * Cout;
    if (relu)
      for (int co = 0; co < Cout; ++co) {
        const T v = o[co] + bias[co];
        o[co] = v > T(0) ? v : T(0);
      }
    else
      for (int co = 0; co < Cout; ++co) o[co] += bias[co];
  }
}

// Copies `count` blocks of `block` consecutive rows, block i starting at row first_row + i*step (each row `width`
// values of a matrix with row stride `ld`), into / out of a small buffer, or zeroes them.
template <class T>
void save_rows(std::vector<T>& buf, const T* m, int ld, long first_row, long step, int count, int block,
               int width) {
  buf.resize(std::size_t(count) * block * width);
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < block; ++k)
      std::memcpy(&buf[(std::size_t(i) * block + k) * width], m + std::size_t(first_row + i * step + k) * ld,
                  sizeof(T) * width);
}
template <class T>
void restore_rows(const std::vector<T>& buf, T* m, int ld, long first_row, long step, int count, int block,
                  int width) {
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < block; ++k)
      std::memcpy(m + std::size_t(first_row + i * step + k) * ld, &buf[(std::size_t(i) * block + k) * width],
                  sizeof(T) * width);
}
template <class T>
void zero_rows(T* m, int ld, long first_row, long step, int count, int block, int width) {
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < block; ++k) std::memset(m + std::size_t(first_row + i * step + k) * ld, 0, sizeof(T) * width);
}

}  // namespace

namespace detail {

template <class T>
void conv1d_k3_forward_with(Conv3Strategy s, T* out, const T* in, int in_stride, const T* weight, const T* bias,
                            int B, int Tn, int Cin, int Cout, int K, bool relu) {
  check_kernel_size("conv1d_k3_forward", K);
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  const int P = K / 2;
  const std::size_t plane = std::size_t(Cout) * Cin;
  T* taps = scratch<T>(0, std::size_t(K) * plane);
  repack_taps(taps, weight, Cin, Cout, K);
  auto tap = [&](int j) -> const T* { return taps + std::size_t(j) * plane; };

  if (s == Conv3Strategy::whole_batch) {
    gemm<T>(false, true, int(rows), Cout, Cin, T(1), in, in_stride, tap(P), Cin, T(0), out, Cout);
    std::vector<T> saved;
    for (int j = 0; j < K; ++j) {
      const int shift = j - P, a = shift < 0 ? -shift : shift;
      if (shift == 0 || a >= Tn) continue;  // |shift| >= Tn: no output row has its source inside its video
      const int M = int(rows - a);
      if (shift < 0) {
        // Input row t-a: the first a output rows of videos 1..B-1 would receive the previous video's last rows.
        save_rows(saved, out, Cout, Tn, Tn, B - 1, a, Cout);
        gemm<T>(false, true, M, Cout, Cin, T(1), in, in_stride, tap(j), Cin, T(1), out + std::size_t(a) * Cout,
                Cout);
        restore_rows(saved, out, Cout, Tn, Tn, B - 1, a, Cout);
      } else {
        // Input row t+a: the last a output rows of videos 0..B-2 would receive the next video's first rows.
        save_rows(saved, out, Cout, Tn - a, Tn, B - 1, a, Cout);
        gemm<T>(false, true, M, Cout, Cin, T(1), in + std::size_t(a) * in_stride, in_stride, tap(j), Cin, T(1),
                out, Cout);
        restore_rows(saved, out, Cout, Tn - a, Tn, B - 1, a, Cout);
      }
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const T* x = in + std::size_t(b) * Tn * in_stride;
      T* o = out + std::size_t(b) * Tn * Cout;
      gemm<T>(false, true, Tn, Cout, Cin, T(1), x, in_stride, tap(P), Cin, T(0), o, Cout);
      for (int j = 0; j < K; ++j) {
        const int shift = j - P, a = shift < 0 ? -shift : shift;
        if (shift == 0 || a >= Tn) continue;
        if (shift < 0)
          gemm<T>(false, true, Tn - a, Cout, Cin, T(1), x, in_stride, tap(j), Cin, T(1), o + std::size_t(a) * Cout,
                  Cout);
        else
          gemm<T>(false, true, Tn - a, Cout, Cin, T(1), x + std::size_t(a) * in_stride, in_stride, tap(j), Cin,
                  T(1), o, Cout);
      }
    }
  }
  add_bias_relu(out, bias, rows, Cout, relu);
}

template <class T>
void conv1d_k3_backward_with(Conv3Strategy s, T* dweight, T* dbias, T* din, int din_stride, T* dout,
                             const T* out, const T* in, int in_stride, const T* weight, int B, int Tn, int Cin,
                             int Cout, int K, bool relu) {
  check_kernel_size("conv1d_k3_backward", K);
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  const int P = K / 2;
  const std::size_t total = std::size_t(rows) * Cout;

  // One pass over dout: the ReLU mask (in place) and dbias, the column sums of the masked gradient. The sums
  // run in double (so the float result does not drift with B*Tn), row by row over fixed chunks of rows whose
  // partial sums are then added in chunk order: the result does not depend on the thread count, and every row
  // is read once, contiguously.
  constexpr long kChunkRows = 256;
  const long chunks = (rows + kChunkRows - 1) / kChunkRows;
  double* partial = scratch<double>(2, std::size_t(chunks) * Cout);
#pragma omp parallel for if (total > kParallelWork)
  for (long ch = 0; ch < chunks; ++ch) {
    // __restrict and the loop shape below let GCC vectorise: the scalar loop it otherwise made took 12 ms instead
    // of ~2.5 ms per call at 12000 x 512.
    double* __restrict acc = partial + std::size_t(ch) * Cout;
    for (int c = 0; c < Cout; ++c) acc[c] = 0;
    const long r1 = std::min(rows, (ch + 1) * kChunkRows);
    for (long r = ch * kChunkRows; r < r1; ++r) {
      T* __restrict g = dout + std::size_t(r) * Cout;
      const T* __restrict y = out + std::size_t(r) * Cout;
      // Mask, then sum: two simple loops over the row (it stays in L1) both vectorise; one fused float-select
      // plus double-add loop does not (GCC 12).
      if (relu)
        for (int c = 0; c < Cout; ++c) g[c] = y[c] > T(0) ? g[c] : T(0);
      for (int c = 0; c < Cout; ++c) acc[c] += double(g[c]);
    }
  }
  for (int c = 0; c < Cout; ++c) {
    double sum = 0;
    for (long ch = 0; ch < chunks; ++ch) sum += partial[std::size_t(ch) * Cout + c];
    dbias[c] += T(sum);
  }

  const std::size_t plane = std::size_t(Cout) * Cin;
  // Per-tap weight gradients [K][Cout][Cin] (BLAS cannot write the interleaved [Cout,Cin,K] layout directly).
  T* grads = scratch<T>(0, std::size_t(K) * plane);
  auto gtap = [&](int j) { return grads + std::size_t(j) * plane; };
  T* taps = nullptr;
  if (din) {
    taps = scratch<T>(1, std::size_t(K) * plane);
    repack_taps(taps, weight, Cin, Cout, K);
  }
  auto wtap = [&](int j) -> const T* { return taps + std::size_t(j) * plane; };

  if (s == Conv3Strategy::whole_batch) {
    gemm<T>(true, false, Cout, Cin, int(rows), T(1), dout, Cout, in, in_stride, T(0), gtap(P), Cin);
    if (din) gemm<T>(false, false, int(rows), Cin, Cout, T(1), dout, Cout, wtap(P), Cin, T(1), din, din_stride);
    std::vector<T> saved;
    for (int j = 0; j < K; ++j) {
      const int shift = j - P, a = shift < 0 ? -shift : shift;
      if (shift == 0 || a >= Tn) continue;
      const int M = int(rows - a);
      if (shift < 0) {
        // Tap j pairs output row r with input row r-a; at the first a rows of videos 1..B-1 that pair crosses
        // videos, so those gradient rows are zero while both of the tap's GEMMs run.
        save_rows(saved, dout, Cout, Tn, Tn, B - 1, a, Cout);
        zero_rows(dout, Cout, Tn, Tn, B - 1, a, Cout);
        const T* g = dout + std::size_t(a) * Cout;
        gemm<T>(true, false, Cout, Cin, M, T(1), g, Cout, in, in_stride, T(0), gtap(j), Cin);
        if (din) gemm<T>(false, false, M, Cin, Cout, T(1), g, Cout, wtap(j), Cin, T(1), din, din_stride);
        restore_rows(saved, dout, Cout, Tn, Tn, B - 1, a, Cout);
      } else {
        // Tap j pairs output row r with input row r+a: crosses videos at the last a rows of videos 0..B-2.
        save_rows(saved, dout, Cout, Tn - a, Tn, B - 1, a, Cout);
        zero_rows(dout, Cout, Tn - a, Tn, B - 1, a, Cout);
        gemm<T>(true, false, Cout, Cin, M, T(1), dout, Cout, in + std::size_t(a) * in_stride, in_stride, T(0),
                gtap(j), Cin);
        if (din)
          gemm<T>(false, false, M, Cin, Cout, T(1), dout, Cout, wtap(j), Cin, T(1),
                  din + std::size_t(a) * din_stride, din_stride);
        restore_rows(saved, dout, Cout, Tn - a, Tn, B - 1, a, Cout);
      }
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const T* x = in + std::size_t(b) * Tn * in_stride;
      const T* g = dout + std::size_t(b) * Tn * Cout;
      const T beta = b == 0 ? T(0) : T(1);
      gemm<T>(true, false, Cout, Cin, Tn, T(1), g, Cout, x, in_stride, beta, gtap(P), Cin);
      for (int j = 0; j < K; ++j) {
        const int shift = j - P, a = shift < 0 ? -shift : shift;
        if (shift == 0 || a >= Tn) continue;
        if (shift < 0)
          gemm<T>(true, false, Cout, Cin, Tn - a, T(1), g + std::size_t(a) * Cout, Cout, x, in_stride, beta,
                  gtap(j), Cin);
        else
          gemm<T>(true, false, Cout, Cin, Tn - a, T(1), g, Cout, x + std::size_t(a) * in_stride, in_stride, beta,
                  gtap(j), Cin);
      }
      if (din) {
        T* d = din + std::size_t(b) * Tn * din_stride;
        gemm<T>(false, false, Tn, Cin, Cout, T(1), g, Cout, wtap(P), Cin, T(1), d, din_stride);
        for (int j = 0; j < K; ++j) {
          const int shift = j - P, a = shift < 0 ? -shift : shift;
          if (shift == 0 || a >= Tn) continue;
          if (shift < 0)
            gemm<T>(false, false, Tn - a, Cin, Cout, T(1), g + std::size_t(a) * Cout, Cout, wtap(j), Cin, T(1), d,
                    din_stride);
          else
            gemm<T>(false, false, Tn - a, Cin, Cout, T(1), g, Cout, wtap(j), Cin, T(1),
                    d + std::size_t(a) * din_stride, din_stride);
        }
      }
    }
  }

  // Only taps with |j-P| < Tn were computed; the others pair no rows inside a video and get no gradient.
  const int reach = std::min(P, Tn - 1);
#pragma omp parallel for if (plane * K > kParallelWork)
  for (int co = 0; co < Cout; ++co) {
    T* dw = dweight + std::size_t(co) * Cin * K;
    const std::size_t off = std::size_t(co) * Cin;
    for (int j = P - reach; j <= P + reach; ++j) {
      const T* gj = gtap(j) + off;
      for (int ci = 0; ci < Cin; ++ci) dw[std::size_t(K) * ci + j] += gj[ci];
    }
  }
}

}  // namespace detail

// Whole-batch GEMMs measured fastest on the 2-core AVX-512 VM at B=16 (see docs/performance.md).
template <class T>
void conv1d_k3_forward(T* out, const T* in, int in_stride, const T* weight, const T* bias, int B, int Tn, int Cin,
                       int Cout, int K, bool relu) {
  detail::conv1d_k3_forward_with(detail::Conv3Strategy::whole_batch, out, in, in_stride, weight, bias, B, Tn, Cin,
                                 Cout, K, relu);
}

template <class T>
void conv1d_k3_backward(T* dweight, T* dbias, T* din, int din_stride, T* dout, const T* out, const T* in,
                        int in_stride, const T* weight, int B, int Tn, int Cin, int Cout, int K, bool relu) {
  detail::conv1d_k3_backward_with(detail::Conv3Strategy::whole_batch, dweight, dbias, din, din_stride, dout, out,
                                  in, in_stride, weight, B, Tn, Cin, Cout, K, relu);
}

#define AICL_INSTANTIATE_CONV3(T)                                                                              \
  template void conv1d_k3_forward<T>(T*, const T*, int, const T*, const T*, int, int, int, int, int, bool);    \
  template void conv1d_k3_backward<T>(T*, T*, T*, int, T*, const T*, const T*, int, const T*, int, int, int,   \
                                      int, int, bool);                                                         \
  template void detail::conv1d_k3_forward_with<T>(detail::Conv3Strategy, T*, const T*, int, const T*,          \
                                                  const T*, int, int, int, int, int, bool);                    \
  template void detail::conv1d_k3_backward_with<T>(detail::Conv3Strategy, T*, T*, T*, int, T*, const T*,       \
                                                   const T*, int, const T*, int, int, int, int, int, bool);
AICL_INSTANTIATE_CONV3(float)
AICL_INSTANTIATE_CONV3(double)
#undef AICL_INSTANTIATE_CONV3

}  // namespace aicl
