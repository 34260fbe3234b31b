// CPU conv1d (kernel 3, pad 1) forward/backward as three tap-shifted GEMMs over time-major activations.
//
// Tap k of the kernel multiplies input row t+k-1 into output row t, so each tap is one GEMM between the
// input shifted by one row and the tap's [Cout,Cin] weight slice. Over the whole batch (B*Tn rows at once)
// a shifted GEMM would leak the last row of one video into the first output row of the next (and vice
// versa); those few rows are saved before the GEMM and restored after it (forward), or their gradient rows
// are zeroed while the shifted GEMMs run (backward). This keeps zero padding exact with no im2col copy.
#include "kernels/conv1d_k3.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

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

// [Cout,Cin,3] -> [3][Cout][Cin]: each tap becomes a contiguous row-major matrix a GEMM can read.
template <class T>
void repack_taps(T* taps, const T* weight, int Cin, int Cout) {
  const std::size_t plane = std::size_t(Cout) * Cin;
#pragma omp parallel for if (plane * 3 > kParallelWork)
  for (int co = 0; co < Cout; ++co) {
    const T* w = weight + std::size_t(co) * Cin * 3;
    T* t0 = taps + std::size_t(co) * Cin;
    for (int ci = 0; ci < Cin; ++ci) {
      t0[ci] = w[3 * ci];
      t0[plane + ci] = w[3 * ci + 1];
      t0[2 * plane + ci] = w[3 * ci + 2];
    }
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

// Copies the rows first_row, first_row+step, ... (count of them, each `width` values of a matrix with row stride
// `ld`) into / out of a small buffer.
template <class T>
void save_rows(std::vector<T>& buf, const T* m, int ld, long first_row, long step, int count, int width) {
  buf.resize(std::size_t(count) * width);
  for (int i = 0; i < count; ++i)
    std::memcpy(&buf[std::size_t(i) * width], m + std::size_t(first_row + i * step) * ld, sizeof(T) * width);
}
template <class T>
void restore_rows(const std::vector<T>& buf, T* m, int ld, long first_row, long step, int count, int width) {
  for (int i = 0; i < count; ++i)
    std::memcpy(m + std::size_t(first_row + i * step) * ld, &buf[std::size_t(i) * width], sizeof(T) * width);
}
template <class T>
void zero_rows(T* m, int ld, long first_row, long step, int count, int width) {
  for (int i = 0; i < count; ++i) std::memset(m + std::size_t(first_row + i * step) * ld, 0, sizeof(T) * width);
}

}  // namespace

namespace detail {

template <class T>
void conv1d_k3_forward_with(Conv3Strategy s, T* out, const T* in, int in_stride, const T* weight, const T* bias,
                            int B, int Tn, int Cin, int Cout, bool relu) {
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  const std::size_t plane = std::size_t(Cout) * Cin;
  T* taps = scratch<T>(0, 3 * plane);
  repack_taps(taps, weight, Cin, Cout);
  const T* w0 = taps;
  const T* w1 = w0 + plane;
  const T* w2 = w1 + plane;

  if (s == Conv3Strategy::whole_batch) {
    gemm<T>(false, true, int(rows), Cout, Cin, T(1), in, in_stride, w1, Cin, T(0), out, Cout);
    if (Tn > 1) {
      std::vector<T> saved;
      // Tap 0 (input row t-1): the first output row of videos 1..B-1 would receive the previous video's last row.
      save_rows(saved, out, Cout, Tn, Tn, B - 1, Cout);
      gemm<T>(false, true, int(rows - 1), Cout, Cin, T(1), in, in_stride, w0, Cin, T(1), out + Cout, Cout);
      restore_rows(saved, out, Cout, Tn, Tn, B - 1, Cout);
      // Tap 2 (input row t+1): the last output row of videos 0..B-2 would receive the next video's first row.
      save_rows(saved, out, Cout, Tn - 1, Tn, B - 1, Cout);
      gemm<T>(false, true, int(rows - 1), Cout, Cin, T(1), in + in_stride, in_stride, w2, Cin, T(1), out, Cout);
      restore_rows(saved, out, Cout, Tn - 1, Tn, B - 1, Cout);
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const T* x = in + std::size_t(b) * Tn * in_stride;
      T* o = out + std::size_t(b) * Tn * Cout;
      gemm<T>(false, true, Tn, Cout, Cin, T(1), x, in_stride, w1, Cin, T(0), o, Cout);
      gemm<T>(false, true, Tn - 1, Cout, Cin, T(1), x, in_stride, w0, Cin, T(1), o + Cout, Cout);
      gemm<T>(false, true, Tn - 1, Cout, Cin, T(1), x + in_stride, in_stride, w2, Cin, T(1), o, Cout);
    }
  }
  add_bias_relu(out, bias, rows, Cout, relu);
}

template <class T>
void conv1d_k3_backward_with(Conv3Strategy s, T* dweight, T* dbias, T* din, int din_stride, T* dout,
                             const T* out, const T* in, int in_stride, const T* weight, int B, int Tn, int Cin,
                             int Cout, bool relu) {
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
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
  // Per-tap weight gradients [3][Cout][Cin] (BLAS cannot write the interleaved [Cout,Cin,3] layout directly).
  T* g0 = scratch<T>(0, 3 * plane);
  T* g1 = g0 + plane;
  T* g2 = g1 + plane;
  const T *w0 = nullptr, *w1 = nullptr, *w2 = nullptr;
  if (din) {
    T* taps = scratch<T>(1, 3 * plane);
    repack_taps(taps, weight, Cin, Cout);
    w0 = taps;
    w1 = w0 + plane;
    w2 = w1 + plane;
  }

  if (s == Conv3Strategy::whole_batch) {
    gemm<T>(true, false, Cout, Cin, int(rows), T(1), dout, Cout, in, in_stride, T(0), g1, Cin);
    if (din) gemm<T>(false, false, int(rows), Cin, Cout, T(1), dout, Cout, w1, Cin, T(1), din, din_stride);
    if (Tn > 1) {
      std::vector<T> saved;
      // Tap 0 pairs output row r with input row r-1; at r = first row of a video (b >= 1) that pair crosses
      // videos, so those gradient rows are zero while both tap-0 GEMMs run.
      save_rows(saved, dout, Cout, Tn, Tn, B - 1, Cout);
      zero_rows(dout, Cout, Tn, Tn, B - 1, Cout);
      gemm<T>(true, false, Cout, Cin, int(rows - 1), T(1), dout + Cout, Cout, in, in_stride, T(0), g0, Cin);
      if (din)
        gemm<T>(false, false, int(rows - 1), Cin, Cout, T(1), dout + Cout, Cout, w0, Cin, T(1), din, din_stride);
      restore_rows(saved, dout, Cout, Tn, Tn, B - 1, Cout);
      // Tap 2 pairs output row r with input row r+1: crosses videos at the last row of videos 0..B-2.
      save_rows(saved, dout, Cout, Tn - 1, Tn, B - 1, Cout);
      zero_rows(dout, Cout, Tn - 1, Tn, B - 1, Cout);
      gemm<T>(true, false, Cout, Cin, int(rows - 1), T(1), dout, Cout, in + in_stride, in_stride, T(0), g2, Cin);
      if (din)
        gemm<T>(false, false, int(rows - 1), Cin, Cout, T(1), dout, Cout, w2, Cin, T(1), din + din_stride,
                din_stride);
      restore_rows(saved, dout, Cout, Tn - 1, Tn, B - 1, Cout);
    }
  } else {
    for (int b = 0; b < B; ++b) {
      const T* x = in + std::size_t(b) * Tn * in_stride;
      const T* g = dout + std::size_t(b) * Tn * Cout;
      const T beta = b == 0 ? T(0) : T(1);
      gemm<T>(true, false, Cout, Cin, Tn, T(1), g, Cout, x, in_stride, beta, g1, Cin);
      gemm<T>(true, false, Cout, Cin, Tn - 1, T(1), g + Cout, Cout, x, in_stride, beta, g0, Cin);
      gemm<T>(true, false, Cout, Cin, Tn - 1, T(1), g, Cout, x + in_stride, in_stride, beta, g2, Cin);
      if (din) {
        T* d = din + std::size_t(b) * Tn * din_stride;
        gemm<T>(false, false, Tn, Cin, Cout, T(1), g, Cout, w1, Cin, T(1), d, din_stride);
        gemm<T>(false, false, Tn - 1, Cin, Cout, T(1), g + Cout, Cout, w0, Cin, T(1), d, din_stride);
        gemm<T>(false, false, Tn - 1, Cin, Cout, T(1), g, Cout, w2, Cin, T(1), d + din_stride, din_stride);
      }
    }
  }

  const bool has_side_taps = Tn > 1;
#pragma omp parallel for if (plane * 3 > kParallelWork)
  for (int co = 0; co < Cout; ++co) {
    T* dw = dweight + std::size_t(co) * Cin * 3;
    const std::size_t off = std::size_t(co) * Cin;
    for (int ci = 0; ci < Cin; ++ci) {
      if (has_side_taps) {
        dw[3 * ci] += g0[off + ci];
        dw[3 * ci + 2] += g2[off + ci];
      }
      dw[3 * ci + 1] += g1[off + ci];
    }
  }
}

}  // namespace detail

// Whole-batch GEMMs measured fastest on the 2-core AVX-512 VM at B=16 (see docs/performance.md).
template <class T>
void conv1d_k3_forward(T* out, const T* in, int in_stride, const T* weight, const T* bias, int B, int Tn, int Cin,
                       int Cout, bool relu) {
  detail::conv1d_k3_forward_with(detail::Conv3Strategy::whole_batch, out, in, in_stride, weight, bias, B, Tn, Cin,
                                 Cout, relu);
}

template <class T>
void conv1d_k3_backward(T* dweight, T* dbias, T* din, int din_stride, T* dout, const T* out, const T* in,
                        int in_stride, const T* weight, int B, int Tn, int Cin, int Cout, bool relu) {
  detail::conv1d_k3_backward_with(detail::Conv3Strategy::whole_batch, dweight, dbias, din, din_stride, dout, out,
                                  in, in_stride, weight, B, Tn, Cin, Cout, relu);
}

#define AICL_INSTANTIATE_CONV3(T)                                                                              \
  template void conv1d_k3_forward<T>(T*, const T*, int, const T*, const T*, int, int, int, int, bool);         \
  template void conv1d_k3_backward<T>(T*, T*, T*, int, T*, const T*, const T*, int, const T*, int, int, int,   \
                                      int, bool);                                                              \
  template void detail::conv1d_k3_forward_with<T>(detail::Conv3Strategy, T*, const T*, int, const T*,          \
                                                  const T*, int, int, int, int, bool);                         \
  template void detail::conv1d_k3_backward_with<T>(detail::Conv3Strategy, T*, T*, T*, int, T*, const T*,       \
                                                   const T*, int, const T*, int, int, int, int, bool);
AICL_INSTANTIATE_CONV3(float)
AICL_INSTANTIATE_CONV3(double)
#undef AICL_INSTANTIATE_CONV3

}  // namespace aicl
