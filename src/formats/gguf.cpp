// GGUF reader. A file starts with the magic "GGUF", the version (u32), the tensor count (u64) and
// the metadata count (u64). The metadata entries follow (key string, value type u32, value), then
// the tensor infos (name string, n_dims u32, n_dims u64 dimensions, type u32, offset u64). Padding
// to the alignment precedes the data section. A string is a u64 byte length and the bytes, and
// every number is little-endian.
#include "formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

#include "util/error.h"
#include "util/mapped_file.h"

namespace hllm {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr size_t kDefaultAlignment = 32;

// Smallest encodings, used to reject counts that cannot fit in the bytes left before any memory
// is reserved for them.
constexpr uint64_t kMinMetadataEntryBytes = 8 + 4 + 1;       // empty key, type, one byte
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, one dimension
constexpr uint64_t kArrayHeaderBytes = 4 + 8;                // element type, count

bool is_known_value_type(uint32_t id) {
  return id <= static_cast<uint32_t>(GgufValueType::FLOAT64);
}

// Bytes of one encoded value of a fixed-size type, or 0 for strings and arrays.
uint64_t fixed_value_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL:
      return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
      return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32:
      return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64:
      return 8;
    case GgufValueType::STRING:
    case GgufValueType::ARRAY:
      return 0;
  }
  return 0;
}

uint64_t min_value_size(GgufValueType type) {
  if (type == GgufValueType::STRING) return 8;
  if (type == GgufValueType::ARRAY) return kArrayHeaderBytes;
  return fixed_value_size(type);
}

std::string describe_type(const GgufValue& value) {
  if (value.type != GgufValueType::ARRAY) return std::string(gguf_value_type_name(value.type));
  return fmt::format("array of {}", gguf_value_type_name(value.element_type));
}

// Bounds-checked reading position in a file image. Every read names the item it reads, so a
// truncated file reports which item ran past the end.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& file)
      : data_(data), size_(size), file_(file) {}

  size_t position() const { return position_; }
  size_t remaining() const { return size_ - position_; }
  const std::string& file() const { return file_; }

  void require(uint64_t n, std::string_view item) const {
    if (n > remaining()) {
      fail("{}: {} at offset {} needs {} bytes, but the file has only {} bytes left", file_, item,
           position_, n, remaining());
    }
  }

  template <typename T>
  T read(std::string_view item) {
    require(sizeof(T), item);
    T value;
    std::memcpy(&value, data_ + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }

  // Reads a u64 length and that many bytes. The length is checked against the bytes left before
  // anything is allocated.
  std::string_view read_string(std::string_view item) {
    const auto length = read<uint64_t>(item);
    if (length > remaining()) {
      fail("{}: {} at offset {} has length {}, but the file has only {} bytes left", file_, item,
           position_ - sizeof(uint64_t), length, remaining());
    }
    std::string_view text(reinterpret_cast<const char*>(data_ + position_), length);
    position_ += length;
    return text;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  const std::string& file_;
  size_t position_ = 0;
};

GgufValue read_value(Cursor& cursor, GgufValueType type, std::string_view key,
                     std::string_view item, int depth);

// depth counts this array and the arrays that enclose it.
GgufValue read_array(Cursor& cursor, std::string_view key, std::string_view item, int depth) {
  if (depth > kGgufMaxArrayDepth) {
    fail("{}: key '{}': arrays nested {} deep, expected at most {}", cursor.file(), key, depth,
         kGgufMaxArrayDepth);
  }
  const auto element_id = cursor.read<uint32_t>(item);
  if (!is_known_value_type(element_id)) {
    fail("{}: key '{}': unknown array element type id {}, expected 0 to 12", cursor.file(), key,
         element_id);
  }
  const auto element_type = static_cast<GgufValueType>(element_id);
  const auto count = cursor.read<uint64_t>(item);
  const uint64_t min_size = min_value_size(element_type);
  if (count > cursor.remaining() / min_size) {
    fail(
        "{}: key '{}': array of {} {} elements needs at least {} bytes each, but the file has "
        "only {} bytes left",
        cursor.file(), key, count, gguf_value_type_name(element_type), min_size,
        cursor.remaining());
  }
  const std::string element_item = fmt::format("array element of key '{}'", key);
  // The count check bounds memory by the input: a 1-byte element becomes a 48-byte GgufValue (on
  // 64-bit Linux), so a file can cost at most about 50 times its size.
  GgufValue::Array items;
  items.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    items.push_back(read_value(cursor, element_type, key, element_item, depth));
  }
  return GgufValue::array(element_type, std::move(items));
}

