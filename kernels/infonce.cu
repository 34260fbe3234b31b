// CUDA InfoNCE over AICL's four snippet groups: one block per video, float math, fixed-order reductions, and a
// backward that scatters into the embedding gradient without atomics (one thread per column, fixed order).
#include "kernels/infonce.h"

#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr float kNormEps = 1e-12f;  // torch F.normalize default eps
enum Group { kCA = 0, kCB = 1, kIA = 2, kIB = 3 };

// The four terms, in the returned order IA, IB, CA, CB: term t uses query group, key group (normalised means) and
// the normalised rows of a negative group. Even terms take CB rows as negatives, odd terms CA rows.
__device__ __forceinline__ int term_query(int t) { return t == 0 ? kIA : t == 1 ? kIB : t == 2 ? kCA : kCB; }
// The two terms whose negatives are the rows of group neg (kCA or kCB): CA rows serve IB (1) and CB (3), CB rows
// serve IA (0) and CA (2).
__device__ __forceinline__ int neg_term_a(int neg) { return neg == kCA ? 1 : 0; }

// Sum over the warp; every lane gets the same value (the xor butterfly adds commutatively matched pairs).
__device__ __forceinline__ float warp_sum(float v) {
  for (int off = 16; off > 0; off >>= 1) v = __fadd_rn(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int off = 16; off > 0; off >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = v < o ? o : v;
  }
  return v;
}

// Block sum of four values; every thread gets the totals (warps combined in warp order: fixed).
__device__ void block_sum4(float v[4], float* red /* shared [4 * kWarps] */) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int q = 0; q < 4; ++q) {
    const float w = warp_sum(v[q]);
    if (lane == 0) red[q * kWarps + warp] = w;
  }
  __syncthreads();
  for (int q = 0; q < 4; ++q) {
    float s = 0.f;
    for (int w = 0; w < kWarps; ++w) s = __fadd_rn(s, red[q * kWarps + w]);
    v[q] = s;
  }
  __syncthreads();  // red may be reused
}

// Dynamic shared memory of one video (offsets in 4-byte words).
struct VideoSmem {
  float* unit;  // [4][D] normalised means u_X
  float* grad;  // [4][D] (backward only) gradients of u_X, then of the means / k
  float* vq;    // [4][k] v_j . q of term t's negative rows (= tau * logit)
  float* den;   // [2][k] max(|row|, eps) of the CA and CB rows
  float* rn;    // [2][k] |row|
  float* prob;  // [4][k+1] softmax of term t's logits
  int* idx;     // [4][k] the indices, groups in the order CA, CB, IA, IB

  static std::size_t words(int D, int k, bool with_grad) {
    return std::size_t(with_grad ? 8 : 4) * D + 4 * std::size_t(k) + 2 * std::size_t(k) + 2 * std::size_t(k) +
           4 * (std::size_t(k) + 1) + 4 * std::size_t(k);
  }
  __device__ VideoSmem(float* base, int D, int k, bool with_grad) {
    unit = base;
    grad = unit + 4 * D;
    vq = grad + (with_grad ? 4 * D : 0);
    den = vq + 4 * k;
    rn = den + 2 * k;
    prob = rn + 2 * k;
    idx = reinterpret_cast<int*>(prob + 4 * (k + 1));
  }
};

