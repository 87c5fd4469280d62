// The architecture registry on the fixture models and on small synthetic GGUF images that break
// one rule each.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "models/registry.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {
namespace {

using test::fixture;

constexpr LayerKind kDeltaNet = LayerKind::GatedDeltaNet;
constexpr LayerKind kGatedAttention = LayerKind::GatedAttention;

// Returns the message of the Error that describe_model throws, or "" when it does not throw.
std::string describe_error(const GgufFile& file) {
  try {
    describe_model(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<const Finding*> findings_of(const ModelSpec& spec, FindingKind kind) {
  std::vector<const Finding*> found;
  for (const Finding& finding : spec.findings) {
    if (finding.kind == kind) found.push_back(&finding);
  }
  return found;
}

std::string all_messages(const ModelSpec& spec) {
  std::string text;
  for (const Finding& finding : spec.findings)
    text += finding.message + "\n";
  return text;
}

// ---- Fixtures ----

TEST(RegistryFixture, Qwen3NextSplitLayout) {
  auto file = GgufFile::open(fixture("models/qwen3next-tiny-f32.gguf"));
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  ASSERT_NE(spec.arch, nullptr);
  EXPECT_EQ(spec.arch->name, "qwen3next");
  EXPECT_EQ(spec.layout, Layout::SplitQkvGate);
  EXPECT_EQ(spec.layers,
            (std::vector<LayerKind>{kDeltaNet, kDeltaNet, kDeltaNet, kGatedAttention}));
  EXPECT_TRUE(spec.is_recurrent(0));
  EXPECT_FALSE(spec.is_recurrent(3));
  EXPECT_FALSE(spec.output_tied);
  EXPECT_TRUE(spec.unclaimed.empty());
  EXPECT_EQ(spec.tensors.size(), file->tensors().size());

  const HParams& hp = spec.hp;
  EXPECT_EQ(hp.n_embd, 256);
  EXPECT_EQ(hp.n_layer, 4);
  EXPECT_EQ(hp.n_block, 4);
  EXPECT_EQ(hp.n_nextn, 0);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim_k, 64);
  EXPECT_EQ(hp.head_dim_v, 64);
  EXPECT_EQ(hp.n_rot, 16);
  EXPECT_FLOAT_EQ(hp.rope_freq_base, 1e7f);
  EXPECT_FLOAT_EQ(hp.rms_eps, 1e-6f);
  EXPECT_EQ(hp.n_vocab, 2074);
  EXPECT_EQ(hp.n_ctx_train, 4096);
  EXPECT_EQ(hp.n_expert, 8);
  EXPECT_EQ(hp.n_expert_used, 2);
  EXPECT_EQ(hp.n_ff_exp, 64);
  EXPECT_EQ(hp.n_ff_shexp, 64);
  EXPECT_EQ(hp.ssm_conv_kernel, 4);
  EXPECT_EQ(hp.ssm_d_state, 32);
  EXPECT_EQ(hp.ssm_n_k_heads, 2);
  EXPECT_EQ(hp.ssm_n_v_heads, 4);
  EXPECT_EQ(hp.ssm_d_inner, 128);
  EXPECT_EQ(hp.full_attention_interval, 4);

  EXPECT_EQ(spec.require(TensorId::AttnQkv, 0).name, "blk.0.attn_qkv.weight");
  EXPECT_EQ(spec.tensor(TensorId::SsmIn, 0), nullptr);
  EXPECT_EQ(spec.tensor(TensorId::AttnQkv, 3), nullptr);
  EXPECT_EQ(spec.require(TensorId::AttnQ, 3).ne[1], 512);
  EXPECT_EQ(spec.require(TensorId::TokenEmbd).name, "token_embd.weight");
}

TEST(RegistryFixture, Qwen3NextLegacyLayout) {
  auto file = GgufFile::open(fixture("models/qwen3next-tiny-legacy-f16.gguf"));
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  EXPECT_EQ(spec.layout, Layout::FusedSsmIn);
  EXPECT_EQ(spec.layers,
            (std::vector<LayerKind>{kDeltaNet, kGatedAttention, kDeltaNet, kGatedAttention}));
  EXPECT_EQ(spec.hp.full_attention_interval, 2);
  EXPECT_EQ(spec.require(TensorId::SsmIn, 2).ne[1], 384);
  EXPECT_EQ(spec.tensor(TensorId::AttnQkv, 0), nullptr);
  EXPECT_EQ(spec.tensors.size(), file->tensors().size());
}

TEST(RegistryFixture, Qwen3NextQuantizedFiles) {
  for (const char* name :
       {"models/qwen3next-tiny-q8_0.gguf", "models/qwen3next-tiny-q4_k_m.gguf"}) {
    SCOPED_TRACE(name);
    auto file = GgufFile::open(fixture(name));
    const ModelSpec spec = describe_model(*file);
    EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
    EXPECT_EQ(spec.layout, Layout::SplitQkvGate);
    EXPECT_EQ(spec.layers.size(), 4u);
    EXPECT_EQ(spec.tensors.size(), file->tensors().size());
  }
}

TEST(RegistryFixture, LlamaStories) {
  auto file = GgufFile::open(fixture("models/stories260K.gguf"));
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  EXPECT_EQ(spec.arch->name, "llama");
  EXPECT_EQ(spec.layout, Layout::Standard);
  EXPECT_EQ(spec.layers, std::vector<LayerKind>(5, LayerKind::Attention));
  EXPECT_EQ(spec.hp.n_embd, 64);
  EXPECT_EQ(spec.hp.n_head, 8);
  EXPECT_EQ(spec.hp.n_head_kv, 4);
  EXPECT_EQ(spec.hp.head_dim_k, 8);
  EXPECT_EQ(spec.hp.n_rot, 8);
  EXPECT_EQ(spec.hp.n_ff, 172);
  EXPECT_EQ(spec.hp.n_vocab, 512);
  // The file has no rope.freq_base: the llama default applies.
  EXPECT_FLOAT_EQ(spec.hp.rope_freq_base, 10000.0f);
  EXPECT_EQ(spec.tensors.size(), file->tensors().size());
}

TEST(RegistryFixture, LlamaTinyRandom) {
  auto file = GgufFile::open(fixture("models/llama-2-tiny-random.gguf"));
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  EXPECT_EQ(spec.layers.size(), 1u);
  EXPECT_EQ(spec.hp.n_vocab, 32000);
  EXPECT_EQ(spec.hp.head_dim_k, 4);
}

TEST(RegistryFixture, VocabularyOnlyFiles) {
  for (const char* name : {"tokenizer/qwen3-vocab.gguf", "tokenizer/llama-spm-vocab.gguf"}) {
    SCOPED_TRACE(name);
    auto file = GgufFile::open(fixture(name));
    const ModelSpec spec = inspect_model(*file);
    EXPECT_FALSE(spec.has_weights);
    EXPECT_EQ(spec.error_count(), 0) << all_messages(spec);
    EXPECT_NE(spec.arch, nullptr);
    EXPECT_FALSE(spec.layers.empty());
    EXPECT_TRUE(spec.tensors.empty());
    EXPECT_NE(describe_error(*file).find("no tensors"), std::string::npos);
  }
}

// ---- Synthetic qwen3next images ----

// A tiny qwen3next: n_embd 8, 2 heads of 4 (1 KV head), 4 experts of width 4, linear attention
// with 1 key head and 2 value heads of dimension 4, interval 2, vocabulary 16.
struct TinyQwen3Next {
  std::map<std::string, GgufValue> keys;
  std::map<std::string, std::vector<int64_t>> tensors;  // name -> ne
  std::map<std::string, GgmlType> types;                // default F32
  bool legacy = false;

  TinyQwen3Next() {
    keys["general.architecture"] = GgufValue::string("qwen3next");
    auto u32 = [&](const std::string& key, uint32_t v) {
      keys[fmt::format("qwen3next.{}", key)] = GgufValue::u32(v);
    };
    u32("context_length", 128);
    u32("embedding_length", 8);
    u32("block_count", 4);
    u32("feed_forward_length", 4);
    u32("attention.head_count", 2);
    u32("attention.head_count_kv", 1);
    u32("attention.key_length", 4);
    u32("attention.value_length", 4);
    u32("rope.dimension_count", 2);
    u32("expert_count", 4);
    u32("expert_used_count", 2);
    u32("expert_feed_forward_length", 4);
    u32("expert_shared_feed_forward_length", 4);
    u32("ssm.conv_kernel", 4);
    u32("ssm.state_size", 4);
    u32("ssm.group_count", 1);
    u32("ssm.time_step_rank", 2);
    u32("ssm.inner_size", 8);
    u32("full_attention_interval", 2);
    keys["qwen3next.rope.freq_base"] = GgufValue::f32(1e6f);
    keys["qwen3next.attention.layer_norm_rms_epsilon"] = GgufValue::f32(1e-6f);
    std::vector<std::string> tokens;
    for (int i = 0; i < 16; ++i)
      tokens.push_back(fmt::format("t{}", i));
    keys["tokenizer.ggml.tokens"] = GgufValue::string_array(tokens);

    tensors["token_embd.weight"] = {8, 16};
    tensors["output_norm.weight"] = {8};
    tensors["output.weight"] = {8, 16};
    for (int il = 0; il < 4; ++il)
      add_layer(il, (il + 1) % 2 == 0);
  }

  void add_layer(int il, bool attention) {
    const std::string p = fmt::format("blk.{}.", il);
    tensors[p + "attn_norm.weight"] = {8};
    tensors[p + "post_attention_norm.weight"] = {8};
    if (attention) {
      tensors[p + "attn_q.weight"] = {8, 16};
      tensors[p + "attn_k.weight"] = {8, 4};
      tensors[p + "attn_v.weight"] = {8, 4};
      tensors[p + "attn_output.weight"] = {8, 8};
      tensors[p + "attn_q_norm.weight"] = {4};
      tensors[p + "attn_k_norm.weight"] = {4};
    } else {
      add_deltanet_projection(il, legacy);
      tensors[p + "ssm_ba.weight"] = {8, 4};
      tensors[p + "ssm_conv1d.weight"] = {4, 16};
      tensors[p + "ssm_dt.bias"] = {2};
      tensors[p + "ssm_a"] = {2};
      tensors[p + "ssm_norm.weight"] = {4};
      tensors[p + "ssm_out.weight"] = {8, 8};
    }
    tensors[p + "ffn_gate_inp.weight"] = {8, 4};
    tensors[p + "ffn_gate_exps.weight"] = {8, 4, 4};
    tensors[p + "ffn_up_exps.weight"] = {8, 4, 4};
    tensors[p + "ffn_down_exps.weight"] = {4, 8, 4};
    tensors[p + "ffn_gate_inp_shexp.weight"] = {8};
    tensors[p + "ffn_gate_shexp.weight"] = {8, 4};
    tensors[p + "ffn_up_shexp.weight"] = {8, 4};
    tensors[p + "ffn_down_shexp.weight"] = {4, 8};
  }

  // Replaces the q/k/v/gate projection of a DeltaNet layer with the chosen layout.
  void add_deltanet_projection(int il, bool fused) {
    const std::string p = fmt::format("blk.{}.", il);
    tensors.erase(p + "attn_qkv.weight");
    tensors.erase(p + "attn_gate.weight");
    tensors.erase(p + "ssm_in.weight");
    if (fused) {
      tensors[p + "ssm_in.weight"] = {8, 24};  // 2 * 1 * 4 + 2 * 2 * 4
    } else {
      tensors[p + "attn_qkv.weight"] = {8, 16};  // 2 * 1 * 4 + 2 * 4
      tensors[p + "attn_gate.weight"] = {8, 8};
    }
  }

  // Writes the image and parses it. The image lives as long as this object.
  std::unique_ptr<GgufFile> build() {
    GgufWriter writer;
    for (const auto& [key, value] : keys)
      writer.set(key, value);
    for (const auto& [name, ne] : tensors) {
      const auto found = types.find(name);
      const GgmlType type = found == types.end() ? GgmlType::F32 : found->second;
      int64_t rows = 1;
      for (size_t i = 1; i < ne.size(); ++i)
        rows *= ne[i];
      writer.add_tensor(name, type, ne, std::vector<uint8_t>(row_size(type, ne[0]) * rows));
    }
    image_ = writer.serialize();
    return GgufFile::parse(image_.data(), image_.size(), "synthetic.gguf");
  }

 private:
  std::vector<uint8_t> image_;
};

TEST(RegistrySynthetic, ValidImageHasNoFindings) {
  TinyQwen3Next model;
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  EXPECT_EQ(spec.layout, Layout::SplitQkvGate);
  EXPECT_EQ(spec.layers,
            (std::vector<LayerKind>{kDeltaNet, kGatedAttention, kDeltaNet, kGatedAttention}));
}

TEST(RegistrySynthetic, MissingRequiredTensor) {
  TinyQwen3Next model;
  model.tensors.erase("blk.1.attn_k.weight");
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto missing = findings_of(spec, FindingKind::MissingTensor);
  ASSERT_EQ(missing.size(), 1u) << all_messages(spec);
  EXPECT_EQ(missing[0]->subject, "blk.1.attn_k.weight");
  EXPECT_EQ(missing[0]->severity, Severity::Error);
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("blk.1.attn_k.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("synthetic.gguf"), std::string::npos) << error;
}

TEST(RegistrySynthetic, WrongShapeNamesExpectedAndFound) {
  TinyQwen3Next model;
  model.tensors["blk.3.attn_q.weight"] = {8, 12};
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto mismatched = findings_of(spec, FindingKind::ShapeMismatch);
  ASSERT_EQ(mismatched.size(), 1u) << all_messages(spec);
  EXPECT_EQ(mismatched[0]->subject, "blk.3.attn_q.weight");
  EXPECT_NE(mismatched[0]->message.find("[8, 12]"), std::string::npos) << mismatched[0]->message;
  EXPECT_NE(mismatched[0]->message.find("[8, 16]"), std::string::npos) << mismatched[0]->message;
  EXPECT_NE(describe_error(*file).find("blk.3.attn_q.weight"), std::string::npos);
}

TEST(RegistrySynthetic, ShapeCheckIgnoresTrailingOnes) {
  TinyQwen3Next model;
  model.tensors["blk.0.ffn_gate_inp_shexp.weight"] = {8, 1};
  auto file = model.build();
  EXPECT_EQ(describe_error(*file), "");
}

TEST(RegistrySynthetic, QuantizedNormIsTypeMismatch) {
  TinyQwen3Next model;
  model.types["blk.0.attn_norm.weight"] = GgmlType::I32;
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto wrong = findings_of(spec, FindingKind::TypeMismatch);
  ASSERT_EQ(wrong.size(), 1u) << all_messages(spec);
  EXPECT_EQ(wrong[0]->subject, "blk.0.attn_norm.weight");
  EXPECT_NE(wrong[0]->message.find("i32"), std::string::npos) << wrong[0]->message;
}

TEST(RegistrySynthetic, LegacyLayoutDetected) {
  TinyQwen3Next model;
  model.add_deltanet_projection(0, true);
  model.add_deltanet_projection(2, true);
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  EXPECT_EQ(spec.layout, Layout::FusedSsmIn);
  EXPECT_NE(spec.tensor(TensorId::SsmIn, 2), nullptr);
}

TEST(RegistrySynthetic, IncompleteDeltaNetLayer) {
  TinyQwen3Next model;
  model.tensors.erase("blk.2.attn_gate.weight");
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto incomplete = findings_of(spec, FindingKind::IncompleteLayer);
  ASSERT_EQ(incomplete.size(), 1u) << all_messages(spec);
  const std::string& message = incomplete[0]->message;
  EXPECT_EQ(incomplete[0]->subject, "blk.2");
  EXPECT_NE(message.find("blk.2.attn_gate.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("blk.2.ssm_in.weight"), std::string::npos) << message;
  // The present half of the split pair is neither reported missing nor silently dropped.
  EXPECT_TRUE(findings_of(spec, FindingKind::MissingTensor).empty()) << all_messages(spec);
  EXPECT_NE(describe_error(*file).find("blk.2"), std::string::npos);
}

TEST(RegistrySynthetic, MixedLayoutsRejected) {
  TinyQwen3Next model;
  model.add_deltanet_projection(2, true);
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto mixed = findings_of(spec, FindingKind::MixedLayout);
  ASSERT_EQ(mixed.size(), 1u) << all_messages(spec);
  EXPECT_EQ(mixed[0]->subject, "blk.2");
}

TEST(RegistrySynthetic, UnclaimedTensorIsWarning) {
  TinyQwen3Next model;
  model.tensors["blk.0.mystery.weight"] = {8};
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);  // must not throw
  EXPECT_EQ(spec.unclaimed, std::vector<std::string>{"blk.0.mystery.weight"});
  const auto unclaimed = findings_of(spec, FindingKind::Unclaimed);
  ASSERT_EQ(unclaimed.size(), 1u);
  EXPECT_EQ(unclaimed[0]->severity, Severity::Warning);
}

TEST(RegistrySynthetic, MissingOutputMeansTied) {
  TinyQwen3Next model;
  model.tensors.erase("output.weight");
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.output_tied);
  EXPECT_EQ(spec.tensor(TensorId::Output), nullptr);
}

TEST(RegistrySynthetic, NextnBlocksAreOptional) {
  TinyQwen3Next model;
  model.keys["qwen3next.block_count"] = GgufValue::u32(5);
  model.keys["qwen3next.nextn_predict_layers"] = GgufValue::u32(1);
  // Block 4 holds some nextn tensors and part of an ordinary layer, the rest absent.
  model.tensors["blk.4.nextn.eh_proj.weight"] = {16, 8};
  model.tensors["blk.4.nextn.enorm.weight"] = {8};
  model.tensors["blk.4.nextn.shared_head_norm.weight"] = {8};
  model.tensors["blk.4.attn_norm.weight"] = {8};
  model.tensors["blk.4.attn_q.weight"] = {8, 16};
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  EXPECT_TRUE(spec.findings.empty()) << all_messages(spec);
  EXPECT_EQ(spec.hp.n_block, 5);
  EXPECT_EQ(spec.hp.n_nextn, 1);
  EXPECT_EQ(spec.hp.n_layer, 4);
  EXPECT_EQ(spec.layers.size(), 4u);
  EXPECT_NE(spec.tensor(TensorId::NextnEhProj, 4), nullptr);
  EXPECT_NE(spec.tensor(TensorId::AttnQ, 4), nullptr);
  EXPECT_EQ(spec.tensor(TensorId::NextnHnorm, 4), nullptr);
}

TEST(RegistrySynthetic, NextnShapeMismatchIsWarning) {
  TinyQwen3Next model;
  model.keys["qwen3next.block_count"] = GgufValue::u32(5);
  model.keys["qwen3next.nextn_predict_layers"] = GgufValue::u32(1);
  model.tensors["blk.4.nextn.eh_proj.weight"] = {8, 8};
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  const auto mismatched = findings_of(spec, FindingKind::ShapeMismatch);
  ASSERT_EQ(mismatched.size(), 1u) << all_messages(spec);
  EXPECT_EQ(mismatched[0]->severity, Severity::Warning);
}

TEST(RegistrySynthetic, HeadsNotDividing) {
  TinyQwen3Next model;
  model.keys["qwen3next.attention.head_count"] = GgufValue::u32(3);
  model.keys["qwen3next.attention.head_count_kv"] = GgufValue::u32(2);
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  const auto bad = findings_of(spec, FindingKind::BadHParams);
  ASSERT_EQ(bad.size(), 1u) << all_messages(spec);
  EXPECT_NE(bad[0]->message.find("qwen3next.attention.head_count (3)"), std::string::npos)
      << bad[0]->message;
  EXPECT_NE(describe_error(*file).find("head_count_kv"), std::string::npos);
}

TEST(RegistrySynthetic, ExpertsUsedExceedCount) {
  TinyQwen3Next model;
  model.keys["qwen3next.expert_used_count"] = GgufValue::u32(5);
  auto file = model.build();
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("qwen3next.expert_used_count (5)"), std::string::npos) << error;
  EXPECT_NE(error.find("qwen3next.expert_count (4)"), std::string::npos) << error;
}

TEST(RegistrySynthetic, RopeDimensionsExceedHeadDim) {
  TinyQwen3Next model;
  model.keys["qwen3next.rope.dimension_count"] = GgufValue::u32(6);
  auto file = model.build();
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("qwen3next.rope.dimension_count (6)"), std::string::npos) << error;
}

TEST(RegistrySynthetic, InnerSizeMustMatchHeads) {
  TinyQwen3Next model;
  model.keys["qwen3next.ssm.inner_size"] = GgufValue::u32(12);
  auto file = model.build();
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("qwen3next.ssm.inner_size (12)"), std::string::npos) << error;
}

TEST(RegistrySynthetic, MissingKeyNamed) {
  TinyQwen3Next model;
  model.keys.erase("qwen3next.ssm.state_size");
  auto file = model.build();
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("qwen3next.ssm.state_size"), std::string::npos) << error;
}

