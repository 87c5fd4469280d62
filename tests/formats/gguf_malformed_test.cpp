// Malformed GGUF images: each test builds a small valid image byte by byte, breaks one rule and
// checks that parsing raises an Error naming the offending key or tensor and the expected and
// found values.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "util/error.h"

namespace hllm {
namespace {

constexpr uint32_t kString = 8;
constexpr uint32_t kArray = 9;

// Little-endian byte builder for hand-made GGUF images.
class Bytes {
 public:
  template <typename T>
  Bytes& put(T value) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &value, sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t value) { return put(value); }
  Bytes& u32(uint32_t value) { return put(value); }
  Bytes& u64(uint64_t value) { return put(value); }
  Bytes& raw(std::string_view text) {
    bytes.insert(bytes.end(), text.begin(), text.end());
    return *this;
  }
  Bytes& str(std::string_view text) { return u64(text.size()).raw(text); }
  Bytes& append(const Bytes& other) {
    bytes.insert(bytes.end(), other.bytes.begin(), other.bytes.end());
    return *this;
  }
  Bytes& pad_to(size_t alignment) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }

  std::vector<uint8_t> bytes;
};

// One metadata entry: key, value type id and the encoded value.
Bytes entry(std::string_view key, uint32_t type, const Bytes& value) {
  Bytes out;
  out.str(key).u32(type).append(value);
  return out;
}

Bytes u32_entry(std::string_view key, uint32_t value) {
  return entry(key, 4, Bytes().u32(value));
}

Bytes string_entry(std::string_view key, std::string_view value) {
  return entry(key, kString, Bytes().str(value));
}

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

// A valid image: two metadata entries and two tensors, f32 [8, 2] (64 bytes at offset 0) and
// q8_0 [32] (34 bytes at offset 64). Tests change one field before build().
struct ImageSpec {
  std::string magic = "GGUF";
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors;  // overrides the tensor count in the header
  std::optional<uint64_t> n_kv;       // overrides the metadata count in the header
  std::vector<Bytes> entries = {string_entry("general.architecture", "llama"),
                                string_entry("general.name", "tiny")};
  std::vector<TensorSpec> tensors = {{"a", {8, 2}, 0, 0}, {"b", {32}, 8, 64}};
  size_t alignment = 32;    // padding before the data section
  size_t data_bytes = 128;  // size of the data section

  std::vector<uint8_t> build() const {
    Bytes out;
    out.raw(magic).u32(version);
    out.u64(n_tensors.value_or(tensors.size())).u64(n_kv.value_or(entries.size()));
    for (const Bytes& item : entries)
      out.append(item);
    for (const TensorSpec& tensor : tensors) {
      out.str(tensor.name).u32(static_cast<uint32_t>(tensor.ne.size()));
      for (uint64_t dim : tensor.ne)
        out.u64(dim);
      out.u32(tensor.type).u64(tensor.offset);
    }
    out.pad_to(alignment);
    for (size_t i = 0; i < data_bytes; ++i)
      out.u8(static_cast<uint8_t>(i));
    return out.bytes;
  }
};

std::unique_ptr<GgufFile> parse(const std::vector<uint8_t>& image) {
  return GgufFile::parse(image.data(), image.size(), "hostile.gguf");
}

// Parses image and checks that it fails with a message containing every one of parts.
void expect_error(const std::vector<uint8_t>& image, const std::vector<std::string>& parts) {
  try {
    parse(image);
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("hostile.gguf"), std::string::npos) << "message: " << message;
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "expected '" << part << "' in message: " << message;
    }
    return;
  }
  ADD_FAILURE() << "parsing succeeded; expected an error containing '" << parts.front() << "'";
}

TEST(GgufMalformed, ValidImageParses) {
  const std::vector<uint8_t> image = ImageSpec().build();
  const auto file = parse(image);
  EXPECT_EQ(file->version(), 3u);
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  EXPECT_EQ(file->get_string("general.name"), "tiny");
  EXPECT_EQ(file->find_tensor("b")->n_bytes, 34u);
  EXPECT_EQ(file->find_tensor("b")->data, image.data() + file->data_offset() + 64);
}

