// Inference over dataset videos for any method (see localize.h).
#include "core/eval/localize.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/runtime/sampling.h"
#include "data/dataset.h"

namespace aicl {

namespace {

// Fills x [nb, T, F] on the device with the sampled segments of the chunk's videos.
class ChunkLoader {
 public:
  ChunkLoader(Ops& ops, const Dataset& ds, const VideoFeatures& src, int max_videos, int T)
      : ops_(ops), ds_(ds), src_(src), F_(ds.feature_dim()),
        x_(ops, static_cast<size_t>(max_videos) * T * ds.feature_dim()) {
    if (!src.table && !ops.host_memory()) host_.resize(x_.size());
  }
  const float* load(const std::vector<size_t>& chunk, const std::vector<std::vector<int>>& sample, int T) {
    const size_t nb = chunk.size(), F = static_cast<size_t>(F_);
    if (src_.table) {  // rows of the resident table: gathered on the device
      rows_.resize(nb * T);
      for (size_t b = 0; b < nb; ++b)
        for (int t = 0; t < T; ++t) rows_[b * T + t] = (*src_.row_offset)[chunk[b]] + static_cast<size_t>(sample[b][t]);
      src_.table->assemble(rows_.data(), static_cast<int>(rows_.size()), nullptr, 0, x_.data(), nullptr);
      return x_.data();
    }
    float* dst = ops_.host_memory() ? x_.data() : host_.data();
    for (size_t b = 0; b < nb; ++b) {
      const std::vector<float> v = ds_.read_features(chunk[b]);
      for (int t = 0; t < T; ++t)
        std::copy(v.begin() + static_cast<size_t>(sample[b][t]) * F, v.begin() + static_cast<size_t>(sample[b][t] + 1) * F,
                  dst + (b * T + t) * F);
    }
    if (!ops_.host_memory()) ops_.upload(x_.data(), host_.data(), nb * T * F * sizeof(float));
    return x_.data();
  }

