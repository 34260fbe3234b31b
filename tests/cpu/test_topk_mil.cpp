// Tests of top-k MIL pooling and the pseudo label (kernels/topk_mil): reference values, tie order, errors (gradient: tests/ops).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "core/base/error.h"
#include "kernels/topk_mil.h"
#include "gradcheck.h"

namespace {

constexpr int kClasses = 20;

// A tie-heavy case run through the OFFICIAL forward_pass code (torch 1.13 CPU topk), generated once by
// `tools/selection_tie_oracle.py --emit-test`: cas rows are prototypes, flow/rgb = level/16; expected topk [B,k,C].
struct TorchCase {
  int T, k;
  std::vector<std::string> proto, flow, rgb;
  std::vector<int> expected;
};

const std::vector<TorchCase> kTorchCases = {
// topk T=64 k=8
{64, 8, {"4310111212412200104343314120310021111303200040042320202030043324", "1441200133131404220340110122240303322031200123321212113111040123"}, {"0202222201121110222222222120000202120110221112111122021001012002", "0002202202001102222200211121001200012211211022120011100220102000"}, {"0220111211010020002002220100001120021010000210120110221212110200", "0120001110112201222120011111100010002102001111012221000121200001"}, {1, 23, 7, 53, 35, 18, 7, 53, 35, 7, 53, 1, 23, 7, 53, 35, 18, 7, 53, 35, 21, 35, 53, 1, 23, 7, 50, 1, 23, 53, 1, 21, 35, 53, 1, 23, 7, 50, 1, 23, 22, 18, 50, 22, 18, 47, 53, 22, 18, 1, 22, 22, 18, 50, 22, 18, 47, 53, 22, 18, 23, 6, 1, 21, 7, 53, 1, 21, 7, 21, 21, 23, 6, 1, 21, 7, 53, 1, 21, 7, 35, 11, 22, 14, 53, 1, 21, 57, 6, 22, 35, 35, 11, 22, 14, 53, 1, 21, 57, 6, 18, 5, 21, 43, 6, 21, 22, 31, 11, 50, 23, 18, 5, 21, 43, 6, 21, 22, 31, 11, 7, 4, 35, 31, 11, 22, 23, 43, 5, 23, 18, 7, 4, 35, 31, 11, 22, 23, 43, 5, 53, 7, 23, 57, 5, 35, 35, 14, 4, 35, 31, 53, 7, 23, 57, 5, 35, 35, 14, 4, 19, 56, 36, 18, 56, 36, 36, 18, 56, 36, 18, 19, 56, 36, 18, 56, 36, 36, 18, 56, 45, 39, 17, 37, 17, 17, 17, 37, 36, 17, 56, 45, 39, 17, 37, 17, 17, 17, 37, 36, 56, 12, 16, 58, 36, 16, 16, 58, 16, 16, 37, 56, 12, 16, 58, 36, 16, 16, 58, 16, 36, 7, 18, 6, 16, 15, 47, 6, 17, 18, 58, 36, 7, 18, 6, 16, 15, 47, 6, 17, 16, 50, 47, 56, 18, 13, 26, 56, 12, 44, 6, 16, 50, 47, 56, 18, 13, 26, 56, 12, 17, 55, 26, 19, 12, 18, 44, 19, 55, 26, 16, 17, 55, 26, 19, 12, 18, 44, 19, 55, 18, 36, 44, 45, 50, 56, 18, 45, 7, 47, 17, 18, 36, 44, 45, 50, 56, 18, 45, 7, 31, 17, 56, 16, 39, 44, 56, 16, 50, 56, 36, 31, 17, 56, 16, 39, 44, 56, 16, 50}},
// topk T=41 k=5
{41, 5, {"33421444022200200330032332144242441201004", "11341204340413422003441310040200200344142"}, {"00110000010010000001111010110111110010100", "00011110000011001111000011110110000110011"}, {"11001001000001010111110000001110110011101", "00111010000010110110111100110101000110100"}, {21, 32, 29, 36, 30, 32, 29, 38, 30, 29, 36, 21, 32, 29, 36, 30, 32, 29, 38, 30, 0, 33, 38, 20, 33, 33, 22, 19, 33, 38, 20, 0, 33, 38, 20, 33, 33, 22, 19, 33, 24, 30, 19, 19, 32, 30, 31, 20, 32, 19, 19, 24, 30, 19, 19, 32, 30, 31, 20, 32, 1, 37, 36, 38, 29, 29, 9, 36, 29, 20, 38, 1, 37, 36, 38, 29, 29, 9, 36, 29, 18, 26, 20, 21, 19, 40, 3, 21, 4, 36, 21, 18, 26, 20, 21, 19, 40, 3, 21, 4, 35, 12, 29, 17, 12, 36, 29, 17, 12, 29, 17, 35, 12, 29, 17, 12, 36, 29, 17, 12, 19, 4, 17, 6, 4, 27, 40, 6, 4, 6, 18, 19, 4, 17, 6, 4, 27, 40, 6, 4, 13, 27, 6, 26, 3, 3, 5, 26, 3, 18, 6, 13, 27, 6, 26, 3, 3, 5, 26, 3, 2, 36, 26, 18, 36, 29, 16, 18, 36, 26, 26, 2, 36, 26, 18, 36, 29, 16, 18, 36, 23, 3, 18, 35, 27, 20, 15, 35, 27, 17, 35, 23, 3, 18, 35, 27, 20, 15, 35, 27}},
};

int level(char ch) { return ch <= '9' ? ch - '0' : ch - 'a' + 10; }
float prototype_cas(int proto, int c) { return static_cast<float>(((proto * 7 + c * 3) % 11) / 4.0 - 1.25); }

// Naive reference: softmax in double, combined, full descending sort (tie-free inputs only), mean of raw cas.
void naive_topk_mil(std::vector<double>& cas_top, std::vector<int>& idx, std::vector<double>& combined,
                    const std::vector<double>& cas, const std::vector<double>& flow, const std::vector<double>& rgb,
                    int B, int T, int C, int k) {
  combined.assign(static_cast<size_t>(B) * T * C, 0);
  for (int r = 0; r < B * T; ++r) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += std::exp(cas[r * C + c]);
    for (int c = 0; c < C; ++c) combined[r * C + c] = (std::exp(cas[r * C + c]) / s + flow[r] + rgb[r]) / 3;
  }
  idx.assign(static_cast<size_t>(B) * k * C, -1);
  cas_top.assign(static_cast<size_t>(B) * C, 0);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c) {
      std::vector<int> order(T);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int x, int y) {
        return combined[(b * T + x) * C + c] > combined[(b * T + y) * C + c];
      });
      for (int j = 0; j < k; ++j) {
        idx[(b * k + j) * C + c] = order[j];
        cas_top[b * C + c] += cas[(b * T + order[j]) * C + c] / k;
      }
    }
}

}  // namespace

