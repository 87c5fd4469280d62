#include "models/hparams.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <variant>

#include "formats/gguf.h"
#include "util/error.h"

namespace hllm {

std::vector<HParamField> list_hparams(const HParams& hp) {
  auto integer = [](std::string_view name, int64_t value) {
    return HParamField{name, static_cast<double>(value), true};
  };
  auto real = [](std::string_view name, float value) {
    return HParamField{name, static_cast<double>(value), false};
  };
  return {
      integer("n_embd", hp.n_embd),
      integer("n_block", hp.n_block),
      integer("n_layer", hp.n_layer),
      integer("n_nextn", hp.n_nextn),
      integer("n_head", hp.n_head),
      integer("n_head_kv", hp.n_head_kv),
      integer("head_dim_k", hp.head_dim_k),
      integer("head_dim_v", hp.head_dim_v),
      integer("n_rot", hp.n_rot),
      real("rope_freq_base", hp.rope_freq_base),
      real("rms_eps", hp.rms_eps),
      integer("n_vocab", hp.n_vocab),
      integer("n_ctx_train", hp.n_ctx_train),
      integer("n_ff", hp.n_ff),
      integer("n_expert", hp.n_expert),
      integer("n_expert_used", hp.n_expert_used),
      integer("n_ff_exp", hp.n_ff_exp),
      integer("n_ff_shexp", hp.n_ff_shexp),
      integer("ssm_conv_kernel", hp.ssm_conv_kernel),
      integer("ssm_d_state", hp.ssm_d_state),
      integer("ssm_n_k_heads", hp.ssm_n_k_heads),
      integer("ssm_n_v_heads", hp.ssm_n_v_heads),
      integer("ssm_d_inner", hp.ssm_d_inner),
      integer("full_attention_interval", hp.full_attention_interval),
  };
}

HParamReader::HParamReader(const GgufFile& file, std::string_view arch)
    : file_(file), arch_(arch) {}

std::optional<int64_t> HParamReader::find_int(Key k) const {
  return file_.find_int(key(k));
}

int64_t HParamReader::require_int(Key k) const {
  const std::optional<int64_t> value = find_int(k);
  if (!value) fail("missing required metadata key {}", key(k));
  return *value;
}

int64_t HParamReader::int_or(Key k, int64_t fallback) const {
  return find_int(k).value_or(fallback);
}

float HParamReader::require_float(Key k) const {
  const std::optional<double> value = file_.find_float(key(k));
  if (!value) fail("missing required metadata key {}", key(k));
  return static_cast<float>(*value);
}

float HParamReader::float_or(Key k, float fallback) const {
  const std::optional<double> value = file_.find_float(key(k));
  return value ? static_cast<float>(*value) : fallback;
}

std::optional<int64_t> HParamReader::array_length(Key k) const {
  const GgufValue* value = file_.find(key(k));
  if (value == nullptr) return std::nullopt;
  const auto* items = std::get_if<GgufValue::Array>(&value->data);
  if (items == nullptr) {
    fail("metadata key {} should be an array but is {}", key(k), gguf_value_type_name(value->type));
  }
  return static_cast<int64_t>(items->size());
}

int64_t read_vocab_size(const HParamReader& reader) {
  if (std::optional<int64_t> tokens = reader.array_length(Key::TokenizerTokens)) return *tokens;
  const GgufTensorInfo* embedding = reader.file().find_tensor(tensor_name(TensorId::TokenEmbd));
  if (embedding != nullptr && embedding->n_dims >= 2) return embedding->ne[1];
  return reader.int_or(Key::VocabSize, 0);
}

void check_attention_hparams(const HParamReader& reader, const HParams& hp, HParamCheck& check) {
  check.positive(reader.key(Key::EmbeddingLength), hp.n_embd);
  check.positive(reader.key(Key::BlockCount), hp.n_block);
  // The bound is far above the layer count of published models (a few hundred at most) and
  // stops a corrupt count from allocating gigabytes for the layer list.
  check.at_most(reader.key(Key::BlockCount), hp.n_block, "the supported maximum", 65536);
  check.positive(reader.key(Key::ContextLength), hp.n_ctx_train);
  check.positive(reader.key(Key::HeadCount), hp.n_head);
  check.positive(reader.key(Key::HeadCountKv), hp.n_head_kv);
  check.positive(reader.key(Key::KeyLength), hp.head_dim_k);
  check.positive(reader.key(Key::ValueLength), hp.head_dim_v);
  check.positive(reader.key(Key::RopeDimensionCount), hp.n_rot);
  check.positive("vocabulary size (length of tokenizer.ggml.tokens)", hp.n_vocab);
  check.divides(reader.key(Key::HeadCountKv), hp.n_head_kv, reader.key(Key::HeadCount), hp.n_head);
  check.at_most(reader.key(Key::RopeDimensionCount), hp.n_rot, reader.key(Key::KeyLength),
                hp.head_dim_k);
  // RoPE rotates pairs of dimensions.
  check.divides("2", 2, reader.key(Key::RopeDimensionCount), hp.n_rot);
  if (!(hp.rms_eps > 0)) {
    check.add(
        fmt::format("{} must be positive, found {}", reader.key(Key::RmsEpsilon), hp.rms_eps));
  }
  if (!(hp.rope_freq_base > 0)) {
    check.add(fmt::format("{} must be positive, found {}", reader.key(Key::RopeFreqBase),
                          hp.rope_freq_base));
  }
}

void HParamCheck::positive(std::string_view name, int64_t value) {
  // The bound keeps every tensor shape computed from the hyperparameters (a sum of products of
  // two sizes) far from overflowing int64_t, whatever a hostile file stores.
  constexpr int64_t kMaxSize = int64_t{1} << 30;
  if (value <= 0 || value > kMaxSize) {
    add(fmt::format("{} must be between 1 and {}, found {}", name, kMaxSize, value));
  }
}

void HParamCheck::divides(std::string_view divisor_name, int64_t divisor, std::string_view name,
                          int64_t value) {
  // Skips a zero divisor, which positive() reports, because the division would crash.
  if (divisor > 0 && value % divisor != 0) {
    add(fmt::format("{} ({}) must be a multiple of {} ({})", name, value, divisor_name, divisor));
  }
}

void HParamCheck::at_most(std::string_view name, int64_t value, std::string_view limit_name,
                          int64_t limit) {
  if (value > limit) {
    add(fmt::format("{} ({}) must not exceed {} ({})", name, value, limit_name, limit));
  }
}

void HParamCheck::equals(std::string_view name, int64_t value, std::string_view expected_name,
                         int64_t expected) {
  if (value != expected) {
    add(fmt::format("{} ({}) must equal {} ({})", name, value, expected_name, expected));
  }
}

void HParamCheck::throw_if_failed() const {
  if (problems_.empty()) return;
  fail("invalid {} hyperparameters: {}", arch_, fmt::join(problems_, "; "));
}

}  // namespace hllm
