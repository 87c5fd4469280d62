// Hyperparameters of a model, read from GGUF metadata, and the reader the architecture records
// use to fetch them by Key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/names.h"

namespace hllm {

class GgufFile;

// Every hyperparameter the registered architectures need. Fields an architecture does not use
// stay 0. Sizes count elements; head dimensions are per head.
struct HParams {
  int64_t n_embd = 0;         // width of the residual stream
  int64_t n_block = 0;        // block_count: decoding layers plus trailing nextn blocks
  int64_t n_layer = 0;        // decoding layers: n_block - n_nextn
  int64_t n_nextn = 0;        // trailing multi-token-prediction blocks
  int64_t n_head = 0;         // query heads
  int64_t n_head_kv = 0;      // key/value heads
  int64_t head_dim_k = 0;     // query and key dimension per head
  int64_t head_dim_v = 0;     // value dimension per head
  int64_t n_rot = 0;          // leading dimensions of each head that RoPE rotates
  float rope_freq_base = 0;   // RoPE base frequency (theta)
  float rms_eps = 0;          // epsilon of every RMS norm
  int64_t n_vocab = 0;        // token count
  int64_t n_ctx_train = 0;    // context length the model was trained with
  int64_t n_ff = 0;           // hidden width of a dense feed-forward block
  int64_t n_expert = 0;       // experts per MoE layer
  int64_t n_expert_used = 0;  // experts each token is routed to
  int64_t n_ff_exp = 0;       // hidden width of one expert
  int64_t n_ff_shexp = 0;     // hidden width of the shared expert
  // Gated DeltaNet. Keys and values share one head dimension, ssm_d_state.
  int64_t ssm_conv_kernel = 0;          // width of the causal convolution over q, k and v
  int64_t ssm_d_state = 0;              // head dimension of linear attention (d_k = d_v)
  int64_t ssm_n_k_heads = 0;            // key heads (ssm.group_count)
  int64_t ssm_n_v_heads = 0;            // value heads (ssm.time_step_rank)
  int64_t ssm_d_inner = 0;              // ssm_n_v_heads * ssm_d_state
  int64_t full_attention_interval = 0;  // every interval-th layer is full attention
};

// One hyperparameter as a name and a value, for reports.
struct HParamField {
  std::string_view name;
  double value;
  bool is_integer;
};

// Returns every field of hp in declaration order.
std::vector<HParamField> list_hparams(const HParams& hp);

// Reads the keys of one architecture from a file. Every error names the full key; the caller
// adds the file name.
class HParamReader {
 public:
  HParamReader(const GgufFile& file, std::string_view arch);

  int64_t require_int(Key key) const;
  int64_t int_or(Key key, int64_t fallback) const;
  std::optional<int64_t> find_int(Key key) const;
  float require_float(Key key) const;
  float float_or(Key key, float fallback) const;
  // Returns the length of an array value, or nullopt when the key is missing.
  std::optional<int64_t> array_length(Key key) const;

  const GgufFile& file() const { return file_; }
  std::string key(Key key) const { return key_name(key, arch_); }

 private:
  const GgufFile& file_;
  std::string arch_;
};

// Collects the hyperparameter rules a model breaks, so that one error can list all of them.
class HParamCheck {
 public:
  explicit HParamCheck(std::string arch) : arch_(std::move(arch)) {}

  void positive(std::string_view name, int64_t value);
  void divides(std::string_view divisor_name, int64_t divisor, std::string_view name,
               int64_t value);
  void at_most(std::string_view name, int64_t value, std::string_view limit_name, int64_t limit);
  void equals(std::string_view name, int64_t value, std::string_view expected_name,
              int64_t expected);
  void add(std::string message) { problems_.push_back(std::move(message)); }

  // Throws one Error listing every broken rule. Does nothing when all hold.
  void throw_if_failed() const;

 private:
  std::string arch_;
  std::vector<std::string> problems_;
};

// Returns the vocabulary size: the length of tokenizer.ggml.tokens, else the row count of
// token_embd, else <arch>.vocab_size, else 0.
int64_t read_vocab_size(const HParamReader& reader);

// Adds the rules every attention model obeys: positive sizes, query heads a multiple of key/value
// heads, RoPE dimensions even and at most the head dimension, positive epsilon and RoPE base.
void check_attention_hparams(const HParamReader& reader, const HParams& hp, HParamCheck& check);

}  // namespace hllm
