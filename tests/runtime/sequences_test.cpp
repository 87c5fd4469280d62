// Sequences in one session never share or leak state, whatever the batching.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runtime/session.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {
namespace {

// Batched and single-sequence runs multiply matrices of different widths, so the kernels may take
// different blocking paths; float32 summation order then differs by a few ulps of the logits.
constexpr float kBatchingTolerance = 1e-4f;

std::unique_ptr<Model> load_qwen3next() { return Model::load(test::fixture("models/qwen3next-tiny-f32.gguf")); }

std::vector<int> prompt_ids() { return test::read_ids(test::fixture("reference/qwen3next-tiny-f32.tokens.txt")); }


SessionOptions options_for(int n_seq) {
  SessionOptions options;
  options.n_ctx = 1024;
  options.n_seq_max = n_seq;
  options.n_threads = 2;
  options.n_ubatch = 512;
  return options;
}

// Logits of the last token of prompt, evaluated alone in sequence 0.
std::vector<float> last_logits_alone(const Model& model, const std::vector<int>& prompt) {
  Session session(model, options_for(1));
  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  return session.decode(batch);
}

float max_abs_diff(const float* a, const float* b, int64_t n) {
  float worst = 0.0f;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

TEST(SequencesTest, SamePromptInFourSequences) {
  auto model = load_qwen3next();
  const std::vector<int> prompt = prompt_ids();
  const int64_t n_vocab = model->hparams().n_vocab;
  Session session(*model, options_for(4));
  Batch batch;
  for (int seq = 0; seq < 4; ++seq) {
    for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), seq, i + 1 == prompt.size());
  }
  const std::vector<float> logits = session.decode(batch);
  ASSERT_EQ(logits.size(), 4 * n_vocab);
  for (int seq = 1; seq < 4; ++seq) {
    EXPECT_TRUE(std::equal(logits.begin(), logits.begin() + n_vocab, logits.begin() + seq * n_vocab))
        << "sequence " << seq << " differs from sequence 0";
  }
  const std::vector<float> alone = last_logits_alone(*model, prompt);
  EXPECT_LE(max_abs_diff(logits.data(), alone.data(), n_vocab), kBatchingTolerance);
}

TEST(SequencesTest, DifferentPromptsBatchedMatchAlone) {
  auto model = load_qwen3next();
  const std::vector<int> full = prompt_ids();
  const std::vector<int> first(full.begin(), full.begin() + full.size() / 2);
  const std::vector<int> second(full.begin() + 5, full.end());
  const int64_t n_vocab = model->hparams().n_vocab;

  Session session(*model, options_for(2));
  Batch batch;
  for (size_t i = 0; i < first.size(); ++i) batch.add(first[i], static_cast<int32_t>(i), 0, i + 1 == first.size());
  for (size_t i = 0; i < second.size(); ++i) batch.add(second[i], static_cast<int32_t>(i), 1, i + 1 == second.size());
  const std::vector<float> logits = session.decode(batch);
  ASSERT_EQ(logits.size(), 2 * n_vocab);
  EXPECT_LE(max_abs_diff(logits.data(), last_logits_alone(*model, first).data(), n_vocab), kBatchingTolerance);
  EXPECT_LE(max_abs_diff(logits.data() + n_vocab, last_logits_alone(*model, second).data(), n_vocab),
            kBatchingTolerance);
}

TEST(SequencesTest, RemovingOneSequenceKeepsTheOther) {
  auto model = load_qwen3next();
  const std::vector<int> prompt = prompt_ids();
  const int64_t n_vocab = model->hparams().n_vocab;
  const int32_t next_token = 42;
  const int32_t n = static_cast<int32_t>(prompt.size());

  // Sequence 0 and 1 decode together; then sequence 1 is removed and 0 decodes one more token.
  Session together(*model, options_for(2));
  Batch batch;
  for (int seq = 0; seq < 2; ++seq) {
    for (int32_t i = 0; i < n; ++i) batch.add(prompt[i], i, seq, false);
  }
  together.decode(batch);
  batch.clear();
  batch.add(7, n, 0, false);
  batch.add(9, n, 1, false);
  together.decode(batch);
  together.remove_sequence(1);
  EXPECT_EQ(together.next_position(1), 0);
  batch.clear();
  batch.add(next_token, n + 1, 0, true);
  const std::vector<float> after_removal = together.decode(batch);

  // The same steps for sequence 0 alone.
  Session alone(*model, options_for(1));
  batch.clear();
  for (int32_t i = 0; i < n; ++i) batch.add(prompt[i], i, 0, false);
  alone.decode(batch);
  batch.clear();
  batch.add(7, n, 0, false);
  alone.decode(batch);
  batch.clear();
  batch.add(next_token, n + 1, 0, true);
  const std::vector<float> expected = alone.decode(batch);

  EXPECT_LE(max_abs_diff(after_removal.data(), expected.data(), n_vocab), kBatchingTolerance);
}

TEST(SequencesTest, RemovedSequenceStartsFresh) {
  auto model = load_qwen3next();
  const std::vector<int> prompt = prompt_ids();
  const int64_t n_vocab = model->hparams().n_vocab;
  Session session(*model, options_for(1));
  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), 0, false);
  session.decode(batch);
  session.remove_sequence(0);
  const std::vector<float> reused = [&] {
    Batch again;
    for (size_t i = 0; i < prompt.size(); ++i) again.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
    return session.decode(again);
  }();
  const std::vector<float> fresh = last_logits_alone(*model, prompt);
  EXPECT_EQ(max_abs_diff(reused.data(), fresh.data(), n_vocab), 0.0f);
}

TEST(SequencesTest, InvalidSequenceIdIsRejected) {
  auto model = load_qwen3next();
  Session session(*model, options_for(2));
  Batch batch;
  batch.add(1, 0, 2, true);
  EXPECT_THROW(session.decode(batch), Error);
  batch.clear();
  batch.add(static_cast<int32_t>(model->hparams().n_vocab), 0, 0, true);
  EXPECT_THROW(session.decode(batch), Error);
}

}  // namespace
}  // namespace hllm