// Forward of one video: fills s.unit, s.vq, s.den, s.rn, s.prob, mean_norm[4] and loss[4] (every thread gets
// mean_norm and the caller reads loss from shared). Returns false (after a barrier) when an index is outside [0,Tn).
__device__ bool video_forward(const VideoSmem& s, float mean_norm[4], float* loss /* shared [4] */,
                              float* red /* shared [4*kWarps] */, const float* emb_b, const int* idx_CA,
                              const int* idx_CB, const int* idx_IA, const int* idx_IB, long b, int Tn, int D, int k,
                              float tau) {
  const int* const idx_in[4] = {idx_CA + b * k, idx_CB + b * k, idx_IA + b * k, idx_IB + b * k};
  int bad = 0;
  for (int i = threadIdx.x; i < 4 * k; i += blockDim.x) {
    const int v = idx_in[i / k][i % k];
    if (v < 0 || v >= Tn) bad = 1;
    s.idx[i] = v < 0 ? 0 : (v >= Tn ? Tn - 1 : v);  // clamped so that no read leaves the video even then
  }
  const bool any_bad = __syncthreads_or(bad) != 0;

  // Means (sum over j in order, then / k) and their squared norms.
  float ss[4] = {0.f, 0.f, 0.f, 0.f};
  for (int d = threadIdx.x; d < D; d += blockDim.x)
    for (int g = 0; g < 4; ++g) {
      float acc = 0.f;
      for (int j = 0; j < k; ++j) acc = __fadd_rn(acc, emb_b[long(s.idx[g * k + j]) * D + d]);
      const float m = __fdiv_rn(acc, float(k));
      s.unit[g * D + d] = m;
      ss[g] = __fadd_rn(ss[g], __fmul_rn(m, m));
    }
  block_sum4(ss, red);
  for (int g = 0; g < 4; ++g) mean_norm[g] = sqrtf(ss[g]);
  for (int d = threadIdx.x; d < D; d += blockDim.x)
    for (int g = 0; g < 4; ++g) s.unit[g * D + d] = __fdiv_rn(s.unit[g * D + d], fmaxf(mean_norm[g], kNormEps));
  __syncthreads();

  // Negative rows, one warp per row: |row|, and row . q / max(|row|, eps) for the two queries it serves.
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int r = warp; r < 2 * k; r += kWarps) {
    const int neg = r / k, j = r % k;
    const int ta = neg_term_a(neg), tb = ta + 2;
    const float* row = emb_b + long(s.idx[neg * k + j]) * D;
    const float* qa = s.unit + term_query(ta) * D;
    const float* qb = s.unit + term_query(tb) * D;
    float sq = 0.f, da = 0.f, db = 0.f;
    for (int d = lane; d < D; d += 32) {
      const float x = row[d];
      sq = __fadd_rn(sq, __fmul_rn(x, x));
      da = __fadd_rn(da, __fmul_rn(x, qa[d]));
      db = __fadd_rn(db, __fmul_rn(x, qb[d]));
    }
    sq = warp_sum(sq);
    da = warp_sum(da);
    db = warp_sum(db);
    if (lane == 0) {
      const float nr = sqrtf(sq), dn = fmaxf(nr, kNormEps);
      s.rn[neg * k + j] = nr;
      s.den[neg * k + j] = dn;
      s.vq[ta * k + j] = __fdiv_rn(da, dn);
      s.vq[tb * k + j] = __fdiv_rn(db, dn);
    }
  }
  // Key logits: u_IA . u_CA (terms IA and CA) and u_IB . u_CB (terms IB and CB).
  float kq[4] = {0.f, 0.f, 0.f, 0.f};
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    kq[0] = __fadd_rn(kq[0], __fmul_rn(s.unit[kIA * D + d], s.unit[kCA * D + d]));
    kq[1] = __fadd_rn(kq[1], __fmul_rn(s.unit[kIB * D + d], s.unit[kCB * D + d]));
  }
  block_sum4(kq, red);  // its barriers also publish the warps' row results

  // Softmax cross-entropy with target 0, one warp per term.
  if (warp < 4) {
    const int t = warp;
    const float z0 = __fdiv_rn(kq[t & 1], tau);
    float mx = z0;
    for (int j = lane; j < k; j += 32) {
      const float z = __fdiv_rn(s.vq[t * k + j], tau);
      mx = mx < z ? z : mx;
    }
    mx = warp_max(mx);
    float se = lane == 0 ? expf(__fsub_rn(z0, mx)) : 0.f;
    for (int j = lane; j < k; j += 32) se = __fadd_rn(se, expf(__fsub_rn(__fdiv_rn(s.vq[t * k + j], tau), mx)));
    se = warp_sum(se);
    const float lse = __fadd_rn(mx, logf(se));
    if (lane == 0) {
      loss[t] = __fsub_rn(lse, z0);
      s.prob[t * (k + 1)] = expf(__fsub_rn(z0, lse));
    }
    for (int j = lane; j < k; j += 32)
      s.prob[t * (k + 1) + 1 + j] = expf(__fsub_rn(__fdiv_rn(s.vq[t * k + j], tau), lse));
  }
  __syncthreads();
  return !any_bad;
}

__global__ void infonce_forward_kernel(float* partial, const float* emb, const int* idx_CA, const int* idx_CB,
                                       const int* idx_IA, const int* idx_IB, int Tn, int D, int k, float tau) {
  extern __shared__ float smem[];
  __shared__ float red[4 * kWarps];
  __shared__ float loss[4];
  const long b = blockIdx.x;
  const VideoSmem s(smem, D, k, false);
  float mean_norm[4];
  const bool ok =
      video_forward(s, mean_norm, loss, red, emb + b * Tn * D, idx_CA, idx_CB, idx_IA, idx_IB, b, Tn, D, k, tau);
  if (threadIdx.x < 4) partial[b * 4 + threadIdx.x] = ok ? loss[threadIdx.x] : NAN;
}

