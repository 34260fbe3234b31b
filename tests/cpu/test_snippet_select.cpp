// Tests of the median binarisation and consistent/inconsistent snippet selection (kernels/snippet_select).
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "kernels/snippet_select.h"

namespace {

std::vector<float> levels_to_values(const std::vector<std::string>& rows) {
  std::vector<float> v;
  for (const auto& r : rows)
    for (char ch : r) v.push_back(static_cast<float>((ch <= '9' ? ch - '0' : ch - 'a' + 10) / 16.0));
  return v;
}

// A tie-heavy case run through the OFFICIAL AICL code (torch 1.13 CPU), generated once by
// `tools/selection_tie_oracle.py --emit-test`: inputs a1, a2 = level/16, expected first-k indices of CA, CB, IA, IB.
struct TorchCase {
  int T, k;
  std::vector<std::string> a1, a2;
  std::vector<std::vector<int>> expected;  // CA, CB, IA, IB, each [B*k]
};

const std::vector<TorchCase>& torch_cases() {
  static const std::vector<TorchCase> cases = {
// snip T=64 k=3
{64, 3, {"0202101111020201220112012002210212000110010022002100111002102001", "1111020111202011220020220221112222100001120211011220222110211220"}, {"1112220210022201120010112110222100100221010002202011112021221022", "0200121201012001211201121012200112121021202120222211220012021221"}, {{48, 3, 17, 62, 61, 33}, {22, 43, 42, 63, 37, 36}, {1, 60, 57, 22, 58, 54}, {56, 46, 30, 35, 38, 42}}},
// snip T=41 k=2
{41, 2, {"22020133021013031133123001213011002212133", "32313010132022333312020130201021323310210"}, {"10102222003032330220321023211232101202130", "00322321023110022320021001101000212302313"}, {{39, 15, 2, 4}, {24, 29, 20, 22}, {40, 28, 24, 0}, {14, 30, 40, 5}}},
// snip T=128 k=6
{128, 6, {"40302104302041322103241410331130401432003322434200011324322432201443224001430444401401440040120240041223124231304202433223244320", "24233313114103241300103341100032401032202332234340004134410004141232014141323102342112200403021303231434103013340420000231321421"}, {"14100411111110102432220220224443212224000331000103322114023134400224030323233400400013023324043404233203420430321424023120234232", "04423411011434312133004411011402013014113023001330202224344004422241332444323340432122130241300021344243331234233003131134320333"}, {{99, 124, 123, 80, 77, 55, 56, 111, 103, 48, 55, 81}, {127, 25, 33, 38, 39, 48, 60, 39, 96, 35, 49, 33}, {66, 44, 46, 106, 96, 35, 24, 46, 101, 15, 70, 113}, {94, 18, 31, 49, 50, 97, 12, 112, 29, 115, 117, 19}}},
// snip T=64 k=64
{64, 64, {"0212012021111010012010000001020010110120121222202220121022112211", "1212201002222101121112221100110202222220111020210021021021210110"}, {"2020121122210202002121001101021000202221220020010102120222002210", "2021021202100122002202212111101102012112220210022201110220122200"}, {{44, 61, 60, 18, 57, 8, 56, 29, 38, 53, 41, 45, 48, 43, 42, 40, 39, 37, 36, 35, 34, 46, 47, 32, 49, 50, 51, 52, 54, 55, 58, 59, 62, 63, 16, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 33, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30, 31, 0, 33, 21, 22, 9, 56, 36, 38, 39, 40, 37, 41, 42, 43, 44, 35, 48, 45, 46, 47, 32, 49, 50, 51, 52, 53, 54, 55, 57, 58, 59, 60, 61, 62, 63, 16, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 34, 17, 18, 19, 20, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0}, {33, 25, 24, 23, 22, 21, 26, 19, 28, 16, 30, 31, 39, 47, 7, 4, 35, 32, 42, 52, 27, 54, 58, 59, 62, 63, 17, 14, 12, 11, 57, 48, 49, 50, 51, 8, 53, 6, 55, 56, 45, 5, 3, 60, 61, 2, 1, 38, 18, 29, 15, 0, 13, 34, 36, 37, 9, 40, 41, 10, 43, 44, 20, 46, 32, 63, 52, 45, 30, 27, 26, 8, 29, 62, 28, 42, 13, 6, 16, 57, 25, 51, 20, 54, 46, 49, 48, 47, 40, 3, 44, 43, 41, 36, 50, 2, 53, 55, 56, 58, 59, 60, 61, 1, 23, 9, 10, 11, 12, 14, 15, 17, 18, 19, 21, 22, 39, 24, 5, 4, 31, 0, 33, 34, 35, 7, 37, 38}, {1, 3, 43, 6, 45, 46, 48, 49, 50, 37, 34, 40, 20, 2, 5, 10, 9, 47, 63, 38, 39, 0, 41, 42, 44, 62, 61, 58, 60, 51, 59, 52, 53, 54, 55, 56, 57, 22, 4, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 36, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 11, 53, 23, 50, 17, 31, 46, 58, 12, 10, 34, 35, 44, 37, 38, 4, 3, 1, 41, 47, 24, 40, 19, 2, 18, 0, 61, 15, 59, 57, 63, 43, 62, 60, 45, 54, 56, 48, 49, 51, 52, 55, 22, 5, 6, 7, 8, 9, 13, 14, 16, 20, 21, 42, 25, 26, 27, 28, 29, 30, 32, 33, 36, 39}, {36, 0, 51, 15, 55, 13, 37, 34, 40, 20, 9, 2, 5, 10, 47, 32, 63, 38, 39, 62, 61, 41, 42, 43, 44, 45, 46, 48, 49, 50, 60, 52, 53, 54, 59, 58, 56, 57, 19, 1, 3, 4, 6, 7, 8, 11, 12, 14, 16, 17, 18, 35, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 33, 48, 49, 5, 60, 7, 39, 43, 55, 14, 41, 47, 24, 19, 18, 15, 0, 40, 59, 61, 2, 37, 42, 44, 45, 38, 32, 46, 50, 51, 52, 53, 54, 56, 57, 58, 62, 63, 21, 1, 3, 4, 6, 8, 9, 10, 11, 12, 13, 16, 17, 20, 36, 22, 23, 25, 26, 27, 28, 29, 30, 31, 33, 34, 35}}},
  };
  return cases;
}

// Straightforward reference: sort then pick the middle, numpy style.
double naive_median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  if (n % 2) return v[n / 2];
  return static_cast<float>(v[n / 2 - 1] + v[n / 2]) / 2.0f;
}

}  // namespace