TEST(GgufMalformed, BadMagic) {
  ImageSpec spec;
  spec.magic = "GGUX";
  expect_error(spec.build(), {"not a GGUF file", "47 47 55 58", "expected 47 47 55 46"});
}

TEST(GgufMalformed, UnsupportedVersions) {
  ImageSpec spec;
  spec.version = 1;
  expect_error(spec.build(), {"version 1", "expected 2 or 3"});
  spec.version = 4;
  expect_error(spec.build(), {"version 4", "expected 2 or 3"});
  spec.version = 0x03000000u;
  expect_error(spec.build(), {"big-endian", "0x3000000"});
}

TEST(GgufMalformed, VersionTwoParses) {
  ImageSpec spec;
  spec.version = 2;
  EXPECT_EQ(parse(spec.build())->version(), 2u);
}

TEST(GgufMalformed, EmptyAndShortFiles) {
  expect_error({}, {"magic at offset 0 needs 4 bytes", "only 0 bytes left"});
  std::vector<uint8_t> image = ImageSpec().build();
  image.resize(10);
  expect_error(image, {"tensor count at offset 8 needs 8 bytes", "only 2 bytes left"});
}

TEST(GgufMalformed, EveryTruncationFails) {
  const std::vector<uint8_t> image = ImageSpec().build();
  const size_t data_offset = parse(image)->data_offset();
  // The last tensor ends at byte 98 of the data section; the padding after it may be cut.
  const size_t needed = data_offset + 98;
  for (size_t size = 0; size < needed; ++size) {
    EXPECT_THROW(GgufFile::parse(image.data(), size, "cut.gguf"), Error) << "size " << size;
  }
  EXPECT_NO_THROW(GgufFile::parse(image.data(), needed, "cut.gguf"));
}

TEST(GgufMalformed, TensorCountBeyondFile) {
  ImageSpec spec;
  spec.n_tensors = 1'000'000'000'000ull;
  expect_error(spec.build(), {"declares 1000000000000 tensors", "bytes follow the header"});
}

TEST(GgufMalformed, MetadataCountBeyondFile) {
  ImageSpec spec;
  spec.n_kv = uint64_t{1} << 62;
  expect_error(spec.build(),
               {"declares 4611686018427387904 metadata entries", "bytes follow the header"});
}

TEST(GgufMalformed, MetadataCountOneTooMany) {
  ImageSpec spec;
  spec.n_kv = 3;
  // The third entry is read from the tensor table and runs into garbage or the file end.
  EXPECT_THROW(parse(spec.build()), Error);
}

TEST(GgufMalformed, ArrayLengthBeyondFile) {
  ImageSpec spec;
  spec.entries.push_back(
      entry("tokenizer.ggml.scores", kArray, Bytes().u32(6).u64(uint64_t{1} << 40)));
  expect_error(spec.build(), {"key 'tokenizer.ggml.scores'", "array of 1099511627776 float32",
                              "4 bytes each", "bytes left"});
}

TEST(GgufMalformed, StringArrayLengthBeyondFile) {
  ImageSpec spec;
  // 2^60 strings of at least 8 bytes each: a reader that reserved first would abort.
  spec.entries.push_back(
      entry("tokenizer.ggml.tokens", kArray, Bytes().u32(kString).u64(uint64_t{1} << 60)));
  expect_error(spec.build(), {"key 'tokenizer.ggml.tokens'", "array of 1152921504606846976 string",
                              "8 bytes each"});
}

TEST(GgufMalformed, StringValuePastEnd) {
  ImageSpec spec;
  spec.tensors.clear();
  spec.data_bytes = 0;
  spec.alignment = 1;
  spec.entries.push_back(entry("general.license", kString, Bytes().u64(1000).raw("mit")));
  expect_error(spec.build(),
               {"value of key 'general.license'", "has length 1000", "only 3 bytes left"});
}

