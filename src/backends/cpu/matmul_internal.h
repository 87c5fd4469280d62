// Packed operand layouts and the SIMD kernels behind MulMat and MulMatId. Internal to the CPU
// backend; the graph calls compute_mul_mat and compute_mul_mat_id in kernels.h.
//
// Quantized weights are multiplied with int8 activations. Each weight type is first unpacked,
// a few rows at a time, into one common form: unsigned 8-bit codes q, a float scale for every
// group of 4 codes and a float min for every 16 codes, so that an element is scale * q + min
// minus the type's constant offset times scale. Activations are quantized once per product to
// int8 with one scale per 32 elements. One int8 tile kernel then serves every weight type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_type.h"

namespace hllm::cpu::matmul {

// Elements summed into one 32-bit lane by an int8 dot-product instruction.
inline constexpr int64_t kLaneWidth = 4;
// Elements of one 512-bit int8 vector; packed rows are zero-padded to a multiple of this.
inline constexpr int64_t kPackAlign = 64;
// Elements that share one activation scale (as in Q8_0).
inline constexpr int64_t kActivationBlock = 32;
// Elements that share one weight min.
inline constexpr int64_t kMinGroup = 16;
// Largest tile: weight rows times activation columns computed together.
inline constexpr int kTileRows = 4;
inline constexpr int kTileColumns = 4;

// How a weight type maps onto the packed form.
struct WeightPacking {
  // Constant subtracted from every unpacked code: element = scale * (q - offset) + min.
  int offset = 0;
  // Whether the type has per-block mins (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K).
  bool has_min = false;
};

// Returns the packing of a quantized type that has an int8 kernel; throws Error otherwise.
WeightPacking weight_packing(GgmlType type);

// Whether the type is multiplied through the int8 path (as opposed to float weights).
bool uses_int8_path(GgmlType type);

inline int64_t padded_length(int64_t k) { return (k + kPackAlign - 1) / kPackAlign * kPackAlign; }

// Rows of unpacked weights, row r at q + r * padded_k, scale + r * padded_k / kLaneWidth and
// min + r * padded_k / kMinGroup.
struct PackedWeights {
  uint8_t* q;
  float* scale;
  float* min;
  int64_t padded_k;
};

// One quantized activation row: codes q, the scale of each lane group (its block's scale), the
// correction -offset * (sum of the lane group's codes) that removes the weight offset inside the
// integer sum, and the scaled code sum of every min group.
struct PackedActivation {
  const int8_t* q;
  const float* scale;
  const int32_t* correction;
  const float* sums;
};

// Bytes of one packed activation row, a multiple of 64.
size_t packed_activation_bytes(int64_t k);

// Views the packed activation row that starts at memory (packed_activation_bytes(k) bytes).
PackedActivation view_activation(const void* memory, int64_t k);

// Quantizes k floats x into the packed activation row at memory, with the correction for a
// weight offset.
void quantize_activation(const float* x, int64_t k, int offset, void* memory);

// Unpacks n_rows rows of type (row_stride bytes apart, k elements each) into out.
void unpack_weights(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                    const PackedWeights& out);

// result[r * kTileColumns + c] = dot(weight row r, activation c) for r < n_rows, c < n_columns.
void int8_tile(const PackedWeights& weights, int n_rows, const PackedActivation* columns,
               int n_columns, bool has_min, float* result);

// Converts k F16 or BF16 values into floats.
void widen_to_float(GgmlType type, const void* src, float* dst, int64_t k);

// result[r * kTileColumns + c] = dot(rows[r], columns[c]) over k floats.
void float_tile(const float* const* rows, int n_rows, const float* const* columns, int n_columns,
                int64_t k, float* result);

// Returns the name of the Highway target whose kernels run ("AVX3_DL", "AVX2", ...).
const char* kernel_target_name();

}  // namespace hllm::cpu::matmul