TEST_CASE("numpy_median: odd, even and tied inputs", "[snippet_select]") {
  const std::vector<float> odd = {0.5f, 0.1f, 0.9f, 0.3f, 0.7f};
  CHECK(aicl::numpy_median(odd.data(), 5) == 0.5f);
  const std::vector<float> even = {0.4f, 0.1f, 0.9f, 0.2f};
  CHECK(aicl::numpy_median(even.data(), 4) == (0.2f + 0.4f) / 2.0f);
  const std::vector<float> tied = {0.3f, 0.3f, 0.3f, 0.1f, 0.3f, 0.9f};
  CHECK(aicl::numpy_median(tied.data(), 6) == 0.3f);
  const std::vector<double> one = {-2.5};
  CHECK(aicl::numpy_median(one.data(), 1) == -2.5);
  // float32 rounding of the two-value mean: numpy rounds lo + hi to float32 (2 + 2^-23 -> 2, ties to even), so
  // np.median([1, 1 + 2^-23]) is exactly 1.0f (checked with numpy 1.24).
  const std::vector<float> close = {1.0f + 1.1920929e-7f, 1.0f};
  CHECK(aicl::numpy_median(close.data(), 2) == 1.0f);
  std::vector<float> random_vals(101);
  for (int n : {1, 2, 7, 64, 101}) {
    for (int i = 0; i < n; ++i) random_vals[i] = static_cast<float>(((i * 37 + 11) % 23) / 23.0);
    std::vector<float> v(random_vals.begin(), random_vals.begin() + n);
    CHECK(aicl::numpy_median(v.data(), n) == static_cast<float>(naive_median(v)));
  }
  CHECK_THROWS_AS(aicl::numpy_median(odd.data(), 0), aicl::Error);
}

