// The FTCL method (core/methods/ftcl): its parameters and constants, the contrast pairs, and the whole training step
// (stage A and B) against a float64 reference forward composed from the kernels' double instantiations: the loss
// terms agree, and the step's float gradient equals central differences of the double loss.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include "core/base/h5.h"
#include "core/base/rng.h"
#include "core/train/inference.h"
#include "core/train/trainer.h"
#include "small_synth.h"
#include "test_util.h"
#include "core/methods/ftcl/ftcl.h"
#include "core/methods/registry.h"
#include "kernels/attention_losses.h"
#include "kernels/branch_ce.h"
#include "kernels/conv1d_k1.h"
#include "kernels/conv1d_k3.h"
#include "kernels/cosine_pairs.h"
#include "kernels/feat_norm_loss.h"
#include "kernels/fsd_dp.h"
#include "kernels/gather_rows.h"
#include "kernels/lcs_dp.h"
#include "kernels/pair_contrast.h"
#include "kernels/rank_select.h"
#include "kernels/row_scale.h"
#include "kernels/softmax_rows.h"
#include "kernels/topk_mil.h"

namespace {

aicl::MethodContext ctx(int K, int F) {
  aicl::MethodContext c;
  c.num_classes = K;
  c.feature_dim = F;
  c.stream_widths = {F / 2, F - F / 2};
  return c;
}

const aicl::FtclConfig& cfg_of(const aicl::Method& m) { return static_cast<const aicl::FtclMethod&>(m).ftcl_config(); }

// The double reference's outputs: the eight terms (loss_names order after "loss"), the total, and a signature of
// every discrete choice (top-k and rank selections, LCS matches) that must not change inside a finite difference.
struct Reference {
  std::vector<double> terms;
  double total = 0;
  std::vector<int> signature;
  std::vector<double> att;  // [B,T,3]
};

using V = std::vector<double>;

// Top-k and rank choices as sorted sets, appended to the signature.
void sign_sets(std::vector<int>& sig, const int* idx, int groups, int k, int stride) {
  for (int g = 0; g < groups; ++g) {
    std::vector<int> s;
    for (int j = 0; j < k; ++j) s.push_back(idx[(g / stride * k + j) * stride + g % stride]);
    std::sort(s.begin(), s.end());
    sig.insert(sig.end(), s.begin(), s.end());
  }
}

// The step's forward in double, one kernel call per official operation (dropout off), as ftcl.cpp composes it.
// The guide loss reads the attention through .detach(): `detached` (the unperturbed step's) when given, so that
// central differences see the loss whose gradient the official backward computes.
Reference reference(const aicl::FtclConfig& cfg, const aicl::ParameterSet& layout, const V& w, const V& x,
                    const V& y, int B, int T, const aicl::FtclPairs& pairs, const V* detached = nullptr) {
  const int D = cfg.feature_dim, K = cfg.num_classes, C = K + 1, H = cfg.fc_dim, L = cfg.lcs_len, F = cfg.fsd_len,
            N = B * T, sides = cfg.stage_b() ? 2 : 1, Bs = B / sides;
  auto P = [&](int i) { return w.data() + layout.tensor(i).offset; };
  Reference r;
  V E(size_t(N) * D), al(size_t(N) * 3), A(size_t(N) * 3), Z(size_t(N) * C), Zb(size_t(3) * N * C), comb(size_t(N) * C),
      v(size_t(3) * B * C), cas(size_t(N) * C);
  aicl::conv1d_k3_forward(E.data(), x.data(), D, P(aicl::kFtclEmbW), P(aicl::kFtclEmbB), B, T, D, D, 3, true);
  aicl::conv1d_k1_forward(al.data(), E.data(), P(aicl::kFtclAttW), P(aicl::kFtclAttB), N, D, 3);
  aicl::softmax_rows_forward(A.data(), al.data(), N, 3);
  aicl::conv1d_k1_forward(Z.data(), E.data(), P(aicl::kFtclClsW), P(aicl::kFtclClsB), N, D, C);
  const int k[3] = {cfg.k_ins(T), cfg.k_con(T), cfg.k_bak(T)};
  for (int b = 0; b < 3; ++b) {
    std::vector<int> idx(size_t(B) * k[b] * C);
    aicl::row_scale_forward(Zb.data() + size_t(b) * N * C, Z.data(), A.data(), 3, b, N, C);
    aicl::topk_mil_weighted_forward(v.data() + size_t(b) * B * C, idx.data(), comb.data(),
                                    Zb.data() + size_t(b) * N * C,
                                    static_cast<const double*>(nullptr), static_cast<const double*>(nullptr),
                                    aicl::MilSelection{false, 1, 0, 0}, B, T, C, k[b]);
    sign_sets(r.signature, idx.data(), B * C, k[b], C);
  }
  aicl::softmax_rows_forward(cas.data(), Zb.data(), N, C);
  V feat(size_t(3) * B * D);
  for (int b = 0; b < 3; ++b) {
    std::vector<int> idx(size_t(B) * k[b]);
    aicl::rank_select_forward(idx.data(), k[b], A.data(), 3, b, B, T, 0, k[b], false);
    sign_sets(r.signature, idx.data(), B, k[b], 1);
    for (int s = 0; s < sides; ++s)
      aicl::gather_rows_forward(feat.data() + size_t(s * 3 + b) * Bs * D, E.data() + size_t(s) * Bs * T * D,
                                idx.data() + size_t(s) * Bs * k[b], k[b], Bs, T, D, k[b], true);
  }
  V acm(6, 0.0);
  for (int s = 0; s < sides; ++s) {
    const size_t b0 = size_t(s) * Bs;
    for (int b = 0; b < 3; ++b)
      acm[b] += aicl::branch_ce_forward(v.data() + (size_t(b) * B + b0) * C, y.data() + b0 * K, Bs, K,
                                        static_cast<aicl::BranchTarget>(b), cfg.eps()) / sides;
    const double* att = (detached ? detached->data() : A.data()) + b0 * T * 3;
    acm[3] += aicl::guide_loss_forward(cas.data() + b0 * T * C, att, Bs, T, C, 3) / sides;
    acm[4] += aicl::feat_norm_loss_forward(feat.data() + size_t(s) * 3 * Bs * D, Bs, D, cfg.feat_margin) / sides;
    acm[5] += aicl::att_sparsity_forward(A.data() + b0 * T * 3, Bs, T, 3, 2) / sides;
  }
  // Candidate sets and the pairs (negatives first, as ftcl.cpp orders them).
  std::vector<int> lidx(size_t(B) * L), fidx(size_t(B) * 2 * F), ra, rb, fa, fb, pos;
  aicl::rank_select_forward(lidx.data(), L, A.data(), 3, 0, B, T, 0, L, true);
  aicl::rank_select_forward(fidx.data(), 2 * F, A.data(), 3, 0, B, T, 0, F, true);
  aicl::rank_select_forward(fidx.data() + F, 2 * F, A.data(), 3, 0, B, T, F, F, true);
  r.signature.insert(r.signature.end(), lidx.begin(), lidx.end());
  r.signature.insert(r.signature.end(), fidx.begin(), fidx.end());
  V lx(size_t(B) * L * D), fraw(size_t(B) * 2 * F * D), fx(size_t(B) * 2 * F * H);
  aicl::gather_rows_forward(lx.data(), E.data(), lidx.data(), L, B, T, D, L, false);
  aicl::gather_rows_forward(fraw.data(), E.data(), fidx.data(), 2 * F, B, T, D, 2 * F, false);
  aicl::conv1d_k1_forward(fx.data(), fraw.data(), P(aicl::kFtclTransW), P(aicl::kFtclTransB), B * 2 * F, D, H);
  for (int positive = 0; positive < 2; ++positive)
    for (const auto& pr : positive ? pairs.pos : pairs.neg) {
      ra.push_back(pr[0] * L), rb.push_back(pr[1] * L), pos.push_back(positive);
      fa.push_back(pr[0] * 2 * F), fb.push_back(pr[1] * 2 * F + (positive ? 0 : F));
    }
  const int np = static_cast<int>(pos.size());
  double lcs = 0, fsd = 0;
  if (np > 0 && (cfg.stage_b() || !pairs.pos.empty())) {
    const double eps = cfg.stage_b() ? 1e-10 : 0.0;
    const size_t n1 = size_t(np);
    V S(n1 * L * L), val(n1), m(n1 * F * F), g(n1 * F * F);
    aicl::cosine_pairs_forward(S.data(), lx.data(), B * L, D, 0, D, ra.data(), rb.data(), np, L);
    for (double s : S)  // the LCS match decisions (stage A: 5·max(0, s − 0.8) > τ)
      r.signature.push_back((cfg.stage_b() ? s : std::max(0.0, s - 0.8) * 5) > double(float(cfg.thres)));
    aicl::lcs_dp_forward(val.data(), S.data(), np, L, float(cfg.thres), !cfg.stage_b());
    lcs = aicl::pair_contrast_forward(val.data(), pos.data(), np, eps);
    aicl::cosine_pairs_forward(m.data(), fx.data(), B * 2 * F, H, 0, H / 2, fa.data(), fb.data(), np, F);
    aicl::cosine_pairs_forward(g.data(), fx.data(), B * 2 * F, H, H / 2, H - H / 2, fa.data(), fb.data(), np, F);
    aicl::fsd_dp_forward(val.data(), m.data(), g.data(), np, F, cfg.fsd_gamma);
    fsd = aicl::pair_contrast_forward(val.data(), pos.data(), np, eps);
  }
  r.terms = {acm[0], acm[1], acm[2], acm[3], acm[4], acm[5], lcs, fsd};
  r.att = A;
  r.total = acm[0] + acm[1] + acm[2] + cfg.lamb_guide * acm[3] + cfg.lamb_feat * acm[4] + cfg.lamb_sparse * acm[5] +
            cfg.lamb_lcs * lcs + cfg.lamb_fsd * fsd;
  return r;
}

// A small step: D = 12 features, K = 3 classes, T = 16, candidate sets of 4 (LCS) and 2 + 2 (FSD). `near`: pairs of
// videos whose features differ by a little noise (same label), so that their candidate rows are nearly parallel and
// the LCS matches (cosine > 0.984 in stage A) take part.
struct SmallStep {
  int B = 4, T = 16, K = 3, D = 12;
  std::unique_ptr<aicl::Method> method;
  aicl::ParameterSet params;
  std::vector<float> x, y;
  aicl::FtclPairs pairs;
};

SmallStep make_step(const std::string& stage, unsigned seed, const std::vector<std::array<int, 2>>& near) {
  SmallStep s;
  s.method = aicl::make_method(
      "ftcl", ctx(s.K, s.D),
      aicl::json{{"stage", stage}, {"fc_dim", 6}, {"lcs_len", 4}, {"fsd_len", 2}, {"dropout", 0.7}}, "test");
  s.params = s.method->layout();
  s.method->init_params(s.params, seed);
  aicl::Rng rng(seed * 7919u + 1);
  s.x.resize(size_t(s.B) * s.T * s.D);
  for (float& v : s.x) v = static_cast<float>(rng.uniform(-1, 2));
  for (const auto& [a, b] : near)
    for (size_t i = 0; i < size_t(s.T) * s.D; ++i)
      s.x[size_t(b) * s.T * s.D + i] = s.x[size_t(a) * s.T * s.D + i] + static_cast<float>(rng.uniform(-0.05, 0.05));
  s.y.assign(size_t(s.B) * s.K, 0.0f);
  return s;
}

// Runs the float method (dropout off) and returns the loss values in loss_names order; the gradient in params.grads.
std::vector<double> run_method(SmallStep& s) {
  const aicl::FtclConfig cfg = [&] {
    aicl::FtclConfig c = cfg_of(*s.method);
    c.dropout = 0;
    return c;
  }();
  aicl::FtclActivations a(aicl::cpu_ops());
  s.params.zero_grad();
  std::vector<float> slots(aicl::kNumFtclLossSlots);
  const aicl::ParamView pv{&s.params, s.params.values.data(), s.params.grads.data()};
  aicl::ftcl_forward_backward(aicl::cpu_ops(), cfg, pv,
                              aicl::StepBatch{s.x.data(), s.y.data(), s.y.data(), s.B, s.T, 1, 0}, a, slots.data(),
                              &s.pairs);
  const aicl::FtclLosses L = aicl::ftcl_losses_from_slots(slots.data(), cfg);
  return {L.total, L.cls_ins, L.cls_con, L.cls_bak, L.guide, L.feat, L.sparse, L.lcs, L.fsd};
}

// The float step's gradient against central differences of the double reference, per tensor at its three entries of
// largest |g| (where the discrete choices stay put at ±h), and the forward terms against the reference's.
void check_step(SmallStep& s) {
  aicl::FtclConfig cfg = cfg_of(*s.method);
  cfg.dropout = 0;
  const std::vector<double> got = run_method(s);
  const std::vector<float> grad = s.params.grads;
  V w(s.params.values.begin(), s.params.values.end()), x(s.x.begin(), s.x.end()), y(s.y.begin(), s.y.end());
  const Reference ref = reference(cfg, s.params, w, x, y, s.B, s.T, s.pairs);
  REQUIRE(std::isfinite(ref.total));
  for (size_t i = 0; i < ref.terms.size(); ++i) {
    INFO("term " << s.method->loss_names()[i + 1] << ": float " << got[i + 1] << ", double " << ref.terms[i]);
    CHECK(std::fabs(got[i + 1] - ref.terms[i]) <= 2e-5 * std::max(1.0, std::fabs(ref.terms[i])));
  }
  CHECK(std::fabs(got[0] - ref.total) <= 2e-5 * std::max(1.0, std::fabs(ref.total)));
  INFO("lcs " << ref.terms[6] << ", fsd " << ref.terms[7]);
  CHECK(ref.terms[6] != 0);  // LCS matches took part (the near-duplicate pair)
  CHECK(ref.terms[7] != 0);
  int checked = 0;
  for (const aicl::ParamTensor& t : s.params.tensors()) {
    std::vector<size_t> order(t.numel);
    std::iota(order.begin(), order.end(), 0);
    auto g_of = [&](size_t i) { return std::fabs(double(grad[t.offset + i])); };
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return g_of(a) > g_of(b); });
    const double gmax = g_of(order[0]);
    for (size_t n = 0; n < std::min<size_t>(3, t.numel); ++n) {
      const size_t i = t.offset + order[n];
      double h = 1e-5, fd = 0;
      bool same = false;
      for (int tries = 0; tries < 6 && !same; ++tries, h /= 4) {
        V wp = w, wm = w;
        wp[i] += h, wm[i] -= h;
        const Reference rp = reference(cfg, s.params, wp, x, y, s.B, s.T, s.pairs, &ref.att);
        const Reference rm = reference(cfg, s.params, wm, x, y, s.B, s.T, s.pairs, &ref.att);
        same = rp.signature == ref.signature && rm.signature == ref.signature;
        fd = (rp.total - rm.total) / (2 * h);
      }
      INFO(t.name << "[" << order[n] << "]: float step " << grad[i] << ", double central difference " << fd);
      REQUIRE(same);
      CHECK(std::fabs(fd - grad[i]) <= 1e-3 * std::fabs(fd) + 1e-5 * gmax + 1e-9);
      ++checked;
    }
  }
  CHECK(checked == 24);
}

}  // namespace

