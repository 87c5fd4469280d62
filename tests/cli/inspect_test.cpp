// Runs the built `hllm inspect` on the fixture models, the vocabulary-only files and broken files.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace hllm {
namespace {

using nlohmann::json;

const std::vector<std::string> kModels = {
    "models/qwen3next-tiny-f32.gguf",  "models/qwen3next-tiny-legacy-f16.gguf",
    "models/qwen3next-tiny-q8_0.gguf", "models/qwen3next-tiny-q4_k_m.gguf",
    "models/stories260K.gguf",         "models/llama-2-tiny-random.gguf",
};
const std::vector<std::string> kVocabularies = {
    "tokenizer/qwen3-vocab.gguf",
    "tokenizer/llama-spm-vocab.gguf",
};

test::CommandResult inspect(const std::string& path, const std::string& flags = "") {
  return test::run_command(test::hllm_binary() + " inspect '" + path + "' " + flags);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

json inspect_json(const std::string& path) {
  const test::CommandResult result = inspect(path, "--json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return json::parse(result.out);
}

TEST(InspectCommand, FixtureModelsInspectCleanly) {
  for (const std::string& name : kModels) {
    SCOPED_TRACE(name);
    const test::CommandResult result = inspect(test::fixture(name));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "GGUF version 3")) << result.out;
    EXPECT_TRUE(contains(result.out, "findings: none")) << result.out;
    EXPECT_TRUE(contains(result.out, "0 missing, 0 mismatched, 0 unclaimed")) << result.out;
  }
}

TEST(InspectCommand, QwenLayoutsAndPatterns) {
  const test::CommandResult split = inspect(test::fixture("models/qwen3next-tiny-f32.gguf"));
  EXPECT_TRUE(contains(split.out, "architecture: qwen3next")) << split.out;
  EXPECT_TRUE(contains(split.out, "layout: split attn_qkv + attn_gate")) << split.out;
  EXPECT_TRUE(contains(split.out, "pattern: RRRA")) << split.out;

  const test::CommandResult legacy =
      inspect(test::fixture("models/qwen3next-tiny-legacy-f16.gguf"));
  EXPECT_TRUE(contains(legacy.out, "layout: fused ssm_in")) << legacy.out;
  EXPECT_TRUE(contains(legacy.out, "pattern: RARA")) << legacy.out;
  EXPECT_TRUE(contains(legacy.out, "recurrent layers: 0, 2")) << legacy.out;
}

TEST(InspectCommand, LongArraysAbbreviated) {
  const test::CommandResult result = inspect(test::fixture("models/stories260K.gguf"));
  EXPECT_TRUE(contains(result.out, "tokenizer.ggml.tokens = [\"<unk>\", \"<s>\", \"</s>\""))
      << result.out;
  EXPECT_TRUE(contains(result.out, "(512 items)")) << result.out;
  EXPECT_TRUE(contains(result.out, "blk.4.ffn_down.weight")) << result.out;
}

TEST(InspectCommand, NamesFileType) {
  const test::CommandResult result = inspect(test::fixture("models/qwen3next-tiny-q4_k_m.gguf"));
  EXPECT_TRUE(contains(result.out, "file type: Q4_K - Medium")) << result.out;
}

TEST(InspectCommand, JsonForEveryModel) {
  for (const std::string& name : kModels) {
    SCOPED_TRACE(name);
    const json doc = inspect_json(test::fixture(name));
    EXPECT_EQ(doc["header"]["version"], 3);
    EXPECT_EQ(doc["header"]["tensor_count"], doc["tensors"].size());
    EXPECT_EQ(doc["header"]["metadata_count"], doc["metadata"].size());
    EXPECT_TRUE(doc["header"]["file_type"].is_string()) << doc["header"];
    const json& model = doc["model"];
    EXPECT_TRUE(model["has_weights"].get<bool>());
    EXPECT_EQ(model["errors"], 0) << model["findings"].dump();
    EXPECT_TRUE(model["findings"].empty()) << model["findings"].dump();
    EXPECT_EQ(model["matched_tensors"], doc["tensors"].size());
    EXPECT_TRUE(model["unclaimed"].empty());
  }
}

TEST(InspectCommand, JsonQwenLayouts) {
  const json split = inspect_json(test::fixture("models/qwen3next-tiny-q8_0.gguf"))["model"];
  EXPECT_EQ(split["architecture"], "qwen3next");
  EXPECT_EQ(split["layout"], "split attn_qkv + attn_gate");
  EXPECT_EQ(split["recurrent_layers"], json::array({0, 1, 2}));
  EXPECT_EQ(split["hyperparameters"]["ssm_n_v_heads"], 4);
  EXPECT_EQ(split["hyperparameters"]["rms_eps"], 1e-6);

  const json legacy = inspect_json(test::fixture("models/qwen3next-tiny-legacy-f16.gguf"))["model"];
  EXPECT_EQ(legacy["layout"], "fused ssm_in");
  EXPECT_EQ(legacy["recurrent_layers"], json::array({0, 2}));
  EXPECT_EQ(legacy["layers"][1], "gated attention");
}

TEST(InspectCommand, JsonArraysCarryLength) {
  const json doc = inspect_json(test::fixture("models/stories260K.gguf"));
  bool found = false;
  for (const json& entry : doc["metadata"]) {
    if (entry["key"] != "tokenizer.ggml.tokens") continue;
    found = true;
    EXPECT_EQ(entry["length"], 512);
    EXPECT_EQ(entry["element_type"], "string");
    EXPECT_EQ(entry["value"].size(), 8u);
    EXPECT_EQ(entry["value"][1], "<s>");
  }
  EXPECT_TRUE(found) << "tokenizer.ggml.tokens missing from the JSON metadata";
}

TEST(InspectCommand, VocabularyOnlyFiles) {
  for (const std::string& name : kVocabularies) {
    SCOPED_TRACE(name);
    const test::CommandResult result = inspect(test::fixture(name));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "weights: none")) << result.out;

