// Unpacks rows of every quantized weight type into the common packed form of the int8 path:
// unsigned codes, a scale per 4 codes and a min per 16 codes (see matmul_internal.h). The loops
// are plain C++ compiled once per Highway target so that the compiler vectorizes them with that
// target's instructions.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matmul_unpack.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "backends/cpu/matmul_internal.h"
#include "formats/quant/quant.h"
#include "util/error.h"
#include "util/half.h"

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu::matmul {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Converts an fp16 scale with the F16C instruction where the target has it, because the portable
// conversion is branchy and would dominate the unpacking of small blocks.
inline float HalfToFloat(uint16_t h) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  return _cvtsh_ss(h);
#else
  return fp16_to_float(h);
#endif
}

// Destination of one row.
struct RowOut {
  uint8_t* q;
  float* scale;  // one per kLaneWidth codes
  float* min;    // one per kMinGroup codes
};

inline void FillScale(float* scale, int64_t first_code, int n_codes, float value) {
  std::fill_n(scale + first_code / kLaneWidth, n_codes / kLaneWidth, value);
}

inline void FillMin(float* min, int64_t first_code, int n_codes, float value) {
  std::fill_n(min + first_code / kMinGroup, n_codes / kMinGroup, value);
}

// Codes q + 128 with offset 128.
void UnpackQ8_0(const BlockQ8_0* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t first = b * kLegacyBlockSize;
    const int8_t* __restrict codes = blocks[b].qs;
    uint8_t* __restrict q = out.q + first;
    for (int i = 0; i < kLegacyBlockSize; ++i) q[i] = static_cast<uint8_t>(codes[i] + 128);
    FillScale(out.scale, first, kLegacyBlockSize, HalfToFloat(blocks[b].d));
  }
}

// Low nibbles are elements 0..15 of a block, high nibbles 16..31.
inline void UnpackNibbles(const uint8_t* qs, uint8_t* q) {
  const hn::CappedTag<uint8_t, kLegacyBlockSize / 2> d;
  const auto low_mask = hn::Set(d, 0x0f);
  for (size_t i = 0; i < kLegacyBlockSize / 2; i += hn::Lanes(d)) {
    const auto packed = hn::LoadU(d, qs + i);
    hn::StoreU(hn::And(packed, low_mask), d, q + i);
    hn::StoreU(hn::ShiftRight<4>(packed), d, q + kLegacyBlockSize / 2 + i);
  }
}

// Byte i of kFifthBits[h] is 16 when bit i of h is set, so one OR adds eight fifth bits (on a
// little-endian host, as every GGUF reader assumes).
constexpr std::array<uint64_t, 256> MakeFifthBitTable() {
  std::array<uint64_t, 256> table{};
  for (int h = 0; h < 256; ++h) {
    for (int bit = 0; bit < 8; ++bit) {
      if ((h >> bit) & 1) table[h] |= uint64_t{16} << (8 * bit);
    }
  }
  return table;
}
constexpr std::array<uint64_t, 256> kFifthBits = MakeFifthBitTable();

// Adds the fifth bit of each element: bit i of the little-endian 32-bit qh.
inline void AddFifthBits(const uint8_t* qh, uint8_t* q) {
  for (int byte = 0; byte < 4; ++byte) {
    uint64_t codes;
    std::memcpy(&codes, q + 8 * byte, sizeof codes);
    codes |= kFifthBits[qh[byte]];
    std::memcpy(q + 8 * byte, &codes, sizeof codes);
  }
}

void UnpackQ4_0(const BlockQ4_0* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t first = b * kLegacyBlockSize;
    UnpackNibbles(blocks[b].qs, out.q + first);
    FillScale(out.scale, first, kLegacyBlockSize, HalfToFloat(blocks[b].d));
  }
}

void UnpackQ4_1(const BlockQ4_1* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t first = b * kLegacyBlockSize;
    UnpackNibbles(blocks[b].qs, out.q + first);
    FillScale(out.scale, first, kLegacyBlockSize, HalfToFloat(blocks[b].d));
    FillMin(out.min, first, kLegacyBlockSize, HalfToFloat(blocks[b].m));
  }
}

void UnpackQ5_0(const BlockQ5_0* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t first = b * kLegacyBlockSize;
    UnpackNibbles(blocks[b].qs, out.q + first);
    AddFifthBits(blocks[b].qh, out.q + first);
    FillScale(out.scale, first, kLegacyBlockSize, HalfToFloat(blocks[b].d));
  }
}

