// Internal to core/eval: the per-protocol scoring steps that evaluate_detection() dispatches to, after the
// checks and the label filtering every protocol shares.
#pragma once
#include <vector>

#include "core/eval/evaluator.h"

namespace aicl {

// What a protocol scores: the subset's ground truth (validated) and, in reading order, the detections whose
// label has ground truth in the subset. Each scorer fills the report's class_names, class_ap, mAP,
// average_mAP, num_evaluated_videos / video_list_sha256 and its protocol fields.
struct ScoringInput {
  const EvalGroundTruth& gt;
  const std::vector<const EvalDetection*>& detections;
  const EvalOptions& options;
};

void score_anet(const ScoringInput& in, EvalReport& report);   // evaluator.cpp
void score_th14(const ScoringInput& in, EvalReport& report);   // th14_protocol.cpp
void score_wtalc(const ScoringInput& in, EvalReport& report);  // wtalc_protocol.cpp

// The subset's videos in database order (gt.videos, or the videos of the instances when that is empty).
std::vector<std::string> subset_videos(const EvalGroundTruth& gt);

// The class names of the ground truth sorted bytewise: the THUMOS14 kit's detclasslist order (official ids
// ascend with the names) and W-TALC's sorted(set(labels)).
std::vector<std::string> sorted_class_names(const EvalGroundTruth& gt);

}  // namespace aicl
