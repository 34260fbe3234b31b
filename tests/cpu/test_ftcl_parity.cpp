// One FTCL training step (stage A: ACMNet + ACMLoss with in-batch pairs; stage B: pairs, FTCLNet + FTCLLoss) against
// the official code: tests/golden/ftcl/step_a.json and step_b.json (made by the FTCL oracle's
// tools/make_ftcl_parity_golden.py from the float64 official step; the float32 official step agrees with it to
// precision_check). The weights and the batch are regenerated here from their formulas (tests/parity_formula.h's
// hash_uniform; the oracle's formula_batch) and checked against the golden checksums before the step runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/eval/localize.h"
#include "core/methods/ftcl/ftcl.h"
#include "core/methods/registry.h"
#include "core/train/run_data.h"
#include "data/dataset.h"
#include "data/synth.h"
#include "infer_golden.h"
#include "parity_formula.h"
#include "test_util.h"

namespace {

using aicl::json;
using aicl_test::hash_uniform;

constexpr int kF = 2048, kK = 20;

// [T,2048] features of video v with its classes (the oracle's video_features): x = 2 u(k·2048 + f, 5000 + seed)² +
// eps(v,t)·u((v·T + t)·2048 + f, 6000 + seed), eps = 0.05 + 0.45 u(v·T + t, 7000 + seed), template k(v,t) =
// (t // 6) mod 3, overwritten per class c (ascending) on [s, min(T, s + T//3)), s = (5v + 7c + seed) mod (T//2), by
// 3 + 4c + ((t − s) // 3) mod 4; in double, rounded to float.
void append_video(std::vector<float>& x, int v, int T, int seed, const std::vector<int>& classes) {
  std::vector<uint64_t> k(static_cast<size_t>(T));
  for (int t = 0; t < T; ++t) k[size_t(t)] = uint64_t((t / 6) % 3);
  for (int c : classes) {
    const int s = (5 * v + 7 * c + seed) % (T / 2), e = std::min(T, s + T / 3);
    for (int t = s; t < e; ++t) k[size_t(t)] = uint64_t(3 + 4 * c + ((t - s) / 3) % 4);
  }
  for (int t = 0; t < T; ++t) {
    const uint64_t vt = uint64_t(v) * uint64_t(T) + uint64_t(t);
    const double eps = 0.05 + 0.45 * hash_uniform(vt, 7000 + seed);
    for (int f = 0; f < kF; ++f) {
      const double tv = hash_uniform(k[size_t(t)] * kF + uint64_t(f), 5000 + seed);
      const double nz = hash_uniform(vt * kF + uint64_t(f), 6000 + seed);
      x.push_back(static_cast<float>(2.0 * tv * tv + eps * nz));
    }
  }
}

std::vector<int> classes_of(const json& row) {
  std::vector<int> c;
  for (int i = 0; i < kK; ++i)
    if (row[size_t(i)].get<double>() != 0) c.push_back(i);
  return c;
}

std::vector<float> labels_of(const json& rows) {
  std::vector<float> y;
  for (const json& r : rows)
    for (const json& v : r) y.push_back(v.get<float>());
  return y;
}

// The regenerated features against the golden's sum and samples (exact float values).
void check_features(const std::vector<float>& x, const json& sum, const json& samples) {
  double s = 0;
  for (float v : x) s += v;
  INFO("feature sum " << s << ", golden " << sum.get<double>());
  CHECK(std::fabs(s - sum.get<double>()) <= 1e-9 * std::fabs(sum.get<double>()));
  for (size_t j = 0; j < samples["index"].size(); ++j)
    CHECK(x[samples["index"][j].get<size_t>()] == samples["value"][j].get<float>());
}

// Losses within 1e-4 relative (floor 1e-3); CAS samples within 1e-5; gradient samples within 1e-3 of the tensor's
// max |g| and norms within 1e-3 relative: SAL's parity tolerances (tests/parity_golden.h).
void check_step(const json& g, const aicl::FtclParityResult& r, const aicl::ParameterSet& p) {
  for (const auto& [name, value] : r.losses) {
    const double want = g["loss"][name];
    INFO("loss/" << name << " ours " << value << " official " << want);
    CHECK(std::fabs(value - want) <= 1e-4 * std::max(1e-3, std::fabs(want)));
  }
  const std::vector<int64_t> cas_shape = {r.B, r.T, r.C};
  CHECK(g["cas"]["shape"].get<std::vector<int64_t>>() == cas_shape);
  double worst = 0;
  for (size_t j = 0; j < g["cas"]["index"].size(); ++j)
    worst = std::max(worst, std::fabs(r.cas[g["cas"]["index"][j].get<size_t>()] - g["cas"]["value"][j].get<double>()));
  INFO("cas worst |diff| " << worst);
  CHECK(worst <= 1e-5);
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const aicl::ParamTensor& pt = p.tensor(int(t));
    const json& gg = g["grad"][pt.name];
    const float* gr = p.grad(int(t));
    double w = 0, norm = 0;
    for (size_t i = 0; i < pt.numel; ++i) norm += double(gr[i]) * gr[i];
    norm = std::sqrt(norm);
    for (size_t j = 0; j < gg["index"].size(); ++j)
      w = std::max(w, std::fabs(gr[gg["index"][j].get<size_t>()] - gg["value"][j].get<double>()));
    INFO("grad/" << pt.name << " worst |diff| " << w << " (max |g| " << gg["max_abs"].get<double>() << "), norm ours "
                 << norm << " official " << gg["norm"].get<double>());
    CHECK(w <= 1e-3 * gg["max_abs"].get<double>());
    CHECK(std::fabs(norm - gg["norm"].get<double>()) <= 1e-3 * gg["norm"].get<double>());
  }
}

