// SIMD tile kernels of the matrix products, compiled once per Highway target and chosen at run
// time: activation quantization and rounding, the int8 tile for quantized weights, and the float
// tile for F32, F16 and BF16 weights.

// Ice Lake and Zen 4 class CPUs have AVX-512 VNNI; Highway 1.0.3 compiles that target only on
// request.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/matmul_kernels.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backends/cpu/matmul_internal.h"
#include "util/half.h"

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu::matmul {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rounds a float to fp16 precision, to nearest even, with the F16C instructions where the target
// has them.
inline float RoundToHalf(float value) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  return _cvtsh_ss(_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT));
#else
  return fp16_to_float(float_to_fp16(value));
#endif
}

// The arrays of one packed activation row (see PackedActivation), writable.
struct ActivationOut {
  int8_t* q;
  float* scale;
  int32_t* correction;
  float* sums;
};

int CodeSum(const int8_t* codes, int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += codes[i];
  return sum;
}

// Sets the lane scales and offset corrections of the n codes that start at first.
void FillLanes(const ActivationOut& out, int64_t first, int64_t n, float scale, int offset) {
  for (int64_t lane = first / kLaneWidth; lane < (first + n) / kLaneWidth; ++lane) {
    const int8_t* group = out.q + lane * kLaneWidth;
    out.scale[lane] = scale;
    out.correction[lane] = -offset * (group[0] + group[1] + group[2] + group[3]);
  }
}

// Sets the min-group sums of the n codes that start at first to scale times their code sums.
void FillScaledSums(const ActivationOut& out, int64_t first, int64_t n, float scale) {
  for (int64_t g = first / kMinGroup; g < (first + n) / kMinGroup; ++g) {
    out.sums[g] = scale * static_cast<float>(CodeSum(out.q + g * kMinGroup, kMinGroup));
  }
}

// Writes round(x[i] * inverse) for the kActivationBlock elements of x, rounding half away from
// zero as std::round does. A vector version of std::round, which the compiler leaves as a
// function call per element: v - trunc(v) is exact, so comparing it with 1/2 decides the step.
void RoundBlockHalfAway(const float* x, float inverse, int8_t* codes) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<int32_t, decltype(df)> di32;
  const hn::Rebind<int8_t, decltype(df)> di8;
  const auto half = hn::Set(df, 0.5f);
  const auto one = hn::Set(df, 1.0f);
  const auto factor = hn::Set(df, inverse);
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + lanes <= kActivationBlock; i += lanes) {
    const auto v = hn::Mul(hn::LoadU(df, x + i), factor);
    const auto truncated = hn::Trunc(v);
    const auto away = hn::Add(truncated, hn::CopySignToAbs(one, v));
    const auto rounded = hn::IfThenElse(hn::Abs(hn::Sub(v, truncated)) >= half, away, truncated);
    hn::StoreU(hn::DemoteTo(di8, hn::ConvertTo(di32, rounded)), di8, codes + i);
  }
  // Only targets with vectors longer than the block reach this.
  for (; i < kActivationBlock; ++i) codes[i] = static_cast<int8_t>(std::round(x[i] * inverse));
}

// One 32-element block in Q8_0 or, with_block_sum, Q8_1 (see ActivationFormat). The codes use
// the float d; the dot products use d rounded to fp16, as a Q8_0 block stores it.
void QuantizeLegacyBlock(const float* x, int64_t first, bool with_block_sum, int offset,
                         const ActivationOut& out) {
  const float* in = x + first;
  float max_abs = 0.0f;
  for (int i = 0; i < kActivationBlock; ++i) max_abs = std::max(max_abs, std::fabs(in[i]));
  const float d = max_abs / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  int8_t* codes = out.q + first;
  RoundBlockHalfAway(in, inverse, codes);
  const float scale = RoundToHalf(d);
  FillLanes(out, first, kActivationBlock, scale, offset);
  if (with_block_sum) {
    const int64_t group = first / kMinGroup;
    out.sums[group] = RoundToHalf(d * static_cast<float>(CodeSum(codes, kActivationBlock)));
    out.sums[group + 1] = 0.0f;
  } else {
    FillScaledSums(out, first, kActivationBlock, scale);
  }
}

