// Fused kernels for products with few activation columns, as in decoding: they read the weight
// blocks of Q8_0, Q4_K, Q5_K and Q6_K directly instead of unpacking each tile into the common
// packed form first. With one column every weight byte is used once, so unpacking into a buffer
// and reading it back costs as much as the product itself.
//
// Each kernel computes, lane for lane, the same float operations in the same order as
// unpack_weights followed by int8_tile, so the results are bit-identical to the tiled path and the
// choice between the two never changes a model's output. Only the AVX-512 VNNI target has fused
// kernels; every other target reports none and the caller keeps the tiled path.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matmul_fused.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <cstdint>
#include <cstring>

#include "backends/cpu/matmul_internal.h"
#include "formats/quant/quant.h"
#include "util/error.h"

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu::matmul {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3_DL

#pragma GCC push_options
#pragma GCC target("avx512vnni")

// Adds the product of 64 integer lane sums and their lane scales (weight times activation) to
// acc, as int8_tile does for each 64-element step.
inline __m512 AccumulateLanes(__m512 acc, __m512i dot, __m512 weight_scale, __m512 x_scale) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(weight_scale, x_scale), acc);
}

// Joins two 32-byte halves into 64 bytes.
inline __m512i Join(__m256i low, __m256i high) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

// Returns 16 lane scales: low in lanes 0..7, high in lanes 8..15.
inline __m512 JoinScales(float low, float high) {
  return _mm512_insertf32x8(_mm512_set1_ps(low), _mm256_set1_ps(high), 1);
}

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float DotQ8_0(const uint8_t* row, int64_t k, const PackedActivation& x) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  // Codes plus 128 as unsigned bytes, matching the packed form's offset of 128.
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc = _mm512_setzero_ps();
  const int64_t n_blocks = k / kLegacyBlockSize;
  int64_t b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    const int64_t i = b * kLegacyBlockSize;
    const __m512i codes =
        Join(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)),
             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b + 1].qs)));
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.correction + i / kLaneWidth),
                                            _mm512_xor_si512(codes, flip),
                                            _mm512_loadu_si512(x.q + i));
    const __m512 scale = JoinScales(HalfToFloat(blocks[b].d), HalfToFloat(blocks[b + 1].d));
    acc = AccumulateLanes(acc, dot, scale, _mm512_loadu_ps(x.scale + i / kLaneWidth));
  }
  if (b < n_blocks) {
    // The odd last block meets the zero padding of the packed form, whose codes and scales are 0.
    const int64_t i = b * kLegacyBlockSize;
    const __m512i codes = _mm512_zextsi256_si512(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
    const __m512i low_half = _mm512_maskz_mov_epi8(0xffffffffull, _mm512_xor_si512(codes, flip));
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.correction + i / kLaneWidth),
                                            low_half, _mm512_loadu_si512(x.q + i));
    const __m512 scale = JoinScales(HalfToFloat(blocks[b].d), 0.0f);
    acc = AccumulateLanes(acc, dot, scale, _mm512_loadu_ps(x.scale + i / kLaneWidth));
  }
  return _mm512_reduce_add_ps(acc);
}

// Returns the eight 6-bit scales and eight 6-bit mins of a Q4_K or Q5_K block (see k4_scale_min)
// as floats d * scale_j in lanes 0..7 and -dmin * min_j in lanes 8..15. Each product is the one
// unpack_weights computes.
inline __m512 DecodeK4Scales(const uint8_t* packed, float d, float dmin) {
  uint32_t words[3];
  std::memcpy(words, packed, sizeof words);
  // The low six bits of bytes 0..3 are scales 0..3 and those of bytes 4..7 mins 0..3. Byte 8 + j
  // has the low nibbles of scale and min 4 + j, and the top bits of bytes j and 4 + j are their
  // top two bits.
  const uint32_t low_six = 0x3f3f3f3fu;
  const uint32_t nibble = 0x0f0f0f0fu;
  const uint32_t top_two = 0x30303030u;
  const uint32_t scales_low = words[0] & low_six;
  const uint32_t scales_high = (words[2] & nibble) | ((words[0] >> 2) & top_two);
  const uint32_t mins_low = words[1] & low_six;
  const uint32_t mins_high = ((words[2] >> 4) & nibble) | ((words[1] >> 2) & top_two);
  const __m128i bytes = _mm_set_epi32(static_cast<int>(mins_high), static_cast<int>(mins_low),
                                      static_cast<int>(scales_high), static_cast<int>(scales_low));
  const __m512 factors = _mm512_insertf32x8(_mm512_set1_ps(d), _mm256_set1_ps(-dmin), 1);
  return _mm512_mul_ps(factors, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)));
}

