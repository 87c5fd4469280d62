// Reads every reference GGUF fixture and checks facts its README documents.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/fixtures.h"

namespace hllm {
namespace {

struct FixtureCase {
  std::string path;
  std::string architecture;
  size_t n_vocab;
  bool has_tensors;
};

std::vector<FixtureCase> fixture_cases() {
  return {
      {"models/qwen3next-tiny-f32.gguf", "qwen3next", 2074, true},
      {"models/qwen3next-tiny-legacy-f16.gguf", "qwen3next", 2074, true},
      {"models/qwen3next-tiny-q8_0.gguf", "qwen3next", 2074, true},
      {"models/qwen3next-tiny-q4_k_m.gguf", "qwen3next", 2074, true},
      {"models/stories260K.gguf", "llama", 512, true},
      {"models/llama-2-tiny-random.gguf", "llama", 32000, true},
      {"tokenizer/qwen3-vocab.gguf", "qwen3next", 151669, false},
      {"tokenizer/llama-spm-vocab.gguf", "llama", 32000, false},
  };
}

TEST(GgufFixtures, ReadsEveryFixture) {
  for (const FixtureCase& c : fixture_cases()) {
    SCOPED_TRACE(c.path);
    const auto file = GgufFile::open(test::fixture(c.path));
    EXPECT_EQ(file->version(), 3u);
    EXPECT_EQ(file->get_string("general.architecture"), c.architecture);
    EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens").size(), c.n_vocab);
    EXPECT_EQ(file->tensors().empty(), !c.has_tensors);
    if (!c.has_tensors) continue;

    EXPECT_NE(file->find_tensor("token_embd.weight"), nullptr);
    const uint8_t* begin =
        file->tensors().front().data - file->data_offset() - file->tensors().front().offset;
    for (const GgufTensorInfo& info : file->tensors()) {
      EXPECT_GT(info.n_bytes, 0u) << info.name;
      EXPECT_EQ(info.offset % file->alignment(), 0u) << info.name;
      EXPECT_LE(file->data_offset() + info.offset + info.n_bytes, file->file_size()) << info.name;
      EXPECT_EQ(info.data, begin + file->data_offset() + info.offset) << info.name;
      EXPECT_EQ(file->find_tensor(info.name), &info);
    }
  }
}

TEST(GgufFixtures, QuantizedTypesPresent) {
  const auto file = GgufFile::open(test::fixture("models/qwen3next-tiny-q4_k_m.gguf"));
  bool has_q4_k = false;
  bool has_q6_k = false;
  for (const GgufTensorInfo& info : file->tensors()) {
    has_q4_k |= info.type == GgmlType::Q4_K;
    has_q6_k |= info.type == GgmlType::Q6_K;
  }
  EXPECT_TRUE(has_q4_k);
  EXPECT_TRUE(has_q6_k);
  const GgufTensorInfo* output = file->find_tensor("output.weight");
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(output->n_bytes, row_size(output->type, output->ne[0]) * output->ne[1]);
}

// Returns a writer holding the metadata and tensors of file, in file order.
GgufWriter copy_of(const GgufFile& file) {
  GgufWriter writer;
  writer.copy_metadata(file);
  for (const GgufTensorInfo& info : file.tensors()) {
    const std::vector<int64_t> ne(info.ne.begin(), info.ne.begin() + info.n_dims);
    writer.add_tensor_view(info.name, info.type, ne, info.data, info.n_bytes);
  }
  return writer;
}

// llama.cpp's tools wrote the fixtures with the same layout as GgufWriter, so a copy made with
// the writer is byte-identical to each. This checks the writer's encoding against llama.cpp's.
TEST(GgufFixtures, CopiesAreByteIdentical) {
  for (const FixtureCase& c : fixture_cases()) {
    SCOPED_TRACE(c.path);
    const std::string path = test::fixture(c.path);
    const std::vector<uint8_t> image = copy_of(*GgufFile::open(path)).serialize();
    const std::string original = test::read_file(path);
    ASSERT_EQ(image.size(), original.size());
    const auto mismatch = std::mismatch(image.begin(), image.end(),
                                        reinterpret_cast<const uint8_t*>(original.data()));
    EXPECT_EQ(mismatch.first, image.end())
        << "first difference at byte " << (mismatch.first - image.begin());
  }
}

TEST(GgufFixtures, WriteStoriesModelToFile) {
  const std::string source_path = test::fixture("models/stories260K.gguf");
  const auto source = GgufFile::open(source_path);
  const std::string path = test::temp_dir() + "/stories-copy.gguf";
  copy_of(*source).write(path);
  EXPECT_EQ(test::read_file(path), test::read_file(source_path));

  const auto copy = GgufFile::open(path);
  ASSERT_EQ(copy->tensors().size(), source->tensors().size());
  for (size_t i = 0; i < source->tensors().size(); ++i) {
    EXPECT_EQ(copy->tensors()[i].name, source->tensors()[i].name);
    EXPECT_EQ(copy->tensors()[i].offset, source->tensors()[i].offset);
  }
}

}  // namespace
}  // namespace hllm
