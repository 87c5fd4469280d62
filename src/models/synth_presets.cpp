// Presets of published model sizes for synthetic models.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/synth.h"
#include "util/error.h"

namespace hllm {
namespace {

// Qwen3-Next-80B-A3B, from its published config.json: partial_rotary_factor 0.25 of head_dim
// 256 gives 64 rotated dimensions; the linear attention has 16 key heads and 32 value heads of
// dimension 128. ssm_d_inner is derived (32 * 128).
HParams qwen3next_80b_a3b() {
  HParams hp;
  hp.n_embd = 2048;
  hp.n_block = 48;
  hp.n_head = 16;
  hp.n_head_kv = 2;
  hp.head_dim_k = 256;
  hp.head_dim_v = 256;
  hp.n_rot = 64;
  hp.rope_freq_base = 10'000'000.0f;
  hp.rms_eps = 1e-6f;
  hp.n_vocab = 151'936;
  hp.n_ctx_train = 262'144;
  hp.n_ff = 5120;
  hp.n_expert = 512;
  hp.n_expert_used = 10;
  hp.n_ff_exp = 512;
  hp.n_ff_shexp = 512;
  hp.ssm_conv_kernel = 4;
  hp.ssm_d_state = 128;
  hp.ssm_n_k_heads = 16;
  hp.ssm_n_v_heads = 32;
  hp.full_attention_interval = 4;
  return hp;
}

// The shape of the small qwen3next test models: 4 layers, the last one full attention.
HParams qwen3next_tiny() {
  HParams hp;
  hp.n_embd = 256;
  hp.n_block = 4;
  hp.n_head = 4;
  hp.n_head_kv = 2;
  hp.head_dim_k = 64;
  hp.head_dim_v = 64;
  hp.n_rot = 16;
  hp.rope_freq_base = 10'000'000.0f;
  hp.rms_eps = 1e-6f;
  hp.n_vocab = 2074;
  hp.n_ctx_train = 4096;
  hp.n_ff = 64;
  hp.n_expert = 8;
  hp.n_expert_used = 2;
  hp.n_ff_exp = 64;
  hp.n_ff_shexp = 64;
  hp.ssm_conv_kernel = 4;
  hp.ssm_d_state = 32;
  hp.ssm_n_k_heads = 2;
  hp.ssm_n_v_heads = 4;
  hp.full_attention_interval = 4;
  return hp;
}

// A Llama-family decoder. Head dimensions and RoPE dimensions are left 0, so they follow
// n_embd / n_head as in the published files.
HParams llama(int64_t n_embd, int64_t n_block, int64_t n_head, int64_t n_head_kv, int64_t n_ff,
              int64_t n_vocab, int64_t n_ctx_train, float rope_freq_base, float rms_eps) {
  HParams hp;
  hp.n_embd = n_embd;
  hp.n_block = n_block;
  hp.n_head = n_head;
  hp.n_head_kv = n_head_kv;
  hp.n_ff = n_ff;
  hp.n_vocab = n_vocab;
  hp.n_ctx_train = n_ctx_train;
  hp.rope_freq_base = rope_freq_base;
  hp.rms_eps = rms_eps;
  return hp;
}

std::vector<SynthPreset> make_presets() {
  return {
      {"qwen3next-80b-a3b", "qwen3next", "Qwen3-Next-80B-A3B: 48 layers, 512 experts, 10 active",
       qwen3next_80b_a3b()},
      {"qwen3next-tiny", "qwen3next", "4 layers of width 256, 8 experts: the test fixture's shape",
       qwen3next_tiny()},
      {"stories-15m", "llama", "TinyStories 15M (llama2.c): 6 layers of width 288",
       llama(288, 6, 6, 6, 768, 32000, 256, 10000.0f, 1e-5f)},
      {"tinyllama-1.1b", "llama", "TinyLlama 1.1B: 22 layers of width 2048, 4 KV heads",
       llama(2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f)},
      {"llama-7b", "llama", "Llama 2 7B: 32 layers of width 4096",
       llama(4096, 32, 32, 32, 11008, 32000, 4096, 10000.0f, 1e-5f)},
      {"llama-13b", "llama", "Llama 2 13B: 40 layers of width 5120",
       llama(5120, 40, 40, 40, 13824, 32000, 4096, 10000.0f, 1e-5f)},
      {"llama3-8b", "llama", "Llama 3 8B: 32 layers of width 4096, 8 KV heads",
       llama(4096, 32, 32, 8, 14336, 128256, 8192, 500000.0f, 1e-5f)},
      {"llama3-70b", "llama", "Llama 3 70B: 80 layers of width 8192, 8 KV heads",
       llama(8192, 80, 64, 8, 28672, 128256, 8192, 500000.0f, 1e-5f)},
  };
}

}  // namespace

const std::vector<SynthPreset>& synth_presets() {
  static const std::vector<SynthPreset> presets = make_presets();
  return presets;
}

const SynthPreset& find_synth_preset(std::string_view name) {
  std::vector<std::string_view> names;
  for (const SynthPreset& preset : synth_presets()) {
    if (preset.name == name) return preset;
    names.push_back(preset.name);
  }
  fail("unknown preset '{}'; known presets: {}", name, fmt::join(names, ", "));
}

SynthConfig synth_config_from_preset(std::string_view name) {
  const SynthPreset& preset = find_synth_preset(name);
  SynthConfig config;
  config.arch = std::string(preset.arch);
  config.preset = std::string(preset.name);
  config.hp = preset.hp;
  const ArchRecord& record = find_arch(preset.arch);
  // The first layout of a record is the newest one.
  config.layout = record.layouts.empty() ? Layout::Standard : record.layouts.front();
  return config;
}

}  // namespace hllm
