#include "formats/ggml_type.h"

#include <array>
#include <cctype>
#include <limits>
#include <string>

#include "util/error.h"

namespace hllm {
namespace {

// Elements per super-block of the K, IQ and TQ families.
constexpr int64_t kSuperBlock = 256;

// Indexed by type id. Ids that no longer name a type keep an empty name.
constexpr int kTypeCount = 40;

constexpr std::array<GgmlTypeTraits, kTypeCount> make_table() {
  std::array<GgmlTypeTraits, kTypeCount> table{};
  auto add = [&table](GgmlType type, std::string_view name, int64_t block_size, size_t type_size,
                      bool quantized) {
    table[static_cast<uint32_t>(type)] = {type, name, block_size, type_size, quantized};
  };
  add(GgmlType::F32, "f32", 1, 4, false);
  add(GgmlType::F16, "f16", 1, 2, false);
  add(GgmlType::Q4_0, "q4_0", 32, 18, true);  // f16 scale + 16 bytes of 4-bit values
  add(GgmlType::Q4_1, "q4_1", 32, 20, true);  // f16 scale and minimum + 16 bytes
  add(GgmlType::Q5_0, "q5_0", 32, 22, true);  // f16 scale + 4 bytes of high bits + 16 bytes
  add(GgmlType::Q5_1, "q5_1", 32, 24, true);
  add(GgmlType::Q8_0, "q8_0", 32, 34, true);  // f16 scale + 32 int8 values
  add(GgmlType::Q8_1, "q8_1", 32, 36, true);  // f16 scale and sum + 32 int8 values
  add(GgmlType::Q2_K, "q2_K", kSuperBlock, 84, true);
  add(GgmlType::Q3_K, "q3_K", kSuperBlock, 110, true);
  add(GgmlType::Q4_K, "q4_K", kSuperBlock, 144, true);
  add(GgmlType::Q5_K, "q5_K", kSuperBlock, 176, true);
  add(GgmlType::Q6_K, "q6_K", kSuperBlock, 210, true);
  add(GgmlType::Q8_K, "q8_K", kSuperBlock, 292, true);  // f32 scale + 256 int8 + 16 int16 sums
  add(GgmlType::IQ2_XXS, "iq2_xxs", kSuperBlock, 66, true);
  add(GgmlType::IQ2_XS, "iq2_xs", kSuperBlock, 74, true);
  add(GgmlType::IQ3_XXS, "iq3_xxs", kSuperBlock, 98, true);
  add(GgmlType::IQ1_S, "iq1_s", kSuperBlock, 50, true);
  add(GgmlType::IQ4_NL, "iq4_nl", 32, 18, true);
  add(GgmlType::IQ3_S, "iq3_s", kSuperBlock, 110, true);
  add(GgmlType::IQ2_S, "iq2_s", kSuperBlock, 82, true);
  add(GgmlType::IQ4_XS, "iq4_xs", kSuperBlock, 136, true);
  add(GgmlType::I8, "i8", 1, 1, false);
  add(GgmlType::I16, "i16", 1, 2, false);
  add(GgmlType::I32, "i32", 1, 4, false);
  add(GgmlType::I64, "i64", 1, 8, false);
  add(GgmlType::F64, "f64", 1, 8, false);
  add(GgmlType::IQ1_M, "iq1_m", kSuperBlock, 56, true);
  add(GgmlType::BF16, "bf16", 1, 2, false);
  add(GgmlType::TQ1_0, "tq1_0", kSuperBlock, 54, true);
  add(GgmlType::TQ2_0, "tq2_0", kSuperBlock, 66, true);
  add(GgmlType::MXFP4, "mxfp4", 32, 17, true);  // shared 8-bit exponent + 32 4-bit values
  return table;
}

constexpr std::array<GgmlTypeTraits, kTypeCount> kTypes = make_table();

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower_a = std::tolower(static_cast<unsigned char>(a[i]));
    const auto lower_b = std::tolower(static_cast<unsigned char>(b[i]));
    if (lower_a != lower_b) return false;
  }
  return true;
}

}  // namespace

std::optional<GgmlTypeTraits> find_type_traits(uint32_t id) {
  if (id >= kTypes.size() || kTypes[id].name.empty()) return std::nullopt;
  return kTypes[id];
}

const GgmlTypeTraits& type_traits(GgmlType type) {
  const auto id = static_cast<uint32_t>(type);
  if (id >= kTypes.size() || kTypes[id].name.empty()) {
    fail("unknown ggml type id {}: expected one of the ids 0-{} that name a type", id,
         kTypes.size() - 1);
  }
  return kTypes[id];
}

std::string_view type_name(GgmlType type) {
  const auto id = static_cast<uint32_t>(type);
  if (id < kTypes.size() && !kTypes[id].name.empty()) return kTypes[id].name;
  // The view must outlive this call, so unknown ids are formatted into per-thread storage that
  // the next call on the same thread overwrites.
  thread_local std::string unknown;
  unknown = "unknown(" + std::to_string(id) + ")";
  return unknown;
}

std::optional<GgmlType> parse_type_name(std::string_view name) {
  for (const GgmlTypeTraits& traits : kTypes) {
    if (!traits.name.empty() && equal_ignoring_case(traits.name, name)) return traits.type;
  }
  return std::nullopt;
}

size_t row_size(GgmlType type, int64_t n) {
  const GgmlTypeTraits& traits = type_traits(type);
  if (n < 0 || n % traits.block_size != 0) {
    fail("row of {} elements of type {}: expected a non-negative multiple of the block size {}", n,
         traits.name, traits.block_size);
  }
  const auto blocks = static_cast<uint64_t>(n / traits.block_size);
  if (blocks > std::numeric_limits<size_t>::max() / traits.type_size) {
    fail("row of {} elements of type {}: byte size overflows", n, traits.name);
  }
  return static_cast<size_t>(blocks) * traits.type_size;
}

}  // namespace hllm
