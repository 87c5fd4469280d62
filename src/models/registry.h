// The architecture registry: one record per architecture with its hyperparameter reader, layer
// pattern and tensor table, and describe_model(), which checks a GGUF file against its record.
//
// Shapes are listed fastest dimension first, as GGUF stores them (ne[0] is the row length).
//
// Typical use by a graph builder:
//
//   auto file = GgufFile::open(path);
//   ModelSpec spec = describe_model(*file);   // throws Error on any problem
//   for (int il = 0; il < spec.hp.n_layer; ++il) {
//     if (spec.layers[il] == LayerKind::GatedDeltaNet && spec.layout == Layout::FusedSsmIn) {
//       const GgufTensorInfo& ssm_in = spec.require(TensorId::SsmIn, il);
//       ...
//
// A ModelSpec points into the GgufFile it describes, which must outlive it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/hparams.h"
#include "models/names.h"

namespace hllm {

class GgufFile;
struct GgufTensorInfo;

// The computation of one decoding layer.
enum class LayerKind {
  Attention,       // softmax attention with RoPE (llama)
  GatedAttention,  // softmax attention whose output is gated per head (qwen3next)
  GatedDeltaNet,   // recurrent linear attention with a gated delta rule (qwen3next)
};

// The arrangement of an architecture's weights in a file, where published conversions differ.
enum class Layout {
  Standard,      // the only layout of the architecture, or no layer depends on the layout
  FusedSsmIn,    // qwen3next, older files: one ssm_in projection yields q, k, v and the gate z
  SplitQkvGate,  // qwen3next, newer files: attn_qkv yields q, k, v and attn_gate yields z
};

// The part of the model that uses a weight. Placement on devices is decided later from the
// graph, not from the role.
enum class Role {
  Input,   // read by the token embedding lookup
  Layer,   // used inside the decoding layers (or the nextn blocks)
  Output,  // used by the final norm and the vocabulary projection
};

// The blocks a tensor table entry applies to.
enum class Scope {
  Global,           // one tensor for the whole model
  EveryLayer,       // every decoding layer
  AttentionLayers,  // layers of kind Attention or GatedAttention
  DeltaNetLayers,   // layers of kind GatedDeltaNet
  NextnLayers,      // only the trailing nextn blocks
};

// The element types a tensor may have. Shapes never depend on the type.
enum class TypeRule {
  Any,        // any type the GGUF reader accepts, quantized ones included
  FloatOnly,  // F32, F16 or BF16: vectors that kernels read element by element
};

using Shape = std::vector<int64_t>;

// One weight of an architecture. Its GGUF name and aliases come from names.h.
struct TensorSpec {
  TensorId id;
  Role role;
  Scope scope;
  bool required;
  // Standard means present in every layout. Any other value means only in files of that layout.
  Layout layout;
  TypeRule types;
  Shape (*shape)(const HParams& hp);  // expected ne, fastest dimension first
};

// Builders and shapes that several architecture records use in their tensor tables.
namespace arch {

using ShapeFn = Shape (*)(const HParams& hp);

// Returns the spec of a tensor outside the per-layer tables, in files of every layout.
TensorSpec global(TensorId id, Role role, bool required, TypeRule types, ShapeFn shape);

// Returns the spec of a required tensor of every layer in scope, present in files of layout.
TensorSpec layer(TensorId id, Scope scope, TypeRule types, ShapeFn shape,
                 Layout layout = Layout::Standard);

// Shapes, fastest dimension first. A projection [n_in, n_out] maps n_in to n_out.
Shape embd_vector(const HParams& hp);  // [n_embd]: norms of the residual stream
Shape token_embd(const HParams& hp);   // [n_embd, n_vocab]
Shape attn_k(const HParams& hp);       // [n_embd, n_head_kv * head_dim_k]
Shape attn_v(const HParams& hp);       // [n_embd, n_head_kv * head_dim_v]
Shape attn_output(const HParams& hp);  // [n_head * head_dim_v, n_embd]

}  // namespace arch

// One architecture.
struct ArchRecord {
  std::string_view name;  // general.architecture, and the prefix of its metadata keys
  std::string_view description;
  // Reads and validates the hyperparameters. Throws Error naming every missing key and broken
  // rule.
  HParams (*read_hparams)(const HParamReader& reader);
  // Returns the kind of each decoding layer (nextn blocks excluded).
  std::vector<LayerKind> (*layer_pattern)(const HParams& hp);
  // Layouts the files of this architecture come in (only Standard when there is one).
  std::vector<Layout> layouts;
  std::vector<TensorSpec> tensors;

