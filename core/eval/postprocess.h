// Inference post-processing for weakly-supervised temporal action localization, bit-faithful to the official
// AICL inference_thumos.py on a GPU: class selection, CAS upsampling, multi-threshold OIC proposals, soft-NMS, JSON.
//
// Method-independent: it takes a per-segment class activation [T,C] used for localization (AICL: the
// model's `combined_cas`) and a video-level class score [C] (AICL: softmax of the top-k mean CAS).
// Every float64 operation follows the order numpy/scipy use, so results match the official code exactly
// on the same inputs (see docs/inference.md for the quirks Q1-Q6 and the parity evidence).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/eval/numpy_compat.h"
#include "data/profile.h"

namespace aicl {

struct PostprocessConfig {
  // Which post-processing: "oic" (official AICL/SAL: thresholds on the activation, OIC with the class-score term,
  // (soft-)NMS) or "acm" (official ACM-Net/FTCL test: CAS thresholds act_thresh scored on the thresholded CAS,
  // attention thresholds att_thresh scored on the raw CAS, runs of >= 2 points, hard NMS; localize_video_acm).
  std::string kind = "oic";
  // "acm": thresholds on the upsampled attention (official att_act_thresh = np.arange(0.15, 1.00, 0.05)).
  std::vector<double> att_thresh;
  // "acm": each branch scores its runs on acm_cas_weight·CAS + acm_att_weight·attention with its own signal
  // thresholded (values below the threshold set to 0). 1 and 0 (THUMOS14 / FTCL test_thu): the CAS branch scores
  // the thresholded CAS, the attention branch the raw CAS; 0.7 and 0.3: ACM-Net's ActivityNet test (main_act.py).
  // Two numbers, not w and 1 − w: 1 − 0.7 is 0.30000000000000004 in float64, the official literal 0.3 is not.
  double acm_cas_weight = 1.0, acm_att_weight = 0.0;
  // "acm": the OIC class-score weight of the attention branch (class_score_weight is the CAS branch's); ACM-Net's
  // ActivityNet test uses 0.25 there and 0 on the CAS branch, its THUMOS test 0 on both.
  double att_class_score_weight = 0.0;
  // The test sampling rule ("uniform" or "uniform_keep_short", as DatasetProfile::test_sampling) when a method
  // sets it; "" (postprocess_config_for's) = the dataset profile's.
  std::string test_sampling;
  // The evaluation tIoUs when a method sets them (FTCL: the first 7 of np.arange(0.1, 1.0, 0.1)); empty = the
  // dataset profile's. Read by core/train's evaluation options, not by the post-processing.
  std::vector<double> tiou;
  // Video-level class selection threshold (official --class_th). Compared in float32 with the float32 video
  // score, as numpy does for a Python float against a float32 array.
  double class_thresh = 0.25;
  // Localization thresholds on the upsampled activation (official act_thresh = np.arange(0.1, 1.0, 0.1)).
  std::vector<double> act_thresh = numpy_arange(0.1, 1.0, 0.1);
  // Upsampling factor: points per segment (official --scale).
  int scale = 24;
  // Time of a segment = frames_per_feature * vid_num_seg / (T * feature_fps) seconds.
  double feature_fps = 25;
  int frames_per_feature = 16;
  // OIC outer-region ratio λ (get_proposal_oic's `lambda_`). The official call passes --gamma (0.2) into
  // this slot positionally (quirk Q2), so the effective value is 0.2, not the signature default 0.25.
  double outer_ratio = 0.2;
  // OIC weight γ of the video-level class score (get_proposal_oic's `gamma`, signature default 0.2; the
  // official call never sets it, so --gamma does not reach it).
  double class_score_weight = 0.2;
  // basnet_nms: IoU (with the +1 of quirk Q6) threshold, soft-NMS switch (on in the official scripts) and
  // decay exp(-iou^2 / nms_alpha).
  double nms_thresh = 0.4;
  bool soft_nms = true;
  double nms_alpha = 0.35;
};

// The post-processing settings a dataset profile records. For DatasetProfile::thumos14() every field equals
// PostprocessConfig()'s, act_thresh element for element (numpy_arange rebuilds the same doubles).
PostprocessConfig postprocess_config_for(const DatasetProfile& profile);

// Sets the fields named in `overrides` (class_thresh, scale, outer_ratio, class_score_weight, nms_thresh,
// soft_nms, nms_alpha, kind, act_thresh, att_thresh, acm_cas_weight, acm_att_weight, att_class_score_weight, test_sampling, tiou); another key or a bad value is an
// aicl::Error naming `who`. act_thresh / att_thresh / tiou take a list of numbers or {"arange": [start, stop, step]}
// (numpy_arange's doubles, e.g. 0.30000000000000004).

void apply_postprocess_overrides(PostprocessConfig& cfg, const nlohmann::json& overrides, const std::string& who);

struct Detection {
  int label = 0;        // class index
  double score = 0;     // OIC score (decayed by soft-NMS for suppressed ones)
  double t_start = 0;   // seconds
  double t_end = 0;     // seconds
};

// Video-level class selection (official score_np / pred, GPU semantics of quirk Q1).
struct ClassSelection {
  std::vector<float> binarized;  // official score_np: 1 where score >= class_thresh (or the argmax fallback), else 0
  std::vector<int> predicted;    // official pred: classes whose binarized value is > class_thresh
};
ClassSelection select_classes(const float* video_score, int num_classes, const PostprocessConfig& cfg);

// Detections of one video in the official order: classes in order of first appearance over (threshold,
// predicted class), each followed by its NMS output (kept ones by decreasing score, then the soft-suppressed
// ones in suppression order). `activation` is [T, C] row-major; `video_score` is [C]; `vid_num_seg` is the
// video's real feature count (it scales times, the activation itself has T segments). Needs T >= 2.
std::vector<Detection> localize_video(const float* activation, const float* video_score, int T, int num_classes,
                                      int vid_num_seg, const PostprocessConfig& cfg);

// ---- Building blocks with numpy/scipy float64 semantics (exposed for tests and other methods) ----

// scipy interp1d(arange(T), y, kind='linear', fill_value='extrapolate') at np.arange(0, T, 1/scale), with the
// float32 input: slope = float32(y[hi] - y[lo]), value = slope*(x - lo) + y[lo] in float64. The points beyond
// index T-1 are extrapolated (quirk Q4). `y` has `T` values `stride` floats apart.
std::vector<double> upsample_linear(const float* y, int T, int stride, int scale);

// Seconds per upsampled point: frames_per_feature * vid_num_seg / (scale * T * feature_fps) (official t_factor).
double seconds_per_point(int vid_num_seg, int T, const PostprocessConfig& cfg);

// Official get_proposal_oic for one class and one threshold, appended to `out`: runs of upsampled points
// that are >= thresh and > 0; a class whose only such point is index 0 gives nothing (official
// `temp_list.any()`); score = mean(inner) - mean(outer) + class_score_weight*class_score (quirk Q3).
void oic_proposals(const double* upsampled, size_t num_points, double thresh, int label, float class_score,
                   double t_factor, const PostprocessConfig& cfg, std::vector<Detection>& out);

// Official basnet_nms on one class's pooled proposals (IoU with +1, single pass, suppressed ones appended).
std::vector<Detection> basnet_nms(const std::vector<Detection>& proposals, double thresh, bool soft_nms,
                                  double nms_alpha);

// ---- "acm": the official ACM-Net / FTCL test post-processing (FTCL test_thu.py; docs/inference.md) ----

// Class selection: binarized = (score >= class_thresh) with no fallback (the official accuracy's pred_np);
// predicted = the classes with score > class_thresh, or the (first) argmax when none is. Compared in float32.
ClassSelection select_classes_acm(const float* video_score, int num_classes, const PostprocessConfig& cfg);

// Proposals of one class at one threshold, appended to `out`: runs of consecutive points with own[j] >= thresh
// (none, or only index 0: nothing, official `temp_list.any()`), runs shorter than 2 points dropped; each run scored
// by OIC (outer_ratio λ; class_weight·class_score added) on cfg.acm_cas_weight·c + cfg.acm_att_weight·a, where the
// branch's own signal (`own`: the CAS on the CAS branch, the attention on the other) is thresholded (values
// < thresh set to 0) and `other` is taken raw: cas_branch decides which of c and a `own` is.
void acm_proposals(const double* own, const double* other, bool cas_branch, size_t num_points, double thresh,
                   int label, float class_score, double class_weight, double t_factor, const PostprocessConfig& cfg,
                   std::vector<Detection>& out);

// One video: `cas` [T, cas_stride] (first num_classes columns: the class CAS), `attention` [T, att_stride]
// (column 0), `video_score` [C]. Upsampling by cfg.scale with extrapolation; for each act_thresh (CAS branch) then
// each att_thresh (attention branch), each predicted class; pooled per class in order of first appearance; NMS
// (basnet_nms with cfg.nms_thresh, cfg.soft_nms). Needs T >= 2.
std::vector<Detection> localize_video_acm(const float* cas, int cas_stride, const float* attention, int att_stride,
                                          const float* video_score, int T, int num_classes, int vid_num_seg,
                                          const PostprocessConfig& cfg);

// ---- Results ----

struct VideoDetections {
  std::string video;
  std::vector<Detection> detections;
};

// The official result file: {"version": "VERSION 1.3", "results": {video: [{"label", <score_key>, "segment"}]},
// "external_data": {...}}. The official file uses score_key "score300"; standard evaluators read "score".
// Video keys come out sorted (nlohmann::json objects); detections keep their order.
nlohmann::json detections_to_json(const std::vector<VideoDetections>& videos,
                                  const std::vector<std::string>& class_names,
                                  const std::string& score_key = "score");

// Official class accuracy (quirk Q16): a video counts as correct only when the binarized prediction equals
// the whole label vector.
bool class_prediction_exact(const ClassSelection& selection, const float* labels, int num_classes);

}  // namespace aicl