    const json doc = inspect_json(test::fixture(name));
    EXPECT_FALSE(doc["model"]["has_weights"].get<bool>());
    EXPECT_TRUE(doc["tensors"].empty());
    EXPECT_EQ(doc["model"]["errors"], 0);
  }
}

TEST(InspectCommand, NotGgufFails) {
  const std::string path = test::temp_dir() + "/not-a-model.gguf";
  std::ofstream(path) << "hello, this is text";
  const test::CommandResult result = inspect(path);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "not a GGUF file")) << result.err;
}

TEST(InspectCommand, MissingFileFails) {
  const test::CommandResult result = inspect(test::temp_dir() + "/absent.gguf");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "absent.gguf")) << result.err;
}

// A copy of stories260K with one tensor renamed (same length, so offsets stay valid): the
// registry must report the original as missing and the new name as unclaimed, and exit non-zero.
TEST(InspectCommand, RenamedTensorReported) {
  std::string bytes = test::read_file(test::fixture("models/stories260K.gguf"));
  const size_t at = bytes.find("blk.0.attn_k.weight");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 19, "blk.0.attn_x.weight");
  const std::string path = test::temp_dir() + "/renamed.gguf";
  std::ofstream(path, std::ios::binary) << bytes;

  const test::CommandResult result = inspect(path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.out, "required tensor blk.0.attn_k.weight is missing")) << result.out;
  EXPECT_TRUE(contains(result.out, "blk.0.attn_x.weight is not used")) << result.out;
  EXPECT_TRUE(contains(result.err, "cannot be loaded: 1 error")) << result.err;

  const json doc = json::parse(inspect(path, "--json").out);
  EXPECT_EQ(doc["model"]["missing"], json::array({"blk.0.attn_k.weight"}));
  EXPECT_EQ(doc["model"]["unclaimed"], json::array({"blk.0.attn_x.weight"}));
}

}  // namespace
}  // namespace hllm
