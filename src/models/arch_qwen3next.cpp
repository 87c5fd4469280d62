// qwen3next: a hybrid decoder. Every full_attention_interval-th layer is softmax attention with
// an output gate, and the others are gated DeltaNet, a linear attention with a recurrent state.
// Every layer ends in a mixture of experts with a gated shared expert. Trailing nextn blocks, used
// for multi-token prediction, are not part of the decoding layers.
#include <fmt/format.h>

#include "models/registry.h"

namespace hllm {
namespace {

using arch::attn_k;
using arch::attn_output;
using arch::attn_v;
using arch::embd_vector;
using arch::global;
using arch::layer;
using arch::ShapeFn;
using arch::token_embd;

void check_qwen3next_hparams(const HParamReader& reader, const HParams& hp, HParamCheck& check) {
  auto key = [&](Key k) { return reader.key(k); };
  check_attention_hparams(reader, hp, check);
  // The attention output gate has the width of the values and is stored beside the queries.
  check.equals(key(Key::ValueLength), hp.head_dim_v, key(Key::KeyLength), hp.head_dim_k);
  if (hp.n_nextn < 0 || (hp.n_block > 0 && hp.n_nextn >= hp.n_block)) {
    check.add(fmt::format("{} must be between 0 and {} - 1, found {}", key(Key::NextnPredictLayers),
                          key(Key::BlockCount), hp.n_nextn));
  }

  check.positive(key(Key::ExpertCount), hp.n_expert);
  check.positive(key(Key::ExpertUsedCount), hp.n_expert_used);
  check.at_most(key(Key::ExpertUsedCount), hp.n_expert_used, key(Key::ExpertCount), hp.n_expert);
  check.positive(key(Key::ExpertFeedForwardLength), hp.n_ff_exp);
  check.positive(key(Key::ExpertSharedFeedForwardLength), hp.n_ff_shexp);

  check.positive(key(Key::SsmConvKernel), hp.ssm_conv_kernel);
  check.positive(key(Key::SsmStateSize), hp.ssm_d_state);
  check.positive(key(Key::SsmGroupCount), hp.ssm_n_k_heads);
  check.positive(key(Key::SsmTimeStepRank), hp.ssm_n_v_heads);
  check.positive(key(Key::SsmInnerSize), hp.ssm_d_inner);
  // Each key head serves an equal share of the value heads.
  check.divides(key(Key::SsmGroupCount), hp.ssm_n_k_heads, key(Key::SsmTimeStepRank),
                hp.ssm_n_v_heads);
  if (hp.ssm_n_v_heads > 0 && hp.ssm_d_state > 0 &&
      hp.ssm_d_inner != hp.ssm_n_v_heads * hp.ssm_d_state) {
    check.add(fmt::format("{} ({}) must equal {} * {} ({} * {})", key(Key::SsmInnerSize),
                          hp.ssm_d_inner, key(Key::SsmTimeStepRank), key(Key::SsmStateSize),
                          hp.ssm_n_v_heads, hp.ssm_d_state));
  }
  check.positive(key(Key::FullAttentionInterval), hp.full_attention_interval);
}

HParams read_qwen3next_hparams(const HParamReader& reader) {
  HParams hp;
  hp.n_embd = reader.require_int(Key::EmbeddingLength);
  hp.n_block = reader.require_int(Key::BlockCount);
  hp.n_nextn = reader.int_or(Key::NextnPredictLayers, 0);
  hp.n_ff = reader.int_or(Key::FeedForwardLength, 0);  // unused: every layer has experts
  hp.n_head = reader.require_int(Key::HeadCount);
  hp.n_head_kv = reader.int_or(Key::HeadCountKv, hp.n_head);
  const int64_t head_dim_from_width = hp.n_head > 0 ? hp.n_embd / hp.n_head : 0;
  hp.head_dim_k = reader.int_or(Key::KeyLength, head_dim_from_width);
  hp.head_dim_v = reader.int_or(Key::ValueLength, hp.head_dim_k);
  hp.n_rot = reader.int_or(Key::RopeDimensionCount, hp.head_dim_k);
  hp.rope_freq_base = reader.float_or(Key::RopeFreqBase, 10000.0f);
  hp.rms_eps = reader.require_float(Key::RmsEpsilon);
  hp.n_ctx_train = reader.require_int(Key::ContextLength);
  hp.n_vocab = read_vocab_size(reader);
  hp.n_expert = reader.require_int(Key::ExpertCount);
  hp.n_expert_used = reader.require_int(Key::ExpertUsedCount);
  hp.n_ff_exp = reader.require_int(Key::ExpertFeedForwardLength);
  hp.n_ff_shexp = reader.require_int(Key::ExpertSharedFeedForwardLength);
  hp.ssm_conv_kernel = reader.require_int(Key::SsmConvKernel);
  hp.ssm_d_state = reader.require_int(Key::SsmStateSize);
  hp.ssm_n_k_heads = reader.require_int(Key::SsmGroupCount);
  hp.ssm_n_v_heads = reader.require_int(Key::SsmTimeStepRank);
  hp.ssm_d_inner = reader.require_int(Key::SsmInnerSize);
  hp.full_attention_interval = reader.require_int(Key::FullAttentionInterval);

  HParamCheck check("qwen3next");
  check_qwen3next_hparams(reader, hp, check);
  check.throw_if_failed();
  hp.n_layer = hp.n_block - hp.n_nextn;
  return hp;
}

std::vector<LayerKind> qwen3next_layers(const HParams& hp) {
  std::vector<LayerKind> layers(hp.n_layer);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const bool full = (il + 1) % hp.full_attention_interval == 0;
    layers[il] = full ? LayerKind::GatedAttention : LayerKind::GatedDeltaNet;
  }
  return layers;
}

// Tensor shapes, fastest dimension first, beyond the shared ones of arch::. A projection
// [n_in, n_out] maps n_in to n_out.

// Gated attention. attn_q holds, per head, the query followed by its output gate.
Shape attn_q(const HParams& hp) {
  return {hp.n_embd, hp.n_head * hp.head_dim_k * 2};
}
Shape head_vector(const HParams& hp) {
  return {hp.head_dim_k};
}

// Gated DeltaNet, with d_k = d_v = ssm_d_state.
int64_t deltanet_qk_width(const HParams& hp) {
  return hp.ssm_n_k_heads * hp.ssm_d_state;
}
int64_t deltanet_v_width(const HParams& hp) {
  return hp.ssm_n_v_heads * hp.ssm_d_state;
}
// q, k and v: the channels the causal convolution runs over.
int64_t deltanet_qkv_width(const HParams& hp) {
  return 2 * deltanet_qk_width(hp) + deltanet_v_width(hp);
}
Shape attn_qkv(const HParams& hp) {
  return {hp.n_embd, deltanet_qkv_width(hp)};
}
Shape attn_gate(const HParams& hp) {
  return {hp.n_embd, deltanet_v_width(hp)};
}
// The older fused projection: q, k, v and the gate z in one matrix.
Shape ssm_in(const HParams& hp) {
  return {hp.n_embd, 2 * deltanet_qk_width(hp) + 2 * deltanet_v_width(hp)};
}
// beta and alpha, one of each per value head.
Shape ssm_ba(const HParams& hp) {
  return {hp.n_embd, 2 * hp.ssm_n_v_heads};
}
Shape ssm_conv1d(const HParams& hp) {
  return {hp.ssm_conv_kernel, deltanet_qkv_width(hp)};
}
Shape value_head_vector(const HParams& hp) {
  return {hp.ssm_n_v_heads};
}
Shape ssm_norm(const HParams& hp) {
  return {hp.ssm_d_state};
}
Shape ssm_out(const HParams& hp) {
  return {hp.ssm_d_inner, hp.n_embd};
}

// Mixture of experts. The expert index is the slowest dimension.
Shape ffn_gate_inp(const HParams& hp) {
  return {hp.n_embd, hp.n_expert};
}
Shape experts_in(const HParams& hp) {
  return {hp.n_embd, hp.n_ff_exp, hp.n_expert};
}
Shape experts_down(const HParams& hp) {
  return {hp.n_ff_exp, hp.n_embd, hp.n_expert};
}
Shape shexp_in(const HParams& hp) {
  return {hp.n_embd, hp.n_ff_shexp};
}
Shape shexp_down(const HParams& hp) {
  return {hp.n_ff_shexp, hp.n_embd};
}

// Multi-token prediction: eh_proj maps the concatenated embedding and hidden state to n_embd.
Shape nextn_eh_proj(const HParams& hp) {
  return {2 * hp.n_embd, hp.n_embd};
}

constexpr TypeRule kAny = TypeRule::Any;
constexpr TypeRule kFloat = TypeRule::FloatOnly;

TensorSpec nextn(TensorId id, TypeRule types, ShapeFn shape) {
  return {id, Role::Layer, Scope::NextnLayers, false, Layout::Standard, types, shape};
}

std::vector<TensorSpec> qwen3next_tensors() {
  constexpr Scope kEvery = Scope::EveryLayer;
  constexpr Scope kAttention = Scope::AttentionLayers;
  constexpr Scope kDeltaNet = Scope::DeltaNetLayers;
  return {
      global(TensorId::TokenEmbd, Role::Input, true, kAny, token_embd),
      global(TensorId::OutputNorm, Role::Output, true, kFloat, embd_vector),
      // Without an output projection, the vocabulary projection reuses token_embd.
      global(TensorId::Output, Role::Output, false, kAny, token_embd),

      layer(TensorId::AttnNorm, kEvery, kFloat, embd_vector),
      layer(TensorId::PostAttentionNorm, kEvery, kFloat, embd_vector),

      layer(TensorId::AttnQ, kAttention, kAny, attn_q),
      layer(TensorId::AttnK, kAttention, kAny, attn_k),
      layer(TensorId::AttnV, kAttention, kAny, attn_v),
      layer(TensorId::AttnOutput, kAttention, kAny, attn_output),
      layer(TensorId::AttnQNorm, kAttention, kFloat, head_vector),
      layer(TensorId::AttnKNorm, kAttention, kFloat, head_vector),

      layer(TensorId::AttnQkv, kDeltaNet, kAny, attn_qkv, Layout::SplitQkvGate),
      layer(TensorId::AttnGate, kDeltaNet, kAny, attn_gate, Layout::SplitQkvGate),
      layer(TensorId::SsmIn, kDeltaNet, kAny, ssm_in, Layout::FusedSsmIn),
      layer(TensorId::SsmBa, kDeltaNet, kAny, ssm_ba),
      layer(TensorId::SsmConv1d, kDeltaNet, kAny, ssm_conv1d),
      layer(TensorId::SsmDtBias, kDeltaNet, kFloat, value_head_vector),
      layer(TensorId::SsmA, kDeltaNet, kFloat, value_head_vector),
      layer(TensorId::SsmNorm, kDeltaNet, kFloat, ssm_norm),
      layer(TensorId::SsmOut, kDeltaNet, kAny, ssm_out),

      layer(TensorId::FfnGateInp, kEvery, kAny, ffn_gate_inp),
      layer(TensorId::FfnGateExps, kEvery, kAny, experts_in),
      layer(TensorId::FfnUpExps, kEvery, kAny, experts_in),
      layer(TensorId::FfnDownExps, kEvery, kAny, experts_down),
      // Stored as [n_embd] or [n_embd, 1]. Both compare equal because trailing 1s are ignored.
      layer(TensorId::FfnGateInpShexp, kEvery, kAny, embd_vector),
      layer(TensorId::FfnGateShexp, kEvery, kAny, shexp_in),
      layer(TensorId::FfnUpShexp, kEvery, kAny, shexp_in),
      layer(TensorId::FfnDownShexp, kEvery, kAny, shexp_down),

      nextn(TensorId::NextnEhProj, kAny, nextn_eh_proj),
      nextn(TensorId::NextnEmbedTokens, kAny, token_embd),
      nextn(TensorId::NextnEnorm, kFloat, embd_vector),
      nextn(TensorId::NextnHnorm, kFloat, embd_vector),
      nextn(TensorId::NextnSharedHeadHead, kAny, token_embd),
      nextn(TensorId::NextnSharedHeadNorm, kFloat, embd_vector),
  };
}

ArchRecord make_qwen3next() {
  ArchRecord record;
  record.name = "qwen3next";
  record.description =
      "hybrid decoder: gated DeltaNet and gated attention layers, mixture of experts";
  record.read_hparams = read_qwen3next_hparams;
  record.layer_pattern = qwen3next_layers;
  // The newer layout comes first: a layer holding both complete sets is read as the newer one.
  record.layouts = {Layout::SplitQkvGate, Layout::FusedSsmIn};
  record.tensors = qwen3next_tensors();
  return record;
}

}  // namespace

const ArchRecord& qwen3next_arch() {
  static const ArchRecord record = make_qwen3next();
  return record;
}

}  // namespace hllm