TEST_CASE("topk_mil_forward: matches a naive reference on tie-free inputs", "[topk_mil]") {
  for (auto [B, T, k] : {std::tuple{2, 64, 8}, std::tuple{1, 37, 4}, std::tuple{3, 9, 1}, std::tuple{1, 5, 5}}) {
    const int C = kClasses;
    auto cas = aicl_test::random_vector(static_cast<size_t>(B) * T * C, 11 + T, -3, 3);
    auto flow = aicl_test::random_vector(static_cast<size_t>(B) * T, 12 + T, 0, 1);
    auto rgb = aicl_test::random_vector(static_cast<size_t>(B) * T, 13 + T, 0, 1);
    std::vector<double> want_top, want_comb;
    std::vector<int> want_idx;
    naive_topk_mil(want_top, want_idx, want_comb, cas, flow, rgb, B, T, C, k);
    std::vector<double> top(B * C), comb(static_cast<size_t>(B) * T * C);
    std::vector<int> idx(static_cast<size_t>(B) * k * C);
    aicl::topk_mil_forward(top.data(), idx.data(), comb.data(), cas.data(), flow.data(), rgb.data(), B, T, C, k);
    INFO("B=" << B << " T=" << T << " k=" << k);
    CHECK(idx == want_idx);
    for (size_t i = 0; i < comb.size(); ++i) REQUIRE(comb[i] == Approx(want_comb[i]).epsilon(1e-13));
    for (size_t i = 0; i < top.size(); ++i) REQUIRE(top[i] == Approx(want_top[i]).epsilon(1e-13));
    // The float instantiation picks the same indices here and agrees to float precision.
    std::vector<float> fcas(cas.begin(), cas.end()), fflow(flow.begin(), flow.end()), frgb(rgb.begin(), rgb.end());
    std::vector<float> ftop(B * C), fcomb(comb.size());
    std::vector<int> fidx(idx.size());
    aicl::topk_mil_forward(ftop.data(), fidx.data(), fcomb.data(), fcas.data(), fflow.data(), frgb.data(), B, T, C, k);
    CHECK(fidx == want_idx);
    for (size_t i = 0; i < top.size(); ++i) REQUIRE(ftop[i] == Approx(want_top[i]).epsilon(1e-6).margin(1e-6));
  }
}

