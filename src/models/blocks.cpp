#include "models/blocks.h"

#include <cmath>

#include "formats/gguf.h"
#include "util/error.h"

namespace hllm {

namespace {

constexpr size_t kF32 = sizeof(float);

// The leaf for a file tensor: same type and shape, named as the file names it.
Tensor* make_weight_leaf(Graph& g, const GgufTensorInfo& info, int layer) {
  Tensor* leaf = g.weight(info.name, info.type, {info.ne[0], info.ne[1], info.ne[2], info.ne[3]}, layer);
  return leaf;
}

}  // namespace

Tensor* GraphContext::weight(TensorId id, int layer) {
  const auto key = std::make_pair(id, layer);
  if (auto it = leaves_.find(key); it != leaves_.end()) return it->second;
  const GgufTensorInfo* info = spec.tensor(id, layer);
  if (info == nullptr) return nullptr;
  Tensor* leaf = make_weight_leaf(g, *info, layer);
  out.weights.push_back({leaf, info});
  leaves_.emplace(key, leaf);
  return leaf;
}

Tensor* GraphContext::require(TensorId id, int layer) {
  Tensor* leaf = weight(id, layer);
  if (leaf == nullptr) spec.require(id, layer);  // throws, naming the tensor and the file
  return leaf;
}

Tensor* rms_norm_weighted(GraphContext& ctx, Tensor* x, Tensor* weight, const char* name, int layer) {
  Tensor* normed = ops::rms_norm(ctx.g, x, ctx.spec.hp.rms_eps);
  return ctx.name(ops::mul(ctx.g, normed, weight), name, layer);
}

Tensor* swiglu_ffn(GraphContext& ctx, Tensor* x, Tensor* gate, Tensor* up, Tensor* down, int layer) {
  Graph& g = ctx.g;
  Tensor* gated = ctx.name(ops::silu(g, ops::mul_mat(g, gate, x)), "ffn_gate_silu", layer);
  Tensor* hidden = ctx.name(ops::mul(g, gated, ops::mul_mat(g, up, x)), "ffn_hidden", layer);
  return ctx.name(ops::mul_mat(g, down, hidden), "ffn_down", layer);
}

Tensor* moe_ffn(GraphContext& ctx, Tensor* x, int layer) {
  Graph& g = ctx.g;
  const HParams& hp = ctx.spec.hp;
  const int64_t n_embd = x->ne[0];
  const int64_t n_tokens = x->ne[1];
  const int64_t n_expert = hp.n_expert;
  const int64_t n_used = hp.n_expert_used;

  // Routing: softmax over experts, the n_used most probable, weights renormalised to sum to 1.
  Tensor* router_logits = ops::mul_mat(g, ctx.require(TensorId::FfnGateInp, layer), x);
  Tensor* probs = ctx.name(ops::soft_max(g, router_logits), "ffn_moe_probs", layer);
  Tensor* selected = ctx.name(ops::top_k(g, probs, static_cast<int>(n_used)), "ffn_moe_topk", layer);
  Tensor* weights = ops::get_rows(g, ops::reshape(g, probs, {1, n_expert, n_tokens}), selected);
  weights = ops::reshape(g, weights, {n_used, n_tokens});
  weights = ops::div(g, weights, ops::sum_rows(g, weights));
  weights = ctx.name(ops::reshape(g, weights, {1, n_used, n_tokens}), "ffn_moe_weights", layer);

  // Experts: only the selected ones are computed.
  Tensor* input = ops::reshape(g, x, {n_embd, 1, n_tokens});
  Tensor* up = ops::mul_mat_id(g, ctx.require(TensorId::FfnUpExps, layer), input, selected);
  Tensor* gate = ops::mul_mat_id(g, ctx.require(TensorId::FfnGateExps, layer), input, selected);
  Tensor* hidden = ctx.name(ops::mul(g, ops::silu(g, gate), up), "ffn_moe_hidden", layer);
  Tensor* experts = ops::mul_mat_id(g, ctx.require(TensorId::FfnDownExps, layer), hidden, selected);
  experts = ctx.name(ops::mul(g, experts, weights), "ffn_moe_weighted", layer);

  // Sum over the selected experts.
  Tensor* routed = nullptr;
  for (int64_t j = 0; j < n_used; ++j) {
    Tensor* slice = ops::view_2d(g, experts, n_embd, n_tokens, experts->nb[2], j * experts->nb[1]);
    routed = routed == nullptr ? slice : ops::add(g, routed, slice);
  }
  if (n_used == 1) routed = ops::copy(g, routed);
  ctx.name(routed, "ffn_moe_out", layer);

  // The shared expert, scaled by the sigmoid of its own gate.
  Tensor* shared_gate_weight = ctx.weight(TensorId::FfnGateInpShexp, layer);
  Tensor* shared_up = ctx.weight(TensorId::FfnUpShexp, layer);
  if (shared_up == nullptr) return routed;
  Tensor* shared = swiglu_ffn(ctx, x, ctx.require(TensorId::FfnGateShexp, layer), shared_up,
                              ctx.require(TensorId::FfnDownShexp, layer), layer);
  if (shared_gate_weight != nullptr) {
    Tensor* gate_row = ops::reshape(g, shared_gate_weight, {n_embd, 1});
    Tensor* shared_scale = ops::sigmoid(g, ops::mul_mat(g, gate_row, x));  // [1, T]
    shared = ctx.name(ops::mul(g, shared, shared_scale), "ffn_shexp_gated", layer);
  }
  return ctx.name(ops::add(g, routed, shared), "ffn_out", layer);
}

Tensor* cached_attention(GraphContext& ctx, Tensor* q, Tensor* k, Tensor* v, int layer) {
  Graph& g = ctx.g;
  const LayerState& state = ctx.out.layers.at(layer);
  const int64_t head_dim_k = k->ne[0];
  const int64_t head_dim_v = v->ne[0];
  const int64_t n_head_kv = k->ne[1];
  const int64_t n_tokens = k->ne[2];
  const int64_t n_kv = ctx.out.shape.n_kv;

  // Store this micro-batch's keys and values into their cells, then read cells [0, n_kv).
  Tensor* k_rows = ops::reshape(g, ops::copy(g, k), {head_dim_k * n_head_kv, n_tokens});
  Tensor* v_rows = ops::reshape(g, ops::copy(g, v), {head_dim_v * n_head_kv, n_tokens});
  Tensor* k_stored = ctx.name(ops::set_rows(g, state.k_cache, k_rows, ctx.out.kv_cells), "k_cache_store", layer);
  Tensor* v_stored = ctx.name(ops::set_rows(g, state.v_cache, v_rows, ctx.out.kv_cells), "v_cache_store", layer);
  Tensor* k_cells = ops::view_3d(g, k_stored, head_dim_k, n_head_kv, n_kv, head_dim_k * kF32,
                                 k_stored->nb[1], 0);
  Tensor* v_cells = ops::view_3d(g, v_stored, head_dim_v, n_head_kv, n_kv, head_dim_v * kF32,
                                 v_stored->nb[1], 0);

  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim_k));
  Tensor* attended = ops::attention(g, q, k_cells, v_cells, ctx.out.kq_mask, scale);
  ctx.name(attended, "attn_out", layer);
  return ops::reshape(g, attended, {head_dim_v * q->ne[1], q->ne[2]});
}

