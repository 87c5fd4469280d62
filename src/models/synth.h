// Synthetic models: GGUF files with random weights at the shapes of published models, so that
// speed can be measured at real layer sizes without downloading the weights.
//
// The tensor list comes from the architecture's record in the registry, and the hyperparameters
// are read back through the record's own reader before anything is written, so a synthetic file
// passes describe_model() by construction. Keys, names, shapes and the types of vectors, norms,
// ssm_conv1d and the expert router follow the files that llama.cpp's converter and quantizer
// write, so llama.cpp loads them too.
//
// Weights are drawn so that activations keep a scale near 1 through every layer (see
// synth.cpp for each distribution); they come from a counter-based generator keyed by the seed
// and the tensor name, so a tensor's values do not depend on the thread count, the file type or
// which other tensors the file holds.
//
// Typical use:
//
//   SynthConfig config = synth_config_from_preset("qwen3next-80b-a3b");
//   set_synth_hparam(config, "block_count", "8");
//   config.file_type = FileType::MostlyQ8_0;
//   SynthPlan plan = plan_synth_model(config);
//   ThreadPool pool(8);
//   write_synth_model(plan, "out.gguf", pool, quantize_rows);  // formats/quant/quant.h
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/gguf.h"
#include "models/hparams.h"
#include "models/quant_mix.h"
#include "models/registry.h"

namespace hllm {

class ThreadPool;

// Everything a synthetic model is built from.
struct SynthConfig {
  std::string arch;    // general.architecture
  std::string preset;  // the preset it started from, for general.name
  // Hyperparameters as the registry's HParams. n_block counts nextn blocks; n_layer is derived
  // from it. head_dim_k, head_dim_v, n_rot and ssm_d_inner may be 0, meaning derived:
  // n_embd / n_head, head_dim_k, head_dim_k and ssm_n_v_heads * ssm_d_state.
  HParams hp;
  // qwen3next: SplitQkvGate (attn_qkv + attn_gate) or FusedSsmIn; Standard for llama.
  Layout layout = Layout::Standard;
  FileType file_type = FileType::MostlyF16;
  uint64_t seed = 0;
  // Leave out output.weight, so the vocabulary projection reuses token_embd.
  bool tie_output = false;
  // A GGUF file whose tokenizer.* keys are copied; its token count sets the vocabulary size.
  // Empty: a byte-level vocabulary of hp.n_vocab tokens is generated.
  std::string vocab_from;
  // Hyperparameter names set by set_synth_hparam(), so derived values do not override them.
  std::set<std::string> explicit_keys;
};

// Published hyperparameters of one model.
struct SynthPreset {
  std::string_view name;
  std::string_view arch;
  std::string_view description;
  HParams hp;
};

// Returns every preset, by architecture and size.
const std::vector<SynthPreset>& synth_presets();
// Returns the preset with that name. Throws Error listing the known presets.
const SynthPreset& find_synth_preset(std::string_view name);
// Returns a configuration holding a preset's hyperparameters and its architecture's default
// layout.
SynthConfig synth_config_from_preset(std::string_view name);

// Sets one hyperparameter. key is a GGUF key, with or without the architecture prefix
// ("attention.head_count", "qwen3next.expert_count"), or an HParams field name ("n_head").
// Throws Error for an unknown key or a value that is not a number.
void set_synth_hparam(SynthConfig& config, std::string_view key, std::string_view value);
// Returns the keys set_synth_hparam() accepts, as GGUF key suffixes.
std::vector<std::string> synth_hparam_keys();

// One tensor of a planned file.
struct SynthTensor {
  std::string name;
  TensorId id;
  int layer = -1;  // -1 for global tensors
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> ne;  // fastest dimension first
  int64_t n_elements() const;
};

// A synthetic file, ready to write.
struct SynthPlan {
  SynthConfig config;
  HParams hp;  // as the registry's reader reads them back from the metadata
  std::vector<LayerKind> layers;
  std::vector<std::pair<std::string, GgufValue>> metadata;  // in file order
  std::vector<SynthTensor> tensors;                         // in file order
  uint64_t tensor_bytes = 0;                                // sum of the tensors' data sizes
};

// Derives the missing hyperparameters, builds the metadata (copying the tokenizer when
// config.vocab_from is set), checks it with the architecture's reader, and lists the tensors with
// their types. Throws Error naming every broken hyperparameter rule.
SynthPlan plan_synth_model(const SynthConfig& config);

// Returns the plan's model and tensors (from F32 sources) as the quantization mixes take them.
MixModel synth_mix_model(const SynthPlan& plan);
std::vector<MixTensor> synth_mix_tensors(const SynthPlan& plan);

// Writes count values of tensor index, starting at element first (row-major, fastest dimension
// first), into out. The same arguments always give the same values.
void generate_tensor_values(const SynthPlan& plan, size_t index, int64_t first, int64_t count,
                            float* out);

// Converts n_rows rows of n_per_row floats into type and returns the bytes written, with the
// signature of quantize_rows() in formats/quant/quant.h. importance may be null.
using RowEncoder = size_t (*)(GgmlType type, const float* src, void* dst, int64_t n_rows,
                              int64_t n_per_row, const float* importance);

// A RowEncoder for F32, F16 and BF16 only. Throws Error for other types; pass quantize_rows to
// write quantized files.
size_t encode_float_rows(GgmlType type, const float* src, void* dst, int64_t n_rows,
                         int64_t n_per_row, const float* importance);

struct SynthProgress {
  size_t tensor_index = 0;  // the tensor just written
  size_t tensor_count = 0;
  std::string_view tensor_name;
  uint64_t bytes_written = 0;  // tensor data written so far, this tensor included
  uint64_t bytes_total = 0;
};

using SynthProgressFn = std::function<void(const SynthProgress&)>;

// Writes the planned file to path, one tensor at a time: memory holds one tensor's encoded bytes
// plus a bounded buffer of floats. Values are generated and encoded on every thread of pool.
void write_synth_model(const SynthPlan& plan, const std::string& path, ThreadPool& pool,
                       RowEncoder encoder = encode_float_rows,
                       const SynthProgressFn& progress = {});

}  // namespace hllm
