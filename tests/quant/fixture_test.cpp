// Checks against files that llama.cpp quantized: qwen3next-tiny-q8_0.gguf and
// qwen3next-tiny-q4_k_m.gguf were both made by llama-quantize from qwen3next-tiny-f32.gguf, so
// each of their tensors can be compared with its float source. Their metadata names no importance
// matrix, so llama.cpp used its reference quantizers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/quant/quant.h"
#include "support/fixtures.h"

namespace hllm {
namespace {

struct Files {
  std::unique_ptr<GgufFile> f32;
  std::unique_ptr<GgufFile> quantized;
};

Files open_pair(const std::string& quantized_name) {
  Files files;
  files.f32 = GgufFile::open(test::fixture("models/qwen3next-tiny-f32.gguf"));
  files.quantized = GgufFile::open(test::fixture("models/" + quantized_name));
  return files;
}

int64_t row_count(const GgufTensorInfo& tensor) {
  return tensor.n_elements() / tensor.ne[0];
}

// Dequantizes a whole tensor row by row.
std::vector<float> dequantize_tensor(const GgufTensorInfo& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.n_elements()));
  const size_t bytes_per_row = row_size(tensor.type, tensor.ne[0]);
  for (int64_t row = 0; row < row_count(tensor); ++row) {
    dequantize_row(tensor.type, tensor.data + row * bytes_per_row, out.data() + row * tensor.ne[0],
                   tensor.ne[0]);
  }
  return out;
}

// Returns the float32 source of a tensor from the F32 file, checking that the shapes agree.
const float* source_of(const GgufFile& f32, const GgufTensorInfo& tensor) {
  const GgufTensorInfo* source = f32.find_tensor(tensor.name);
  EXPECT_NE(source, nullptr) << tensor.name << " is missing from the F32 file";
  if (source == nullptr) return nullptr;
  EXPECT_EQ(source->type, GgmlType::F32) << tensor.name;
  EXPECT_EQ(source->ne, tensor.ne) << tensor.name;
  if (source->type != GgmlType::F32 || source->ne != tensor.ne) return nullptr;
  return reinterpret_cast<const float*>(source->data);
}

double relative_rmse(const float* expected, const std::vector<float>& actual) {
  double error = 0, signal = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double diff = static_cast<double>(actual[i]) - expected[i];
    error += diff * diff;
    signal += static_cast<double>(expected[i]) * expected[i];
  }
  return signal > 0 ? std::sqrt(error / signal) : std::sqrt(error);
}

// Relative RMSE band of one stored type: llama.cpp's quantization of these random weights must
// land inside it once dequantized here. A layout mistake (a swapped nibble, a misread scale)
// gives errors near 1, far above every band. An error under the lower bound would mean that the
// tensor was not really quantized at this precision.
struct Band {
  double low;
  double high;
};

const std::map<GgmlType, Band> kBands = {
    {GgmlType::F32, {0.0, 0.0}},     {GgmlType::F16, {0.0, 3e-4}},
    {GgmlType::Q8_0, {1e-3, 0.006}}, {GgmlType::Q6_K, {4e-3, 0.025}},
    {GgmlType::Q5_0, {0.01, 0.05}},  {GgmlType::Q5_1, {0.01, 0.05}},
    {GgmlType::Q5_K, {0.01, 0.05}},  {GgmlType::Q4_0, {0.02, 0.1}},
    {GgmlType::Q4_1, {0.02, 0.1}},   {GgmlType::Q4_K, {0.02, 0.1}},
    {GgmlType::Q3_K, {0.04, 0.2}},   {GgmlType::Q2_K, {0.08, 0.35}},
};

void check_dequantized_bands(const std::string& quantized_name) {
  const Files files = open_pair(quantized_name);
  int checked = 0;
  for (const GgufTensorInfo& tensor : files.quantized->tensors()) {
    const float* source = source_of(*files.f32, tensor);
    if (source == nullptr) continue;
    const auto band = kBands.find(tensor.type);
    ASSERT_NE(band, kBands.end()) << tensor.name << " has type " << type_name(tensor.type)
                                  << ", which has no band here";
    const double error = relative_rmse(source, dequantize_tensor(tensor));
    EXPECT_GE(error, band->second.low) << tensor.name << " (" << type_name(tensor.type) << ")";
    EXPECT_LE(error, band->second.high) << tensor.name << " (" << type_name(tensor.type) << ")";
    ++checked;
  }
  EXPECT_GT(checked, 10) << quantized_name;
}

