// Synthetic models: hyperparameter overrides, metadata, the tensor list from the registry, the
// weight distributions and the streamed writer.
#include "models/synth.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include "formats/gguf_writer.h"
#include "text/byte_alphabet.h"
#include "util/error.h"
#include "util/half.h"
#include "util/thread_pool.h"

namespace hllm {
namespace {

// ---- Hyperparameter names ----

// One settable hyperparameter: its GGUF key and the HParams field it sets. Exactly one of the
// two member pointers is set.
struct HParamBinding {
  Key key;
  std::string_view field;
  int64_t HParams::*integer;
  float HParams::*real;
};

const std::vector<HParamBinding>& bindings() {
  static const std::vector<HParamBinding> table{
      {Key::ContextLength, "n_ctx_train", &HParams::n_ctx_train, nullptr},
      {Key::EmbeddingLength, "n_embd", &HParams::n_embd, nullptr},
      {Key::BlockCount, "n_block", &HParams::n_block, nullptr},
      {Key::FeedForwardLength, "n_ff", &HParams::n_ff, nullptr},
      {Key::HeadCount, "n_head", &HParams::n_head, nullptr},
      {Key::HeadCountKv, "n_head_kv", &HParams::n_head_kv, nullptr},
      {Key::KeyLength, "head_dim_k", &HParams::head_dim_k, nullptr},
      {Key::ValueLength, "head_dim_v", &HParams::head_dim_v, nullptr},
      {Key::RopeFreqBase, "rope_freq_base", nullptr, &HParams::rope_freq_base},
      {Key::RopeDimensionCount, "n_rot", &HParams::n_rot, nullptr},
      {Key::RmsEpsilon, "rms_eps", nullptr, &HParams::rms_eps},
      {Key::VocabSize, "n_vocab", &HParams::n_vocab, nullptr},
      {Key::ExpertCount, "n_expert", &HParams::n_expert, nullptr},
      {Key::ExpertUsedCount, "n_expert_used", &HParams::n_expert_used, nullptr},
      {Key::ExpertFeedForwardLength, "n_ff_exp", &HParams::n_ff_exp, nullptr},
      {Key::ExpertSharedFeedForwardLength, "n_ff_shexp", &HParams::n_ff_shexp, nullptr},
      {Key::SsmConvKernel, "ssm_conv_kernel", &HParams::ssm_conv_kernel, nullptr},
      {Key::SsmStateSize, "ssm_d_state", &HParams::ssm_d_state, nullptr},
      {Key::SsmGroupCount, "ssm_n_k_heads", &HParams::ssm_n_k_heads, nullptr},
      {Key::SsmTimeStepRank, "ssm_n_v_heads", &HParams::ssm_n_v_heads, nullptr},
      {Key::SsmInnerSize, "ssm_d_inner", &HParams::ssm_d_inner, nullptr},
      {Key::FullAttentionInterval, "full_attention_interval", &HParams::full_attention_interval,
       nullptr},
      {Key::NextnPredictLayers, "n_nextn", &HParams::n_nextn, nullptr},
  };
  return table;
}

const HParamBinding& binding_of(Key key) {
  for (const HParamBinding& binding : bindings()) {
    if (binding.key == key) return binding;
  }
  fail("metadata key {} is not a settable hyperparameter", key_name(key, "<arch>"));
}

// Returns the key's name without an architecture prefix: "attention.head_count".
std::string key_suffix(Key key) {
  const std::string full = key_name(key, "arch");
  return full.substr(full.find('.') + 1);
}

const HParamBinding* find_binding(std::string_view name, std::string_view arch) {
  for (const HParamBinding& binding : bindings()) {
    if (name == binding.field || name == key_suffix(binding.key) ||
        name == key_name(binding.key, arch)) {
      return &binding;
    }
  }
  return nullptr;
}

int64_t parse_integer(std::string_view key, std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    fail("hyperparameter {}: '{}' is not an integer", key, text);
  }
  return value;
}

float parse_real(std::string_view key, std::string_view text) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value)) {
    fail("hyperparameter {}: '{}' is not a finite number", key, text);
  }
  return static_cast<float>(value);
}

// ---- Metadata ----