TEST(GgufMalformed, KeyPastEnd) {
  ImageSpec spec;
  spec.tensors.clear();
  spec.data_bytes = 0;
  spec.alignment = 1;
  spec.entries.push_back(Bytes().u64(uint64_t{1} << 40).raw("general"));
  expect_error(spec.build(), {"key of metadata entry 2", "has length 1099511627776"});
}

TEST(GgufMalformed, StringArrayElementPastEnd) {
  ImageSpec spec;
  spec.tensors.clear();
  spec.data_bytes = 0;
  spec.alignment = 1;
  Bytes items;
  items.u32(kString).u64(2).str("hello").u64(50).raw("wor");
  spec.entries.push_back(entry("tokenizer.ggml.tokens", kArray, items));
  expect_error(spec.build(), {"array element of key 'tokenizer.ggml.tokens'", "has length 50"});
}

TEST(GgufMalformed, NestedArrayDepthLimit) {
  // Builds an array nested levels deep whose innermost array contains one uint8.
  auto nested = [](int levels) {
    Bytes value;
    for (int i = 1; i < levels; ++i)
      value.u32(kArray).u64(1);
    value.u32(0).u64(1).u8(7);
    return entry("deep", kArray, value);
  };
  ImageSpec spec;
  spec.entries.push_back(nested(kGgufMaxArrayDepth));
  EXPECT_NO_THROW(parse(spec.build()));
  spec.entries.back() = nested(kGgufMaxArrayDepth + 1);
  expect_error(spec.build(), {"key 'deep'", "nested 9 deep", "at most 8"});
}

TEST(GgufMalformed, UnknownValueTypes) {
  ImageSpec spec;
  spec.entries.push_back(entry("odd", 13, Bytes().u32(0)));
  expect_error(spec.build(), {"key 'odd'", "unknown value type id 13", "expected 0 to 12"});
  spec.entries.back() = entry("odd", kArray, Bytes().u32(99).u64(0));
  expect_error(spec.build(), {"key 'odd'", "unknown array element type id 99"});
}

TEST(GgufMalformed, BoolOutOfRange) {
  ImageSpec spec;
  spec.entries.push_back(entry("flag", 7, Bytes().u8(2)));
  expect_error(spec.build(), {"key 'flag'", "bool value is 2", "expected 0 or 1"});
}

TEST(GgufMalformed, DuplicateKeys) {
  ImageSpec spec;
  spec.entries.push_back(string_entry("general.name", "again"));
  expect_error(spec.build(), {"duplicate metadata key 'general.name'", "entries 1 and 2"});
}

TEST(GgufMalformed, DimensionCounts) {
  ImageSpec spec;
  spec.tensors[0].ne = {};
  expect_error(spec.build(), {"tensor 'a'", "n_dims is 0", "expected 1 to 4"});
  spec.tensors[0].ne = {2, 2, 2, 2, 1};
  expect_error(spec.build(), {"tensor 'a'", "n_dims is 5", "expected 1 to 4"});
}

TEST(GgufMalformed, NonPositiveDimensions) {
  ImageSpec spec;
  spec.tensors[0].ne = {8, 0};
  expect_error(spec.build(), {"tensor 'a'", "dimension 1 is 0", "expected a positive value"});
  spec.tensors[0].ne = {uint64_t{1} << 63, 1};
  expect_error(spec.build(), {"tensor 'a'", "dimension 0 is 9223372036854775808",
                              "as int64: -9223372036854775808"});
}

TEST(GgufMalformed, ElementCountOverflow) {
  ImageSpec spec;
  spec.tensors[0].ne = {uint64_t{1} << 32, uint64_t{1} << 31, 2};
  expect_error(spec.build(), {"tensor 'a'", "4294967296, 2147483648, 2", "overflows int64"});
}

TEST(GgufMalformed, ByteSizeOverflow) {
  // 2^62 f32 elements fit int64 but their 2^64 bytes do not fit uint64.
  ImageSpec spec;
  spec.tensors[0].ne = {uint64_t{1} << 31, uint64_t{1} << 31};
  expect_error(spec.build(), {"tensor 'a'", "byte size", "overflows"});
}