 private:
  Ops& ops_;
  const Dataset& ds_;
  VideoFeatures src_;
  int F_;
  Buf<float> x_;
  std::vector<float> host_;
  std::vector<size_t> rows_;
};

}  // namespace

std::vector<VideoScores> score_videos(const InferenceModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                                      const VideoFeatures& features, int T, const PostprocessConfig& cfg) {
  const Method& method = *model.method;
  Ops& ops = *model.ops;
  if (T < method.min_segments())
    fail("--segments: T = " + std::to_string(T) + " is too short for method " + method.name() + " (needs >= " +
         std::to_string(method.min_segments()) + ")");
  const int C = ds.num_classes(), V = method.video_outputs();
  // Each video's segment indices by the profile's test sampling: T rows, or (uniform_keep_short) a short video
  // whole, so that the sampled length T_v varies per video. Videos are batched in runs of equal T_v (dataset
  // order kept); a video with T_v below the method's min_infer_segments() gets no detections.
  const std::string& rule = cfg.test_sampling.empty() ? ds.profile().test_sampling : cfg.test_sampling;
  const bool acm = cfg.kind == "acm";
  if (!acm && cfg.kind != "oic") fail("post-processing kind '" + cfg.kind + "' is not \"oic\" or \"acm\"");
  std::vector<std::vector<int>> samples(videos.size());
  int max_T = T;
  for (size_t i = 0; i < videos.size(); ++i) {
    const VideoInfo& v = ds.video(videos[i]);
    if (v.num_segments <= 0) fail(ds.path() + ": video '" + v.name + "' has zero segments");
    samples[i] = sample_test_segments(rule, v.num_segments, T);
    max_T = std::max(max_T, static_cast<int>(samples[i].size()));
  }
  // Videos per forward: enough rows for efficient GEMMs; the GPU wants more of them.
  const int chunk_size = ops.host_memory() ? 8 : 16;
  ChunkLoader loader(ops, ds, features, chunk_size, max_T);
  std::unique_ptr<Workspace> ws = method.make_workspace(ops);
  std::vector<float> raw, act, att;
  std::vector<VideoScores> all;
  all.reserve(videos.size());
  const int min_T = method.min_infer_segments();
  for (size_t start = 0; start < videos.size();) {
    const int Tv = static_cast<int>(samples[start].size());
    if (Tv < min_T) {  // too short to score (the official code's NaN scores): no detections
      const VideoInfo& v = ds.video(videos[start]);
      all.push_back(VideoScores{v.name, v.num_segments, 0, std::vector<float>(static_cast<size_t>(C), 0.0f), {}, {}, 0});
      ++start;
      continue;
    }
    size_t end = start + 1;
    while (end < videos.size() && end - start < static_cast<size_t>(chunk_size) &&
           static_cast<int>(samples[end].size()) == Tv)
      ++end;
    const int nb = static_cast<int>(end - start);
    const std::vector<size_t> chunk(videos.begin() + start, videos.begin() + end);
    const std::vector<std::vector<int>> sample(samples.begin() + start, samples.begin() + end);
    start = end;
    const InferScores out = method.infer(ops, model.params, loader.load(chunk, sample, Tv), nb, Tv, *ws);
    const int act_stride = out.activation_stride > 0 ? out.activation_stride : C;
    if (act_stride < C) fail("method " + method.name() + ": activation rows of " + std::to_string(act_stride) +
                             " floats hold fewer than the " + std::to_string(C) + " classes");
    if (acm && (!out.attention || out.attention_stride < 1))
      fail("method " + method.name() + ": post-processing \"acm\" needs an attention from the method's inference");
    const size_t n_raw = static_cast<size_t>(nb) * V, n_act = static_cast<size_t>(nb) * Tv * act_stride;
    const size_t n_att = acm ? static_cast<size_t>(nb) * Tv * out.attention_stride : 0;
    const float* raw_h = out.video;
    const float* act_h = out.activation;
    const float* att_h = out.attention;
    if (!ops.host_memory()) {
      raw.resize(n_raw), act.resize(n_act), att.resize(n_att);
      ops.download(raw.data(), out.video, n_raw * sizeof(float));
      ops.download(act.data(), out.activation, n_act * sizeof(float));
      if (acm) ops.download(att.data(), out.attention, n_att * sizeof(float));
      raw_h = raw.data(), act_h = act.data(), att_h = att.data();
    }
    for (int b = 0; b < nb; ++b) {
      const VideoInfo& v = ds.video(chunk[b]);
      VideoScores vs{v.name, v.num_segments, Tv, std::vector<float>(static_cast<size_t>(C)), {}, {}, 0};
      method.video_scores(raw_h + static_cast<size_t>(b) * V, vs.score.data());
      const float* activation = act_h + static_cast<size_t>(b) * Tv * act_stride;
      vs.activation.reserve(static_cast<size_t>(Tv) * C);  // the first C columns of each row (post-processing's)
      for (int t = 0; t < Tv; ++t)
        vs.activation.insert(vs.activation.end(), activation + static_cast<size_t>(t) * act_stride,
                             activation + static_cast<size_t>(t) * act_stride + C);
      if (acm) {
        const float* attention = att_h + static_cast<size_t>(b) * Tv * out.attention_stride;
        vs.attention.assign(attention, attention + static_cast<size_t>(Tv) * out.attention_stride);
        vs.attention_stride = out.attention_stride;
      }
      all.push_back(std::move(vs));
    }
  }
  return all;
}

LocalizeResult postprocess_videos(const std::vector<VideoScores>& videos, const std::vector<const float*>& labels,
                                  const std::vector<std::string>& class_names, const PostprocessConfig& cfg) {
  AICL_CHECK(labels.size() == videos.size(), "postprocess_videos: one label row per video");
  const bool acm = cfg.kind == "acm";
  if (!acm && cfg.kind != "oic") fail("post-processing kind '" + cfg.kind + "' is not \"oic\" or \"acm\"");
  const int C = static_cast<int>(class_names.size());
  std::vector<VideoDetections> all;
  size_t correct = 0;
  for (size_t i = 0; i < videos.size(); ++i) {
    const VideoScores& v = videos[i];
    if (v.samples == 0) {  // too short to score: no detections, not counted correct
      all.push_back(VideoDetections{v.name, {}});
      continue;
    }
    AICL_CHECK(v.score.size() == static_cast<size_t>(C) &&
                   v.activation.size() == static_cast<size_t>(v.samples) * C,
               "postprocess_videos: " + v.name + ": scores or activation of the wrong size");
    const ClassSelection sel = acm ? select_classes_acm(v.score.data(), C, cfg) : select_classes(v.score.data(), C, cfg);
    if (labels[i] && class_prediction_exact(sel, labels[i], C)) ++correct;
    if (acm) {
      if (v.attention_stride < 1 || v.attention.size() != static_cast<size_t>(v.samples) * v.attention_stride)
        fail("post-processing \"acm\" needs each video's attention (" + v.name + " has none)");
      all.push_back(VideoDetections{v.name, localize_video_acm(v.activation.data(), C, v.attention.data(),
                                                               v.attention_stride, v.score.data(), v.samples, C,
                                                               v.num_segments, cfg)});
    } else {
      all.push_back(VideoDetections{v.name, localize_video(v.activation.data(), v.score.data(), v.samples, C,
                                                           v.num_segments, cfg)});
    }
  }
  LocalizeResult r;
  r.detections = detections_to_json(all, class_names);
  r.num_videos = videos.size();
  r.class_accuracy = videos.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(videos.size());
  return r;
}

LocalizeResult localize_videos(const InferenceModel& model, const Dataset& ds, const std::vector<size_t>& videos,
                               const VideoFeatures& features, int T, const PostprocessConfig& cfg,
                               const std::set<std::string>& keep_activations, std::vector<VideoScores>* scores) {
  std::vector<VideoScores> vs = score_videos(model, ds, videos, features, T, cfg);
  std::vector<const float*> labels;
  const int C = ds.num_classes();
  for (size_t i : videos) {
    const VideoInfo& v = ds.video(i);
    labels.push_back(v.labels.size() == static_cast<size_t>(C) ? v.labels.data() : nullptr);
  }
  LocalizeResult r = postprocess_videos(vs, labels, ds.class_names(), cfg);
  for (const VideoScores& v : vs)
    if (keep_activations.count(v.name) && v.samples > 0) r.activations[v.name] = v.activation;
  r.activation_samples = T;
  if (scores) *scores = std::move(vs);
  return r;
}

}  // namespace aicl