// The hyperparameter keys each architecture's files carry, in the order llama.cpp's converter
// writes them.
std::vector<Key> hparam_keys(const std::string& arch, const HParams& hp) {
  if (arch == "llama") {
    std::vector<Key> keys{Key::ContextLength,     Key::EmbeddingLength,    Key::BlockCount,
                          Key::FeedForwardLength, Key::RopeDimensionCount, Key::HeadCount,
                          Key::HeadCountKv,       Key::RmsEpsilon,         Key::RopeFreqBase,
                          Key::VocabSize};
    // Llama files state head dimensions only where they differ from n_embd / n_head.
    const bool derived_heads = hp.n_head > 0 && hp.n_embd % hp.n_head == 0 &&
                               hp.head_dim_k == hp.n_embd / hp.n_head &&
                               hp.head_dim_v == hp.head_dim_k;
    if (!derived_heads) {
      keys.push_back(Key::KeyLength);
      keys.push_back(Key::ValueLength);
    }
    return keys;
  }
  if (arch == "qwen3next") {
    std::vector<Key> keys{
        Key::ContextLength,
        Key::EmbeddingLength,
        Key::BlockCount,
        Key::FeedForwardLength,
        Key::HeadCount,
        Key::HeadCountKv,
        Key::KeyLength,
        Key::ValueLength,
        Key::RopeFreqBase,
        Key::RmsEpsilon,
        Key::ExpertCount,
        Key::ExpertUsedCount,
        Key::ExpertFeedForwardLength,
        Key::ExpertSharedFeedForwardLength,
        Key::SsmConvKernel,
        Key::SsmStateSize,
        Key::SsmGroupCount,
        Key::SsmTimeStepRank,
        Key::SsmInnerSize,
        Key::FullAttentionInterval,
        Key::RopeDimensionCount,
    };
    if (hp.n_nextn > 0) keys.push_back(Key::NextnPredictLayers);
    return keys;
  }
  fail("synthetic models of architecture '{}' are not supported; supported: llama, qwen3next",
       arch);
}

GgufValue hparam_value(Key key, const HParams& hp) {
  const HParamBinding& binding = binding_of(key);
  if (binding.real != nullptr) return GgufValue::f32(hp.*(binding.real));
  const int64_t value = hp.*(binding.integer);
  // Sizes are stored as uint32 like the converter writes them. The registry's reader rejects
  // out-of-range values later; here they must not wrap around silently.
  if (value < 0 || value > UINT32_MAX) {
    fail("hyperparameter {} = {} is outside the uint32 range of its GGUF key", binding.field,
         value);
  }
  return GgufValue::u32(static_cast<uint32_t>(value));
}

// Fills the derived hyperparameters that the configuration leaves 0.
HParams derive_hparams(const SynthConfig& config) {
  HParams hp = config.hp;
  const auto is_explicit = [&](std::string_view field) {
    return config.explicit_keys.count(std::string(field)) > 0;
  };
  if (hp.head_dim_k == 0 && hp.n_head > 0) {
    if (hp.n_embd % hp.n_head != 0) {
      fail("n_embd ({}) is not a multiple of n_head ({}); set attention.key_length explicitly",
           hp.n_embd, hp.n_head);
    }
    hp.head_dim_k = hp.n_embd / hp.n_head;
  }
  if (hp.head_dim_v == 0) hp.head_dim_v = hp.head_dim_k;
  if (hp.n_rot == 0) hp.n_rot = hp.head_dim_k;
  if (!is_explicit("ssm_d_inner")) hp.ssm_d_inner = hp.ssm_n_v_heads * hp.ssm_d_state;
  hp.n_layer = hp.n_block - hp.n_nextn;
  return hp;
}

// The 256 byte tokens of byte-level BPE in GPT-2's order: the bytes that the alphabet shows as
// themselves first, then the others, each in byte order.
std::vector<std::string> byte_tokens() {
  std::vector<std::string> tokens;
  for (const bool itself : {true, false}) {
    for (int b = 0; b < 256; ++b) {
      const auto byte = static_cast<uint8_t>(b);
      if (text::byte_maps_to_itself(byte) == itself) {
        tokens.push_back(text::byte_to_alphabet(byte));
      }
    }
  }
  return tokens;
}

// A minimal ChatML template, the chat format of the Qwen models, so chat front ends work.
constexpr std::string_view kChatTemplate =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

// Token types of tokenizer.ggml.token_type.
constexpr int32_t kNormalToken = 1;
constexpr int32_t kControlToken = 3;
constexpr int32_t kUnusedToken = 5;