void UnpackQ5_1(const BlockQ5_1* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t first = b * kLegacyBlockSize;
    UnpackNibbles(blocks[b].qs, out.q + first);
    AddFifthBits(blocks[b].qh, out.q + first);
    FillScale(out.scale, first, kLegacyBlockSize, HalfToFloat(blocks[b].d));
    FillMin(out.min, first, kLegacyBlockSize, HalfToFloat(blocks[b].m));
  }
}

// The 2-bit fields of Q2_K and Q3_K: element 32 * s + l of each 128-element half sits at bit
// 2 * s of byte l of that half's 32 bytes.
inline void UnpackCrumbs(const uint8_t* __restrict qs, uint8_t* __restrict q) {
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 4; ++shift) {
      for (int l = 0; l < 32; ++l) {
        q[128 * half + 32 * shift + l] = (qs[32 * half + l] >> (2 * shift)) & 3;
      }
    }
  }
}

void UnpackQ2_K(const BlockQ2_K* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ2_K& block = blocks[b];
    const int64_t first = b * kSuperBlockSize;
    UnpackCrumbs(block.qs, out.q + first);
    const float d = HalfToFloat(block.d);
    const float dmin = HalfToFloat(block.dmin);
    for (int j = 0; j < kSuperBlockSize / 16; ++j) {
      FillScale(out.scale, first + 16 * j, 16, d * static_cast<float>(block.scales[j] & 0xf));
      FillMin(out.min, first + 16 * j, 16, -dmin * static_cast<float>(block.scales[j] >> 4));
    }
  }
}

// Codes 0..7 with offset 4: the low two bits as in Q2_K, the high bit from hmask.
void UnpackQ3_K(const BlockQ3_K* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ3_K& block = blocks[b];
    const int64_t first = b * kSuperBlockSize;
    uint8_t* __restrict q = out.q + first;
    UnpackCrumbs(block.qs, q);
    for (int bit = 0; bit < 8; ++bit) {
      for (int l = 0; l < 32; ++l) q[32 * bit + l] |= ((block.hmask[l] >> bit) & 1) << 2;
    }
    const float d = HalfToFloat(block.d);
    for (int j = 0; j < kSuperBlockSize / 16; ++j) {
      FillScale(out.scale, first + 16 * j, 16,
                d * static_cast<float>(q3_k_scale(block.scales, j) - 32));
    }
  }
}

// Each 64-element chunk: low nibbles of its 32 bytes, then high nibbles.
inline void UnpackChunkNibbles(const uint8_t* __restrict qs, uint8_t* __restrict q) {
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      q[64 * chunk + l] = qs[32 * chunk + l] & 0xf;
      q[64 * chunk + 32 + l] = qs[32 * chunk + l] >> 4;
    }
  }
}

inline void FillK4ScalesAndMins(const uint8_t* scales, float d, float dmin, int64_t first,
                                const RowOut& out) {
  for (int j = 0; j < 8; ++j) {
    int scale;
    int min;
    k4_scale_min(scales, j, &scale, &min);
    FillScale(out.scale, first + 32 * j, 32, d * static_cast<float>(scale));
    FillMin(out.min, first + 32 * j, 32, -dmin * static_cast<float>(min));
  }
}

void UnpackQ4_K(const BlockQ4_K* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ4_K& block = blocks[b];
    const int64_t first = b * kSuperBlockSize;
    UnpackChunkNibbles(block.qs, out.q + first);
    FillK4ScalesAndMins(block.scales, HalfToFloat(block.d), HalfToFloat(block.dmin), first,
                        out);
  }
}

void UnpackQ5_K(const BlockQ5_K* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ5_K& block = blocks[b];
    const int64_t first = b * kSuperBlockSize;
    uint8_t* __restrict q = out.q + first;
    UnpackChunkNibbles(block.qs, q);
    for (int bit = 0; bit < 8; ++bit) {
      for (int l = 0; l < 32; ++l) q[32 * bit + l] |= ((block.qh[l] >> bit) & 1) << 4;
    }
    FillK4ScalesAndMins(block.scales, HalfToFloat(block.d), HalfToFloat(block.dmin), first,
                        out);
  }
}