TEST_CASE("topk_mil_forward: torch CPU topk tie order of the official forward_pass", "[topk_mil]") {
  for (const auto& tc : kTorchCases) {
    const int B = static_cast<int>(tc.proto.size()), T = tc.T, k = tc.k, C = kClasses;
    std::vector<float> cas, flow, rgb;
    for (const auto& row : tc.proto)
      for (char ch : row)
        for (int c = 0; c < C; ++c) cas.push_back(prototype_cas(level(ch), c));
    for (const auto& row : tc.flow)
      for (char ch : row) flow.push_back(static_cast<float>(level(ch) / 16.0));
    for (const auto& row : tc.rgb)
      for (char ch : row) rgb.push_back(static_cast<float>(level(ch) / 16.0));
    std::vector<float> top(B * C), comb(static_cast<size_t>(B) * T * C);
    std::vector<int> idx(static_cast<size_t>(B) * k * C);
    aicl::topk_mil_forward(top.data(), idx.data(), comb.data(), cas.data(), flow.data(), rgb.data(), B, T, C, k);
    INFO("T=" << T << " k=" << k);
    CHECK(idx == tc.expected);
  }
}

TEST_CASE("topk_mil_forward: on ties the chosen set holds the k largest values, in descending order", "[topk_mil]") {
  const int B = 2, T = 50, C = kClasses, k = 12;
  // Only three distinct (cas row, flow + rgb) combinations: every column is full of exact ties.
  std::vector<double> cas(static_cast<size_t>(B) * T * C), flow(B * T), rgb(B * T);
  for (int r = 0; r < B * T; ++r) {
    const int kind = (r * 7) % 3;
    for (int c = 0; c < C; ++c) cas[r * C + c] = 0.25 * ((kind + c) % 4);
    flow[r] = 0.125 * kind;
    rgb[r] = 0.5;
  }
  std::vector<double> top(B * C), comb(static_cast<size_t>(B) * T * C);
  std::vector<int> idx(static_cast<size_t>(B) * k * C);
  aicl::topk_mil_forward(top.data(), idx.data(), comb.data(), cas.data(), flow.data(), rgb.data(), B, T, C, k);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c) {
      std::vector<double> column(T);
      for (int t = 0; t < T; ++t) column[t] = comb[(b * T + t) * C + c];
      std::vector<double> sorted = column;
      std::sort(sorted.begin(), sorted.end(), std::greater<double>());
      std::vector<int> chosen;
      double mean_cas = 0;
      for (int j = 0; j < k; ++j) {
        const int t = idx[(b * k + j) * C + c];
        chosen.push_back(t);
        REQUIRE(column[t] == sorted[j]);  // same values, same (descending) order
        mean_cas += cas[(b * T + t) * C + c] / k;
      }
      std::sort(chosen.begin(), chosen.end());
      CHECK(std::adjacent_find(chosen.begin(), chosen.end()) == chosen.end());  // distinct indices
      CHECK(top[b * C + c] == Approx(mean_cas).epsilon(1e-14));
    }
}

