// SAL through the generic core at a small width: training with dropout, the mask state in checkpoints and a bitwise
// resume, inference through aicl_eval's job with SAL's post-processing, and the one-line errors on bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/base/error.h"
#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/eval/postprocess.h"
#include "core/methods/registry.h"
#include "core/methods/sal/sal.h"
#include "core/runtime/weights.h"
#include "core/train/inference.h"
#include "core/train/run_data.h"
#include "core/train/trainer.h"
#include "data/dataset.h"
#include "small_synth.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

// 6 test videos, 5 classes, seed 9.
std::string small_synth(const fs::path& dir) { return aicl_test::small_synth(dir, "sal_small.h5", 6, 5, 9); }

aicl::TrainOptions sal_options(const std::string& data, const std::string& run, int steps) {
  aicl::TrainOptions o;
  o.data = data;
  o.run_dir = run;
  o.method = "sal";
  o.method_config = aicl::json{{"embed_dim", 8}};
  o.steps = steps;
  o.batch = 2;
  o.segments = 24;
  o.eval_every = 3;
  o.checkpoint_every = 1;
  o.select = "test";
  o.threads = 1;
  o.quiet = true;
  return o;
}

aicl::MethodContext small_context() {
  aicl::MethodContext ctx;
  ctx.num_classes = 5;
  ctx.feature_dim = 32;
  ctx.stream_widths = {16, 16};
  return ctx;
}

}  // namespace

TEST_CASE("sal: trains with dropout, keeps its mask state in checkpoints and resumes bitwise") {
  const fs::path dir = aicl_test::temp_dir("sal_method");
  const std::string data = small_synth(dir);
  const std::string full = (dir / "full").string(), part = (dir / "part").string();
  const aicl::json rep = aicl::train(sal_options(data, full, 6));
  CHECK(rep["method"] == "sal");
  aicl::train(sal_options(data, part, 3));
  aicl::TrainOptions again = aicl::load_run_options(part);
  again.steps = 6;
  again.resume = true;
  again.quiet = true;
  aicl::train(again);
  aicl::H5File a = aicl::H5File::open_read(full + "/checkpoint.h5"), b = aicl::H5File::open_read(part + "/checkpoint.h5");
  CHECK(a.read_floats("params/fc1.weight") == b.read_floats("params/fc1.weight"));
  CHECK(a.read_floats("params/encoder.0.weight") == b.read_floats("params/encoder.0.weight"));
  CHECK(a.read_floats("optimizer/v") == b.read_floats("optimizer/v"));
  // The EMA moved away from its start (1/C, 1) and was carried through the resume exactly.
  const double mu = a.attr_double("method_state", "ema_mu"), var = a.attr_double("method_state", "ema_var");
  CHECK(mu != 0.2);
  CHECK(var < 0.2);
  CHECK(mu == b.attr_double("method_state", "ema_mu"));
  CHECK(var == b.attr_double("method_state", "ema_var"));
  std::ifstream metrics_file(full + "/metrics.jsonl");
  const std::string metrics((std::istreambuf_iterator<char>(metrics_file)), std::istreambuf_iterator<char>());
  for (const char* term : {"\"mil\":", "\"mse\":", "\"kl\":", "\"act\":", "\"se\":", "\"mix\":"})
    CHECK(metrics.find(term) != std::string::npos);

  // Inference through aicl_eval's job: the method from the weights file, the trainer's detections.
  aicl::InferOptions io;
  io.data = data;
  io.weights = full + "/best.h5";
  io.out = (dir / "dets.json").string();
  io.segments = 24;
  const aicl::InferOutcome out = aicl::infer_and_evaluate(io);
  CHECK(out.method == "sal");
  CHECK(aicl::read_json_file(io.out)["results"] == aicl::read_json_file(full + "/detections.json")["results"]);
  fs::remove_all(dir);
}

