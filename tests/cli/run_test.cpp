// hllm run, driven as a user runs it: greedy output against the reference continuation, seeded
// sampling, and the errors a user can make.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/gguf.h"
#include "support/fixtures.h"
#include "text/tokenizer.h"

namespace hllm {
namespace {

std::string stories_model() {
  return test::fixture("models/stories260K.gguf");
}

std::string run_command_line(const std::string& flags) {
  return test::hllm_binary() + " run -m '" + stories_model() + "' -t 2 " + flags;
}

// The text that the reference greedy ids add after the prompt. Decoding the continuation alone
// would drop the space of its first piece, which SentencePiece only removes at the start of a
// text, so this decodes prompt and continuation together and cuts off the prompt's text.
std::string reference_continuation() {
  const auto file = GgufFile::open(stories_model());
  const auto tokenizer = Tokenizer::from_gguf(*file);
  std::vector<int32_t> ids;
  for (int id : test::read_ids(test::fixture("reference/stories260K.tokens.txt")))
    ids.push_back(id);
  const std::string prompt_text = tokenizer->decode(ids);
  for (int id : test::read_ids(test::fixture("reference/stories260K.greedy.txt")))
    ids.push_back(id);
  const std::string whole_text = tokenizer->decode(ids);
  EXPECT_EQ(whole_text.substr(0, prompt_text.size()), prompt_text);
  return whole_text.substr(prompt_text.size());
}

TEST(RunCommand, GreedyMatchesReferenceContinuation) {
  const test::CommandResult result = test::run_command(
      run_command_line("-f '" + test::fixture("reference/prompt.txt") + "' -n 32 --temp 0"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string expected = reference_continuation();
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(result.out, expected);
  EXPECT_NE(result.err.find("prompt: 242 tokens"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("generation: 32 tokens"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("tokens/s"), std::string::npos) << result.err;
}

TEST(RunCommand, ContinuationKeepsLeadingSpace) {
  // The prompt above ends in a newline; here the first generated piece is "▁time", whose space
  // must be printed even though it starts the output.
  const test::CommandResult result =
      test::run_command(run_command_line("-p 'Once upon a' -n 3 --temp 0"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, " time, there");
}

TEST(RunCommand, EchoPrintsPromptFirst) {
  const test::CommandResult result =
      test::run_command(run_command_line("-p 'Once upon a time' -n 8 --temp 0 --echo"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("Once upon a time", 0), 0u) << result.out;
  EXPECT_GT(result.out.size(), std::string("Once upon a time").size());
}

TEST(RunCommand, SameSeedSameText) {
  const std::string command = run_command_line("-p 'Once upon a time' -n 40 --temp 1 --seed 11");
  const test::CommandResult first = test::run_command(command);
  const test::CommandResult second = test::run_command(command);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(first.out.empty());
  EXPECT_EQ(first.out, second.out);
}

TEST(RunCommand, DifferentSeedsDiffer) {
  // Temperature 2 with sampling filters off spreads the choice over the whole vocabulary, so
  // two seeds agreeing on 40 tokens is practically impossible.
  const std::string flags = "-p 'Once upon a time' -n 40 --temp 2 --top-k 0 --top-p 1 --min-p 0";
  const test::CommandResult first = test::run_command(run_command_line(flags + " --seed 1"));
  const test::CommandResult second = test::run_command(run_command_line(flags + " --seed 2"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(first.out, second.out);
}

TEST(RunCommand, MissingModelIsAnError) {
  const test::CommandResult result =
      test::run_command(test::hllm_binary() + " run -m /nonexistent/model.gguf -p 'Hello'");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/model.gguf"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST(RunCommand, EmptyPromptIsAnError) {
  const test::CommandResult result = test::run_command(run_command_line("-p ''"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("prompt is empty"), std::string::npos) << result.err;

  const test::CommandResult no_prompt = test::run_command(run_command_line(""));
  EXPECT_NE(no_prompt.exit_code, 0);
  EXPECT_NE(no_prompt.err.find("prompt is empty"), std::string::npos) << no_prompt.err;
}

TEST(RunCommand, MissingPromptFileIsAnError) {
  const test::CommandResult result =
      test::run_command(run_command_line("-f /nonexistent/prompt.txt"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/prompt.txt"), std::string::npos) << result.err;
}

TEST(RunCommand, BadFlagValuesAreErrors) {
  struct Case {
    std::string flags;
    std::string message;  // expected in stderr
  };
  const std::vector<Case> cases = {
      {"--temp abc", "--temp = abc"},
      {"-n many", "--n-predict = many"},
      {"--top-p 1.5", "top-p 1.5"},
      {"--min-p -1", "min-p -1"},
      {"--repeat-penalty 0", "repeat penalty 0"},
      {"--repeat-last-n -5", "repeat-last-n -5"},
      {"-n -3", "--n-predict -3"},
      {"--seed -7", "--seed -7"},
      {"--no-such-flag", "--no-such-flag"},
  };
  for (const Case& test_case : cases) {
    const test::CommandResult result =
        test::run_command(run_command_line("-p 'Hello' " + test_case.flags));
    EXPECT_NE(result.exit_code, 0) << test_case.flags;
    EXPECT_NE(result.err.find(test_case.message), std::string::npos)
        << test_case.flags << ": " << result.err;
    EXPECT_TRUE(result.out.empty()) << test_case.flags << ": " << result.out;
  }
}

TEST(RunCommand, PromptAndFileExcludeEachOther) {
  const test::CommandResult result = test::run_command(
      run_command_line("-p 'Hello' -f '" + test::fixture("reference/prompt.txt") + "'"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("exclude"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace hllm
