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
#include <utility>
#include <variant>
#include <vector>

#include "formats/ggml_type.h"

namespace hllm {

class MappedFile;

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

std::string_view gguf_value_type_name(GgufValueType type);

// One metadata value. Integers of every width are held as int64_t or uint64_t, floats as double;
// type records the width stored in the file so a writer can reproduce it.
struct GgufValue {
  using Array = std::vector<GgufValue>;

  GgufValueType type = GgufValueType::UINT8;
  GgufValueType element_type = GgufValueType::UINT8;  // for ARRAY: the type of its elements
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue array(GgufValueType element_type, Array items);
  static GgufValue string_array(const std::vector<std::string>& items);

  bool is_integer() const;
  bool is_float() const;
};

// One tensor description from the file's tensor table.
struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // elements per dimension, fastest first
  uint64_t offset = 0;                    // from the start of the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;          // into the memory map

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

  std::string path_;
  std::unique_ptr<MappedFile> file_;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace hllm
