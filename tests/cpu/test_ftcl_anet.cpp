// FTCL's ActivityNet variant (the official config's ActivityNet block, ../shared/specs/ftcl.md 1.1-1.3, 4.4): its
// keys and constants, the profile choosing it, the step's gradients with its two extra dropouts on (central
// differences of the float loss), and a short anet13 training that its own re-inference reproduces.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

#include "anet_run.h"
#include "core/base/rng.h"
#include "core/methods/ftcl/ftcl.h"
#include "core/methods/registry.h"
#include "test_util.h"

namespace {

aicl::MethodContext ctx(int K, int F, const std::string& profile) {
  aicl::MethodContext c;
  c.num_classes = K;
  c.feature_dim = F;
  c.stream_widths = {F / 2, F - F / 2};
  c.profile = profile;
  return c;
}

const aicl::FtclConfig& cfg_of(const aicl::Method& m) { return static_cast<const aicl::FtclMethod&>(m).ftcl_config(); }

}  // namespace

TEST_CASE("ftcl-anet: the anet profiles select the ActivityNet block (Dropout-Conv-ReLU keys, 2/10/10, 5e-3/5e-5/0)",
          "[ftcl]") {
  for (const char* profile : {"anet12", "anet13"}) {
    auto m = aicl::make_method("ftcl", ctx(200, 2048, profile), aicl::json(), "test");
    const aicl::FtclConfig& c = cfg_of(*m);
    CHECK(c.variant == "activitynet");
    CHECK(m->layout().tensor(0).name == "feature_embedding.1.weight");
    CHECK(m->layout().tensor(1).name == "feature_embedding.1.bias");
    CHECK(m->layout().tensor(4).shape == std::vector<int>{201, 2048});
    CHECK(c.k_ins(75) == 37);
    CHECK(c.k_con(75) == 7);
    CHECK(c.k_bak(75) == 7);
    CHECK(c.lamb_guide == 5e-3);
    CHECK(c.lamb_feat == 5e-5);
    CHECK(c.lamb_sparse == 0);
    CHECK(c.dropout == 0.7);
    CHECK(m->config()["variant"] == "activitynet");
    CHECK(m->postprocess_overrides()["nms_thresh"] == 0.90);
    CHECK(!m->postprocess_overrides().contains("tiou"));  // the profile's 0.5:0.05:0.95, all ten
  }
  auto th = aicl::make_method("ftcl", ctx(20, 2048, "thumos14"), aicl::json(), "test");
  CHECK(cfg_of(*th).variant == "thumos14");
  CHECK(th->layout().tensor(0).name == "feature_embedding.0.weight");
  // the config's variant wins over the profile's; its keys over the variant's defaults
  auto forced = aicl::make_method("ftcl", ctx(20, 2048, "thumos14"),
                                  aicl::json{{"variant", "activitynet"}, {"ins_topk_seg", 4}}, "test");
  CHECK(cfg_of(*forced).activitynet());
  CHECK(cfg_of(*forced).ins_topk_seg == 4);
  CHECK(cfg_of(*forced).con_topk_seg == 10);
  CHECK_THROWS_WITH(aicl::make_method("ftcl", ctx(20, 2048, ""), aicl::json{{"variant", "anet"}}, "cfg.json"),
                    "cfg.json: method ftcl key 'variant' must be \"thumos14\" or \"activitynet\"");
}

