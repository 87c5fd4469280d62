// The per-tensor type choice of each file type, on llama.cpp's quantized fixtures and on planned
// synthetic llama and qwen3next models.
#include "models/quant_mix.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "models/registry.h"
#include "models/synth.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {

// Prints types by name in failure messages.
void PrintTo(GgmlType type, std::ostream* out) {
  *out << type_name(type);
}

namespace {

using test::fixture;

// A llama of 8 layers whose rows all fill 256-element blocks.
SynthPlan small_llama(bool tie_output = false) {
  SynthConfig config = synth_config_from_preset("llama-7b");
  set_synth_hparam(config, "block_count", "8");
  set_synth_hparam(config, "embedding_length", "256");
  set_synth_hparam(config, "attention.head_count", "4");
  set_synth_hparam(config, "attention.head_count_kv", "2");
  set_synth_hparam(config, "feed_forward_length", "512");
  set_synth_hparam(config, "vocab_size", "300");
  config.file_type = FileType::AllF32;
  config.tie_output = tie_output;
  return plan_synth_model(config);
}

// Returns the chosen type per tensor name.
std::map<std::string, GgmlType> choose_by_name(FileType file_type, const SynthPlan& plan,
                                               const MixOptions& options = {}) {
  const std::vector<MixTensor> tensors = synth_mix_tensors(plan);
  const std::vector<TypeChoice> choices =
      choose_types(file_type, synth_mix_model(plan), tensors, options);
  std::map<std::string, GgmlType> by_name;
  for (size_t i = 0; i < tensors.size(); ++i)
    by_name[tensors[i].name] = choices[i].type;
  return by_name;
}

std::string name(TensorId id, int layer = -1) {
  return tensor_name(id, layer);
}

// Compares the mix chosen for a fixture's F32 source with the types that llama-quantize stored.
void expect_fixture_types(FileType file_type, const std::string& reference) {
  const auto source = GgufFile::open(fixture("models/qwen3next-tiny-f32.gguf"));
  const auto quantized = GgufFile::open(fixture(reference));
  const ModelSpec spec = inspect_model(*source);
  const std::vector<MixTensor> tensors = mix_tensors(spec);
  const std::vector<TypeChoice> choices = choose_types(file_type, mix_model(spec), tensors);
  ASSERT_EQ(tensors.size(), quantized->tensors().size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo* expected = quantized->find_tensor(tensors[i].name);
    ASSERT_NE(expected, nullptr) << tensors[i].name;
    EXPECT_EQ(type_name(choices[i].type), type_name(expected->type))
        << tensors[i].name << ": chosen type differs from llama-quantize's " << reference;
  }
}

TEST(FileTypeTest, NamesAndNumbers) {
  EXPECT_EQ(parse_file_type("q4_k_m"), FileType::MostlyQ4_K_M);
  EXPECT_EQ(parse_file_type("Q4_K"), FileType::MostlyQ4_K_M);
  EXPECT_EQ(parse_file_type("Q5_K"), FileType::MostlyQ5_K_M);
  EXPECT_EQ(parse_file_type("bf16"), FileType::MostlyBF16);
  EXPECT_FALSE(parse_file_type("Q3_K_XL").has_value());
  EXPECT_FALSE(parse_file_type("").has_value());
  // llama.cpp's llama_ftype numbers, as general.file_type stores them.
  const std::map<std::string, uint32_t> numbers{
      {"F32", 0},     {"F16", 1},   {"Q4_0", 2},    {"Q4_1", 3},    {"Q8_0", 7},
      {"Q5_0", 8},    {"Q5_1", 9},  {"Q4_K_S", 14}, {"Q4_K_M", 15}, {"Q5_K_S", 16},
      {"Q5_K_M", 17}, {"Q6_K", 18}, {"BF16", 32}};
  for (const auto& [text, number] : numbers) {
    const std::optional<FileType> type = parse_file_type(text);
    ASSERT_TRUE(type.has_value()) << text;
    EXPECT_EQ(static_cast<uint32_t>(*type), number) << text;
    EXPECT_EQ(file_type_name(*type), text);
  }
}

TEST(FallbackTypeTest, FieldTable) {
  EXPECT_EQ(fallback_type(GgmlType::Q4_K, 512), GgmlType::Q4_K);
  EXPECT_EQ(fallback_type(GgmlType::Q4_K, 288), GgmlType::Q5_0);
  EXPECT_EQ(fallback_type(GgmlType::Q5_K, 288), GgmlType::Q5_1);
  EXPECT_EQ(fallback_type(GgmlType::Q6_K, 288), GgmlType::Q8_0);
  EXPECT_EQ(fallback_type(GgmlType::Q2_K, 64), GgmlType::Q4_0);
  EXPECT_EQ(fallback_type(GgmlType::Q3_K, 64), GgmlType::Q4_0);
  // Rows that do not fill 32-element blocks either are stored exactly.
  EXPECT_EQ(fallback_type(GgmlType::Q6_K, 100), GgmlType::F16);
  EXPECT_EQ(fallback_type(GgmlType::Q8_0, 100), GgmlType::F16);
  EXPECT_EQ(fallback_type(GgmlType::F16, 7), GgmlType::F16);
}

TEST(QuantMixTest, Qwen3NextQ4KMMatchesLlamaQuantize) {
  expect_fixture_types(FileType::MostlyQ4_K_M, "models/qwen3next-tiny-q4_k_m.gguf");
}

TEST(QuantMixTest, Qwen3NextQ8_0MatchesLlamaQuantize) {
  expect_fixture_types(FileType::MostlyQ8_0, "models/qwen3next-tiny-q8_0.gguf");
}

TEST(QuantMixTest, LlamaQ4KMGivesMoreBitsToSomeLayers) {
  const SynthPlan plan = small_llama();
  const auto types = choose_by_name(FileType::MostlyQ4_K_M, plan);
  EXPECT_EQ(types.at(name(TensorId::Output)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::TokenEmbd)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::OutputNorm)), GgmlType::F32);
  // With 8 layers, the "more bits" layers are the first eighth (0), the last eighth (7) and
  // every third one counted from 1 (3 and 6).
  for (int il = 0; il < 8; ++il) {
    const bool more = il == 0 || il == 3 || il == 6 || il == 7;
    const GgmlType expected = more ? GgmlType::Q6_K : GgmlType::Q4_K;
    EXPECT_EQ(types.at(name(TensorId::AttnV, il)), expected) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::FfnDown, il)), expected) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::AttnQ, il)), GgmlType::Q4_K) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::AttnK, il)), GgmlType::Q4_K) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::AttnOutput, il)), GgmlType::Q4_K) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::FfnGate, il)), GgmlType::Q4_K) << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::AttnNorm, il)), GgmlType::F32) << "layer " << il;
  }
}

