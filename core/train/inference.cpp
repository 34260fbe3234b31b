// The inference job of aicl_eval --data --weights (see inference.h).
#include "core/train/inference.h"

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

// The method's post-processing on the dataset, with --post on top.
PostprocessConfig post_for(const InferOptions& o, const Dataset& ds, const Method& m) {
  PostprocessConfig post = postprocess_for(ds, m);
  if (!o.post.is_null()) apply_postprocess_overrides(post, o.post, "--post");
  return post;
}

// Writes the detections (with the requested score key), scores them and writes the report; `extra` goes into it.
InferOutcome finish_job(const InferOptions& o, const Dataset& ds, const Method& method, const std::string& subset,
                        const PostprocessConfig& post, LocalizeResult& res, json extra) {
  json dets = res.detections;
  if (o.score_key != "score")
    for (auto& [name, list] : dets["results"].items())
      for (auto& d : list) {
        d[o.score_key] = d["score"];
        d.erase("score");
      }
  write_json_file(o.out, dets, -1);
  InferOutcome out;
  out.report = evaluate_detection(ds.ground_truth_json(), res.detections, scoring_options(o, ds, subset, post));
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
  for (const VideoScores& v : a.videos) {
    const auto it = index.find(v.name);
    if (it == index.end()) fail("--activations: video '" + v.name + "' is not in --data " + o.data);
    const VideoInfo& info = ds.video(it->second);
    labels.push_back(info.labels.size() == ds.class_names().size() ? info.labels.data() : nullptr);
  }
  LocalizeResult res = postprocess_videos(a.videos, labels, ds.class_names(), post);
  for (const VideoScores& v : a.videos)
    if (o.keep_activations.count(v.name) && v.samples > 0) res.activations[v.name] = v.activation;
  res.activation_samples = a.meta.value("segments", 0);
  const std::string subset = a.meta.value("subset", ds.profile().test_subset);
  json extra = a.meta;
  extra["activations"] = o.activations;
  return finish_job(o, ds, *method, subset, post, res, extra);
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
  const std::vector<size_t> videos = ds.subset_indices(subset);
  if (videos.empty()) fail(o.data + ": no videos in subset '" + subset + "'");
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
            {"segments", o.segments}, {"device", o.device}, {"precision", o.precision}};
  if (!o.save_activations.empty()) save_activations(o.save_activations, SavedActivations{meta, std::move(scores)});
  json extra = meta;
  extra.erase("data_fingerprint");
  extra["provenance"] = provenance(ProvenanceInput{method->name(), method->config(), &ds, o.device, o.precision, 0, -1,
                                                   o.weights});
  return finish_job(o, ds, *method, subset, post, res, extra);
}

}  // namespace aicl
