// A toy second method (plain MIL: k=3 conv + 1x1 classifier + top-k CE), registered only here, trained,
// checkpointed, resumed and localized through the same trainer, backends and inference as AICL: proof that the
// method interface carries a method that is not AICL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/methods/registry.h"
#include "core/runtime/weights.h"
#include "core/train/inference.h"
#include "core/train/run_data.h"
#include "core/train/trainer.h"
#include "data/dataset.h"
#include "data/synth.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

// Activations of the toy: embedding, CAS, combined CAS, top-k scores and their gradients.
struct ToyWorkspace final : aicl::Workspace {
  explicit ToyWorkspace(aicl::Ops& o) : ops(o) {}
  aicl::Ops& ops;
  int B = 0, T = 0;
  aicl::Buf<float> emb, cas, combined, zeros, cas_top, d_cas_top, d_cas, d_emb;
  aicl::Buf<int> topk;
  void reserve(int B_, int T_, int D, int C) {
    if (B_ == B && T_ == T) return;
    ops.sync();
    B = B_, T = T_;
    const size_t n = static_cast<size_t>(B) * T;
    emb = aicl::Buf<float>(ops, n * D), d_emb = aicl::Buf<float>(ops, n * D);
    cas = aicl::Buf<float>(ops, n * C), combined = aicl::Buf<float>(ops, n * C), d_cas = aicl::Buf<float>(ops, n * C);
    zeros = aicl::Buf<float>(ops, n);
    ops.zero(zeros.data(), n * sizeof(float));
    cas_top = aicl::Buf<float>(ops, static_cast<size_t>(B) * C), d_cas_top = aicl::Buf<float>(ops, static_cast<size_t>(B) * C);
    topk = aicl::Buf<int>(ops, static_cast<size_t>(B) * std::max(1, T / 8) * C);
  }
};

class ToyMil final : public aicl::Method {
 public:
  ToyMil(const aicl::MethodContext& ctx, int D) : F_(ctx.feature_dim), C_(ctx.num_classes), D_(D) {
    layout_.add("conv.weight", {D, F_, 3}, F_ * 3);
    layout_.add("conv.bias", {D}, F_ * 3);
    layout_.add("cls.weight", {C_, D, 1}, D);
    layout_.add("cls.bias", {C_}, D);
    layout_.finalize();
  }
  std::string name() const override { return "toy_mil"; }
  aicl::json config() const override { return aicl::json{{"embed_dim", D_}}; }
  const aicl::ParameterSet& layout() const override { return layout_; }
  const std::vector<std::string>& loss_names() const override {
    static const std::vector<std::string> n = {"loss", "mil"};
    return n;
  }
  int num_loss_slots() const override { return 1; }
  std::vector<double> losses(const float* s) const override { return {s[0], s[0]}; }
  int min_segments() const override { return 8; }
  void check_batch(const float*, int, int T) const override {
    if (T < 8) aicl::fail("toy_mil needs T >= 8");
  }
  std::unique_ptr<aicl::Workspace> make_workspace(aicl::Ops& ops) const override {
    return std::make_unique<ToyWorkspace>(ops);
  }
  void forward(aicl::Ops& ops, const aicl::ParamView& p, const float* x, int B, int T, ToyWorkspace& w) const {
    w.reserve(B, T, D_, C_);
    ops.conv1d_k3_forward(w.emb.data(), x, F_, p.value(0), p.value(1), B, T, F_, D_, 3, true);
    ops.conv1d_k1_forward(w.cas.data(), w.emb.data(), p.value(2), p.value(3), B * T, D_, C_);
    ops.topk_mil_forward(w.cas_top.data(), w.topk.data(), w.combined.data(), w.cas.data(), w.zeros.data(),
                         w.zeros.data(), B, T, C_, T / 8);
  }
  void forward_backward(aicl::Ops& ops, const aicl::ParamView& p, const aicl::StepBatch& b, aicl::Workspace& ws,
                        float* slots) override {
    auto& w = static_cast<ToyWorkspace&>(ws);
    forward(ops, p, b.x, b.B, b.T, w);
    const size_t n = static_cast<size_t>(b.B) * b.T;
    ops.video_ce_forward(slots, w.cas_top.data(), b.labels, b.B, C_);
    if (std::find(nan_steps_.begin(), nan_steps_.end(), b.step) != nan_steps_.end()) slots[0] = std::nanf("");
    ops.zero(w.d_cas_top.data(), static_cast<size_t>(b.B) * C_ * sizeof(float));
    ops.zero(w.d_cas.data(), n * C_ * sizeof(float));
    ops.zero(w.d_emb.data(), n * D_ * sizeof(float));
    ops.video_ce_backward(w.d_cas_top.data(), 1.0f, w.cas_top.data(), b.labels, b.B, C_);
    ops.topk_mil_backward(w.d_cas.data(), w.d_cas_top.data(), w.topk.data(), b.B, b.T, C_, b.T / 8);
    ops.conv1d_k1_backward(p.grad(2), p.grad(3), w.d_emb.data(), w.d_cas.data(), w.emb.data(), p.value(2),
                           b.B * b.T, D_, C_);
    ops.conv1d_k3_backward(p.grad(0), p.grad(1), nullptr, 0, w.d_emb.data(), w.emb.data(), b.x, F_, p.value(0), b.B,
                           b.T, F_, D_, 3, true);
  }
  int video_outputs() const override { return C_; }
  bool skips_nonfinite_steps() const override { return skip_nonfinite_; }
  std::vector<long> nan_steps_;  // steps whose loss is made NaN (the skip tests; CPU op table: host slots)
  bool skip_nonfinite_ = false;
  aicl::InferScores infer(aicl::Ops& ops, const aicl::ParamView& p, const float* x, int B, int T,
                          aicl::Workspace& ws) const override {
    auto& w = static_cast<ToyWorkspace&>(ws);
    forward(ops, p, x, B, T, w);
    return {w.cas_top.data(), w.combined.data()};
  }
  void video_scores(const float* raw, float* out) const override {
    float m = *std::max_element(raw, raw + C_), s = 0;
    for (int c = 0; c < C_; ++c) s += (out[c] = std::exp(raw[c] - m));
    for (int c = 0; c < C_; ++c) out[c] /= s;
  }

