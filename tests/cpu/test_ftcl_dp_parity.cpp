// Parity of kernels/fsd_dp and kernels/lcs_dp with the official FTCL functions (tests/golden/ftcl/dp_golden.json,
// written by tools/make_ftcl_dp_golden.py from tools/ftcl_dp_oracle.py: FTCLLoss.dp_for_fsd / dp_for_lcs and
// ACMLoss.dp_for_lcs with torch autograd, float32). The inputs are regenerated here bit for bit from the seeds.
#include <catch2/catch.hpp>

#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "kernels/fsd_dp.h"
#include "kernels/lcs_dp.h"
#include "test_util.h"

namespace {

const aicl::json& golden() {
  static const aicl::json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/ftcl/dp_golden.json");
  return g;
}

// The generator of tools/make_ftcl_dp_golden.py: splitmix64 from state = seed; values k·2^-20 as float (exact).
struct Stream {
  std::uint64_t s;
  std::uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  long long k(long long lo, long long hi) { return lo + static_cast<long long>(next() % std::uint64_t(hi - lo + 1)); }
  float val(long long lo, long long hi) { return static_cast<float>(k(lo, hi)) * 0x1p-20f; }
};

constexpr long long kOne = 1 << 20;

// dvalue and the matrices of one pair (fsd: m then g; lcs: S), as the generator makes them.
std::vector<std::vector<float>> make_pair(const std::string& op, const std::string& kind, std::uint64_t seed, int L,
                                          float& dv) {
  Stream r{seed};
  dv = r.val(-kOne, kOne);
  if (dv == 0.f) dv = 1.f;
  const int n = L * L;
  auto fill = [&](auto f) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& e : v) e = f();
    return v;
  };
  if (op == "fsd") {
    auto rnd = [&] { return r.val(-kOne, kOne); };
    if (kind == "random") {
      auto m = fill(rnd);
      return {m, fill(rnd)};
    }
    if (kind == "zeros") return {std::vector<float>(n, 0.f), std::vector<float>(n, 0.f)};
    if (kind == "constant") {
      const float a = r.val(-kOne, kOne), b = r.val(-kOne, kOne);
      return {std::vector<float>(n, a), std::vector<float>(n, b)};
    }
    if (kind == "coarse") {
      auto q = [&] { return static_cast<float>(r.k(-4, 4)) * 0.25f; };
      auto m = fill(q);
      return {m, fill(q)};
    }
    if (kind == "diagonal") {
      std::vector<float> m(n, -1.f);
      for (int i = 0; i < L; ++i) m[i * L + i] = 1.f;
      return {m, std::vector<float>(n, -1.f)};
    }
    if (kind == "gap_heavy") {
      auto m = fill(rnd);
      return {m, fill([&] { return r.val(kOne / 2, kOne); })};
    }
    FAIL("unknown fsd kind " << kind);
  }
  const bool a = op == "lcs_stage_a";
  const long long rnd_lo = a ? 943718 : kOne / 2;
  std::vector<float> S;
  if (kind == "random") {
    S = fill([&] { return r.val(rnd_lo, kOne); });
  } else if (kind == "all_match") {
    S = fill([&] { return r.val(a ? 1033000 : 964690, kOne); });
  } else if (kind == "no_match") {
    S = fill([&] { return r.val(-kOne, a ? 1030000 : 964689); });
  } else if (kind == "ties") {
    S = fill([&] { return static_cast<float>(r.k(a ? 60 : 56, 64)) / 64.f; });
  } else if (kind == "threshold") {
    const float t = a ? 0.984f : 0.92f;
    const float up = std::nextafter(t, 2.f), down = std::nextafter(t, -2.f);
    std::vector<float> choices = {t, up, down};
    if (a) {
      choices.push_back(std::nextafter(up, 2.f));
      choices.push_back(std::nextafter(down, -2.f));
      choices.push_back(std::nextafter(std::nextafter(up, 2.f), 2.f));
    }
    S = fill([&] {
      const long long c = r.k(0, static_cast<long long>(choices.size()));
      return c < static_cast<long long>(choices.size()) ? choices[std::size_t(c)] : r.val(rnd_lo, kOne);
    });
  } else if (kind == "nan") {
    S = fill([&] { return r.val(rnd_lo, kOne); });
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const long long row = r.k(0, L - 1);
    for (int j = 0; j < L; ++j) S[std::size_t(row * L + j)] = nan;
    const long long col = r.k(0, L - 1);
    for (int i = 0; i < L; ++i) S[std::size_t(i * L + col)] = nan;
  } else {
    FAIL("unknown lcs kind " << kind);
  }
  return {S};
}