TEST_CASE("ftcl: the ACMNet state_dict (keys, shapes, 14,732,312 parameters at THUMOS14) and the official constants",
          "[ftcl]") {
  auto m = aicl::make_method("ftcl", ctx(20, 2048), aicl::json(), "test");
  const aicl::ParameterSet& p = m->layout();
  const std::vector<std::pair<std::string, std::vector<int>>> want = {
      {"feature_embedding.0.weight", {2048, 2048, 3}}, {"feature_embedding.0.bias", {2048}},
      {"att_branch.weight", {3, 2048, 1}},             {"att_branch.bias", {3}},
      {"snippet_cls.weight", {21, 2048}},              {"snippet_cls.bias", {21}},
      {"feature_trans.weight", {1024, 2048}},          {"feature_trans.bias", {1024}}};
  REQUIRE(p.tensors().size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(p.tensor(int(i)).name == want[i].first);
    CHECK(p.tensor(int(i)).shape == want[i].second);
  }
  CHECK(p.numel() == 14732312);
  const aicl::FtclConfig& c = cfg_of(*m);
  CHECK(c.stage == "a");
  CHECK(c.k_ins(750) == 93);
  CHECK(c.k_con(750) == 250);
  CHECK(c.k_bak(750) == 250);
  CHECK(c.k_ins(5) == 1);  // max(T // 8, 1)
  CHECK(c.eps() == 1e-45);
  CHECK(cfg_of(*aicl::make_method("ftcl", ctx(20, 2048), aicl::json{{"stage", "b"}}, "t")).eps() == 1e-10);
  CHECK(m->min_segments() == 30);
  CHECK(m->loss_names() ==
        std::vector<std::string>{"loss", "cls_ins", "cls_con", "cls_bak", "guide", "feat", "sparse", "lcs", "fsd"});
  CHECK_THROWS_WITH(aicl::make_method("ftcl", ctx(20, 2048), aicl::json{{"stage", "c"}}, "cfg"),
                    Catch::Contains("'stage' must be \"a\""));
  CHECK_THROWS_WITH(aicl::make_method("ftcl", ctx(20, 2048), aicl::json{{"bogus", 1}}, "cfg"),
                    Catch::Contains("bogus"));
  CHECK_THROWS_WITH(m->check_batch(std::vector<float>(40, 0.0f).data(), 2, 750), Catch::Contains("no label"));
  CHECK_THROWS_WITH(m->check_batch(std::vector<float>(40, 1.0f).data(), 2, 29), Catch::Contains("at least 30"));
}

