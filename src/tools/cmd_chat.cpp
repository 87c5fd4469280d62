// hllm chat: an interactive conversation that applies the model's chat template. Each line on
// stdin is one user turn; the reply streams to stdout. End of input ends the chat.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "runtime/chat.h"
#include "runtime/generator.h"
#include "runtime/sampler.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"
#include "tools/command.h"
#include "tools/common_options.h"
#include "tools/sampling_options.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm::tools {

namespace {

struct ChatCommandOptions {
  RuntimeOptions runtime;
  SamplingOptions sampling;
  std::string system_prompt;
  bool no_thinking = false;
};

void write_text(const std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

double per_second(int64_t tokens, double seconds) {
  return seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0;
}

void run_chat(const ChatCommandOptions& options) {
  Sampler sampler(resolve_sampling(options.sampling));
  LoadedModel loaded = load_model(options.runtime);
  const auto tokenizer = Tokenizer::from_gguf(loaded.model->file());
  // A model without a template is rejected rather than given a made-up format, because the
  // model was not trained on such a format.
  ChatTemplate chat_template = ChatTemplate::from_gguf(loaded.model->file(), *tokenizer);

  ChatOptions chat_options;
  chat_options.system_prompt = options.system_prompt;
  if (options.no_thinking) chat_options.enable_thinking = false;
  chat_options.max_tokens = options.sampling.max_tokens;

  Generator generator(*loaded.session, sampler, *tokenizer, options.runtime.n_batch);
  ChatSession chat(generator, *tokenizer, std::move(chat_template), chat_options);

  const bool interactive = isatty(STDIN_FILENO) != 0;
  std::string line;
  int turn_number = 0;
  while (true) {
    if (interactive) write_text("> ");
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;

    ++turn_number;
    generator.reset_stats();
    StreamDecoder decoder(*tokenizer);
    const ChatTurn turn =
        chat.respond(line, [&](int32_t token) { write_text(decoder.push(token)); });
    write_text(decoder.flush() + "\n");

    const GenerationStats& stats = generator.stats();
    log::info(
        "turn {}: {} prompt tokens reused, {} evaluated ({:.2f} tokens/s){}; {} generated "
        "({:.2f} tokens/s)",
        turn_number, turn.n_reused, turn.n_evaluated,
        per_second(stats.n_prompt, stats.prompt_seconds),
        turn.reset ? " after clearing the sequence" : "", turn.n_generated,
        per_second(stats.n_generated, stats.generation_seconds));
    if (turn.stop == StopReason::ContextFull) {
      fail(
          "the conversation filled the context of {} tokens; start again with a larger "
          "--ctx-size",
          loaded.session->n_ctx());
    }
  }
  if (std::cin.bad()) fail("reading standard input failed");
}

const CommandRegistration kRegistration("chat", [](CLI::App& app) {
  auto options = std::make_shared<ChatCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "chat",
      "Chat with the model through its chat template: one user turn per line of stdin, replies "
      "streamed to stdout, end of input ends the chat");
  add_runtime_options(*command, options->runtime);
  command->add_option("--system", options->system_prompt, "System message at the start");
  command->add_flag("--no-thinking", options->no_thinking,
                    "Pass enable_thinking=false to the template (models that reason first)");
  add_sampling_options(*command, options->sampling);
  command->callback([options] { run_chat(*options); });
});

}  // namespace

}  // namespace hllm::tools
