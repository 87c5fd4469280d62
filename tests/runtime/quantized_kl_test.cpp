// Quantizing the F32 fixture with hllm loses no more accuracy than llama.cpp's quantizer: the mean
// KL divergence of the prompt's logits from llama.cpp's F32 logits is no worse than that of
// llama.cpp's logits for the same file quantized by llama.cpp.
#include <gtest/gtest.h>

#include <ostream>

#include "runtime/logit_compare.h"
#include "runtime/quantize_file.h"
#include "runtime/session.h"
#include "support/fixtures.h"

namespace hllm {
namespace {

std::vector<float> prompt_logits(const std::string& path) {
  auto model = Model::load(path);
  const std::vector<int> ids = test::read_ids(test::fixture("reference/qwen3next-tiny-f32.tokens.txt"));
  SessionOptions options;
  options.n_ctx = 512;
  options.n_threads = 2;
  Session session(*model, options);
  Batch batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
  return session.decode(batch);
}

constexpr int64_t kVocab = 2074;

std::vector<float> f32_reference() {
  return test::read_f32(test::fixture("reference/qwen3next-tiny-f32.logits.f32"));
}

struct KlCase {
  FileType type;
  const char* llama_cpp_logits;  // llama.cpp's logits for the same source quantized by llama.cpp
};

// Prints the case as test listings show it, instead of its bytes.
void PrintTo(const KlCase& c, std::ostream* out) { *out << c.llama_cpp_logits; }

class QuantizedKlTest : public ::testing::TestWithParam<KlCase> {};

TEST_P(QuantizedKlTest, NoWorseThanLlamaCppQuantizer) {
  const KlCase& c = GetParam();
  const std::string path = test::temp_dir() + "/quantized.gguf";
  QuantizeOptions options;
  options.file_type = c.type;
  options.n_threads = 2;
  quantize_file(test::fixture("models/qwen3next-tiny-f32.gguf"), path, options);

  const std::vector<float> reference = f32_reference();
  const double ours = compare_logits(prompt_logits(path), reference, kVocab).mean_kl;
  const std::vector<float> theirs_logits = test::read_f32(test::fixture(std::string("reference/") + c.llama_cpp_logits));
  const double theirs = compare_logits(theirs_logits, reference, kVocab).mean_kl;
  EXPECT_LE(ours, theirs) << "hllm's quantization " << ours << " vs llama.cpp's " << theirs;
}

INSTANTIATE_TEST_SUITE_P(Fixture, QuantizedKlTest,
                         ::testing::Values(KlCase{FileType::MostlyQ8_0, "qwen3next-tiny-q8_0.logits.f32"},
                                           KlCase{FileType::MostlyQ4_K_M, "qwen3next-tiny-q4_k_m.logits.f32"}),
                         [](const auto& info) { return info.index == 0 ? std::string("Q8_0") : std::string("Q4_K_M"); });

}  // namespace
}  // namespace hllm
