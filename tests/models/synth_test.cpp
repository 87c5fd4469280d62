// Synthetic models: every preset round-trips through describe_model(), the files match the
// converter's conventions (compared with the fixtures), values are deterministic and well scaled.
#include "models/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "models/registry.h"
#include "support/errors.h"
#include "support/fixtures.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm {
namespace {

using test::error_message;
using test::fixture;

// Small overrides that keep every preset fast to write.
SynthConfig small_config(const std::string& preset) {
  SynthConfig config = synth_config_from_preset(preset);
  set_synth_hparam(config, "block_count", "2");
  set_synth_hparam(config, "embedding_length", "64");
  set_synth_hparam(config, "vocab_size", "300");
  if (config.arch == "qwen3next") {
    set_synth_hparam(config, "expert_count", "4");
    set_synth_hparam(config, "expert_used_count", "2");
    set_synth_hparam(config, "full_attention_interval", "2");
    set_synth_hparam(config, "expert_feed_forward_length", "32");
    set_synth_hparam(config, "expert_shared_feed_forward_length", "32");
    set_synth_hparam(config, "attention.key_length", "32");
    set_synth_hparam(config, "attention.value_length", "32");
    set_synth_hparam(config, "rope.dimension_count", "8");
    set_synth_hparam(config, "ssm.state_size", "16");
  } else {
    set_synth_hparam(config, "attention.head_count", "4");
    set_synth_hparam(config, "attention.head_count_kv", "2");
    set_synth_hparam(config, "feed_forward_length", "96");
  }
  config.file_type = FileType::AllF32;
  return config;
}

std::string write(const SynthConfig& config, const std::string& file_name, int n_threads = 2) {
  const SynthPlan plan = plan_synth_model(config);
  const std::string path = test::temp_dir() + "/" + file_name;
  ThreadPool pool(n_threads);
  write_synth_model(plan, path, pool);
  return path;
}

std::vector<float> tensor_floats(const GgufTensorInfo& info) {
  EXPECT_EQ(info.type, GgmlType::F32) << info.name;
  const auto* data = reinterpret_cast<const float*>(info.data);
  return std::vector<float>(data, data + info.n_elements());
}

double mean(const std::vector<float>& values) {
  double sum = 0;
  for (float v : values)
    sum += v;
  return sum / values.size();
}

double standard_deviation(const std::vector<float>& values) {
  const double m = mean(values);
  double sum = 0;
  for (float v : values)
    sum += (v - m) * (v - m);
  return std::sqrt(sum / values.size());
}

TEST(SynthTest, EveryPresetRoundTrips) {
  for (const SynthPreset& preset : synth_presets()) {
    SCOPED_TRACE(std::string(preset.name));
    const SynthConfig config = small_config(std::string(preset.name));
    const std::string path = write(config, "model.gguf");
    const auto file = GgufFile::open(path);
    const ModelSpec spec = describe_model(*file);
    EXPECT_EQ(spec.arch->name, preset.arch);
    EXPECT_EQ(spec.hp.n_layer, 2);
    EXPECT_EQ(spec.hp.n_embd, 64);
    EXPECT_EQ(spec.hp.n_vocab, 300);
    EXPECT_TRUE(spec.unclaimed.empty());
    EXPECT_EQ(spec.findings.size(), 0u);
    EXPECT_FALSE(spec.output_tied);
    EXPECT_EQ(file->get_string("general.name"), std::string(preset.name) + " (random weights)");
    EXPECT_EQ(file->get_int("general.file_type"), 0);
    if (preset.arch == "qwen3next") {
      EXPECT_EQ(spec.layout, Layout::SplitQkvGate);
      ASSERT_EQ(spec.layers.size(), 2u);
      EXPECT_EQ(spec.layers[0], LayerKind::GatedDeltaNet);
      EXPECT_EQ(spec.layers[1], LayerKind::GatedAttention);
      EXPECT_EQ(spec.hp.n_expert, 4);
      EXPECT_EQ(spec.hp.n_expert_used, 2);
      EXPECT_EQ(spec.hp.ssm_d_inner, spec.hp.ssm_n_v_heads * 16);
      EXPECT_EQ(spec.hp.head_dim_k, 32);
      EXPECT_EQ(spec.hp.n_rot, 8);
    } else {
      EXPECT_EQ(spec.layout, Layout::Standard);
      EXPECT_EQ(spec.layers[0], LayerKind::Attention);
      EXPECT_EQ(spec.hp.n_head, 4);
      EXPECT_EQ(spec.hp.n_head_kv, 2);
      EXPECT_EQ(spec.hp.head_dim_k, 16);  // derived: 64 / 4
      EXPECT_EQ(spec.hp.n_rot, 16);
      EXPECT_EQ(spec.hp.n_ff, 96);
    }
  }
}

TEST(SynthTest, PresetHyperparametersArePublished) {
  const SynthPlan plan = plan_synth_model(synth_config_from_preset("qwen3next-80b-a3b"));
  EXPECT_EQ(plan.hp.n_embd, 2048);
  EXPECT_EQ(plan.hp.n_layer, 48);
  EXPECT_EQ(plan.hp.n_head, 16);
  EXPECT_EQ(plan.hp.n_head_kv, 2);
  EXPECT_EQ(plan.hp.head_dim_k, 256);
  EXPECT_EQ(plan.hp.n_rot, 64);
  EXPECT_FLOAT_EQ(plan.hp.rope_freq_base, 1e7f);
  EXPECT_FLOAT_EQ(plan.hp.rms_eps, 1e-6f);

  EXPECT_EQ(plan.hp.ssm_n_k_heads, 16);
  EXPECT_EQ(plan.hp.ssm_n_v_heads, 32);
  EXPECT_EQ(plan.hp.ssm_d_state, 128);
  EXPECT_EQ(plan.hp.ssm_d_inner, 4096);
  EXPECT_EQ(plan.hp.ssm_conv_kernel, 4);
  EXPECT_EQ(plan.hp.n_expert, 512);
  EXPECT_EQ(plan.hp.n_expert_used, 10);
  EXPECT_EQ(plan.hp.n_ff_exp, 512);
  EXPECT_EQ(plan.hp.n_ff_shexp, 512);

  EXPECT_EQ(plan.hp.n_vocab, 151936);
  EXPECT_EQ(plan.hp.n_ctx_train, 262144);
  EXPECT_EQ(plan.hp.full_attention_interval, 4);

  // 36 DeltaNet layers and 12 attention layers; every 4th layer is attention.
  ASSERT_EQ(plan.layers.size(), 48u);
  EXPECT_EQ(plan.layers[3], LayerKind::GatedAttention);
  EXPECT_EQ(plan.layers[4], LayerKind::GatedDeltaNet);
  int64_t parameters = 0;
  for (const SynthTensor& tensor : plan.tensors)
    parameters += tensor.n_elements();
  // The published model has about 80 billion parameters.
  EXPECT_GT(parameters, 79'000'000'000);
  EXPECT_LT(parameters, 82'000'000'000);
}

// The synthetic tiny preset has the fixture's keys, value types, tensor names and shapes.
TEST(SynthTest, MatchesConvertedFixture) {
  SynthConfig config = synth_config_from_preset("qwen3next-tiny");
  config.file_type = FileType::AllF32;
  const auto ours = GgufFile::open(write(config, "tiny.gguf"));
  const auto reference = GgufFile::open(fixture("models/qwen3next-tiny-f32.gguf"));

  for (const auto& [key, value] : reference->metadata()) {
    if (key.rfind("tokenizer.", 0) == 0 || key == "general.name") continue;
    const GgufValue* found = ours->find(key);
    ASSERT_NE(found, nullptr) << "missing key " << key;
    EXPECT_EQ(found->type, value.type) << key;
    EXPECT_EQ(*found, value) << key;
  }
  ASSERT_EQ(ours->tensors().size(), reference->tensors().size());
  for (const GgufTensorInfo& expected : reference->tensors()) {
    const GgufTensorInfo* tensor = ours->find_tensor(expected.name);
    ASSERT_NE(tensor, nullptr) << "missing tensor " << expected.name;
    EXPECT_EQ(tensor->n_dims, expected.n_dims) << expected.name;
    EXPECT_EQ(tensor->ne, expected.ne) << expected.name;
    EXPECT_EQ(tensor->type, expected.type) << expected.name;
  }
}

// The legacy layout in F16 has the converted legacy fixture's tensors, shapes and types.
TEST(SynthTest, LegacyLayoutMatchesConvertedFixture) {
  SynthConfig config = synth_config_from_preset("qwen3next-tiny");
  set_synth_hparam(config, "full_attention_interval", "2");
  config.layout = Layout::FusedSsmIn;
  config.file_type = FileType::MostlyF16;
  const auto ours = GgufFile::open(write(config, "legacy.gguf"));
  const auto reference = GgufFile::open(fixture("models/qwen3next-tiny-legacy-f16.gguf"));
  EXPECT_EQ(describe_model(*ours).layout, Layout::FusedSsmIn);
  ASSERT_EQ(ours->tensors().size(), reference->tensors().size());
  for (const GgufTensorInfo& expected : reference->tensors()) {
    const GgufTensorInfo* tensor = ours->find_tensor(expected.name);
    ASSERT_NE(tensor, nullptr) << "missing tensor " << expected.name;
    EXPECT_EQ(tensor->ne, expected.ne) << expected.name;
    EXPECT_EQ(type_name(tensor->type), type_name(expected.type)) << expected.name;
  }
}

TEST(SynthTest, DeterministicForSeed) {
  SynthConfig config = small_config("qwen3next-tiny");
  const std::string one_thread = test::read_file(write(config, "a.gguf", 1));
  const std::string three_threads = test::read_file(write(config, "b.gguf", 3));
  EXPECT_TRUE(one_thread == three_threads) << "the thread count changed the file";
  config.seed = 7;
  const std::string other_seed = test::read_file(write(config, "c.gguf", 2));
  EXPECT_EQ(other_seed.size(), one_thread.size());
  EXPECT_FALSE(other_seed == one_thread) << "the seed did not change the weights";
}

TEST(SynthTest, TensorValuesDoNotDependOnLayerCount) {
  SynthConfig two = small_config("llama-7b");
  SynthConfig three = two;
  set_synth_hparam(three, "block_count", "3");
  const SynthPlan plan_two = plan_synth_model(two);
  const SynthPlan plan_three = plan_synth_model(three);
  const auto index_of = [](const SynthPlan& plan, const std::string& name) {
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      if (plan.tensors[i].name == name) return i;
    }
    return plan.tensors.size();
  };
  const std::string name = tensor_name(TensorId::AttnQ, 1);
  std::vector<float> a(64), b(64);
  generate_tensor_values(plan_two, index_of(plan_two, name), 100, 64, a.data());
  generate_tensor_values(plan_three, index_of(plan_three, name), 100, 64, b.data());
  EXPECT_EQ(a, b);
}

TEST(SynthTest, ValuesAreWellScaled) {
  SynthConfig config = synth_config_from_preset("qwen3next-tiny");
  config.file_type = FileType::AllF32;
  const auto file = GgufFile::open(write(config, "scaled.gguf"));
  // Every sample has at least 1024 values. The relative standard error of a standard deviation
  // estimate is 1 / sqrt(2 n), 2.2% for n = 1024, so a 10% bound is 4.5 standard errors wide.
  const auto expect_std = [&](const std::string& name, double expected) {
    const std::vector<float> values = tensor_floats(*file->find_tensor(name));
    EXPECT_NEAR(standard_deviation(values), expected, 0.1 * expected) << name;
    EXPECT_NEAR(mean(values), 0.0, 0.1 * expected) << name;
  };
  expect_std("token_embd.weight", 1.0);
  expect_std("output.weight", 1.0 / 16);  // 1 / sqrt(256)
  expect_std(tensor_name(TensorId::AttnQkv, 0), 1.0 / 16);
  expect_std(tensor_name(TensorId::SsmOut, 0), 1.0 / std::sqrt(128.0));
  expect_std(tensor_name(TensorId::FfnDownExps, 0), 1.0 / 8);  // 1 / sqrt(64)
  expect_std(tensor_name(TensorId::SsmConv1d, 0), 0.5);        // 1 / sqrt(kernel 4)
  expect_std(tensor_name(TensorId::FfnGateInp, 0), 1.0 / 16);

  const std::vector<float> norm = tensor_floats(*file->find_tensor("output_norm.weight"));
  EXPECT_NEAR(mean(norm), 1.0, 0.01);
  EXPECT_GT(standard_deviation(norm), 0.005);
  EXPECT_LT(standard_deviation(norm), 0.05);
  for (int il = 0; il < 3; ++il) {
    for (float a : tensor_floats(*file->find_tensor(tensor_name(TensorId::SsmA, il)))) {
      EXPECT_LE(a, -1.0f);
      EXPECT_GE(a, -16.0f);
    }
    for (float bias : tensor_floats(*file->find_tensor(tensor_name(TensorId::SsmDtBias, il)))) {
      const double dt = std::log1p(std::exp(static_cast<double>(bias)));  // softplus
      EXPECT_GE(dt, 1e-3 * 0.999);
      EXPECT_LE(dt, 1e-1 * 1.001);
    }
  }
}

TEST(SynthTest, GeneratedVocabularyIsByteLevel) {
  const auto file = GgufFile::open(write(small_config("stories-15m"), "vocab.gguf"));
  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(file->get_string("tokenizer.ggml.pre"), "qwen2");
  const std::vector<std::string> tokens = file->get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 300u);
  // GPT-2's byte alphabet: printable bytes first, in byte order; space is U+0120.
  EXPECT_EQ(tokens[0], "!");
  std::set<std::string> unique(tokens.begin(), tokens.end());
  EXPECT_EQ(unique.size(), tokens.size());
  EXPECT_EQ(std::count(tokens.begin(), tokens.end(), "\xC4\xA0"), 1);
  EXPECT_EQ(tokens[file->get_int("tokenizer.ggml.bos_token_id")], "<|endoftext|>");
  EXPECT_EQ(tokens[file->get_int("tokenizer.ggml.eos_token_id")], "<|im_end|>");
  EXPECT_TRUE(file->get_string_array("tokenizer.ggml.merges").empty());
  EXPECT_EQ(file->get_int_array("tokenizer.ggml.token_type").size(), 300u);
}

TEST(SynthTest, VocabularyFromAnotherFile) {
  SynthConfig config = small_config("qwen3next-tiny");
  config.vocab_from = fixture("models/qwen3next-tiny-f32.gguf");
  const auto file = GgufFile::open(write(config, "copied.gguf"));
  const auto source = GgufFile::open(config.vocab_from);
  const ModelSpec spec = describe_model(*file);
  EXPECT_EQ(spec.hp.n_vocab, 2074);
  EXPECT_EQ(file->find_tensor("token_embd.weight")->ne[1], 2074);
  for (const auto& [key, value] : source->metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    const GgufValue* copied = file->find(key);
    ASSERT_NE(copied, nullptr) << key;
    EXPECT_TRUE(*copied == value) << key;
  }
}

TEST(SynthTest, TiedOutputLeavesOutOutput) {
  SynthConfig config = small_config("llama3-8b");
  config.tie_output = true;
  const auto file = GgufFile::open(write(config, "tied.gguf"));
  EXPECT_EQ(file->find_tensor("output.weight"), nullptr);
  EXPECT_TRUE(describe_model(*file).output_tied);
}

TEST(SynthTest, FloatTypesFollowTheConverter) {
  SynthConfig config = small_config("qwen3next-tiny");
  config.file_type = FileType::MostlyBF16;
  const SynthPlan plan = plan_synth_model(config);
  for (const SynthTensor& tensor : plan.tensors) {
    const bool vector = tensor.ne.size() == 1;
    const bool kept = vector || tensor.id == TensorId::SsmConv1d;
    EXPECT_EQ(type_name(tensor.type), kept ? "f32" : "bf16") << tensor.name;
  }
}

TEST(SynthTest, QuantizedTypeNeedsQuantizer) {
  SynthConfig config = small_config("llama-7b");
  config.file_type = FileType::MostlyQ8_0;
  const SynthPlan plan = plan_synth_model(config);
  ThreadPool pool(1);
  const std::string path = test::temp_dir() + "/q8.gguf";
  try {
    write_synth_model(plan, path, pool);
    FAIL() << "expected an error: encode_float_rows cannot write q8_0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q8_0"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::ifstream(path).good()) << "a failed write left a file behind";
}

TEST(SynthTest, BadConfigurationsAreRejected) {
  EXPECT_NE(error_message([] { synth_config_from_preset("gpt-5"); }).find("known presets"),
            std::string::npos);
  SynthConfig config = small_config("qwen3next-tiny");
  EXPECT_NE(error_message([&] { set_synth_hparam(config, "no_such_key", "1"); }).find("unknown"),
            std::string::npos);
  EXPECT_NE(
      error_message([&] { set_synth_hparam(config, "block_count", "two"); }).find("not an integer"),
      std::string::npos);
  EXPECT_NE(error_message([&] {
              set_synth_hparam(config, "rope.freq_base", "fast");
            }).find("not a finite number"),
            std::string::npos);

  SynthConfig small_vocab = small_config("qwen3next-tiny");
  set_synth_hparam(small_vocab, "vocab_size", "100");
  EXPECT_NE(error_message([&] { plan_synth_model(small_vocab); }).find("too small"),
            std::string::npos);

  // 3 key/value heads do not divide 4 query heads: the registry's reader rejects it.
  SynthConfig heads = small_config("llama-7b");
  set_synth_hparam(heads, "attention.head_count_kv", "3");
  const std::string message = error_message([&] { plan_synth_model(heads); });
  EXPECT_NE(message.find("head_count_kv"), std::string::npos) << message;

  SynthConfig layout = small_config("llama-7b");
  layout.layout = Layout::FusedSsmIn;
  EXPECT_NE(error_message([&] { plan_synth_model(layout); }).find("layout"), std::string::npos);
}

TEST(SynthTest, KeysAcceptPrefixAndFieldNames) {
  SynthConfig config = synth_config_from_preset("qwen3next-tiny");
  set_synth_hparam(config, "qwen3next.expert_count", "16");
  EXPECT_EQ(config.hp.n_expert, 16);
  set_synth_hparam(config, "n_expert_used", "4");
  EXPECT_EQ(config.hp.n_expert_used, 4);
  set_synth_hparam(config, "attention.layer_norm_rms_epsilon", "1e-5");
  EXPECT_FLOAT_EQ(config.hp.rms_eps, 1e-5f);
}

}  // namespace
}  // namespace hllm
