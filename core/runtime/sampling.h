// Temporal sampling of a video's L segments to the model's T, as the official loaders do (Q14).
#pragma once
#include <vector>

#include "core/base/rng.h"

namespace aicl {

// Test-time sampling: index i -> floor(i*L/T) (repeats segments when L < T); identity when L == T.
std::vector<int> uniform_sampling(int L, int T);

// Training-time sampling: segment i is drawn uniformly from [int(s_i), int(s_{i+1})] (inclusive of the next
// anchor, as the official code), the last from [int(s_last), L-1], with s_i = i*L/T; identity when L == T.
std::vector<int> random_perturb(int L, int T, Rng& rng);

}  // namespace aicl
