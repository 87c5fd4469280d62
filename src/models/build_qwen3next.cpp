// Qwen3-Next: a 3:1 pattern of gated DeltaNet (linear attention) and gated full attention layers,
// each followed by a post-attention norm and a mixture of experts with a gated shared expert.
#include "models/blocks.h"

namespace hllm {

namespace {

// Full attention whose query projection also yields a per-head output gate; q and k get a
// per-head RMS norm and partial NeoX RoPE.
Tensor* gated_attention(GraphContext& ctx, Tensor* x, int layer) {
  Graph& g = ctx.g;
  const HParams& hp = ctx.spec.hp;
  const int64_t head_dim = hp.head_dim_k;
  const int64_t n_tokens = x->ne[1];

  // The projection interleaves per head: head_dim query values, then head_dim gate values.
  Tensor* q_and_gate = ops::mul_mat(g, ctx.require(TensorId::AttnQ, layer), x);
  q_and_gate = ops::reshape(g, q_and_gate, {2 * head_dim, hp.n_head, n_tokens});
  Tensor* q = ops::view_3d(g, q_and_gate, head_dim, hp.n_head, n_tokens, q_and_gate->nb[1], q_and_gate->nb[2], 0);
  Tensor* gate = ops::view_3d(g, q_and_gate, head_dim, hp.n_head, n_tokens, q_and_gate->nb[1],
                              q_and_gate->nb[2], head_dim * sizeof(float));
  Tensor* k = ops::mul_mat(g, ctx.require(TensorId::AttnK, layer), x);
  Tensor* v = ops::mul_mat(g, ctx.require(TensorId::AttnV, layer), x);
  k = ops::reshape(g, k, {head_dim, hp.n_head_kv, n_tokens});
  v = ops::reshape(g, v, {hp.head_dim_v, hp.n_head_kv, n_tokens});

  q = rms_norm_weighted(ctx, q, ctx.require(TensorId::AttnQNorm, layer), "q_norm", layer);
  k = rms_norm_weighted(ctx, k, ctx.require(TensorId::AttnKNorm, layer), "k_norm", layer);

  RopeParams rope;
  rope.mode = RopeMode::Neox;
  rope.n_dims = static_cast<int32_t>(hp.n_rot);
  rope.freq_base = hp.rope_freq_base;
  q = ctx.name(ops::rope(g, q, ctx.out.positions, rope), "q_rope", layer);
  k = ctx.name(ops::rope(g, k, ctx.out.positions, rope), "k_rope", layer);

  Tensor* attended = cached_attention(ctx, q, k, v, layer);  // [head_dim_v * n_head, T]
  Tensor* gate_rows = ops::reshape(g, ops::sigmoid(g, gate), {hp.head_dim_v * hp.n_head, n_tokens});
  Tensor* gated = ctx.name(ops::mul(g, attended, gate_rows), "attn_gated", layer);
  return ctx.name(ops::mul_mat(g, ctx.require(TensorId::AttnOutput, layer), gated), "attn_output", layer);
}

}  // namespace

void build_qwen3next(GraphContext& ctx) {
  Graph& g = ctx.g;
  const int n_layer = static_cast<int>(ctx.spec.layers.size());
  Tensor* x = ctx.name(ops::get_rows(g, ctx.require(TensorId::TokenEmbd), ctx.out.tokens), "token_embd");

  for (int il = 0; il < n_layer; ++il) {
    Tensor* normed = rms_norm_weighted(ctx, x, ctx.require(TensorId::AttnNorm, il), "attn_norm", il);
    Tensor* mixed = ctx.spec.is_recurrent(il) ? gated_delta_net(ctx, normed, il)
                                              : gated_attention(ctx, normed, il);
    if (il == n_layer - 1) {
      mixed = select_outputs(ctx, mixed);
      x = select_outputs(ctx, x);
    }
    x = ctx.name(ops::add(g, x, mixed), "attn_residual", il);

    normed = rms_norm_weighted(ctx, x, ctx.require(TensorId::PostAttentionNorm, il), "post_attention_norm", il);
    x = ctx.name(ops::add(g, x, moe_ffn(ctx, normed, il)), "layer_out", il);
  }
  if (n_layer == 0) x = select_outputs(ctx, x);
  ctx.out.logits = output_head(ctx, x);
}

}  // namespace hllm
