// The streaming file quantizer: converts a GGUF model into another file type tensor by tensor,
// keeping memory near the size of one output tensor.
//
// Every metadata entry is copied; general.file_type is set to the new file type and
// general.quantization_version to 2. The type of each tensor comes from choose_types() in
// models/quant_mix.h. Tensors that keep their type are copied byte for byte. The others are
// decoded to float and encoded with quantize_rows() on every thread. A source may be F32, F16,
// BF16 or quantized, which is requantized with a warning. The error of each conversion is measured
// against the decoded source and summed per output type.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ggml_type.h"
#include "models/quant_mix.h"

namespace hllm {

struct QuantizeOptions {
  FileType file_type = FileType::MostlyQ8_0;
  int n_threads = 0;  // 0: every hardware thread
  MixOptions mix;
};

// One tensor of the output.
struct QuantizedTensor {
  std::string name;
  GgmlType source_type = GgmlType::F32;
  GgmlType type = GgmlType::F32;       // the type written
  GgmlType preferred = GgmlType::F32;  // the mix's choice before the block-size fallback
  bool converted = false;              // false: copied byte for byte
  int64_t n_elements = 0;
  uint64_t source_bytes = 0;
  uint64_t bytes = 0;
  double squared_error = 0;   // sum over elements of (output - source)^2
  double squared_source = 0;  // sum over elements of source^2
};

// The conversion error of every tensor written in one type.
struct TypeError {
  GgmlType type = GgmlType::F32;
  int64_t n_tensors = 0;
  int64_t n_elements = 0;
  double squared_error = 0;
  double squared_source = 0;

  // Root mean square of (output - source) over the elements.
  double rmse() const;
  // rmse() divided by the root mean square of the source: 0 is exact, 1 is as large as the data.
  double relative_rmse() const;
};

struct QuantizeReport {
  std::vector<QuantizedTensor> tensors;  // in file order
  std::vector<TypeError> errors;         // per output type, converted tensors only, by type id
  std::vector<std::string> warnings;     // fallbacks, requantized sources, unknown architecture
  uint64_t source_bytes = 0;             // tensor data of the input
  uint64_t bytes = 0;                    // tensor data of the output
};

struct QuantizeProgress {
  size_t tensor_index = 0;  // the tensor just written
  size_t tensor_count = 0;
  const QuantizedTensor* tensor = nullptr;
  uint64_t source_bytes_done = 0;  // input tensor data processed, this tensor included
  uint64_t source_bytes_total = 0;
};

using QuantizeProgressFn = std::function<void(const QuantizeProgress&)>;

// Converts the model at input_path and writes it to output_path, which must differ from it.
// Throws Error for an unreadable input, a tensor type that cannot be decoded, non-finite weights
// or a write failure; a failed write leaves no output file.
QuantizeReport quantize_file(const std::string& input_path, const std::string& output_path,
                             const QuantizeOptions& options,
                             const QuantizeProgressFn& progress = {});

}  // namespace hllm