double checksum(const std::vector<std::vector<float>>& ms) {
  double s = 0;
  for (const auto& m : ms)
    for (float v : m)
      if (!std::isnan(v)) s += v;
  return s;
}

// All pairs of one op: the regenerated inputs stacked [P, L, L], the seeds, and the checked checksums.
struct Batch {
  int P = 0, L = 0;
  std::vector<float> a, b, dv;
  std::vector<std::string> kinds;
};

Batch load_batch(const std::string& op) {
  const auto& g = golden()[op];
  Batch B;
  B.L = g["L"].get<int>();
  const auto& pairs = g["pairs"];
  B.P = static_cast<int>(pairs.size());
  for (const auto& p : pairs) {
    float dv = 0;
    const auto ms = make_pair(op, p["kind"].get<std::string>(), p["seed"].get<std::uint64_t>(), B.L, dv);
    INFO(op << " pair seed " << p["seed"].get<std::uint64_t>() << " (" << p["kind"].get<std::string>() << ")");
    REQUIRE(dv == p["dvalue"].get<double>());
    REQUIRE(checksum(ms) == Approx(p["input_sum"].get<double>()).epsilon(1e-12).margin(1e-12));
    B.a.insert(B.a.end(), ms[0].begin(), ms[0].end());
    if (ms.size() > 1) B.b.insert(B.b.end(), ms[1].begin(), ms[1].end());
    B.dv.push_back(dv);
    B.kinds.push_back(p["kind"].get<std::string>());
  }
  return B;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

}  // namespace

TEST_CASE("ftcl dp parity: FSD values and gradients equal the official dp_for_fsd (240 pairs)") {
  const Batch B = load_batch("fsd");
  REQUIRE(B.P >= 200);
  REQUIRE(B.L == 5);
  const double gamma = golden()["gamma"].get<double>();
  std::vector<float> value(std::size_t(B.P));
  aicl::fsd_dp_forward(value.data(), B.a.data(), B.b.data(), B.P, B.L, gamma);
  const std::size_t LL = std::size_t(B.L) * B.L;
  std::vector<float> dm(B.a.size(), 0.f), dg(B.b.size(), 0.f);
  aicl::fsd_dp_backward(dm.data(), dg.data(), B.dv.data(), B.a.data(), B.b.data(), B.P, B.L, gamma);
  const auto& pairs = golden()["fsd"]["pairs"];
  double worst_value = 0, worst_grad = 0;
  for (int p = 0; p < B.P; ++p) {
    const auto& rec = pairs[std::size_t(p)];
    INFO("fsd pair " << p << " (" << B.kinds[std::size_t(p)] << ")");
    const double want = rec["value"].get<double>();
    const double rel = std::fabs(value[std::size_t(p)] - want) / std::max(std::fabs(want), 1e-6);
    worst_value = std::max(worst_value, rel);
    CHECK(rel <= 1e-5);
    for (const char* key : {"dm", "dg"}) {
      const std::vector<double> w = rec[key].get<std::vector<double>>();
      REQUIRE(w.size() == LL);
      const std::vector<float>& got = key[1] == 'm' ? dm : dg;
      const double scale = std::max(max_abs(w), 1e-30);
      double err = 0;
      for (std::size_t c = 0; c < LL; ++c) err = std::max(err, std::fabs(got[p * LL + c] - w[c]));
      worst_grad = std::max(worst_grad, err / scale);
      INFO(key << " max error " << err << " of max " << scale);
      CHECK(err <= 1e-4 * scale);
    }
  }
  WARN("FSD: worst value error " << worst_value << " relative, worst gradient error " << worst_grad << " of max");
}