 private:
  int F_, C_, D_;
  aicl::ParameterSet layout_;
};

void register_toy() {
  aicl::register_method("toy_mil", [](const aicl::MethodContext& ctx, const aicl::json& cfg, const std::string&) {
    const int D = cfg.is_object() && cfg.contains("embed_dim") ? cfg["embed_dim"].get<int>() : 16;
    auto m = std::make_unique<ToyMil>(ctx, D);
    if (cfg.is_object() && cfg.contains("nan_steps")) m->nan_steps_ = cfg["nan_steps"].get<std::vector<long>>();
    if (cfg.is_object() && cfg.contains("skip_nonfinite")) m->skip_nonfinite_ = cfg["skip_nonfinite"].get<bool>();
    return m;
  });
}

aicl::TrainOptions toy_options(const std::string& data, const std::string& run, int steps) {
  aicl::TrainOptions o;
  o.data = data;
  o.run_dir = run;
  o.method = "toy_mil";
  o.method_config = aicl::json{{"embed_dim", 8}};
  o.steps = steps;
  o.batch = 3;
  o.segments = 16;
  o.eval_every = 2;
  o.checkpoint_every = 1;
  o.select = "test";
  o.threads = 1;
  o.quiet = true;
  return o;
}

}  // namespace

TEST_CASE("toy method: a non-AICL method trains, checkpoints, resumes bitwise and localizes through the same core") {
  register_toy();
  const fs::path dir = aicl_test::temp_dir("toy_method");
  aicl::SynthOptions so;
  so.train_videos = 8;
  so.test_videos = 6;
  so.max_segments = 60;
  so.seed = 4;
  const std::string data = (dir / "toy.h5").string();
  aicl::write_synth(so, data);

  // Uninterrupted 6 steps vs 3 steps then --resume to 6: the same final weights, bit for bit.
  const std::string full = (dir / "full").string(), part = (dir / "part").string();
  const aicl::json rep = aicl::train(toy_options(data, full, 6));
  CHECK(rep["method"] == "toy_mil");
  CHECK(rep.contains("average_mAP"));
  aicl::train(toy_options(data, part, 3));
  aicl::TrainOptions again = aicl::load_run_options(part);
  again.steps = 6;
  again.resume = true;
  again.quiet = true;
  aicl::train(again);
  // --resume of a run stopped before its first checkpoint (only config.json written): starts over, same result.
  const std::string early = (dir / "early").string();
  std::filesystem::create_directories(early);
  aicl::write_json_file(early + "/config.json", toy_options(data, early, 6).to_json());
  aicl::TrainOptions restart = aicl::load_run_options(early);
  restart.resume = true;
  restart.quiet = true;
  aicl::train(restart);
  CHECK(aicl::H5File::open_read(early + "/checkpoint.h5").read_floats("params/conv.weight") ==
        aicl::H5File::open_read(full + "/checkpoint.h5").read_floats("params/conv.weight"));
  const aicl::json cfg = aicl::read_json_file(part + "/config.json");
  CHECK(cfg["method"] == "toy_mil");
  CHECK(cfg["method_config"] == aicl::json{{"embed_dim", 8}});
  aicl::H5File a = aicl::H5File::open_read(full + "/checkpoint.h5"), b = aicl::H5File::open_read(part + "/checkpoint.h5");
  CHECK(a.attr_string("/", "method") == "toy_mil");
  CHECK(a.read_floats("params/conv.weight") == b.read_floats("params/conv.weight"));
  CHECK(a.read_floats("params/cls.bias") == b.read_floats("params/cls.bias"));
  CHECK(a.read_floats("optimizer/v") == b.read_floats("optimizer/v"));
  // A training checkpoint serves as a weights file (aicl_eval --weights RUN/checkpoint.h5): its "params" group.
  {
    const auto m = aicl::make_method("toy_mil", aicl::method_context(aicl::Dataset(data)), aicl::json{{"embed_dim", 8}},
                                     "test");
    aicl::ParameterSet from_ckpt = m->layout();
    aicl::load_weights(full + "/checkpoint.h5", from_ckpt, "toy_mil");
    const int w = from_ckpt.find("conv.weight");
    REQUIRE(w >= 0);
    CHECK(std::vector<float>(from_ckpt.value(w), from_ckpt.value(w) + from_ckpt.tensor(w).numel) ==
          a.read_floats("params/conv.weight"));
    CHECK_THROWS_WITH(aicl::load_weights(full + "/checkpoint.h5", from_ckpt, "aicl"),
                      Catch::Contains("holds weights of method 'toy_mil'"));
  }
  // The metrics carry the toy's own loss names.
  std::ifstream metrics_file(full + "/metrics.jsonl");
  const std::string metrics((std::istreambuf_iterator<char>(metrics_file)), std::istreambuf_iterator<char>());
  CHECK(metrics.find("\"mil\":") != std::string::npos);
  CHECK(metrics.find("\"contrast\"") == std::string::npos);

  // Inference through aicl_eval's job picks the method the weights record, and gives the trainer's detections.
  aicl::InferOptions io;
  io.data = data;
  io.weights = full + "/best.h5";
  io.out = (dir / "dets.json").string();
  io.segments = 16;
  const aicl::InferOutcome out = aicl::infer_and_evaluate(io);
  CHECK(out.method == "toy_mil");
  CHECK(aicl::read_json_file(io.out)["results"] == aicl::read_json_file(full + "/detections.json")["results"]);

  // --protocol in inference mode: the report is the written detections scored under that protocol, with its own
  // default thresholds (anet: the profile's) and the Ambiguous intervals given.
  for (const aicl::EvalProtocol proto : {aicl::EvalProtocol::th14, aicl::EvalProtocol::wtalc}) {
    aicl::InferOptions po = io;
    po.out = (dir / "dets_protocol.json").string();
    po.protocol = proto;
    const aicl::Dataset ds(data);
    const aicl::json gt = ds.ground_truth_json();
    const std::string first = gt["database"].begin().key();
    po.ambiguous = {{first, 0.0, 1e9}};  // excuses/drops everything on that video
    po.ambiguous_name = "amb.txt";
    const aicl::InferOutcome p = aicl::infer_and_evaluate(po);
    aicl::EvalOptions eo;
    eo.subset = ds.profile().test_subset;
    eo.known_labels = ds.class_names();
    eo.protocol = proto;
    eo.tiou_thresholds = aicl::default_tiou(proto);
    eo.ambiguous = po.ambiguous;
    const aicl::EvalReport want = aicl::evaluate_detection(gt, aicl::read_json_file(po.out), eo);
    CHECK(p.report.protocol == aicl::protocol_name(proto));
    CHECK(p.report.tiou == aicl::default_tiou(proto));
    CHECK(p.report.mAP == want.mAP);
    CHECK(p.report.ambiguous_file == "amb.txt");
    CHECK(p.report.num_ambiguous_intervals == 1);
  }

  // Weights of one method given to another: one line naming both.
  io.method = "aicl";
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(io),
                    Catch::Contains("holds weights of method 'toy_mil'; this run uses method 'aicl'"));
  aicl::TrainOptions cross = toy_options(data, (dir / "cross").string(), 1);
  cross.method = "aicl";
  cross.method_config = aicl::json();
  cross.segments = 40;
  cross.init_weights = full + "/best.h5";
  CHECK_THROWS_WITH(aicl::train(cross), Catch::Contains("holds weights of method 'toy_mil'; this run uses method 'aicl'"));
  // ...and a checkpoint of one method resumed as another.
  aicl::TrainOptions wrong = aicl::load_run_options(full);
  wrong.resume = true;
  wrong.method = "aicl";
  wrong.method_config = aicl::json();
  wrong.segments = 40;
  wrong.infer_segments = 40;
  wrong.steps = 7;
  CHECK_THROWS_WITH(aicl::train(wrong), Catch::Contains("checkpoint.h5: holds weights of method 'toy_mil'"));
  fs::remove_all(dir);
}