TEST_CASE("snippet_select: hand-checked masks and rankings", "[snippet_select]") {
  // T = 8, k = 2. a1 median = (0.4+0.5)/2 -> bin1 = t in {4..7}; a2 median 0.5 -> bin2 = t in {0,1,6,7}.
  const std::vector<double> a1 = {0.1, 0.2, 0.3, 0.35, 0.5, 0.6, 0.7, 0.8};
  const std::vector<double> a2 = {0.9, 0.8, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7};
  // both 1: {6,7} -> CA by a1 desc: 7, 6. both 0: {2,3} -> CB by (0.8 - a1) desc: 2, 3.
  // inconsistent: {0,1,4,5} -> IA by a1 desc: 5, 4; IB by (0.8 - a1) desc: 0, 1.
  std::vector<int> ca(2), cb(2), ia(2), ib(2);
  aicl::snippet_select_forward(ca.data(), cb.data(), ia.data(), ib.data(), a1.data(), a2.data(), 1, 8, 2);
  CHECK(ca == std::vector<int>{7, 6});
  CHECK(cb == std::vector<int>{2, 3});
  CHECK(ia == std::vector<int>{5, 4});
  CHECK(ib == std::vector<int>{0, 1});
  // Odd T = 5: median is the middle value, which is itself 0 (strict '>'). a1 bin {3,4}; a2 bin {0,1}.
  const std::vector<float> b1 = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  const std::vector<float> b2 = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  std::vector<int> ca1(1), cb1(1), ia1(1), ib1(1);
  aicl::snippet_select_forward(ca1.data(), cb1.data(), ia1.data(), ib1.data(), b1.data(), b2.data(), 1, 5, 1);
  // no consistent-action segment: all CA scores 0, the tie order picks among 5 zeros; CB: only t=2 (score 0.2).
  CHECK(cb1[0] == 2);
  CHECK(ia1[0] == 4);  // inconsistent {0,1,3,4}, a1 largest at 4
  CHECK(ib1[0] == 0);  // (0.5 - a1) largest at 0
  CHECK(ca1[0] >= 0);
  CHECK(ca1[0] < 5);
}

TEST_CASE("snippet_select: matches the official code's torch CPU sort tie order", "[snippet_select]") {
  for (const auto& tc : torch_cases()) {
    const int B = static_cast<int>(tc.a1.size());
    const auto a1 = levels_to_values(tc.a1), a2 = levels_to_values(tc.a2);
    std::vector<int> out[4];
    for (auto& o : out) o.assign(static_cast<size_t>(B) * tc.k, -1);
    aicl::snippet_select_forward(out[0].data(), out[1].data(), out[2].data(), out[3].data(), a1.data(), a2.data(), B,
                                 tc.T, tc.k);
    INFO("T=" << tc.T << " k=" << tc.k);
    for (int g = 0; g < 4; ++g) CHECK(out[g] == tc.expected[g]);
    // The same inputs in double select the same indices (all values are exact).
    std::vector<double> d1(a1.begin(), a1.end()), d2(a2.begin(), a2.end());
    std::vector<int> dout[4];
    for (auto& o : dout) o.assign(static_cast<size_t>(B) * tc.k, -1);
    aicl::snippet_select_forward(dout[0].data(), dout[1].data(), dout[2].data(), dout[3].data(), d1.data(), d2.data(),
                                 B, tc.T, tc.k);
    for (int g = 0; g < 4; ++g) CHECK(dout[g] == tc.expected[g]);
  }
}

TEST_CASE("snippet_select: k outside [1, T] is rejected", "[snippet_select]") {
  const std::vector<float> a(19, 0.5f);
  std::vector<int> o(40);
  // T = 19 gives the official k = T//20 = 0, which would make every later mean a 0/0.
  CHECK_THROWS_AS(aicl::snippet_select_forward(o.data(), o.data(), o.data(), o.data(), a.data(), a.data(), 1, 19, 0),
                  aicl::Error);
  CHECK_THROWS_AS(aicl::snippet_select_forward(o.data(), o.data(), o.data(), o.data(), a.data(), a.data(), 1, 19, 20),
                  aicl::Error);
}
