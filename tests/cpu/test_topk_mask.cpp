// SAL's selections (kernels/topk_mask): torch CPU topk's set on ties, overwrite vs intersect, relu row sums, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "gradcheck.h"
#include "kernels/topk_mask.h"

namespace {

// Tie-heavy rows through torch 1.13 CPU: levels (base 36 digits) / 4, `sorted(torch.topk(levels / 4, k)[1])`.
// T=128, k=2 takes torch's partial_sort branch (64k <= T), the others its nth_element branch; in each the set
// differs from the first-k-by-index set, so a stable order would fail.
struct TorchRow {
  int k;
  std::string levels;
  std::vector<int> expected;
};

const std::vector<TorchRow> kTorchRows = {
    {2,
     "bmm63m46jon5op66546a3kb89cih7fi7npjbmpas0kcjsgoj86r1qsj7aqbcie6m"
     "6shcedma1nhd5clior05j8b85tjle5af795ji5s43sg3hjs18r3qc87715l4frbs",
     {44, 89}},
    {5, "22221022102222121022012000221022002201120", {15, 18, 19, 22, 35}},
    {12, "11001101012011001222012121010210222100211201022112", {17, 18, 19, 22, 24, 29, 32, 33, 34, 38, 41, 49}},
    {15, "111200112100100111100220001112", {0, 2, 3, 8, 9, 15, 16, 17, 18, 21, 22, 26, 27, 28, 29}},
};

int level(char ch) { return ch <= '9' ? ch - '0' : ch - 'a' + 10; }

std::vector<int> ones(const std::vector<float>& m, int b, int T) {
  std::vector<int> at;
  for (int t = 0; t < T; ++t)
    if (m[std::size_t(b) * T + t] != 0) at.push_back(t);
  return at;
}

}  // namespace

TEST_CASE("topk_mask_forward: the set torch CPU topk picks on ties, both of its branches", "[topk_mask]") {
  for (const TorchRow& r : kTorchRows) {
    const int T = int(r.levels.size());
    INFO("T=" << T << " k=" << r.k);
    std::vector<float> score;
    for (char ch : r.levels) score.push_back(float(level(ch) / 4.0));
    std::vector<float> mask(T, 7.0f);
    aicl::topk_mask_forward(mask.data(), score.data(), 1, T, r.k, false);
    CHECK(ones(mask, 0, T) == r.expected);
    CHECK(std::count(mask.begin(), mask.end(), 0.0f) == T - r.k);  // everything else overwritten with 0
  }
}

TEST_CASE("topk_mask_forward: per video the k largest, and intersect ANDs with the current mask", "[topk_mask]") {
  const int B = 2, T = 6, k = 3;
  const std::vector<double> score = {0.1, 0.9, 0.3, 0.8, 0.2, 0.7, /* b=1 */ 5, -1, 4, 3, -2, 6};
  std::vector<double> mask(B * T, -3.0);
  aicl::topk_mask_forward(mask.data(), score.data(), B, T, k, false);
  CHECK(mask == std::vector<double>{0, 1, 0, 1, 0, 1, /* b=1 */ 1, 0, 1, 0, 0, 1});
  // SAL: y = (actionness top-k) * (confidence top-half); the first call writes, the second intersects.
  const std::vector<double> conf = {9, 9, 9, 0, 0, 0, /* b=1 */ 0, 0, 0, 9, 9, 9};
  aicl::topk_mask_forward(mask.data(), conf.data(), B, T, 3, true);
  CHECK(mask == std::vector<double>{0, 1, 0, 0, 0, 0, /* b=1 */ 0, 0, 0, 0, 0, 1});
  // Intersect treats any nonzero value as set.
  std::vector<double> prior = {0.5, 0, -2, 0, 0, 0, /* b=1 */ 0, 0, 0, 0, 0, 0};
  aicl::topk_mask_forward(prior.data(), score.data(), 1, T, T, true);
  CHECK(prior == std::vector<double>{1, 0, 1, 0, 0, 0, /* b=1 untouched */ 0, 0, 0, 0, 0, 0});
}

