// GgufWriter round trips through GgufFile, and the typed getters.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {
namespace {

using namespace std::string_literals;

std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

// One value of every type, including arrays of every element type and nested arrays.
std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  return {
      {"general.architecture", GgufValue::string("llama")},
      {"test.u8", GgufValue::u8(200)},
      {"test.i8", GgufValue::i8(-100)},
      {"test.u16", GgufValue::u16(60000)},
      {"test.i16", GgufValue::i16(-30000)},
      {"test.u32", GgufValue::u32(4'000'000'000u)},
      {"test.i32", GgufValue::i32(-2'000'000'000)},
      {"test.u64", GgufValue::u64(std::numeric_limits<uint64_t>::max())},
      {"test.i64", GgufValue::i64(std::numeric_limits<int64_t>::min())},
      {"test.f32", GgufValue::f32(0.1f)},
      {"test.f64", GgufValue::f64(0.1)},
      {"test.true", GgufValue::boolean(true)},
      {"test.false", GgufValue::boolean(false)},
      {"test.string", GgufValue::string("h\xc3\xa9llo\n\0x"s)},
      {"test.empty_string", GgufValue::string("")},
      {"test.strings", GgufValue::string_array({"a", "", "ccc"})},
      {"test.u8s", GgufValue::array(GgufValueType::UINT8, {GgufValue::u8(1), GgufValue::u8(255)})},
      {"test.i8s", GgufValue::array(GgufValueType::INT8, {GgufValue::i8(-1)})},
      {"test.u16s", GgufValue::array(GgufValueType::UINT16, {GgufValue::u16(7)})},
      {"test.i16s", GgufValue::array(GgufValueType::INT16, {GgufValue::i16(-7)})},
      {"test.u32s",
       GgufValue::array(GgufValueType::UINT32, {GgufValue::u32(1), GgufValue::u32(2)})},
      {"test.i32s", GgufValue::array(GgufValueType::INT32, {GgufValue::i32(-3)})},
      {"test.u64s", GgufValue::array(GgufValueType::UINT64, {GgufValue::u64(1ull << 40)})},
      {"test.i64s", GgufValue::array(GgufValueType::INT64, {GgufValue::i64(-(1ll << 40))})},
      {"test.f32s", GgufValue::array(GgufValueType::FLOAT32, {GgufValue::f32(1.5f)})},
      {"test.f64s", GgufValue::array(GgufValueType::FLOAT64, {GgufValue::f64(-2.25)})},
      {"test.bools", GgufValue::array(GgufValueType::BOOL, {GgufValue::boolean(true)})},
      {"test.empty_array", GgufValue::array(GgufValueType::INT32, {})},
      {"test.nested",
       GgufValue::array(GgufValueType::ARRAY,
                        {GgufValue::array(GgufValueType::UINT32, {GgufValue::u32(1)}),
                         GgufValue::string_array({"x", "y"}),
                         GgufValue::array(GgufValueType::ARRAY,
                                          {GgufValue::array(GgufValueType::FLOAT32, {})})})},
  };
}

struct TensorCase {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;
  size_t n_bytes;
};

// Tensors of several types; byte counts follow from each type's block layout.
std::vector<TensorCase> tensor_cases() {
  return {
      {"token_embd.weight", GgmlType::F32, {8, 3}, 96},
      {"blk.0.attn_q.weight", GgmlType::Q4_K, {256, 2}, 288},
      {"blk.0.ffn_down.weight", GgmlType::Q8_0, {64}, 68},
      {"output_norm.weight", GgmlType::F16, {5}, 10},
      {"blk.0.ssm_a", GgmlType::BF16, {3, 1, 2, 2}, 24},
      {"blk.0.ffn_up.weight", GgmlType::MXFP4, {32, 1, 3}, 51},
  };
}

GgufWriter make_writer() {
  GgufWriter writer;
  for (auto& [key, value] : every_value_type())
    writer.set(key, value);
  uint8_t seed = 1;
  for (const TensorCase& tensor : tensor_cases()) {
    writer.add_tensor(tensor.name, tensor.type, tensor.ne, pattern_bytes(tensor.n_bytes, seed++));
  }
  return writer;
}

void expect_matches_cases(const GgufFile& file) {
  const auto expected_values = every_value_type();
  ASSERT_EQ(file.metadata().size(), expected_values.size());
  for (size_t i = 0; i < expected_values.size(); ++i) {
    EXPECT_EQ(file.metadata()[i].first, expected_values[i].first) << "entry " << i;
    EXPECT_TRUE(file.metadata()[i].second == expected_values[i].second)
        << "value of " << expected_values[i].first;
  }
  const auto cases = tensor_cases();
  ASSERT_EQ(file.tensors().size(), cases.size());
  uint8_t seed = 1;
  for (size_t i = 0; i < cases.size(); ++i) {
    const GgufTensorInfo& info = file.tensors()[i];
    EXPECT_EQ(info.name, cases[i].name);
    EXPECT_EQ(info.type, cases[i].type) << info.name;
    EXPECT_EQ(info.n_dims, static_cast<int>(cases[i].ne.size())) << info.name;
    for (size_t d = 0; d < cases[i].ne.size(); ++d)
      EXPECT_EQ(info.ne[d], cases[i].ne[d]);
    EXPECT_EQ(info.n_bytes, cases[i].n_bytes) << info.name;
    EXPECT_EQ(info.offset % file.alignment(), 0u) << info.name;
    const std::vector<uint8_t> expected = pattern_bytes(cases[i].n_bytes, seed++);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), info.data)) << info.name;
  }
}

TEST(GgufWriter, RoundTripThroughFile) {
  const std::string path = test::temp_dir() + "/round.gguf";
  make_writer().write(path);
  const auto file = GgufFile::open(path);
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  expect_matches_cases(*file);
}

TEST(GgufWriter, SerializeMatchesFile) {
  const std::string path = test::temp_dir() + "/same.gguf";
  GgufWriter writer = make_writer();
  writer.write(path);
  const std::vector<uint8_t> image = writer.serialize();
  const std::string bytes = test::read_file(path);
  ASSERT_EQ(bytes.size(), image.size());
  EXPECT_TRUE(
      std::equal(image.begin(), image.end(), reinterpret_cast<const uint8_t*>(bytes.data())));
  EXPECT_EQ(image.size() % 32, 0u);  // the last tensor is padded too
  expect_matches_cases(*GgufFile::parse(image.data(), image.size(), "memory"));
}

TEST(GgufWriter, StreamedWriteInAnyOrder) {
  const std::string path = test::temp_dir() + "/streamed.gguf";
  GgufWriter writer;
  for (auto& [key, value] : every_value_type())
    writer.set(key, value);
  writer.set_alignment(64);
  const auto cases = tensor_cases();
  for (const TensorCase& tensor : cases)
    writer.add_tensor(tensor.name, tensor.type, tensor.ne);
  writer.begin(path);
  for (size_t i = cases.size(); i-- > 0;) {
    const std::vector<uint8_t> data = pattern_bytes(cases[i].n_bytes, static_cast<uint8_t>(i + 1));
    writer.write_tensor_data(i, data.data(), data.size());
  }
  writer.finish();

  const auto file = GgufFile::open(path);
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  EXPECT_EQ(file->get_int("general.alignment"), 64);
  // The alignment entry comes last in the metadata; the tensors compare as before.
  ASSERT_EQ(file->tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const GgufTensorInfo& info = file->tensors()[i];
    EXPECT_EQ(info.offset % 64, 0u) << info.name;
    const auto expected = pattern_bytes(cases[i].n_bytes, static_cast<uint8_t>(i + 1));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), info.data)) << info.name;
  }
}

