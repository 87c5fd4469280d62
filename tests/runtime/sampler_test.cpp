// The sampling steps on hand-made logits, and the seeded sampler.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "runtime/sampler.h"
#include "util/error.h"

namespace hllm {
namespace {

using sampling::candidates_from_logits;

std::vector<int32_t> ids_of(const std::vector<TokenCandidate>& candidates) {
  std::vector<int32_t> ids;
  for (const TokenCandidate& candidate : candidates)
    ids.push_back(candidate.id);
  return ids;
}

// Logits whose softmax is exactly the given probabilities (up to float rounding).
std::vector<float> logits_for(const std::vector<float>& probabilities) {
  std::vector<float> logits;
  for (float p : probabilities)
    logits.push_back(std::log(p));
  return logits;
}

// Probabilities 0.1, 0.5, 0.15, 0.25 for ids 0..3: sorted, the ids are 1, 3, 2, 0.
const std::vector<float> kFourTokens = logits_for({0.1f, 0.5f, 0.15f, 0.25f});

TEST(SamplingSteps, SoftmaxSortsAndNormalizes) {
  auto candidates = candidates_from_logits(kFourTokens);
  sampling::softmax(candidates);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 3, 2, 0}));
  EXPECT_NEAR(candidates[0].probability, 0.5f, 1e-6f);
  EXPECT_NEAR(candidates[3].probability, 0.1f, 1e-6f);
}

TEST(SamplingSteps, TopKKeepsKHighest) {
  auto candidates = candidates_from_logits(std::vector<float>{1, 5, 3, 2, 4});
  sampling::keep_top_k(candidates, 2);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 4}));

  auto all = candidates_from_logits(std::vector<float>{1, 5, 3});
  sampling::keep_top_k(all, 0);
  EXPECT_EQ(ids_of(all), (std::vector<int32_t>{1, 2, 0})) << "k = 0 is off";
  sampling::keep_top_k(all, 10);
  EXPECT_EQ(all.size(), 3u) << "k above the count keeps everything";
}

TEST(SamplingSteps, TopKBreaksTiesByLowerId) {
  auto candidates = candidates_from_logits(std::vector<float>{2, 3, 3, 3});
  sampling::keep_top_k(candidates, 2);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 2}));
}

TEST(SamplingSteps, TopPKeepsSmallestSetOverP) {
  struct Case {
    float p;
    std::vector<int32_t> kept;
  };
  // Cumulative probabilities in order: 0.5, 0.75, 0.9, 1.0. The thresholds stay away from
  // those sums so float rounding cannot decide the case. p = 1 is off and leaves the order.
  const std::vector<Case> cases = {
      {0.3f, {1}}, {0.6f, {1, 3}}, {0.8f, {1, 3, 2}}, {0.95f, {1, 3, 2, 0}}, {1.0f, {0, 1, 2, 3}}};
  for (const Case& test_case : cases) {
    auto candidates = candidates_from_logits(kFourTokens);
    sampling::keep_top_p(candidates, test_case.p);
    EXPECT_EQ(ids_of(candidates), test_case.kept) << "top-p " << test_case.p;
  }
}

TEST(SamplingSteps, MinPIsRelativeToMaxProbability) {
  struct Case {
    float p;
    std::vector<int32_t> kept;
  };
  // The most likely token has 0.5, so min-p p keeps probabilities of at least 0.5 p.
  const std::vector<Case> cases = {
      {0.9f, {1}}, {0.4f, {1, 3}}, {0.25f, {1, 3, 2}}, {0.1f, {1, 3, 2, 0}}, {0.0f, {0, 1, 2, 3}}};
  for (const Case& test_case : cases) {
    auto candidates = candidates_from_logits(kFourTokens);
    sampling::keep_min_p(candidates, test_case.p);
    EXPECT_EQ(ids_of(candidates), test_case.kept) << "min-p " << test_case.p;
  }
}

TEST(SamplingSteps, PenaltiesAsDefined) {
  auto candidates = candidates_from_logits(std::vector<float>{2.0f, -2.0f, 1.0f, 0.5f});
  const std::vector<int32_t> recent = {0, 1, 0, 2};
  sampling::apply_penalties(candidates, recent, /*repeat_penalty=*/2.0f,
                            /*frequency_penalty=*/0.5f, /*presence_penalty=*/0.25f);
  // id 0, seen twice: 2 / 2 - 2 * 0.5 - 0.25.
  EXPECT_FLOAT_EQ(candidates[0].logit, -0.25f);
  // id 1, seen once, negative logit: -2 * 2 - 0.5 - 0.25.
  EXPECT_FLOAT_EQ(candidates[1].logit, -4.75f);
  // id 2, seen once: 1 / 2 - 0.5 - 0.25.
  EXPECT_FLOAT_EQ(candidates[2].logit, -0.25f);
  EXPECT_FLOAT_EQ(candidates[3].logit, 0.5f) << "a token not in recent is unchanged";
}

TEST(SamplingSteps, PenaltiesFindSortedCandidates) {
  auto candidates = candidates_from_logits(std::vector<float>{1.0f, 4.0f, 2.0f});
  sampling::keep_top_k(candidates, 0);  // now ordered 1, 2, 0
  const std::vector<int32_t> recent = {1};
  sampling::apply_penalties(candidates, recent, 2.0f, 0.0f, 0.0f);
  EXPECT_EQ(candidates[0].id, 1);
  EXPECT_FLOAT_EQ(candidates[0].logit, 2.0f);
}