// Adds a byte-level vocabulary of n_vocab tokens: the 256 byte tokens, three special tokens, and
// "[PAD<i>]" fillers (marked unused, as the converter pads vocabularies). Without merges every
// byte is one token, which keeps tokenization valid for any text.
void add_byte_level_vocabulary(std::vector<std::pair<std::string, GgufValue>>& metadata,
                               int64_t n_vocab) {
  std::vector<std::string> tokens = byte_tokens();
  std::vector<int32_t> types(tokens.size(), kNormalToken);
  const int64_t end_of_text = static_cast<int64_t>(tokens.size());
  for (const char* special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
    tokens.push_back(special);
    types.push_back(kControlToken);
  }
  if (n_vocab < static_cast<int64_t>(tokens.size())) {
    fail(
        "vocabulary size {} is too small for a byte-level vocabulary: it needs at least {} "
        "tokens (256 bytes and 3 special tokens)",
        n_vocab, tokens.size());
  }
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < n_vocab; ++i) {
    tokens.push_back(fmt::format("[PAD{}]", i));
    types.push_back(kUnusedToken);
  }
  GgufValue::Array type_values;
  type_values.reserve(types.size());
  for (int32_t type : types)
    type_values.push_back(GgufValue::i32(type));

  const auto id = [](int64_t value) { return GgufValue::u32(static_cast<uint32_t>(value)); };
  metadata.emplace_back("tokenizer.ggml.model", GgufValue::string("gpt2"));
  metadata.emplace_back("tokenizer.ggml.pre", GgufValue::string("qwen2"));
  metadata.emplace_back("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  metadata.emplace_back("tokenizer.ggml.token_type",
                        GgufValue::array(GgufValueType::INT32, std::move(type_values)));
  metadata.emplace_back("tokenizer.ggml.merges", GgufValue::string_array({}));
  metadata.emplace_back("tokenizer.ggml.eos_token_id", id(end_of_text + 2));  // <|im_end|>
  metadata.emplace_back("tokenizer.ggml.bos_token_id", id(end_of_text));      // <|endoftext|>
  metadata.emplace_back("tokenizer.ggml.padding_token_id", id(end_of_text));
  metadata.emplace_back("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  metadata.emplace_back("tokenizer.chat_template", GgufValue::string(std::string(kChatTemplate)));
}

// Copies the tokenizer.* keys of another file and returns its token count.
int64_t copy_vocabulary(std::vector<std::pair<std::string, GgufValue>>& metadata,
                        const std::string& path) {
  const std::unique_ptr<GgufFile> file = GgufFile::open(path);
  const GgufValue* tokens = file->find(key_name(Key::TokenizerTokens, ""));
  if (tokens == nullptr || !std::holds_alternative<GgufValue::Array>(tokens->data)) {
    fail("{}: no tokenizer.ggml.tokens array to copy the vocabulary from", path);
  }
  for (const auto& [key, value] : file->metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) metadata.emplace_back(key, value);
  }
  return static_cast<int64_t>(std::get<GgufValue::Array>(tokens->data).size());
}

std::string model_name(const SynthConfig& config) {
  const std::string base = config.preset.empty() ? config.arch : config.preset;
  return fmt::format("{} (random weights)", base);
}

// Reads the hyperparameters back with the architecture's own reader, so every rule it enforces
// holds for the file before anything is written.
HParams read_back(const std::vector<std::pair<std::string, GgufValue>>& metadata,
                  const ArchRecord& record) {
  GgufWriter writer;
  for (const auto& [key, value] : metadata)
    writer.set(key, value);
  const std::vector<uint8_t> image = writer.serialize();
  const std::unique_ptr<GgufFile> file =
      GgufFile::parse(image.data(), image.size(), "synthetic model");
  return record.read_hparams(HParamReader(*file, record.name));
}

// ---- Tensor list ----

bool entry_in_layer(const TensorSpec& entry, LayerKind kind, Layout layout, bool nextn_block) {
  if (entry.layout != Layout::Standard && entry.layout != layout) return false;
  switch (entry.scope) {
    case Scope::EveryLayer:
      return true;
    case Scope::AttentionLayers:
      // A nextn block is a full-attention layer with the nextn projections added.
      return nextn_block || kind == LayerKind::Attention || kind == LayerKind::GatedAttention;
    case Scope::DeltaNetLayers:
      return !nextn_block && kind == LayerKind::GatedDeltaNet;
    case Scope::NextnLayers:
      return nextn_block;
    case Scope::Global:
      return false;
  }
  return false;
}

