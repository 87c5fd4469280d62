#include "formats/gguf_writer.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include <sys/types.h>

#include "util/error.h"

namespace hllm {
namespace {

constexpr uint32_t kVersion = 3;
constexpr size_t kDefaultAlignment = 32;
// llama.cpp stores tensor names in a 64-byte buffer that includes the terminating zero.
constexpr size_t kMaxTensorNameBytes = 63;

uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool is_power_of_two(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// Checks that an unsigned value held as uint64 fits the width that type names.
void check_unsigned(std::string_view key, const GgufValue& value, uint64_t max) {
  const auto* stored = std::get_if<uint64_t>(&value.data);
  if (stored == nullptr) {
    fail("metadata key '{}': a {} value must hold an unsigned integer", key,
         gguf_value_type_name(value.type));
  }
  if (*stored > max) {
    fail("metadata key '{}': value {} does not fit {}", key, *stored,
         gguf_value_type_name(value.type));
  }
}

void check_signed(std::string_view key, const GgufValue& value, int64_t min, int64_t max) {
  const auto* stored = std::get_if<int64_t>(&value.data);
  if (stored == nullptr) {
    fail("metadata key '{}': a {} value must hold a signed integer", key,
         gguf_value_type_name(value.type));
  }
  if (*stored < min || *stored > max) {
    fail("metadata key '{}': value {} does not fit {}", key, *stored,
         gguf_value_type_name(value.type));
  }
}

template <typename T>
void check_holds(std::string_view key, const GgufValue& value, std::string_view expected) {
  if (!std::holds_alternative<T>(value.data)) {
    fail("metadata key '{}': a {} value must hold {}", key, gguf_value_type_name(value.type),
         expected);
  }
}

// Checks that the data of a value matches its declared type, recursively for arrays, so that
// serialization cannot fail later. depth counts the arrays that enclose value.
void check_value(std::string_view key, const GgufValue& value, int depth) {
  switch (value.type) {
    case GgufValueType::UINT8:
      return check_unsigned(key, value, std::numeric_limits<uint8_t>::max());
    case GgufValueType::UINT16:
      return check_unsigned(key, value, std::numeric_limits<uint16_t>::max());
    case GgufValueType::UINT32:
      return check_unsigned(key, value, std::numeric_limits<uint32_t>::max());
    case GgufValueType::UINT64:
      return check_unsigned(key, value, std::numeric_limits<uint64_t>::max());
    case GgufValueType::INT8:
      return check_signed(key, value, INT8_MIN, INT8_MAX);
    case GgufValueType::INT16:
      return check_signed(key, value, INT16_MIN, INT16_MAX);
    case GgufValueType::INT32:
      return check_signed(key, value, INT32_MIN, INT32_MAX);
    case GgufValueType::INT64:
      return check_signed(key, value, INT64_MIN, INT64_MAX);
    case GgufValueType::FLOAT32:
    case GgufValueType::FLOAT64:
      return check_holds<double>(key, value, "a double");
    case GgufValueType::BOOL:
      return check_holds<bool>(key, value, "a bool");
    case GgufValueType::STRING:
      return check_holds<std::string>(key, value, "a string");
    case GgufValueType::ARRAY: {
      check_holds<GgufValue::Array>(key, value, "an array");
      if (depth + 1 > kGgufMaxArrayDepth) {
        fail("metadata key '{}': arrays nested more than {} deep", key, kGgufMaxArrayDepth);
      }
      for (const GgufValue& item : std::get<GgufValue::Array>(value.data)) {
        if (item.type != value.element_type) {
          fail("metadata key '{}': array of {} holds an element of type {}", key,
               gguf_value_type_name(value.element_type), gguf_value_type_name(item.type));
        }
        check_value(key, item, depth + 1);
      }
      return;
    }
  }
  fail("metadata key '{}': unknown value type id {}", key, static_cast<uint32_t>(value.type));
}

// Appends little-endian GGUF encodings to a byte buffer.
class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>& bytes) : bytes_(bytes) {}

  // Uses resize and memcpy because GCC 12 warns falsely about vector::insert of a few bytes.
  void append(const void* data, size_t n_bytes) {
    if (n_bytes == 0) return;
    const size_t at = bytes_.size();
    bytes_.resize(at + n_bytes);
    std::memcpy(bytes_.data() + at, data, n_bytes);
  }

  template <typename T>
  void put(T value) {
    append(&value, sizeof(T));
  }

