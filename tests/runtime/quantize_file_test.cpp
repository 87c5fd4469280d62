// The streaming file quantizer on synthesized F32 models and on llama.cpp's fixtures: error bounds
// per type, preserved metadata, unchanged vectors, and agreement with llama-quantize.
#include "runtime/quantize_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/quant/quant.h"
#include "models/registry.h"
#include "models/synth.h"
#include "support/errors.h"
#include "support/fixtures.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm {

// Prints types by name in failure messages.
void PrintTo(GgmlType type, std::ostream* out) {
  *out << type_name(type);
}

namespace {

using test::error_message;
using test::fixture;

// Writes an F32 model with random weights, small enough that converting it into every file type
// takes seconds. llama-7b at width 256 has rows that fill every block size; qwen3next-tiny adds
// rows of 64 and 128 elements, which take the fallback types.
std::string synthesize(const std::string& preset, const std::string& dir) {
  SynthConfig config = synth_config_from_preset(preset);
  set_synth_hparam(config, "block_count", "2");
  set_synth_hparam(config, "vocab_size", "300");
  if (preset == "llama-7b") {
    set_synth_hparam(config, "embedding_length", "256");
    set_synth_hparam(config, "attention.head_count", "4");
    set_synth_hparam(config, "attention.head_count_kv", "4");
    set_synth_hparam(config, "feed_forward_length", "256");
  } else {
    set_synth_hparam(config, "full_attention_interval", "2");
    set_synth_hparam(config, "expert_count", "4");
  }
  config.file_type = FileType::AllF32;
  const std::string path = dir + "/" + preset + "-f32.gguf";
  ThreadPool pool(2);
  write_synth_model(plan_synth_model(config), path, pool, quantize_rows);
  return path;
}

std::vector<float> decode(const GgufTensorInfo& info) {
  std::vector<float> values(info.n_elements());
  const int64_t n_per_row = info.ne[0];
  const size_t bytes_per_row = row_size(info.type, n_per_row);
  for (int64_t row = 0; row < info.n_elements() / n_per_row; ++row) {
    dequantize_row(info.type, info.data + row * bytes_per_row, values.data() + row * n_per_row,
                   n_per_row);
  }
  return values;
}

double relative_rmse(const std::vector<float>& output, const std::vector<float>& source) {
  double error = 0;
  double norm = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    error += (static_cast<double>(output[i]) - source[i]) * (output[i] - source[i]);
    norm += static_cast<double>(source[i]) * source[i];
  }
  return std::sqrt(error / norm);
}

// Upper bounds on the relative RMSE of Gaussian weights, from each format's step size: a
// uniform grid with step s has an RMS error of s / sqrt(12), and a block of 32 Gaussian values
// spans about 4.2 standard deviations (max |x| about 2.1). Each bound is about 1.5 times the
// estimate, for the spread of block maxima.
//   F16: 11-bit significand, error up to 2^-11 relative, RMS 2^-11 / sqrt(3) = 2.8e-4.
//   BF16: 8-bit significand, RMS 2^-8 / sqrt(3) = 2.3e-3.
//   Q8_0: step 2.1 / 127, RMS 0.0048.      Q6_K: step about 2 / 32, RMS 0.018.
//   Q5_*: step 4.2 / 31, RMS 0.039.         Q4_*: step 4.2 / 15, RMS 0.081.
double error_bound(GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return 4e-4;
    case GgmlType::BF16:
      return 3.5e-3;
    case GgmlType::Q8_0:
      return 0.0075;
    case GgmlType::Q6_K:
      return 0.027;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q5_K:
      return 0.06;
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q4_K:
      return 0.12;
    default:
      return 0;
  }
}

class QuantizeFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::temp_dir());
    llama_ = new std::string(synthesize("llama-7b", *dir_));
    qwen3next_ = new std::string(synthesize("qwen3next-tiny", *dir_));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete llama_;
    delete qwen3next_;
  }

  static QuantizeReport run(const std::string& input, const std::string& output, FileType type,
                            int n_threads = 2) {
    QuantizeOptions options;
    options.file_type = type;
    options.n_threads = n_threads;
    return quantize_file(input, output, options);
  }

  static std::string* dir_;
  static std::string* llama_;
  static std::string* qwen3next_;
};