// Reads one value. item names it in errors, and depth counts the arrays that enclose it.
GgufValue read_value(Cursor& cursor, GgufValueType type, std::string_view key,
                     std::string_view item, int depth) {
  switch (type) {
    case GgufValueType::UINT8:
      return GgufValue::u8(cursor.read<uint8_t>(item));
    case GgufValueType::INT8:
      return GgufValue::i8(cursor.read<int8_t>(item));
    case GgufValueType::UINT16:
      return GgufValue::u16(cursor.read<uint16_t>(item));
    case GgufValueType::INT16:
      return GgufValue::i16(cursor.read<int16_t>(item));
    case GgufValueType::UINT32:
      return GgufValue::u32(cursor.read<uint32_t>(item));
    case GgufValueType::INT32:
      return GgufValue::i32(cursor.read<int32_t>(item));
    case GgufValueType::UINT64:
      return GgufValue::u64(cursor.read<uint64_t>(item));
    case GgufValueType::INT64:
      return GgufValue::i64(cursor.read<int64_t>(item));
    case GgufValueType::FLOAT32:
      return GgufValue::f32(cursor.read<float>(item));
    case GgufValueType::FLOAT64:
      return GgufValue::f64(cursor.read<double>(item));
    case GgufValueType::BOOL: {
      const auto byte = cursor.read<uint8_t>(item);
      if (byte > 1) {
        fail("{}: key '{}': bool value is {}, expected 0 or 1", cursor.file(), key, byte);
      }
      return GgufValue::boolean(byte == 1);
    }
    case GgufValueType::STRING:
      return GgufValue::string(std::string(cursor.read_string(item)));
    case GgufValueType::ARRAY:
      return read_array(cursor, key, item, depth + 1);
  }
  fail("{}: key '{}': unknown value type id {}, expected 0 to 12", cursor.file(), key,
       static_cast<uint32_t>(type));
}

std::pair<std::string, GgufValue> read_metadata_entry(Cursor& cursor, uint64_t index) {
  const std::string key(cursor.read_string(fmt::format("key of metadata entry {}", index)));
  const auto type_id = cursor.read<uint32_t>(fmt::format("value type of key '{}'", key));
  if (!is_known_value_type(type_id)) {
    fail("{}: key '{}': unknown value type id {}, expected 0 to 12", cursor.file(), key, type_id);
  }
  const std::string item = fmt::format("value of key '{}'", key);
  GgufValue value = read_value(cursor, static_cast<GgufValueType>(type_id), key, item, 0);
  return {key, std::move(value)};
}

// Returns the product of the dimensions. Throws when it does not fit int64.
int64_t count_elements(const GgufTensorInfo& info, const std::string& file) {
  int64_t total = 1;
  for (int d = 0; d < info.n_dims; ++d) {
    if (__builtin_mul_overflow(total, info.ne[d], &total)) {
      fail("{}: tensor '{}': element count of dimensions [{}] overflows int64", file, info.name,
           fmt::join(info.ne.begin(), info.ne.begin() + info.n_dims, ", "));
    }
  }
  return total;
}

