// CPU InfoNCE over AICL's four snippet groups (forward and hand-derived backward), double accumulation.
#include "kernels/infonce.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace {

constexpr double kNormEps = 1e-12;  // torch F.normalize default eps
enum Group { kCA = 0, kCB = 1, kIA = 2, kIB = 3 };

// One NCE term: query group, key group (both as normalised means), negatives = normalised rows of a group.
struct Term {
  Group query, key, neg;
};
// Order of the returned terms: IA, IB, CA, CB (the official sum order).
constexpr Term kTerms[4] = {{kIA, kCA, kCB}, {kIB, kCB, kCA}, {kCA, kIA, kCB}, {kCB, kIB, kCA}};

void check_infonce_args(const char* op, const int* const idx[4], int B, int Tn, int D, int k, double tau) {
  if (B < 1 || Tn < 1 || D < 1)
    fail(std::string(op) + ": bad shape B=" + std::to_string(B) + " T=" + std::to_string(Tn) +
         " D=" + std::to_string(D));
  if (k < 1)
    fail(std::string(op) + ": k=" + std::to_string(k) +
         " must be >= 1 (k = T//20 is 0 for videos shorter than 20 segments)");
  if (!(tau > 0)) fail(std::string(op) + ": tau=" + std::to_string(tau) + " must be > 0");
  static const char* names[4] = {"idx_CA", "idx_CB", "idx_IA", "idx_IB"};
  for (int g = 0; g < 4; ++g)
    for (long i = 0; i < static_cast<long>(B) * k; ++i)
      if (idx[g][i] < 0 || idx[g][i] >= Tn)
        fail(std::string(op) + ": " + names[g] + " index " + std::to_string(idx[g][i]) + " out of [0, T=" +
             std::to_string(Tn) + ")");
}

// Per-video workspace: the four means (raw and normalised) and the normalised rows of CA and CB.
struct Video {
  int D = 0, k = 0;
  std::vector<double> mean[4], unit[4], mean_norm;       // [4][D], [4][D], [4]
  std::vector<double> rows[2], row_unit[2], row_norm[2];  // for CA, CB: [k*D], [k*D], [k]
  std::vector<double> logits;                             // [1+k]

  void resize(int d, int kk) {
    D = d;
    k = kk;
    for (auto& v : mean) v.assign(D, 0);
    for (auto& v : unit) v.assign(D, 0);
    mean_norm.assign(4, 0);
    for (int g = 0; g < 2; ++g) {
      rows[g].assign(static_cast<size_t>(k) * D, 0);
      row_unit[g].assign(static_cast<size_t>(k) * D, 0);
      row_norm[g].assign(k, 0);
    }
    logits.assign(k + 1, 0);
  }
};

// The double reductions below are `omp simd`: vectorised, in an order that does not depend on the data or threads.
double normalise(double* out, const double* x, int D) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int d = 0; d < D; ++d) s += x[d] * x[d];
  const double n = std::sqrt(s);
  const double denom = std::max(n, kNormEps);
  for (int d = 0; d < D; ++d) out[d] = x[d] / denom;
  return n;
}

// d/dx of x / max(||x||, eps) applied to g: (g - u (u.g)) / ||x|| above eps, g / eps below (constant denominator).
void normalise_backward(double* gx, const double* g, const double* unit, double norm, int D) {
  if (norm < kNormEps) {
    for (int d = 0; d < D; ++d) gx[d] = g[d] / kNormEps;
    return;
  }
  double ug = 0;
#pragma omp simd reduction(+ : ug)
  for (int d = 0; d < D; ++d) ug += unit[d] * g[d];
  for (int d = 0; d < D; ++d) gx[d] = (g[d] - unit[d] * ug) / norm;
}

template <class T>
void load_video(Video& v, const T* emb_b, const int* const idx[4], int b) {
  const int D = v.D, k = v.k;
  for (int g = 0; g < 4; ++g) {
    std::fill(v.mean[g].begin(), v.mean[g].end(), 0.0);
    for (int j = 0; j < k; ++j) {
      const T* row = emb_b + static_cast<long>(idx[g][static_cast<long>(b) * k + j]) * D;
      for (int d = 0; d < D; ++d) v.mean[g][d] += row[d];
      if (g < 2)
        for (int d = 0; d < D; ++d) v.rows[g][static_cast<size_t>(j) * D + d] = row[d];
    }
    for (int d = 0; d < D; ++d) v.mean[g][d] /= k;
    v.mean_norm[g] = normalise(v.unit[g].data(), v.mean[g].data(), D);
  }
  for (int g = 0; g < 2; ++g)
    for (int j = 0; j < k; ++j)
      v.row_norm[g][j] =
          normalise(v.row_unit[g].data() + static_cast<size_t>(j) * D, v.rows[g].data() + static_cast<size_t>(j) * D, D);
}

double dot(const double* a, const double* b, int D) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

// Fills v.logits for term t and returns the softmax-CE with target 0; leaves softmax(logits) in v.logits.
double term_loss(Video& v, const Term& t, double tau) {
  const int D = v.D, k = v.k;
  const double* q = v.unit[t.query].data();
  v.logits[0] = dot(q, v.unit[t.key].data(), D) / tau;
  for (int j = 0; j < k; ++j) v.logits[j + 1] = dot(q, v.row_unit[t.neg].data() + static_cast<size_t>(j) * D, D) / tau;
  const double mx = *std::max_element(v.logits.begin(), v.logits.end());
  double s = 0;
  for (double z : v.logits) s += std::exp(z - mx);
  const double lse = mx + std::log(s);
  const double loss = lse - v.logits[0];
  for (double& z : v.logits) z = std::exp(z - lse);
  return loss;
}

}  // namespace