// One 256-element block in Q8_K (see ActivationFormat).
void QuantizeSuperBlock(const float* x, int64_t first, int offset, const ActivationOut& out) {
  const float* in = x + first;
  float max_abs = 0.0f;
  float extreme = 0.0f;
  for (int i = 0; i < kActivationSuperBlock; ++i) {
    const float magnitude = std::fabs(in[i]);
    if (magnitude > max_abs) {
      max_abs = magnitude;
      extreme = in[i];
    }
  }
  int8_t* codes = out.q + first;
  float scale = 0.0f;
  if (max_abs == 0.0f) {
    std::memset(codes, 0, kActivationSuperBlock);
  } else {
    const float inverse_scale = -127.0f / extreme;
    for (int i = 0; i < kActivationSuperBlock; ++i) {
      const int code = static_cast<int>(std::nearbyint(inverse_scale * in[i]));
      codes[i] = static_cast<int8_t>(std::min(127, code));
    }
    scale = 1.0f / inverse_scale;
  }
  FillLanes(out, first, kActivationSuperBlock, scale, offset);
  FillScaledSums(out, first, kActivationSuperBlock, scale);
}

// Quantizes one row in the packing's activation format and fills the lane scales, offset
// corrections and min-group sums (see PackedActivation).
void QuantizeActivation(const float* x, int64_t k, const WeightPacking& packing, void* memory) {
  const int64_t padded_k = padded_length(k);
  ActivationOut out{};
  out.q = static_cast<int8_t*>(memory);
  out.scale = reinterpret_cast<float*>(out.q + padded_k);
  out.correction = reinterpret_cast<int32_t*>(out.scale + padded_k / kLaneWidth);
  out.sums = reinterpret_cast<float*>(out.correction + padded_k / kLaneWidth);

  if (packing.activation == ActivationFormat::Q8_K) {
    for (int64_t first = 0; first < k; first += kActivationSuperBlock) {
      QuantizeSuperBlock(x, first, packing.offset, out);
    }
  } else {
    const bool with_block_sum = packing.activation == ActivationFormat::Q8_1;
    for (int64_t first = 0; first < k; first += kActivationBlock) {
      QuantizeLegacyBlock(x, first, with_block_sum, packing.offset, out);
    }
  }

  // Zero padding contributes nothing to any dot product.
  std::memset(out.q + k, 0, padded_k - k);
  std::fill(out.scale + k / kLaneWidth, out.scale + padded_k / kLaneWidth, 0.0f);
  std::fill(out.correction + k / kLaneWidth, out.correction + padded_k / kLaneWidth, 0);
  std::fill(out.sums + k / kMinGroup, out.sums + padded_k / kMinGroup, 0.0f);
}

// Adds sum_j min[r][j] * sums[c][j] to each result: the part of the dot product that the weight
// mins contribute. Tiled like the main kernels so each vector loaded serves several products.
template <int kRows, int kColumns>
void AddMinTerms(const PackedWeights& weights, const PackedActivation* columns, float* result) {
  const hn::ScalableTag<float> df;
  using V = hn::Vec<decltype(df)>;
  const int64_t n = weights.padded_k / kMinGroup;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  V acc[kRows][kColumns];
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) acc[r][c] = hn::Zero(df);
  }
  int64_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    V min[kRows];
    for (int r = 0; r < kRows; ++r) min[r] = hn::LoadU(df, weights.min + r * n + j);
    for (int c = 0; c < kColumns; ++c) {
      const V sums = hn::LoadU(df, columns[c].sums + j);
      for (int r = 0; r < kRows; ++r) acc[r][c] = hn::MulAdd(min[r], sums, acc[r][c]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) {
      float total = hn::GetLane(hn::SumOfLanes(df, acc[r][c]));
      for (int64_t tail = j; tail < n; ++tail) total += weights.min[r * n + tail] * columns[c].sums[tail];
      result[r * kTileColumns + c] += total;
    }
  }
}

#if HWY_TARGET == HWY_AVX3_DL
#pragma GCC push_options
#pragma GCC target("avx512vnni")

// Each 64-element step costs four instructions per weight row and activation column. VNNI sums
// unsigned weight codes times signed activation codes per 4-element lane, on top of the offset
// correction. The sums are converted to float and added with the product of both lane scales.
// Each weight vector loaded is reused for kColumns columns.
template <int kRows, int kColumns>
void Int8TileImpl(const PackedWeights& weights, const PackedActivation* columns, float* result) {
  const int64_t padded_k = weights.padded_k;
  __m512 acc[kRows][kColumns];
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < padded_k; i += kPackAlign) {
    __m512i weight_q[kRows];
    __m512 weight_scale[kRows];
    for (int r = 0; r < kRows; ++r) {
      weight_q[r] = _mm512_loadu_si512(weights.q + r * padded_k + i);
      weight_scale[r] = _mm512_loadu_ps(weights.scale + (r * padded_k + i) / kLaneWidth);
    }
    for (int c = 0; c < kColumns; ++c) {
      const __m512i x_q = _mm512_loadu_si512(columns[c].q + i);
      const __m512 x_scale = _mm512_loadu_ps(columns[c].scale + i / kLaneWidth);
      const __m512i correction = _mm512_loadu_si512(columns[c].correction + i / kLaneWidth);
      for (int r = 0; r < kRows; ++r) {
        const __m512i dot = _mm512_dpbusd_epi32(correction, weight_q[r], x_q);
        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(weight_scale[r], x_scale),
                                    acc[r][c]);
      }
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) result[r * kTileColumns + c] = _mm512_reduce_add_ps(acc[r][c]);
  }
}

