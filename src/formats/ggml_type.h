// Tensor element types stored in GGUF files, with the ids, names and block layouts that ggml
// assigns them. Every type that exists in the field is known here, even where no kernel computes
// with it yet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hllm {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 and 5 were Q4_2 and Q4_3, removed from the format.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  // 31 to 33 were Q4_0_4_4, Q4_0_4_8 and Q4_0_8_8, removed from the format.
  TQ1_0 = 34,
  TQ2_0 = 35,
  // 36 to 38 were IQ4_NL_4_4, IQ4_NL_4_8 and IQ4_NL_8_8, removed from the format.
  MXFP4 = 39,
};

// Layout of one type: a row of n elements takes n / block_size * type_size bytes, and n must be
// a multiple of block_size.
struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;  // as ggml prints it: "f32", "q4_K", "iq2_xxs", ...
  int64_t block_size;     // elements per block (1 for plain types)
  size_t type_size;       // bytes per block
  bool quantized;
};

// Returns the traits of a type id, or nullopt for ids that name no type (unknown or removed).
std::optional<GgmlTypeTraits> find_type_traits(uint32_t id);

// Returns the traits of a known type. Throws Error for an id that names no type.
const GgmlTypeTraits& type_traits(GgmlType type);

// Returns the name of a type ("q8_0"), or "unknown(N)".
std::string_view type_name(GgmlType type);

// Parses a type name, case-insensitively ("Q4_K", "q4_k", "f16"). Returns nullopt if unknown.
std::optional<GgmlType> parse_type_name(std::string_view name);

// Returns the bytes of one row of n elements. Throws Error when n is not a multiple of the
// block size.
size_t row_size(GgmlType type, int64_t n);

}  // namespace hllm