TEST(GgufWriter, ReplacingKeyKeepsPosition) {
  GgufWriter writer;
  writer.set("a", GgufValue::u32(1));
  writer.set("b", GgufValue::u32(2));
  writer.set("c", GgufValue::u32(3));
  writer.set("a", GgufValue::string("first"));
  writer.remove("b");
  ASSERT_EQ(writer.metadata().size(), 2u);
  EXPECT_EQ(writer.metadata()[0].first, "a");
  EXPECT_EQ(writer.metadata()[1].first, "c");
  EXPECT_TRUE(*writer.find("a") == GgufValue::string("first"));
  EXPECT_EQ(writer.find("b"), nullptr);
}

TEST(GgufWriter, CopyMetadataFromFile) {
  const std::vector<uint8_t> image = make_writer().serialize();
  const auto source = GgufFile::parse(image.data(), image.size(), "source");
  GgufWriter copy;
  copy.set("test.u8", GgufValue::u8(1));  // replaced in place by the copy
  copy.copy_metadata(*source);
  ASSERT_EQ(copy.metadata().size(), source->metadata().size());
  EXPECT_EQ(copy.metadata()[0].first, "test.u8");
  EXPECT_TRUE(*copy.find("test.u8") == GgufValue::u8(200));
  EXPECT_TRUE(*copy.find("test.nested") == *source->find("test.nested"));
}

