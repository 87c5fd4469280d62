// Token sampling: repetition penalties, top-k, top-p, min-p, temperature and a seeded draw, applied
// in that order. Parameter names and meanings follow llama.cpp's command-line options.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

namespace hllm {

struct SamplerParams {
  float temperature = 0.8f;        // <= 0: greedy, the most likely token after the penalties
  int32_t top_k = 40;              // <= 0: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off
  float repeat_penalty = 1.0f;     // 1: off
  float presence_penalty = 0.0f;   // 0: off
  float frequency_penalty = 0.0f;  // 0: off
  int32_t repeat_last_n = 64;      // tokens the penalties look back on; 0: none, -1: all
  uint64_t seed = 0;
};

// One token that is still a sampling candidate. probability is valid only after softmax().
struct TokenCandidate {
  int32_t id = 0;
  float logit = 0.0f;
  float probability = 0.0f;
};

// The steps of the chain, exposed for tests. Each keeps at least one candidate and expects a
// non-empty list.
namespace sampling {

// Returns one candidate per logit, in id order.
std::vector<TokenCandidate> candidates_from_logits(std::span<const float> logits);

// Sorts by logit, highest first (ties by lower id), and sets probability to the softmax.
void softmax(std::vector<TokenCandidate>& candidates);

// Penalizes the tokens of recent. For a token seen c times, a positive logit is divided by
// repeat_penalty and a negative one multiplied by it, then c * frequency_penalty is subtracted,
// and presence_penalty once.
void apply_penalties(std::vector<TokenCandidate>& candidates, std::span<const int32_t> recent,
                     float repeat_penalty, float frequency_penalty, float presence_penalty);

// Keeps the k highest logits, sorted highest first. k <= 0 keeps everything.
void keep_top_k(std::vector<TokenCandidate>& candidates, int32_t k);

// Keeps the smallest set of most likely tokens whose probabilities sum to at least p.
void keep_top_p(std::vector<TokenCandidate>& candidates, float p);

// Keeps the tokens whose probability is at least p times that of the most likely token.
void keep_min_p(std::vector<TokenCandidate>& candidates, float p);

// Divides every logit by temperature; temperature <= 0 keeps only the highest logit.
void apply_temperature(std::vector<TokenCandidate>& candidates, float temperature);

// Draws a token from the softmax of the candidates with a uniform number u in [0, 1).
int32_t draw(std::vector<TokenCandidate>& candidates, double u);

}  // namespace sampling

class Sampler {
 public:
  // Throws Error for a parameter outside its range, such as a repeat penalty of 0 or top_p above 1.
  explicit Sampler(const SamplerParams& params);

  // Picks the next token from one row of logits (n_vocab floats). Penalties look at the tokens
  // passed to accept(). Does not add the picked token to that history.
  int32_t sample(std::span<const float> logits);

  // Adds a token that is now part of the sequence to the penalty history.
  void accept(int32_t token);
  // Forgets the penalty history; the random generator continues where it was.
  void clear_history();

  const SamplerParams& params() const { return params_; }

 private:
  SamplerParams params_;
  // The uniform numbers come from the raw 64-bit output, not std::uniform_real_distribution,
  // whose algorithm differs between standard libraries. So a seed gives the same draws with every
  // standard library.
  std::mt19937_64 random_;
  std::deque<int32_t> recent_;
};

}  // namespace hllm