TEST(RegistrySynthetic, UnknownArchitectureListsKnown) {
  TinyQwen3Next model;
  model.keys["general.architecture"] = GgufValue::string("mamba9");
  auto file = model.build();
  const ModelSpec spec = inspect_model(*file);
  EXPECT_EQ(spec.arch, nullptr);
  const std::string error = describe_error(*file);
  EXPECT_NE(error.find("'mamba9'"), std::string::npos) << error;
  EXPECT_NE(error.find("llama, qwen3next"), std::string::npos) << error;
}

TEST(RegistrySynthetic, RequireNamesMissingTensor) {
  TinyQwen3Next model;
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  try {
    spec.require(TensorId::SsmIn, 0);
    FAIL() << "require() returned a tensor the file lacks";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.ssm_in.weight"), std::string::npos) << e.what();
  }
}

TEST(RegistrySynthetic, RolesOfBoundTensors) {
  TinyQwen3Next model;
  auto file = model.build();
  const ModelSpec spec = describe_model(*file);
  for (const BoundTensor& bound : spec.tensors) {
    SCOPED_TRACE(bound.info->name);
    if (bound.id == TensorId::TokenEmbd) {
      EXPECT_EQ(bound.role, Role::Input);
      EXPECT_EQ(bound.layer, -1);
    } else if (bound.id == TensorId::Output || bound.id == TensorId::OutputNorm) {
      EXPECT_EQ(bound.role, Role::Output);
    } else {
      EXPECT_EQ(bound.role, Role::Layer);
      EXPECT_EQ(bound.info->name.rfind(fmt::format("blk.{}.", bound.layer), 0), 0u);
    }
  }
}

