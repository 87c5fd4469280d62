#include "runtime/chat.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "text/jinja/template.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm {

namespace {

// The text of a special token, or an empty string when the vocabulary has none.
std::string special_text(const Tokenizer& tokenizer, int32_t token) {
  if (token < 0 || token >= tokenizer.n_vocab()) return "";
  return tokenizer.token_text(token);
}

// The text that tokens stand for, special tokens included, exactly as the sequence saw them.
std::string pieces_of(const Tokenizer& tokenizer, std::span<const int32_t> tokens) {
  std::string text;
  for (int32_t token : tokens)
    text += tokenizer.token_piece(token, /*render_special=*/true);
  return text;
}

const char* stop_name(StopReason reason) {
  switch (reason) {
    case StopReason::EndOfGeneration:
      return "end of generation";
    case StopReason::TokenLimit:
      return "token limit";
    case StopReason::ContextFull:
      return "context full";
  }
  return "unknown";
}

}  // namespace

ChatTemplate ChatTemplate::from_gguf(const GgufFile& file, const Tokenizer& tokenizer) {
  const std::optional<std::string> source = file.find_string("tokenizer.chat_template");
  if (!source) {
    fail(
        "model '{}' has no chat template (tokenizer.chat_template); use 'hllm run' for plain "
        "text completion",
        file.path());
  }
  return ChatTemplate(*source, special_text(tokenizer, tokenizer.bos()),
                      special_text(tokenizer, tokenizer.eos()));
}

ChatTemplate::ChatTemplate(const std::string& source, std::string bos_text, std::string eos_text)
    : template_(std::make_unique<jinja::Template>(source, "chat template")),
      bos_text_(std::move(bos_text)),
      eos_text_(std::move(eos_text)) {}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                 std::optional<bool> enable_thinking) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage& message : messages) {
    list.push_back({{"role", message.role}, {"content", message.content}});
  }
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = std::move(list);
  // Hugging Face passes tools=None when there are none; templates test "tools is not none".
  context["tools"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  if (enable_thinking) context["enable_thinking"] = *enable_thinking;
  context["bos_token"] = bos_text_;
  context["eos_token"] = eos_text_;
  return template_->render(context);
}

std::vector<int32_t> tokenize_prompt(const Tokenizer& tokenizer, std::string_view prompt) {
  std::vector<int32_t> tokens =
      tokenizer.encode(prompt, /*add_special=*/false, /*parse_special=*/true);
  // Templates such as Llama's write the BOS text themselves; a second BOS would change the input.
  const bool has_bos = !tokens.empty() && tokens.front() == tokenizer.bos();
  if (tokenizer.add_bos() && tokenizer.bos() >= 0 && !has_bos) {
    tokens.insert(tokens.begin(), tokenizer.bos());
  }
  return tokens;
}

PromptPlan plan_prompt(const Tokenizer& tokenizer, std::span<const int32_t> cached_tokens,
                       std::string_view cached_text, std::string_view prompt) {
  PromptPlan plan;
  if (!cached_tokens.empty() && prompt.starts_with(cached_text)) {
    const std::string_view added = prompt.substr(cached_text.size());
    std::vector<int32_t> added_tokens =
        tokenizer.encode(added, /*add_special=*/false, /*parse_special=*/true);
    // A SentencePiece vocabulary puts a space in front of any text it encodes. Then the pieces
    // differ from the text, and only a tokenization of the whole prompt is right.
    if (pieces_of(tokenizer, added_tokens) == added) {
      plan.n_reused = cached_tokens.size();
      plan.tokens = std::move(added_tokens);
      return plan;
    }
  }

  std::vector<int32_t> tokens = tokenize_prompt(tokenizer, prompt);
  const auto mismatch =
      std::mismatch(cached_tokens.begin(), cached_tokens.end(), tokens.begin(), tokens.end());
  const auto n_common = static_cast<size_t>(mismatch.first - cached_tokens.begin());
  if (n_common == cached_tokens.size()) {
    plan.n_reused = n_common;
    plan.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(n_common), tokens.end());
  } else {
    plan.reset = true;
    plan.tokens = std::move(tokens);
  }
  return plan;
}

ChatSession::ChatSession(Generator& generator, const Tokenizer& tokenizer,
                         ChatTemplate chat_template, ChatOptions options)
    : generator_(generator),
      tokenizer_(tokenizer),
      template_(std::move(chat_template)),
      options_(std::move(options)) {
  HLLM_CHECK(generator.tokens().empty(),
             "a chat starts on an empty sequence, but this one holds {} tokens",
             generator.tokens().size());
  if (!options_.system_prompt.empty()) messages_.push_back({"system", options_.system_prompt});
}

ChatTurn ChatSession::respond(std::string_view user_text,
                              const std::function<void(int32_t)>& on_token) {
  messages_.push_back({"user", std::string(user_text)});
  const std::string prompt =
      template_.render(messages_, /*add_generation_prompt=*/true, options_.enable_thinking);
  PromptPlan plan = plan_prompt(tokenizer_, generator_.tokens(), cached_text_, prompt);

  ChatTurn turn;
  turn.reset = plan.reset;
  turn.n_reused = plan.n_reused;
  turn.n_evaluated = plan.tokens.size();
  if (plan.reset) {
    log::debug(
        "chat: the new prompt does not extend the {} tokens in the session (the template "
        "rendered earlier turns differently); clearing the sequence and evaluating all {} tokens",
        generator_.tokens().size(), plan.tokens.size());
    generator_.clear();
    cached_text_.clear();
  } else {
    log::debug("chat: reusing {} tokens in the session, evaluating {} new prompt tokens",
               plan.n_reused, plan.tokens.size());
  }
  generator_.evaluate(plan.tokens);
  cached_text_ = prompt;

  const size_t n_before = generator_.tokens().size();
  const std::vector<int32_t> generated = generator_.generate(options_.max_tokens, on_token);
  // The last token of a reply cut short was not evaluated; the next prompt evaluates its text.
  const size_t n_evaluated = generator_.tokens().size() - n_before;
  cached_text_ += pieces_of(tokenizer_, std::span(generated).first(n_evaluated));

  turn.reply = pieces_of(tokenizer_, generated);
  turn.n_generated = generated.size();
  turn.stop = generator_.last_stop();
  messages_.push_back({"assistant", turn.reply});
  log::debug("chat: generated {} tokens, stopped at {}", turn.n_generated, stop_name(turn.stop));
  return turn;
}

}  // namespace hllm