TEST_CASE("ftcl: the loss total weights the terms as ACMLoss and FTCLLoss do", "[ftcl]") {
  aicl::FtclConfig a;
  float slots[aicl::kNumFtclLossSlots];
  for (int i = 0; i < aicl::kNumFtclLossSlots; ++i) slots[i] = float(i + 1);
  const aicl::FtclLosses La = aicl::ftcl_losses_from_slots(slots, a);
  CHECK(La.total == Approx(1 + 2 + 3 + 2e-3 * 4 + 5e-5 * 5 + 2e-4 * 6 + 0.1 * 13 + 0.8 * 14).epsilon(1e-12));
  aicl::FtclConfig b;
  b.stage = "b";  // the mean of the two sides' ACM losses
  const aicl::FtclLosses Lb = aicl::ftcl_losses_from_slots(slots, b);
  CHECK(Lb.cls_ins == 4);
  CHECK(Lb.sparse == 9);
  CHECK(Lb.total == Approx(4 + 5 + 6 + 2e-3 * 7 + 5e-5 * 8 + 2e-4 * 9 + 0.1 * 13 + 0.8 * 14).epsilon(1e-12));
  b.use_lcs = false;
  CHECK(aicl::ftcl_losses_from_slots(slots, b).total == Approx(Lb.total - 0.1 * 13).epsilon(1e-12));
}