// Returns the scale lane of each lane of 64-element chunk c: lane l covers elements
// 64c + 4l ... 64c + 4l + 3, in sub-block 2c + l / 8.
inline __m512i K4ChunkScaleIndex(int chunk) {
  return _mm512_add_epi32(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                          _mm512_set1_epi32(2 * chunk));
}

// Returns the min lane of each 16-element min group g: sub-block g / 2, whose min is lane
// 8 + g / 2.
inline __m512i K4MinIndex() {
  return _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
}

// Returns the codes of one 64-element chunk of a Q4_K super-block in element order: the low
// nibbles of its 32 bytes, then the high nibbles.
inline __m512i Q4_KChunk(const BlockQ4_K& block, int chunk) {
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs) + chunk);
  return Join(_mm256_and_si256(packed, low_mask),
              _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask));
}

// As Q4_KChunk, with the fifth bits: bit 2c of qh byte l tops element l of chunk c and bit
// 2c + 1 element 32 + l.
inline __m512i Q5_KChunk(const BlockQ5_K& block, int chunk) {
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  const __m256i fifth_bit = _mm256_set1_epi8(0x10);
  const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs) + chunk);
  const __m256i high_bits = _mm256_srl_epi16(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh)), _mm_cvtsi32_si128(2 * chunk));
  const __m256i low = _mm256_or_si256(_mm256_and_si256(packed, low_mask),
                                      _mm256_and_si256(_mm256_slli_epi16(high_bits, 4), fifth_bit));
  const __m256i high =
      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask),
                      _mm256_and_si256(_mm256_slli_epi16(high_bits, 3), fifth_bit));
  return Join(low, high);
}

// One Q4_K or Q5_K row: Block is BlockQ4_K or BlockQ5_K and Chunk returns a chunk's codes.
template <typename Block, __m512i (*Chunk)(const Block&, int)>
float DotK4(const uint8_t* row, int64_t k, const PackedActivation& x) {
  const auto* blocks = reinterpret_cast<const Block*>(row);
  __m512 acc = _mm512_setzero_ps();
  __m512 min_acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < k / kSuperBlockSize; ++b) {
    const Block& block = blocks[b];
    const __m512 scales =
        DecodeK4Scales(block.scales, HalfToFloat(block.d), HalfToFloat(block.dmin));
    // Q8_K activations have one scale per super-block, so each lane's product of weight and
    // activation scale is formed once per super-block rather than once per chunk.
    const __m512 lane_scales =
        _mm512_mul_ps(scales, _mm512_set1_ps(x.scale[b * kSuperBlockSize / kLaneWidth]));
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m512i x_q = _mm512_loadu_si512(x.q + b * kSuperBlockSize + 64 * chunk);
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), Chunk(block, chunk), x_q);
      acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                            _mm512_permutexvar_ps(K4ChunkScaleIndex(chunk), lane_scales), acc);
    }
    // The weight-min part, sum over the 16 groups of min times activation sum, as AddMinTerms
    // does it.
    const __m512 sums = _mm512_loadu_ps(x.sums + b * kSuperBlockSize / kMinGroup);
    min_acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(K4MinIndex(), scales), sums, min_acc);
  }
  return _mm512_reduce_add_ps(acc) + _mm512_reduce_add_ps(min_acc);
}

// Writes the codes of the two 64-element chunks of one 128-element half of a Q6_K super-block,
// in element order.
inline void Q6_KHalf(const BlockQ6_K& block, int half, __m512i* codes) {
  const __m512i low_mask = _mm512_set1_epi8(0x0f);
  const __m512i top_bits = _mm512_set1_epi8(0x30);
  const __m512i low = _mm512_loadu_si512(block.ql + 64 * half);
  const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh) + half);
  // Bits 0-1 of qh byte l are the top bits of element l of the half, bits 2-3 those of
  // element l + 32, bits 4-5 of element l + 64 and bits 6-7 of element l + 96.
  const __m512i high_pairs = Join(high, _mm256_srli_epi16(high, 2));
  codes[0] = _mm512_or_si512(_mm512_and_si512(low, low_mask),
                             _mm512_and_si512(_mm512_slli_epi16(high_pairs, 4), top_bits));
  codes[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(low, 4), low_mask),
                             _mm512_and_si512(high_pairs, top_bits));
}