std::vector<SynthTensor> list_tensors(const ArchRecord& record, const HParams& hp,
                                      const std::vector<LayerKind>& layers, Layout layout,
                                      bool tie_output) {
  std::vector<SynthTensor> tensors;
  const auto add = [&](const TensorSpec& entry, int layer) {
    SynthTensor tensor;
    tensor.name = tensor_name(entry.id, layer);
    tensor.id = entry.id;
    tensor.layer = layer;
    tensor.ne = entry.shape(hp);
    tensors.push_back(std::move(tensor));
  };
  for (const TensorSpec& entry : record.tensors) {
    if (entry.scope != Scope::Global) continue;
    // Optional globals are left out, except the output projection of an untied model.
    const bool included = entry.required || (entry.id == TensorId::Output && !tie_output);
    if (included) add(entry, -1);
  }
  for (int il = 0; il < hp.n_block; ++il) {
    const bool nextn_block = il >= hp.n_layer;
    const LayerKind kind = nextn_block ? LayerKind::GatedAttention : layers[il];
    for (const TensorSpec& entry : record.tensors) {
      if (entry_in_layer(entry, kind, layout, nextn_block)) add(entry, il);
    }
  }
  return tensors;
}

void assign_types(SynthPlan& plan) {
  const std::vector<TypeChoice> choices =
      choose_types(plan.config.file_type, synth_mix_model(plan), synth_mix_tensors(plan));
  const GgmlType base = file_type_info(plan.config.file_type).base;
  plan.tensor_bytes = 0;
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    SynthTensor& tensor = plan.tensors[i];
    tensor.type = choices[i].type;
    // The converter writes the expert router in a float file's type, while llama-quantize keeps
    // it in its source type. A float file type here stands for a converted file, a quantized one
    // for llama-quantize's output from F32.
    if (tensor.id == TensorId::FfnGateInp && !type_traits(base).quantized) tensor.type = base;
    plan.tensor_bytes += row_size(tensor.type, tensor.ne[0]) * (tensor.n_elements() / tensor.ne[0]);
  }
}

// ---- Weight values ----

// Distribution of a tensor's values.
enum class InitKind {
  Normal,     // Gaussian with mean 0 and the rule's scale as standard deviation
  NearOne,    // 1 + a small Gaussian: RMS norm weights, as stored after conversion
  DecayRate,  // ssm_a = -exp(A_log), A_log uniform in [0, log 16)
  TimeStep,   // ssm_dt.bias = softplus^-1(dt), dt log-uniform in [0.001, 0.1)
};

struct InitRule {
  InitKind kind;
  float scale;
};

// Chooses each tensor's distribution so activations keep a scale near 1:
//  - a projection [n_in, n_out] draws from N(0, 1 / n_in), so its outputs have the variance of
//    its inputs (this covers ssm_conv1d, whose rows are the kernel taps, and the router);
//  - token embeddings draw from N(0, 1), the scale the first RMS norm expects;
//  - norms are 1 + N(0, 0.02^2): near identity but not constant, so a wrong norm shows;
//  - ssm_a and ssm_dt.bias follow the initialization of the published gated DeltaNet models,
//    which gives decays between fast and slow so the recurrent state carries information;
//  - the shared expert's gate vector draws from N(0, 1 / n_embd), so its sigmoid varies.
InitRule init_rule(const SynthTensor& tensor) {
  switch (tensor.id) {
    case TensorId::TokenEmbd:
    case TensorId::NextnEmbedTokens:
      return {InitKind::Normal, 1.0f};
    case TensorId::SsmA:
      return {InitKind::DecayRate, 0.0f};
    case TensorId::SsmDtBias:
      return {InitKind::TimeStep, 0.0f};
    case TensorId::FfnGateInpShexp:
      return {InitKind::Normal, 1.0f / std::sqrt(static_cast<float>(tensor.ne[0]))};
    default:
      break;
  }
  if (tensor.ne.size() == 1) return {InitKind::NearOne, 0.02f};
  return {InitKind::Normal, 1.0f / std::sqrt(static_cast<float>(tensor.ne[0]))};
}

