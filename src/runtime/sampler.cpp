#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "util/error.h"

namespace hllm {

namespace sampling {

namespace {

bool higher_logit(const TokenCandidate& a, const TokenCandidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

void sort_by_logit(std::vector<TokenCandidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), higher_logit);
}

}  // namespace

std::vector<TokenCandidate> candidates_from_logits(std::span<const float> logits) {
  HLLM_CHECK(!logits.empty(), "cannot sample from an empty row of logits");
  std::vector<TokenCandidate> candidates(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    candidates[i].id = static_cast<int32_t>(i);
    // A NaN would break the ordering that sorting relies on, so it counts as impossible.
    candidates[i].logit =
        std::isnan(logits[i]) ? -std::numeric_limits<float>::infinity() : logits[i];
  }
  return candidates;
}

void softmax(std::vector<TokenCandidate>& candidates) {
  sort_by_logit(candidates);
  const float max_logit = candidates.front().logit;
  double sum = 0.0;
  for (TokenCandidate& candidate : candidates) {
    // Comparing with the maximum first keeps infinite logits out of inf - inf.
    candidate.probability =
        candidate.logit == max_logit ? 1.0f : std::exp(candidate.logit - max_logit);
    sum += candidate.probability;
  }
  for (TokenCandidate& candidate : candidates) {
    candidate.probability = static_cast<float>(candidate.probability / sum);
  }
}

void apply_penalties(std::vector<TokenCandidate>& candidates, std::span<const int32_t> recent,
                     float repeat_penalty, float frequency_penalty, float presence_penalty) {
  std::unordered_map<int32_t, int> counts;
  for (int32_t token : recent)
    ++counts[token];

  for (const auto& [token, count] : counts) {
    TokenCandidate* candidate = nullptr;
    // Candidates fresh from the logits are indexed by id; otherwise search.
    if (token >= 0 && static_cast<size_t>(token) < candidates.size() &&
        candidates[token].id == token) {
      candidate = &candidates[token];
    } else {
      auto found = std::find_if(candidates.begin(), candidates.end(),
                                [token](const TokenCandidate& c) { return c.id == token; });
      if (found == candidates.end()) continue;
      candidate = &*found;
    }
    if (candidate->logit <= 0.0f) {
      candidate->logit *= repeat_penalty;
    } else {
      candidate->logit /= repeat_penalty;
    }
    candidate->logit -= static_cast<float>(count) * frequency_penalty + presence_penalty;
  }
}

void keep_top_k(std::vector<TokenCandidate>& candidates, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= candidates.size()) {
    sort_by_logit(candidates);
    return;
  }
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(), higher_logit);
  candidates.resize(static_cast<size_t>(k));
}

void keep_top_p(std::vector<TokenCandidate>& candidates, float p) {
  if (p >= 1.0f) return;
  softmax(candidates);
  double cumulative = 0.0;
  size_t keep = candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    cumulative += candidates[i].probability;
    if (cumulative >= p) {
      keep = i + 1;
      break;
    }
  }
  candidates.resize(keep);
}

void keep_min_p(std::vector<TokenCandidate>& candidates, float p) {
  if (p <= 0.0f) return;
  softmax(candidates);
  const float threshold = p * candidates.front().probability;
  size_t keep = 1;
  while (keep < candidates.size() && candidates[keep].probability >= threshold)
    ++keep;
  candidates.resize(keep);
}

void apply_temperature(std::vector<TokenCandidate>& candidates, float temperature) {
  if (temperature <= 0.0f) {
    const auto best = std::min_element(candidates.begin(), candidates.end(), higher_logit);
    const TokenCandidate kept = *best;
    candidates.assign(1, kept);
    return;
  }
  for (TokenCandidate& candidate : candidates)
    candidate.logit /= temperature;
}

int32_t draw(std::vector<TokenCandidate>& candidates, double u) {
  softmax(candidates);
  double cumulative = 0.0;
  for (const TokenCandidate& candidate : candidates) {
    cumulative += candidate.probability;
    if (u < cumulative) return candidate.id;
  }
  // Rounding can leave the sum just under 1; the last candidate takes that remainder.
  return candidates.back().id;
}

}  // namespace sampling

Sampler::Sampler(const SamplerParams& params) : params_(params), random_(params.seed) {
  HLLM_CHECK(std::isfinite(params.temperature), "invalid temperature {}: expected a finite number",
             params.temperature);
  HLLM_CHECK(params.top_p >= 0.0f && params.top_p <= 1.0f,
             "invalid top-p {}: expected a value from 0 to 1", params.top_p);
  HLLM_CHECK(params.min_p >= 0.0f && params.min_p <= 1.0f,
             "invalid min-p {}: expected a value from 0 to 1", params.min_p);
  HLLM_CHECK(params.repeat_penalty > 0.0f && std::isfinite(params.repeat_penalty),
             "invalid repeat penalty {}: expected a positive number (1 is off)",
             params.repeat_penalty);
  HLLM_CHECK(std::isfinite(params.presence_penalty),
             "invalid presence penalty {}: expected a finite number", params.presence_penalty);
  HLLM_CHECK(std::isfinite(params.frequency_penalty),
             "invalid frequency penalty {}: expected a finite number", params.frequency_penalty);
  HLLM_CHECK(params.repeat_last_n >= -1,
             "invalid repeat-last-n {}: expected -1 (all tokens), 0 (off) or a positive count",
             params.repeat_last_n);
}

int32_t Sampler::sample(std::span<const float> logits) {
  std::vector<TokenCandidate> candidates = sampling::candidates_from_logits(logits);

  const bool penalize = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                        params_.frequency_penalty != 0.0f;
  if (penalize && !recent_.empty()) {
    const std::vector<int32_t> recent(recent_.begin(), recent_.end());
    sampling::apply_penalties(candidates, recent, params_.repeat_penalty, params_.frequency_penalty,
                              params_.presence_penalty);
  }
  if (params_.temperature <= 0.0f) {
    sampling::apply_temperature(candidates, params_.temperature);
    return candidates.front().id;
  }

  sampling::keep_top_k(candidates, params_.top_k);
  sampling::keep_top_p(candidates, params_.top_p);
  sampling::keep_min_p(candidates, params_.min_p);
  sampling::apply_temperature(candidates, params_.temperature);
  // 53 random bits give every double in [0, 1) that is a multiple of 2^-53.
  const double u = static_cast<double>(random_() >> 11) * 0x1.0p-53;
  return sampling::draw(candidates, u);
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  recent_.push_back(token);
  if (params_.repeat_last_n > 0 && recent_.size() > static_cast<size_t>(params_.repeat_last_n)) {
    recent_.pop_front();
  }
}

void Sampler::clear_history() {
  recent_.clear();
}

}  // namespace hllm