template <class T>
T infonce_forward(const T* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA, const int* idx_IB, int B,
                  int Tn, int D, int k, double tau, T* terms4) {
  const int* const idx[4] = {idx_CA, idx_CB, idx_IA, idx_IB};
  check_infonce_args("infonce_forward", idx, B, Tn, D, k, tau);
  double sums[4] = {0, 0, 0, 0};
#pragma omp parallel
  {
    Video v;
    v.resize(D, k);
    double local[4] = {0, 0, 0, 0};
#pragma omp for schedule(static)
    for (int b = 0; b < B; ++b) {
      load_video(v, emb + static_cast<long>(b) * Tn * D, idx, b);
      for (int t = 0; t < 4; ++t) local[t] += term_loss(v, kTerms[t], tau);
    }
#pragma omp critical
    for (int t = 0; t < 4; ++t) sums[t] += local[t];
  }
  double total = 0;
  for (int t = 0; t < 4; ++t) {
    const double term = sums[t] / B;
    if (terms4) terms4[t] = static_cast<T>(term);
    total += term;
  }
  return static_cast<T>(total);
}

template <class T>
void infonce_backward(T* demb, T dloss, const T* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA,
                      const int* idx_IB, int B, int Tn, int D, int k, double tau) {
  const int* const idx[4] = {idx_CA, idx_CB, idx_IA, idx_IB};
  check_infonce_args("infonce_backward", idx, B, Tn, D, k, tau);
  const double scale = static_cast<double>(dloss) / B;
  // Each video writes only its own rows of demb, so the loop over b is race-free.
#pragma omp parallel
  {
    Video v;
    v.resize(D, k);
    std::vector<double> g_unit[4], g_row_unit[2], g_mean(D), g_row(D);
    for (auto& g : g_unit) g.assign(D, 0);
    for (auto& g : g_row_unit) g.assign(static_cast<size_t>(k) * D, 0);
#pragma omp for schedule(static)
    for (int b = 0; b < B; ++b) {
      load_video(v, emb + static_cast<long>(b) * Tn * D, idx, b);
      for (auto& g : g_unit) std::fill(g.begin(), g.end(), 0.0);
      for (auto& g : g_row_unit) std::fill(g.begin(), g.end(), 0.0);
      for (const Term& t : kTerms) {
        term_loss(v, t, tau);  // v.logits now holds the softmax p
        // dCE/dz = p - onehot(0); z = q.key/tau, q.neg_j/tau.
        const double* q = v.unit[t.query].data();
        const double dz0 = scale * (v.logits[0] - 1.0) / tau;
        const double* key = v.unit[t.key].data();
        for (int d = 0; d < D; ++d) {
          g_unit[t.query][d] += dz0 * key[d];
          g_unit[t.key][d] += dz0 * q[d];
        }
        for (int j = 0; j < k; ++j) {
          const double dz = scale * v.logits[j + 1] / tau;
          const double* neg = v.row_unit[t.neg].data() + static_cast<size_t>(j) * D;
          double* gneg = g_row_unit[t.neg].data() + static_cast<size_t>(j) * D;
          for (int d = 0; d < D; ++d) {
            g_unit[t.query][d] += dz * neg[d];
            gneg[d] += dz * q[d];
          }
        }
      }
      T* demb_b = demb + static_cast<long>(b) * Tn * D;
      // Means: back through the normalisation, then 1/k to every selected row (repeats accumulate).
      for (int g = 0; g < 4; ++g) {
        normalise_backward(g_mean.data(), g_unit[g].data(), v.unit[g].data(), v.mean_norm[g], D);
        for (int j = 0; j < k; ++j) {
          T* row = demb_b + static_cast<long>(idx[g][static_cast<long>(b) * k + j]) * D;
          for (int d = 0; d < D; ++d) row[d] += static_cast<T>(g_mean[d] / k);
        }
      }
      // Negative rows (CA, CB): back through each row's own normalisation.
      for (int g = 0; g < 2; ++g)
        for (int j = 0; j < k; ++j) {
          normalise_backward(g_row.data(), g_row_unit[g].data() + static_cast<size_t>(j) * D,
                             v.row_unit[g].data() + static_cast<size_t>(j) * D, v.row_norm[g][j], D);
          T* row = demb_b + static_cast<long>(idx[g][static_cast<long>(b) * k + j]) * D;
          for (int d = 0; d < D; ++d) row[d] += static_cast<T>(g_row[d]);
        }
    }
  }
}

#define AICL_INSTANTIATE_INFONCE(T)                                                                          \
  template T infonce_forward<T>(const T*, const int*, const int*, const int*, const int*, int, int, int, int,  \
                                double, T*);                                                                 \
  template void infonce_backward<T>(T*, T, const T*, const int*, const int*, const int*, const int*, int, int, \
                                    int, int, double);
AICL_INSTANTIATE_INFONCE(float)
AICL_INSTANTIATE_INFONCE(double)
#undef AICL_INSTANTIATE_INFONCE

}  // namespace aicl