GgufTensorInfo read_tensor_info(Cursor& cursor, uint64_t index) {
  GgufTensorInfo info;
  info.name = cursor.read_string(fmt::format("name of tensor {}", index));
  const std::string& file = cursor.file();

  const auto n_dims = cursor.read<uint32_t>(fmt::format("n_dims of tensor '{}'", info.name));
  if (n_dims < 1 || n_dims > info.ne.size()) {
    fail("{}: tensor '{}': n_dims is {}, expected 1 to {}", file, info.name, n_dims,
         info.ne.size());
  }
  info.n_dims = static_cast<int>(n_dims);
  for (int d = 0; d < info.n_dims; ++d) {
    const auto dim = cursor.read<uint64_t>(fmt::format("dimensions of tensor '{}'", info.name));
    if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: tensor '{}': dimension {} is {} (as int64: {}), expected a positive value", file,
           info.name, d, dim, static_cast<int64_t>(dim));
    }
    info.ne[d] = static_cast<int64_t>(dim);
  }
  const int64_t n_elements = count_elements(info, file);

  const auto type_id = cursor.read<uint32_t>(fmt::format("type of tensor '{}'", info.name));
  const std::optional<GgmlTypeTraits> traits = find_type_traits(type_id);
  if (!traits) {
    fail("{}: tensor '{}': unknown ggml type id {}, expected the id of a known type", file,
         info.name, type_id);
  }
  info.type = traits->type;
  if (info.ne[0] % traits->block_size != 0) {
    fail("{}: tensor '{}': row length ne[0] = {} is not a multiple of the block size {} of type {}",
         file, info.name, info.ne[0], traits->block_size, traits->name);
  }
  // With up to 8 bytes per element, an element count that fits int64 can still give a byte count
  // beyond uint64.
  const auto blocks = static_cast<uint64_t>(n_elements / traits->block_size);
  if (__builtin_mul_overflow(blocks, traits->type_size, &info.n_bytes)) {
    fail("{}: tensor '{}': byte size of {} blocks of type {} overflows", file, info.name, blocks,
         traits->name);
  }
  info.offset = cursor.read<uint64_t>(fmt::format("data offset of tensor '{}'", info.name));
  return info;
}

size_t read_alignment(const GgufValue* value, const std::string& file) {
  if (value == nullptr) return kDefaultAlignment;
  if (value->type != GgufValueType::UINT32) {
    fail("{}: key '{}' has type {}, expected uint32", file, kGgufAlignmentKey, describe_type(*value));
  }
  const uint64_t alignment = std::get<uint64_t>(value->data);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    fail("{}: key '{}' is {}, expected a power of two", file, kGgufAlignmentKey, alignment);
  }
  return static_cast<size_t>(alignment);
}

// Checks that every tensor's data is aligned, inside the data section and overlaps no other.
void check_tensor_data(const std::vector<GgufTensorInfo>& tensors, size_t data_offset,
                       size_t file_size, size_t alignment, const std::string& file) {
  const uint64_t data_size = file_size > data_offset ? file_size - data_offset : 0;
  for (const GgufTensorInfo& info : tensors) {
    if (info.offset % alignment != 0) {
      fail("{}: tensor '{}': data offset {} is not a multiple of the alignment {}", file, info.name,
           info.offset, alignment);
    }
    if (info.offset > data_size || info.n_bytes > data_size - info.offset) {
      fail(
          "{}: tensor '{}': data at offset {} with {} bytes runs past the end of the file, whose "
          "data section has {} bytes",
          file, info.name, info.offset, info.n_bytes, data_size);
    }
  }
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const GgufTensorInfo& previous = tensors[order[i - 1]];
    const GgufTensorInfo& current = tensors[order[i]];
    if (previous.offset + previous.n_bytes > current.offset) {
      fail("{}: tensor '{}' (offset {}, {} bytes) overlaps tensor '{}' at offset {}", file,
           previous.name, previous.offset, previous.n_bytes, current.name, current.offset);
    }
  }
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::UINT8:
      return "uint8";
    case GgufValueType::INT8:
      return "int8";
    case GgufValueType::UINT16:
      return "uint16";
    case GgufValueType::INT16:
      return "int16";
    case GgufValueType::UINT32:
      return "uint32";
    case GgufValueType::INT32:
      return "int32";
    case GgufValueType::FLOAT32:
      return "float32";
    case GgufValueType::BOOL:
      return "bool";
    case GgufValueType::STRING:
      return "string";
    case GgufValueType::ARRAY:
      return "array";
    case GgufValueType::UINT64:
      return "uint64";
    case GgufValueType::INT64:
      return "int64";
    case GgufValueType::FLOAT64:
      return "float64";
  }
  thread_local std::string unknown;
  unknown = fmt::format("unknown({})", static_cast<uint32_t>(type));
  return unknown;
}

