// Temporal sampling of a video's L segments to the model's T, as the official loaders do (Q14).
#pragma once
#include <string>
#include <vector>

#include "core/base/rng.h"

namespace aicl {

// Test-time sampling: index i -> floor(i*L/T) (repeats segments when L < T); identity when L == T.
std::vector<int> uniform_sampling(int L, int T);

// Training-time sampling: segment i is drawn uniformly from [int(s_i), int(s_{i+1})] (inclusive of the next
// anchor, as the official code), the last from [int(s_last), L-1], with s_i = i*L/T; identity when L == T.
std::vector<int> random_perturb(int L, int T, Rng& rng);

// Test-time sampling of SAL_ActivityNet (uniform_sample): a video of 1 < L <= T rows is kept whole (L indices
// 0..L-1, so the sampled length varies per video), a single row is duplicated ({0, 0}), a longer video is
// floor(i * (L/T)) for i < T, the ratio rounded to float64 first (numpy's arange(T) * (L / T)): at T = 750, 443 of
// the lengths L = 751..7999 have an index that differs from uniform_sampling's exact floor(i*L/T). FTCL/ACM-Net's
// test loader (uniform_sample) is the same.
std::vector<int> uniform_keep_short(int L, int T);

// Training-time sampling of SAL_ActivityNet (random_sample): L < T: T draws with replacement from [0, L), sorted;
// L == T: the identity; L > T: with s_i = i*L/T (float64), pick i < T-1 uniformly from [int(s_i), int(s_{i+1})]
// and the last pick uniformly from [pick_{T-2}, L-1] (from the previous PICK, not its anchor; T = 1: [0, L-1]).
std::vector<int> random_sample(int L, int T, Rng& rng);

// The sampling rules by their profile names (data/profile.h: test_sampling, train_sampling); an unknown name
// throws aicl::Error. The test rules may return fewer or more than T indices (uniform_keep_short).
std::vector<int> sample_test_segments(const std::string& rule, int L, int T);
std::vector<int> sample_train_segments(const std::string& rule, int L, int T, Rng& rng);

}  // namespace aicl
