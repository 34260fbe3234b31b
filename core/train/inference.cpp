// The inference job of aicl_eval --data --weights (see inference.h).
#include "core/train/inference.h"

#include <map>
#include <set>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/eval/activations.h"
#include "core/eval/localize.h"
#include "core/methods/registry.h"
#include "core/runtime/device.h"
#include "core/runtime/weights.h"
#include "core/train/provenance.h"
#include "core/train/run_data.h"
#include "data/dataset.h"

namespace aicl {

namespace {

// The weights' method (or --method, which must agree with a recorded one) built for the dataset.
std::unique_ptr<Method> method_for_weights(const InferOptions& o, const Dataset& ds) {
  const WeightsMethod wm = read_weights_method(o.weights);
  check_weights_method(o.weights, wm.name, o.method);
  const std::string name = !o.method.empty() ? o.method : !wm.name.empty() ? wm.name : "aicl";
  return make_method(name, method_context(ds), wm.config, o.weights + ": method_config");
}

// The dataset's evaluation options under the requested protocol (see InferOptions).
EvalOptions scoring_options(const InferOptions& o, const Dataset& ds, const std::string& subset,
                            const PostprocessConfig& post) {
  EvalOptions eo = eval_options_for(ds, subset, o.out, &post);
  eo.protocol = o.protocol;
  if (!o.tiou.empty()) eo.tiou_thresholds = o.tiou;
  else if (o.protocol != EvalProtocol::anet) eo.tiou_thresholds = default_tiou(o.protocol);
  eo.ambiguous = o.ambiguous;
  eo.ambiguous_name = o.ambiguous_name;
  eo.strict = o.strict;
  return eo;
}

// The subset's videos, or the named ones (each must be in the subset), in dataset order.
std::vector<size_t> chosen_videos(const InferOptions& o, const Dataset& ds, const std::string& subset) {
  std::vector<size_t> all = ds.subset_indices(subset);
  if (all.empty()) fail(o.data + ": no videos in subset '" + subset + "'");
  if (o.videos.empty()) return all;
  std::set<std::string> want(o.videos.begin(), o.videos.end());
  std::vector<size_t> out;
  for (size_t i : all)
    if (want.erase(ds.video(i).name)) out.push_back(i);
  if (!want.empty())
    fail(std::string(o.heldout ? "--heldout" : "--videos") + ": video '" + *want.begin() + "' is not in subset '" +
         subset + "' of " + o.data);
  return out;
}

// The ground truth the detections are scored against: the dataset's, or only the chosen videos'.
json scoring_gt(const Dataset& ds, const std::vector<size_t>& videos, bool restricted) {
  return restricted ? restrict_gt(ds.ground_truth_json(), ds, videos) : ds.ground_truth_json();
}

// The method's post-processing on the dataset, with --post on top.
PostprocessConfig post_for(const InferOptions& o, const Dataset& ds, const Method& m) {
  PostprocessConfig post = postprocess_for(ds, m);
  if (!o.post.is_null()) apply_postprocess_overrides(post, o.post, "--post");
  return post;
}

// Writes the detections (with the requested score key), scores them and writes the report; `extra` goes into it.
InferOutcome finish_job(const InferOptions& o, const Dataset& ds, const Method& method, const std::string& subset,
                        const PostprocessConfig& post, LocalizeResult& res, json extra, const json& gt) {
  json dets = res.detections;
  if (o.score_key != "score")
    for (auto& [name, list] : dets["results"].items())
      for (auto& d : list) {
        d[o.score_key] = d["score"];
        d.erase("score");
      }
  write_json_file(o.out, dets, -1);
  InferOutcome out;
  out.report = evaluate_detection(gt, res.detections, scoring_options(o, ds, subset, post));
  out.class_accuracy = res.class_accuracy;
  out.method = method.name();
  out.activations = std::move(res.activations);
  out.activation_samples = res.activation_samples;
  if (!o.report.empty()) {
    json j = report_to_json(out.report);
    j["cls_acc"] = res.class_accuracy;
    j["method"] = method.name();
    if (!o.post.is_null()) j["post"] = o.post;
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    write_json_file(o.report, j);
  }
  return out;
}

// --sweep: every combination of the grid's values on top of `post`, scored on the saved videos; `best` gets the
// settings with the highest average mAP (the first on ties, the defaults when none beats them).
json sweep_settings(const InferOptions& o, const Dataset& ds, const std::string& subset, const PostprocessConfig& post,
                    const std::vector<VideoScores>& videos, const std::vector<const float*>& labels, const json& gt,
                    PostprocessConfig& best) {
  if (!o.sweep.is_object() || o.sweep.empty()) fail("--sweep: must be a JSON object {key: [values, ...]}");
  std::vector<std::string> keys;
  size_t combos = 1;
  for (auto it = o.sweep.begin(); it != o.sweep.end(); ++it) {
    if (!it.value().is_array() || it.value().empty())
      fail("--sweep: key '" + it.key() + "' must hold a non-empty list of values");
    keys.push_back(it.key());
    combos *= it.value().size();
    if (combos > 10000) fail("--sweep: more than 10,000 combinations");
  }
  auto score = [&](const PostprocessConfig& cfg) {
    const LocalizeResult r = postprocess_videos(videos, labels, ds.class_names(), cfg);
    return evaluate_detection(gt, r.detections, scoring_options(o, ds, subset, cfg)).average_mAP;
  };
  const double base = score(post);
  json results = json::array(), best_settings = json::object();
  double best_map = base;
  best = post;
  for (size_t c = 0; c < combos; ++c) {
    json settings = json::object();
    size_t rest = c;
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) {  // the last key varies fastest
      const json& vals = o.sweep[*it];
      settings[*it] = vals[rest % vals.size()];
      rest /= vals.size();
    }
    PostprocessConfig cfg = post;
    apply_postprocess_overrides(cfg, settings, "--sweep");
    const double m = score(cfg);
    results.push_back(json{{"settings", settings}, {"average_mAP", m}});
    if (m > best_map) best_map = m, best = cfg, best_settings = settings;
  }
  return json{{"grid", o.sweep}, {"subset", subset}, {"videos", videos.size()}, {"results", results},
              {"default_average_mAP", base}, {"best", {{"settings", best_settings}, {"average_mAP", best_map}}}};
}

// aicl_eval --activations: the saved scores and activations post-processed again (other settings, protocol).
InferOutcome rescore(const InferOptions& o) {
  const SavedActivations a = load_activations(o.activations);
  Dataset ds(o.data);
  const std::string made_on = a.meta.value("data_fingerprint", std::string());
  if (!made_on.empty() && made_on != file_fingerprint(o.data))
    fail("--activations: " + o.activations + " was made on " + a.meta.value("data", std::string("another file")) +
         ", and --data " + o.data + " is not that file (fingerprints differ)");
  const std::unique_ptr<Method> method = make_method(a.meta.value("method", std::string("aicl")), method_context(ds),
                                                     a.meta.value("method_config", json()),
                                                     o.activations + ": method_config");
  const PostprocessConfig post = post_for(o, ds, *method);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < ds.num_videos(); ++i) index[ds.video(i).name] = i;
  std::vector<const float*> labels;
  std::vector<size_t> idx;
  for (const VideoScores& v : a.videos) {
    const auto it = index.find(v.name);
    if (it == index.end()) fail("--activations: video '" + v.name + "' is not in --data " + o.data);
    idx.push_back(it->second);
    const VideoInfo& info = ds.video(it->second);
    labels.push_back(info.labels.size() == ds.class_names().size() ? info.labels.data() : nullptr);
  }
  const std::string subset = a.meta.value("subset", ds.profile().test_subset);
  const json gt = scoring_gt(ds, idx, a.meta.value("restricted", false));
  PostprocessConfig chosen = post;
  json sweep;
  if (!o.sweep.is_null()) {
    if (subset == ds.profile().test_subset)
      fail("--sweep: " + o.activations + " holds test-split videos ('" + subset + "'); search settings on held-out "
           "training videos (aicl_eval --heldout RUN --save-activations ...), never on the test split");
    sweep = sweep_settings(o, ds, subset, post, a.videos, labels, gt, chosen);
  }
  LocalizeResult res = postprocess_videos(a.videos, labels, ds.class_names(), chosen);
  for (const VideoScores& v : a.videos)
    if (o.keep_activations.count(v.name) && v.samples > 0) res.activations[v.name] = v.activation;
  res.activation_samples = a.meta.value("segments", 0);
  json extra = a.meta;
  extra["activations"] = o.activations;
  if (!sweep.is_null()) extra["sweep"] = sweep;
  InferOutcome out = finish_job(o, ds, *method, subset, chosen, res, extra, gt);
  out.sweep = sweep;
  return out;
}

}  // namespace