GgufValue GgufValue::u8(uint8_t v) {
  return {GgufValueType::UINT8, GgufValueType::UINT8, uint64_t{v}};
}
GgufValue GgufValue::i8(int8_t v) {
  return {GgufValueType::INT8, GgufValueType::UINT8, int64_t{v}};
}
GgufValue GgufValue::u16(uint16_t v) {
  return {GgufValueType::UINT16, GgufValueType::UINT8, uint64_t{v}};
}
GgufValue GgufValue::i16(int16_t v) {
  return {GgufValueType::INT16, GgufValueType::UINT8, int64_t{v}};
}
GgufValue GgufValue::u32(uint32_t v) {
  return {GgufValueType::UINT32, GgufValueType::UINT8, uint64_t{v}};
}
GgufValue GgufValue::i32(int32_t v) {
  return {GgufValueType::INT32, GgufValueType::UINT8, int64_t{v}};
}
GgufValue GgufValue::u64(uint64_t v) {
  return {GgufValueType::UINT64, GgufValueType::UINT8, v};
}
GgufValue GgufValue::i64(int64_t v) {
  return {GgufValueType::INT64, GgufValueType::UINT8, v};
}
GgufValue GgufValue::f32(float v) {
  return {GgufValueType::FLOAT32, GgufValueType::UINT8, static_cast<double>(v)};
}
GgufValue GgufValue::f64(double v) {
  return {GgufValueType::FLOAT64, GgufValueType::UINT8, v};
}
GgufValue GgufValue::boolean(bool v) {
  return {GgufValueType::BOOL, GgufValueType::UINT8, v};
}
GgufValue GgufValue::string(std::string v) {
  return {GgufValueType::STRING, GgufValueType::UINT8, std::move(v)};
}
GgufValue GgufValue::array(GgufValueType element_type, Array items) {
  return {GgufValueType::ARRAY, element_type, std::move(items)};
}
GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  Array values;
  values.reserve(items.size());
  for (const std::string& item : items)
    values.push_back(string(item));
  return array(GgufValueType::STRING, std::move(values));
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_float() const {
  return type == GgufValueType::FLOAT32 || type == GgufValueType::FLOAT64;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->file_ = std::make_unique<MappedFile>(path);
  file->read(file->file_->data(), file->file_->size());
  return file;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = std::move(name);
  file->read(data, size);
  return file;
}

GgufFile::~GgufFile() = default;

void GgufFile::read(const uint8_t* data, size_t size) {
  size_ = size;
  Cursor cursor(data, size, path_);

  const auto magic = cursor.read<std::array<uint8_t, 4>>("magic");
  if (std::memcmp(magic.data(), kMagic, sizeof kMagic) != 0) {
    fail("{}: not a GGUF file: magic bytes are {:02x}, expected 47 47 55 46 (\"GGUF\")", path_,
         fmt::join(magic, " "));
  }
  version_ = cursor.read<uint32_t>("version");
  if (version_ == 0x02000000u || version_ == 0x03000000u) {
    fail(
        "{}: big-endian GGUF files are not supported (version field reads {:#x}), expected a "
        "little-endian file of version 2 or 3",
        path_, version_);
  }
  if (version_ != 2 && version_ != 3) {
    fail("{}: GGUF version {} is not supported, expected 2 or 3", path_, version_);
  }

  const auto n_tensors = cursor.read<uint64_t>("tensor count");
  const auto n_kv = cursor.read<uint64_t>("metadata count");
  const uint64_t left = cursor.remaining();
  if (n_kv > left / kMinMetadataEntryBytes) {
    fail(
        "{}: header declares {} metadata entries of at least {} bytes each, but only {} bytes "
        "follow the header",
        path_, n_kv, kMinMetadataEntryBytes, left);
  }
  if (n_tensors > (left - n_kv * kMinMetadataEntryBytes) / kMinTensorInfoBytes) {
    fail(
        "{}: header declares {} tensors of at least {} bytes of tensor info each and {} metadata "
        "entries, but only {} bytes follow the header",
        path_, n_tensors, kMinTensorInfoBytes, n_kv, left);
  }

  metadata_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    metadata_.push_back(read_metadata_entry(cursor, i));
    const auto [it, inserted] = metadata_index_.emplace(metadata_.back().first, i);
    if (!inserted) {
      fail("{}: duplicate metadata key '{}' in entries {} and {}", path_, metadata_.back().first,
           it->second, i);
    }
  }
  alignment_ = read_alignment(find(kGgufAlignmentKey), path_);

  // Reserved up front so the name views in tensor_index_ stay valid while entries are added.
  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    tensors_.push_back(read_tensor_info(cursor, i));
    const auto [it, inserted] = tensor_index_.emplace(tensors_.back().name, i);
    if (!inserted) {
      fail("{}: duplicate tensor name '{}' for tensors {} and {}", path_, tensors_.back().name,
           it->second, i);
    }
  }

  // A file without tensors may end before the padding, as vocabulary-only files do.
  data_offset_ = (cursor.position() + alignment_ - 1) / alignment_ * alignment_;
  check_tensor_data(tensors_, data_offset_, size_, alignment_, path_);
  for (GgufTensorInfo& info : tensors_)
    info.data = data + data_offset_ + info.offset;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

