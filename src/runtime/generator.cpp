#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

#include "util/error.h"

namespace hllm {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Generator::Generator(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                     int64_t n_batch, int32_t seq_id)
    : session_(session),
      sampler_(sampler),
      tokenizer_(tokenizer),
      n_batch_(n_batch),
      seq_id_(seq_id) {
  HLLM_CHECK(n_batch >= 1, "invalid batch size {}: expected at least 1", n_batch);
  HLLM_CHECK(session.next_position(seq_id) == 0,
             "sequence {} already holds {} tokens: a generator starts on an empty sequence", seq_id,
             session.next_position(seq_id));
}

void Generator::decode(std::span<const int32_t> tokens) {
  // One decode call per n_batch tokens; only the very last token's logits are needed.
  for (size_t start = 0; start < tokens.size(); start += static_cast<size_t>(n_batch_)) {
    const size_t end = std::min(tokens.size(), start + static_cast<size_t>(n_batch_));
    Batch batch;
    for (size_t i = start; i < end; ++i) {
      batch.add(tokens[i], static_cast<int32_t>(tokens_.size()), seq_id_, i + 1 == tokens.size());
      tokens_.push_back(tokens[i]);
      sampler_.accept(tokens[i]);
    }
    std::vector<float> logits = session_.decode(batch);
    if (end == tokens.size()) logits_ = std::move(logits);
  }
}

void Generator::evaluate(std::span<const int32_t> tokens) {
  if (tokens.empty()) return;
  const auto needed = static_cast<int64_t>(tokens_.size() + tokens.size());
  HLLM_CHECK(
      needed <= session_.n_ctx(),
      "the sequence needs {} tokens ({} already evaluated, {} new) but the context holds {}; "
      "use a larger --ctx-size or a shorter prompt",
      needed, tokens_.size(), tokens.size(), session_.n_ctx());
  const auto start = std::chrono::steady_clock::now();
  decode(tokens);
  stats_.prompt_seconds += seconds_since(start);
  stats_.n_prompt += static_cast<int64_t>(tokens.size());
}

std::vector<int32_t> Generator::generate(int64_t max_tokens,
                                         const std::function<void(int32_t)>& on_token) {
  HLLM_CHECK(!logits_.empty(), "nothing to generate from: evaluate a prompt first");
  const auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> generated;
  last_stop_ = StopReason::TokenLimit;
  while (max_tokens < 0 || static_cast<int64_t>(generated.size()) < max_tokens) {
    const int32_t token = sampler_.sample(logits_);
    if (tokenizer_.is_end_of_generation(token)) {
      last_stop_ = StopReason::EndOfGeneration;
      break;
    }
    generated.push_back(token);
    on_token(token);
    // The last token needs no evaluation: nothing is sampled after it.
    if (static_cast<int64_t>(generated.size()) == max_tokens) break;
    if (static_cast<int64_t>(tokens_.size()) >= session_.n_ctx()) {
      last_stop_ = StopReason::ContextFull;
      break;
    }
    const int32_t single[1] = {token};
    decode(single);
  }
  stats_.generation_seconds += seconds_since(start);
  stats_.n_generated += static_cast<int64_t>(generated.size());
  return generated;
}

void Generator::clear() {
  session_.remove_sequence(seq_id_);
  tokens_.clear();
  logits_.clear();
  sampler_.clear_history();
}

}  // namespace hllm