TEST_CASE("ftcl: stage A pairs: same single class positive, disjoint negative, negatives sampled down to the positives",
          "[ftcl]") {
  const int K = 3;
  // videos: {0}, {0}, {1}, {0, 2}, {0}, {2}
  const std::vector<float> y = {1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1};
  aicl::Rng rng(3);
  const aicl::FtclPairs p = aicl::ftcl_stage_a_pairs(y.data(), 6, K, rng);
  const std::vector<std::array<int, 2>> want_pos = {{0, 1}, {0, 4}, {1, 4}};
  CHECK(p.pos == want_pos);  // (0, 3) shares class 0 but 3 has two labels: neither positive nor negative
  const std::vector<std::array<int, 2>> all_neg = {{0, 2}, {0, 5}, {1, 2}, {1, 5}, {2, 3}, {2, 4}, {2, 5}, {4, 5}};
  REQUIRE(p.neg.size() == 3);
  for (const auto& n : p.neg) CHECK(std::find(all_neg.begin(), all_neg.end(), n) != all_neg.end());
  CHECK(p.neg[0] != p.neg[1]);
  CHECK(p.neg[1] != p.neg[2]);
  CHECK(p.neg[0] != p.neg[2]);
  const aicl::FtclPairs b = aicl::ftcl_stage_b_pairs(y.data(), 6, K);  // (0,3) shares 0; (1,4) shares 0; (2,5) none
  CHECK(b.pos == std::vector<std::array<int, 2>>{{0, 3}, {1, 4}});
  CHECK(b.neg == std::vector<std::array<int, 2>>{{2, 5}});
}

