// Quantizers of the 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
#include <algorithm>
#include <cmath>

#include "formats/quant/quant_internal.h"
#include "util/half.h"

namespace hllm::quant {
namespace {

constexpr int kBlock = kLegacyBlockSize;

// Levels of one block: q[j] in [0, 2^bits) after adding the bias of the symmetric formats.
struct Levels {
  int q[kBlock];
};

// Fits a symmetric grid with levels [-bias, bias - 1], stores its fp16 scale and returns the
// biased levels for that stored scale.
Levels fit_symmetric_block(const float* x, const float* w, int bias, uint16_t* d) {
  const float scale = round_to_fp16(fit_symmetric_grid(x, w, kBlock, -bias, bias - 1));
  *d = float_to_fp16(scale);
  Levels levels;
  for (int j = 0; j < kBlock; ++j) {
    levels.q[j] = nearest_symmetric_level(x[j], scale, -bias, bias - 1) + bias;
  }
  return levels;
}

// Fits an affine grid with levels [0, nmax] and a free offset, stores its fp16 scale and minimum
// and returns the levels for the stored values.
Levels fit_affine_block(const float* x, const float* w, int nmax, uint16_t* d, uint16_t* m) {
  const AffineGrid grid = fit_affine_grid(x, w, kBlock, nmax, /*offset_free=*/true);
  const float scale = round_to_fp16(grid.scale);
  const float minimum = round_to_fp16(-grid.offset);
  *d = float_to_fp16(scale);
  *m = float_to_fp16(minimum);
  Levels levels;
  for (int j = 0; j < kBlock; ++j)
    levels.q[j] = nearest_affine_level(x[j], scale, -minimum, nmax);
  return levels;
}

// Packs the low nibbles: element j in the low half of byte j, element j + 16 in the high half.
void pack_nibbles(const Levels& levels, uint8_t* qs) {
  for (int j = 0; j < kBlock / 2; ++j) {
    qs[j] = static_cast<uint8_t>((levels.q[j] & 0xf) | (levels.q[j + kBlock / 2] & 0xf) << 4);
  }
}

// Packs the fifth bits: bit j of a little-endian 32-bit word is bit 4 of element j.
void pack_high_bits(const Levels& levels, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kBlock; ++j)
    bits |= static_cast<uint32_t>(levels.q[j] >> 4) << j;
  for (int k = 0; k < 4; ++k)
    qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

// Returns the largest magnitude of a block.
float max_magnitude(const float* x, int n) {
  float result = 0;
  for (int j = 0; j < n; ++j)
    result = std::max(result, std::fabs(x[j]));
  return result;
}

}  // namespace

void quantize_q4_0(const float* x, const float* weights, BlockQ4_0* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const Levels levels = fit_symmetric_block(x, weights, 8, &blocks[b].d);
    pack_nibbles(levels, blocks[b].qs);
  }
}

void quantize_q4_1(const float* x, const float* weights, BlockQ4_1* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const Levels levels = fit_affine_block(x, weights, 15, &blocks[b].d, &blocks[b].m);
    pack_nibbles(levels, blocks[b].qs);
  }
}

void quantize_q5_0(const float* x, const float* weights, BlockQ5_0* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const Levels levels = fit_symmetric_block(x, weights, 16, &blocks[b].d);
    pack_nibbles(levels, blocks[b].qs);
    pack_high_bits(levels, blocks[b].qh);
  }
}

void quantize_q5_1(const float* x, const float* weights, BlockQ5_1* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const Levels levels = fit_affine_block(x, weights, 31, &blocks[b].d, &blocks[b].m);
    pack_nibbles(levels, blocks[b].qs);
    pack_high_bits(levels, blocks[b].qh);
  }
}

// Q8_0 keeps llama.cpp's exact arithmetic (the reciprocal of the float scale, rounding half away
// from zero) so that files it writes match llama.cpp's byte for byte.
void quantize_q8_0(const float* x, BlockQ8_0* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock) {
    const float d = max_magnitude(x, kBlock) / 127;
    const float inverse = d != 0 ? 1.0f / d : 0.0f;
    blocks[b].d = float_to_fp16(d);
    for (int j = 0; j < kBlock; ++j)
      blocks[b].qs[j] = static_cast<int8_t>(std::round(x[j] * inverse));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock) {
    const float d = max_magnitude(x, kBlock) / 127;
    const float inverse = d != 0 ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kBlock; ++j) {
      blocks[b].qs[j] = static_cast<int8_t>(std::round(x[j] * inverse));
      sum += blocks[b].qs[j];
    }
    blocks[b].d = float_to_fp16(d);
    blocks[b].s = float_to_fp16(d * sum);
  }
}

}  // namespace hllm::quant
