// libFuzzer target for the GGUF reader. Any input must either parse or raise hllm::Error; a
// crash, sanitizer report, leak or oversized allocation is a bug. A parsed file is also visited
// completely, and, when the writer accepts its names, written back and parsed again to check that
// the two agree.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "util/error.h"

namespace {

using hllm::GgufFile;
using hllm::GgufTensorInfo;
using hllm::GgufValue;
using hllm::GgufValueType;

// Stored after each input so that the compiler cannot drop the reads in visit().
volatile uint64_t visit_sum = 0;

// Aborts so that libFuzzer records the input as a crash.
void require(bool condition) {
  if (!condition) std::abort();
}

// Reads every part of a value. The sum only keeps the reads from being optimized away.
uint64_t visit(const GgufValue& value, int depth) {
  require(depth <= hllm::kGgufMaxArrayDepth);
  uint64_t sum = static_cast<uint64_t>(value.type);
  if (const auto* items = std::get_if<GgufValue::Array>(&value.data)) {
    require(value.type == GgufValueType::ARRAY);
    for (const GgufValue& item : *items) {
      require(item.type == value.element_type);
      sum += visit(item, depth + 1);
    }
  } else if (const auto* text = std::get_if<std::string>(&value.data)) {
    for (char c : *text)
      sum += static_cast<uint8_t>(c);
  } else if (value.is_integer() || value.is_float()) {
    sum += static_cast<uint64_t>(value.is_float());
  }
  return sum;
}

// Calls every typed getter; each must return or raise hllm::Error.
void call_getters(const GgufFile& file, const std::string& key) {
  const auto attempt = [](auto getter) {
    try {
      getter();
    } catch (const hllm::Error&) {
    }
  };
  attempt([&] { file.get_int(key); });
  attempt([&] { file.get_float(key); });
  attempt([&] { file.find_bool(key); });
  attempt([&] { file.get_string(key); });
  attempt([&] { file.get_string_array(key); });
  attempt([&] { file.get_float_array(key); });
  attempt([&] { file.get_int_array(key); });
}

void check_tensor(const GgufFile& file, const GgufTensorInfo& info, const uint8_t* data,
                  size_t size) {
  require(file.find_tensor(info.name) == &info);
  require(info.n_dims >= 1 && info.n_dims <= 4);
  require(info.n_bytes > 0);
  require(info.data >= data && info.n_bytes <= size &&
          info.data - data <= static_cast<ptrdiff_t>(size - info.n_bytes));
  const hllm::GgmlTypeTraits& traits = hllm::type_traits(info.type);
  require(info.ne[0] % traits.block_size == 0);
  require(hllm::row_size(info.type, info.ne[0]) *
              static_cast<uint64_t>(info.n_elements() / info.ne[0]) ==
          info.n_bytes);
  // ASan reports these reads if the data lies outside the input buffer.
  volatile uint8_t first = info.data[0];
  volatile uint8_t last = info.data[info.n_bytes - 1];
  (void)first;
  (void)last;
}

// Compares two values like operator==, except that NaN equals NaN: metadata floats come from the
// input bytes and may be NaN.
bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type || a.element_type != b.element_type) return false;
  const auto* x = std::get_if<double>(&a.data);
  const auto* y = std::get_if<double>(&b.data);
  if (x != nullptr && y != nullptr) return *x == *y || (std::isnan(*x) && std::isnan(*y));
  const auto* items_a = std::get_if<GgufValue::Array>(&a.data);
  const auto* items_b = std::get_if<GgufValue::Array>(&b.data);
  if (items_a == nullptr || items_b == nullptr) return a == b;
  return std::equal(items_a->begin(), items_a->end(), items_b->begin(), items_b->end(), same_value);
}

// Writes the file back with GgufWriter and checks that the copy parses to the same content.
// Skipped when the writer would reject a name the reader accepts (empty, or too long for
// llama.cpp).
void check_round_trip(const GgufFile& file) {
  for (const auto& entry : file.metadata()) {
    if (entry.first.empty()) return;
  }
  for (const GgufTensorInfo& info : file.tensors()) {
    if (info.name.empty() || info.name.size() > 63) return;
  }
  hllm::GgufWriter writer;
  writer.copy_metadata(file);
  for (const GgufTensorInfo& info : file.tensors()) {
    const std::vector<int64_t> ne(info.ne.begin(), info.ne.begin() + info.n_dims);
    writer.add_tensor_view(info.name, info.type, ne, info.data, info.n_bytes);
  }
  const std::vector<uint8_t> image = writer.serialize();
  const auto copy = GgufFile::parse(image.data(), image.size(), "round trip");
  require(copy->metadata().size() == file.metadata().size());
  for (size_t i = 0; i < file.metadata().size(); ++i) {
    require(copy->metadata()[i].first == file.metadata()[i].first);
    require(same_value(copy->metadata()[i].second, file.metadata()[i].second));
  }
  require(copy->tensors().size() == file.tensors().size());
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const GgufTensorInfo& a = file.tensors()[i];
    const GgufTensorInfo& b = copy->tensors()[i];
    require(a.name == b.name && a.type == b.type && a.ne == b.ne && a.n_bytes == b.n_bytes);
    require(std::equal(a.data, a.data + a.n_bytes, b.data));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<GgufFile> file;
  try {
    file = GgufFile::parse(data, size, "fuzz input");
  } catch (const hllm::Error&) {
    return 0;
  }
  require(file->version() == 2 || file->version() == 3);
  require(file->alignment() > 0 && (file->alignment() & (file->alignment() - 1)) == 0);

  uint64_t sum = 0;
  for (const auto& [key, value] : file->metadata()) {
    require(file->find(key) == &value);
    sum += visit(value, 0);
    call_getters(*file, key);
  }
  for (const GgufTensorInfo& info : file->tensors())
    check_tensor(*file, info, data, size);
  check_round_trip(*file);
  visit_sum = sum;
  return 0;
}
