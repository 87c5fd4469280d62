// hllm run: continues a prompt with the model and streams the text to stdout as it is generated.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

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

struct RunOptions {
  RuntimeOptions runtime;
  SamplingOptions sampling;
  std::string prompt;
  std::string prompt_path;
  bool parse_special = false;
  bool echo = false;
};

std::string read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open prompt file '{}'", path);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("failed reading prompt file '{}'", path);
  return text.str();
}

void write_text(const std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void print_speed(const char* what, int64_t tokens, double seconds) {
  const double rate = seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0;
  std::fprintf(stderr, "%s: %lld tokens in %.3f s (%.2f tokens/s)\n", what,
               static_cast<long long>(tokens), seconds, rate);
}

void run_generation(const RunOptions& options) {
  // The prompt file is read as it is, final newline included.
  const std::string prompt =
      options.prompt_path.empty() ? options.prompt : read_prompt_file(options.prompt_path);
  if (prompt.empty()) {
    fail("the prompt is empty: pass the text with -p or a file with -f{}",
         options.prompt_path.empty() ? "" : fmt::format(" ('{}' is empty)", options.prompt_path));
  }
  // Checked before the model loads, so a bad value fails fast.
  Sampler sampler(resolve_sampling(options.sampling));

  LoadedModel loaded = load_model(options.runtime);
  const auto tokenizer = Tokenizer::from_gguf(loaded.model->file());
  const std::vector<int32_t> tokens =
      tokenizer->encode(prompt, /*add_special=*/true, options.parse_special);
  log::debug("prompt: {} tokens", tokens.size());

  Generator generator(*loaded.session, sampler, *tokenizer, options.runtime.n_batch);
  if (options.echo) write_text(prompt);
  generator.evaluate(tokens);

  StreamDecoder decoder(*tokenizer);
  generator.generate(options.sampling.max_tokens,
                     [&](int32_t token) { write_text(decoder.push(token)); });
  write_text(decoder.flush());
  if (generator.last_stop() == StopReason::ContextFull) {
    log::warn("generation stopped because the context of {} tokens is full",
              loaded.session->n_ctx());
  }

  const GenerationStats& stats = generator.stats();
  std::fprintf(stderr, "\n");
  print_speed("prompt", stats.n_prompt, stats.prompt_seconds);
  print_speed("generation", stats.n_generated, stats.generation_seconds);
}

const CommandRegistration kRegistration("run", [](CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run", "Continue a prompt and stream the generated text to stdout; speeds go to stderr");
  add_runtime_options(*command, options->runtime);
  CLI::Option* prompt = command->add_option("-p,--prompt", options->prompt, "Prompt text");
  command->add_option("-f,--file", options->prompt_path, "Read the prompt from this file")
      ->excludes(prompt);
  add_sampling_options(*command, options->sampling);
  command->add_flag("--parse-special", options->parse_special,
                    "Turn the text of special tokens in the prompt (such as <|im_start|>) into "
                    "those tokens");
  command->add_flag("--echo", options->echo, "Print the prompt before the continuation");
  command->callback([options] { run_generation(*options); });
});

}  // namespace

}  // namespace hllm::tools
