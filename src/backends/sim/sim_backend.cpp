#include "backends/sim/sim_backend.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "util/error.h"

namespace hllm {

namespace {

constexpr size_t kSimAlignment = 64;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(trim(
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

// Device memory is host memory here, but only the device's own kernels and copies may touch it.
class SimBackend::SimBuffer : public Buffer {
 public:
  SimBuffer(SimBackend& owner, size_t bytes) : owner_(owner), size_(bytes) {
    const size_t rounded =
        (std::max<size_t>(bytes, 1) + kSimAlignment - 1) / kSimAlignment * kSimAlignment;
    data_ = std::aligned_alloc(kSimAlignment, rounded);
    if (data_ == nullptr) fail("sim: failed to allocate {} bytes", bytes);
  }
  ~SimBuffer() override {
    owner_.release(data_, size_);
    std::free(data_);
  }
  SimBuffer(const SimBuffer&) = delete;
  SimBuffer& operator=(const SimBuffer&) = delete;

  void* data() override { return data_; }
  size_t size() const override { return size_; }

 private:
  SimBackend& owner_;
  void* data_ = nullptr;
  size_t size_;
};

size_t parse_byte_size(std::string_view text) {
  text = trim(text);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  HLLM_CHECK(digits > 0 && digits <= 18,
             "invalid size '{}': expected a byte count such as 8GiB or 512MiB", text);
  const size_t value = std::stoull(std::string(text.substr(0, digits)));
  const std::string_view unit = trim(text.substr(digits));
  static const std::pair<std::string_view, size_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", size_t{1} << 10},
      {"MiB", size_t{1} << 20},
      {"GiB", size_t{1} << 30},
      {"TiB", size_t{1} << 40},
      {"kB", 1000},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
      {"TB", size_t{1000} * 1000 * 1000 * 1000},
  };
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) {
      HLLM_CHECK(value <= SIZE_MAX / scale, "invalid size '{}': too large", text);
      return value * scale;
    }
  }
  fail("invalid size unit '{}' in '{}': expected B, KiB, MiB, GiB, TiB, kB, MB, GB or TB", unit,
       text);
}

Op parse_op_name(std::string_view name) {
  std::string known;
  for (int i = 1; i < static_cast<int>(Op::Count); ++i) {
    const Op op = static_cast<Op>(i);
    if (name == op_name(op)) return op;
    if (!known.empty()) known += ", ";
    known += op_name(op);
  }
  fail("unknown op '{}': expected one of {}", name, known);
}

SimOptions parse_sim_options(std::string_view text) {
  SimOptions options;
  if (trim(text).empty()) return options;
  for (std::string_view item : split(text, ',')) {
    const size_t equals = item.find('=');
    HLLM_CHECK(equals != std::string_view::npos,
               "invalid sim device option '{}': expected unsupported=OP+OP or mem=SIZE", item);
    const std::string_view key = trim(item.substr(0, equals));
    const std::string_view value = trim(item.substr(equals + 1));
    if (key == "unsupported") {
      for (std::string_view name : split(value, '+')) {
        const Op op = parse_op_name(name);
        HLLM_CHECK(op != Op::View && op != Op::Reshape && op != Op::Permute && op != Op::Transpose,
                   "invalid unsupported op '{}': views compute nothing and run everywhere", name);
        options.unsupported[static_cast<size_t>(op)] = true;
      }
    } else if (key == "mem") {
      options.memory_budget = parse_byte_size(value);
      HLLM_CHECK(options.memory_budget > 0,
                 "invalid sim memory budget '{}': expected more than 0 bytes", value);
    } else {
      fail("unknown sim device option '{}': expected unsupported or mem", key);
    }
  }
  return options;
}

SimBackend::SimBackend(CpuBackend& kernels, SimOptions options)
    : kernels_(kernels), options_(options) {}

bool SimBackend::supports(const Tensor& node) const {
  if (node.op == Op::None || node.is_view()) return true;
  if (options_.unsupported[static_cast<size_t>(node.op)]) return false;
  return kernels_.supports(node);
}

std::unique_ptr<Buffer> SimBackend::allocate(size_t bytes) {
  if (options_.memory_budget > 0 && bytes_allocated_ + bytes > options_.memory_budget) {
    fail("sim: allocating {} bytes would exceed the memory budget of {} bytes ({} in use)", bytes,
         options_.memory_budget, bytes_allocated_);
  }
  auto buffer = std::make_unique<SimBuffer>(*this, bytes);
  ranges_[static_cast<const std::byte*>(buffer->data())] = bytes;
  bytes_allocated_ += bytes;
  return buffer;
}

void SimBackend::release(const void* base, size_t bytes) {
  ranges_.erase(static_cast<const std::byte*>(base));
  bytes_allocated_ -= bytes;
}

bool SimBackend::owns(const void* address) const {
  const auto* byte = static_cast<const std::byte*>(address);
  auto it = ranges_.upper_bound(byte);
  if (it == ranges_.begin()) return false;
  --it;
  // A zero-byte buffer still owns its first address.
  return byte < it->first + std::max<size_t>(it->second, 1);
}

void SimBackend::check_owned(const Tensor& tensor, const char* what, const Tensor& node) const {
  HLLM_CHECK(tensor.data != nullptr && owns(tensor.data),
             "sim: {} '{}' of node '{}' ({}) is not in device memory: copy it in first", what,
             tensor.name, node.name, op_name(node.op));
}

void SimBackend::compute(std::span<Tensor* const> nodes) {
  for (const Tensor* node : nodes) {
    if (node->is_view()) continue;
    HLLM_CHECK(supports(*node), "sim: op {} of node '{}' is not supported on this device",
               op_name(node->op), node->name);
    check_owned(*node, "output", *node);
    for (int i = 0; i < node->n_src; ++i)
      check_owned(*node->src[i], "source", *node);
  }
  kernels_.compute(nodes);
}

void SimBackend::copy_in(Tensor& tensor, const void* host, size_t offset, size_t bytes) {
  HLLM_CHECK(tensor.data != nullptr && owns(tensor.data),
             "sim: copy into tensor '{}', which is not in device memory", tensor.name);
  HLLM_CHECK(offset <= tensor.n_bytes() && bytes <= tensor.n_bytes() - offset,
             "sim: copy of bytes [{}, {}) into tensor '{}', which has {} bytes", offset,
             offset + bytes, tensor.name, tensor.n_bytes());
  std::memcpy(static_cast<std::byte*>(tensor.data) + offset, host, bytes);
  bytes_in_ += bytes;
}

void SimBackend::copy_out(const Tensor& tensor, void* host, size_t offset, size_t bytes) {
  HLLM_CHECK(tensor.data != nullptr && owns(tensor.data),
             "sim: copy from tensor '{}', which is not in device memory", tensor.name);
  HLLM_CHECK(offset <= tensor.n_bytes() && bytes <= tensor.n_bytes() - offset,
             "sim: copy of bytes [{}, {}) from tensor '{}', which has {} bytes", offset,
             offset + bytes, tensor.name, tensor.n_bytes());
  std::memcpy(host, static_cast<const std::byte*>(tensor.data) + offset, bytes);
  bytes_out_ += bytes;
}

}  // namespace hllm
