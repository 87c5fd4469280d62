// hllm inspect MODEL [--json]: prints a GGUF file's header, metadata and tensor table, then what
// the architecture registry makes of it (hyperparameters, layer pattern, layout, problems).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "formats/gguf.h"
#include "models/registry.h"
#include "runtime/benchmark.h"
#include "tools/command.h"
#include "util/error.h"

namespace hllm::tools {
namespace {

using nlohmann::json;

// Arrays longer than this show their first elements and their length.
constexpr size_t kArrayPreview = 8;
// Strings longer than this (in bytes) are cut in the text report. The JSON keeps them whole.
constexpr size_t kStringPreview = 96;

struct InspectOptions {
  std::string path;
  bool json = false;
};

// ---- Metadata values ----

// Quotes a string for one line of text: control characters are escaped, and a long string is
// cut at a UTF-8 character boundary with its full length appended.
std::string quote(const std::string& text, size_t limit) {
  size_t end = std::min(text.size(), limit);
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;  // step back off a UTF-8 continuation byte
  }
  std::string out = "\"";
  for (size_t i = 0; i < end; ++i) {
    const char c = text[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  if (end < text.size()) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

std::string value_text(const GgufValue& value) {
  return std::visit(
      [&](const auto& data) -> std::string {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return quote(data, kStringPreview);
        } else if constexpr (std::is_same_v<T, GgufValue::Array>) {
          std::vector<std::string> items;
          for (size_t i = 0; i < std::min(data.size(), kArrayPreview); ++i) {
            items.push_back(value_text(data[i]));
          }
          if (data.size() > kArrayPreview) items.push_back("...");
          return fmt::format("[{}] ({} items)", fmt::join(items, ", "), data.size());
        } else {
          return fmt::format("{}", data);
        }
      },
      value.data);
}

std::string type_text(const GgufValue& value) {
  if (value.type != GgufValueType::ARRAY) return std::string(gguf_value_type_name(value.type));
  return fmt::format("array of {}", gguf_value_type_name(value.element_type));
}

json value_json(const GgufValue& value) {
  return std::visit(
      [&](const auto& data) -> json {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, GgufValue::Array>) {
          json items = json::array();
          for (size_t i = 0; i < std::min(data.size(), kArrayPreview); ++i) {
            items.push_back(value_json(data[i]));
          }
          return items;
        } else {
          return data;
        }
      },
      value.data);
}

json metadata_json(const std::string& key, const GgufValue& value) {
  json entry = {{"key", key}, {"type", gguf_value_type_name(value.type)}};
  if (const auto* items = std::get_if<GgufValue::Array>(&value.data)) {
    entry["element_type"] = gguf_value_type_name(value.element_type);
    entry["length"] = items->size();
    entry["truncated"] = items->size() > kArrayPreview;
  }
  entry["value"] = value_json(value);
  return entry;
}

// ---- Tensors ----

std::vector<int64_t> shape_of(const GgufTensorInfo& info) {
  const int n_dims = std::clamp(info.n_dims, 1, static_cast<int>(info.ne.size()));
  return std::vector<int64_t>(info.ne.begin(), info.ne.begin() + n_dims);
}

std::string shape_text(const GgufTensorInfo& info) {
  return fmt::format("[{}]", fmt::join(shape_of(info), ", "));
}

// ---- The registry's view ----

std::vector<int> recurrent_layers(const ModelSpec& spec) {
  std::vector<int> layers;
  for (int il = 0; il < static_cast<int>(spec.layers.size()); ++il) {
    if (spec.is_recurrent(il)) layers.push_back(il);
  }
  return layers;
}

std::vector<std::string> subjects_of(const ModelSpec& spec, FindingKind kind) {
  std::vector<std::string> subjects;
  for (const Finding& finding : spec.findings) {
    if (finding.kind == kind) subjects.push_back(finding.subject);
  }
  return subjects;
}

std::string severity_text(Severity severity) {
  return severity == Severity::Error ? "error" : "warning";
}

// Floating-point hyperparameters are float32 in the file, so they print at float precision:
// 1e-06 rather than 9.999999974752427e-07.
std::string field_text(const HParamField& field) {
  if (field.is_integer) return fmt::format("{}", static_cast<int64_t>(field.value));
  return fmt::format("{}", static_cast<float>(field.value));
}

json field_json(const HParamField& field) {
  if (field.is_integer) return static_cast<int64_t>(field.value);
  return std::stod(field_text(field));
}

json model_json(const ModelSpec& spec) {
  json model;
  model["architecture"] = spec.arch ? json(spec.arch->name) : json(nullptr);
  model["has_weights"] = spec.has_weights;

  // Layers stay empty when the metadata could not be read.
  const bool has_hparams = spec.arch != nullptr && !spec.layers.empty();
  if (has_hparams) {
    json hparams = json::object();
    for (const HParamField& field : list_hparams(spec.hp)) {
      hparams[std::string(field.name)] = field_json(field);
    }
    model["hyperparameters"] = hparams;

    json layers = json::array();
    for (LayerKind kind : spec.layers)
      layers.push_back(layer_kind_name(kind));
    model["layers"] = layers;
    model["recurrent_layers"] = recurrent_layers(spec);
    model["nextn_blocks"] = spec.hp.n_nextn;
  }
  if (has_hparams && spec.has_weights) {
    model["layout"] = layout_name(spec.layout);
    model["output_tied"] = spec.output_tied;
    model["matched_tensors"] = spec.tensors.size();
  }

  model["missing"] = subjects_of(spec, FindingKind::MissingTensor);
  json mismatched = subjects_of(spec, FindingKind::ShapeMismatch);
  for (const std::string& name : subjects_of(spec, FindingKind::TypeMismatch)) {
    mismatched.push_back(name);
  }
  model["mismatched"] = mismatched;
  model["unclaimed"] = spec.unclaimed;

  json findings = json::array();
  for (const Finding& finding : spec.findings) {
    findings.push_back({{"severity", severity_text(finding.severity)},
                        {"kind", finding_kind_name(finding.kind)},
                        {"subject", finding.subject},
                        {"message", finding.message}});
  }
  model["findings"] = findings;
  model["errors"] = spec.error_count();
  return model;
}

json inspect_json(const GgufFile& file, const ModelSpec& spec) {
  json doc;
  doc["file"] = file.path();
  doc["header"] = {{"version", file.version()},
                   {"alignment", file.alignment()},
                   {"tensor_count", file.tensors().size()},
                   {"metadata_count", file.metadata().size()},
                   {"data_offset", file.data_offset()},
                   {"file_size", file.file_size()},
                   {"file_type", weight_type_name(file)}};
  json metadata = json::array();
  for (const auto& [key, value] : file.metadata())
    metadata.push_back(metadata_json(key, value));
  doc["metadata"] = metadata;
  json tensors = json::array();
  for (const GgufTensorInfo& info : file.tensors()) {
    tensors.push_back({{"name", info.name},
                       {"type", type_name(info.type)},
                       {"shape", shape_of(info)},
                       {"bytes", info.n_bytes},
                       {"offset", info.offset}});
  }
  doc["tensors"] = tensors;
  doc["model"] = model_json(spec);
  return doc;
}

void print_header(const GgufFile& file) {
  fmt::print("file: {}\n", file.path());
  fmt::print("GGUF version {}, alignment {}, {} tensors, {} metadata entries\n", file.version(),
             file.alignment(), file.tensors().size(), file.metadata().size());
  fmt::print("data offset {} bytes, file size {} bytes\n", file.data_offset(), file.file_size());
  fmt::print("file type: {}\n", weight_type_name(file));
}

void print_metadata(const GgufFile& file) {
  fmt::print("\nmetadata:\n");
  for (const auto& [key, value] : file.metadata()) {
    fmt::print("  {} = {}  ({})\n", key, value_text(value), type_text(value));
  }
}

void print_tensors(const GgufFile& file) {
  if (file.tensors().empty()) {
    fmt::print("\ntensors: none (no weights: a vocabulary-only file)\n");
    return;
  }
  size_t name_width = 4;
  for (const GgufTensorInfo& info : file.tensors()) {
    name_width = std::max(name_width, info.name.size());
  }
  fmt::print("\ntensors:\n  {:<{}}  {:<8} {:<20} {:>12}\n", "name", name_width, "type", "shape",
             "bytes");
  uint64_t total = 0;
  for (const GgufTensorInfo& info : file.tensors()) {
    fmt::print("  {:<{}}  {:<8} {:<20} {:>12}\n", info.name, name_width, type_name(info.type),
               shape_text(info), info.n_bytes);
    total += info.n_bytes;
  }
  fmt::print("  total: {} tensors, {} bytes\n", file.tensors().size(), total);
}

// Returns the layer pattern as one letter per layer, e.g. "RRRA" for three recurrent layers and
// one attention layer.
std::string pattern_text(const ModelSpec& spec) {
  std::string letters;
  for (LayerKind kind : spec.layers)
    letters += kind == LayerKind::GatedDeltaNet ? 'R' : 'A';
  return letters;
}

void print_layers(const ModelSpec& spec) {
  const std::vector<int> recurrent = recurrent_layers(spec);
  fmt::print("  layers: {} decoding ({} recurrent, {} attention), {} nextn blocks\n",
             spec.layers.size(), recurrent.size(), spec.layers.size() - recurrent.size(),
             spec.hp.n_nextn);
  fmt::print("  pattern: {}  (R = recurrent gated DeltaNet, A = attention)\n", pattern_text(spec));
  if (!recurrent.empty()) fmt::print("  recurrent layers: {}\n", fmt::join(recurrent, ", "));
  if (!spec.layers.empty()) fmt::print("  layer kinds:");
  for (size_t il = 0; il < spec.layers.size(); ++il) {
    fmt::print("{} {}={}", il == 0 ? "" : ",", il, layer_kind_name(spec.layers[il]));
  }
  if (!spec.layers.empty()) fmt::print("\n");
}

void print_model(const ModelSpec& spec) {
  fmt::print("\nmodel:\n");
  if (spec.arch == nullptr) {
    fmt::print("  architecture: unknown\n");
  } else {
    fmt::print("  architecture: {} ({})\n", spec.arch->name, spec.arch->description);
  }
  if (spec.arch != nullptr && !spec.layers.empty()) {
    fmt::print("  hyperparameters:\n");
    // Fields the architecture does not use stay 0 and are left out here.
    for (const HParamField& field : list_hparams(spec.hp)) {
      if (field.value != 0) fmt::print("    {} = {}\n", field.name, field_text(field));
    }
    print_layers(spec);
  }
  if (!spec.has_weights) {
    fmt::print("  weights: none (vocabulary-only file)\n");
  } else if (spec.arch != nullptr && !spec.layers.empty()) {
    fmt::print("  layout: {}\n", layout_name(spec.layout));
    fmt::print("  output projection: {}\n",
               spec.output_tied ? "tied to token_embd" : "separate (output.weight)");
    fmt::print("  tensors: {} matched, {} missing, {} mismatched, {} unclaimed\n",
               spec.tensors.size(), subjects_of(spec, FindingKind::MissingTensor).size(),
               subjects_of(spec, FindingKind::ShapeMismatch).size() +
                   subjects_of(spec, FindingKind::TypeMismatch).size(),
               spec.unclaimed.size());
  }
  if (spec.findings.empty()) {
    fmt::print("  findings: none\n");
    return;
  }
  fmt::print("  findings:\n");
  for (const Finding& finding : spec.findings) {
    fmt::print("    {}: {}\n", severity_text(finding.severity), finding.message);
  }
}

void run_inspect(const InspectOptions& options) {
  const std::unique_ptr<GgufFile> file = GgufFile::open(options.path);
  const ModelSpec spec = inspect_model(*file);
  if (options.json) {
    fmt::print("{}\n",
               inspect_json(*file, spec).dump(2, ' ', false, json::error_handler_t::replace));
  } else {
    print_header(*file);
    print_metadata(*file);
    print_tensors(*file);
    print_model(spec);
  }
  std::fflush(stdout);
  if (spec.error_count() > 0) {
    const int errors = spec.error_count();
    fail("{}: the model cannot be loaded: {} {} (listed in the report above)", file->path(), errors,
         errors == 1 ? "error" : "errors");
  }
}

const CommandRegistration kInspect("inspect", [](CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect",
      "Print a GGUF file's header, metadata and tensors, and check them against the "
      "architecture registry");
  command->add_option("model", options->path, "GGUF file to inspect")->required();
  command->add_flag("--json", options->json, "Print one JSON document instead of text");
  command->callback([options] { run_inspect(*options); });
});

}  // namespace
}  // namespace hllm::tools
