// Tests of AICL's snippet contrastive loss (kernels/infonce): official reference values, edge cases (gradients: tests/ops).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/base/error.h"
#include "kernels/infonce.h"
#include "gradcheck.h"

namespace {

struct Case {
  int B, T, D, k;
  std::vector<double> emb;
  std::vector<int> idx[4];  // CA, CB, IA, IB, each [B,k]
};

// The closed-form inputs of tools/loss_oracle.py: post-ReLU-like embeddings (many exact zeros) and indices with a
// repeat (IA of video 1 selects the same segment twice).
Case oracle_case() {
  Case c{2, 30, 8, 3, {}, {}};
  c.emb.resize(static_cast<size_t>(c.B) * c.T * c.D);
  for (size_t i = 0; i < c.emb.size(); ++i) c.emb[i] = std::max(0.0, std::sin(0.53 * static_cast<double>(i) + 0.1));
  for (int g = 0; g < 4; ++g) {
    c.idx[g].resize(c.B * c.k);
    for (int b = 0; b < c.B; ++b)
      for (int j = 0; j < c.k; ++j) c.idx[g][b * c.k + j] = (b * 5 + j * 7 + g * 3) % c.T;
  }
  c.idx[2][1 * c.k + 2] = c.idx[2][1 * c.k + 0];
  return c;
}

// Random positive embeddings and random (possibly repeated) indices.
Case random_case(int B, int T, int D, int k, unsigned seed) {
  Case c{B, T, D, k, aicl_test::random_vector(static_cast<size_t>(B) * T * D, seed, 0.05, 1.0), {}};
  auto r = aicl_test::random_vector(4 * B * k, seed + 1, 0, 1);
  for (int g = 0; g < 4; ++g) {
    c.idx[g].resize(B * k);
    for (int i = 0; i < B * k; ++i) c.idx[g][i] = std::min(T - 1, static_cast<int>(r[g * B * k + i] * T));
  }
  return c;
}

double forward(const Case& c, const std::vector<double>& emb, double tau, double* terms = nullptr) {
  return aicl::infonce_forward(emb.data(), c.idx[0].data(), c.idx[1].data(), c.idx[2].data(), c.idx[3].data(), c.B,
                               c.T, c.D, c.k, tau, terms);
}

}  // namespace

TEST_CASE("infonce_forward: equals the official ContrastiveLoss and its four NCE terms", "[infonce]") {
  const Case c = oracle_case();
  double terms[4];
  // tools/loss_oracle.py: official ContrastiveLoss (T = 0.1) in float64 and float32, torch 1.13 CPU.
  CHECK(forward(c, c.emb, 0.1, terms) == Approx(3.7963649080129449).epsilon(1e-13));
  CHECK(terms[0] == Approx(2.0259511624801227).epsilon(1e-13));   // IA
  CHECK(terms[1] == Approx(0.14661881012157388).epsilon(1e-13));  // IB
  CHECK(terms[2] == Approx(1.4397809485302919).epsilon(1e-13));   // CA
  CHECK(terms[3] == Approx(0.18401398688095624).epsilon(1e-13));  // CB
  std::vector<float> femb(c.emb.begin(), c.emb.end());
  float fterms[4];
  const float f = aicl::infonce_forward(femb.data(), c.idx[0].data(), c.idx[1].data(), c.idx[2].data(),
                                        c.idx[3].data(), c.B, c.T, c.D, c.k, 0.1, fterms);
  CHECK(f == Approx(3.7963647842407227).epsilon(1e-6));
  CHECK(fterms[0] == Approx(2.0259506702423096).epsilon(1e-6));
}