// Dropout masks are keyed by (seed, step, site), so a step with dropout on (all four masks) is a deterministic
// function of the weights: central differences of its float loss (h the step float can take) against its gradient, at the two
// largest entries of every tensor, with every discrete choice (top-k sets, attention ranks, LCS matches) unchanged.
TEST_CASE("ftcl-anet: with the input and attention dropouts on, the step's gradients match finite differences",
          "[ftcl]") {
  const int B = 4, T = 16, K = 3, D = 12;
  // lamb_guide 0: the guide loss detaches a_ins, which a finite difference of the loss cannot (the THUMOS14 test
  // checks that term against a double reference with the attention frozen there: test_ftcl_method.cpp)
  auto m = aicl::make_method(
      "ftcl", ctx(K, D, "anet13"),
      aicl::json{{"fc_dim", 6}, {"lcs_len", 4}, {"fsd_len", 2}, {"thres", 0.5}, {"lamb_guide", 0}}, "t");
  const aicl::FtclConfig& cfg = cfg_of(*m);
  REQUIRE(cfg.activitynet());
  aicl::ParameterSet p = m->layout();
  m->init_params(p, 7);
  std::vector<float> x(size_t(B) * T * D), y = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  aicl::Rng rng(99);
  for (float& v : x) v = static_cast<float>(rng.uniform(-1, 2));
  for (size_t i = 0; i < size_t(T) * D; ++i) x[size_t(T) * D + i] = x[i] + static_cast<float>(rng.uniform(-0.05, 0.05));
  aicl::FtclPairs pairs;
  pairs.pos = {{0, 1}};
  pairs.neg = {{1, 2}};
  auto run = [&](std::vector<int>* sig) {
    aicl::FtclActivations a(aicl::cpu_ops());
    p.zero_grad();
    std::vector<float> slots(aicl::kNumFtclLossSlots);
    aicl::ftcl_forward_backward(aicl::cpu_ops(), cfg, aicl::ParamView{&p, p.values.data(), p.grads.data()},
                                aicl::StepBatch{x.data(), y.data(), y.data(), B, T, 7, 3}, a, slots.data(), &pairs);
    if (sig) {
      sig->clear();
      const int C = cfg.classes(), k[3] = {cfg.k_ins(T), cfg.k_con(T), cfg.k_bak(T)};
      const int kmax = std::max({k[0], k[1], k[2]});
      auto sets = [&](const int* idx, int groups, int n, int stride) {  // each group's first n as a sorted set
        for (int g = 0; g < groups; ++g) {
          std::vector<int> set(idx + size_t(g) * stride, idx + size_t(g) * stride + n);
          std::sort(set.begin(), set.end());
          sig->insert(sig->end(), set.begin(), set.end());
        }
      };
      for (int b = 0; b < B; ++b)  // the top-k time sets per (video, class), stored [B,k,C]
        for (int c = 0; c < C; ++c)
          for (int br = 0; br < 3; ++br) {
            const int* idx = br == 0 ? a.topk_ins.data() : br == 1 ? a.topk_con.data() : a.topk_bak.data();
            std::vector<int> set;
            for (int j = 0; j < k[br]; ++j) set.push_back(idx[(size_t(b) * k[br] + j) * C + c]);
            std::sort(set.begin(), set.end());
            sig->insert(sig->end(), set.begin(), set.end());
          }
      for (int br = 0; br < 3; ++br) sets(a.feat_idx.data() + size_t(br) * B * kmax, B, k[br], kmax);
      sig->insert(sig->end(), a.lcs_idx.data(), a.lcs_idx.data() + B * cfg.lcs_len);
      sig->insert(sig->end(), a.fsd_idx.data(), a.fsd_idx.data() + B * 2 * cfg.fsd_len);
      for (size_t i = 0; i < size_t(a.P) * 16; ++i) sig->push_back(a.S.data()[i] > 0.5f);
    }
    return aicl::ftcl_losses_from_slots(slots.data(), cfg);
  };
  std::vector<int> sig0;
  const aicl::FtclLosses L0 = run(&sig0);
  INFO("loss " << L0.total << ", lcs " << L0.lcs << ", fsd " << L0.fsd);
  REQUIRE(std::isfinite(L0.total));
  CHECK(L0.fsd != 0);
  const std::vector<float> grad = p.grads;
  int checked = 0, agreed = 0;
  for (const aicl::ParamTensor& t : p.tensors()) {
    std::vector<size_t> order(t.numel);
    std::iota(order.begin(), order.end(), 0);
    auto g_of = [&](size_t i) { return std::fabs(double(grad[t.offset + i])); };
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return g_of(a) > g_of(b); });
    const double gmax = g_of(order[0]);
    for (size_t n = 0; n < std::min<size_t>(2, t.numel); ++n) {
      float& w = p.values[t.offset + order[n]];
      const float w0 = w;
      double h = 4e-3, fd = 0;
      bool same = false;
      for (int tries = 0; tries < 5 && !same; ++tries, h /= 2) {
        std::vector<int> sp, sm;
        w = static_cast<float>(w0 + h);
        const double hp = double(w) - w0, lp = run(&sp).total;
        w = static_cast<float>(w0 - h);
        const double hm = w0 - double(w), lm = run(&sm).total;
        fd = (lp - lm) / (hp + hm);
        same = sp == sig0 && sm == sig0;
      }
      w = w0;
      const double g = grad[t.offset + order[n]];
      INFO(t.name << "[" << order[n] << "]: step " << g << ", central difference " << fd);
      REQUIRE(same);
      CHECK(std::fabs(fd - g) <= 2e-2 * std::fabs(fd) + 2e-3 * gmax + 1e-6);
      agreed += std::fabs(fd - g) <= 2e-2 * std::fabs(fd) + 2e-3 * gmax + 1e-6;
      ++checked;
    }
  }
  CHECK(checked == 16);  // two per tensor
  CHECK(agreed == checked);
}

TEST_CASE("ftcl-anet: stage A trains on an anet13 file with the ActivityNet block, its re-inference reproduces the "
          "run's detections (ACM-Net's ActivityNet post-processing)",
          "[ftcl]") {
  namespace fs = std::filesystem;
  const fs::path dir = aicl_test::temp_dir("ftcl_anet_run");
  const aicl::TrainOptions o = aicl_test::train_and_reinfer_anet13(dir, "ftcl", 3, aicl::json{{"stage", "a"}, {"fc_dim", 8}});
  const aicl::json cfg = aicl::read_json_file(o.run_dir + "/config.json");
  INFO(cfg.dump());
  CHECK(cfg.dump().find("\"variant\":\"activitynet\"") != std::string::npos);
  fs::remove_all(dir);
}