TEST_CASE("topk_mask_forward: NaN counts as the largest score, and float and double pick the same set", "[topk_mask]") {
  const int T = 5;
  const std::vector<float> score = {1, std::numeric_limits<float>::quiet_NaN(), 3, 2, -1};
  std::vector<float> mask(T);
  aicl::topk_mask_forward(mask.data(), score.data(), 1, T, 2, false);
  CHECK(mask == std::vector<float>{0, 1, 1, 0, 0});

  const int B = 3, L = 750, k = 110;  // SAL THUMOS: top (T//8 + 17) of the actionness
  const auto d = aicl_test::random_vector(std::size_t(B) * L, 21, 0, 1);
  const std::vector<float> f(d.begin(), d.end());
  std::vector<double> md(d.size());
  std::vector<float> mf(d.size());
  aicl::topk_mask_forward(md.data(), d.data(), B, L, k, false);
  aicl::topk_mask_forward(mf.data(), f.data(), B, L, k, false);
  for (int b = 0; b < B; ++b) {
    std::vector<int> order(L);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int x, int y) { return d[b * L + x] > d[b * L + y]; });
    std::vector<int> want(order.begin(), order.begin() + k);
    std::sort(want.begin(), want.end());
    CHECK(ones(std::vector<float>(md.begin(), md.end()), b, L) == want);
    CHECK(ones(mf, b, L) == want);
  }
}

TEST_CASE("topk_mask_forward: k outside [1, T] is rejected, naming k and T", "[topk_mask]") {
  std::vector<float> score(7, 0.5f), mask(7);
  CHECK_THROWS_WITH(aicl::topk_mask_forward(mask.data(), score.data(), 1, 7, 0, false),
                    Catch::Contains("k=0") && Catch::Contains("T=7"));
  CHECK_THROWS_WITH(aicl::topk_mask_forward(mask.data(), score.data(), 1, 7, 8, true),
                    Catch::Contains("k=8") && Catch::Contains("T=7"));
  CHECK_THROWS_AS(aicl::topk_mask_forward(mask.data(), score.data(), 1, 0, 1, false), aicl::Error);
  aicl::topk_mask_forward(mask.data(), score.data(), 0, 7, 3, false);  // no video: nothing to do
}

TEST_CASE("relu_row_sum_forward: sum over classes of max(cas, 0), ascending, in T's precision", "[topk_mask]") {
  const std::vector<float> in = {1, -2, 0.5f, 0.25f, /* all negative: 0 */ -1, -0.5f, -3, -4,
                                 /* NaN propagates */ 1, std::numeric_limits<float>::quiet_NaN(), 2, 3};
  std::vector<float> out(3, 9.0f);
  aicl::relu_row_sum_forward(out.data(), in.data(), 3, 4);
  CHECK(out[0] == 1.75f);
  CHECK(out[1] == 0.0f);
  CHECK(std::isnan(out[2]));
  // The order is sequential in float: 1 + 2^-24 + 2^-24 rounds each step back to 1, any pairing of the small terms
  // first would give 1 + 2^-23.
  const std::vector<float> tiny = {1.0f, std::ldexp(1.0f, -24), std::ldexp(1.0f, -24)};
  float s = 0;
  aicl::relu_row_sum_forward(&s, tiny.data(), 1, 3);
  CHECK(s == 1.0f);
  const std::vector<double> tiny_d(tiny.begin(), tiny.end());
  double sd = 0;
  aicl::relu_row_sum_forward(&sd, tiny_d.data(), 1, 3);
  CHECK(sd == 1.0 + std::ldexp(1.0, -23));  // exact in double
  CHECK_THROWS_AS(aicl::relu_row_sum_forward(out.data(), in.data(), 3, 0), aicl::Error);
}
