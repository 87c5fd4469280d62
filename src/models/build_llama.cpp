// Llama: pre-norm decoder blocks with RoPE attention (grouped KV heads) and a SwiGLU
// feed-forward network.
#include "models/blocks.h"

namespace hllm {

namespace {

Tensor* llama_attention(GraphContext& ctx, Tensor* x, int layer) {
  Graph& g = ctx.g;
  const HParams& hp = ctx.spec.hp;
  const int64_t n_tokens = x->ne[1];

  Tensor* q = ops::mul_mat(g, ctx.require(TensorId::AttnQ, layer), x);
  Tensor* k = ops::mul_mat(g, ctx.require(TensorId::AttnK, layer), x);
  Tensor* v = ops::mul_mat(g, ctx.require(TensorId::AttnV, layer), x);
  q = ops::reshape(g, q, {hp.head_dim_k, hp.n_head, n_tokens});
  k = ops::reshape(g, k, {hp.head_dim_k, hp.n_head_kv, n_tokens});
  v = ops::reshape(g, v, {hp.head_dim_v, hp.n_head_kv, n_tokens});

  RopeParams rope;
  rope.mode = RopeMode::Normal;
  rope.n_dims = static_cast<int32_t>(hp.n_rot);
  rope.freq_base = hp.rope_freq_base;
  q = ctx.name(ops::rope(g, q, ctx.out.positions, rope), "q_rope", layer);
  k = ctx.name(ops::rope(g, k, ctx.out.positions, rope), "k_rope", layer);

  Tensor* attended = cached_attention(ctx, q, k, v, layer);
  return ctx.name(ops::mul_mat(g, ctx.require(TensorId::AttnOutput, layer), attended), "attn_output", layer);
}

}  // namespace

void build_llama(GraphContext& ctx) {
  Graph& g = ctx.g;
  const int n_layer = static_cast<int>(ctx.spec.layers.size());
  Tensor* x = ctx.name(ops::get_rows(g, ctx.require(TensorId::TokenEmbd), ctx.out.tokens), "token_embd");

  for (int il = 0; il < n_layer; ++il) {
    Tensor* normed = rms_norm_weighted(ctx, x, ctx.require(TensorId::AttnNorm, il), "attn_norm", il);
    Tensor* attended = llama_attention(ctx, normed, il);
    if (il == n_layer - 1) {
      attended = select_outputs(ctx, attended);
      x = select_outputs(ctx, x);
    }
    x = ctx.name(ops::add(g, x, attended), "attn_residual", il);

    normed = rms_norm_weighted(ctx, x, ctx.require(TensorId::FfnNorm, il), "ffn_norm", il);
    Tensor* ffn = swiglu_ffn(ctx, normed, ctx.require(TensorId::FfnGate, il), ctx.require(TensorId::FfnUp, il),
                             ctx.require(TensorId::FfnDown, il), il);
    x = ctx.name(ops::add(g, x, ffn), "layer_out", il);
  }
  if (n_layer == 0) x = select_outputs(ctx, x);
  ctx.out.logits = output_head(ctx, x);
}

}  // namespace hllm