TEST(QuantMixTest, LlamaQ5KMUsesQ5KElsewhere) {
  const auto types = choose_by_name(FileType::MostlyQ5_K_M, small_llama());
  EXPECT_EQ(types.at(name(TensorId::Output)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::AttnV, 0)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::AttnV, 1)), GgmlType::Q5_K);
  EXPECT_EQ(types.at(name(TensorId::FfnDown, 7)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::FfnDown, 2)), GgmlType::Q5_K);
  EXPECT_EQ(types.at(name(TensorId::FfnUp, 2)), GgmlType::Q5_K);
}

TEST(QuantMixTest, LlamaQ4KSFirstLayers) {
  const auto types = choose_by_name(FileType::MostlyQ4_K_S, small_llama());
  // Q4_K_S: the first four value projections and the first eighth of the down projections get
  // Q5_K.
  for (int il = 0; il < 8; ++il) {
    EXPECT_EQ(types.at(name(TensorId::AttnV, il)), il < 4 ? GgmlType::Q5_K : GgmlType::Q4_K)
        << "layer " << il;
    EXPECT_EQ(types.at(name(TensorId::FfnDown, il)), il < 1 ? GgmlType::Q5_K : GgmlType::Q4_K)
        << "layer " << il;
  }
}

TEST(QuantMixTest, TiedEmbeddingTakesOutputType) {
  const auto types = choose_by_name(FileType::MostlyQ4_K_M, small_llama(/*tie_output=*/true));
  EXPECT_EQ(types.count(name(TensorId::Output)), 0u);
  EXPECT_EQ(types.at(name(TensorId::TokenEmbd)), GgmlType::Q6_K);
}

TEST(QuantMixTest, LegacyTypesStoreOutputInQ6K) {
  const SynthPlan plan = small_llama();
  const auto q4_0 = choose_by_name(FileType::MostlyQ4_0, plan);
  EXPECT_EQ(q4_0.at(name(TensorId::Output)), GgmlType::Q6_K);
  EXPECT_EQ(q4_0.at(name(TensorId::AttnV, 0)), GgmlType::Q4_0);
  const auto q8_0 = choose_by_name(FileType::MostlyQ8_0, plan);
  EXPECT_EQ(q8_0.at(name(TensorId::Output)), GgmlType::Q8_0);
  const auto f16 = choose_by_name(FileType::MostlyF16, plan);
  EXPECT_EQ(f16.at(name(TensorId::Output)), GgmlType::F16);
  EXPECT_EQ(f16.at(name(TensorId::AttnV, 0)), GgmlType::F16);
  EXPECT_EQ(f16.at(name(TensorId::FfnNorm, 0)), GgmlType::F32);
}