TEST(GgufMalformed, RowNotMultipleOfBlock) {
  ImageSpec spec;
  spec.tensors[1].ne = {33};
  expect_error(spec.build(), {"tensor 'b'", "ne[0] = 33", "block size 32", "q8_0"});
}

TEST(GgufMalformed, UnknownTensorTypes) {
  for (uint32_t id : {4u, 31u, 36u, 40u, 1000u}) {
    ImageSpec spec;
    spec.tensors[0].type = id;
    expect_error(spec.build(), {"tensor 'a'", "unknown ggml type id " + std::to_string(id)});
  }
}

TEST(GgufMalformed, MisalignedOffset) {
  ImageSpec spec;
  spec.tensors[1].offset = 65;
  expect_error(spec.build(), {"tensor 'b'", "data offset 65", "alignment 32"});
}

TEST(GgufMalformed, OffsetOutsideData) {
  ImageSpec spec;
  spec.tensors[1].offset = uint64_t{1} << 40;
  expect_error(spec.build(), {"tensor 'b'", "offset 1099511627776", "past the end",
                              "data section has 128 bytes"});
  spec.tensors[1].offset = ~uint64_t{0} - 31;  // aligned, and offset + size wraps around
  expect_error(spec.build(), {"tensor 'b'", "past the end"});
}

TEST(GgufMalformed, DataPastEndOfFile) {
  ImageSpec spec;
  spec.data_bytes = 97;  // tensor 'b' needs bytes 64 to 97
  expect_error(spec.build(), {"tensor 'b'", "offset 64 with 34 bytes", "past the end",
                              "data section has 97 bytes"});
}

TEST(GgufMalformed, OverlappingTensors) {
  ImageSpec spec;
  spec.tensors[1].offset = 32;
  expect_error(spec.build(), {"tensor 'a' (offset 0, 64 bytes) overlaps tensor 'b' at offset 32"});
}

TEST(GgufMalformed, DuplicateTensorNames) {
  ImageSpec spec;
  spec.tensors[1].name = "a";
  expect_error(spec.build(), {"duplicate tensor name 'a'", "tensors 0 and 1"});
}

TEST(GgufMalformed, AlignmentValues) {
  for (uint32_t alignment : {0u, 48u, 3u}) {
    ImageSpec spec;
    spec.entries.push_back(u32_entry("general.alignment", alignment));
    expect_error(spec.build(), {"key 'general.alignment'", "is " + std::to_string(alignment),
                                "expected a power of two"});
  }
}

TEST(GgufMalformed, AlignmentOfWrongType) {
  ImageSpec spec;
  spec.entries.push_back(entry("general.alignment", 10, Bytes().u64(32)));
  expect_error(spec.build(), {"key 'general.alignment'", "has type uint64", "expected uint32"});
  spec.entries.back() = string_entry("general.alignment", "32");
  expect_error(spec.build(), {"key 'general.alignment'", "has type string", "expected uint32"});
}

TEST(GgufMalformed, CustomAlignmentApplies) {
  ImageSpec spec;
  spec.entries.push_back(u32_entry("general.alignment", 64));
  spec.alignment = 64;
  const std::vector<uint8_t> image = spec.build();
  const auto file = parse(image);
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  // Offset 64 stays valid, but 32 is now misaligned.
  spec.tensors[1].offset = 32;
  expect_error(spec.build(), {"tensor 'b'", "data offset 32", "alignment 64"});
}

TEST(GgufMalformed, TensorsWithoutDataSection) {
  // A vocabulary-only file may end before the padding; a file with tensors may not.
  ImageSpec spec;
  spec.tensors.clear();
  spec.alignment = 1;
  spec.data_bytes = 0;
  std::vector<uint8_t> image = spec.build();
  const auto file = parse(image);
  EXPECT_TRUE(file->tensors().empty());
  EXPECT_GE(file->data_offset(), image.size());
}

}  // namespace
}  // namespace hllm