namespace {

void check_lcs(const std::string& op, bool stage_a) {
  const Batch B = load_batch(op);
  REQUIRE(B.P >= 200);
  REQUIRE(B.L == 30);
  const float tau = static_cast<float>(golden()["tau"].get<double>());
  REQUIRE(tau == 0.92f);
  std::vector<float> value(std::size_t(B.P));
  aicl::lcs_dp_forward(value.data(), B.a.data(), B.P, B.L, tau, stage_a);
  std::vector<float> dS(B.a.size(), 0.f);
  aicl::lcs_dp_backward(dS.data(), B.dv.data(), B.a.data(), B.P, B.L, tau, stage_a);
  const std::size_t LL = std::size_t(B.L) * B.L;
  const auto& pairs = golden()[op]["pairs"];
  int exact_values = 0, exact_grads = 0;
  for (int p = 0; p < B.P; ++p) {
    const auto& rec = pairs[std::size_t(p)];
    INFO(op << " pair " << p << " (" << B.kinds[std::size_t(p)] << ")");
    const double want = rec["value"].get<double>();
    CHECK(std::fabs(value[std::size_t(p)] - want) <= 1e-5 * std::max(std::fabs(want), 1e-6));
    exact_values += value[std::size_t(p)] == static_cast<float>(want);
    std::vector<double> w(LL, 0.0);
    const auto idx = rec["grad_index"].get<std::vector<int>>();
    const auto& gv = rec["grad_value"];
    for (std::size_t k = 0; k < idx.size(); ++k) w[std::size_t(idx[k])] = gv.is_array() ? gv[k].get<double>() : gv.get<double>();
    const double scale = max_abs(w);
    double err = 0;
    bool same = true;
    for (std::size_t c = 0; c < LL; ++c) {
      err = std::max(err, std::fabs(dS[p * LL + c] - w[c]));
      same = same && dS[p * LL + c] == static_cast<float>(w[c]);
    }
    INFO("gradient max error " << err << " of max " << scale << " (" << idx.size() << " official path cells)");
    CHECK(err <= 1e-4 * std::max(scale, 1e-30));
    exact_grads += same;
  }
  // The same float additions and comparisons as the official code: bit for bit.
  CHECK(exact_values == B.P);
  CHECK(exact_grads == B.P);
}

}  // namespace

TEST_CASE("ftcl dp parity: LCS values and gradients equal the official dp_for_lcs (stage B, 240 pairs)") {
  check_lcs("lcs", false);
}

TEST_CASE("ftcl dp parity: stage-A LCS values and gradients equal the official ACMLoss.dp_for_lcs (240 pairs)") {
  check_lcs("lcs_stage_a", true);
}

TEST_CASE("ftcl dp parity: golden covers all-match, no-match, tie, threshold and NaN pairs") {
  for (const char* op : {"lcs", "lcs_stage_a"}) {
    int no_match = 0, all_match = 0, ties_with_path = 0;
    for (const auto& p : golden()[op]["pairs"]) {
      const std::string kind = p["kind"].get<std::string>();
      const auto n = p["grad_index"].size();
      no_match += kind == "no_match" && n == 0 && p["value"].get<double>() == 0;
      all_match += kind == "all_match" && n == 30;  // the diagonal
      ties_with_path += kind == "ties" && n > 0;
    }
    INFO(op);
    CHECK(no_match == 40);
    CHECK(all_match == 40);
    CHECK(ties_with_path > 30);
  }
}