// The formula weights of the golden's seed, checked against its per-tensor sums.
aicl::ParameterSet golden_weights(const aicl::FtclConfig& cfg, const json& g) {
  aicl::ParameterSet p = aicl::ftcl_parameters(cfg);
  aicl_test::formula_weights(p, g["seed"].get<int>());
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const aicl::ParamTensor& pt = p.tensor(int(t));
    double s = 0;
    for (size_t i = 0; i < pt.numel; ++i) s += p.value(int(t))[i];
    const double want = g["inputs"]["weight_sum"][pt.name];
    INFO("weight sum of " << pt.name);
    CHECK(std::fabs(s - want) <= 1e-9 * std::max(1.0, std::fabs(want)));
  }
  return p;
}

json golden(const std::string& file) {
  return aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/ftcl/" + file);
}

}  // namespace

TEST_CASE("parity: one FTCL stage-A step equals the official code (B=6, T=48, in-batch pairs)", "[ftcl][parity]") {
  const json g = golden("step_a.json");
  const aicl::FtclConfig cfg;  // stage A, THUMOS14 dimensions
  aicl::ParameterSet p = golden_weights(cfg, g);
  const int B = g["B"], T = g["T"], seed = g["seed"];
  const std::vector<float> y = labels_of(g["inputs"]["labels"]);
  std::vector<float> x;
  for (int b = 0; b < B; ++b) append_video(x, b, T, seed, classes_of(g["inputs"]["labels"][size_t(b)]));
  check_features(x, g["inputs"]["feature_sum"]["features"], g["inputs"]["feature_samples"]["features"]);
  aicl::FtclPairs pairs;
  for (const json& pr : g["inputs"]["pos_pairs"]) pairs.pos.push_back({pr[0].get<int>(), pr[1].get<int>()});
  for (const json& pr : g["inputs"]["neg_pairs"]) pairs.neg.push_back({pr[0].get<int>(), pr[1].get<int>()});
  aicl::Rng rng(1);  // our in-batch rule finds the golden's positives (the negatives are the official draw's)
  CHECK(aicl::ftcl_stage_a_pairs(y.data(), B, kK, rng).pos == pairs.pos);
  const aicl::FtclParityResult r = aicl::ftcl_parity_compute(cfg, p, x.data(), y.data(), B, T, &pairs);
  CHECK_FALSE(r.skipped_nan);
  check_step(g, r, p);
}