TEST_CASE("sal: dropout is keyed by seed and step, and off when the config says 0") {
  aicl::SalConfig cfg;
  cfg.feature_dim = 32, cfg.rgb_dim = 16, cfg.num_classes = 5, cfg.embed_dim = 8;
  aicl::SalMethod method(cfg);
  aicl::ParameterSet p = method.layout();
  method.init_params(p, 3);
  const int B = 2, T = 24;
  std::vector<float> x(static_cast<size_t>(B) * T * 32), labels(static_cast<size_t>(B) * 5, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37 % 101) / 50.0);
  labels[1] = labels[5 + 3] = 1;
  auto loss = [&](double dropout, unsigned long long seed, long step) {
    aicl::SalConfig c = cfg;
    c.dropout = dropout;
    aicl::SalMethod m(c);
    auto ws = m.make_workspace(aicl::cpu_ops());
    p.zero_grad();
    float slots[aicl::kNumSalLossSlots];
    m.forward_backward(aicl::cpu_ops(), aicl::ParamView{&p, p.values.data(), p.grads.data()},
                       aicl::StepBatch{x.data(), labels.data(), labels.data(), B, T, step, seed}, *ws, slots);
    return m.losses(slots)[0];
  };
  const double off = loss(0, 1, 1);
  CHECK(loss(0, 2, 5) == off);  // no dropout: seed and step do not matter
  const double on = loss(0.5, 1, 1);
  CHECK(on != off);
  CHECK(loss(0.5, 1, 1) == on);  // the same key draws the same masks
  CHECK(loss(0.5, 1, 2) != on);
  CHECK(loss(0.5, 2, 1) != on);
}

TEST_CASE("sal: post-processing takes soft-NMS alpha 0.3 on top of the dataset profile") {
  const fs::path dir = aicl_test::temp_dir("sal_post");
  const std::string data = small_synth(dir);
  const aicl::Dataset ds(data);
  auto sal = aicl::make_method("sal", aicl::method_context(ds), aicl::json(), "test");
  auto aicl_m = aicl::make_method("aicl", aicl::method_context(ds), aicl::json(), "test");
  CHECK(aicl::postprocess_for(ds, *sal).nms_alpha == 0.3);
  CHECK(aicl::postprocess_for(ds, *aicl_m).nms_alpha == 0.35);
  auto tuned = aicl::make_method("sal", aicl::method_context(ds), aicl::json{{"soft_nms_alpha", 0.5}}, "test");
  CHECK(aicl::postprocess_for(ds, *tuned).nms_alpha == 0.5);
  aicl::PostprocessConfig pc;
  CHECK_THROWS_WITH(aicl::apply_postprocess_overrides(pc, aicl::json{{"nms_alfa", 1}}, "method x"),
                    Catch::Contains("method x: unknown or malformed post-processing key 'nms_alfa'"));
  CHECK_THROWS_WITH(aicl::apply_postprocess_overrides(pc, aicl::json{{"nms_alpha", -1}}, "method x"),
                    Catch::Contains("'nms_alpha' must be a finite number"));
  fs::remove_all(dir);
}

TEST_CASE("sal: bad input gets one clear line") {
  const aicl::MethodContext ctx = small_context();
  auto m = aicl::make_method("sal", ctx, aicl::json{{"embed_dim", 8}}, "cfg.json");
  std::vector<float> labels(2 * 5, 0.0f);
  labels[0] = 1;
  // T below the pseudo-label top-k size (T/8 + 17).
  CHECK(m->min_segments() == 19);
  CHECK_THROWS_WITH(m->check_batch(labels.data(), 1, 18), Catch::Contains("T = 18 segments is too short for SAL"));
  // A video without a label.
  CHECK_THROWS_WITH(m->check_batch(labels.data(), 2, 24), Catch::Contains("video 1 of the batch has no label"));
  // Config keys and values.
  CHECK_THROWS_WITH(aicl::make_method("sal", ctx, aicl::json{{"gce", 0.5}}, "cfg.json"),
                    Catch::Contains("cfg.json"));
  CHECK_THROWS_WITH(aicl::make_method("sal", ctx, aicl::json{{"dropout", 1.0}}, "cfg.json"),
                    Catch::Contains("method sal key 'dropout'"));
  aicl::MethodContext one = ctx;
  one.stream_widths = {32};
  CHECK_THROWS_WITH(aicl::make_method("sal", one, aicl::json(), "data.h5"),
                    Catch::Contains("SAL needs two feature streams"));
  CHECK_THROWS_WITH(aicl::make_method("aicl", one, aicl::json(), "data.h5"),
                    Catch::Contains("data.h5: AICL needs two feature streams (RGB, flow); the dataset has 1"));
  aicl::MethodContext wide = ctx;
  wide.stream_widths = {ctx.feature_dim, 0};
  CHECK_THROWS_WITH(aicl::make_method("sal", wide, aicl::json(), "data.h5"),
                    Catch::Contains("SAL's RGB stream width " + std::to_string(ctx.feature_dim) + " does not fit"));
  // A checkpoint without the mask state.
  const fs::path dir = aicl_test::temp_dir("sal_bad");
  const std::string f = (dir / "no_state.h5").string();
  {
    aicl::H5File h = aicl::H5File::create(f);
    h.create_group("method_state");
  }
  CHECK_THROWS_WITH(m->load_state(aicl::H5File::open_read(f), "method_state"),
                    Catch::Contains("no_state.h5: the checkpoint has no SAL mask state"));
  // AICL weights given to SAL.
  auto a = aicl::make_method("aicl", ctx, aicl::json(), "x");
  aicl::ParameterSet ap = a->layout();
  const std::string w = (dir / "aicl.h5").string();
  aicl::save_weights(w, ap, "aicl");
  aicl::ParameterSet sp = m->layout();
  CHECK_THROWS_WITH(aicl::load_weights(w, sp, "sal"),
                    Catch::Contains("holds weights of method 'aicl'; this run uses method 'sal'"));
  fs::remove_all(dir);
}

