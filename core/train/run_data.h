// What a training run reads from its dataset: the split into training / held-out / test videos, the feature
// table in memory, the evaluation targets, and how one evaluation is run and reported.
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/base/rng.h"
#include "core/eval/evaluator.h"
#include "core/eval/localize.h"
#include "core/eval/postprocess.h"
#include "core/runtime/method.h"

namespace aicl {

class Dataset;

// Features of every video, loaded once (THUMOS14 is ~1.1 GB) and checked finite.
struct FeatureCache {
  std::vector<float> rows;
  std::vector<size_t> offset;  // per dataset video index, in rows
  std::vector<int> length;
  int dim = 0;
};
FeatureCache load_features(const Dataset& ds);

struct EvalTarget {
  std::string name;             // "val" or "test"
  std::vector<size_t> videos;   // dataset indices
  json gt;                      // ground truth covering them
  std::string subset;           // subset key inside gt
};

// The videos of a run. With val_fraction > 0 a seeded part of the training split is held out (drawn from rng).
struct RunSplit {
  std::vector<size_t> train, val, test;
  EvalTarget val_target, test_target;
};
RunSplit split_run_videos(const Dataset& ds, double val_fraction, Rng& rng);
// The ground truth restricted to the given videos (honest validation on held-out videos, re-scoring a video list).
json restrict_gt(const json& gt, const Dataset& ds, const std::vector<size_t>& videos);
// RUN/split.json: the names of the run's training, held-out and test videos (aicl_eval --heldout RUN reads "val").
json split_json(const Dataset& ds, const RunSplit& s);

// One step's batch of a recorded data stream (TrainOptions::replay_batches): training videos (dataset indices) and
// each one's T sampled segment indices.
struct ReplayBatch {
  std::vector<size_t> videos;
  std::vector<std::vector<int>> indices;
};
// Reads {"steps": [{"videos": [name, ...], "indices": [[T ints], ...]}, ...]}; at least `steps` entries, each of 1 to
// max_batch videos of the training split with indices in [0, length); anything else fails naming the file.
std::vector<ReplayBatch> load_replay_batches(const std::string& path, const Dataset& ds, const std::vector<size_t>& train,
                                             int T, int max_batch, int steps);

// The method's view of the dataset (classes, feature layout).
MethodContext method_context(const Dataset& ds);

// The dataset profile's post-processing settings, adjusted by the method.
PostprocessConfig postprocess_for(const Dataset& ds, const Method& method);

// Evaluation options for a model's own detections on a subset of the dataset: the profile's tIoUs (or the method's,
// post->tiou when set), and the dataset's classes as known labels (a class without ground truth in the subset is left
// out, never an error).
EvalOptions eval_options_for(const Dataset& ds, const std::string& subset, const std::string& detections_name,
                             const PostprocessConfig* post = nullptr);

// Localizes the target's videos and scores them with the official evaluator; the JSON report (with cls_acc and
// the detections dropped for classes without ground truth in the target). detections_out: the detections.
json run_evaluation(const InferenceModel& model, const Dataset& ds, const VideoFeatures& features,
                    const EvalTarget& target, int T, const PostprocessConfig& post, json* detections_out);

}  // namespace aicl
