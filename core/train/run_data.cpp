// What a training run reads from its dataset (see run_data.h).
#include "core/train/run_data.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/base/error.h"
#include "core/eval/evaluator.h"
#include "data/dataset.h"

namespace aicl {

FeatureCache load_features(const Dataset& ds) {
  FeatureCache fc;
  fc.dim = ds.feature_dim();
  fc.rows.resize(ds.total_segments() * static_cast<size_t>(fc.dim));
  ds.read_all_features(fc.rows.data());
  for (size_t i = 0; i < ds.num_videos(); ++i) {
    fc.offset.push_back(ds.row_offset(i));
    fc.length.push_back(ds.video(i).num_segments);
  }
  check_all_features_finite(ds, fc.rows.data());
  return fc;
}

json restrict_gt(const json& gt, const Dataset& ds, const std::vector<size_t>& videos) {
  json out = gt;
  json db = json::object();
  for (size_t i : videos) {
    const std::string& name = ds.video(i).name;
    db[name] = gt["database"].at(name);
  }
  out["database"] = db;
  return out;
}

json split_json(const Dataset& ds, const RunSplit& s) {
  auto names = [&](const std::vector<size_t>& v) {
    json a = json::array();
    for (size_t i : v) a.push_back(ds.video(i).name);
    return a;
  };
  return json{{"train", names(s.train)}, {"val", names(s.val)}, {"test", names(s.test)},
              {"train_subset", s.val_target.subset}, {"test_subset", s.test_target.subset}};
}

RunSplit split_run_videos(const Dataset& ds, double val_fraction, Rng& rng) {
  const std::string train_subset = ds.profile().train_subset, test_subset = ds.profile().test_subset;
  RunSplit s;
  s.train = ds.subset_indices(train_subset);
  s.test = ds.subset_indices(test_subset);
  if (s.train.empty()) fail(ds.path() + ": no training videos (subset '" + train_subset + "')");
  for (size_t i : s.train) {
    const VideoInfo& v = ds.video(i);
    if (v.num_segments <= 0) fail(ds.path() + ": training video '" + v.name + "' has zero segments");
    if (!has_any_label(v))
      fail(ds.path() + ": training video '" + v.name + "' has no label (weak supervision needs one)");
  }
  if (val_fraction > 0) {
    std::vector<size_t> perm = s.train;
    for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    size_t n_val = std::max<size_t>(1, static_cast<size_t>(std::lround(val_fraction * perm.size())));
    if (n_val >= perm.size()) fail("--val-fraction: leaves no training videos");
    s.val.assign(perm.begin(), perm.begin() + n_val);
    s.train.assign(perm.begin() + n_val, perm.end());
    std::sort(s.val.begin(), s.val.end());
    std::sort(s.train.begin(), s.train.end());
  }
  const json gt_all = ds.ground_truth_json();
  s.test_target = EvalTarget{"test", s.test, gt_all, test_subset};
  s.val_target = EvalTarget{"val", s.val, s.val.empty() ? json() : restrict_gt(gt_all, ds, s.val), train_subset};
  return s;
}

MethodContext method_context(const Dataset& ds) {
  MethodContext c;
  c.num_classes = ds.num_classes();
  c.feature_dim = ds.feature_dim();
  c.stream_widths.clear();
  for (const auto& st : ds.profile().streams) c.stream_widths.push_back(st.width);
  c.profile = ds.profile().name;
  return c;
}

PostprocessConfig postprocess_for(const Dataset& ds, const Method& method) {
  PostprocessConfig cfg = postprocess_config_for(ds.profile());
  apply_postprocess_overrides(cfg, method.postprocess_overrides(), "method " + method.name());
  return cfg;
}

EvalOptions eval_options_for(const Dataset& ds, const std::string& subset, const std::string& detections_name,
                             const PostprocessConfig* post) {
  EvalOptions eo;
  eo.subset = subset;
  eo.gt_name = ds.path();
  eo.detections_name = detections_name;
  eo.tiou_thresholds = post && !post->tiou.empty() ? post->tiou : ds.profile().tiou;
  eo.known_labels = ds.class_names();
  return eo;
}

json run_evaluation(const InferenceModel& model, const Dataset& ds, const VideoFeatures& features,
                    const EvalTarget& target, int T, const PostprocessConfig& post, json* detections_out) {
  LocalizeResult res = localize_videos(model, ds, target.videos, features, T, post);
  // A class without ground truth in the target (expected for model selection on a small held-out set) is left out
  // of the score by the evaluator and counted in the report.
  const EvalReport rep = evaluate_detection(target.gt, res.detections, eval_options_for(ds, target.subset, "detections", &post));
  json j = report_to_json(rep);
  j["cls_acc"] = res.class_accuracy;
  j["evaluated_on"] = target.name;
  if (detections_out) *detections_out = std::move(res.detections);
  return j;
}

std::vector<ReplayBatch> load_replay_batches(const std::string& path, const Dataset& ds, const std::vector<size_t>& train,
                                             int T, int max_batch, int steps) {
  const json j = read_json_file(path);
  const std::string where = "--replay-batches " + path + ": ";
  if (!j.is_object() || !j.contains("steps") || !j["steps"].is_array())
    fail(where + "expected an object with a list 'steps'");
  const json& list = j["steps"];
  if (list.size() < static_cast<size_t>(steps))
    fail(where + "holds " + std::to_string(list.size()) + " steps, the run needs " + std::to_string(steps));
  std::unordered_map<std::string, size_t> by_name;
  for (size_t v : train) by_name[ds.video(v).name] = v;
  std::vector<ReplayBatch> out(static_cast<size_t>(steps));
  for (size_t s = 0; s < out.size(); ++s) {
    const std::string at = where + "step " + std::to_string(s + 1) + ": ";
    const json& e = list[s];
    if (!e.is_object() || !e.contains("videos") || !e.contains("indices") || !e["videos"].is_array() ||
        !e["indices"].is_array() || e["videos"].size() != e["indices"].size())
      fail(at + "expected {\"videos\": [...], \"indices\": [...]} of equal lengths");
    if (e["videos"].empty() || e["videos"].size() > static_cast<size_t>(max_batch))
      fail(at + "a batch of " + std::to_string(e["videos"].size()) + " videos (--batch is " +
           std::to_string(max_batch) + ")");
    for (size_t b = 0; b < e["videos"].size(); ++b) {
      const json& name = e["videos"][b];
      const auto it = name.is_string() ? by_name.find(name.get<std::string>()) : by_name.end();
      if (it == by_name.end()) fail(at + "video " + name.dump() + " is not a training video of " + ds.path());
      const json& idx = e["indices"][b];
      if (!idx.is_array() || idx.size() != static_cast<size_t>(T))
        fail(at + "the indices of " + name.dump() + " must be a list of " + std::to_string(T) + " (--segments)");
      const int L = ds.video(it->second).num_segments;
      std::vector<int> rows;
      for (const json& i : idx) {
        if (!i.is_number_integer() || i.get<int64_t>() < 0 || i.get<int64_t>() >= L)
          fail(at + "an index of " + name.dump() + " is outside [0, " + std::to_string(L) + ")");
        rows.push_back(i.get<int>());
      }
      out[s].videos.push_back(it->second);
      out[s].indices.push_back(std::move(rows));
    }
  }
  return out;
}

}  // namespace aicl
