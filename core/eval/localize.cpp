// Inference over dataset videos: uniform sampling, the model's forward, post-processing, detections JSON.
#include "core/eval/localize.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/runtime/sampling.h"
#include "data/dataset.h"

namespace aicl {

namespace {
// torch.softmax in float32 over one row: exp(x - max) / sum.
void softmax_row(const float* x, float* out, int n) {
  float m = x[0];
  for (int i = 1; i < n; ++i) m = std::max(m, x[i]);
  float s = 0;
  for (int i = 0; i < n; ++i) s += (out[i] = std::exp(x[i] - m));
  for (int i = 0; i < n; ++i) out[i] /= s;
}
}  // namespace

LocalizeResult localize_videos_with(const Dataset& ds, const std::vector<size_t>& videos, int T, int chunk_size,
                                    int C, const PostprocessConfig& cfg, const ChunkForward& forward,
                                    const std::set<std::string>& keep_activations) {
  AICL_CHECK(chunk_size > 0, "localize_videos_with: chunk_size must be positive");
  std::vector<float> score(C);
  std::vector<VideoDetections> all;
  std::vector<size_t> chunk;
  std::vector<std::vector<int>> sample;
  size_t correct = 0;
  std::map<std::string, std::vector<float>> kept;
  for (size_t start = 0; start < videos.size(); start += chunk_size) {
    const int nb = static_cast<int>(std::min<size_t>(chunk_size, videos.size() - start));
    chunk.assign(videos.begin() + start, videos.begin() + start + nb);
    sample.clear();
    for (int b = 0; b < nb; ++b) {
      const VideoInfo& v = ds.video(chunk[b]);
      if (v.num_segments <= 0) fail(ds.path() + ": video '" + v.name + "' has zero segments");
      sample.push_back(uniform_sampling(v.num_segments, T));
    }
    const ChunkScores out = forward(chunk, sample, T);
    for (int b = 0; b < nb; ++b) {
      const VideoInfo& v = ds.video(chunk[b]);
      softmax_row(out.cas_top + static_cast<size_t>(b) * C, score.data(), C);
      const ClassSelection sel = select_classes(score.data(), C, cfg);
      if (v.labels.size() == static_cast<size_t>(C) && class_prediction_exact(sel, v.labels.data(), C)) ++correct;
      const float* combined = out.combined + static_cast<size_t>(b) * T * C;
      if (keep_activations.count(v.name)) kept[v.name].assign(combined, combined + static_cast<size_t>(T) * C);
      VideoDetections vd;
      vd.video = v.name;
      vd.detections =
          localize_video(out.combined + static_cast<size_t>(b) * T * C, score.data(), T, C, v.num_segments, cfg);
      all.push_back(std::move(vd));
    }
  }
  LocalizeResult r;
  r.detections = detections_to_json(all, ds.class_names());
  r.num_videos = videos.size();
  r.activations = std::move(kept);
  r.activation_samples = T;
  r.class_accuracy = videos.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(videos.size());
  return r;
}

LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                               const FeatureSource& features, int T, const PostprocessConfig& cfg,
                               const std::set<std::string>& keep_activations) {
  const AiclConfig& mc = model.config();
  const int F = mc.feature_dim;
  constexpr int kChunk = 8;  // videos per forward call: enough rows for efficient GEMMs, little memory
  std::vector<float> x(static_cast<size_t>(kChunk) * T * F);
  AiclActivations act;
  return localize_videos_with(
      ds, videos, T, kChunk, mc.num_classes, cfg,
      [&](const std::vector<size_t>& chunk, const std::vector<std::vector<int>>& sample, int Tn) {
        const int nb = static_cast<int>(chunk.size());
        for (int b = 0; b < nb; ++b) {
          const float* src = features(chunk[b]);
          const std::vector<int>& idx = sample[b];
          for (int t = 0; t < Tn; ++t)
            std::copy(src + static_cast<size_t>(idx[t]) * F, src + static_cast<size_t>(idx[t] + 1) * F,
                      x.data() + (static_cast<size_t>(b) * Tn + t) * F);
        }
        model.forward(x.data(), nb, Tn, act);
        return ChunkScores{act.cas_top.data(), act.combined.data()};
      },
      keep_activations);
}