// One block of 4 warps: warp t averages term t over the batch (fixed order); thread 0 adds the terms in order.
__global__ void infonce_final_kernel(float* total, float* terms4, const float* partial, int B) {
  __shared__ float term[4];
  const int lane = threadIdx.x % 32, t = threadIdx.x / 32;
  float s = 0.f;
  for (int b = lane; b < B; b += 32) s = __fadd_rn(s, partial[b * 4 + t]);
  s = warp_sum(s);
  if (lane == 0) term[t] = __fdiv_rn(s, float(B));
  __syncthreads();
  if (threadIdx.x == 0) {
    *total = __fadd_rn(__fadd_rn(__fadd_rn(term[0], term[1]), term[2]), term[3]);
    if (terms4)
      for (int i = 0; i < 4; ++i) terms4[i] = term[i];
  }
}

__global__ void infonce_backward_kernel(float* demb, float scale, const float* emb, const int* idx_CA,
                                        const int* idx_CB, const int* idx_IA, const int* idx_IB, int Tn, int D, int k,
                                        float tau) {
  extern __shared__ float smem[];
  __shared__ float red[4 * kWarps];
  __shared__ float loss[4];
  const long b = blockIdx.x;
  const VideoSmem s(smem, D, k, true);
  const float* emb_b = emb + b * Tn * D;
  float* demb_b = demb + b * Tn * D;
  float mean_norm[4];
  if (!video_forward(s, mean_norm, loss, red, emb_b, idx_CA, idx_CB, idx_IA, idx_IB, b, Tn, D, k, tau)) return;

  // dz_t0 = scale (p_t0 - 1) / tau and dz_tj = scale p_tj / tau (softmax-CE with target 0).
  float dz0[4];
  for (int t = 0; t < 4; ++t) dz0[t] = __fdiv_rn(__fmul_rn(scale, __fsub_rn(s.prob[t * (k + 1)], 1.f)), tau);
  const float key_ia_ca = __fadd_rn(dz0[0], dz0[2]);  // u_IA . u_CA appears in terms IA and CA
  const float key_ib_cb = __fadd_rn(dz0[1], dz0[3]);  // u_IB . u_CB appears in terms IB and CB

  // Gradients of the normalised means, one thread per column d.
  float ug[4] = {0.f, 0.f, 0.f, 0.f};
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    const float u_ca = s.unit[kCA * D + d], u_cb = s.unit[kCB * D + d];
    const float u_ia = s.unit[kIA * D + d], u_ib = s.unit[kIB * D + d];
    float g_ia = __fmul_rn(key_ia_ca, u_ca), g_ca = __fmul_rn(key_ia_ca, u_ia);
    float g_ib = __fmul_rn(key_ib_cb, u_cb), g_cb = __fmul_rn(key_ib_cb, u_ib);
    for (int j = 0; j < k; ++j) {
      const float v_cb = __fdiv_rn(emb_b[long(s.idx[kCB * k + j]) * D + d], s.den[kCB * k + j]);
      const float v_ca = __fdiv_rn(emb_b[long(s.idx[kCA * k + j]) * D + d], s.den[kCA * k + j]);
      g_ia = __fadd_rn(g_ia, __fmul_rn(__fdiv_rn(__fmul_rn(scale, s.prob[0 * (k + 1) + 1 + j]), tau), v_cb));
      g_ib = __fadd_rn(g_ib, __fmul_rn(__fdiv_rn(__fmul_rn(scale, s.prob[1 * (k + 1) + 1 + j]), tau), v_ca));
      g_ca = __fadd_rn(g_ca, __fmul_rn(__fdiv_rn(__fmul_rn(scale, s.prob[2 * (k + 1) + 1 + j]), tau), v_cb));
      g_cb = __fadd_rn(g_cb, __fmul_rn(__fdiv_rn(__fmul_rn(scale, s.prob[3 * (k + 1) + 1 + j]), tau), v_ca));
    }
    s.grad[kCA * D + d] = g_ca;
    s.grad[kCB * D + d] = g_cb;
    s.grad[kIA * D + d] = g_ia;
    s.grad[kIB * D + d] = g_ib;
    ug[kCA] = __fadd_rn(ug[kCA], __fmul_rn(u_ca, g_ca));
    ug[kCB] = __fadd_rn(ug[kCB], __fmul_rn(u_cb, g_cb));
    ug[kIA] = __fadd_rn(ug[kIA], __fmul_rn(u_ia, g_ia));
    ug[kIB] = __fadd_rn(ug[kIB], __fmul_rn(u_ib, g_ib));
  }
  block_sum4(ug, red);

  // Back through u = m / max(|m|, eps) and the mean (1/k), then scatter: each thread owns column d of this video's
  // rows, so the adds below are race-free and happen in a fixed order (means CA, CB, IA, IB, then negative rows).
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    for (int g = 0; g < 4; ++g) {
      const float gu = s.grad[g * D + d];
      const float gm = mean_norm[g] < kNormEps
                           ? __fdiv_rn(gu, kNormEps)
                           : __fdiv_rn(__fsub_rn(gu, __fmul_rn(s.unit[g * D + d], ug[g])), mean_norm[g]);
      const float share = __fdiv_rn(gm, float(k));
      for (int j = 0; j < k; ++j) {
        float& out = demb_b[long(s.idx[g * k + j]) * D + d];
        out = __fadd_rn(out, share);
      }
    }
    for (int neg = kCA; neg <= kCB; ++neg) {
      const int ta = neg_term_a(neg), tb = ta + 2;
      const float qa = s.unit[term_query(ta) * D + d], qb = s.unit[term_query(tb) * D + d];
      for (int j = 0; j < k; ++j) {
        const float dza = __fdiv_rn(__fmul_rn(scale, s.prob[ta * (k + 1) + 1 + j]), tau);
        const float dzb = __fdiv_rn(__fmul_rn(scale, s.prob[tb * (k + 1) + 1 + j]), tau);
        const float dn = s.den[neg * k + j];
        float& out = demb_b[long(s.idx[neg * k + j]) * D + d];
        const float v = __fdiv_rn(emb_b[long(s.idx[neg * k + j]) * D + d], dn);
        const float gv = __fadd_rn(__fmul_rn(dza, qa), __fmul_rn(dzb, qb));
        // v . g_v = dza (v . qa) + dzb (v . qb), both kept from the forward.
        const float vg = __fadd_rn(__fmul_rn(dza, s.vq[ta * k + j]), __fmul_rn(dzb, s.vq[tb * k + j]));
        // Below eps the denominator is the constant eps (clamp_min passes no gradient): g_v / eps.
        const float gr = s.rn[neg * k + j] < kNormEps ? __fdiv_rn(gv, dn) : __fdiv_rn(__fsub_rn(gv, __fmul_rn(v, vg)), dn);
        out = __fadd_rn(out, gr);
      }
    }
  }
}