TEST(GgufWriter, TensorViewAndEmptyFile) {
  const std::vector<uint8_t> data = pattern_bytes(16, 9);
  GgufWriter writer;
  writer.add_tensor_view("view", GgmlType::I32, {4}, data.data(), data.size());
  const std::vector<uint8_t> image = writer.serialize();
  const auto file = GgufFile::parse(image.data(), image.size(), "view");
  ASSERT_EQ(file->tensors().size(), 1u);
  EXPECT_EQ(file->tensors()[0].type, GgmlType::I32);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), file->tensors()[0].data));

  // A file without tensors is the 24-byte header alone, with no padding.
  const std::vector<uint8_t> empty = GgufWriter().serialize();
  EXPECT_EQ(empty.size(), 24u);
  const auto empty_file = GgufFile::parse(empty.data(), empty.size(), "empty");
  EXPECT_TRUE(empty_file->metadata().empty());
  EXPECT_TRUE(empty_file->tensors().empty());

  GgufWriter huge_alignment;
  huge_alignment.set_alignment(1u << 30);
  EXPECT_LT(huge_alignment.serialize().size(), 100u);
}

// Runs action and checks that it throws an Error whose message contains part.
template <typename Action>
void expect_error(Action action, const std::string& part) {
  try {
    action();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
        << "expected '" << part << "' in: " << error.what();
    return;
  }
  ADD_FAILURE() << "no error; expected one containing '" << part << "'";
}

TEST(GgufWriter, RejectsInvalidTensors) {
  GgufWriter writer;
  writer.add_tensor("x", GgmlType::F32, {2}, pattern_bytes(8, 0));
  expect_error([&] { writer.add_tensor("x", GgmlType::F32, {2}); }, "tensor 'x' is added twice");
  expect_error([&] { writer.add_tensor("", GgmlType::F32, {2}); }, "tensor name is empty");
  expect_error([&] { writer.add_tensor(std::string(64, 'n'), GgmlType::F32, {2}); },
               "name has 64 bytes, expected at most 63");
  expect_error([&] { writer.add_tensor("y", GgmlType::F32, {}); }, "has 0 dimensions");
  expect_error([&] { writer.add_tensor("y", GgmlType::F32, {1, 1, 1, 1, 1}); }, "has 5 dimensions");
  expect_error(
      [&] {
        writer.add_tensor("y", GgmlType::F32, {2, 0});
      },
      "dimension 1 is 0, expected a positive value");
  expect_error([&] { writer.add_tensor("y", GgmlType::Q4_0, {48}); },
               "ne[0] = 48 is not a multiple of the block size 32 of type q4_0");
  expect_error([&] { writer.add_tensor("y", static_cast<GgmlType>(4), {2}); },
               "unknown ggml type id 4");
  expect_error([&] { writer.add_tensor("y", GgmlType::F16, {3}, pattern_bytes(5, 0)); },
               "tensor 'y': data has 5 bytes, expected 6");
  // A rejected tensor leaves nothing behind.
  EXPECT_EQ(writer.tensor_count(), 1u);
}