TEST_CASE("sal: --parity-step writes the in-memory step in the oracle's layout and checks its batch file") {
  const fs::path dir = aicl_test::temp_dir("sal_parity_file");
  const aicl::MethodContext ctx = small_context();
  auto m = aicl::make_method("sal", ctx, aicl::json{{"embed_dim", 8}}, "test");
  const aicl::SalConfig cfg = static_cast<const aicl::SalMethod&>(*m).sal_config();
  aicl::ParameterSet p = m->layout();
  m->init_params(p, 5);
  const std::string w = (dir / "w.h5").string(), b = (dir / "b.h5").string(), o = (dir / "o.h5").string();
  aicl::save_weights(w, p, "sal");
  const int B = 2, T = 24;
  std::vector<float> x(static_cast<size_t>(B) * T * 32), labels(static_cast<size_t>(B) * 5, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 53 % 97) / 40.0);
  labels[2] = labels[5 + 4] = 1;
  {
    aicl::H5File f = aicl::H5File::create(b);
    f.write_floats("features", x.data(), {B, T, 32});
    f.write_floats("labels", labels.data(), {B, 5});
    f.set_attr_double("/", "ema_mu", 0.3);
    f.set_attr_double("/", "ema_var", 0.01);
  }
  m->parity_step(w, b, o);
  const aicl::SalParityResult r = aicl::sal_parity_compute(cfg, p, x.data(), labels.data(), B, T, {0.3, 0.01});
  const aicl::H5File out = aicl::H5File::open_read(o);
  CHECK(out.read_floats("loss/total")[0] == static_cast<float>(r.losses[0].second));
  CHECK(out.read_floats("grad/fc1.weight") ==
        std::vector<float>(p.grad(aicl::kSalFc1W), p.grad(aicl::kSalFc1W) + p.tensor(aicl::kSalFc1W).numel));
  for (const auto& [name, v] : r.arrays) CHECK(out.read_floats(name) == v);
  CHECK(out.attr_double("/", "ema_mu_in") == 0.3);
  CHECK(out.attr_double("/", "ema_mu") == r.state_out.mu);
  CHECK(r.state_out.var < 0.01);  // updated first: 0.7 * 0.01 + 0.3 * (a small batch variance)
  // A batch file with half of the mask state, or labels of another width: one line naming the file.
  {
    aicl::H5File f = aicl::H5File::create(b);
    f.write_floats("features", x.data(), {B, T, 32});
    f.write_floats("labels", labels.data(), {B, 5});
    f.set_attr_double("/", "ema_mu", 0.3);
  }
  CHECK_THROWS_WITH(m->parity_step(w, b, o), Catch::Contains("b.h5: give both attributes ema_mu and ema_var"));
  {
    aicl::H5File f = aicl::H5File::create(b);
    f.write_floats("features", x.data(), {B, T, 32});
    f.write_floats("labels", labels.data(), {5, 2});
  }
  CHECK_THROWS_WITH(m->parity_step(w, b, o), Catch::Contains("b.h5: labels must be [B,5]"));
  fs::remove_all(dir);
}

