// AICL on ActivityNet (the supplement's settings; docs/aicl.md "ActivityNet"): the constants the anet profiles select,
// the weighted instance-selection score, inference on short videos, and a train + aicl_eval run on an anet13 file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "core/base/io.h"
#include "core/base/rng.h"
#include "core/methods/aicl/aicl.h"
#include "core/methods/registry.h"
#include "core/train/trainer.h"
#include "anet_run.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

aicl::MethodContext anet_ctx(const std::string& profile, int C = 3, int stream = 6) {
  aicl::MethodContext ctx;
  ctx.num_classes = C;
  ctx.feature_dim = 2 * stream;
  ctx.stream_widths = {stream, stream};
  ctx.profile = profile;
  return ctx;
}

const aicl::AiclConfig& cfg_of(const aicl::Method& m) {
  return static_cast<const aicl::AiclMethod&>(m).aicl_config();
}

}  // namespace

TEST_CASE("aicl-anet: the anet profiles select the supplement's constants, thumos14 keeps the official ones") {
  for (const char* prof : {"anet12", "anet13"}) {
    auto m = aicl::make_method("aicl", anet_ctx(prof), aicl::json(), "test");
    const aicl::AiclConfig& c = cfg_of(*m);
    CHECK(c.variant == "activitynet");
    CHECK(c.embed_dim == (std::string(prof) == "anet13" ? 1024 : 512));
    CHECK(c.topk_ratio == 2);      // k = T/2: 25 of 50
    CHECK(c.snippet_ratio == 40);  // K = k/20 = 1 of 50
    CHECK(c.select_cas_weight == 0.5);
    CHECK(c.gce_q == 0.7);
    CHECK(c.w_contrast == 0.01);
    CHECK(c.w_modality == 5);
    CHECK(c.w_consistency == 0.1);
    CHECK(m->min_segments() == 40);
    CHECK(m->min_infer_segments() == 2);
  }
  for (const char* prof : {"thumos14", ""}) {
    auto m = aicl::make_method("aicl", anet_ctx(prof), aicl::json(), "test");
    const aicl::AiclConfig& c = cfg_of(*m);
    CHECK(c.variant == "thumos14");
    CHECK(c.embed_dim == 512);
    CHECK(c.topk_ratio == 8);
    CHECK(c.snippet_ratio == 20);
    CHECK(c.equal_thirds());
    CHECK(m->min_segments() == 20);
    CHECK(m->min_infer_segments() == 8);
  }
  // Keys override the variant's values, the variant key overrides the profile, config() round-trips.
  auto m = aicl::make_method("aicl", anet_ctx("anet13"), aicl::json{{"embed_dim", 256}}, "test");
  CHECK(cfg_of(*m).embed_dim == 256);
  CHECK(cfg_of(*m).topk_ratio == 2);
  auto again = aicl::make_method("aicl", anet_ctx("thumos14"), m->config(), "test");
  CHECK(again->config() == m->config());
  CHECK(cfg_of(*aicl::make_method("aicl", anet_ctx("anet13"), aicl::json{{"variant", "thumos14"}}, "t")).topk_ratio ==
        8);
  CHECK_THROWS_WITH(aicl::make_method("aicl", anet_ctx("anet13"), aicl::json{{"variant", "anet"}}, "cfg.json"),
                    Catch::Contains("method aicl key 'variant' must be \"thumos14\" or \"activitynet\""));
  CHECK_THROWS_WITH(aicl::make_method("aicl", anet_ctx("anet13"), aicl::json{{"select_cas_weight", 1.5}}, "cfg.json"),
                    Catch::Contains("'select_cas_weight' must be in [0, 1]"));
}

