// hllm chat with piped input on a random-weight Qwen3-Next model. Its replies are meaningless, so
// the tests check the structure: one reply per user line, and what each turn evaluated.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace hllm {
namespace {

std::string chat_command_line(const std::string& flags) {
  return test::hllm_binary() + " --log-level debug chat -m '" +
         test::fixture("models/qwen3next-tiny-f32.gguf") + "' -t 2 -c 512 -n 12 --seed 1 " + flags;
}

struct TurnLog {
  int reused = 0;
  int evaluated = 0;
  bool reset = false;
};

// Parses the info line that the chat writes after each turn.
std::vector<TurnLog> turn_logs(const std::string& err) {
  const std::regex pattern(
      R"(turn (\d+): (\d+) prompt tokens reused, (\d+) evaluated \([0-9.]+ tokens/s\)( after clearing the sequence)?; (\d+) generated)");
  std::vector<TurnLog> turns;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& match = *it;
    EXPECT_EQ(std::stoi(match[1].str()), static_cast<int>(turns.size()) + 1);
    turns.push_back({std::stoi(match[2].str()), std::stoi(match[3].str()), match[4].matched});
  }
  return turns;
}

int count_of(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1))
    ++count;
  return count;
}

TEST(ChatCommand, TwoTurnsReuseSessionState) {
  const test::CommandResult result =
      test::run_command(chat_command_line("--system 'Be brief.'"), "Hello there\nHow are you?\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count_of(result.err, "chat: generated "), 2) << result.err;
  EXPECT_FALSE(result.out.empty());
  EXPECT_EQ(result.out.back(), '\n') << "each reply ends with a newline";

  const std::vector<TurnLog> turns = turn_logs(result.err);
  ASSERT_EQ(turns.size(), 2u) << result.err;
  EXPECT_EQ(turns[0].reused, 0);
  EXPECT_FALSE(turns[1].reset) << result.err;
  // Turn 1 left its prompt and the evaluated reply tokens in the session.
  EXPECT_GT(turns[1].reused, turns[0].evaluated);
  // Turn 2 adds "<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n"
  // and the last reply token, which was generated but not evaluated: under 20 tokens.
  EXPECT_LT(turns[1].evaluated, 20) << result.err;
  EXPECT_NE(result.err.find("chat: reusing " + std::to_string(turns[1].reused) + " tokens"),
            std::string::npos)
      << result.err;
}

TEST(ChatCommand, BlankLinesAreSkippedAndEofEnds) {
  const test::CommandResult result = test::run_command(chat_command_line(""), "\n\nHi\n\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(turn_logs(result.err).size(), 1u) << result.err;

  const test::CommandResult empty = test::run_command(chat_command_line(""), "");
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_TRUE(empty.out.empty()) << empty.out;
}

TEST(ChatCommand, NoThinkingRerendersEarlierTurns) {
  // With enable_thinking=false the Qwen3 template opens each reply with an empty think block
  // but renders earlier replies without it, so turn 2's prompt does not extend turn 1's tokens
  // and the sequence must be evaluated again from the start.
  const test::CommandResult result =
      test::run_command(chat_command_line("--no-thinking"), "Hello there\nHow are you?\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<TurnLog> turns = turn_logs(result.err);
  ASSERT_EQ(turns.size(), 2u) << result.err;
  EXPECT_FALSE(turns[0].reset);
  EXPECT_TRUE(turns[1].reset) << result.err;
  EXPECT_EQ(turns[1].reused, 0);
  EXPECT_GT(turns[1].evaluated, turns[0].evaluated);
  EXPECT_NE(result.err.find("clearing the sequence"), std::string::npos) << result.err;
}

TEST(ChatCommand, ModelWithoutTemplateIsAnError) {
  const test::CommandResult result = test::run_command(
      test::hllm_binary() + " chat -m '" + test::fixture("models/stories260K.gguf") + "'", "Hi\n");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("no chat template"), std::string::npos) << result.err;
}

TEST(ChatCommand, BadFlagValueIsAnError) {
  const test::CommandResult result = test::run_command(chat_command_line("--top-p 2"), "Hi\n");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("top-p 2"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace hllm
