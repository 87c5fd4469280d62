// Packed operand layouts and the SIMD kernels behind MulMat and MulMatId. Internal to the CPU
// backend; the graph calls compute_mul_mat and compute_mul_mat_id in kernels.h.
//
// Quantized weights are multiplied with int8 activations. Each weight type is first unpacked,
// a few rows at a time, into one common form: unsigned 8-bit codes q, a float scale for every
// group of 4 codes and a float min for every 16 codes, so that an element is scale * q + min
// minus the type's constant offset times scale. Activations are quantized once per product to
// int8 exactly as llama.cpp quantizes them for the weight type (see ActivationFormat), so each
// dot product equals llama.cpp's up to the order of float32 additions. One int8 tile kernel then
// serves every weight type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_type.h"

namespace hllm::cpu::matmul {

// Elements summed into one 32-bit lane by an int8 dot-product instruction.
inline constexpr int64_t kLaneWidth = 4;
// Elements of one 512-bit int8 vector; packed rows are zero-padded to a multiple of this.
inline constexpr int64_t kPackAlign = 64;
// Elements that share one activation scale in Q8_0 and Q8_1 (kActivationBlock) and in Q8_K
// (kActivationSuperBlock).
inline constexpr int64_t kActivationBlock = 32;
inline constexpr int64_t kActivationSuperBlock = 256;
// Elements that share one weight min.
inline constexpr int64_t kMinGroup = 16;
// Largest tile: weight rows times activation columns computed together.
inline constexpr int kTileRows = 4;
inline constexpr int kTileColumns = 4;

// How activations are quantized for a weight type: ggml's vec_dot_type of that type in its CPU
// backend (type_traits_cpu in ggml-cpu.c), following quantize_row_q8_0_ref, quantize_row_q8_1_ref
// and quantize_row_q8_K_ref of ggml-quants.c.
enum class ActivationFormat {
  // Q4_0, Q5_0, Q8_0 weights. Per 32 elements d = max |x| / 127, codes round(x * (1 / d))
  // rounded half away from zero, and the scale is d rounded to fp16.
  Q8_0,
  // Q4_1, Q5_1 weights: as Q8_0, plus s = d * (sum of the 32 codes) rounded to fp16, which
  // multiplies the weight block's min.
  Q8_1,
  // K-quant weights. Per 256 elements the element x_max of largest magnitude (the first one on a
  // tie) gives iscale = -127 / x_max, codes min(127, round(iscale * x)) rounded half to even, and
  // the float32 scale 1 / iscale.
  Q8_K,
};

// How a weight type maps onto the packed form.
struct WeightPacking {
  // Constant subtracted from every unpacked code: element = scale * (q - offset) + min.
  int offset = 0;
  // Whether the type has per-block mins (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K).
  bool has_min = false;
  ActivationFormat activation = ActivationFormat::Q8_0;
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
// integer sum, and the value sum that multiplies each weight min group. For Q8_0 and Q8_K that
// sum is the block scale times the group's code sum. For Q8_1 the first min group of a 32-element
// block holds the block's fp16 s and the second holds 0, because Q4_1 and Q5_1 weights repeat one
// min over both groups.
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

// Quantizes k floats x into the packed activation row at memory in the packing's activation
// format, with the correction for its weight offset. k must be a multiple of the format's block.
void quantize_activation(const float* x, int64_t k, const WeightPacking& packing, void* memory);

// Unpacks n_rows rows of type (row_stride bytes apart, k elements each) into out.
void unpack_weights(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                    const PackedWeights& out);

// result[r * kTileColumns + c] = dot(weight row r, activation c) for r < n_rows, c < n_columns.
void int8_tile(const PackedWeights& weights, int n_rows, const PackedActivation* columns,
               int n_columns, bool has_min, float* result);

// Whether the running target has a fused kernel for type, which reads the weight blocks directly.
bool has_fused_tile(GgmlType type);

// As int8_tile, but reads n_rows rows of type (row_stride bytes apart, k elements each) directly;
// the results are bit-identical to unpack_weights followed by int8_tile. It re-reads the weights
// for every column, so it pays off only for products with one or two columns. Throws Error when
// has_fused_tile(type) is false.
void fused_tile(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                const PackedActivation* columns, int n_columns, float* result);

// Converts k F16 or BF16 values into floats.
void widen_to_float(GgmlType type, const void* src, float* dst, int64_t k);

// Rounds k floats to the precision of type (F16 or BF16, to nearest even) and stores them as
// floats in dst, as llama.cpp converts the activations of F16 and BF16 weights before the dot
// products. dst may equal src.
void round_to_type(GgmlType type, const float* src, float* dst, int64_t k);

// result[r * kTileColumns + c] = dot(rows[r], columns[c]) over k floats.
void float_tile(const float* const* rows, int n_rows, const float* const* columns, int n_columns,
                int64_t k, float* result);

// Returns the name of the Highway target whose kernels run ("AVX3_DL", "AVX2", ...).
const char* kernel_target_name();

}  // namespace hllm::cpu::matmul
