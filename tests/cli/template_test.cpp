// Runs the built `hllm template` on the Qwen3 chat template and compares the prompts with the
// ones that Jinja2 renders under Hugging Face's settings (the chat fixture cases).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "support/fixtures.h"

namespace hllm {
namespace {

// Writes one request object to a fresh temporary file and returns its path.
std::string write_request(const nlohmann::ordered_json& request, const std::string& name) {
  const std::string path = test::temp_dir() + "/" + name + ".json";
  std::ofstream out(path, std::ios::binary);
  out << request.dump();
  return path;
}

std::string template_command(const std::string& model, const std::string& messages_path,
                             const std::string& flags = "") {
  return test::hllm_binary() + " template -m '" + model + "' --messages '" + messages_path + "' " +
         flags;
}

nlohmann::ordered_json read_cases() {
  return nlohmann::ordered_json::parse(
      test::read_file(test::fixture("chat/qwen3-chat-cases.json")));
}

// The request part of a fixture case: everything but its name and expected text.
nlohmann::ordered_json request_of(const nlohmann::ordered_json& fixture_case) {
  nlohmann::ordered_json request = fixture_case;
  request.erase("name");
  request.erase("expected");
  return request;
}

TEST(TemplateCommand, RendersFixtureCases) {
  const nlohmann::ordered_json cases = read_cases();
  ASSERT_FALSE(cases.empty());
  for (const std::string model : {"tokenizer/qwen3-vocab.gguf", "models/qwen3next-tiny-f32.gguf"}) {
    for (const auto& fixture_case : cases) {
      const std::string name = fixture_case["name"].get<std::string>();
      const std::string path = write_request(request_of(fixture_case), name);
      const auto result = test::run_command(template_command(test::fixture(model), path));
      ASSERT_EQ(result.exit_code, 0) << model << " " << name << ": " << result.err;
      EXPECT_EQ(result.out, fixture_case["expected"].get<std::string>()) << model << " " << name;
    }
  }
}

TEST(TemplateCommand, FlagsOverrideFile) {
  nlohmann::ordered_json request;
  request["messages"] = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "2+2?"}])");
  request["add_generation_prompt"] = false;
  request["enable_thinking"] = true;
  const std::string path = write_request(request, "flags");
  const std::string model = test::fixture("tokenizer/qwen3-vocab.gguf");

  const auto plain = test::run_command(template_command(model, path));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "<|im_start|>user\n2+2?<|im_end|>\n");

  const auto prompted = test::run_command(template_command(model, path, "--add-generation-prompt"));
  ASSERT_EQ(prompted.exit_code, 0) << prompted.err;
  EXPECT_EQ(prompted.out, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");

  const auto no_thinking =
      test::run_command(template_command(model, path, "--add-generation-prompt --no-thinking"));
  ASSERT_EQ(no_thinking.exit_code, 0) << no_thinking.err;
  EXPECT_EQ(no_thinking.out,
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(TemplateCommand, ReportsBadMessagesFile) {
  const std::string model = test::fixture("tokenizer/qwen3-vocab.gguf");
  const auto missing =
      test::run_command(template_command(model, test::temp_dir() + "/absent.json"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("cannot open messages file"), std::string::npos) << missing.err;

  const std::string no_messages = write_request(nlohmann::ordered_json::object(), "empty");
  const auto empty = test::run_command(template_command(model, no_messages));
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("has no 'messages' list"), std::string::npos) << empty.err;
}

TEST(TemplateCommand, ReportsTemplateErrors) {
  // The Qwen3 template calls startswith on every user message's content, so null content is an
  // error that names the template position, as in Jinja2.
  nlohmann::ordered_json request;
  request["messages"] = nlohmann::ordered_json::parse(R"([{"role": "user", "content": null}])");
  const std::string path = write_request(request, "null-content");
  const auto result =
      test::run_command(template_command(test::fixture("tokenizer/qwen3-vocab.gguf"), path));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("chat template:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("'None' has no attribute 'startswith'"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace hllm