std::string* QuantizeFileTest::dir_ = nullptr;
std::string* QuantizeFileTest::llama_ = nullptr;
std::string* QuantizeFileTest::qwen3next_ = nullptr;

// Checks one output file against its source: loadable, metadata kept, file type set, vectors
// unchanged, and every converted tensor within its type's error bound.
void check_output(const std::string& source_path, const std::string& output_path, FileType type,
                  const QuantizeReport& report) {
  const auto source = GgufFile::open(source_path);
  const auto output = GgufFile::open(output_path);
  EXPECT_NO_THROW(describe_model(*output));

  EXPECT_EQ(output->get_int(key_name(Key::GeneralFileType, "")), static_cast<int64_t>(type));
  EXPECT_EQ(output->get_int(key_name(Key::GeneralQuantizationVersion, "")), kQuantizationVersion);
  for (const auto& [key, value] : source->metadata()) {
    if (key == key_name(Key::GeneralFileType, "")) continue;
    const GgufValue* kept = output->find(key);
    ASSERT_NE(kept, nullptr) << "metadata key lost: " << key;
    EXPECT_TRUE(*kept == value) << "metadata value changed: " << key;
  }

  ASSERT_EQ(output->tensors().size(), source->tensors().size());
  ASSERT_EQ(report.tensors.size(), source->tensors().size());
  for (size_t i = 0; i < source->tensors().size(); ++i) {
    const GgufTensorInfo& in = source->tensors()[i];
    const GgufTensorInfo& out = output->tensors()[i];
    ASSERT_EQ(out.name, in.name);
    EXPECT_EQ(out.ne, in.ne) << in.name;
    EXPECT_EQ(out.type, report.tensors[i].type) << in.name;
    if (in.n_dims == 1) {
      EXPECT_EQ(out.type, in.type) << in.name;
      EXPECT_EQ(std::memcmp(out.data, in.data, in.n_bytes), 0) << in.name << " changed";
      continue;
    }
    if (out.type == in.type) continue;
    const double error = relative_rmse(decode(out), decode(in));
    EXPECT_LE(error, error_bound(out.type)) << in.name << " as " << type_name(out.type);
    // The report measures the same error.
    const QuantizedTensor& reported = report.tensors[i];
    EXPECT_NEAR(std::sqrt(reported.squared_error / reported.squared_source), error,
                1e-6 + error * 1e-6)
        << in.name;
  }
}

TEST_F(QuantizeFileTest, EveryFileTypeWithinErrorBounds) {
  for (const FileTypeInfo& info : file_types()) {
    for (const std::string* source : {llama_, qwen3next_}) {
      SCOPED_TRACE(std::string(info.name) + " from " + *source);
      const std::string output = *dir_ + "/out-" + std::string(info.name) + ".gguf";
      const QuantizeReport report = run(*source, output, info.type);
      check_output(*source, output, info.type, report);
      for (const TypeError& error : report.errors) {
        EXPECT_LE(error.relative_rmse(), error_bound(error.type)) << type_name(error.type);
        EXPECT_GT(error.n_tensors, 0);
      }
      std::remove(output.c_str());
    }
  }
}

TEST_F(QuantizeFileTest, ReportSumsPerType) {
  const QuantizeReport report = run(*llama_, *dir_ + "/q4km.gguf", FileType::MostlyQ4_K_M);
  std::map<GgmlType, int64_t> elements;
  for (const QuantizedTensor& tensor : report.tensors) {
    if (tensor.converted) elements[tensor.type] += tensor.n_elements;
  }
  ASSERT_EQ(report.errors.size(), elements.size());
  for (const TypeError& error : report.errors) {
    EXPECT_EQ(error.n_elements, elements[error.type]) << type_name(error.type);
  }
  // output.weight and half of the value and down projections take Q6_K.
  EXPECT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[0].type, GgmlType::Q4_K);
  EXPECT_EQ(report.errors[1].type, GgmlType::Q6_K);
  EXPECT_LT(report.bytes, report.source_bytes / 5);
}

