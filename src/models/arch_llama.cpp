// llama: the dense decoder of Llama 1/2/3 and TinyStories. Every layer is RMS norm, attention
// with RoPE and grouped key/value heads, RMS norm, and a SwiGLU feed-forward block.
#include "models/registry.h"

namespace hllm {
namespace {

using arch::attn_k;
using arch::attn_output;
using arch::attn_v;
using arch::embd_vector;
using arch::global;
using arch::layer;
using arch::token_embd;

HParams read_llama_hparams(const HParamReader& reader) {
  HParams hp;
  hp.n_embd = reader.require_int(Key::EmbeddingLength);
  hp.n_block = reader.require_int(Key::BlockCount);
  hp.n_layer = hp.n_block;
  hp.n_ff = reader.require_int(Key::FeedForwardLength);
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

  HParamCheck check("llama");
  check_attention_hparams(reader, hp, check);
  if (!reader.find_int(Key::KeyLength)) {
    check.divides(reader.key(Key::HeadCount), hp.n_head, reader.key(Key::EmbeddingLength),
                  hp.n_embd);
  }
  check.positive(reader.key(Key::FeedForwardLength), hp.n_ff);
  check.throw_if_failed();
  return hp;
}

std::vector<LayerKind> llama_layers(const HParams& hp) {
  return std::vector<LayerKind>(hp.n_layer, LayerKind::Attention);
}

// Tensor shapes, fastest dimension first, beyond the shared ones of arch::. A projection
// [n_in, n_out] maps n_in to n_out.
Shape rope_freqs(const HParams& hp) {
  return {hp.n_rot / 2};
}
Shape attn_q(const HParams& hp) {
  return {hp.n_embd, hp.n_head * hp.head_dim_k};
}
Shape ffn_in(const HParams& hp) {
  return {hp.n_embd, hp.n_ff};
}
Shape ffn_down(const HParams& hp) {
  return {hp.n_ff, hp.n_embd};
}

ArchRecord make_llama() {
  constexpr TypeRule kAny = TypeRule::Any;
  constexpr TypeRule kFloat = TypeRule::FloatOnly;
  constexpr Scope kEvery = Scope::EveryLayer;
  ArchRecord record;
  record.name = "llama";
  record.description = "dense decoder: attention with RoPE and a SwiGLU feed-forward block";
  record.read_hparams = read_llama_hparams;
  record.layer_pattern = llama_layers;
  record.layouts = {Layout::Standard};
  record.tensors = {
      global(TensorId::TokenEmbd, Role::Input, true, kAny, token_embd),
      global(TensorId::OutputNorm, Role::Output, true, kFloat, embd_vector),
      // Without an output projection, the vocabulary projection reuses token_embd.
      global(TensorId::Output, Role::Output, false, kAny, token_embd),
      // Llama 3.1 stores its frequency scaling factors for long contexts here.
      global(TensorId::RopeFreqs, Role::Layer, false, kFloat, rope_freqs),
      layer(TensorId::AttnNorm, kEvery, kFloat, embd_vector),
      layer(TensorId::AttnQ, kEvery, kAny, attn_q),
      layer(TensorId::AttnK, kEvery, kAny, attn_k),
      layer(TensorId::AttnV, kEvery, kAny, attn_v),
      layer(TensorId::AttnOutput, kEvery, kAny, attn_output),
      layer(TensorId::FfnNorm, kEvery, kFloat, embd_vector),
      layer(TensorId::FfnGate, kEvery, kAny, ffn_in),
      layer(TensorId::FfnUp, kEvery, kAny, ffn_in),
      layer(TensorId::FfnDown, kEvery, kAny, ffn_down),
  };
  return record;
}

}  // namespace

const ArchRecord& llama_arch() {
  static const ArchRecord record = make_llama();
  return record;
}

}  // namespace hllm
