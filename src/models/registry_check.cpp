// inspect_model(): matches the tensors of a GGUF file to the table of its architecture record,
// decides the layout, and collects every problem as a Finding.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "formats/gguf.h"
#include "models/registry.h"
#include "util/error.h"

namespace hllm {
namespace {

std::string format_shape(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Shape shape_of(const GgufTensorInfo& info) {
  const int n_dims = std::clamp(info.n_dims, 1, static_cast<int>(info.ne.size()));
  return Shape(info.ne.begin(), info.ne.begin() + n_dims);
}

// Compares with trailing dimensions of 1 ignored, as ggml does: a vector [n] and a matrix
// [n, 1] hold the same elements in the same order.
bool same_shape(const Shape& expected, const GgufTensorInfo& info) {
  if (expected.size() > info.ne.size()) return false;
  for (size_t i = 0; i < info.ne.size(); ++i) {
    const int64_t want = i < expected.size() ? expected[i] : 1;
    if (info.ne[i] != want) return false;
  }
  return true;
}

bool type_allowed(TypeRule rule, GgmlType type) {
  if (rule == TypeRule::Any) return true;
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

std::string block_name(int layer) {
  return fmt::format("blk.{}", layer);
}

class TableCheck {
 public:
  TableCheck(const GgufFile& file, ModelSpec& spec) : file_(file), spec_(spec) {
    for (const GgufTensorInfo& info : file.tensors())
      by_name_.emplace(info.name, &info);
  }

  void run() {
    detect_layout();
    for (const TensorSpec& entry : spec_.arch->tensors)
      check_entry(entry);
    spec_.output_tied = spec_.tensor(TensorId::Output) == nullptr;
    report_unclaimed();
  }

 private:
  // Returns the tensor stored under any accepted name of the entry, or nullptr.
  const GgufTensorInfo* lookup(TensorId id, int layer) const {
    for (const std::string& name : tensor_names(id, layer)) {
      auto found = by_name_.find(name);
      if (found != by_name_.end()) return found->second;
    }
    return nullptr;
  }

  bool applies_to_kind(const TensorSpec& entry, LayerKind kind) const {
    switch (entry.scope) {
      case Scope::EveryLayer:
        return true;
      case Scope::AttentionLayers:
        return kind == LayerKind::Attention || kind == LayerKind::GatedAttention;
      case Scope::DeltaNetLayers:
        return kind == LayerKind::GatedDeltaNet;
      case Scope::Global:
      case Scope::NextnLayers:
        return false;
    }
    return false;
  }

  // Returns the required tensors that a layer of the given kind needs in one layout only.
  std::vector<TensorId> layout_group(Layout layout, LayerKind kind) const {
    std::vector<TensorId> group;
    for (const TensorSpec& entry : spec_.arch->tensors) {
      if (entry.layout == layout && entry.required && applies_to_kind(entry, kind)) {
        group.push_back(entry.id);
      }
    }
    return group;
  }

  std::vector<std::string> missing_in(const std::vector<TensorId>& group, int layer) const {
    std::vector<std::string> missing;
    for (TensorId id : group) {
      if (lookup(id, layer) == nullptr) missing.push_back(tensor_name(id, layer));
    }
    return missing;
  }

  // Picks the layout of the file from the layers whose tensors depend on it. Each such layer
  // must hold one complete set, and all of them the same one.
  void detect_layout() {
    const std::vector<Layout>& layouts = spec_.arch->layouts;
    bool decided = false;
    int first_layer = -1;
    for (int il = 0; il < static_cast<int>(spec_.layers.size()); ++il) {
      std::vector<std::string> gaps;
      std::vector<Layout> complete;
      for (Layout layout : layouts) {
        const std::vector<TensorId> group = layout_group(layout, spec_.layers[il]);
        if (layout == Layout::Standard || group.empty()) continue;
        const std::vector<std::string> missing = missing_in(group, il);
        if (missing.empty()) {
          complete.push_back(layout);
        } else {
          gaps.push_back(
              fmt::format("{} layout lacks {}", layout_name(layout), fmt::join(missing, ", ")));
        }
      }
      if (complete.empty() && gaps.empty()) continue;  // this layer does not depend on layout
      if (complete.empty()) {
        incomplete_layers_.insert(il);
        add_error(FindingKind::IncompleteLayer, block_name(il),
                  fmt::format("{} ({}) has no complete set of tensors: {}", block_name(il),
                              layer_kind_name(spec_.layers[il]), fmt::join(gaps, "; ")));
        continue;
      }
      if (!decided) {
        spec_.layout = complete.front();
        decided = true;
        first_layer = il;
        continue;
      }
      if (std::find(complete.begin(), complete.end(), spec_.layout) == complete.end()) {
        incomplete_layers_.insert(il);
        add_error(FindingKind::MixedLayout, block_name(il),
                  fmt::format("{} uses the {} layout but {} uses the {} layout", block_name(il),
                              layout_name(complete.front()), block_name(first_layer),
                              layout_name(spec_.layout)));
      }
    }
  }

  void check_entry(const TensorSpec& entry) {
    if (entry.scope == Scope::Global) {
      check_tensor(entry, -1, entry.required, Severity::Error);
      return;
    }
    for (int il = 0; il < static_cast<int>(spec_.layers.size()); ++il) {
      if (!applies_to_kind(entry, spec_.layers[il])) continue;
      if (entry.layout != Layout::Standard) {
        // A broken layer was already reported as a whole, so its tensors are not listed again.
        if (entry.layout != spec_.layout || incomplete_layers_.count(il) > 0) continue;
      }
      check_tensor(entry, il, entry.required, Severity::Error);
    }
    // Decoding skips the nextn blocks, so every tensor in them is optional and a problem there
    // is only a warning. They hold the nextn tensors plus ordinary layer tensors.
    for (int il = static_cast<int>(spec_.hp.n_layer); il < spec_.hp.n_block; ++il) {
      check_tensor(entry, il, false, Severity::Warning);
    }
  }

  void check_tensor(const TensorSpec& entry, int layer, bool required, Severity severity) {
    const GgufTensorInfo* info = lookup(entry.id, layer);
    if (info == nullptr) {
      if (required) {
        add_error(FindingKind::MissingTensor, tensor_name(entry.id, layer),
                  fmt::format("required tensor {} is missing", tensor_name(entry.id, layer)));
      }
      return;
    }
    if (claimed_.count(info->name) > 0) return;  // two entries that name one tensor
    claimed_.insert(info->name);
    spec_.tensors.push_back({entry.id, layer, entry.role, info});

    const Shape expected = entry.shape(spec_.hp);
    if (!same_shape(expected, *info)) {
      add(severity, FindingKind::ShapeMismatch, info->name,
          fmt::format("tensor {} has shape {}, expected {}", info->name,
                      format_shape(shape_of(*info)), format_shape(expected)));
    }
    if (!type_allowed(entry.types, info->type)) {
      add(severity, FindingKind::TypeMismatch, info->name,
          fmt::format("tensor {} has type {}, expected f32, f16 or bf16", info->name,
                      type_name(info->type)));
    }
  }

  void report_unclaimed() {
    for (const GgufTensorInfo& info : file_.tensors()) {
      if (claimed_.count(info.name) > 0) continue;
      spec_.unclaimed.push_back(info.name);
      add(Severity::Warning, FindingKind::Unclaimed, info.name,
          fmt::format("tensor {} is not used by the {} architecture", info.name, spec_.arch->name));
    }
  }

  void add(Severity severity, FindingKind kind, std::string subject, std::string message) {
    spec_.findings.push_back({severity, kind, std::move(subject), std::move(message)});
  }
  void add_error(FindingKind kind, std::string subject, std::string message) {
    add(Severity::Error, kind, std::move(subject), std::move(message));
  }

  const GgufFile& file_;
  ModelSpec& spec_;
  std::unordered_map<std::string_view, const GgufTensorInfo*> by_name_;
  std::unordered_set<std::string_view> claimed_;
  std::unordered_set<int> incomplete_layers_;
};

// Returns the architecture named by the file, or records why there is none.
const ArchRecord* find_file_arch(const GgufFile& file, ModelSpec& spec) {
  const std::string key = key_name(Key::GeneralArchitecture, "");
  // Without weights there is nothing to run, so a vocabulary file need not name a known one.
  const Severity severity = spec.has_weights ? Severity::Error : Severity::Warning;
  std::optional<std::string> name;
  try {
    name = file.find_string(key);
  } catch (const Error& e) {
    spec.findings.push_back({severity, FindingKind::UnknownArch, key, e.what()});
    return nullptr;
  }
  if (!name) {
    spec.findings.push_back(
        {severity, FindingKind::UnknownArch, key, fmt::format("metadata key {} is missing", key)});
    return nullptr;
  }
  const ArchRecord* record = find_arch_or_null(*name);
  if (record == nullptr) {
    try {
      find_arch(*name);  // builds the message that lists the known architectures
    } catch (const Error& e) {
      spec.findings.push_back({severity, FindingKind::UnknownArch, key, e.what()});
    }
  }
  return record;
}

}  // namespace

ModelSpec inspect_model(const GgufFile& file) {
  ModelSpec spec;
  spec.file = &file;
  spec.has_weights = !file.tensors().empty();
  spec.arch = find_file_arch(file, spec);
  if (spec.arch == nullptr) return spec;

  try {
    spec.hp = spec.arch->read_hparams(HParamReader(file, spec.arch->name));
    spec.layers = spec.arch->layer_pattern(spec.hp);
  } catch (const Error& e) {
    // A vocabulary-only file may leave out the hyperparameters of the model it came from.
    const Severity severity = spec.has_weights ? Severity::Error : Severity::Warning;
    spec.findings.push_back(
        {severity, FindingKind::BadHParams, std::string(spec.arch->name), e.what()});
    return spec;
  }
  if (!spec.has_weights) return spec;

  TableCheck(file, spec).run();
  return spec;
}

}  // namespace hllm
