// Block quantization formats of GGUF files and their reference quantizers and dequantizers.
//
// The block structs match ggml's byte layouts exactly, so tensors quantized by llama.cpp
// dequantize identically here and tensors written here load in llama.cpp. Every multi-byte field
// is little-endian; fp16 scales are stored as raw IEEE binary16 bits.
//
// Legacy formats store 32 elements per block with one fp16 scale. K-quant formats store a
// super-block of 256 elements split into sub-blocks of 16 or 32, each with its own scale (and
// offset). Those sub-block scales are themselves quantized against one or two fp16 super-block
// scales.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/ggml_type.h"

namespace hllm {

inline constexpr int kLegacyBlockSize = 32;  // elements per block of Q4_0 ... Q8_1
inline constexpr int kSuperBlockSize = 256;  // elements per super-block of the K-quants
inline constexpr int kKScaleBytes = 12;      // packed 6-bit scales and offsets of Q3_K, Q4_K, Q5_K

// Q4_0: x = d * (q - 8), q in [0, 15]. Byte j stores element j in its low nibble and element
// j + 16 in its high nibble.
struct BlockQ4_0 {
  uint16_t d;  // fp16
  uint8_t qs[kLegacyBlockSize / 2];
};

// Q4_1: x = d * q + m, q in [0, 15]; nibbles ordered as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;  // fp16
  uint16_t m;  // fp16
  uint8_t qs[kLegacyBlockSize / 2];
};

// Q5_0: x = d * (q - 16), q in [0, 31]. The low four bits are packed as in Q4_0; bit j of the
// little-endian 32-bit qh is the fifth bit of element j.
struct BlockQ5_0 {
  uint16_t d;  // fp16
  uint8_t qh[4];
  uint8_t qs[kLegacyBlockSize / 2];
};

// Q5_1: x = d * q + m, q in [0, 31]; bits packed as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;  // fp16
  uint16_t m;  // fp16
  uint8_t qh[4];
  uint8_t qs[kLegacyBlockSize / 2];
};

// Q8_0: x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  uint16_t d;  // fp16
  int8_t qs[kLegacyBlockSize];
};

// Q8_1: x = d * q; s = d * sum(q) lets dot-product kernels fold in the offset of Q4_1 and Q5_1.
struct BlockQ8_1 {
  uint16_t d;  // fp16
  uint16_t s;  // fp16
  int8_t qs[kLegacyBlockSize];
};

// Q2_K: 16 sub-blocks of 16. Sub-block j has x = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4)
// with q in [0, 3]. Element i of a 128-element half h = i / 128 sits in qs[32 * h + i % 32] at
// bit 2 * ((i % 128) / 32).
struct BlockQ2_K {
  uint8_t scales[kSuperBlockSize / 16];
  uint8_t qs[kSuperBlockSize / 4];
  uint16_t d;     // fp16
  uint16_t dmin;  // fp16
};

// Q3_K: 16 sub-blocks of 16. x = d * (scale_j - 32) * (q - 4) with q in [0, 7] and 6-bit scales
// packed into 12 bytes (see q3_k_scale). The low two bits of q are laid out as in Q2_K; the high
// bit of element i is bit (i / 32) of hmask[i % 32].
struct BlockQ3_K {
  uint8_t hmask[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 4];
  uint8_t scales[kKScaleBytes];
  uint16_t d;  // fp16
};

// Q4_K: 8 sub-blocks of 32. x = d * scale_j * q - dmin * min_j with q in [0, 15] and 6-bit
// scale_j and min_j packed into 12 bytes (see k4_scale_min). Each 64-element chunk c uses
// qs[32 * c ... 32 * c + 31]: low nibbles for its first 32 elements, high nibbles for the rest.
struct BlockQ4_K {
  uint16_t d;     // fp16
  uint16_t dmin;  // fp16
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kSuperBlockSize / 2];
};

// Q5_K: as Q4_K with q in [0, 31]; the fifth bit of element i is bit (i / 32) of qh[i % 32].
struct BlockQ5_K {
  uint16_t d;     // fp16
  uint16_t dmin;  // fp16
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 2];
};

// Q6_K: 16 sub-blocks of 16. x = d * scales[j] * (q - 32) with q in [0, 63]. In each
// 128-element half, element l + 32 * k (l < 32, k < 4) has its low nibble in
// ql[64 * half + l + 32 * (k % 2)] (low nibble for k < 2, high for k >= 2) and its top two bits
// at bit 2 * k of qh[32 * half + l].
struct BlockQ6_K {
  uint8_t ql[kSuperBlockSize / 2];
  uint8_t qh[kSuperBlockSize / 4];
  int8_t scales[kSuperBlockSize / 16];
  uint16_t d;  // fp16
};

// Q8_K: x = d * q with a float32 scale. bsums[k] is the sum of quants 16 k ... 16 k + 15, which
// the dot-product kernels of the K-quants need. Used for activations, not stored in files.
struct BlockQ8_K {
  float d;
  int8_t qs[kSuperBlockSize];
  int16_t bsums[kSuperBlockSize / 16];
};

// Sizes fixed by the GGUF format (ggml's type traits); a mismatch would corrupt every tensor.
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Returns the 6-bit scale of sub-block j (0..15) of a Q3_K block, before subtracting 32. Scales
// 0..7 keep their low four bits in the low nibbles of bytes 0..7 and scales 8..15 in the high
// nibbles. The top two bits of scale j are bits 2 * (j / 4) of byte 8 + j % 4.
inline int q3_k_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 0xf : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return low | (high << 4);
}

// Reads the 6-bit scale and min of sub-block j (0..7) of a Q4_K or Q5_K block. Sub-blocks 0..3
// keep theirs in the low six bits of bytes j and j + 4. Sub-blocks 4..7 keep their low four bits
// in the nibbles of byte j + 4 and their top two bits in the top bits of bytes j - 4 and j.
inline void k4_scale_min(const uint8_t* scales, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = (scales[j + 4] & 0xf) | ((scales[j - 4] >> 6) << 4);
    *min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// Whether dequantize_row / quantize_row handle a type.
bool has_dequantizer(GgmlType type);
bool has_quantizer(GgmlType type);

// Converts n elements of a row stored as type into float. n must be a multiple of the type's
// block size. Handles F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K ... Q6_K and
// Q8_K. Throws Error, naming the type, for any other type or a bad n.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// Quantizes n elements into type's blocks. n must be a multiple of the type's block size.
// importance, when given, contains n non-negative weights, and the search for scales minimizes the
// squared error weighted by them (an imatrix's mean squared activation per column is the usual
// source). Without it, element i of each group of 32 weighs rms(group) + |x_i|, so the search
// favors the large elements that dominate a layer's output over the plain RMSE.
//
// Handles F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K ... Q6_K and Q8_K. Q8_0, Q8_1
// and Q8_K use the deterministic rounding of the field (scale = max |x| / 127), so Q8_0 output
// equals llama.cpp's byte for byte. Throws Error for other types, a bad n or a non-finite input
// to a quantized type.
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n,
                  const float* importance = nullptr);

// Quantizes n_rows rows of n_per_row elements each, stored one after the other, and returns the
// bytes written (n_rows * row_size(type, n_per_row)). importance, if given, contains
// n_per_row weights shared by every row.
size_t quantize_rows(GgmlType type, const float* src, void* dst, int64_t n_rows, int64_t n_per_row,
                     const float* importance = nullptr);

}  // namespace hllm