TEST(GgufWriter, RejectsInvalidMetadata) {
  GgufWriter writer;
  expect_error([&] { writer.set("", GgufValue::u32(1)); }, "metadata key is empty");
  expect_error([&] { writer.set_alignment(48); }, "is 48, expected a power of two");
  expect_error([&] { writer.set("general.alignment", GgufValue::u64(32)); },
               "has type uint64, expected uint32");
  GgufValue wide = GgufValue::u8(1);
  wide.data = uint64_t{300};
  expect_error([&] { writer.set("wide", wide); }, "value 300 does not fit uint8");
  GgufValue mixed = GgufValue::array(GgufValueType::UINT32, {GgufValue::u32(1), GgufValue::i32(2)});
  expect_error([&] { writer.set("mixed", mixed); },
               "array of uint32 holds an element of type int32");
  GgufValue deep = GgufValue::array(GgufValueType::UINT8, {});
  for (int i = 0; i < kGgufMaxArrayDepth; ++i) {
    deep = GgufValue::array(GgufValueType::ARRAY, {deep});
  }
  expect_error([&] { writer.set("deep", deep); }, "nested more than 8 deep");
  EXPECT_TRUE(writer.metadata().empty());
}

TEST(GgufWriter, StreamingErrors) {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/partial.gguf";
  {
    GgufWriter writer;
    writer.add_tensor("a", GgmlType::F32, {4});
    writer.add_tensor("b", GgmlType::F32, {2});
    expect_error([&] { writer.write(path); }, "tensor 'a' has no data");
    writer.begin(path);
    const std::vector<uint8_t> data(16, 1);
    expect_error([&] { writer.write_tensor_data(1, data.data(), data.size()); },
                 "tensor 'b': data has 16 bytes, expected 8");
    expect_error([&] { writer.write_tensor_data(2, data.data(), 8); }, "tensor index 2");
    writer.write_tensor_data(0, data.data(), data.size());
    expect_error([&] { writer.write_tensor_data(0, data.data(), data.size()); },
                 "tensor 'a': data is written twice");
    expect_error([&] { writer.set("k", GgufValue::u32(1)); }, "after writing has begun");
    expect_error([&] { writer.finish(); }, "tensor 'b': data was never written");
  }
  // The unfinished output was deleted when the writer went away.
  EXPECT_FALSE(std::filesystem::exists(path));
  GgufWriter writer;
  expect_error([&] { writer.write(dir + "/missing/dir/x.gguf"); }, "cannot open for writing");
}

TEST(GgufGetters, ConvertsAndRejects) {
  const std::vector<uint8_t> image = make_writer().serialize();
  const auto file = GgufFile::parse(image.data(), image.size(), "getters.gguf");
  EXPECT_EQ(file->get_int("test.u8"), 200);
  EXPECT_EQ(file->get_int("test.i8"), -100);
  EXPECT_EQ(file->get_int("test.u32"), 4'000'000'000);
  EXPECT_EQ(file->get_int("test.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_FLOAT_EQ(static_cast<float>(file->get_float("test.f32")), 0.1f);
  EXPECT_EQ(file->get_float("test.f64"), 0.1);
  EXPECT_EQ(file->get_float("test.u16"), 60000.0);
  EXPECT_EQ(file->find_bool("test.true"), true);
  EXPECT_EQ(file->get_string("general.architecture"), "llama");
  EXPECT_EQ(file->get_string_array("test.strings"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(file->get_int_array("test.u32s"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(file->get_float_array("test.f64s"), (std::vector<double>{-2.25}));
  EXPECT_EQ(file->find_int("missing"), std::nullopt);
  EXPECT_EQ(file->find_string("missing"), std::nullopt);

  expect_error([&] { file->get_int("missing"); }, "getters.gguf: required key 'missing'");
  expect_error([&] { file->get_int("test.u64"); },
               "key 'test.u64' is 18446744073709551615, which does not fit int64");
  expect_error([&] { file->get_int("test.string"); },
               "key 'test.string' has type string, expected an integer");
  expect_error([&] { file->get_string("test.u32"); },
               "key 'test.u32' has type uint32, expected string");
  expect_error([&] { file->get_float("test.true"); }, "has type bool, expected a number");
  expect_error([&] { file->find_bool("test.u8"); }, "has type uint8, expected bool");
  expect_error([&] { file->get_string_array("test.u32s"); },
               "key 'test.u32s' has type array of uint32, expected array of string");
  expect_error([&] { file->get_int_array("test.strings"); },
               "has type array of string, expected array of integers");
  expect_error([&] { file->get_float_array("test.nested"); },
               "has type array of array, expected array of numbers");
}

}  // namespace
}  // namespace hllm