TEST_CASE("ftcl: a stage A step equals the double reference, and its gradient the reference's central differences",
          "[ftcl]") {
  SmallStep s = make_step("a", 11, {{0, 1}});
  s.y = {1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1};  // {0}, {0}, {1}, {0, 2}
  s.pairs.pos = {{0, 1}};
  s.pairs.neg = {{1, 2}};
  check_step(s);
}

TEST_CASE("ftcl: a stage B step (pairs (p, P + p)) equals the double reference and its central differences", "[ftcl]") {
  SmallStep s = make_step("b", 12, {{0, 2}});
  s.y = {1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};  // pairs (0, 2) positive, (1, 3) negative
  s.pairs = aicl::ftcl_stage_b_pairs(s.y.data(), s.B, s.K);
  REQUIRE(s.pairs.pos.size() == 1);
  REQUIRE(s.pairs.neg.size() == 1);
  check_step(s);
}

TEST_CASE("ftcl: stage A trains through the generic trainer (dropout on) and resumes bitwise, ends with the test "
          "evaluation (acm post-processing), and stage B trains on pairs from it and resumes bitwise",
          "[ftcl]") {
  namespace fs = std::filesystem;
  const fs::path dir = aicl_test::temp_dir("ftcl_method");
  const std::string data = aicl_test::small_synth(dir, "ftcl_small.h5");
  auto options = [&](const std::string& run, int steps) {
    aicl::TrainOptions o;
    o.data = data, o.run_dir = (dir / run).string(), o.method = "ftcl";
    o.method_config = aicl::json{{"stage", "a"}, {"fc_dim", 6}, {"lcs_len", 4}, {"fsd_len", 2}};
    o.steps = steps, o.batch = 4, o.segments = 16, o.eval_every = 0, o.checkpoint_every = 1, o.select = "last";
    o.threads = 1, o.quiet = true;
    return o;
  };
  aicl::train(options("full", 4));
  aicl::train(options("part", 2));
  aicl::TrainOptions again = aicl::load_run_options((dir / "part").string());
  again.run_dir = (dir / "part").string(), again.resume = true, again.steps = 4;
  aicl::train(again);
  const aicl::H5File a = aicl::H5File::open_read((dir / "full" / "best.h5").string());
  const aicl::H5File b = aicl::H5File::open_read((dir / "part" / "best.h5").string());
  for (const char* key :
       {"feature_embedding.0.weight", "att_branch.bias", "snippet_cls.weight", "feature_trans.weight"})
    CHECK(a.read_floats(key) == b.read_floats(key));
  // The run ended with inference on the test videos through FTCL's declared "acm" post-processing; aicl_eval's
  // job reads the method from the weights file and gives the same detections.
  const aicl::json report = aicl::read_json_file((dir / "full" / "eval.json").string());
  CHECK(report.contains("average_mAP"));
  CHECK(report["tiou"] == aicl::json{0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001});
  const aicl::json dets = aicl::read_json_file((dir / "full" / "detections.json").string());
  CHECK(dets["results"].size() == 4);
  aicl::InferOptions io;
  io.data = data, io.weights = (dir / "full" / "best.h5").string(), io.out = (dir / "infer.json").string();
  io.segments = 16;
  const aicl::InferOutcome out = aicl::infer_and_evaluate(io);
  CHECK(out.method == "ftcl");
  CHECK(out.report.average_mAP == report["average_mAP"].get<double>());
  CHECK(aicl::read_json_file(io.out)["results"] == dets["results"]);
  // Stage B from stage A's weights: epochs of pairs (positives + as many sampled negatives), 2 pairs = 4 videos per
  // step, frozen samplings; a resumed run equals the uninterrupted one bitwise.
  auto stage_b = [&](const std::string& run, int steps) {
    aicl::TrainOptions o = options(run, steps);
    o.method_config["stage"] = "b";
    o.batch = 2;
    o.init_weights = (dir / "full" / "best.h5").string();
    return o;
  };
  aicl::train(stage_b("b_full", 5));
  aicl::train(stage_b("b_part", 3));
  aicl::TrainOptions b_again = aicl::load_run_options((dir / "b_part").string());
  b_again.run_dir = (dir / "b_part").string(), b_again.resume = true, b_again.steps = 5;
  aicl::train(b_again);
  const aicl::H5File ba = aicl::H5File::open_read((dir / "b_full" / "best.h5").string());
  const aicl::H5File bb = aicl::H5File::open_read((dir / "b_part" / "best.h5").string());
  for (const char* key : {"feature_embedding.0.weight", "att_branch.bias", "feature_trans.weight"})
    CHECK(ba.read_floats(key) == bb.read_floats(key));
  CHECK(ba.read_floats("snippet_cls.weight") != a.read_floats("snippet_cls.weight"));  // stage B moved stage A's weights
  size_t lines = 0;
  std::ifstream metrics(dir / "b_full" / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    const aicl::json m = aicl::json::parse(line);
    if (!m.contains("loss")) continue;
    ++lines;
    CHECK(m["batch"] == 4);  // two pairs: 4 videos
    CHECK(m["fsd"].get<double>() != 0);  // the pairs reach the contrast
  }
  CHECK(lines == 5);
}

