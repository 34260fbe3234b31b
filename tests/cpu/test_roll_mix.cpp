// SAL's mix-up by batch roll: video b is combined with video b − 1 (video 0 with the last), as torch.roll(x, 1, 0).
#include <catch2/catch.hpp>

#include <vector>

#include "core/base/error.h"
#include "kernels/roll_mix.h"

TEST_CASE("roll_mix: features summed, labels OR-ed, masks averaged with the previous video of the batch", "[roll_mix]") {
  const std::vector<float> x = {1, 2, 10, 20, 100, 200};  // B = 3 rows of 2
  std::vector<float> out(6);
  aicl::roll_mix_forward(out.data(), x.data(), 3, 2, aicl::RollMix::sum);
  CHECK(out == std::vector<float>{101, 202, 11, 22, 110, 220});
  aicl::roll_mix_forward(out.data(), x.data(), 3, 2, aicl::RollMix::mean);
  CHECK(out == std::vector<float>{50.5f, 101, 5.5f, 11, 55, 110});
  const std::vector<float> y = {1, 0, 0, 0, 0, 1};
  aicl::roll_mix_forward(out.data(), y.data(), 3, 2, aicl::RollMix::max);
  CHECK(out == std::vector<float>{1, 1, 1, 0, 0, 1});
  // B = 1: the video with itself (the official roll of a single video).
  std::vector<float> one(2);
  aicl::roll_mix_forward(one.data(), x.data(), 1, 2, aicl::RollMix::sum);
  CHECK(one == std::vector<float>{2, 4});
  CHECK_THROWS_AS(aicl::roll_mix_forward(one.data(), x.data(), 0, 2, aicl::RollMix::sum), aicl::Error);
}
