// Per-format quantizers and dequantizers behind quantize_row and dequantize_row, and the scale
// searches they share. Internal to the quant library; callers use quant.h.
#pragma once

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

// Returns the nearest grid index of x on an affine grid (0 when the scale is 0).
int nearest_affine_level(float x, float scale, float offset, int nmax);

// Returns the nearest level of x on the grid scale * q, q in [qmin, qmax] (0 when scale is 0).
int nearest_symmetric_level(float x, float scale, int qmin, int qmax);

// Weighted squared error of x on an affine grid with nearest rounding.
float affine_error(const float* x, const float* w, int n, int nmax, float scale, float offset);

// Weighted squared error of x on the grid scale * q, q in [qmin, qmax], with nearest rounding.
float symmetric_error(const float* x, const float* w, int n, int qmin, int qmax, float scale);

// Searches the affine grid with levels 0..nmax that minimizes the weighted squared error of x.
// With offset_free false the grid must reach zero or below (offset >= 0), as the K-quants'
// unsigned mins require; with it true (Q4_1, Q5_1) the offset may have either sign.
AffineGrid fit_affine_grid(const float* x, const float* w, int n, int nmax, bool offset_free);

// Searches the scale of the grid scale * q, q in [qmin, qmax] (qmin < 0 < qmax), that minimizes
// the weighted squared error of x. The scale may be negative: the grid is asymmetric, so the sign
// picks which side of the data gets the extra level.
float fit_symmetric_grid(const float* x, const float* w, int n, int qmin, int qmax);

}  // namespace hllm::quant