#pragma GCC pop_options
#else

// Portable form of the same arithmetic for targets without an int8 dot-product instruction.
template <int kRows, int kColumns>
void Int8TileImpl(const PackedWeights& weights, const PackedActivation* columns, float* result) {
  const int64_t padded_k = weights.padded_k;
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* weight_q = weights.q + r * padded_k;
    const float* weight_scale = weights.scale + r * padded_k / kLaneWidth;
    for (int c = 0; c < kColumns; ++c) {
      const PackedActivation& x = columns[c];
      float total = 0.0f;
      for (int64_t lane = 0; lane < padded_k / kLaneWidth; ++lane) {
        int32_t dot = x.correction[lane];
        for (int e = 0; e < kLaneWidth; ++e) {
          dot += weight_q[lane * kLaneWidth + e] * x.q[lane * kLaneWidth + e];
        }
        total += static_cast<float>(dot) * (weight_scale[lane] * x.scale[lane]);
      }
      result[r * kTileColumns + c] = total;
    }
  }
}

#endif  // HWY_TARGET == HWY_AVX3_DL

template <int kRows, int kColumns>
void Int8TileWithMins(const PackedWeights& weights, const PackedActivation* columns, bool has_min,
                      float* result) {
  Int8TileImpl<kRows, kColumns>(weights, columns, result);
  if (has_min) AddMinTerms<kRows, kColumns>(weights, columns, result);
}

void Int8Tile(const PackedWeights& weights, int n_rows, const PackedActivation* columns,
              int n_columns, bool has_min, float* result) {
  using Kernel = void (*)(const PackedWeights&, const PackedActivation*, bool, float*);
  static constexpr Kernel kKernels[kTileRows][kTileColumns] = {
      {Int8TileWithMins<1, 1>, Int8TileWithMins<1, 2>, Int8TileWithMins<1, 3>,
       Int8TileWithMins<1, 4>},
      {Int8TileWithMins<2, 1>, Int8TileWithMins<2, 2>, Int8TileWithMins<2, 3>,
       Int8TileWithMins<2, 4>},
      {Int8TileWithMins<3, 1>, Int8TileWithMins<3, 2>, Int8TileWithMins<3, 3>,
       Int8TileWithMins<3, 4>},
      {Int8TileWithMins<4, 1>, Int8TileWithMins<4, 2>, Int8TileWithMins<4, 3>,
       Int8TileWithMins<4, 4>},
  };
  kKernels[n_rows - 1][n_columns - 1](weights, columns, has_min, result);
}

// Float tile: each weight vector loaded is reused for kColumns columns. The tail of k that does
// not fill a vector is summed in scalar code.
template <int kRows, int kColumns>
void FloatTileImpl(const float* const* rows, const float* const* columns, int64_t k,
                   float* result) {
  const hn::ScalableTag<float> df;
  using V = hn::Vec<decltype(df)>;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  V acc[kRows][kColumns];
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) acc[r][c] = hn::Zero(df);
  }
  int64_t i = 0;
  for (; i + lanes <= k; i += lanes) {
    V weight[kRows];
    for (int r = 0; r < kRows; ++r) weight[r] = hn::LoadU(df, rows[r] + i);
    for (int c = 0; c < kColumns; ++c) {
      const V x = hn::LoadU(df, columns[c] + i);
      for (int r = 0; r < kRows; ++r) acc[r][c] = hn::MulAdd(weight[r], x, acc[r][c]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kColumns; ++c) {
      float total = hn::GetLane(hn::SumOfLanes(df, acc[r][c]));
      for (int64_t j = i; j < k; ++j) total += rows[r][j] * columns[c][j];
      result[r * kTileColumns + c] = total;
    }
  }
}

void FloatTile(const float* const* rows, int n_rows, const float* const* columns, int n_columns,
               int64_t k, float* result) {
  using Kernel = void (*)(const float* const*, const float* const*, int64_t, float*);
  static constexpr Kernel kKernels[kTileRows][kTileColumns] = {
      {FloatTileImpl<1, 1>, FloatTileImpl<1, 2>, FloatTileImpl<1, 3>, FloatTileImpl<1, 4>},
      {FloatTileImpl<2, 1>, FloatTileImpl<2, 2>, FloatTileImpl<2, 3>, FloatTileImpl<2, 4>},
      {FloatTileImpl<3, 1>, FloatTileImpl<3, 2>, FloatTileImpl<3, 3>, FloatTileImpl<3, 4>},
      {FloatTileImpl<4, 1>, FloatTileImpl<4, 2>, FloatTileImpl<4, 3>, FloatTileImpl<4, 4>},
  };
  kKernels[n_rows - 1][n_columns - 1](rows, columns, k, result);
}