TEST_F(QuantizeFileTest, ThreadCountDoesNotChangeOutput) {
  run(*qwen3next_, *dir_ + "/t1.gguf", FileType::MostlyQ4_K_M, 1);
  run(*qwen3next_, *dir_ + "/t3.gguf", FileType::MostlyQ4_K_M, 3);
  EXPECT_TRUE(test::read_file(*dir_ + "/t1.gguf") == test::read_file(*dir_ + "/t3.gguf"));
}

// Q8_0 rounding is deterministic, so the output equals llama-quantize's byte for byte.
TEST_F(QuantizeFileTest, Q8_0EqualsLlamaQuantize) {
  const std::string output = *dir_ + "/fixture-q8_0.gguf";
  run(fixture("models/qwen3next-tiny-f32.gguf"), output, FileType::MostlyQ8_0);
  const auto ours = GgufFile::open(output);
  const auto reference = GgufFile::open(fixture("models/qwen3next-tiny-q8_0.gguf"));
  for (const GgufTensorInfo& expected : reference->tensors()) {
    const GgufTensorInfo* tensor = ours->find_tensor(expected.name);
    ASSERT_NE(tensor, nullptr) << expected.name;
    ASSERT_EQ(tensor->type, expected.type) << expected.name;
    ASSERT_EQ(tensor->n_bytes, expected.n_bytes) << expected.name;
    EXPECT_EQ(std::memcmp(tensor->data, expected.data, expected.n_bytes), 0)
        << expected.name << " differs from llama-quantize's bytes";
  }
}

TEST_F(QuantizeFileTest, Q4KMTypesEqualLlamaQuantize) {
  const std::string output = *dir_ + "/fixture-q4_k_m.gguf";
  run(fixture("models/qwen3next-tiny-f32.gguf"), output, FileType::MostlyQ4_K_M);
  const auto ours = GgufFile::open(output);
  const auto reference = GgufFile::open(fixture("models/qwen3next-tiny-q4_k_m.gguf"));
  ASSERT_EQ(ours->tensors().size(), reference->tensors().size());
  for (const GgufTensorInfo& expected : reference->tensors()) {
    const GgufTensorInfo* tensor = ours->find_tensor(expected.name);
    ASSERT_NE(tensor, nullptr) << expected.name;
    EXPECT_EQ(tensor->type, expected.type) << expected.name;
    EXPECT_EQ(tensor->n_bytes, expected.n_bytes) << expected.name;
    // Q8_0 and copied tensors are deterministic; the searched types may pick other scales.
    if (expected.type == GgmlType::Q8_0 || expected.type == GgmlType::F32) {
      EXPECT_EQ(std::memcmp(tensor->data, expected.data, expected.n_bytes), 0) << expected.name;
    }
  }
  EXPECT_EQ(ours->get_int(key_name(Key::GeneralFileType, "")), 15);
}

TEST_F(QuantizeFileTest, QuantizedSourceIsRequantizedWithWarning) {
  const std::string q8_0 = *dir_ + "/q8_0.gguf";
  run(*llama_, q8_0, FileType::MostlyQ8_0);
  const std::string output = *dir_ + "/requantized.gguf";
  const QuantizeReport report = run(q8_0, output, FileType::MostlyQ4_0);
  bool warned = false;
  for (const std::string& warning : report.warnings) {
    warned = warned || warning.find("requantizing from q8_0") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  const auto file = GgufFile::open(output);
  EXPECT_EQ(file->find_tensor(tensor_name(TensorId::FfnUp, 0))->type, GgmlType::Q4_0);
  EXPECT_NO_THROW(describe_model(*file));
  // Requantizing adds Q4_0's error to Q8_0's, which is about 16 times smaller.
  for (const TypeError& error : report.errors) {
    EXPECT_LE(error.relative_rmse(), error_bound(error.type)) << type_name(error.type);
  }
}

TEST_F(QuantizeFileTest, BadArgumentsAreRejected) {
  const std::string missing = *dir_ + "/missing.gguf";
  EXPECT_FALSE(
      error_message([&] { run(missing, *dir_ + "/x.gguf", FileType::MostlyQ8_0); }).empty());
  const std::string same = error_message([&] { run(*llama_, *llama_, FileType::MostlyQ8_0); });
  EXPECT_NE(same.find("is the input file"), std::string::npos) << same;
  EXPECT_TRUE(GgufFile::open(*llama_) != nullptr) << "the input was damaged";
}

}  // namespace
}  // namespace hllm
