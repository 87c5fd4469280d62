// Chat conversations: messages rendered with the model's chat template, and a prompt that grows
// turn by turn in one sequence, so that each turn evaluates only the tokens it adds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"
#include "runtime/generator.h"
#include "text/tokenizer.h"

namespace hllm {

namespace jinja {
class Template;
}

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
};

class ChatTemplate {
 public:
  // Reads tokenizer.chat_template, and the BOS and EOS texts from the tokenizer. Throws Error
  // when the model has no chat template or the template does not parse.
  static ChatTemplate from_gguf(const GgufFile& file, const Tokenizer& tokenizer);
  ChatTemplate(const std::string& source, std::string bos_text, std::string eos_text);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders messages. enable_thinking is left undefined when empty, so the template's default
  // applies.
  std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt,
                     std::optional<bool> enable_thinking) const;

 private:
  std::unique_ptr<jinja::Template> template_;
  std::string bos_text_;
  std::string eos_text_;
};

// Steps that bring a sequence from the tokens it contains to a new prompt.
struct PromptPlan {
  bool reset = false;           // clear the sequence, then evaluate tokens from position 0
  size_t n_reused = 0;          // tokens of the sequence that stay
  std::vector<int32_t> tokens;  // tokens to evaluate after the reused ones
};

// Tokenizes a whole rendered prompt: special tokens parsed, and BOS in front where the vocabulary
// adds one and the template did not write it already.
std::vector<int32_t> tokenize_prompt(const Tokenizer& tokenizer, std::string_view prompt);

// Plans the evaluation of prompt in a sequence that contains cached_tokens, whose text (special
// tokens rendered) is cached_text. When prompt starts with cached_text, only the rest is tokenized
// and evaluated, so the tokens the model generated stay as they were even where tokenizing their
// text would split it differently. Otherwise the whole prompt is tokenized; if cached_tokens are
// not a prefix of it, the plan resets the sequence, because recurrent state cannot be rewound.
PromptPlan plan_prompt(const Tokenizer& tokenizer, std::span<const int32_t> cached_tokens,
                       std::string_view cached_text, std::string_view prompt);

struct ChatOptions {
  std::string system_prompt;            // empty: no system message
  std::optional<bool> enable_thinking;  // empty: the template's default
  int64_t max_tokens = -1;              // per reply; negative: until end of generation
};

// Outcome of one chat turn.
struct ChatTurn {
  std::string reply;       // the assistant message as stored in the history
  bool reset = false;      // the sequence was cleared and the whole prompt evaluated again
  size_t n_reused = 0;     // prompt tokens already in the session
  size_t n_evaluated = 0;  // prompt tokens evaluated in this turn
  size_t n_generated = 0;
  StopReason stop = StopReason::EndOfGeneration;
};

// One conversation in one sequence. The history keeps each reply as generated, reasoning
// included; the template decides what of it to render in later turns.
class ChatSession {
 public:
  // generator must start on an empty sequence; it and tokenizer must outlive the chat.
  ChatSession(Generator& generator, const Tokenizer& tokenizer, ChatTemplate chat_template,
              ChatOptions options);

  // Adds a user message, evaluates what the prompt adds to the sequence, generates the reply
  // (passing each token to on_token) and adds it to the history.
  ChatTurn respond(std::string_view user_text, const std::function<void(int32_t)>& on_token);

  const std::vector<ChatMessage>& messages() const { return messages_; }

 private:
  Generator& generator_;
  const Tokenizer& tokenizer_;
  ChatTemplate template_;
  ChatOptions options_;
  std::vector<ChatMessage> messages_;
  std::string cached_text_;  // text of generator_.tokens(), special tokens rendered
};

}  // namespace hllm