TEST_CASE("sal: an overflowing embedding is reported at the bilinear pooling, naming the branch and the video") {
  aicl::SalConfig cfg;
  cfg.feature_dim = 32, cfg.rgb_dim = 16, cfg.num_classes = 5, cfg.embed_dim = 8, cfg.dropout = 0;
  aicl::SalMethod method(cfg);
  aicl::ParameterSet p = method.layout();
  method.init_params(p, 3);
  // The fused trunk's weights so large that its embedding overflows to Inf: Gram Inf, signed sqrt Inf, norm Inf.
  std::fill(p.value(aicl::kSalEncW), p.value(aicl::kSalEncW) + p.tensor(aicl::kSalEncW).numel, 1e30f);
  const int B = 2, T = 24;
  std::vector<float> x(static_cast<size_t>(B) * T * 32, 1.0f), labels(static_cast<size_t>(B) * 5, 0.0f);
  labels[0] = labels[5] = 1;
  auto ws = method.make_workspace(aicl::cpu_ops());
  float slots[aicl::kNumSalLossSlots];
  CHECK_THROWS_WITH(method.forward_backward(aicl::cpu_ops(), aicl::ParamView{&p, p.values.data(), p.grads.data()},
                                            aicl::StepBatch{x.data(), labels.data(), labels.data(), B, T, 1, 1}, *ws,
                                            slots),
                    Catch::Contains("bilinear pooling of the fused embedding of batch video 0 is not finite"));
}

// --replay-batches: the data of every step comes from the file (two seeds, dropout off, the same init: equal
// losses); a wrong file fails naming it and the problem.
TEST_CASE("sal: --replay-batches trains on the recorded batches and refuses a wrong file") {
  const fs::path dir = aicl_test::temp_dir("sal_replay");
  const std::string data = small_synth(dir);
  aicl::Dataset ds(data);
  std::vector<std::string> names;
  std::vector<int> lengths;
  for (size_t v : ds.subset_indices("validation")) {
    names.push_back(ds.video(v).name);
    lengths.push_back(ds.video(v).num_segments);
  }
  REQUIRE(names.size() >= 3);
  auto batch = [&](size_t a, size_t b) {
    aicl::json idx = aicl::json::array();
    for (size_t v : {a, b}) {
      aicl::json row = aicl::json::array();
      for (int t = 0; t < 24; ++t) row.push_back((t * 7 + static_cast<int>(v)) % lengths[v]);
      idx.push_back(row);
    }
    return aicl::json{{"videos", {names[a], names[b]}}, {"indices", idx}};
  };
  const std::string file = (dir / "batches.json").string();
  aicl::write_json_file(file, aicl::json{{"steps", {batch(0, 1), batch(2, 0), batch(1, 2)}}});
  auto run = [&](const std::string& name, int seed) {
    aicl::TrainOptions o = sal_options(data, (dir / name).string(), 3);
    o.method_config["dropout"] = 0;
    o.init_weights = (dir / "init.h5").string();
    o.replay_batches = file;
    o.seed = seed;
    o.select = "last";
    aicl::train(o);
    std::ifstream in(o.run_dir + "/metrics.jsonl");
    std::vector<double> losses;
    for (std::string line; std::getline(in, line);) losses.push_back(aicl::json::parse(line)["loss"].get<double>());
    return losses;
  };
  {  // one init for both seeds
    aicl::TrainOptions o = sal_options(data, (dir / "init").string(), 1);
    o.select = "last";
    aicl::train(o);
    fs::copy_file(dir / "init" / "best.h5", dir / "init.h5");
  }
  const std::vector<double> a = run("a", 1), b = run("b", 2);
  REQUIRE(a.size() == 3);
  CHECK(a == b);

  auto refused = [&](const aicl::json& j, const std::string& why) {
    aicl::write_json_file(file, j);
    aicl::TrainOptions o = sal_options(data, (dir / "bad").string(), 3);
    o.replay_batches = file;
    CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("--replay-batches " + file) && Catch::Contains(why));
    fs::remove_all(dir / "bad");
  };
  refused(aicl::json{{"steps", {batch(0, 1)}}}, "holds 1 steps, the run needs 3");
  aicl::json wrong = batch(0, 1);
  wrong["videos"][1] = "nope";
  refused(aicl::json{{"steps", {batch(0, 1), wrong, batch(0, 1)}}}, "step 2: video \"nope\" is not a training video");
  wrong = batch(0, 1);
  wrong["indices"][0][3] = lengths[0];
  refused(aicl::json{{"steps", {wrong, batch(0, 1), batch(0, 1)}}}, "is outside [0, " + std::to_string(lengths[0]));
  wrong = batch(0, 1);
  wrong["indices"][1].erase(0);
  refused(aicl::json{{"steps", {batch(0, 1), batch(0, 1), wrong}}}, "must be a list of 24 (--segments)");
  refused(aicl::json{{"batches", 1}}, "expected an object with a list 'steps'");
  fs::remove_all(dir);
}