TEST_CASE("ftcl: stage B's epoch is every equal-label pair and as many sampled disjoint pairs, negatives first",
          "[ftcl]") {
  const int K = 3;
  // videos: {0}, {0}, {1}, {0, 2}, {0, 2}, {2}
  const std::vector<float> y = {1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1};
  std::vector<const float*> rows;
  for (int v = 0; v < 6; ++v) rows.push_back(y.data() + v * K);
  aicl::Rng rng(5);
  const std::vector<std::array<size_t, 2>> e = aicl::ftcl_stage_b_epoch(rows, K, rng);
  // positives (equal label vectors, two-label ones too): (0, 1), (3, 4); negatives (no shared class): (0, 2),
  // (0, 5), (1, 2), (1, 5), (2, 3), (2, 4), (2, 5): two of them drawn
  REQUIRE(e.size() == 4);
  CHECK(e[2] == std::array<size_t, 2>{0, 1});
  CHECK(e[3] == std::array<size_t, 2>{3, 4});
  const std::vector<std::array<size_t, 2>> neg = {{0, 2}, {0, 5}, {1, 2}, {1, 5}, {2, 3}, {2, 4}, {2, 5}};
  for (int i = 0; i < 2; ++i) CHECK(std::find(neg.begin(), neg.end(), e[size_t(i)]) != neg.end());
  CHECK(e[0] != e[1]);
  const std::vector<float> none = {1, 0, 0, 0, 1, 0};
  CHECK_THROWS_WITH(aicl::ftcl_stage_b_epoch({none.data(), none.data() + 3}, K, rng),
                    Catch::Contains("no positive pair"));
  // the method's units and batch order: pairs (a, b) flattened into [a..., b...]
  auto m = aicl::make_method("ftcl", ctx(K, 12), aicl::json{{"stage", "b"}}, "t");
  CHECK(m->frozen_sampling());
  aicl::Rng r2(5);
  const auto units = m->training_units({10, 11, 12, 13, 14, 15}, rows, K, r2);
  REQUIRE(units.size() == 4);
  CHECK(units[2] == std::vector<size_t>{10, 11});
  std::vector<size_t> batch = {10, 11, 13, 14};
  m->form_batch(batch, r2);
  CHECK(batch == std::vector<size_t>{10, 13, 11, 14});
  CHECK(aicl::make_method("ftcl", ctx(K, 12), aicl::json(), "t")->training_units({10, 11}, rows, K, r2).empty());
}
