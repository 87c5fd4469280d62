// File types (general.file_type) and the choice of an element type for each tensor when a model
// is written in one of them.
//
// A file type names a mix, not one element type. llama.cpp's quantizer keeps vectors, norms and a
// few small matrices in their source type and stores the output projection with more bits. The
// "_M" mixes also give more bits to the value projections and to the down projections of about
// half the layers. choose_types() follows those rules (llama_tensor_get_type in llama.cpp's
// src/llama-quant.cpp) for the file types listed in file_types(), keyed on the registry's
// TensorIds rather than on tensor names. The tests check it against llama-quantize's Q8_0 and
// Q4_K_M output for a qwen3next model.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ggml_type.h"
#include "models/hparams.h"
#include "models/names.h"

namespace hllm {

struct ModelSpec;

// Version of the quantized block layouts that ggml has written since 2023.
inline constexpr uint32_t kQuantizationVersion = 2;

// llama.cpp's llama_ftype values, as stored in general.file_type. Only the types this project
// can write are listed.
enum class FileType : uint32_t {
  AllF32 = 0,
  MostlyF16 = 1,
  MostlyQ4_0 = 2,
  MostlyQ4_1 = 3,
  MostlyQ8_0 = 7,
  MostlyQ5_0 = 8,
  MostlyQ5_1 = 9,
  MostlyQ4_K_S = 14,
  MostlyQ4_K_M = 15,
  MostlyQ5_K_S = 16,
  MostlyQ5_K_M = 17,
  MostlyQ6_K = 18,
  MostlyBF16 = 32,
};

struct FileTypeInfo {
  FileType type;
  std::string_view name;  // as llama-quantize spells it: "Q4_K_M"
  GgmlType base;          // the element type of most matrices
  std::string_view description;
};

// Returns every supported file type, in llama-quantize's listing order.
const std::vector<FileTypeInfo>& file_types();
const FileTypeInfo& file_type_info(FileType type);
std::string_view file_type_name(FileType type);
// Parses a file type name case-insensitively. "Q4_K" and "Q5_K" are accepted as aliases of
// Q4_K_M and Q5_K_M, as llama-quantize accepts them. Returns nullopt for an unknown name.
std::optional<FileType> parse_file_type(std::string_view name);
// Returns the supported names separated by ", ", for help text and error messages.
std::string file_type_names();

// One tensor, as input to choose_types().
struct MixTensor {
  std::string name;
  std::optional<TensorId> id;  // nullopt for a tensor that the architecture's table does not name
  int layer = -1;              // -1 for tensors outside the decoding layers
  GgmlType source_type = GgmlType::F32;
  std::array<int64_t, 4> ne{1, 1, 1, 1};
};

// The facts about a model that the rules depend on.
struct MixModel {
  std::string arch;      // general.architecture; empty when unknown
  int64_t n_block = 0;   // block_count, nextn blocks included, as llama.cpp counts layers
  int64_t n_expert = 0;  // experts per layer (0 for dense models)
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
};

// Builds the mix's view of a model from a file that inspect_model() checked.
MixModel mix_model(const ModelSpec& spec);
// Returns every tensor of the checked file, in file order, with its TensorId where the table
// names it.
std::vector<MixTensor> mix_tensors(const ModelSpec& spec);

struct MixOptions {
  // Stores every convertible matrix in the file type's base type (llama-quantize --pure): no
  // extra bits for the output, value and down projections. The block-size fallback still applies.
  bool pure = false;
};

// The element type chosen for one tensor.
struct TypeChoice {
  GgmlType type = GgmlType::F32;       // the type to store
  GgmlType preferred = GgmlType::F32;  // the mix's choice before the block-size fallback
  bool convert = false;                // false: the tensor keeps its source type and bytes
  bool fallback = false;               // true when the rows do not fill whole blocks of preferred
};

// Returns whether a tensor is converted at all. Vectors (a single dimension after dropping
// trailing 1s), norms, ssm_conv1d, ssm_a, ssm_dt.bias and the expert router ffn_gate_inp keep
// their source type, as llama-quantize keeps them.
bool converts_tensor(const MixTensor& tensor);

// Returns the type that the field's block-size fallback picks when ne0 elements do not fill
// whole blocks of the preferred type: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, Q2_K and Q3_K to
// Q4_0. When even that does not fit, it picks F16. Returns preferred when ne0 fits its blocks.
GgmlType fallback_type(GgmlType preferred, int64_t ne0);

// Chooses the type of every tensor, in the order given. The position of a value projection among
// all of them, which the "_M" mixes depend on, is counted in llama.cpp's order (by layer, then
// by name), whatever the order of tensors.
std::vector<TypeChoice> choose_types(FileType file_type, const MixModel& model,
                                     const std::vector<MixTensor>& tensors,
                                     const MixOptions& options = {});

}  // namespace hllm
