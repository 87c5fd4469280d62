// GGUF files: a validated, memory-mapped reader and a writer.
//
// The reader treats every file as hostile: each count, length and offset is checked against the
// file size before use, and every failure is an hllm::Error naming the file, the key or tensor,
// and what was expected versus found.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "formats/ggml_type.h"

namespace hllm {

class MappedFile;

// Metadata key of the data alignment in bytes (a uint32, 32 when absent).
inline constexpr std::string_view kGgufAlignmentKey = "general.alignment";

enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// Returns the name of a value type as the GGUF specification writes it ("uint32", "string"), or
// "unknown(N)".
std::string_view gguf_value_type_name(GgufValueType type);

// Deepest nesting of arrays inside arrays that the reader accepts and the writer writes. An array
// of scalars has depth 1. The limit keeps the recursive reader's stack use bounded.
inline constexpr int kGgufMaxArrayDepth = 8;

// One metadata value. Integers of every width are held as int64_t or uint64_t, floats as double;
// type records the width stored in the file so a writer can reproduce it.
struct GgufValue {
  using Array = std::vector<GgufValue>;

  GgufValueType type = GgufValueType::UINT8;
  GgufValueType element_type = GgufValueType::UINT8;  // for ARRAY: the type of its elements
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

  static GgufValue u8(uint8_t v);
  static GgufValue i8(int8_t v);
  static GgufValue u16(uint16_t v);
  static GgufValue i16(int16_t v);
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue i64(int64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue array(GgufValueType element_type, Array items);
  static GgufValue string_array(const std::vector<std::string>& items);

  bool is_integer() const;
  bool is_float() const;

  bool operator==(const GgufValue& other) const = default;
};

// One tensor description from the file's tensor table.
struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // elements per dimension, fastest first
  uint64_t offset = 0;                    // from the start of the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;          // into the memory map, or the buffer given to parse()

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Maps and validates the file at path.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Validates a file image held in memory (for the fuzzer and tests). The buffer must outlive
  // the returned object. name is used in error messages.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, std::string name);

  ~GgufFile();

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  // Returns where the data section starts. It can exceed file_size() in a file without tensors,
  // because such files may end before the padding.
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;

  // Typed access. The get_ forms throw when the key is missing; all throw when the stored type
  // does not convert (an integer out of range, a string read as a number), naming the key, the
  // expected type and the stored one.
  std::optional<int64_t> find_int(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<double> get_float_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void read(const uint8_t* data, size_t size);
  [[noreturn]] void fail_type(std::string_view key, std::string_view expected,
                              const GgufValue& value) const;

  std::string path_;
  std::unique_ptr<MappedFile> file_;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  // Views into the names above, which never move after read() returns.
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace hllm
