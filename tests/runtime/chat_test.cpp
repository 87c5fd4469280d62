// Chat templates from model files, and the prompt plan that lets a conversation reuse the state
// already in its sequence.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "runtime/chat.h"
#include "runtime/generator.h"
#include "runtime/sampler.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {
namespace {

const char* kQwenModel = "models/qwen3next-tiny-f32.gguf";

struct LoadedTokenizer {
  std::unique_ptr<GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
};

LoadedTokenizer load_tokenizer(const char* model) {
  LoadedTokenizer loaded;
  loaded.file = GgufFile::open(test::fixture(model));
  loaded.tokenizer = Tokenizer::from_gguf(*loaded.file);
  return loaded;
}

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ChatTemplateTest, RendersFixtureCases) {
  const LoadedTokenizer loaded = load_tokenizer(kQwenModel);
  const ChatTemplate chat_template = ChatTemplate::from_gguf(*loaded.file, *loaded.tokenizer);
  const auto cases =
      nlohmann::ordered_json::parse(test::read_file(test::fixture("chat/qwen3-chat-cases.json")));
  int checked = 0;
  for (const auto& fixture_case : cases) {
    if (fixture_case.contains("tools")) continue;  // ChatTemplate renders plain messages only
    std::vector<ChatMessage> messages;
    for (const auto& message : fixture_case["messages"]) {
      messages.push_back(
          {message["role"].get<std::string>(), message["content"].get<std::string>()});
    }
    std::optional<bool> thinking;
    if (fixture_case.contains("enable_thinking"))
      thinking = fixture_case["enable_thinking"].get<bool>();
    const std::string rendered =
        chat_template.render(messages, fixture_case["add_generation_prompt"].get<bool>(), thinking);
    EXPECT_EQ(rendered, fixture_case["expected"].get<std::string>()) << fixture_case["name"];
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(ChatTemplateTest, ModelWithoutTemplateIsAnError) {
  const LoadedTokenizer loaded = load_tokenizer("models/stories260K.gguf");
  try {
    ChatTemplate::from_gguf(*loaded.file, *loaded.tokenizer);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.chat_template"), std::string::npos) << e.what();
  }
}

TEST(PromptPlanTest, EmptySequenceEvaluatesWholePrompt) {
  const LoadedTokenizer loaded = load_tokenizer(kQwenModel);
  const std::string prompt = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
  const PromptPlan plan = plan_prompt(*loaded.tokenizer, {}, "", prompt);
  EXPECT_FALSE(plan.reset);
  EXPECT_EQ(plan.n_reused, 0u);
  EXPECT_EQ(plan.tokens, tokenize_prompt(*loaded.tokenizer, prompt));
  EXPECT_EQ(plan.tokens.front(), loaded.tokenizer->find_token("<|im_start|>"));
}

TEST(PromptPlanTest, ExtensionKeepsGeneratedTokens) {
  const LoadedTokenizer loaded = load_tokenizer(kQwenModel);
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::string turn1 = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
  // A reply generated one character at a time: tokenizing its text would merge the characters,
  // so only a plan that keeps the session's tokens can reuse them.
  std::vector<int32_t> reply;
  for (const char* piece : {"w", "o", "r", "l", "d"})
    reply.push_back(tokenizer.encode(piece, false, false).at(0));
  ASSERT_NE(tokenizer.encode("world", false, false), reply)
      << "the test needs a non-canonical reply";
  const std::vector<int32_t> cached = concat(tokenize_prompt(tokenizer, turn1), reply);
  const std::string cached_text = turn1 + "world";

  const std::string added =
      "<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n";
  const PromptPlan plan = plan_prompt(tokenizer, cached, cached_text, cached_text + added);
  EXPECT_FALSE(plan.reset);
  EXPECT_EQ(plan.n_reused, cached.size());
  EXPECT_EQ(plan.tokens, tokenizer.encode(added, false, true));
  EXPECT_EQ(plan.tokens.front(), tokenizer.find_token("<|im_end|>"));
}

TEST(PromptPlanTest, TokenPrefixWithoutTextPrefixIsReused) {
  const LoadedTokenizer loaded = load_tokenizer(kQwenModel);
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::string first = "<|im_start|>user\nHello<|im_end|>\n";
  const std::string prompt = first + "<|im_start|>assistant\n";
  const std::vector<int32_t> cached = tokenize_prompt(tokenizer, first);
  // The cached text does not match (as after a template that renders whitespace differently),
  // but the tokens are still a prefix of the new prompt's tokens.
  const PromptPlan plan = plan_prompt(tokenizer, cached, "something else", prompt);
  EXPECT_FALSE(plan.reset);
  EXPECT_EQ(plan.n_reused, cached.size());
  EXPECT_EQ(concat(cached, plan.tokens), tokenize_prompt(tokenizer, prompt));
}

TEST(PromptPlanTest, StrippedReasoningResetsSequence) {
  const LoadedTokenizer loaded = load_tokenizer(kQwenModel);
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const ChatTemplate chat_template = ChatTemplate::from_gguf(*loaded.file, tokenizer);
  std::vector<ChatMessage> messages = {{"user", "What is 7*6?"}};
  const std::string reply = "<think>\n7 times 6 is 42.\n</think>\n\nIt is 42.";
  const std::string cached_text = chat_template.render(messages, true, std::nullopt) + reply;
  const std::vector<int32_t> cached = tokenize_prompt(tokenizer, cached_text);

  messages.push_back({"assistant", reply});
  messages.push_back({"user", "And 7*7?"});
  const std::string prompt = chat_template.render(messages, true, std::nullopt);
  ASSERT_EQ(prompt.find("7 times 6"), std::string::npos) << "the template drops old reasoning";

  const PromptPlan plan = plan_prompt(tokenizer, cached, cached_text, prompt);
  EXPECT_TRUE(plan.reset);
  EXPECT_EQ(plan.n_reused, 0u);
  EXPECT_EQ(plan.tokens, tokenize_prompt(tokenizer, prompt));
}

TEST(PromptPlanTest, SentencePieceFallsBackToWholePrompt) {
  // encode() puts a space in front of SentencePiece text, so the added text cannot be tokenized
  // on its own. The plan must tokenize the whole prompt and still reuse the common tokens.
  const LoadedTokenizer loaded = load_tokenizer("models/stories260K.gguf");
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::string first = "Once upon a time.";
  const std::vector<int32_t> cached = tokenize_prompt(tokenizer, first);
  const std::string prompt = first + "\nThe end.";
  const PromptPlan plan = plan_prompt(tokenizer, cached, first, prompt);
  const std::vector<int32_t> whole = tokenize_prompt(tokenizer, prompt);
  if (plan.reset) {
    EXPECT_EQ(plan.tokens, whole);
  } else {
    EXPECT_EQ(
        concat(std::vector<int32_t>(cached.begin(), cached.begin() + plan.n_reused), plan.tokens),
        whole);
  }
  EXPECT_EQ(whole.front(), tokenizer.bos()) << "BOS is added once";
}

TEST(ChatSessionTest, SecondTurnEvaluatesOnlyNewTokens) {
  auto model = Model::load(test::fixture(kQwenModel));
  const auto tokenizer = Tokenizer::from_gguf(model->file());
  SessionOptions session_options;
  session_options.n_ctx = 512;
  session_options.n_threads = 2;
  Session session(*model, session_options);
  SamplerParams params;
  params.seed = 5;
  Sampler sampler(params);
  Generator generator(session, sampler, *tokenizer, 512);
  ChatOptions options;
  options.system_prompt = "Be brief.";
  options.max_tokens = 8;
  ChatSession chat(generator, *tokenizer, ChatTemplate::from_gguf(model->file(), *tokenizer),
                   options);

  std::vector<int32_t> streamed;
  const ChatTurn first = chat.respond("Hello!", [&](int32_t token) { streamed.push_back(token); });
  EXPECT_FALSE(first.reset);
  EXPECT_EQ(first.n_reused, 0u);
  EXPECT_GT(first.n_evaluated, 10u);
  EXPECT_EQ(first.n_generated, streamed.size());
  const size_t after_first = generator.tokens().size();

  const ChatTurn second = chat.respond("Tell me more.", [](int32_t) {});
  ASSERT_FALSE(second.reset) << "reply 1 was: " << first.reply;
  EXPECT_EQ(second.n_reused, after_first);
  // The new user turn adds "<|im_end|>\n<|im_start|>user\nTell me more.<|im_end|>\n
  // <|im_start|>assistant\n" and at most the last token of a reply cut at the limit.
  EXPECT_LT(second.n_evaluated, 20u);
  EXPECT_EQ(generator.stats().n_prompt,
            static_cast<int64_t>(first.n_evaluated + second.n_evaluated));

  ASSERT_EQ(chat.messages().size(), 5u);
  EXPECT_EQ(chat.messages()[0].role, "system");
  EXPECT_EQ(chat.messages()[2].content, first.reply);
  EXPECT_EQ(chat.messages()[4].role, "assistant");
}

}  // namespace
}  // namespace hllm