TEST_CASE("aicl-anet: the selection score is 1/2 softmax(cas) + 1/4 (rgb + flow), top T/2, down to T = 2 at inference") {
  const int C = 3, S = 6;
  auto m = aicl::make_method("aicl", anet_ctx("anet12", C, S), aicl::json{{"embed_dim", 8}}, "test");
  aicl::ParameterSet p = m->layout();
  m->init_params(p, 3);
  for (int T : {50, 7, 2}) {
    std::vector<float> x(static_cast<size_t>(T) * 2 * S);
    aicl::Rng rng(static_cast<uint64_t>(T));
    for (float& v : x) v = static_cast<float>(rng.uniform() * 2);
    auto ws = m->make_workspace(aicl::cpu_ops());
    m->infer(aicl::cpu_ops(), aicl::ParamView{&p, p.values.data(), nullptr}, x.data(), 1, T, *ws);
    const auto& a = static_cast<const aicl::AiclActivations&>(*ws);
    const int k = T / 2;
    for (int c = 0; c < C; ++c) {
      std::vector<double> col(T);
      for (int t = 0; t < T; ++t) {
        const float* row = a.cas.data() + static_cast<size_t>(t) * C;
        double mx = row[0], sum = 0;
        for (int j = 1; j < C; ++j) mx = std::max(mx, static_cast<double>(row[j]));
        for (int j = 0; j < C; ++j) sum += std::exp(row[j] - mx);
        const double want = 0.5 * std::exp(row[c] - mx) / sum + 0.25 * (a.action_rgb.data()[t] + a.action_flow.data()[t]);
        CHECK(a.combined.data()[static_cast<size_t>(t) * C + c] == Approx(want).epsilon(1e-5));
        col[t] = a.combined.data()[static_cast<size_t>(t) * C + c];
      }
      // The k selected times hold the k largest scores.
      std::vector<double> sorted = col;
      std::sort(sorted.rbegin(), sorted.rend());
      double mean = 0;
      for (int j = 0; j < k; ++j) {
        const int t = a.topk_idx.data()[j * C + c];
        CHECK(col[t] >= sorted[k - 1]);
        mean += a.cas.data()[static_cast<size_t>(t) * C + c];
      }
      CHECK(a.cas_top.data()[c] == Approx(mean / k).epsilon(1e-6));
    }
  }
  auto ws = m->make_workspace(aicl::cpu_ops());
  std::vector<float> x(2 * S, 1.0f);
  CHECK_THROWS_WITH(m->infer(aicl::cpu_ops(), aicl::ParamView{&p, p.values.data(), nullptr}, x.data(), 1, 1, *ws),
                    Catch::Contains("AICL needs T >= 2"));
}

TEST_CASE("aicl-anet: trains on an anet13 file (T = 50) and aicl_eval reproduces its detections") {
  const fs::path dir = aicl_test::temp_dir("aicl_anet_train");
  const aicl::TrainOptions o = aicl_test::train_and_reinfer_anet13(dir, "aicl", 4);
  const aicl::json recorded = aicl::read_json_file(o.run_dir + "/config.json")["method_config"];
  CHECK(recorded["variant"] == "activitynet");  // the run records the config the profile selected
  CHECK(recorded["topk_ratio"] == 2);
  CHECK(recorded["select_cas_weight"] == 0.5);
  fs::remove_all(dir);
}

TEST_CASE("configs: every named schedule in configs/ parses and names a registered method") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(AICL_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".json") continue;
    INFO(e.path());
    const aicl::json j = aicl::read_json_file(e.path().string());
    const aicl::TrainOptions o = aicl::TrainOptions::from_json(j, e.path().string());
    const std::vector<std::string> known = aicl::method_names();
    CHECK(std::find(known.begin(), known.end(), o.method) != known.end());
    // the method takes its config (each stage's, for a staged schedule)
    std::vector<aicl::TrainOptions> runs = o.stages.is_null() ? std::vector<aicl::TrainOptions>{o} : aicl::plan_stages(o);
    for (const aicl::TrainOptions& r : runs)
      CHECK_NOTHROW(aicl::make_method(r.method, aicl::MethodContext{}, r.method_config, e.path().string()));
    ++n;
  }
  CHECK(n >= 6);
}
