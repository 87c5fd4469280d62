// Per-format quantizers and dequantizers behind quantize_row and dequantize_row, and the scale
// searches they share. Internal to the quant library; callers use quant.h.
#pragma once

#include <cfloat>
#include <cstdint>

#include "formats/quant/quant.h"

namespace hllm::quant {

// Dequantizers: n_blocks consecutive blocks into n_blocks * block size floats.
void dequantize_q4_0(const BlockQ4_0* blocks, float* y, int64_t n_blocks);
void dequantize_q4_1(const BlockQ4_1* blocks, float* y, int64_t n_blocks);
void dequantize_q5_0(const BlockQ5_0* blocks, float* y, int64_t n_blocks);
void dequantize_q5_1(const BlockQ5_1* blocks, float* y, int64_t n_blocks);
void dequantize_q8_0(const BlockQ8_0* blocks, float* y, int64_t n_blocks);
void dequantize_q8_1(const BlockQ8_1* blocks, float* y, int64_t n_blocks);
void dequantize_q2_k(const BlockQ2_K* blocks, float* y, int64_t n_blocks);
void dequantize_q3_k(const BlockQ3_K* blocks, float* y, int64_t n_blocks);
void dequantize_q4_k(const BlockQ4_K* blocks, float* y, int64_t n_blocks);
void dequantize_q5_k(const BlockQ5_K* blocks, float* y, int64_t n_blocks);
void dequantize_q6_k(const BlockQ6_K* blocks, float* y, int64_t n_blocks);
void dequantize_q8_k(const BlockQ8_K* blocks, float* y, int64_t n_blocks);

// Quantizers: n_blocks blocks from n_blocks * block size floats. weights contains one
// non-negative weight per element and is never null, because quantize_row substitutes
// magnitude-based weights when no importance is given.
void quantize_q4_0(const float* x, const float* weights, BlockQ4_0* blocks, int64_t n_blocks);
void quantize_q4_1(const float* x, const float* weights, BlockQ4_1* blocks, int64_t n_blocks);
void quantize_q5_0(const float* x, const float* weights, BlockQ5_0* blocks, int64_t n_blocks);
void quantize_q5_1(const float* x, const float* weights, BlockQ5_1* blocks, int64_t n_blocks);
void quantize_q2_k(const float* x, const float* weights, BlockQ2_K* blocks, int64_t n_blocks);
void quantize_q3_k(const float* x, const float* weights, BlockQ3_K* blocks, int64_t n_blocks);
void quantize_q4_k(const float* x, const float* weights, BlockQ4_K* blocks, int64_t n_blocks);
void quantize_q5_k(const float* x, const float* weights, BlockQ5_K* blocks, int64_t n_blocks);
void quantize_q6_k(const float* x, const float* weights, BlockQ6_K* blocks, int64_t n_blocks);

// The 8-bit formats round deterministically (scale = max |x| / 127) and ignore weights.
void quantize_q8_0(const float* x, BlockQ8_0* blocks, int64_t n_blocks);
void quantize_q8_1(const float* x, BlockQ8_1* blocks, int64_t n_blocks);
void quantize_q8_k(const float* x, BlockQ8_K* blocks, int64_t n_blocks);

// Rounds a float to the nearest value that fp16 can hold, as storing and reloading it would.
float round_to_fp16(float value);

// Scale and offset of an affine grid: element values are scale * q - offset, q in [0, nmax].
struct AffineGrid {
  float scale = 0.0f;
  float offset = 0.0f;
};

// Rounds value to the nearest integer, ties to even, and clamps the result to [lo, hi]. lo and hi
// must be integers with magnitude below 2^22, and NaN gives lo. The result equals
// clamp(std::nearbyint(value)) in the default rounding mode for every float, because rounding is
// monotonic: a value below lo rounds to lo or below, one above hi to hi or above. Clamping first
// keeps the magnitude below 2^22, where adding and subtracting 1.5 * 2^23 rounds to an integer
// exactly. This avoids a libm call per element on the baseline x86-64 target, which lacks SSE4.1's
// round instruction.
inline float round_to_level(float value, float lo, float hi) {
  static_assert(FLT_EVAL_METHOD == 0, "the rounding trick needs float arithmetic in float");
  constexpr float kRoundingBias = 12582912.0f;  // 1.5 * 2^23
  value = value >= lo ? value : lo;             // NaN fails the comparison and becomes lo
  value = value > hi ? hi : value;
  return (value + kRoundingBias) - kRoundingBias;
}

// Returns the nearest level of x on an affine grid, as a float holding an integer in [0, nmax]
// (0 when the scale is 0).
inline float affine_level(float x, float scale, float offset, float nmax) {
  // Dividing by a zero scale gives infinity or NaN, which the select discards. Computing it
  // unconditionally keeps loops over elements free of branches.
  const float level = round_to_level((x + offset) / scale, 0.0f, nmax);
  return scale == 0 ? 0.0f : level;
}

// Returns the nearest level of x on the grid scale * q, q in [qmin, qmax], as a float holding an
// integer (0 when the scale is 0).
inline float symmetric_level(float x, float scale, float qmin, float qmax) {
  const float level = round_to_level(x / scale, qmin, qmax);
  return scale == 0 ? 0.0f : level;
}

// Returns the nearest grid index of x on an affine grid (0 when the scale is 0).
inline int nearest_affine_level(float x, float scale, float offset, int nmax) {
  return static_cast<int>(affine_level(x, scale, offset, static_cast<float>(nmax)));
}

// Returns the nearest level of x on the grid scale * q, q in [qmin, qmax] (0 when scale is 0).
inline int nearest_symmetric_level(float x, float scale, int qmin, int qmax) {
  return static_cast<int>(
      symmetric_level(x, scale, static_cast<float>(qmin), static_cast<float>(qmax)));
}

// nearest_affine_level and nearest_symmetric_level for n elements, n a multiple of 4.
void affine_levels(const float* x, int n, float scale, float offset, int nmax, int* q);
void symmetric_levels(const float* x, int n, float scale, int qmin, int qmax, int* q);

// Weighted squared error of x on an affine grid with nearest rounding.
float affine_error(const float* x, const float* w, int n, int nmax, float scale, float offset);

// Weighted squared error of x on the grid scale * q, q in [qmin, qmax], with nearest rounding.
float symmetric_error(const float* x, const float* w, int n, int qmin, int qmax, float scale);

// affine_error and symmetric_error for count grids over the same elements. errors[c] equals the
// single-grid function's result bit for bit, because each grid's sum runs over the elements in
// the same order with the same float operations. The grids only share SIMD lanes.
void affine_errors(const float* x, const float* w, int n, int nmax, const float* scales,
                   const float* offsets, int count, float* errors);
void symmetric_errors(const float* x, const float* w, int n, int qmin, int qmax,
                      const float* scales, int count, float* errors);

// Searches the affine grid with levels 0..nmax that minimizes the weighted squared error of x.
// With offset_free false the grid must reach zero or below (offset >= 0), as the K-quants'
// unsigned mins require; with it true (Q4_1, Q5_1) the offset may have either sign.
// n must be at most 32 and a multiple of 4, as for every sub-block and legacy block.
AffineGrid fit_affine_grid(const float* x, const float* w, int n, int nmax, bool offset_free);

// Searches the scale of the grid scale * q, q in [qmin, qmax] (qmin < 0 < qmax), that minimizes
// the weighted squared error of x. The scale may be negative: the grid is asymmetric, so the sign
// picks which side of the data gets the extra level.
// n must be at most 32 and a multiple of 4.
float fit_symmetric_grid(const float* x, const float* w, int n, int qmin, int qmax);

}  // namespace hllm::quant