// splitmix64's output function: a bijective mix of 64 bits.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// FNV-1a, so each tensor's stream depends on its name and not on its position in the file.
uint64_t hash_name(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;
constexpr double kTwoPi = 6.283185307179586;

// Two independent uniforms in (0, 1) from element i of a stream.
std::pair<double, double> uniforms(uint64_t stream, int64_t i) {
  const uint64_t bits = mix64(stream + static_cast<uint64_t>(i + 1) * kGoldenGamma);
  constexpr double kScale = 1.0 / 4294967296.0;
  return {((bits >> 32) + 0.5) * kScale, ((bits & 0xffffffffu) + 0.5) * kScale};
}

float draw(const InitRule& rule, uint64_t stream, int64_t i) {
  const auto [u1, u2] = uniforms(stream, i);
  switch (rule.kind) {
    case InitKind::Normal:
    case InitKind::NearOne: {
      // Box-Muller with one of the two outputs.
      const double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
      const double base = rule.kind == InitKind::NearOne ? 1.0 : 0.0;
      return static_cast<float>(base + rule.scale * normal);
    }
    case InitKind::DecayRate:
      return static_cast<float>(-std::exp(u1 * std::log(16.0)));
    case InitKind::TimeStep: {
      const double dt = std::exp(std::log(1e-3) + u1 * (std::log(1e-1) - std::log(1e-3)));
      return static_cast<float>(dt + std::log(-std::expm1(-dt)));  // softplus^-1(dt)
    }
  }
  return 0.0f;
}

// Elements generated and encoded per step when writing: bounds the float buffer at 16 MiB.
constexpr int64_t kChunkElements = int64_t{1} << 22;

}  // namespace

void set_synth_hparam(SynthConfig& config, std::string_view key, std::string_view value) {
  const HParamBinding* binding = find_binding(key, config.arch);
  if (binding == nullptr) {
    fail("unknown hyperparameter '{}'; known: {}", key, fmt::join(synth_hparam_keys(), ", "));
  }
  if (binding->integer != nullptr) {
    config.hp.*(binding->integer) = parse_integer(key, value);
  } else {
    config.hp.*(binding->real) = parse_real(key, value);
  }
  config.explicit_keys.insert(std::string(binding->field));
}

std::vector<std::string> synth_hparam_keys() {
  std::vector<std::string> keys;
  for (const HParamBinding& binding : bindings())
    keys.push_back(key_suffix(binding.key));
  return keys;
}

int64_t SynthTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne)
    n *= d;
  return n;
}

MixModel synth_mix_model(const SynthPlan& plan) {
  MixModel model;
  model.arch = plan.config.arch;
  model.n_block = plan.hp.n_block;
  model.n_expert = plan.hp.n_expert;
  model.n_head = plan.hp.n_head;
  model.n_head_kv = plan.hp.n_head_kv;
  return model;
}

std::vector<MixTensor> synth_mix_tensors(const SynthPlan& plan) {
  std::vector<MixTensor> mix;
  for (const SynthTensor& tensor : plan.tensors) {
    MixTensor entry;
    entry.name = tensor.name;
    entry.id = tensor.id;
    entry.layer = tensor.layer;
    entry.source_type = GgmlType::F32;
    std::copy(tensor.ne.begin(), tensor.ne.end(), entry.ne.begin());
    mix.push_back(std::move(entry));
  }
  return mix;
}

SynthPlan plan_synth_model(const SynthConfig& config) {
  const ArchRecord& record = find_arch(config.arch);
  if (std::find(record.layouts.begin(), record.layouts.end(), config.layout) ==
      record.layouts.end()) {
    fail("layout '{}' does not exist for architecture {}", layout_name(config.layout), config.arch);
  }
  SynthPlan plan;
  plan.config = config;
  HParams hp = derive_hparams(config);

  const FileTypeInfo& file_type = file_type_info(config.file_type);
  std::vector<std::pair<std::string, GgufValue>> vocabulary;
  if (!config.vocab_from.empty()) hp.n_vocab = copy_vocabulary(vocabulary, config.vocab_from);
  if (config.vocab_from.empty()) add_byte_level_vocabulary(vocabulary, hp.n_vocab);

  auto& metadata = plan.metadata;
  metadata.emplace_back(key_name(Key::GeneralArchitecture, ""), GgufValue::string(config.arch));
  metadata.emplace_back(key_name(Key::GeneralName, ""), GgufValue::string(model_name(config)));
  for (Key key : hparam_keys(config.arch, hp)) {
    metadata.emplace_back(key_name(key, config.arch), hparam_value(key, hp));
  }
  metadata.emplace_back(key_name(Key::GeneralFileType, ""),
                        GgufValue::u32(static_cast<uint32_t>(config.file_type)));
  if (type_traits(file_type.base).quantized) {
    metadata.emplace_back(key_name(Key::GeneralQuantizationVersion, ""),
                          GgufValue::u32(kQuantizationVersion));
  }
  for (auto& entry : vocabulary)
    metadata.push_back(std::move(entry));

  plan.hp = read_back(metadata, record);
  plan.layers = record.layer_pattern(plan.hp);
  plan.tensors = list_tensors(record, plan.hp, plan.layers, config.layout, config.tie_output);
  assign_types(plan);
  return plan;
}

