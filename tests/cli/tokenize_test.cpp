// Runs the built `hllm tokenize` on the fixture models.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace hllm {
namespace {

std::string tokenize_command(const std::string& model, const std::string& flags) {
  return test::hllm_binary() + " tokenize -m '" + model + "' " + flags;
}

// Writes a vocabulary-only GGUF file (version 3, no tensors) by hand, so that this test needs no
// library: a byte-level BPE vocabulary of "h", "i", "hi" with the merge "h i" and the given
// pre-tokenizer name.
std::string write_small_vocabulary(const std::string& pre) {
  std::string bytes = "GGUF";
  const auto put_u32 = [&](uint32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); };
  const auto put_u64 = [&](uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), 8); };
  const auto put_string = [&](const std::string& s) {
    put_u64(s.size());
    bytes += s;
  };
  const uint32_t kString = 8;
  const uint32_t kArray = 9;
  const auto put_string_key = [&](const std::string& key, const std::string& value) {
    put_string(key);
    put_u32(kString);
    put_string(value);
  };
  const auto put_string_array = [&](const std::string& key, const std::vector<std::string>& items) {
    put_string(key);
    put_u32(kArray);
    put_u32(kString);
    put_u64(items.size());
    for (const auto& item : items)
      put_string(item);
  };

  put_u32(3);  // version
  put_u64(0);  // tensors
  put_u64(4);  // metadata entries
  put_string_key("tokenizer.ggml.model", "gpt2");
  put_string_key("tokenizer.ggml.pre", pre);
  put_string_array("tokenizer.ggml.tokens", {"h", "i", "hi"});
  put_string_array("tokenizer.ggml.merges", {"h i"});

  const std::string path = test::temp_dir() + "/small-vocabulary.gguf";
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

std::string join_ids(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ' ';
    out += std::to_string(id);
  }
  return out;
}

TEST(TokenizeCommand, IdsMatchReference) {
  const std::string prompt = test::read_file(test::fixture("reference/prompt.txt"));
  for (const std::string name : {"qwen3next-tiny-f32", "stories260K"}) {
    const auto result = test::run_command(
        tokenize_command(test::fixture("models/" + name + ".gguf"), "--ids"), prompt);
    ASSERT_EQ(result.exit_code, 0) << name << ": " << result.err;
    const std::vector<int> expected =
        test::read_ids(test::fixture("reference/" + name + ".tokens.txt"));
    EXPECT_EQ(result.out, join_ids(expected) + "\n") << name;
  }
}

TEST(TokenizeCommand, NoBosDropsBos) {
  const std::string model = test::fixture("models/stories260K.gguf");
  const auto with_bos = test::run_command(tokenize_command(model, "--ids"), "Hello");
  const auto without_bos = test::run_command(tokenize_command(model, "--ids --no-bos"), "Hello");
  ASSERT_EQ(with_bos.exit_code, 0) << with_bos.err;
  ASSERT_EQ(without_bos.exit_code, 0) << without_bos.err;
  EXPECT_EQ(with_bos.out, "1 " + without_bos.out);
}

TEST(TokenizeCommand, PrintsPieces) {
  const std::string model = test::fixture("tokenizer/qwen3-vocab.gguf");
  const auto result = test::run_command(tokenize_command(model, ""), "Hello world\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "   9707 -> 'Hello'\n   1879 -> ' world'\n    198 -> '\\n'\n");
}

TEST(TokenizeCommand, ParseSpecial) {
  const std::string model = test::fixture("tokenizer/qwen3-vocab.gguf");
  const auto parsed =
      test::run_command(tokenize_command(model, "--ids --parse-special"), "<|im_start|>user");
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
  EXPECT_EQ(parsed.out, "151644 872\n");
  const auto plain = test::run_command(tokenize_command(model, "--ids"), "<|im_start|>user");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("151644"), std::string::npos) << plain.out;
}

TEST(TokenizeCommand, UnknownPreTokenizer) {
  const std::string model = write_small_vocabulary("bogus-pre");
  const auto rejected = test::run_command(tokenize_command(model, "--ids"), "hi");
  EXPECT_NE(rejected.exit_code, 0);
  EXPECT_NE(rejected.err.find("'bogus-pre'"), std::string::npos) << rejected.err;

  const auto fallback =
      test::run_command(tokenize_command(model, "--ids --pre-fallback qwen2"), "hi");
  ASSERT_EQ(fallback.exit_code, 0) << fallback.err;
  EXPECT_EQ(fallback.out, "2\n");
}

TEST(TokenizeCommand, MissingModel) {
  const auto result = test::run_command(tokenize_command("/nonexistent/model.gguf", "--ids"), "");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/model.gguf"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace hllm
