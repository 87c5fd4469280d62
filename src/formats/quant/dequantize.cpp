// Reference dequantizers: one plain loop per block format, written for clarity and exactness.
// The CPU backend has its own vectorized kernels; these are what they are tested against.
#include <cstring>
#include <type_traits>

#include "formats/quant/quant.h"
#include "formats/quant/quant_internal.h"
#include "util/half.h"

namespace hllm::quant {
namespace {

// Reads the fifth bits of a Q5_0 or Q5_1 block as one little-endian word.
uint32_t load_high_bits(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 |
         static_cast<uint32_t>(qh[2]) << 16 | static_cast<uint32_t>(qh[3]) << 24;
}

}  // namespace

void dequantize_q4_0(const BlockQ4_0* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    for (int j = 0; j < kLegacyBlockSize / 2; ++j) {
      y[j] = d * ((blocks[b].qs[j] & 0xf) - 8);
      y[j + 16] = d * ((blocks[b].qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const BlockQ4_1* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    const float m = fp16_to_float(blocks[b].m);
    for (int j = 0; j < kLegacyBlockSize / 2; ++j) {
      y[j] = d * (blocks[b].qs[j] & 0xf) + m;
      y[j + 16] = d * (blocks[b].qs[j] >> 4) + m;
    }
  }
}

void dequantize_q5_0(const BlockQ5_0* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    const uint32_t high = load_high_bits(blocks[b].qh);
    for (int j = 0; j < kLegacyBlockSize / 2; ++j) {
      const int q0 = (blocks[b].qs[j] & 0xf) | ((high >> j) & 1) << 4;
      const int q1 = (blocks[b].qs[j] >> 4) | ((high >> (j + 16)) & 1) << 4;
      y[j] = d * (q0 - 16);
      y[j + 16] = d * (q1 - 16);
    }
  }
}

void dequantize_q5_1(const BlockQ5_1* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    const float m = fp16_to_float(blocks[b].m);
    const uint32_t high = load_high_bits(blocks[b].qh);
    for (int j = 0; j < kLegacyBlockSize / 2; ++j) {
      const int q0 = (blocks[b].qs[j] & 0xf) | ((high >> j) & 1) << 4;
      const int q1 = (blocks[b].qs[j] >> 4) | ((high >> (j + 16)) & 1) << 4;
      y[j] = d * q0 + m;
      y[j + 16] = d * q1 + m;
    }
  }
}

void dequantize_q8_0(const BlockQ8_0* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    for (int j = 0; j < kLegacyBlockSize; ++j)
      y[j] = d * blocks[b].qs[j];
  }
}

void dequantize_q8_1(const BlockQ8_1* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kLegacyBlockSize) {
    const float d = fp16_to_float(blocks[b].d);
    for (int j = 0; j < kLegacyBlockSize; ++j)
      y[j] = d * blocks[b].qs[j];
  }
}

void dequantize_q2_k(const BlockQ2_K* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kSuperBlockSize) {
    const BlockQ2_K& block = blocks[b];
    const float d = fp16_to_float(block.d);
    const float dmin = fp16_to_float(block.dmin);
    for (int i = 0; i < kSuperBlockSize; ++i) {
      const uint8_t packed = block.scales[i / 16];
      const int q = (block.qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
      y[i] = d * (packed & 0xf) * q - dmin * (packed >> 4);
    }
  }
}

void dequantize_q3_k(const BlockQ3_K* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kSuperBlockSize) {
    const BlockQ3_K& block = blocks[b];
    const float d = fp16_to_float(block.d);
    float scales[16];
    for (int j = 0; j < 16; ++j)
      scales[j] = d * (q3_k_scale(block.scales, j) - 32);
    for (int i = 0; i < kSuperBlockSize; ++i) {
      const int low = (block.qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
      const int high = (block.hmask[i % 32] >> (i / 32)) & 1;
      y[i] = scales[i / 16] * ((low | high << 2) - 4);
    }
  }
}

namespace {

// Q4_K and Q5_K share their scales and nibble layout; Q5_K adds a fifth bit from qh.
template <typename Block>
void dequantize_k4(const Block* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kSuperBlockSize) {
    const Block& block = blocks[b];
    const float d = fp16_to_float(block.d);
    const float dmin = fp16_to_float(block.dmin);
    for (int j = 0; j < 8; ++j) {
      int scale, min;
      k4_scale_min(block.scales, j, &scale, &min);
      const float step = d * scale;
      const float offset = dmin * min;
      // Sub-blocks 2c and 2c + 1 share the bytes qs[32c ... 32c + 31].
      const uint8_t* qs = block.qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) {
        int q = (qs[l] >> shift) & 0xf;
        if constexpr (std::is_same_v<Block, BlockQ5_K>) q |= ((block.qh[l] >> j) & 1) << 4;
        y[32 * j + l] = step * q - offset;
      }
    }
  }
}

}  // namespace

void dequantize_q4_k(const BlockQ4_K* blocks, float* y, int64_t n_blocks) {
  dequantize_k4(blocks, y, n_blocks);
}

void dequantize_q5_k(const BlockQ5_K* blocks, float* y, int64_t n_blocks) {
  dequantize_k4(blocks, y, n_blocks);
}

void dequantize_q6_k(const BlockQ6_K* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kSuperBlockSize) {
    const BlockQ6_K& block = blocks[b];
    const float d = fp16_to_float(block.d);
    for (int i = 0; i < kSuperBlockSize; ++i) {
      const int half = i / 128;
      const int k = (i % 128) / 32;
      const int l = i % 32;
      const uint8_t low_byte = block.ql[64 * half + l + 32 * (k % 2)];
      const int low = k < 2 ? low_byte & 0xf : low_byte >> 4;
      const int high = (block.qh[32 * half + l] >> (2 * k)) & 3;
      y[i] = d * block.scales[i / 16] * ((low | high << 4) - 32);
    }
  }
}

void dequantize_q8_k(const BlockQ8_K* blocks, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, y += kSuperBlockSize) {
    for (int i = 0; i < kSuperBlockSize; ++i)
      y[i] = blocks[b].d * blocks[b].qs[i];
  }
}

}  // namespace hllm::quant