template <typename Half>
void WidenImpl(const Half* src, float* dst, int64_t k) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<Half, decltype(df)> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + lanes <= k; i += lanes) hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, src + i)), df, dst + i);
  // The tail goes through one zero-padded vector.
  if (i < k) {
    HWY_ALIGN Half tail[hn::MaxLanes(df)] = {};
    HWY_ALIGN float widened[hn::MaxLanes(df)];
    std::memcpy(tail, src + i, (k - i) * sizeof(Half));
    hn::Store(hn::PromoteTo(df, hn::Load(dh, tail)), df, widened);
    std::memcpy(dst + i, widened, (k - i) * sizeof(float));
  }
}

void WidenToFloat(GgmlType type, const void* src, float* dst, int64_t k) {
  if (type == GgmlType::F16) {
    WidenImpl(static_cast<const hwy::float16_t*>(src), dst, k);
  } else {
    WidenImpl(static_cast<const hwy::bfloat16_t*>(src), dst, k);
  }
}

void RoundToHalfRow(const float* src, float* dst, int64_t k) {
  int64_t i = 0;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2 && !defined(HWY_DISABLE_F16C)
  // Highway converts with F16C here, which rounds to nearest even. Its emulation on older
  // targets truncates, so those take the scalar loop below.
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  for (; i + lanes <= k; i += lanes) {
    hn::StoreU(hn::PromoteTo(df, hn::DemoteTo(dh, hn::LoadU(df, src + i))), df, dst + i);
  }
#endif
  for (; i < k; ++i) dst[i] = RoundToHalf(src[i]);
}

// Highway 1.0.3 demotes to bfloat16 by truncation, so this rounds with integer arithmetic, which
// the compiler vectorizes.
void RoundToBfloat16Row(const float* src, float* dst, int64_t k) {
  for (int64_t i = 0; i < k; ++i) dst[i] = bf16_to_float(float_to_bf16(src[i]));
}

void RoundToType(GgmlType type, const float* src, float* dst, int64_t k) {
  if (type == GgmlType::F16) {
    RoundToHalfRow(src, dst, k);
  } else {
    RoundToBfloat16Row(src, dst, k);
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace hllm::cpu::matmul
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu::matmul {

HWY_EXPORT(QuantizeActivation);
HWY_EXPORT(Int8Tile);
HWY_EXPORT(FloatTile);
HWY_EXPORT(WidenToFloat);
HWY_EXPORT(RoundToType);
HWY_EXPORT(TargetName);

const char* kernel_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

size_t packed_activation_bytes(int64_t k) {
  const int64_t padded_k = padded_length(k);
  // Codes, lane scales and lane corrections take padded_k bytes each; min-group sums a quarter.
  const size_t bytes = static_cast<size_t>(3 * padded_k + padded_k / 4);
  return (bytes + 63) / 64 * 64;
}

PackedActivation view_activation(const void* memory, int64_t k) {
  const int64_t padded_k = padded_length(k);
  const auto* q = static_cast<const int8_t*>(memory);
  const auto* scale = reinterpret_cast<const float*>(q + padded_k);
  const auto* correction = reinterpret_cast<const int32_t*>(scale + padded_k / kLaneWidth);
  const auto* sums = reinterpret_cast<const float*>(correction + padded_k / kLaneWidth);
  return {q, scale, correction, sums};
}

void quantize_activation(const float* x, int64_t k, const WeightPacking& packing, void* memory) {
  HWY_DYNAMIC_DISPATCH(QuantizeActivation)(x, k, packing, memory);
}

void int8_tile(const PackedWeights& weights, int n_rows, const PackedActivation* columns,
               int n_columns, bool has_min, float* result) {
  HWY_DYNAMIC_DISPATCH(Int8Tile)(weights, n_rows, columns, n_columns, has_min, result);
}

void widen_to_float(GgmlType type, const void* src, float* dst, int64_t k) {
  HWY_DYNAMIC_DISPATCH(WidenToFloat)(type, src, dst, k);
}

void round_to_type(GgmlType type, const float* src, float* dst, int64_t k) {
  HWY_DYNAMIC_DISPATCH(RoundToType)(type, src, dst, k);
}

void float_tile(const float* const* rows, int n_rows, const float* const* columns, int n_columns,
                int64_t k, float* result) {
  HWY_DYNAMIC_DISPATCH(FloatTile)(rows, n_rows, columns, n_columns, k, result);
}

}  // namespace hllm::cpu::matmul
#endif  // HWY_ONCE