TEST_CASE("infonce_forward: hand value for k = 1, D = 2", "[infonce]") {
  // B = 1, T = 4: rows 0..3 = (1,0), (0,1), (1,1), (2,0); CA = {0}, CB = {1}, IA = {2}, IB = {3}.
  const std::vector<double> emb = {1, 0, 0, 1, 1, 1, 2, 0};
  const int ca = 0, cb = 1, ia = 2, ib = 3;
  const double tau = 0.5, r = 1 / std::sqrt(2.0);
  auto nce = [&](double pos, double neg) { return std::log(std::exp(pos / tau) + std::exp(neg / tau)) - pos / tau; };
  // IA: q=(r,r) key=(1,0) neg=(0,1); IB: q=(1,0) key=(0,1) neg=(1,0); CA: q=(1,0) key=(r,r) neg=(0,1);
  // CB: q=(0,1) key=(1,0) neg=(1,0).
  const double want = nce(r, r) + nce(0, 1) + nce(r, 0) + nce(0, 0);
  double terms[4];
  CHECK(aicl::infonce_forward(emb.data(), &ca, &cb, &ia, &ib, 1, 4, 2, 1, tau, terms) == Approx(want).epsilon(1e-14));
  CHECK(terms[1] == Approx(nce(0, 1)).epsilon(1e-14));
}

TEST_CASE("infonce: an all-zero selection stays finite, as torch's clamped normalize", "[infonce]") {
  // Post-ReLU rows can be all zero: F.normalize gives the zero vector, so its logits are 0, not NaN.
  Case c = random_case(1, 10, 4, 2, 7);
  for (int j = 0; j < c.k; ++j)
    for (int d = 0; d < c.D; ++d) c.emb[c.idx[3][j] * c.D + d] = 0.0;  // IB rows
  for (int j = 0; j < c.k; ++j) c.idx[3][j] = c.idx[3][0];               // all IB picks the same zero row
  for (int g = 0; g < 3; ++g)
    for (int j = 0; j < c.k; ++j)
      if (c.idx[g][j] == c.idx[3][0]) c.idx[g][j] = (c.idx[3][0] + 1) % c.T;
  double terms[4];
  const double total = forward(c, c.emb, 0.1, terms);
  CHECK(std::isfinite(total));
  // IB: q = 0, so every logit is 0 and the CE is log(1 + k).
  CHECK(terms[1] == Approx(std::log(1.0 + c.k)).epsilon(1e-14));
  std::vector<double> grad(c.emb.size(), 0.0);
  aicl::infonce_backward(grad.data(), 1.0, c.emb.data(), c.idx[0].data(), c.idx[1].data(), c.idx[2].data(),
                         c.idx[3].data(), c.B, c.T, c.D, c.k, 0.1);
  for (double g : grad) REQUIRE(std::isfinite(g));
}

TEST_CASE("infonce: k = 0, bad indices and bad tau are rejected", "[infonce]") {
  Case c = random_case(1, 19, 4, 1, 3);
  std::vector<double> grad(c.emb.size(), 0.0);
  const int* i[4] = {c.idx[0].data(), c.idx[1].data(), c.idx[2].data(), c.idx[3].data()};
  // T = 19 gives the official k = T//20 = 0: torch would average over nothing (NaN).
  CHECK_THROWS_AS(aicl::infonce_forward(c.emb.data(), i[0], i[1], i[2], i[3], 1, 19, 4, 0, 0.1), aicl::Error);
  CHECK_THROWS_AS(aicl::infonce_backward(grad.data(), 1.0, c.emb.data(), i[0], i[1], i[2], i[3], 1, 19, 4, 0, 0.1),
                  aicl::Error);
  CHECK_THROWS_AS(aicl::infonce_forward(c.emb.data(), i[0], i[1], i[2], i[3], 1, 19, 4, 1, 0.0), aicl::Error);
  c.idx[2][0] = 19;
  CHECK_THROWS_WITH(aicl::infonce_forward(c.emb.data(), i[0], i[1], c.idx[2].data(), i[3], 1, 19, 4, 1, 0.1),
                    Catch::Contains("idx_IA"));
}