namespace {

// The q, k, v channels ([conv_channels, T]) and the output gate z ([n_v_heads * d_v, T]) of a
// DeltaNet layer, from either weight layout.
std::pair<Tensor*, Tensor*> delta_net_projections(GraphContext& ctx, Tensor* x, int layer) {
  Graph& g = ctx.g;
  const HParams& hp = ctx.spec.hp;
  const int64_t d = hp.ssm_d_state;
  const int64_t n_k_heads = hp.ssm_n_k_heads;
  const int64_t n_v_heads = hp.ssm_n_v_heads;
  const int64_t n_tokens = x->ne[1];

  if (Tensor* qkv_weight = ctx.weight(TensorId::AttnQkv, layer)) {
    Tensor* qkv = ops::mul_mat(g, qkv_weight, x);
    Tensor* z = ops::mul_mat(g, ctx.require(TensorId::AttnGate, layer), x);
    return {qkv, z};
  }

  // The fused projection groups its outputs per key head: q (d), k (d), then the values and
  // gates of the key head's value heads (d * n_v_heads / n_k_heads each).
  const int64_t v_per_group = d * (n_v_heads / n_k_heads);
  const int64_t group = 2 * d + 2 * v_per_group;
  Tensor* fused = ops::mul_mat(g, ctx.require(TensorId::SsmIn, layer), x);
  fused = ops::reshape(g, fused, {group, n_k_heads, n_tokens});
  auto part = [&](int64_t width, int64_t offset, int64_t total) {
    Tensor* view = ops::view_3d(g, fused, width, n_k_heads, n_tokens, fused->nb[1], fused->nb[2], offset * kF32);
    return ops::reshape(g, ops::copy(g, view), {total, n_tokens});
  };
  Tensor* q = part(d, 0, d * n_k_heads);
  Tensor* k = part(d, d, d * n_k_heads);
  Tensor* v = part(v_per_group, 2 * d, d * n_v_heads);
  Tensor* z = part(v_per_group, 2 * d + v_per_group, d * n_v_heads);
  Tensor* qkv = ops::concat(g, ops::concat(g, q, k, 0), v, 0);
  return {qkv, z};
}

}  // namespace

