// The generation loop shared by `hllm run` and `hllm chat`: evaluates prompt tokens in one
// sequence of a session, then samples and evaluates one token at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"
#include "text/tokenizer.h"

namespace hllm {

// Token counts and wall-clock seconds, summed over calls since the last reset_stats().
struct GenerationStats {
  int64_t n_prompt = 0;
  double prompt_seconds = 0.0;
  int64_t n_generated = 0;
  double generation_seconds = 0.0;
};

enum class StopReason {
  EndOfGeneration,  // the model picked an end-of-generation token
  TokenLimit,       // max_tokens were generated
  ContextFull,      // the sequence filled the session's context
};

class Generator {
 public:
  // session, sampler and tokenizer must outlive the generator. n_batch is the maximum number of
  // tokens per decode call.
  Generator(Session& session, Sampler& sampler, const Tokenizer& tokenizer, int64_t n_batch,
            int32_t seq_id = 0);

  // Evaluates tokens after those already in the sequence and keeps the logits of the last one.
  // Each token also enters the sampler's penalty history. Throws Error if the tokens do not fit
  // in the context.
  void evaluate(std::span<const int32_t> tokens);

  // Samples up to max_tokens tokens (negative: no limit), passing each to on_token. Stops at an
  // end-of-generation token (neither passed on nor returned) or when the context is full. The
  // returned tokens are evaluated, except the last one when generation stopped at max_tokens or
  // a full context: nothing needed its logits. tokens() shows which were.
  std::vector<int32_t> generate(int64_t max_tokens, const std::function<void(int32_t)>& on_token);

  // Clears the sequence, its logits and the sampler's penalty history.
  void clear();

  // Tokens evaluated in the sequence, in order.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  StopReason last_stop() const { return last_stop_; }
  const GenerationStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  void decode(std::span<const int32_t> tokens);

  Session& session_;
  Sampler& sampler_;
  const Tokenizer& tokenizer_;
  int64_t n_batch_;
  int32_t seq_id_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;  // of the last evaluated token; empty before the first
  StopReason last_stop_ = StopReason::EndOfGeneration;
  GenerationStats stats_;
};

}  // namespace hllm
