// The list of records, lookups, and describe_model() on top of inspect_model().
#include "models/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "formats/gguf.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm {

const std::vector<const ArchRecord*>& known_archs() {
  static const std::vector<const ArchRecord*> records = [] {
    std::vector<const ArchRecord*> list{&llama_arch(), &qwen3next_arch()};
    std::sort(list.begin(), list.end(),
              [](const ArchRecord* a, const ArchRecord* b) { return a->name < b->name; });
    return list;
  }();
  return records;
}

const ArchRecord* find_arch_or_null(std::string_view name) {
  for (const ArchRecord* record : known_archs()) {
    if (record->name == name) return record;
  }
  return nullptr;
}

namespace {

std::string known_arch_list() {
  std::vector<std::string_view> names;
  for (const ArchRecord* record : known_archs())
    names.push_back(record->name);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

const ArchRecord& find_arch(std::string_view name) {
  const ArchRecord* record = find_arch_or_null(name);
  if (record == nullptr) {
    fail("unknown architecture '{}'; known architectures: {}", name, known_arch_list());
  }
  return *record;
}

namespace arch {

TensorSpec global(TensorId id, Role role, bool required, TypeRule types, ShapeFn shape) {
  return {id, role, Scope::Global, required, Layout::Standard, types, shape};
}

TensorSpec layer(TensorId id, Scope scope, TypeRule types, ShapeFn shape, Layout layout) {
  return {id, Role::Layer, scope, true, layout, types, shape};
}

Shape embd_vector(const HParams& hp) {
  return {hp.n_embd};
}
Shape token_embd(const HParams& hp) {
  return {hp.n_embd, hp.n_vocab};
}
Shape attn_k(const HParams& hp) {
  return {hp.n_embd, hp.n_head_kv * hp.head_dim_k};
}
Shape attn_v(const HParams& hp) {
  return {hp.n_embd, hp.n_head_kv * hp.head_dim_v};
}
Shape attn_output(const HParams& hp) {
  return {hp.n_head * hp.head_dim_v, hp.n_embd};
}

}  // namespace arch

const TensorSpec* ArchRecord::find_spec(TensorId id) const {
  for (const TensorSpec& spec : tensors) {
    if (spec.id == id) return &spec;
  }
  return nullptr;
}

std::string_view layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Attention:
      return "attention";
    case LayerKind::GatedAttention:
      return "gated attention";
    case LayerKind::GatedDeltaNet:
      return "gated DeltaNet";
  }
  return "unknown";
}

std::string_view layout_name(Layout layout) {
  switch (layout) {
    case Layout::Standard:
      return "standard";
    case Layout::FusedSsmIn:
      return "fused ssm_in";
    case Layout::SplitQkvGate:
      return "split attn_qkv + attn_gate";
  }
  return "unknown";
}

std::string_view finding_kind_name(FindingKind kind) {
  switch (kind) {
    case FindingKind::UnknownArch:
      return "unknown_arch";
    case FindingKind::BadHParams:
      return "bad_hparams";
    case FindingKind::MissingTensor:
      return "missing_tensor";
    case FindingKind::ShapeMismatch:
      return "shape_mismatch";
    case FindingKind::TypeMismatch:
      return "type_mismatch";
    case FindingKind::IncompleteLayer:
      return "incomplete_layer";
    case FindingKind::MixedLayout:
      return "mixed_layout";
    case FindingKind::Unclaimed:
      return "unclaimed";
  }
  return "unknown";
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::Input:
      return "input";
    case Role::Layer:
      return "layer";
    case Role::Output:
      return "output";
  }
  return "unknown";
}

const GgufTensorInfo* ModelSpec::tensor(TensorId id, int layer) const {
  if (!is_per_layer(id)) layer = -1;
  for (const BoundTensor& bound : tensors) {
    if (bound.id == id && bound.layer == layer) return bound.info;
  }
  return nullptr;
}

const GgufTensorInfo& ModelSpec::require(TensorId id, int layer) const {
  const GgufTensorInfo* info = tensor(id, layer);
  if (info == nullptr) {
    fail("{}: required tensor {} is missing", file ? file->path() : std::string("model"),
         tensor_name(id, layer));
  }
  return *info;
}

int ModelSpec::error_count() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::Error;
  }));
}

ModelSpec describe_model(const GgufFile& file) {
  ModelSpec spec = inspect_model(file);
  std::vector<std::string> errors;
  for (const Finding& finding : spec.findings) {
    // inspect_model() reports an unknown architecture as a warning in a file without tensors.
    if (finding.severity == Severity::Error || finding.kind == FindingKind::UnknownArch) {
      errors.push_back(finding.message);
    }
  }
  if (!spec.has_weights) errors.push_back("the file has no tensors (a vocabulary-only file?)");
  if (!errors.empty()) {
    fail("{}: cannot load the model: {}", file.path(), fmt::join(errors, "; "));
  }
  if (!spec.unclaimed.empty()) {
    log::warn("{}: tensors not used by the {} architecture ({}): {}", file.path(), spec.arch->name,
              spec.unclaimed.size(), fmt::join(spec.unclaimed, ", "));
  }
  return spec;
}

}  // namespace hllm
