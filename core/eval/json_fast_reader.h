// Streaming (SAX) readers for the evaluator's two JSON files, so that large detection files (ActivityNet:
// ~470k detections) are read without building a JSON document first.
#pragma once
#include <string>
#include <vector>

#include "core/eval/evaluator.h"

namespace aicl {

// Reads {"results": {video: [{"label", "segment": [s, e], "score" | "score300"}]}} into `out` exactly as
// detections_from_json does. Returns false, leaving `out` unspecified, on anything detections_from_json would
// reject (or any duplicate video key, whose handling it leaves to the DOM reader): the caller then runs the
// DOM reader, whose error names the problem.
bool fast_read_detections(const std::string& text, bool allow_inverted, std::vector<EvalDetection>& out);

// Reads an ActivityNet ground truth exactly as ground_truth_from_json does; false as above.
bool fast_read_ground_truth(const std::string& text, const std::string& subset, bool allow_inverted,
                            EvalGroundTruth& out);

}  // namespace aicl
