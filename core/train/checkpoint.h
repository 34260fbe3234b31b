// Training checkpoints: weights, optimizer moments, data RNG, loop position, selection, and the method's name,
// hyper-parameters and extra state; written atomically, complete or absent.
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/base/rng.h"
#include "core/runtime/method.h"
#include "core/runtime/parameters.h"

namespace aicl {

// Everything a resumed run needs besides the options: the loop position, optimizer moments, RNG, selection.
struct LoopState {
  long step = 0;              // steps done
  long epoch = -1;
  size_t cursor = 0;          // position in `order`
  std::vector<size_t> order;  // this epoch's permutation of the training videos
  double best_metric = -1;     // the run's selection rule (--select all: the held-out rule)
  long best_step = 0;
  double best_test_metric = -1;  // --select all only: the best on the test split so far
  long best_test_step = 0;
};

// `options` is the run's resolved config.json content. v may be empty (SGD keeps no second moment).
// `provenance` (core/train/provenance.h) is stored as the root attribute "provenance" (JSON text).
void save_checkpoint(const std::string& path, const json& options, const Method& method, const ParameterSet& params,
                     const std::vector<float>& m, const std::vector<float>& v, const Rng& rng, const LoopState& st,
                     const json& provenance = json::object());

// Fails with one line for a file that is not a complete aicl checkpoint, or was written by another method.
// v is read only when `want_v` (Adam).
void load_checkpoint(const std::string& path, Method& method, ParameterSet& params, std::vector<float>& m,
                     std::vector<float>& v, bool want_v, Rng& rng, LoopState& st);

}  // namespace aicl