// ---- Lookups ----

TEST(Registry, FindArchUnknownListsKnown) {
  EXPECT_EQ(find_arch("llama").name, "llama");
  EXPECT_EQ(find_arch_or_null("gpt2"), nullptr);
  try {
    find_arch("gpt2");
    FAIL() << "find_arch accepted an unknown name";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gpt2'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("llama, qwen3next"), std::string::npos) << e.what();
  }
}

TEST(Registry, EveryTableEntryHasAUniqueName) {
  std::set<std::string> seen;
  for (int i = 0; i < static_cast<int>(TensorId::Count); ++i) {
    const auto id = static_cast<TensorId>(i);
    const std::string name = tensor_name(id, 7);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate tensor name " << name;
    EXPECT_NE(name.find(tensor_short_name(id)), std::string::npos) << name;
    EXPECT_EQ(is_per_layer(id), name.rfind("blk.7.", 0) == 0) << name;
  }
  EXPECT_EQ(tensor_name(TensorId::SsmDtBias, 3), "blk.3.ssm_dt.bias");
  EXPECT_EQ(tensor_name(TensorId::OutputNorm), "output_norm.weight");
}

TEST(Registry, KeyNames) {
  for (int i = 0; i < static_cast<int>(Key::Count); ++i) {
    EXPECT_FALSE(key_name(static_cast<Key>(i), "arch").empty());
  }
  EXPECT_EQ(key_name(Key::SsmTimeStepRank, "qwen3next"), "qwen3next.ssm.time_step_rank");
  EXPECT_EQ(key_name(Key::GeneralArchitecture, "llama"), "general.architecture");
}

TEST(Registry, RecordsOnlyUseTheirLayouts) {
  for (const ArchRecord* record : known_archs()) {
    SCOPED_TRACE(record->name);
    for (const TensorSpec& entry : record->tensors) {
      const bool known = std::find(record->layouts.begin(), record->layouts.end(), entry.layout) !=
                         record->layouts.end();
      EXPECT_TRUE(entry.layout == Layout::Standard || known) << tensor_short_name(entry.id);
      EXPECT_EQ(entry.scope == Scope::Global, !is_per_layer(entry.id))
          << tensor_short_name(entry.id);
    }
  }
}

}  // namespace
}  // namespace hllm