  const TensorSpec* find_spec(TensorId id) const;
};

// Returns the record for general.architecture = name. Throws Error naming the architecture and
// listing the known ones.
const ArchRecord& find_arch(std::string_view name);
// Returns nullptr for an unknown name.
const ArchRecord* find_arch_or_null(std::string_view name);
// Returns every registered record, by name.
const std::vector<const ArchRecord*>& known_archs();

// Problems found while checking a file against its record.
enum class Severity { Warning, Error };
enum class FindingKind {
  // The next two are warnings in a file without tensors, which may hold only a vocabulary.
  UnknownArch,      // general.architecture names no record or is missing
  BadHParams,       // a key is missing or a hyperparameter rule is broken
  MissingTensor,    // a required tensor is absent
  ShapeMismatch,    // a tensor's shape differs from the table's
  TypeMismatch,     // a tensor's element type is not allowed by the table
  IncompleteLayer,  // a layer has no complete set of tensors for any layout
  MixedLayout,      // layers of one file use different layouts
  Unclaimed,        // a tensor in the file that no table entry names
};

struct Finding {
  Severity severity;
  FindingKind kind;
  std::string subject;  // the tensor name, layer ("blk.2") or key concerned
  std::string message;  // a full sentence naming expected and found
};

std::string_view layer_kind_name(LayerKind kind);
std::string_view layout_name(Layout layout);
std::string_view role_name(Role role);
std::string_view finding_kind_name(FindingKind kind);  // "missing_tensor", ...

// One weight of the file matched to the table.
struct BoundTensor {
  TensorId id;
  int layer;  // -1 for global tensors; nextn blocks have layer >= hp.n_layer
  Role role;
  const GgufTensorInfo* info;
};

// The result of checking a GGUF file against its architecture record.
struct ModelSpec {
  const GgufFile* file = nullptr;
  const ArchRecord* arch = nullptr;  // nullptr when the architecture is unknown
  HParams hp;
  std::vector<LayerKind> layers;  // one per decoding layer
  Layout layout = Layout::Standard;
  bool has_weights = false;  // false for vocabulary-only files, which carry no tensors
  bool output_tied = false;  // no output tensor: the vocabulary projection reuses token_embd
  std::vector<BoundTensor> tensors;    // every tensor of the file matched to the table
  std::vector<Finding> findings;       // errors and warnings, in the order found
  std::vector<std::string> unclaimed;  // tensors of the file that no table entry names

  // Returns the tensor, or nullptr when the file lacks it. layer is -1 for global tensors.
  const GgufTensorInfo* tensor(TensorId id, int layer = -1) const;
  // Returns the tensor, or throws Error naming it and the file.
  const GgufTensorInfo& require(TensorId id, int layer = -1) const;
  bool is_recurrent(int layer) const { return layers.at(layer) == LayerKind::GatedDeltaNet; }
  int error_count() const;
};

// Checks the file against its architecture's record and returns what it found, without throwing
// for problems in the file: they are collected in findings. Vocabulary-only files (no tensors)
// get hyperparameters and layers but no tensor checks.
ModelSpec inspect_model(const GgufFile& file);

// Like inspect_model, but throws Error when the file cannot be run: unknown architecture, bad
// hyperparameters, no tensors, missing required tensor, shape, type or layout problems. The
// message names the file and lists every error. Unclaimed tensors are logged as warnings.
ModelSpec describe_model(const GgufFile& file);

// The records, one file each (arch_<name>.cpp).
const ArchRecord& llama_arch();
const ArchRecord& qwen3next_arch();

}  // namespace hllm
