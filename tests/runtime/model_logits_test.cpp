// Every fixture model against llama.cpp's logits, at several micro-batch sizes and thread counts.
#include <gtest/gtest.h>

#include <ostream>

#include <fmt/format.h>

#include "fixture_models.h"
#include "runtime/session.h"
#include "support/fixtures.h"

namespace hllm {
namespace {

using test::FixtureModel;

struct LogitsCase {
  FixtureModel model;
  int ubatch;
  int threads;
};

// Prints the case as test listings show it, instead of its bytes.
void PrintTo(const LogitsCase& c, std::ostream* out) {
  *out << c.model.name << ", ubatch " << c.ubatch << ", " << c.threads << " threads";
}

std::vector<float> evaluate_prompt(const Model& model, const std::vector<int>& ids, int ubatch, int threads) {
  SessionOptions options;
  options.n_ubatch = ubatch;
  options.n_threads = threads;
  options.n_ctx = 512;
  Session session(model, options);
  Batch batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
  return session.decode(batch);
}

class ModelLogitsTest : public ::testing::TestWithParam<LogitsCase> {};

TEST_P(ModelLogitsTest, MatchesReference) {
  const LogitsCase& c = GetParam();
  auto model = Model::load(test::fixture("models/" + c.model.name + ".gguf"));
  const std::vector<int> ids = test::read_ids(test::fixture("reference/" + c.model.name + ".tokens.txt"));
  const std::vector<float> reference = test::read_f32(test::fixture("reference/" + c.model.logits_file));
  const int64_t n_vocab = model->hparams().n_vocab;

  std::vector<float> logits = evaluate_prompt(*model, ids, c.ubatch, c.threads);
  ASSERT_EQ(logits.size(), ids.size() * n_vocab);
  if (c.model.reference_rows > 0) {
    logits.erase(logits.begin(), logits.end() - c.model.reference_rows * n_vocab);
  }
  ASSERT_EQ(logits.size(), reference.size());
  const LogitAgreement agreement = compare_logits(logits, reference, n_vocab);
  EXPECT_EQ(test::check_agreement(agreement, c.model.weights), "");
}

std::vector<LogitsCase> all_cases() {
  std::vector<LogitsCase> cases;
  for (const FixtureModel& model : test::fixture_models()) {
    for (int ubatch : {1, 7, 64, 512}) {
      for (int threads : {1, 2}) cases.push_back({model, ubatch, threads});
    }
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<LogitsCase>& info) {
  std::string name = fmt::format("{}_ub{}_t{}", info.param.model.name, info.param.ubatch, info.param.threads);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelLogitsTest, ::testing::ValuesIn(all_cases()), case_name);

// Greedy continuation, one decode call per token, as the fixtures define it.
std::vector<int32_t> greedy(const Model& model, const std::vector<int>& prompt, int n, int ubatch) {
  SessionOptions options;
  options.n_ubatch = ubatch;
  options.n_threads = 2;
  options.n_ctx = 512;
  Session session(model, options);
  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  std::vector<float> logits = session.decode(batch);
  std::vector<int32_t> tokens;
  int32_t position = static_cast<int32_t>(prompt.size());
  while (true) {
    tokens.push_back(static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
    if (static_cast<int>(tokens.size()) == n) break;
    batch.clear();
    batch.add(tokens.back(), position++, 0, true);
    logits = session.decode(batch);
  }
  return tokens;
}

TEST(GreedyTest, F32ModelsMatchReferenceTokens) {
  for (const char* name : {"qwen3next-tiny-f32", "stories260K"}) {
    auto model = Model::load(test::fixture(std::string("models/") + name + ".gguf"));
    const std::vector<int> prompt = test::read_ids(test::fixture(std::string("reference/") + name + ".tokens.txt"));
    const std::vector<int> expected = test::read_ids(test::fixture(std::string("reference/") + name + ".greedy.txt"));
    for (int ubatch : {1, 512}) {
      const std::vector<int32_t> actual = greedy(*model, prompt, static_cast<int>(expected.size()), ubatch);
      EXPECT_EQ(std::vector<int>(actual.begin(), actual.end()), expected) << name << " at --ubatch " << ubatch;
    }
  }
}

TEST(GreedyTest, TokenByTokenReferenceAgrees) {
  // llama.cpp's own n_ubatch = 1 run of the same model: its logits and greedy tokens.
  auto model = Model::load(test::fixture("models/qwen3next-tiny-f32.gguf"));
  const std::vector<int> ids = test::read_ids(test::fixture("reference/qwen3next-tiny-f32.tokens.txt"));
  const std::vector<float> reference = test::read_f32(test::fixture("reference/qwen3next-tiny-f32.ub1.logits.f32"));
  const std::vector<float> logits = evaluate_prompt(*model, ids, 1, 2);
  const LogitAgreement agreement = compare_logits(logits, reference, model->hparams().n_vocab);
  EXPECT_EQ(test::check_agreement(agreement, test::WeightClass::F32), "");
  const std::vector<int> expected = test::read_ids(test::fixture("reference/qwen3next-tiny-f32.ub1.greedy.txt"));
  const std::vector<int32_t> actual = greedy(*model, ids, static_cast<int>(expected.size()), 1);
  EXPECT_EQ(std::vector<int>(actual.begin(), actual.end()), expected);
}

}  // namespace
}  // namespace hllm
