// Re-scoring without the model (aicl_eval --save-activations / --activations, core/eval/activations.h): the saved
// scores and activations give exactly the original detections and mAP with the original settings, other settings
// (--post) change them, and a file of another dataset or format is refused with one line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/base/io.h"
#include "core/eval/activations.h"
#include "core/methods/registry.h"
#include "core/runtime/weights.h"
#include "core/train/inference.h"
#include "core/train/run_data.h"
#include "core/train/trainer.h"
#include "data/dataset.h"
#include "data/synth.h"
#include "infer_golden.h"

namespace fs = std::filesystem;

TEST_CASE("activations: saved inference re-scored with the same settings gives the same detections and mAP") {
  aicl_test::InferCase c = aicl_test::make_infer_case("activations");
  aicl::InferOptions o;
  o.data = c.data, o.weights = c.weights, o.segments = c.golden["segments"];
  o.out = (c.dir / "d.json").string(), o.report = (c.dir / "r.json").string();
  o.save_activations = (c.dir / "a.h5").string();
  const aicl::InferOutcome first = aicl::infer_and_evaluate(o);
  const aicl::SavedActivations saved = aicl::load_activations(o.save_activations);
  CHECK(saved.videos.size() == 60);
  CHECK(saved.meta["method"] == "aicl");
  CHECK(saved.meta["segments"] == c.golden["segments"]);

  aicl::InferOptions r;
  r.data = c.data, r.activations = o.save_activations;
  r.out = (c.dir / "d2.json").string(), r.report = (c.dir / "r2.json").string();
  const aicl::InferOutcome again = aicl::infer_and_evaluate(r);
  CHECK(aicl::read_json_file(r.out) == aicl::read_json_file(o.out));
  CHECK(again.report.mAP == first.report.mAP);
  CHECK(again.report.average_mAP == first.report.average_mAP);
  CHECK(again.class_accuracy == first.class_accuracy);
  CHECK(aicl::read_json_file(r.report)["activations"] == r.activations);

  // other settings: hard NMS at a low threshold keeps fewer detections; the report records them
  r.post = aicl::json{{"soft_nms", false}, {"nms_thresh", 0.2}};
  r.out = (c.dir / "d3.json").string();
  aicl::infer_and_evaluate(r);
  size_t n_first = 0, n_post = 0;
  const aicl::json d_first = aicl::read_json_file(o.out), d_post = aicl::read_json_file(r.out);
  for (const auto& [v, l] : d_first["results"].items()) n_first += l.size();
  for (const auto& [v, l] : d_post["results"].items()) n_post += l.size();
  CHECK(n_post < n_first);
  CHECK(aicl::read_json_file(r.report)["post"]["nms_thresh"] == 0.2);

  // refusals
  r.post = aicl::json{{"nms_treshold", 0.2}};
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(r), Catch::Contains("--post: unknown or malformed post-processing key"));
  r.post = aicl::json();
  aicl::SynthOptions so;
  so.train_videos = 2, so.test_videos = 60, so.max_segments = 200, so.seed = 6, so.difficulty = 1;
  const std::string other = (c.dir / "other.h5").string();
  aicl::write_synth(so, other);
  r.data = other;
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(r), Catch::Contains("is not that file (fingerprints differ)"));
  r.data = c.data, r.activations = c.weights;
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(r), Catch::Contains("not an aicl activations file"));
  fs::remove_all(c.dir);
}

TEST_CASE("activations: an attention-based post-processing (FTCL, kind acm) is re-scored from the saved attention") {
  const fs::path dir = aicl_test::temp_dir("activations_acm");
  aicl::SynthOptions so;
  so.train_videos = 2, so.test_videos = 6, so.max_segments = 60, so.stream_dim = 16, so.num_classes = 3, so.seed = 3;
  const std::string data = (dir / "s.h5").string();
  aicl::write_synth(so, data);
  const aicl::Dataset ds(data);
  const std::unique_ptr<aicl::Method> m = aicl::make_method("ftcl", aicl::method_context(ds), aicl::json(), "t");
  aicl::ParameterSet p = m->layout();
  m->init_params(p, 4);
  const std::string weights = (dir / "w.h5").string();
  aicl::save_weights(weights, p, "ftcl", m->config());
  aicl::InferOptions o;
  o.data = data, o.weights = weights, o.segments = 40, o.out = (dir / "d.json").string();
  o.save_activations = (dir / "a.h5").string();
  o.post = aicl::json{{"class_thresh", 0.0}};  // every class predicted: detections from an untrained model
  const aicl::InferOutcome first = aicl::infer_and_evaluate(o);
  const aicl::SavedActivations saved = aicl::load_activations(o.save_activations);
  REQUIRE(saved.videos.size() == 6);
  CHECK(saved.videos[0].attention_stride == 3);
  CHECK(saved.videos[0].attention.size() == size_t(saved.videos[0].samples) * 3);
  aicl::InferOptions r;
  r.data = data, r.activations = o.save_activations, r.out = (dir / "d2.json").string(), r.post = o.post;
  const aicl::InferOutcome again = aicl::infer_and_evaluate(r);
  CHECK(aicl::read_json_file(r.out) == aicl::read_json_file(o.out));
  CHECK(again.report.mAP == first.report.mAP);
  size_t n = 0;
  const aicl::json dets = aicl::read_json_file(r.out);
  for (const auto& [v, l] : dets["results"].items()) n += l.size();
  CHECK(n > 0);
  fs::remove_all(dir);
}

