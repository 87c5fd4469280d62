// The streaming file quantizer: plan the type of every tensor, then decode, encode, measure and
// write one tensor at a time.
#include "runtime/quantize_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/quant/quant.h"
#include "models/registry.h"
#include "util/error.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace hllm {
namespace {

// Rows decoded and encoded per step: bounds the float buffer at 16 MiB whatever the tensor size.
constexpr int64_t kChunkElements = int64_t{1} << 22;

void check_distinct_paths(const std::string& input_path, const std::string& output_path) {
  std::error_code error;
  const bool same = std::filesystem::equivalent(input_path, output_path, error);
  if (!error && same) {
    fail("{}: the output file is the input file; choose another output path", output_path);
  }
}

std::vector<int64_t> shape_of(const GgufTensorInfo& info) {
  return std::vector<int64_t>(info.ne.begin(), info.ne.begin() + std::max(info.n_dims, 1));
}

// Checks that every conversion is possible before the output file is created.
void check_conversions(const GgufFile& file, const std::vector<TypeChoice>& choices) {
  for (size_t i = 0; i < choices.size(); ++i) {
    const GgufTensorInfo& info = file.tensors()[i];
    if (!choices[i].convert || choices[i].type == info.type) continue;
    if (!has_dequantizer(info.type)) {
      fail("{}: tensor {} has type {}, which cannot be decoded for conversion", file.path(),
           info.name, type_name(info.type));
    }
    if (!has_quantizer(choices[i].type)) {
      fail("{}: tensor {}: no encoder for type {}", file.path(), info.name,
           type_name(choices[i].type));
    }
  }
}

// Per-thread sums of one tensor's conversion error.
struct ErrorSums {
  double squared_error = 0;
  double squared_source = 0;
};

// Converts one tensor into bytes and adds its error to tensor.
void convert_tensor(const GgufTensorInfo& info, QuantizedTensor& tensor, ThreadPool& pool,
                    std::vector<uint8_t>& bytes, std::vector<float>& values) {
  const int64_t n_per_row = info.ne[0];
  const int64_t n_rows = info.n_elements() / n_per_row;
  const size_t source_row_bytes = row_size(info.type, n_per_row);
  const size_t row_bytes = row_size(tensor.type, n_per_row);
  bytes.resize(row_bytes * n_rows);
  const int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElements / n_per_row);
  values.resize(std::min(rows_per_chunk, n_rows) * n_per_row);

  std::vector<ErrorSums> sums(pool.size());
  std::vector<std::vector<float>> decoded(pool.size());
  for (int64_t chunk = 0; chunk < n_rows; chunk += rows_per_chunk) {
    const int64_t chunk_rows = std::min(rows_per_chunk, n_rows - chunk);
    pool.run([&](int ith, int nth) {
      const int64_t per_thread = (chunk_rows + nth - 1) / nth;
      const int64_t begin = std::min(chunk_rows, per_thread * ith);
      const int64_t end = std::min(chunk_rows, begin + per_thread);
      if (begin >= end) return;
      std::vector<float>& check = decoded[ith];
      check.resize(n_per_row);
      for (int64_t r = begin; r < end; ++r) {
        const int64_t row = chunk + r;
        float* source = values.data() + r * n_per_row;
        uint8_t* target = bytes.data() + row * row_bytes;
        dequantize_row(info.type, info.data + row * source_row_bytes, source, n_per_row);
        quantize_row(tensor.type, source, target, n_per_row);
        dequantize_row(tensor.type, target, check.data(), n_per_row);
        double error = 0;
        double norm = 0;
        for (int64_t i = 0; i < n_per_row; ++i) {
          const double difference = static_cast<double>(check[i]) - source[i];
          error += difference * difference;
          norm += static_cast<double>(source[i]) * source[i];
        }
        sums[ith].squared_error += error;
        sums[ith].squared_source += norm;
      }
    });
  }
  for (const ErrorSums& sum : sums) {
    tensor.squared_error += sum.squared_error;
    tensor.squared_source += sum.squared_source;
  }
}

std::vector<TypeError> errors_by_type(const std::vector<QuantizedTensor>& tensors) {
  std::map<uint32_t, TypeError> by_type;
  for (const QuantizedTensor& tensor : tensors) {
    if (!tensor.converted) continue;
    TypeError& entry = by_type[static_cast<uint32_t>(tensor.type)];
    entry.type = tensor.type;
    entry.n_tensors += 1;
    entry.n_elements += tensor.n_elements;
    entry.squared_error += tensor.squared_error;
    entry.squared_source += tensor.squared_source;
  }
  std::vector<TypeError> errors;
  for (const auto& [id, entry] : by_type)
    errors.push_back(entry);
  return errors;
}

// Returns up to three names and the count of the rest, for one-line messages.
std::string example_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 3;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kShown));
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > kShown) text += fmt::format(" and {} more", names.size() - kShown);
  return text;
}

