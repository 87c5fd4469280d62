// The table of GGUF key names and tensor name patterns. Every string that names a metadata key
// or a weight in a file is written here once.
#include "models/names.h"

#include <fmt/format.h>

#include <array>

#include "util/error.h"

namespace hllm {
namespace {

struct KeyEntry {
  Key key;
  bool per_arch;  // stored as "<arch>.<name>"
  std::string_view name;
};

constexpr std::array<KeyEntry, static_cast<size_t>(Key::Count)> kKeys{{
    {Key::GeneralArchitecture, false, "general.architecture"},
    {Key::GeneralName, false, "general.name"},
    {Key::GeneralFileType, false, "general.file_type"},
    {Key::GeneralQuantizationVersion, false, "general.quantization_version"},
    {Key::TokenizerTokens, false, "tokenizer.ggml.tokens"},
    {Key::VocabSize, true, "vocab_size"},
    {Key::ContextLength, true, "context_length"},
    {Key::EmbeddingLength, true, "embedding_length"},
    {Key::BlockCount, true, "block_count"},
    {Key::FeedForwardLength, true, "feed_forward_length"},
    {Key::HeadCount, true, "attention.head_count"},
    {Key::HeadCountKv, true, "attention.head_count_kv"},
    {Key::KeyLength, true, "attention.key_length"},
    {Key::ValueLength, true, "attention.value_length"},
    {Key::RopeFreqBase, true, "rope.freq_base"},
    {Key::RopeDimensionCount, true, "rope.dimension_count"},
    {Key::RmsEpsilon, true, "attention.layer_norm_rms_epsilon"},
    {Key::ExpertCount, true, "expert_count"},
    {Key::ExpertUsedCount, true, "expert_used_count"},
    {Key::ExpertFeedForwardLength, true, "expert_feed_forward_length"},
    {Key::ExpertSharedFeedForwardLength, true, "expert_shared_feed_forward_length"},
    {Key::SsmConvKernel, true, "ssm.conv_kernel"},
    {Key::SsmStateSize, true, "ssm.state_size"},
    {Key::SsmGroupCount, true, "ssm.group_count"},
    {Key::SsmTimeStepRank, true, "ssm.time_step_rank"},
    {Key::SsmInnerSize, true, "ssm.inner_size"},
    {Key::FullAttentionInterval, true, "full_attention_interval"},
    {Key::NextnPredictLayers, true, "nextn_predict_layers"},
}};

struct TensorEntry {
  TensorId id;
  std::string_view short_name;
  // "{}" stands for the layer index. An entry without "{}" names one tensor of the model.
  std::string_view pattern;
  // Older names of the same weight, in the same form as pattern. A conversion that renames a
  // tensor adds its old name here so that files written before the rename keep loading.
  std::vector<std::string_view> aliases;
};

// NOTE: no alias is listed yet because no published file of the registered architectures is
// known to use another name for a weight. The fused and split DeltaNet projections are separate
// tensors with different shapes, so they are separate entries rather than aliases.
const std::array<TensorEntry, static_cast<size_t>(TensorId::Count)> kTensors{{
    {TensorId::TokenEmbd, "token_embd", "token_embd.weight", {}},
    {TensorId::OutputNorm, "output_norm", "output_norm.weight", {}},
    {TensorId::Output, "output", "output.weight", {}},
    {TensorId::RopeFreqs, "rope_freqs", "rope_freqs.weight", {}},
    {TensorId::AttnNorm, "attn_norm", "blk.{}.attn_norm.weight", {}},
    {TensorId::AttnQ, "attn_q", "blk.{}.attn_q.weight", {}},
    {TensorId::AttnK, "attn_k", "blk.{}.attn_k.weight", {}},
    {TensorId::AttnV, "attn_v", "blk.{}.attn_v.weight", {}},
    {TensorId::AttnOutput, "attn_output", "blk.{}.attn_output.weight", {}},
    {TensorId::AttnQNorm, "attn_q_norm", "blk.{}.attn_q_norm.weight", {}},
    {TensorId::AttnKNorm, "attn_k_norm", "blk.{}.attn_k_norm.weight", {}},
    {TensorId::PostAttentionNorm, "post_attention_norm", "blk.{}.post_attention_norm.weight", {}},
    {TensorId::FfnNorm, "ffn_norm", "blk.{}.ffn_norm.weight", {}},
    {TensorId::FfnGate, "ffn_gate", "blk.{}.ffn_gate.weight", {}},
    {TensorId::FfnUp, "ffn_up", "blk.{}.ffn_up.weight", {}},
    {TensorId::FfnDown, "ffn_down", "blk.{}.ffn_down.weight", {}},
    {TensorId::FfnGateInp, "ffn_gate_inp", "blk.{}.ffn_gate_inp.weight", {}},
    {TensorId::FfnGateExps, "ffn_gate_exps", "blk.{}.ffn_gate_exps.weight", {}},
    {TensorId::FfnUpExps, "ffn_up_exps", "blk.{}.ffn_up_exps.weight", {}},
    {TensorId::FfnDownExps, "ffn_down_exps", "blk.{}.ffn_down_exps.weight", {}},
    {TensorId::FfnGateInpShexp, "ffn_gate_inp_shexp", "blk.{}.ffn_gate_inp_shexp.weight", {}},
    {TensorId::FfnGateShexp, "ffn_gate_shexp", "blk.{}.ffn_gate_shexp.weight", {}},
    {TensorId::FfnUpShexp, "ffn_up_shexp", "blk.{}.ffn_up_shexp.weight", {}},
    {TensorId::FfnDownShexp, "ffn_down_shexp", "blk.{}.ffn_down_shexp.weight", {}},
    {TensorId::AttnQkv, "attn_qkv", "blk.{}.attn_qkv.weight", {}},
    {TensorId::AttnGate, "attn_gate", "blk.{}.attn_gate.weight", {}},
    {TensorId::SsmIn, "ssm_in", "blk.{}.ssm_in.weight", {}},
    {TensorId::SsmBa, "ssm_ba", "blk.{}.ssm_ba.weight", {}},
    {TensorId::SsmConv1d, "ssm_conv1d", "blk.{}.ssm_conv1d.weight", {}},
    {TensorId::SsmDtBias, "ssm_dt.bias", "blk.{}.ssm_dt.bias", {}},
    {TensorId::SsmA, "ssm_a", "blk.{}.ssm_a", {}},
    {TensorId::SsmNorm, "ssm_norm", "blk.{}.ssm_norm.weight", {}},
    {TensorId::SsmOut, "ssm_out", "blk.{}.ssm_out.weight", {}},
    {TensorId::NextnEhProj, "nextn.eh_proj", "blk.{}.nextn.eh_proj.weight", {}},
    {TensorId::NextnEmbedTokens, "nextn.embed_tokens", "blk.{}.nextn.embed_tokens.weight", {}},
    {TensorId::NextnEnorm, "nextn.enorm", "blk.{}.nextn.enorm.weight", {}},
    {TensorId::NextnHnorm, "nextn.hnorm", "blk.{}.nextn.hnorm.weight", {}},
    {TensorId::NextnSharedHeadHead,
     "nextn.shared_head_head",
     "blk.{}.nextn.shared_head_head.weight",
     {}},
    {TensorId::NextnSharedHeadNorm,
     "nextn.shared_head_norm",
     "blk.{}.nextn.shared_head_norm.weight",
     {}},
}};

const KeyEntry& key_entry(Key key) {
  const auto index = static_cast<size_t>(key);
  HLLM_CHECK(index < kKeys.size() && kKeys[index].key == key, "invalid metadata key id {}", index);
  return kKeys[index];
}

const TensorEntry& tensor_entry(TensorId id) {
  const auto index = static_cast<size_t>(id);
  HLLM_CHECK(index < kTensors.size() && kTensors[index].id == id, "invalid tensor id {}", index);
  return kTensors[index];
}

std::string expand(std::string_view pattern, int layer) {
  if (pattern.find("{}") == std::string_view::npos) return std::string(pattern);
  return fmt::format(fmt::runtime(pattern), layer);
}

}  // namespace

std::string key_name(Key key, std::string_view arch) {
  const KeyEntry& entry = key_entry(key);
  if (!entry.per_arch) return std::string(entry.name);
  return fmt::format("{}.{}", arch, entry.name);
}

bool is_per_layer(TensorId id) {
  return tensor_entry(id).pattern.find("{}") != std::string_view::npos;
}

std::string_view tensor_short_name(TensorId id) {
  return tensor_entry(id).short_name;
}

std::string tensor_name(TensorId id, int layer) {
  return expand(tensor_entry(id).pattern, layer);
}

std::vector<std::string> tensor_names(TensorId id, int layer) {
  const TensorEntry& entry = tensor_entry(id);
  std::vector<std::string> names{expand(entry.pattern, layer)};
  for (std::string_view alias : entry.aliases)
    names.push_back(expand(alias, layer));
  return names;
}

}  // namespace hllm