  void put_string(std::string_view text) {
    put<uint64_t>(text.size());
    append(text.data(), text.size());
  }

  // Writes the payload of a value, without its type id.
  void put_value(const GgufValue& value) {
    switch (value.type) {
      case GgufValueType::UINT8:
        return put(static_cast<uint8_t>(std::get<uint64_t>(value.data)));
      case GgufValueType::INT8:
        return put(static_cast<int8_t>(std::get<int64_t>(value.data)));
      case GgufValueType::UINT16:
        return put(static_cast<uint16_t>(std::get<uint64_t>(value.data)));
      case GgufValueType::INT16:
        return put(static_cast<int16_t>(std::get<int64_t>(value.data)));
      case GgufValueType::UINT32:
        return put(static_cast<uint32_t>(std::get<uint64_t>(value.data)));
      case GgufValueType::INT32:
        return put(static_cast<int32_t>(std::get<int64_t>(value.data)));
      case GgufValueType::UINT64:
        return put(std::get<uint64_t>(value.data));
      case GgufValueType::INT64:
        return put(std::get<int64_t>(value.data));
      case GgufValueType::FLOAT32:
        return put(static_cast<float>(std::get<double>(value.data)));
      case GgufValueType::FLOAT64:
        return put(std::get<double>(value.data));
      case GgufValueType::BOOL:
        return put(static_cast<uint8_t>(std::get<bool>(value.data) ? 1 : 0));
      case GgufValueType::STRING:
        return put_string(std::get<std::string>(value.data));
      case GgufValueType::ARRAY: {
        const auto& items = std::get<GgufValue::Array>(value.data);
        put(static_cast<uint32_t>(value.element_type));
        put<uint64_t>(items.size());
        for (const GgufValue& item : items)
          put_value(item);
        return;
      }
    }
  }

  void pad_to(uint64_t alignment) { bytes_.resize(align_up(bytes_.size(), alignment), 0); }

 private:
  std::vector<uint8_t>& bytes_;
};

}  // namespace

GgufWriter::~GgufWriter() {
  discard_output();
}

GgufWriter::GgufWriter(GgufWriter&& other) noexcept
    : metadata_(std::move(other.metadata_)),
      tensors_(std::move(other.tensors_)),
      path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      data_offset_(other.data_offset_),
      begun_(other.begun_) {}

GgufWriter& GgufWriter::operator=(GgufWriter&& other) noexcept {
  if (this != &other) {
    discard_output();
    metadata_ = std::move(other.metadata_);
    tensors_ = std::move(other.tensors_);
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    data_offset_ = other.data_offset_;
    begun_ = other.begun_;
  }
  return *this;
}

void GgufWriter::discard_output() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  file_ = nullptr;
  std::remove(path_.c_str());
}

void GgufWriter::set(std::string_view key, GgufValue value) {
  check_not_begun("set metadata");
  if (key.empty()) fail("metadata key is empty: expected a name such as 'general.name'");
  check_value(key, value, 0);
  const bool is_alignment = key == kGgufAlignmentKey;
  if (is_alignment) {
    if (value.type != GgufValueType::UINT32) {
      fail("metadata key '{}' has type {}, expected uint32", key, gguf_value_type_name(value.type));
    }
    const uint64_t alignment = std::get<uint64_t>(value.data);
    if (!is_power_of_two(alignment)) {
      fail("metadata key '{}' is {}, expected a power of two", key, alignment);
    }
  }
  for (auto& [existing_key, existing_value] : metadata_) {
    if (existing_key == key) {
      existing_value = std::move(value);
      if (is_alignment) assign_offsets();
      return;
    }
  }
  metadata_.emplace_back(std::string(key), std::move(value));
  if (is_alignment) assign_offsets();
}

void GgufWriter::remove(std::string_view key) {
  check_not_begun("remove metadata");
  std::erase_if(metadata_, [&](const auto& entry) { return entry.first == key; });
  if (key == kGgufAlignmentKey) assign_offsets();
}

const GgufValue* GgufWriter::find(std::string_view key) const {
  for (const auto& [existing_key, value] : metadata_) {
    if (existing_key == key) return &value;
  }
  return nullptr;
}

void GgufWriter::copy_metadata(const GgufFile& file) {
  for (const auto& [key, value] : file.metadata())
    set(key, value);
}

void GgufWriter::set_alignment(uint32_t alignment) {
  set(kGgufAlignmentKey, GgufValue::u32(alignment));
}