// Adds one warning per kind of fallback and per requantized source type, not one per tensor,
// so that a model with hundreds of layers gets a readable list.
void add_plan_warnings(const GgufFile& file, const ModelSpec& spec,
                       const std::vector<TypeChoice>& choices, QuantizeReport& report) {
  if (spec.arch == nullptr) {
    report.warnings.push_back(fmt::format(
        "{}: unknown architecture; every matrix gets the base type, without the mix's rules",
        file.path()));
  } else if (spec.error_count() > 0) {
    report.warnings.push_back(
        fmt::format("{}: the model has {} errors (see hllm inspect); quantizing it anyway",
                    file.path(), spec.error_count()));
  }
  std::map<std::pair<GgmlType, GgmlType>, std::vector<std::string>> fallbacks;
  std::map<std::pair<GgmlType, GgmlType>, std::vector<std::string>> requantized;
  for (size_t i = 0; i < choices.size(); ++i) {
    const GgufTensorInfo& info = file.tensors()[i];
    const TypeChoice& choice = choices[i];
    if (choice.fallback) fallbacks[{choice.preferred, choice.type}].push_back(info.name);
    if (choice.convert && choice.type != info.type && type_traits(info.type).quantized) {
      requantized[{info.type, choice.type}].push_back(info.name);
    }
  }
  for (const auto& [types, names] : fallbacks) {
    report.warnings.push_back(fmt::format(
        "{} tensors have rows that are not a multiple of the {}-element blocks of {} and use {} "
        "instead: {}",
        names.size(), type_traits(types.first).block_size, type_name(types.first),
        type_name(types.second), example_names(names)));
  }
  for (const auto& [types, names] : requantized) {
    report.warnings.push_back(fmt::format(
        "requantizing from {} to {} adds the errors of both types ({} tensors: {}); quantize "
        "from F32, F16 or BF16 where possible",
        type_name(types.first), type_name(types.second), names.size(), example_names(names)));
  }
}

}  // namespace

double TypeError::rmse() const {
  return n_elements > 0 ? std::sqrt(squared_error / static_cast<double>(n_elements)) : 0.0;
}

double TypeError::relative_rmse() const {
  return squared_source > 0 ? std::sqrt(squared_error / squared_source) : 0.0;
}

QuantizeReport quantize_file(const std::string& input_path, const std::string& output_path,
                             const QuantizeOptions& options, const QuantizeProgressFn& progress) {
  check_distinct_paths(input_path, output_path);
  const std::unique_ptr<GgufFile> file = GgufFile::open(input_path);
  const ModelSpec spec = inspect_model(*file);
  const std::vector<TypeChoice> choices =
      choose_types(options.file_type, mix_model(spec), mix_tensors(spec), options.mix);
  check_conversions(*file, choices);

  QuantizeReport report;
  add_plan_warnings(*file, spec, choices, report);
  for (const std::string& warning : report.warnings)
    log::warn("{}", warning);

  GgufWriter writer;
  writer.copy_metadata(*file);
  writer.set(key_name(Key::GeneralQuantizationVersion, ""), GgufValue::u32(kQuantizationVersion));
  writer.set(key_name(Key::GeneralFileType, ""), GgufValue::u32(static_cast<uint32_t>(options.file_type)));
  for (size_t i = 0; i < choices.size(); ++i) {
    const GgufTensorInfo& info = file->tensors()[i];
    writer.add_tensor(info.name, choices[i].type, shape_of(info));
    QuantizedTensor tensor;
    tensor.name = info.name;
    tensor.source_type = info.type;
    tensor.type = choices[i].type;
    tensor.preferred = choices[i].preferred;
    tensor.converted = choices[i].convert && choices[i].type != info.type;
    tensor.n_elements = info.n_elements();
    tensor.source_bytes = info.n_bytes;
    tensor.bytes = writer.tensor_bytes(i);
    report.source_bytes += tensor.source_bytes;
    report.bytes += tensor.bytes;
    report.tensors.push_back(std::move(tensor));
  }

  const int n_threads = options.n_threads > 0
                            ? options.n_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(n_threads);
  writer.begin(output_path);
  std::vector<uint8_t> bytes;
  std::vector<float> values;
  uint64_t source_bytes_done = 0;
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    const GgufTensorInfo& info = file->tensors()[i];
    QuantizedTensor& tensor = report.tensors[i];
    if (tensor.converted) {
      convert_tensor(info, tensor, pool, bytes, values);
      writer.write_tensor_data(i, bytes.data(), bytes.size());
    } else {
      writer.write_tensor_data(i, info.data, info.n_bytes);
    }
    source_bytes_done += info.n_bytes;
    if (progress) {
      progress({i, report.tensors.size(), &tensor, source_bytes_done, report.source_bytes});
    }
  }
  writer.finish();
  report.errors = errors_by_type(report.tensors);
  return report;
}

}  // namespace hllm