TEST(QuantMixTest, PureKeepsBaseType) {
  MixOptions options;
  options.pure = true;
  const auto types = choose_by_name(FileType::MostlyQ4_K_M, small_llama(), options);
  EXPECT_EQ(types.at(name(TensorId::Output)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::AttnV, 0)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::FfnDown, 7)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::AttnNorm, 0)), GgmlType::F32);
}

TEST(QuantMixTest, FallbackForShortRows) {
  // stories-15m: width 288 and hidden width 768. Rows of 288 elements do not fill 256-element
  // blocks, so the K types fall back; rows of 768 do.
  SynthConfig config = synth_config_from_preset("stories-15m");
  set_synth_hparam(config, "block_count", "2");
  set_synth_hparam(config, "vocab_size", "300");
  config.file_type = FileType::AllF32;
  const SynthPlan plan = plan_synth_model(config);
  const std::vector<MixTensor> tensors = synth_mix_tensors(plan);
  const std::vector<TypeChoice> choices =
      choose_types(FileType::MostlyQ4_K_M, synth_mix_model(plan), tensors);
  std::map<std::string, TypeChoice> by_name;
  for (size_t i = 0; i < tensors.size(); ++i)
    by_name[tensors[i].name] = choices[i];

  const TypeChoice& attn_q = by_name.at(name(TensorId::AttnQ, 1));
  EXPECT_EQ(attn_q.preferred, GgmlType::Q4_K);
  EXPECT_EQ(attn_q.type, GgmlType::Q5_0);
  EXPECT_TRUE(attn_q.fallback);
  // ffn_down has rows of 768: the preferred Q6_K (the last layer uses more bits) fits.
  const TypeChoice& ffn_down = by_name.at(name(TensorId::FfnDown, 1));
  EXPECT_EQ(ffn_down.type, GgmlType::Q6_K);
  EXPECT_FALSE(ffn_down.fallback);
  // An output whose rows do not fit the base type's blocks goes to Q8_0 directly.
  const TypeChoice& output = by_name.at(name(TensorId::Output));
  EXPECT_EQ(output.preferred, GgmlType::Q8_0);
  EXPECT_EQ(output.type, GgmlType::Q8_0);
  EXPECT_FALSE(output.fallback);
}

TEST(QuantMixTest, Qwen3NextRules) {
  // 8 layers, 16 experts: attn_qkv counts as a value projection, and the 8-expert rules do not
  // apply.
  SynthConfig config = synth_config_from_preset("qwen3next-tiny");
  set_synth_hparam(config, "block_count", "8");
  set_synth_hparam(config, "expert_count", "16");
  set_synth_hparam(config, "vocab_size", "300");
  config.file_type = FileType::AllF32;
  const auto types = choose_by_name(FileType::MostlyQ4_K_M, plan_synth_model(config));
  EXPECT_EQ(types.at(name(TensorId::Output)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::AttnQkv, 0)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::AttnQkv, 1)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::AttnV, 3)), GgmlType::Q6_K);
  EXPECT_EQ(types.at(name(TensorId::AttnK, 3)), GgmlType::Q4_K);
  EXPECT_EQ(types.at(name(TensorId::AttnOutput, 3)), GgmlType::Q4_K);
  // Rows of the expert down projections are 64 long: Q6_K and Q4_K fall back.
  EXPECT_EQ(types.at(name(TensorId::FfnDownExps, 0)), GgmlType::Q8_0);
  EXPECT_EQ(types.at(name(TensorId::FfnDownShexp, 1)), GgmlType::Q5_0);
  EXPECT_EQ(types.at(name(TensorId::FfnGateExps, 1)), GgmlType::Q4_K);
  // Kept in their source type.
  EXPECT_EQ(types.at(name(TensorId::FfnGateInp, 0)), GgmlType::F32);
  EXPECT_EQ(types.at(name(TensorId::SsmConv1d, 0)), GgmlType::F32);
  EXPECT_EQ(types.at(name(TensorId::SsmA, 0)), GgmlType::F32);
  EXPECT_EQ(types.at(name(TensorId::SsmDtBias, 0)), GgmlType::F32);
  EXPECT_EQ(types.at(name(TensorId::FfnGateInpShexp, 0)), GgmlType::F32);
}

TEST(QuantMixTest, UnknownTensorsConvertWhenTwoDimensional) {
  MixModel model;
  std::vector<MixTensor> tensors(2);
  tensors[0].name = "extra.matrix";
  tensors[0].ne = {256, 4, 1, 1};
  tensors[1].name = "extra.vector";
  tensors[1].ne = {256, 1, 1, 1};
  const std::vector<TypeChoice> choices = choose_types(FileType::MostlyQ8_0, model, tensors);
  EXPECT_TRUE(choices[0].convert);
  EXPECT_EQ(choices[0].type, GgmlType::Q8_0);
  EXPECT_FALSE(choices[1].convert);
  EXPECT_EQ(choices[1].type, GgmlType::F32);
}

}  // namespace
}  // namespace hllm