Tensor* gated_delta_net(GraphContext& ctx, Tensor* x, int layer) {
  Graph& g = ctx.g;
  const HParams& hp = ctx.spec.hp;
  const BatchShape& shape = ctx.out.shape;
  const LayerState& state = ctx.out.layers.at(layer);
  const int64_t d = hp.ssm_d_state;
  const int64_t n_k_heads = hp.ssm_n_k_heads;
  const int64_t n_v_heads = hp.ssm_n_v_heads;
  const int64_t heads_per_group = n_v_heads / n_k_heads;
  const int64_t n_seq_tokens = shape.n_seq_tokens;
  const int64_t n_seqs = shape.n_seqs;
  const int64_t n_tokens = x->ne[1];
  const int64_t channels = 2 * d * n_k_heads + d * n_v_heads;

  auto [qkv, z] = delta_net_projections(ctx, x, layer);
  ctx.name(qkv, "linear_attn_qkv", layer);

  // beta and alpha come grouped per key head: beta of its value heads, then alpha.
  Tensor* ba = ops::mul_mat(g, ctx.require(TensorId::SsmBa, layer), x);
  ba = ops::reshape(g, ba, {2 * heads_per_group, n_k_heads, n_tokens});
  Tensor* b = ops::view_3d(g, ba, heads_per_group, n_k_heads, n_tokens, ba->nb[1], ba->nb[2], 0);
  Tensor* a = ops::view_3d(g, ba, heads_per_group, n_k_heads, n_tokens, ba->nb[1], ba->nb[2],
                           heads_per_group * kF32);
  Tensor* beta = ops::reshape(g, ops::sigmoid(g, b), {n_v_heads, n_seq_tokens, n_seqs});
  Tensor* alpha = ops::reshape(g, ops::copy(g, a), {n_v_heads, n_tokens});
  Tensor* decay = ops::softplus(g, ops::add(g, alpha, ctx.require(TensorId::SsmDtBias, layer)));
  decay = ops::mul(g, decay, ctx.require(TensorId::SsmA, layer));  // ssm_a = -exp(A_log) < 0
  decay = ctx.name(ops::reshape(g, decay, {n_v_heads, n_seq_tokens, n_seqs}), "linear_attn_decay", layer);

  // Causal convolution over time with the carried window, then SiLU.
  Tensor* conv_in = ops::reshape(g, qkv, {channels, n_seq_tokens, n_seqs});
  Tensor* conv = ops::ssm_conv(g, conv_in, ctx.require(TensorId::SsmConv1d, layer), state.conv_state,
                               ctx.out.state_slots);
  conv = ctx.name(ops::silu(g, conv), "linear_attn_conv", layer);

  const size_t token_stride = channels * kF32;
  const size_t seq_stride = token_stride * n_seq_tokens;
  Tensor* q = ops::view_4d(g, conv, d, n_k_heads, n_seq_tokens, n_seqs, d * kF32, token_stride, seq_stride, 0);
  Tensor* k = ops::view_4d(g, conv, d, n_k_heads, n_seq_tokens, n_seqs, d * kF32, token_stride, seq_stride,
                           d * n_k_heads * kF32);
  Tensor* v = ops::view_4d(g, conv, d, n_v_heads, n_seq_tokens, n_seqs, d * kF32, token_stride, seq_stride,
                           2 * d * n_k_heads * kF32);
  q = ops::l2_norm(g, q, hp.rms_eps);
  k = ops::l2_norm(g, k, hp.rms_eps);

  DeltaRuleParams params;
  params.scale = 1.0f / std::sqrt(static_cast<float>(d));
  Tensor* core = ops::delta_rule(g, q, k, v, decay, beta, state.ssm_state, ctx.out.state_slots, params);
  ctx.name(core, "linear_attn_core", layer);

  // Gated RMS norm per value head: norm(core) * ssm_norm * silu(z).
  Tensor* gate = ops::silu(g, ops::reshape(g, z, {d, n_v_heads, n_seq_tokens, n_seqs}));
  Tensor* normed = rms_norm_weighted(ctx, core, ctx.require(TensorId::SsmNorm, layer), "linear_attn_norm", layer);
  Tensor* gated = ops::mul(g, normed, gate);
  Tensor* flat = ops::reshape(g, gated, {d * n_v_heads, n_tokens});
  return ctx.name(ops::mul_mat(g, ctx.require(TensorId::SsmOut, layer), flat), "linear_attn_out", layer);
}

Tensor* select_outputs(GraphContext& ctx, Tensor* x) {
  if (ctx.out.shape.n_outputs == x->ne[1]) return x;
  return ops::get_rows(ctx.g, x, ctx.out.output_ids);
}

Tensor* output_head(GraphContext& ctx, Tensor* x) {
  Tensor* normed = rms_norm_weighted(ctx, x, ctx.require(TensorId::OutputNorm), "result_norm", -1);
  Tensor* projection = ctx.weight(TensorId::Output);
  if (projection == nullptr) projection = ctx.require(TensorId::TokenEmbd);
  Tensor* logits = ctx.name(ops::mul_mat(ctx.g, projection, normed), "result_output", -1);
  ctx.g.mark_output(logits);
  return logits;
}

}  // namespace hllm