float DotQ6_K(const uint8_t* row, int64_t k, const PackedActivation& x) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(row);
  // Lane l of a 64-element chunk c covers elements 64c + 4l ... 64c + 4l + 3, whose scale is
  // scales[4c + l / 4].
  const __m512i lane_group = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < k / kSuperBlockSize; ++b) {
    const BlockQ6_K& block = blocks[b];
    // Products of weight and activation scale per 16 elements, as in DotK4.
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block.scales));
    const __m512 scales = _mm512_mul_ps(_mm512_set1_ps(HalfToFloat(block.d)),
                                        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)));
    const __m512 lane_scales =
        _mm512_mul_ps(scales, _mm512_set1_ps(x.scale[b * kSuperBlockSize / kLaneWidth]));
    for (int half = 0; half < 2; ++half) {
      __m512i codes[2];
      Q6_KHalf(block, half, codes);
      for (int part = 0; part < 2; ++part) {
        const int chunk = 2 * half + part;
        const int64_t i = b * kSuperBlockSize + 64 * chunk;
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.correction + i / kLaneWidth),
                                                codes[part], _mm512_loadu_si512(x.q + i));
        const __m512i index = _mm512_add_epi32(lane_group, _mm512_set1_epi32(4 * chunk));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_permutexvar_ps(index, lane_scales),
                              acc);
      }
    }
  }
  return _mm512_reduce_add_ps(acc);
}

#pragma GCC pop_options

bool HasFusedDot(GgmlType type) {
  return type == GgmlType::Q8_0 || type == GgmlType::Q4_K || type == GgmlType::Q5_K ||
         type == GgmlType::Q6_K;
}

using RowKernel = float (*)(const uint8_t*, int64_t, const PackedActivation&);

RowKernel KernelFor(GgmlType type) {
  switch (type) {
    case GgmlType::Q8_0:
      return DotQ8_0;
    case GgmlType::Q4_K:
      return DotK4<BlockQ4_K, Q4_KChunk>;
    case GgmlType::Q5_K:
      return DotK4<BlockQ5_K, Q5_KChunk>;
    case GgmlType::Q6_K:
      return DotQ6_K;
    default:
      fail("matmul: weight type {} has no fused kernel", type_name(type));
  }
}

// One row at a time, so each thread streams one contiguous run of weights. Reading four rows side
// by side to share the activation loads ran at half the speed on a model larger than the cache,
// probably because the four interleaved streams defeat the hardware prefetcher.
void FusedTile(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
               const PackedActivation* columns, int n_columns, float* result) {
  const RowKernel kernel = KernelFor(type);
  for (int c = 0; c < n_columns; ++c) {
    for (int r = 0; r < n_rows; ++r) {
      result[r * kTileColumns + c] = kernel(rows + r * row_stride, k, columns[c]);
    }
  }
}

#else

bool HasFusedDot(GgmlType) { return false; }

void FusedTile(GgmlType type, const uint8_t*, size_t, int, int64_t, const PackedActivation*, int,
               float*) {
  fail("matmul: the {} kernels have no fused {} kernel", hwy::TargetName(HWY_TARGET),
       type_name(type));
}

#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace HWY_NAMESPACE
}  // namespace hllm::cpu::matmul
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu::matmul {

HWY_EXPORT(HasFusedDot);
HWY_EXPORT(FusedTile);

bool has_fused_tile(GgmlType type) { return HWY_DYNAMIC_DISPATCH(HasFusedDot)(type); }

void fused_tile(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                const PackedActivation* columns, int n_columns, float* result) {
  HWY_DYNAMIC_DISPATCH(FusedTile)(type, rows, row_stride, n_rows, k, columns, n_columns, result);
}

}  // namespace hllm::cpu::matmul
#endif  // HWY_ONCE