size_t GgufWriter::alignment() const {
  const GgufValue* value = find(kGgufAlignmentKey);
  if (value == nullptr) return kDefaultAlignment;
  return static_cast<size_t>(std::get<uint64_t>(value->data));
}

size_t GgufWriter::declare(std::string name, GgmlType type, const std::vector<int64_t>& ne) {
  check_not_begun("add a tensor");
  if (name.empty()) fail("tensor name is empty");
  if (name.size() > kMaxTensorNameBytes) {
    fail("tensor '{}': name has {} bytes, expected at most {}", name, name.size(),
         kMaxTensorNameBytes);
  }
  for (const Tensor& tensor : tensors_) {
    if (tensor.info.name == name) fail("tensor '{}' is added twice", name);
  }

  const GgmlTypeTraits& traits = type_traits(type);
  if (ne.empty() || ne.size() > 4) {
    fail("tensor '{}': has {} dimensions, expected 1 to 4", name, ne.size());
  }
  GgufTensorInfo info;
  info.type = type;
  info.n_dims = static_cast<int>(ne.size());
  int64_t n_elements = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 1) {
      fail("tensor '{}': dimension {} is {}, expected a positive value", name, d, ne[d]);
    }
    if (__builtin_mul_overflow(n_elements, ne[d], &n_elements)) {
      fail("tensor '{}': element count of dimensions [{}] overflows int64", name,
           fmt::join(ne, ", "));
    }
    info.ne[d] = ne[d];
  }

  if (ne[0] % traits.block_size != 0) {
    fail("tensor '{}': row length ne[0] = {} is not a multiple of the block size {} of type {}",
         name, ne[0], traits.block_size, traits.name);
  }
  const auto blocks = static_cast<uint64_t>(n_elements / traits.block_size);
  if (__builtin_mul_overflow(blocks, traits.type_size, &info.n_bytes)) {
    fail("tensor '{}': byte size of {} blocks of type {} overflows", name, blocks, traits.name);
  }

  info.name = std::move(name);
  tensors_.push_back(Tensor{std::move(info), {}, false});
  assign_offsets();
  return tensors_.size() - 1;
}

size_t GgufWriter::add_tensor(std::string name, GgmlType type, const std::vector<int64_t>& ne) {
  return declare(std::move(name), type, ne);
}

size_t GgufWriter::add_tensor(std::string name, GgmlType type, const std::vector<int64_t>& ne,
                              std::vector<uint8_t> data) {
  const size_t index = declare(std::move(name), type, ne);
  Tensor& tensor = tensors_[index];
  if (data.size() != tensor.info.n_bytes) {
    const std::string rejected = tensor.info.name;
    const uint64_t expected = tensor.info.n_bytes;
    tensors_.pop_back();
    fail("tensor '{}': data has {} bytes, expected {}", rejected, data.size(), expected);
  }
  tensor.owned = std::move(data);
  tensor.info.data = tensor.owned.data();
  return index;
}

size_t GgufWriter::add_tensor_view(std::string name, GgmlType type, const std::vector<int64_t>& ne,
                                   const void* data, size_t n_bytes) {
  const size_t index = declare(std::move(name), type, ne);
  Tensor& tensor = tensors_[index];
  if (data == nullptr || n_bytes != tensor.info.n_bytes) {
    const std::string rejected = tensor.info.name;
    const uint64_t expected = tensor.info.n_bytes;
    tensors_.pop_back();
    fail("tensor '{}': data has {} bytes, expected {}", rejected, data == nullptr ? 0 : n_bytes,
         expected);
  }
  tensor.info.data = static_cast<const uint8_t*>(data);
  return index;
}

const GgufTensorInfo& GgufWriter::tensor(size_t index) const {
  if (index >= tensors_.size()) {
    fail("tensor index {} is out of range: the writer has {} tensors", index, tensors_.size());
  }
  return tensors_[index].info;
}

void GgufWriter::assign_offsets() {
  const uint64_t alignment = this->alignment();
  uint64_t offset = 0;
  for (Tensor& tensor : tensors_) {
    tensor.info.offset = offset;
    offset += align_up(tensor.info.n_bytes, alignment);
  }
}

void GgufWriter::check_not_begun(std::string_view action) const {
  if (begun_) fail("{}: cannot {} after writing has begun", path_, action);
}