TEST_CASE("toy method: a method that skips non-finite steps gets no update for them, each logged, and six in a row stop") {
  register_toy();
  const fs::path dir = aicl_test::temp_dir("toy_skip");
  aicl::SynthOptions so;
  so.train_videos = 6, so.test_videos = 3, so.max_segments = 40, so.stream_dim = 16, so.num_classes = 3, so.seed = 2;
  const std::string data = (dir / "t.h5").string();
  aicl::write_synth(so, data);
  auto opts = [&](const std::string& run, int steps, const aicl::json& extra) {
    aicl::TrainOptions o = toy_options(data, (dir / run).string(), steps);
    o.method_config.update(extra);
    o.select = "last", o.eval_every = 0;
    return o;
  };
  // step 3 skipped: the weights after 3 steps are those after 2 (no update, the moments untouched)
  const aicl::json rep = aicl::train(opts("skip", 3, {{"nan_steps", {3}}, {"skip_nonfinite", true}}));
  CHECK(rep["skipped_steps"] == 1);
  aicl::train(opts("two", 2, aicl::json::object()));
  const aicl::H5File a = aicl::H5File::open_read((dir / "skip" / "best.h5").string());
  const aicl::H5File b = aicl::H5File::open_read((dir / "two" / "best.h5").string());
  const aicl::Dataset ds(data);
  const std::unique_ptr<aicl::Method> m =
      aicl::make_method("toy_mil", aicl::method_context(ds), aicl::json{{"embed_dim", 8}}, "t");
  for (const aicl::ParamTensor& t : m->layout().tensors()) CHECK(a.read_floats(t.name) == b.read_floats(t.name));
  std::ifstream metrics(dir / "skip" / "metrics.jsonl");
  int skipped_lines = 0;
  for (std::string line; std::getline(metrics, line);)
    if (aicl::json::parse(line).value("skipped", false)) ++skipped_lines;
  CHECK(skipped_lines == 1);
  // six non-finite steps in a row stop the run naming the step and the term; without skipping the first stops it
  CHECK_THROWS_WITH(aicl::train(opts("many", 9, {{"nan_steps", {2, 3, 4, 5, 6, 7, 8}}, {"skip_nonfinite", true}})),
                    "step 7: loss term 'total' is not finite for 6 steps in a row; stopping (last checkpoint kept)");
  CHECK_THROWS_WITH(aicl::train(opts("stop", 3, {{"nan_steps", {2}}})),
                    Catch::StartsWith("step 2: loss term 'total' is not finite"));
  fs::remove_all(dir);
}