void check_infonce_args(const char* op, int B, int Tn, int D, int k, double tau) {
  if (B < 1 || Tn < 1 || D < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn) +
         " D=" + std::to_string(D));
  if (k < 1)
    fail(std::string(op) + ": k=" + std::to_string(k) +
         " must be >= 1 (k = T//20 is 0 for videos shorter than 20 segments)");
  if (!(tau > 0)) fail(std::string(op) + ": tau=" + std::to_string(tau) + " must be > 0");
}

// Dynamic shared memory for one video, with the kernel's static arrays counted (opt_in_dynamic_smem); throws when
// the device cannot give it.
template <class Kernel>
std::size_t video_smem(Kernel kernel, const char* op, int D, int k, bool with_grad) {
  return opt_in_dynamic_smem(reinterpret_cast<const void*>(kernel), 4 * VideoSmem::words(D, k, with_grad),
                             std::string(op) + ": D=" + std::to_string(D) + ", k=" + std::to_string(k));
}

}  // namespace

void infonce_forward_cuda(float* loss, const float* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA,
                          const int* idx_IB, int B, int Tn, int D, int k, double tau, float* terms4,
                          cudaStream_t stream) {
  check_infonce_args("infonce_forward_cuda", B, Tn, D, k, tau);
  const std::size_t smem = video_smem(infonce_forward_kernel, "infonce_forward_cuda", D, k, false);
  ScratchBuffer<float> partial(4 * std::size_t(B), stream);
  infonce_forward_kernel<<<B, kThreads, smem, stream>>>(partial.data(), emb, idx_CA, idx_CB, idx_IA, idx_IB, Tn,
                                                        D, k, float(tau));
  AICL_CUDA_CHECK_LAUNCH();
  infonce_final_kernel<<<1, 128, 0, stream>>>(loss, terms4, partial.data(), B);
  AICL_CUDA_CHECK_LAUNCH();
}

void infonce_backward_cuda(float* demb, float dloss, const float* emb, const int* idx_CA, const int* idx_CB,
                           const int* idx_IA, const int* idx_IB, int B, int Tn, int D, int k, double tau,
                           cudaStream_t stream) {
  check_infonce_args("infonce_backward_cuda", B, Tn, D, k, tau);
  const std::size_t smem = video_smem(infonce_backward_kernel, "infonce_backward_cuda", D, k, true);
  infonce_backward_kernel<<<B, kThreads, smem, stream>>>(demb, float(double(dloss) / B), emb, idx_CA, idx_CB, idx_IA,
                                                         idx_IB, Tn, D, k, float(tau));
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