TEST(Fixture, Q8_0FileDequantizesWithinBands) {
  check_dequantized_bands("qwen3next-tiny-q8_0.gguf");
}

TEST(Fixture, Q4_K_MFileDequantizesWithinBands) {
  check_dequantized_bands("qwen3next-tiny-q4_k_m.gguf");
}

TEST(Fixture, Q8_0QuantizerReproducesLlamaCppBytes) {
  const Files files = open_pair("qwen3next-tiny-q8_0.gguf");
  int checked = 0;
  for (const GgufTensorInfo& tensor : files.quantized->tensors()) {
    if (tensor.type != GgmlType::Q8_0) continue;
    const float* source = source_of(*files.f32, tensor);
    if (source == nullptr) continue;
    std::vector<uint8_t> ours(tensor.n_bytes);
    ASSERT_EQ(quantize_rows(GgmlType::Q8_0, source, ours.data(), row_count(tensor), tensor.ne[0]),
              tensor.n_bytes)
        << tensor.name;
    size_t first_difference = tensor.n_bytes;
    for (size_t i = 0; i < tensor.n_bytes; ++i) {
      if (ours[i] != tensor.data[i]) {
        first_difference = i;
        break;
      }
    }
    EXPECT_EQ(first_difference, tensor.n_bytes)
        << tensor.name << ": first differing byte " << first_difference << " of " << tensor.n_bytes
        << " (ours " << int{ours[first_difference % tensor.n_bytes]} << ", llama.cpp "
        << int{tensor.data[first_difference % tensor.n_bytes]} << ")";
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

// Quantizes each F32 source to the type llama.cpp chose for it and compares the error of both
// results. The scale search here weighs errors by magnitude, as llama.cpp's K-quants do, but
// tries more grids. It must keep the plain error at or below that of llama.cpp's reference
// quantizers on every tensor (measured mean squared ratio per type: 0.89 to 0.97).
TEST(Fixture, QuantizersMatchOrBeatLlamaCppError) {
  const Files files = open_pair("qwen3next-tiny-q4_k_m.gguf");
  std::printf("%-40s %-5s %10s %10s %8s %10s\n", "tensor", "type", "llama.cpp", "ours", "ratio",
              "same bytes");
  std::map<GgmlType, std::pair<double, double>> squared_by_type;  // llama.cpp, ours
  for (const GgufTensorInfo& tensor : files.quantized->tensors()) {
    if (!type_traits(tensor.type).quantized || !has_quantizer(tensor.type)) continue;
    const float* source = source_of(*files.f32, tensor);
    if (source == nullptr) continue;

    std::vector<uint8_t> ours(tensor.n_bytes);
    quantize_rows(tensor.type, source, ours.data(), row_count(tensor), tensor.ne[0]);
    GgufTensorInfo our_tensor = tensor;
    our_tensor.data = ours.data();
    const double reference_error = relative_rmse(source, dequantize_tensor(tensor));
    const double our_error = relative_rmse(source, dequantize_tensor(our_tensor));
    size_t same = 0;
    for (size_t i = 0; i < tensor.n_bytes; ++i)
      same += ours[i] == tensor.data[i];
    std::printf("%-40s %-5s %10.6f %10.6f %8.4f %9.1f%%\n", tensor.name.c_str(),
                std::string(type_name(tensor.type)).c_str(), reference_error, our_error,
                our_error / reference_error, 100.0 * same / tensor.n_bytes);
    auto& sums = squared_by_type[tensor.type];
    sums.first += reference_error * reference_error;
    sums.second += our_error * our_error;
    EXPECT_LE(our_error, reference_error) << tensor.name << " (" << type_name(tensor.type) << ")";
  }
  for (const auto& [type, sums] : squared_by_type) {
    std::printf("%-5s mean squared relative error ratio ours / llama.cpp: %.4f\n",
                std::string(type_name(type)).c_str(), sums.second / sums.first);
  }
  EXPECT_FALSE(squared_by_type.empty());
}

}  // namespace
}  // namespace hllm