// Codes 0..63 with offset 32.
void UnpackQ6_K(const BlockQ6_K* blocks, int64_t n_blocks, const RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ6_K& block = blocks[b];
    const int64_t first = b * kSuperBlockSize;
    uint8_t* __restrict q = out.q + first;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = block.ql + 64 * half;
      const uint8_t* qh = block.qh + 32 * half;
      uint8_t* __restrict dst = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        dst[l] = (ql[l] & 0xf) | ((qh[l] & 3) << 4);
        dst[l + 32] = (ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4);
        dst[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
        dst[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
      }
    }
    const float d = HalfToFloat(block.d);
    for (int j = 0; j < kSuperBlockSize / 16; ++j) {
      FillScale(out.scale, first + 16 * j, 16, d * static_cast<float>(block.scales[j]));
    }
  }
}

void UnpackWeights(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                   const PackedWeights& packed) {
  const int64_t padded_k = packed.padded_k;
  for (int r = 0; r < n_rows; ++r) {
    const RowOut out{packed.q + r * padded_k, packed.scale + r * padded_k / kLaneWidth,
                     packed.min + r * padded_k / kMinGroup};
    const void* row = rows + r * row_stride;
    const int64_t legacy_blocks = k / kLegacyBlockSize;
    const int64_t super_blocks = k / kSuperBlockSize;
    switch (type) {
      case GgmlType::Q8_0:
        UnpackQ8_0(static_cast<const BlockQ8_0*>(row), legacy_blocks, out);
        break;
      case GgmlType::Q4_0:
        UnpackQ4_0(static_cast<const BlockQ4_0*>(row), legacy_blocks, out);
        break;
      case GgmlType::Q4_1:
        UnpackQ4_1(static_cast<const BlockQ4_1*>(row), legacy_blocks, out);
        break;
      case GgmlType::Q5_0:
        UnpackQ5_0(static_cast<const BlockQ5_0*>(row), legacy_blocks, out);
        break;
      case GgmlType::Q5_1:
        UnpackQ5_1(static_cast<const BlockQ5_1*>(row), legacy_blocks, out);
        break;
      case GgmlType::Q2_K:
        UnpackQ2_K(static_cast<const BlockQ2_K*>(row), super_blocks, out);
        break;
      case GgmlType::Q3_K:
        UnpackQ3_K(static_cast<const BlockQ3_K*>(row), super_blocks, out);
        break;
      case GgmlType::Q4_K:
        UnpackQ4_K(static_cast<const BlockQ4_K*>(row), super_blocks, out);
        break;
      case GgmlType::Q5_K:
        UnpackQ5_K(static_cast<const BlockQ5_K*>(row), super_blocks, out);
        break;
      case GgmlType::Q6_K:
        UnpackQ6_K(static_cast<const BlockQ6_K*>(row), super_blocks, out);
        break;
      default:
        fail("matmul: weight type {} has no int8 unpacking", type_name(type));
    }
    // Zero padding: codes and scales of 0 add nothing, and neither do mins of 0.
    std::memset(out.q + k, 0, padded_k - k);
    std::fill(out.scale + k / kLaneWidth, out.scale + padded_k / kLaneWidth, 0.0f);
    std::fill(out.min + k / kMinGroup, out.min + padded_k / kMinGroup, 0.0f);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace hllm::cpu::matmul
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu::matmul {

HWY_EXPORT(UnpackWeights);

void unpack_weights(GgmlType type, const uint8_t* rows, size_t row_stride, int n_rows, int64_t k,
                    const PackedWeights& out) {
  HWY_DYNAMIC_DISPATCH(UnpackWeights)(type, rows, row_stride, n_rows, k, out);
}

WeightPacking weight_packing(GgmlType type) {
  switch (type) {
    case GgmlType::Q8_0:
      return {128, false, ActivationFormat::Q8_0};
    case GgmlType::Q4_0:
      return {8, false, ActivationFormat::Q8_0};
    case GgmlType::Q5_0:
      return {16, false, ActivationFormat::Q8_0};
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return {0, true, ActivationFormat::Q8_1};
    case GgmlType::Q3_K:
      return {4, false, ActivationFormat::Q8_K};
    case GgmlType::Q6_K:
      return {32, false, ActivationFormat::Q8_K};
    case GgmlType::Q2_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
      return {0, true, ActivationFormat::Q8_K};
    default:
      fail("matmul: weight type {} has no int8 kernel", type_name(type));
  }
}

bool uses_int8_path(GgmlType type) {
  switch (type) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

}  // namespace hllm::cpu::matmul
#endif  // HWY_ONCE