TEST_CASE("parity: one FTCL stage-B step equals the official code (P=3, T=48, pairs (p, P + p))", "[ftcl][parity]") {
  const json g = golden("step_b.json");
  aicl::FtclConfig cfg;
  cfg.stage = "b";
  aicl::ParameterSet p = golden_weights(cfg, g);
  const int P = g["P"], T = g["T"], seed = g["seed"];
  std::vector<float> x0, x1;  // video v = 2p (side 0) and 2p + 1 (side 1)
  for (int q = 0; q < P; ++q) {
    append_video(x0, 2 * q, T, seed, classes_of(g["inputs"]["labels0"][size_t(q)]));
    append_video(x1, 2 * q + 1, T, seed, classes_of(g["inputs"]["labels1"][size_t(q)]));
  }
  check_features(x0, g["inputs"]["feature_sum"]["features0"], g["inputs"]["feature_samples"]["features0"]);
  check_features(x1, g["inputs"]["feature_sum"]["features1"], g["inputs"]["feature_samples"]["features1"]);
  std::vector<float> x = x0, y = labels_of(g["inputs"]["labels0"]);
  x.insert(x.end(), x1.begin(), x1.end());
  const std::vector<float> y1 = labels_of(g["inputs"]["labels1"]);
  y.insert(y.end(), y1.begin(), y1.end());
  const aicl::FtclPairs pairs = aicl::ftcl_stage_b_pairs(y.data(), 2 * P, kK);
  for (int q = 0; q < P; ++q) {  // the official pair label, sum(y0·y1) > 0
    const bool pos = std::find(pairs.pos.begin(), pairs.pos.end(), std::array<int, 2>{q, P + q}) != pairs.pos.end();
    CHECK(pos == (g["inputs"]["pair_label"][size_t(q)].get<double>() > 0));
  }
  const aicl::FtclParityResult r = aicl::ftcl_parity_compute(cfg, p, x.data(), y.data(), 2 * P, T, nullptr);
  CHECK_FALSE(r.skipped_nan);
  check_step(g, r, p);
}

// FtclMethod::infer (eval mode) against the official ACMNet forward in eval mode, batch 1 per video as the official
// test() runs it: tests/golden/ftcl/infer_forward.json (tools/make_ftcl_infer_golden.py --forward; formula weights and
// features of the oracle's make-inputs). The post-processing reads exactly these three outputs.
TEST_CASE("parity: FTCL inference outputs (video softmax, attention, CAS) equal the official eval-mode forward",
          "[ftcl][parity]") {
  const json g = golden("infer_forward.json");
  const aicl::FtclConfig cfg;
  aicl::ParameterSet p = aicl::ftcl_parameters(cfg);
  aicl_test::formula_weights(p, g["seed"].get<int>());
  const std::unique_ptr<aicl::Method> m = aicl::make_method("ftcl", aicl::MethodContext{}, json::object(), "t");
  aicl::Ops& ops = aicl::cpu_ops();
  const std::unique_ptr<aicl::Workspace> ws = m->make_workspace(ops);
  const aicl::ParamView view{&p, p.values.data(), nullptr};
  for (const json& v : g["videos"]) {
    const int T = v["T"].get<int>();
    std::vector<float> x;
    append_video(x, v["v"].get<int>(), T, g["seed"].get<int>(), v["classes"].get<std::vector<int>>());
    double s = 0;
    for (float f : x) s += f;
    REQUIRE(std::fabs(s - v["feature_sum"].get<double>()) <= 1e-9 * std::fabs(s));
    const aicl::InferScores out = m->infer(ops, view, x.data(), 1, T, *ws);
    REQUIRE(out.activation_stride == kK + 1);
    REQUIRE(out.attention_stride == 3);
    std::vector<float> score(kK);
    m->video_scores(out.video, score.data());
    auto worst = [](const float* ours, const json& want, size_t n) {
      double w = 0;
      for (size_t i = 0; i < n; ++i) w = std::max(w, std::fabs(double(ours[i]) - want[i].get<double>()));
      return w;
    };
    const double w_video = worst(score.data(), v["video"], kK);
    const double w_att = worst(out.attention, v["att"], size_t(T) * 3);
    const double w_cas = worst(out.activation, v["cas"], size_t(T) * (kK + 1));
    INFO("T = " << T << ": worst |diff| video " << w_video << ", attention " << w_att << ", CAS " << w_cas);
    CHECK(w_video <= 1e-5);
    CHECK(w_att <= 1e-5);
    CHECK(w_cas <= 1e-5);
    WARN("FTCL inference forward T = " << T << ": worst |diff| video " << w_video << ", attention " << w_att
                                        << ", CAS " << w_cas);
  }
}