void GgufFile::fail_type(std::string_view key, std::string_view expected,
                         const GgufValue& value) const {
  fail("{}: key '{}' has type {}, expected {}", path_, key, describe_type(value), expected);
}

namespace {

// Converts an integer value of any width to int64, or returns nullopt when it does not fit.
std::optional<int64_t> integer_as_int64(const GgufValue& value) {
  if (const auto* u = std::get_if<uint64_t>(&value.data)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(value.data);
}

double number_as_double(const GgufValue& value) {
  if (const auto* d = std::get_if<double>(&value.data)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&value.data)) return static_cast<double>(*u);
  return static_cast<double>(std::get<int64_t>(value.data));
}

}  // namespace

std::optional<int64_t> GgufFile::find_int(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer()) fail_type(key, "an integer", *value);
  const std::optional<int64_t> result = integer_as_int64(*value);
  if (!result) {
    fail("{}: key '{}' is {}, which does not fit int64", path_, key,
         std::get<uint64_t>(value->data));
  }
  return result;
}

std::optional<double> GgufFile::find_float(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_float() && !value->is_integer()) fail_type(key, "a number", *value);
  return number_as_double(*value);
}

std::optional<bool> GgufFile::find_bool(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->type != GgufValueType::BOOL) fail_type(key, "bool", *value);
  return std::get<bool>(value->data);
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->type != GgufValueType::STRING) fail_type(key, "string", *value);
  return std::get<std::string>(value->data);
}

int64_t GgufFile::get_int(std::string_view key) const {
  const std::optional<int64_t> value = find_int(key);
  if (!value) fail("{}: required key '{}' (an integer) is missing", path_, key);
  return *value;
}

double GgufFile::get_float(std::string_view key) const {
  const std::optional<double> value = find_float(key);
  if (!value) fail("{}: required key '{}' (a number) is missing", path_, key);
  return *value;
}

std::string GgufFile::get_string(std::string_view key) const {
  std::optional<std::string> value = find_string(key);
  if (!value) fail("{}: required key '{}' (a string) is missing", path_, key);
  return std::move(*value);
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) fail("{}: required key '{}' (an array of string) is missing", path_, key);
  if (value->type != GgufValueType::ARRAY || value->element_type != GgufValueType::STRING) {
    fail_type(key, "array of string", *value);
  }
  std::vector<std::string> result;
  const auto& items = std::get<GgufValue::Array>(value->data);
  result.reserve(items.size());
  for (const GgufValue& item : items)
    result.push_back(std::get<std::string>(item.data));
  return result;
}

std::vector<double> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) fail("{}: required key '{}' (an array of numbers) is missing", path_, key);
  if (value->type != GgufValueType::ARRAY) fail_type(key, "array of numbers", *value);
  const auto& items = std::get<GgufValue::Array>(value->data);
  std::vector<double> result;
  result.reserve(items.size());
  for (const GgufValue& item : items) {
    if (!item.is_float() && !item.is_integer()) fail_type(key, "array of numbers", *value);
    result.push_back(number_as_double(item));
  }
  return result;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) fail("{}: required key '{}' (an array of integers) is missing", path_, key);
  if (value->type != GgufValueType::ARRAY) fail_type(key, "array of integers", *value);
  const auto& items = std::get<GgufValue::Array>(value->data);
  std::vector<int64_t> result;
  result.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_integer()) fail_type(key, "array of integers", *value);
    const std::optional<int64_t> item = integer_as_int64(items[i]);
    if (!item) {
      fail("{}: key '{}': element {} is {}, which does not fit int64", path_, key, i,
           std::get<uint64_t>(items[i].data));
    }
    result.push_back(*item);
  }
  return result;
}

}  // namespace hllm
