// hllm template: renders the model's chat template for a conversation and prints the prompt.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>

#include "formats/gguf.h"
#include "text/jinja/template.h"
#include "tools/command.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

struct TemplateArgs {
  std::string model;
  std::string messages_path;
  bool add_generation_prompt = false;
  bool no_thinking = false;
};

nlohmann::ordered_json read_request(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open messages file '{}'", path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::ordered_json request;
  try {
    request = nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail("messages file '{}' is not valid JSON: {}", path, e.what());
  }
  if (!request.is_object()) fail("messages file '{}' must hold a JSON object", path);
  if (!request.contains("messages") || !request["messages"].is_array()) {
    fail("messages file '{}' has no 'messages' list", path);
  }
  return request;
}

// The text of a special token named by an id key such as tokenizer.ggml.bos_token_id, or an
// empty string when the model has none.
std::string special_token_text(const GgufFile& file, const char* id_key) {
  const std::optional<int64_t> id = file.find_int(id_key);
  const GgufValue* tokens = file.find("tokenizer.ggml.tokens");
  if (!id || tokens == nullptr) return "";
  const auto* items = std::get_if<GgufValue::Array>(&tokens->data);
  if (items == nullptr || *id < 0 || static_cast<size_t>(*id) >= items->size()) {
    fail("'{}' of {} is {}, which is not a token of tokenizer.ggml.tokens", id_key, file.path(),
         *id);
  }
  const auto* text = std::get_if<std::string>(&(*items)[static_cast<size_t>(*id)].data);
  return text != nullptr ? *text : "";
}

void run_template(const TemplateArgs& args) {
  const auto file = GgufFile::open(args.model);
  const std::optional<std::string> source = file->find_string("tokenizer.chat_template");
  if (!source) fail("model '{}' has no tokenizer.chat_template", args.model);
  const jinja::Template chat_template(*source, "chat template");

  const nlohmann::ordered_json request = read_request(args.messages_path);
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = request["messages"];
  // Hugging Face passes tools=None when there are none, so that "tools is not none"
  // distinguishes it from a list.
  context["tools"] = request.contains("tools") ? request["tools"] : nlohmann::ordered_json();
  context["add_generation_prompt"] = request.value("add_generation_prompt", false);
  if (args.add_generation_prompt) context["add_generation_prompt"] = true;
  if (request.contains("enable_thinking")) context["enable_thinking"] = request["enable_thinking"];
  if (args.no_thinking) context["enable_thinking"] = false;
  context["bos_token"] = special_token_text(*file, "tokenizer.ggml.bos_token_id");
  context["eos_token"] = special_token_text(*file, "tokenizer.ggml.eos_token_id");

  const std::string prompt = chat_template.render(context);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
}

const CommandRegistration registration("template", [](CLI::App& app) {
  auto args = std::make_shared<TemplateArgs>();
  CLI::App* command = app.add_subcommand(
      "template",
      "Render the model's chat template (tokenizer.chat_template) for a conversation "
      "and print the prompt text");
  command->add_option("-m,--model", args->model, "GGUF file that holds the chat template")
      ->required();
  command
      ->add_option("--messages", args->messages_path,
                   "JSON file with one object: 'messages', and optionally 'tools', "
                   "'add_generation_prompt' and 'enable_thinking'")
      ->required();
  command->add_flag("--add-generation-prompt", args->add_generation_prompt,
                    "End the prompt with the start of an assistant turn (overrides the file)");
  command->add_flag("--no-thinking", args->no_thinking,
                    "Set enable_thinking to false (overrides the file)");
  command->callback([args] { run_template(*args); });
});

}  // namespace

}  // namespace hllm::tools