LocalizeResult localize_videos(const AiclModel& model, const Dataset& ds, const std::vector<size_t>& videos, int T,
                               const PostprocessConfig& cfg, const std::set<std::string>& keep_activations) {
  std::vector<float> buf;
  size_t loaded = static_cast<size_t>(-1);
  return localize_videos(model, ds, videos, [&](size_t i) -> const float* {
    // Chunks keep at most kChunk videos alive; re-reading per call is fine since each video is read once.
    if (loaded != i) {
      buf = ds.read_features(i);
      loaded = i;
    }
    return buf.data();
  }, T, cfg, keep_activations);
}

}  // namespace aicl

#include "core/eval/evaluator.h"
#include "core/runtime/weights.h"
#ifdef AICL_HAVE_CUDA
#include "core/methods/aicl/aicl_model_cuda.h"
#include "kernels/cuda_common.h"
#endif

namespace aicl {

void check_device_option(const std::string& device, const std::string& flag) {
  if (device == "cpu") return;
  if (device != "cuda") fail(flag + ": must be cpu or cuda (got '" + device + "')");
#ifdef AICL_HAVE_CUDA
  if (!cuda_device_available()) fail(flag + " cuda: no CUDA device found");
#else
  fail(flag + " cuda: this aicl was built without CUDA (configure with nvcc available and -DAICL_CUDA=ON)");
#endif
}

InferOutcome infer_and_evaluate(const InferOptions& o) {
  if (o.segments < 20) fail("--segments: must be >= 20 (AICL picks T/20 snippets)");
  check_device_option(o.device, "--device");
  Dataset ds(o.data);
  AiclConfig mc;
  if (ds.feature_dim() != mc.feature_dim)
    fail(o.data + ": features have " + std::to_string(ds.feature_dim()) + " channels, AICL needs " +
         std::to_string(mc.feature_dim));
  mc.num_classes = ds.num_classes();
  AiclModel model(mc);
  load_weights(o.weights, model.params());
  const std::vector<size_t> videos = ds.subset_indices(o.subset);
  if (videos.empty()) fail(o.data + ": no videos in subset '" + o.subset + "'");
  LocalizeResult res;
#ifdef AICL_HAVE_CUDA
  if (o.device == "cuda") res = localize_videos_cuda(model.params(), mc, ds, videos, o.segments, o.post);
  else
#endif
    res = localize_videos(model, ds, videos, o.segments, o.post, o.keep_activations);
#ifdef AICL_HAVE_CUDA
  if (o.device == "cuda" && !o.keep_activations.empty()) {
    // The GPU path returns detections only; the few plotted videos are re-run on the CPU for their activation.
    std::vector<size_t> kept;
    for (size_t i : videos)
      if (o.keep_activations.count(ds.video(i).name)) kept.push_back(i);
    res.activations = localize_videos(model, ds, kept, o.segments, o.post, o.keep_activations).activations;
    res.activation_samples = o.segments;
  }
#endif
  json dets = res.detections;
  if (o.score_key != "score")
    for (auto& [name, list] : dets["results"].items())
      for (auto& d : list) {
        d[o.score_key] = d["score"];
        d.erase("score");
      }
  write_json_file(o.out, dets, -1);
  EvalOptions eo;
  eo.subset = o.subset;
  eo.gt_name = o.data;
  eo.detections_name = o.out;
  InferOutcome out;
  out.report = evaluate_detection(ds.ground_truth_json(), res.detections, eo);
  out.class_accuracy = res.class_accuracy;
  out.activations = std::move(res.activations);
  out.activation_samples = res.activation_samples;
  if (!o.report.empty()) {
    json j = report_to_json(out.report);
    j["cls_acc"] = res.class_accuracy;
    j["weights"] = o.weights;
    j["segments"] = o.segments;
    write_json_file(o.report, j);
  }
  return out;
}

}  // namespace aicl