void GgufWriter::check_has_data() const {
  for (const Tensor& tensor : tensors_) {
    if (tensor.info.data == nullptr) {
      fail("tensor '{}' has no data: add it with its data, or stream it with begin()",
           tensor.info.name);
    }
  }
}

std::vector<uint8_t> GgufWriter::serialize_header() const {
  std::vector<uint8_t> bytes;
  ByteSink sink(bytes);
  sink.put<uint32_t>(0x46554747u);  // "GGUF" read as a little-endian u32
  sink.put<uint32_t>(kVersion);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put(static_cast<uint32_t>(value.type));
    sink.put_value(value);
  }
  for (const Tensor& tensor : tensors_) {
    const GgufTensorInfo& info = tensor.info;
    sink.put_string(info.name);
    sink.put<uint32_t>(static_cast<uint32_t>(info.n_dims));
    for (int d = 0; d < info.n_dims; ++d)
      sink.put<uint64_t>(static_cast<uint64_t>(info.ne[d]));
    sink.put(static_cast<uint32_t>(info.type));
    sink.put<uint64_t>(info.offset);
  }
  // A file without tensors ends after its tensor table, as llama.cpp's vocabulary files do. The
  // padding would be pointless and, with a large general.alignment, large.
  if (!tensors_.empty()) sink.pad_to(alignment());
  return bytes;
}

std::vector<uint8_t> GgufWriter::serialize() const {
  check_has_data();
  std::vector<uint8_t> bytes = serialize_header();
  ByteSink sink(bytes);
  for (const Tensor& tensor : tensors_) {
    sink.append(tensor.info.data, tensor.info.n_bytes);
    sink.pad_to(alignment());
  }
  return bytes;
}

void GgufWriter::write(const std::string& path) {
  check_has_data();
  begin(path);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    write_tensor_data(i, tensors_[i].info.data, tensors_[i].info.n_bytes);
  }
  finish();
}

void GgufWriter::begin(const std::string& path) {
  check_not_begun("begin writing");
  const std::vector<uint8_t> header = serialize_header();
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) fail("{}: cannot open for writing: {}", path, std::strerror(errno));
  path_ = path;
  begun_ = true;
  data_offset_ = header.size();
  write_bytes(0, header.data(), header.size());
}

void GgufWriter::write_tensor_data(size_t index, const void* data, size_t n_bytes) {
  if (file_ == nullptr) fail("cannot write tensor data: call begin() first");
  if (index >= tensors_.size()) {
    fail("{}: tensor index {} is out of range: the file has {} tensors", path_, index,
         tensors_.size());
  }
  Tensor& tensor = tensors_[index];
  if (n_bytes != tensor.info.n_bytes) {
    fail("{}: tensor '{}': data has {} bytes, expected {}", path_, tensor.info.name, n_bytes,
         tensor.info.n_bytes);
  }
  if (tensor.written) fail("{}: tensor '{}': data is written twice", path_, tensor.info.name);
  const uint64_t position = data_offset_ + tensor.info.offset;
  write_bytes(position, data, n_bytes);
  const uint64_t padding = align_up(n_bytes, alignment()) - n_bytes;
  const std::vector<uint8_t> zeros(padding, 0);
  write_bytes(position + n_bytes, zeros.data(), zeros.size());
  tensor.written = true;
}

void GgufWriter::finish() {
  if (file_ == nullptr) fail("cannot finish: call begin() first");
  for (const Tensor& tensor : tensors_) {
    if (!tensor.written) fail("{}: tensor '{}': data was never written", path_, tensor.info.name);
  }
  std::FILE* file = file_;
  file_ = nullptr;
  const bool flushed = std::fflush(file) == 0;
  const int flush_error = errno;
  const bool closed = std::fclose(file) == 0;
  if (!flushed || !closed) {
    const int error = flushed ? errno : flush_error;
    std::remove(path_.c_str());
    fail("{}: cannot finish writing: {}", path_, std::strerror(error));
  }
}

void GgufWriter::write_bytes(uint64_t position, const void* data, size_t n_bytes) {
  if (n_bytes == 0) return;
  if (position > static_cast<uint64_t>(std::numeric_limits<off_t>::max()) ||
      fseeko(file_, static_cast<off_t>(position), SEEK_SET) != 0 ||
      std::fwrite(data, 1, n_bytes, file_) != n_bytes) {
    fail("{}: cannot write {} bytes at offset {}: {}", path_, n_bytes, position,
         std::strerror(errno));
  }
}

}  // namespace hllm