TEST_CASE("pseudo_label_forward: union of the top-k of the labelled classes", "[topk_mil]") {
  const int B = 2, T = 6, C = 3, k = 2;
  // topk_idx [B,k,C]
  const std::vector<int> idx = {// b = 0: class 0 -> {0,1}, class 1 -> {2,3}, class 2 -> {4,5}
                                0, 2, 4, 1, 3, 5,
                                // b = 1: class 0 -> {5,4}, class 1 -> {0,5}, class 2 -> {1,2}
                                5, 0, 1, 4, 5, 2};
  const std::vector<float> labels = {1, 0, 1, /* b=1 */ 0, 1, 0};
  std::vector<float> y(B * T, 7.0f);
  aicl::pseudo_label_forward(y.data(), idx.data(), labels.data(), B, T, C, k);
  CHECK(y == std::vector<float>{1, 1, 0, 0, 1, 1, /* b=1 */ 1, 0, 0, 0, 0, 1});
  const std::vector<float> none = {0, 0, 0, 0, 0, 0};
  aicl::pseudo_label_forward(y.data(), idx.data(), none.data(), B, T, C, k);
  CHECK(y == std::vector<float>(B * T, 0.0f));
}

TEST_CASE("topk_mil: k = 0 (T < 8) and k > T are rejected", "[topk_mil]") {
  const int B = 1, T = 7, C = kClasses;
  std::vector<float> cas(T * C, 0.1f), flow(T, 0.5f), rgb(T, 0.5f), top(C), comb(T * C), dcas(T * C), y(T);
  std::vector<int> idx(8 * C, 0);
  CHECK_THROWS_AS(aicl::topk_mil_forward(top.data(), idx.data(), comb.data(), cas.data(), flow.data(), rgb.data(), B,
                                         T, C, T / 8),
                  aicl::Error);
  CHECK_THROWS_AS(aicl::topk_mil_forward(top.data(), idx.data(), comb.data(), cas.data(), flow.data(), rgb.data(), B,
                                         T, C, T + 1),
                  aicl::Error);
  CHECK_THROWS_AS(aicl::topk_mil_backward(dcas.data(), top.data(), idx.data(), B, T, C, 0), aicl::Error);
  CHECK_THROWS_AS(aicl::pseudo_label_forward(y.data(), idx.data(), top.data(), B, T, C, 0), aicl::Error);
  idx[3] = T;  // an out-of-range index is rejected too
  CHECK_THROWS_AS(aicl::topk_mil_backward(dcas.data(), top.data(), idx.data(), B, T, C, 1), aicl::Error);
}

TEST_CASE("topk_mil_forward: without streams the selection is on softmax(cas) alone (SAL's background top-k)",
          "[topk_mil]") {
  const int B = 2, T = 40, C = 6, k = 5;
  const auto cas = aicl_test::random_vector(std::size_t(B) * T * C, 71, -3, 3);
  std::vector<double> top(B * C), comb(cas.size());
  std::vector<int> idx(std::size_t(B) * k * C);
  aicl::topk_mil_forward<double>(top.data(), idx.data(), comb.data(), cas.data(), nullptr, nullptr, B, T, C, k);
  // combined is the softmax (no streams, no division by 3); the top k of each column is on it, the mean on raw cas.
  const std::vector<double> zeros(std::size_t(B) * T, 0.0);
  std::vector<double> want_top, want_comb;
  std::vector<int> want_idx;
  naive_topk_mil(want_top, want_idx, want_comb, cas, zeros, zeros, B, T, C, k);
  for (std::size_t i = 0; i < comb.size(); ++i) REQUIRE(comb[i] == Approx(3 * want_comb[i]).epsilon(1e-13));
  CHECK(idx == want_idx);  // (softmax + 0) / 3 ranks like the softmax
  for (std::size_t i = 0; i < top.size(); ++i) REQUIRE(top[i] == Approx(want_top[i]).epsilon(1e-13));
  for (int r = 0; r < B * T; ++r) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += comb[std::size_t(r) * C + c];
    REQUIRE(s == Approx(1.0).epsilon(1e-14));
  }
  const std::vector<double> flow(std::size_t(B) * T, 0.5);
  CHECK_THROWS_WITH(aicl::topk_mil_forward<double>(top.data(), idx.data(), comb.data(), cas.data(), flow.data(),
                                                   nullptr, B, T, C, k),
                    Catch::Contains("both"));
}