TEST(SamplingSteps, TemperatureScalesLogits) {
  auto candidates = candidates_from_logits(std::vector<float>{1.0f, 2.0f});
  sampling::apply_temperature(candidates, 0.5f);
  EXPECT_FLOAT_EQ(candidates[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(candidates[1].logit, 4.0f);
  sampling::softmax(candidates);
  // A lower temperature sharpens: the odds e^(4-2) instead of e^(2-1).
  EXPECT_NEAR(candidates[0].probability / candidates[1].probability, std::exp(2.0f), 1e-4f);

  auto greedy = candidates_from_logits(std::vector<float>{1.0f, 3.0f, 2.0f});
  sampling::apply_temperature(greedy, 0.0f);
  EXPECT_EQ(ids_of(greedy), (std::vector<int32_t>{1})) << "temperature 0 keeps the maximum";
}

TEST(SamplingSteps, DrawFollowsCumulativeProbability) {
  const std::vector<float> logits = logits_for({0.25f, 0.75f});
  auto candidates = candidates_from_logits(logits);
  EXPECT_EQ(sampling::draw(candidates, 0.5), 1);  // 1 covers [0, 0.75) after sorting
  candidates = candidates_from_logits(logits);
  EXPECT_EQ(sampling::draw(candidates, 0.8), 0);
  candidates = candidates_from_logits(logits);
  EXPECT_EQ(sampling::draw(candidates, 0.9999999999), 0);
}

TEST(SamplingSteps, NanLogitIsNeverPicked) {
  auto candidates = candidates_from_logits(std::vector<float>{NAN, 1.0f, 0.0f});
  sampling::softmax(candidates);
  EXPECT_EQ(candidates.back().id, 0);
  EXPECT_EQ(candidates.back().probability, 0.0f);
}

SamplerParams plain_params(float temperature, uint64_t seed) {
  SamplerParams params;
  params.temperature = temperature;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.seed = seed;
  return params;
}

std::vector<int32_t> draw_many(uint64_t seed, int count) {
  Sampler sampler(plain_params(1.0f, seed));
  const std::vector<float> flat(100, 0.0f);
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i)
    tokens.push_back(sampler.sample(flat));
  return tokens;
}

TEST(SamplerTest, SameSeedSameTokens) {
  EXPECT_EQ(draw_many(42, 64), draw_many(42, 64));
}

TEST(SamplerTest, DifferentSeedsDiffer) {
  EXPECT_NE(draw_many(42, 64), draw_many(43, 64));
}

TEST(SamplerTest, GreedyPicksArgmax) {
  Sampler sampler(plain_params(0.0f, 1));
  EXPECT_EQ(sampler.sample(std::vector<float>{0.5f, 2.0f, 2.0f, -1.0f}), 1)
      << "ties go to the lower id";
}

TEST(SamplerTest, FrequenciesMatchProbabilities) {
  Sampler sampler(plain_params(1.0f, 7));
  const std::vector<float> logits = logits_for({0.7f, 0.3f});
  const int n = 20000;
  int first = 0;
  for (int i = 0; i < n; ++i)
    first += sampler.sample(logits) == 0 ? 1 : 0;
  // The binomial standard deviation is sqrt(0.7 * 0.3 / n) = 0.0032; 0.02 is six of them.
  EXPECT_NEAR(static_cast<double>(first) / n, 0.7, 0.02);
}

TEST(SamplerTest, RepeatPenaltyUsesLastN) {
  SamplerParams params = plain_params(0.0f, 1);
  params.repeat_penalty = 2.0f;
  params.repeat_last_n = 1;
  Sampler sampler(params);
  const std::vector<float> logits = {1.0f, 0.9f};
  EXPECT_EQ(sampler.sample(logits), 0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 1) << "token 0 is penalized to 0.5";
  sampler.accept(1);
  EXPECT_EQ(sampler.sample(logits), 0) << "only the last token (1) is penalized";
  sampler.clear_history();
  EXPECT_EQ(sampler.sample(logits), 0);
}

TEST(SamplerTest, TopKOneIsGreedyAtAnyTemperature) {
  SamplerParams params = plain_params(5.0f, 3);
  params.top_k = 1;
  Sampler sampler(params);
  const std::vector<float> logits = {0.1f, 0.2f, 0.15f};
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(sampler.sample(logits), 1);
}

TEST(SamplerTest, RejectsInvalidParameters) {
  SamplerParams top_p = plain_params(1.0f, 1);
  top_p.top_p = 1.5f;
  EXPECT_THROW(Sampler{top_p}, Error);
  SamplerParams min_p = plain_params(1.0f, 1);
  min_p.min_p = -0.1f;
  EXPECT_THROW(Sampler{min_p}, Error);
  SamplerParams repeat = plain_params(1.0f, 1);
  repeat.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler{repeat}, Error);
  SamplerParams last_n = plain_params(1.0f, 1);
  last_n.repeat_last_n = -2;
  EXPECT_THROW(Sampler{last_n}, Error);
  SamplerParams temperature = plain_params(NAN, 1);
  EXPECT_THROW(Sampler{temperature}, Error);
}

TEST(SamplerTest, RejectsEmptyLogits) {
  Sampler sampler(plain_params(1.0f, 1));
  EXPECT_THROW(sampler.sample(std::vector<float>{}), Error);
}

}  // namespace
}  // namespace hllm