// End to end: the official ACMNet on formula weights (two tensors scaled in float32 so that the model is not
// near-uniform) and the official test_thu.test() on a synthetic THUMOS14-like split (16 test videos of up to 160
// segments, kept whole), against FtclMethod's inference and its declared post-processing through the generic path
// (localize_videos): tests/golden/ftcl_infer/e2e.json from tools/make_ftcl_infer_golden.py --e2e. Labels are stored
// as class indices. Tolerances as SAL's inference parity: segments 1e-4 s, scores 1e-5.
TEST_CASE("parity: FTCL detections end to end (official ACMNet + test_thu.test) on a synthetic split", "[ftcl][parity]") {
  const json g = golden("../ftcl_infer/e2e.json");
  const std::vector<std::string> args = g["synth_args"].get<std::vector<std::string>>();
  REQUIRE(args == std::vector<std::string>{"--train", "2", "--test", "16", "--max-segments", "160", "--seed", "5",
                                           "--difficulty", "1"});
  const std::filesystem::path dir = aicl_test::temp_dir("ftcl_e2e");
  aicl::SynthOptions so;
  so.train_videos = 2, so.test_videos = 16, so.max_segments = 160, so.seed = 5, so.difficulty = 1;
  const std::string data = (dir / "s.h5").string();
  aicl::write_synth(so, data);
  const aicl::Dataset ds(data);
  const std::unique_ptr<aicl::Method> m = aicl::make_method("ftcl", aicl::method_context(ds), json::object(), "t");
  aicl::ParameterSet p;
  for (const aicl::ParamTensor& t : m->layout().tensors()) p.add(t.name, t.shape, t.fan_in);
  p.values.resize(p.numel());
  aicl_test::formula_weights(p, g["weight_seed"].get<int>());
  for (const auto& [name, factor] : g["sharpen"].items()) {
    const int i = p.find(name);
    REQUIRE(i >= 0);
    float* v = p.values.data() + p.tensor(i).offset;
    for (size_t k = 0; k < p.tensor(i).numel; ++k) v[k] *= static_cast<float>(factor.get<double>());
  }
  aicl::Ops& ops = aicl::cpu_ops();
  const aicl::InferenceModel model{m.get(), &ops, aicl::ParamView{&p, p.values.data(), nullptr}};
  const std::vector<size_t> videos = ds.subset_indices(ds.profile().test_subset);
  const aicl::PostprocessConfig post = aicl::postprocess_for(ds, *m);
  REQUIRE(post.kind == "acm");
  const aicl::LocalizeResult res = aicl::localize_videos(model, ds, videos, aicl::VideoFeatures{}, g["segments"], post);
  json want = g["results"];
  size_t n = 0;
  for (auto& [video, list] : want.items())
    for (json& d : list) d["label"] = ds.class_names()[d["label"].get<size_t>()], ++n;
  CHECK(n > 200);
  aicl_test::compare_detections(res.detections["results"], want, 1e-4, 1e-5, "cpu vs official FTCL test()");
  CHECK(res.class_accuracy == Approx(g["test_acc"].get<double>()).margin(1e-12));
  std::filesystem::remove_all(dir);
}