TEST_CASE("activations: --sweep searches post-processing on a run's held-out videos, never on the test split") {
  const fs::path dir = aicl_test::temp_dir("activations_sweep");
  aicl::SynthOptions so;
  so.train_videos = 12, so.test_videos = 4, so.max_segments = 60, so.stream_dim = 16, so.num_classes = 3, so.seed = 5;
  const std::string data = (dir / "s.h5").string();
  aicl::write_synth(so, data);
  aicl::TrainOptions t;
  t.data = data, t.run_dir = (dir / "run").string(), t.method = "aicl", t.method_config = aicl::json{{"embed_dim", 8}};
  t.steps = 6, t.batch = 4, t.segments = 32, t.eval_every = 0, t.val_fraction = 0.34, t.select = "val";
  t.threads = 1, t.quiet = true;
  aicl::train(t);
  const aicl::json split = aicl::read_json_file(t.run_dir + "/split.json");
  REQUIRE(split["val"].size() == 4);  // round(0.34 * 12) held out
  CHECK(split["train"].size() == 8);
  CHECK(split["test"].size() == 4);
  aicl::InferOptions o;
  o.data = data, o.weights = t.run_dir + "/best.h5", o.segments = 32, o.out = (dir / "val.json").string();
  o.videos = split["val"].get<std::vector<std::string>>(), o.heldout = true;
  o.subset = split["train_subset"];
  o.save_activations = (dir / "val.h5").string();
  o.post = aicl::json{{"class_thresh", 0.0}};  // every class: detections from a barely trained model
  const aicl::InferOutcome val = aicl::infer_and_evaluate(o);
  CHECK(aicl::read_json_file(o.out)["results"].size() == 4);  // only the held-out videos
  aicl::InferOptions s;
  s.data = data, s.activations = o.save_activations, s.out = (dir / "best.json").string(), s.post = o.post;
  s.report = (dir / "sweep.json").string();
  s.sweep = aicl::json{{"nms_thresh", {0.2, 0.4, 0.6}}, {"soft_nms", {false, true}}};
  const aicl::InferOutcome sw = aicl::infer_and_evaluate(s);
  REQUIRE(sw.sweep["results"].size() == 6);
  CHECK(sw.sweep["default_average_mAP"] == val.report.average_mAP);
  double best = sw.sweep["default_average_mAP"];
  for (const aicl::json& r : sw.sweep["results"]) best = std::max(best, r["average_mAP"].get<double>());
  CHECK(sw.sweep["best"]["average_mAP"] == best);
  CHECK(sw.report.average_mAP == best);  // the written detections use the chosen settings
  CHECK(aicl::read_json_file(s.report)["sweep"]["results"].size() == 6);
  // test-split activations are refused
  aicl::InferOptions tst = o;
  tst.videos.clear(), tst.heldout = false, tst.subset.clear();
  tst.save_activations = (dir / "test.h5").string(), tst.out = (dir / "test.json").string();
  aicl::infer_and_evaluate(tst);
  s.activations = tst.save_activations;
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(s), Catch::Contains("never on the test split"));
  s.activations = o.save_activations;
  s.sweep = aicl::json{{"nms_thresh", aicl::json::array()}};
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(s), Catch::Contains("must hold a non-empty list"));
  o.videos = {"no_such_video"};
  CHECK_THROWS_WITH(aicl::infer_and_evaluate(o), Catch::Contains("--heldout: video 'no_such_video' is not in subset"));
  fs::remove_all(dir);
}
