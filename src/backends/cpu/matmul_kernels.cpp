// SIMD tile kernels of the matrix products, compiled once per Highway target and chosen at run
// time: activation quantization, the int8 tile for quantized weights, and the float tile for
// F32, F16 and BF16 weights.

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

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu::matmul {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Quantizes one row to int8 with a scale of max|x| / 127 per 32 elements, rounding to nearest,
// and fills the lane scales, offset corrections and min-group sums (see PackedActivation).
void QuantizeActivation(const float* x, int64_t k, int offset, void* memory) {
  const int64_t padded_k = padded_length(k);
  auto* q = static_cast<int8_t*>(memory);
  auto* scale = reinterpret_cast<float*>(q + padded_k);
  auto* correction = reinterpret_cast<int32_t*>(scale + padded_k / kLaneWidth);
  auto* sums = reinterpret_cast<float*>(correction + padded_k / kLaneWidth);

  for (int64_t block = 0; block < k / kActivationBlock; ++block) {
    const float* in = x + block * kActivationBlock;
    float max_abs = 0.0f;
    for (int i = 0; i < kActivationBlock; ++i) max_abs = std::max(max_abs, std::fabs(in[i]));
    const float d = max_abs / 127.0f;
    const float inverse = d > 0.0f ? 1.0f / d : 0.0f;
    int8_t* out = q + block * kActivationBlock;
    for (int i = 0; i < kActivationBlock; ++i) {
      out[i] = static_cast<int8_t>(std::nearbyint(in[i] * inverse));
    }
    for (int g = 0; g < kActivationBlock / kLaneWidth; ++g) {
      const int64_t lane = block * (kActivationBlock / kLaneWidth) + g;
      const int8_t* group = out + g * kLaneWidth;
      scale[lane] = d;
      correction[lane] = -offset * (group[0] + group[1] + group[2] + group[3]);
    }
    for (int g = 0; g < kActivationBlock / kMinGroup; ++g) {
      int sum = 0;
      for (int i = 0; i < kMinGroup; ++i) sum += out[g * kMinGroup + i];
      sums[block * (kActivationBlock / kMinGroup) + g] = d * static_cast<float>(sum);
    }
  }

  // Zero padding contributes nothing to any dot product.
  std::memset(q + k, 0, padded_k - k);
  std::fill(scale + k / kLaneWidth, scale + padded_k / kLaneWidth, 0.0f);
  std::fill(correction + k / kLaneWidth, correction + padded_k / kLaneWidth, 0);
  std::fill(sums + k / kMinGroup, sums + padded_k / kMinGroup, 0.0f);
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

void quantize_activation(const float* x, int64_t k, int offset, void* memory) {
  HWY_DYNAMIC_DISPATCH(QuantizeActivation)(x, k, offset, memory);
}

void int8_tile(const PackedWeights& weights, int n_rows, const PackedActivation* columns,
               int n_columns, bool has_min, float* result) {
  HWY_DYNAMIC_DISPATCH(Int8Tile)(weights, n_rows, columns, n_columns, has_min, result);
}

void widen_to_float(GgmlType type, const void* src, float* dst, int64_t k) {
  HWY_DYNAMIC_DISPATCH(WidenToFloat)(type, src, dst, k);
}

void float_tile(const float* const* rows, int n_rows, const float* const* columns, int n_columns,
                int64_t k, float* result) {
  HWY_DYNAMIC_DISPATCH(FloatTile)(rows, n_rows, columns, n_columns, k, result);
}

}  // namespace hllm::cpu::matmul
#endif  // HWY_ONCE
