// hllm eval and hllm perplexity, driven as a user runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "support/fixtures.h"

namespace hllm {
namespace {

TEST(EvalCommandTest, WritesReferenceLogitsAndGreedyTokens) {
  const std::string dir = test::temp_dir();
  const std::string command = test::hllm_binary() + " eval -m " + test::fixture("models/stories260K.gguf") +
                              " --tokens " + test::fixture("reference/stories260K.tokens.txt") +
                              " --logits-out " + dir + "/logits.f32 --greedy 32 --greedy-out " + dir +
                              "/greedy.txt -t 2 --ubatch 7";
  const test::CommandResult result = test::run_command(command);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const std::vector<float> logits = test::read_f32(dir + "/logits.f32");
  const std::vector<float> reference = test::read_f32(test::fixture("reference/stories260K.logits.f32"));
  ASSERT_EQ(logits.size(), reference.size());
  float worst = 0.0f;
  for (size_t i = 0; i < logits.size(); ++i) worst = std::max(worst, std::fabs(logits[i] - reference[i]));
  EXPECT_LE(worst, 0.05f) << "max |logit diff| (the F32 bound of the fixtures)";
  EXPECT_EQ(test::read_ids(dir + "/greedy.txt"), test::read_ids(test::fixture("reference/stories260K.greedy.txt")));
}

TEST(EvalCommandTest, MissingTokenFileIsAnError) {
  const test::CommandResult result = test::run_command(
      test::hllm_binary() + " eval -m " + test::fixture("models/stories260K.gguf") + " --tokens /nonexistent/ids.txt");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/ids.txt"), std::string::npos) << result.err;
}

double perplexity_at(int ubatch) {
  const test::CommandResult result =
      test::run_command(test::hllm_binary() + " perplexity -m " + test::fixture("models/stories260K.gguf") +
                        " -f tests/data/story.txt -t 2 --ubatch " + std::to_string(ubatch));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::smatch match;
  const std::regex pattern(R"(perplexity: ([0-9.]+) \+/- ([0-9.]+))");
  if (!std::regex_search(result.out, match, pattern)) {
    ADD_FAILURE() << "no perplexity in output: " << result.out;
    return NAN;
  }
  EXPECT_GT(std::stod(match[2].str()), 0.0) << "standard error";
  return std::stod(match[1].str());
}

TEST(PerplexityCommandTest, FiniteAndStableAcrossMicroBatches) {
  const double full = perplexity_at(512);
  const double small = perplexity_at(7);
  EXPECT_TRUE(std::isfinite(full));
  // A pretrained 260K-parameter model on a children's story: far better than uniform over 512 ids.
  EXPECT_LT(full, 100.0);
  EXPECT_GT(full, 1.0);
  // Only float32 summation order differs between the two runs.
  EXPECT_NEAR(small, full, 1e-3 * full);
}

}  // namespace
}  // namespace hllm