InferOutcome infer_and_evaluate(const InferOptions& o) {
  if (!o.activations.empty()) return rescore(o);
  check_device_option(o.device, "--device");
  check_precision_option(o.device, o.precision, "--precision");
  Dataset ds(o.data);
  const std::unique_ptr<Method> method = method_for_weights(o, ds);
  if (o.segments < method->min_segments())
    fail("--segments: must be >= " + std::to_string(method->min_segments()) + " for method " + method->name());
  ParameterSet params = method->layout();
  load_weights(o.weights, params, method->name());
  const std::string subset = o.subset.empty() ? ds.profile().test_subset : o.subset;
  const std::vector<size_t> videos = chosen_videos(o, ds, subset);
  set_device_precision(o.device, o.precision, "--precision");
  Ops& ops = ops_for_device(o.device, "--device");
  Buf<float> dev(ops, ops.host_memory() ? 0 : params.size());
  float* values = params.values.data();
  if (!ops.host_memory()) {
    ops.upload(dev.data(), params.values.data(), params.size() * sizeof(float));
    values = dev.data();
  }
  const InferenceModel model{method.get(), &ops, ParamView{&params, values, nullptr}};
  const PostprocessConfig post = post_for(o, ds, *method);
  std::vector<VideoScores> scores;
  LocalizeResult res = localize_videos(model, ds, videos, VideoFeatures{}, o.segments, post, o.keep_activations,
                                       o.save_activations.empty() ? nullptr : &scores);
  json meta{{"method", method->name()}, {"method_config", method->config()}, {"weights", o.weights},
            {"data", o.data}, {"data_fingerprint", file_fingerprint(o.data)}, {"subset", subset},
            {"segments", o.segments}, {"device", o.device}, {"precision", o.precision},
            {"restricted", !o.videos.empty()}, {"heldout", o.heldout}};
  if (!o.save_activations.empty()) save_activations(o.save_activations, SavedActivations{meta, std::move(scores)});
  json extra = meta;
  extra.erase("data_fingerprint");
  extra["provenance"] = provenance(ProvenanceInput{method->name(), method->config(), &ds, o.device, o.precision, 0, -1,
                                                   o.weights});
  return finish_job(o, ds, *method, subset, post, res, extra, scoring_gt(ds, videos, !o.videos.empty()));
}

}  // namespace aicl