void generate_tensor_values(const SynthPlan& plan, size_t index, int64_t first, int64_t count,
                            float* out) {
  HLLM_CHECK(index < plan.tensors.size(), "tensor index {} is out of range: the plan has {}", index,
             plan.tensors.size());
  const SynthTensor& tensor = plan.tensors[index];
  HLLM_CHECK(first >= 0 && count >= 0 && first + count <= tensor.n_elements(),
             "tensor {}: elements [{}, {}) are outside its {} elements", tensor.name, first,
             first + count, tensor.n_elements());
  const InitRule rule = init_rule(tensor);
  const uint64_t stream = mix64(plan.config.seed * kGoldenGamma) ^ hash_name(tensor.name);
  for (int64_t i = 0; i < count; ++i)
    out[i] = draw(rule, stream, first + i);
}

size_t encode_float_rows(GgmlType type, const float* src, void* dst, int64_t n_rows,
                         int64_t n_per_row, const float* /*importance*/) {
  const int64_t n = n_rows * n_per_row;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return n * sizeof(float);
    case GgmlType::F16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i)
        out[i] = float_to_fp16(src[i]);
      return n * sizeof(uint16_t);
    }
    case GgmlType::BF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i)
        out[i] = float_to_bf16(src[i]);
      return n * sizeof(uint16_t);
    }
    default:
      fail(
          "encode_float_rows cannot write {}: pass a quantizer (quantize_rows) for quantized "
          "types",
          type_name(type));
  }
}

void write_synth_model(const SynthPlan& plan, const std::string& path, ThreadPool& pool,
                       RowEncoder encoder, const SynthProgressFn& progress) {
  GgufWriter writer;
  for (const auto& [key, value] : plan.metadata)
    writer.set(key, value);
  for (const SynthTensor& tensor : plan.tensors)
    writer.add_tensor(tensor.name, tensor.type, tensor.ne);
  writer.begin(path);

  std::vector<float> values;
  std::vector<uint8_t> bytes;
  uint64_t bytes_written = 0;
  for (size_t index = 0; index < plan.tensors.size(); ++index) {
    const SynthTensor& tensor = plan.tensors[index];
    const int64_t n_per_row = tensor.ne[0];
    const int64_t n_rows = tensor.n_elements() / n_per_row;
    const size_t bytes_per_row = row_size(tensor.type, n_per_row);
    bytes.resize(bytes_per_row * n_rows);
    const int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElements / n_per_row);
    values.resize(std::min(n_rows, rows_per_chunk) * n_per_row);

    for (int64_t chunk = 0; chunk < n_rows; chunk += rows_per_chunk) {
      const int64_t chunk_rows = std::min(rows_per_chunk, n_rows - chunk);
      pool.parallel_for(chunk_rows, [&](int64_t begin, int64_t end) {
        float* rows = values.data() + begin * n_per_row;
        generate_tensor_values(plan, index, (chunk + begin) * n_per_row, (end - begin) * n_per_row,
                               rows);
        encoder(tensor.type, rows, bytes.data() + (chunk + begin) * bytes_per_row, end - begin,
                n_per_row, nullptr);
      });
    }
    writer.write_tensor_data(index, bytes.data(), bytes.size());
    bytes_written += bytes.size();
    if (progress) {
      progress({index, plan.tensors.size(), tensor.name, bytes_written, plan.tensor_bytes});
    }
  }
  writer.finish();
}

}  // namespace hllm
