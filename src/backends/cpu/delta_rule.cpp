// Gated delta rule of gated DeltaNet layers, in two forms that give the same numbers up to float
// rounding: the token-by-token recurrence and a chunked form.
//
// Per value head, with state S [dk, dv] and token t:
//   S <- exp(g_t) S
//   delta_t = beta_t (v_t - S^T k_t)
//   S <- S + k_t delta_t^T
//   o_t = scale S^T q_t
//
// Chunked form. In a chunk of n tokens with state S0 at its start and cumulative log decay
// G_t = g_1 + ... + g_t, unrolling the recurrence gives
//   delta_t = beta_t (v_t - e^{G_t} S0^T k_t) - sum_{u<t} beta_t e^{G_t - G_u} (k_t . k_u) delta_u,
// a unit lower-triangular system (I + A) Delta = beta (V - e^G K S0) with
// A[t,u] = beta_t e^{G_t - G_u} (k_t . k_u) for u < t, solved by forward substitution. Then
//   O = scale (e^G Q S0 + (M * Q K^T) Delta),  with M[t,u] = e^{G_t - G_u} for u <= t, else 0,
//   S_n = e^{G_n} S0 + (e^{G_n - G} K)^T Delta.
// All terms except the diagonal blocks of the substitution are matrix products. Solving for
// Delta once S0 is known costs fewer operations than inverting I + A per chunk, which only pays
// when chunks of one head run in parallel (on a GPU).

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/ranges.h>

#include "backends/cpu/delta_rule_internal.h"
#include "backends/cpu/kernels.h"
#include "util/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/delta_rule.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using FloatTag = hn::ScalableTag<float>;

// Log decays are clamped from below so that a decay of exactly zero (g = -inf) cannot turn
// G_t - G_u into inf - inf; exp(-1e4) is already 0 in float, so the result is unchanged.
constexpr double kMinLogDecay = -1e4;

float ReadScalar(const StridedRows& rows, int64_t t) {
  float value;
  std::memcpy(&value, rows.base + t * rows.token_stride, sizeof(float));
  return value;
}

// Copies n floats of token t into out, which is contiguous.
void GatherRow(const StridedRows& rows, int64_t t, size_t n, float* out) {
  const char* source = rows.base + t * rows.token_stride;
  if (rows.element_stride == sizeof(float)) {
    std::memcpy(out, source, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; ++i)
    std::memcpy(&out[i], source + i * rows.element_stride, sizeof(float));
}

// ---------------------------------------------------------------------------------------------
// Token-by-token recurrence.
//
// Columns of the state are independent: column j's delta and output only read column j. So each
// block of columns runs through a group of tokens on its own, and stays in L1 meanwhile (dk rows
// of 4 vectors, 32 KiB for dk = 128 with AVX-512). With
//   S^T q after the update = decay S_old^T q + (k . q) delta,
// one pass over the block per token both updates it and accumulates S^T k and S^T q for the
// next token, so every state element is loaded and stored once per token.

// S <- decay S + k delta^T over columns [j, j + kVectors * lanes); with kNext, also sets kS and
// qS to the updated block's products with the next token's key and query.
template <size_t kVectors, bool kNext, class V>
HWY_INLINE void UpdateColumns(float* state, size_t dk, size_t dv, size_t j, const float* k,
                              const float* k_next, const float* q_next, float decay, const V delta0,
                              const V delta1, const V delta2, const V delta3, V& kS0, V& kS1,
                              V& kS2, V& kS3, V& qS0, V& qS1, V& qS2, V& qS3) {
  const FloatTag d;
  const size_t lanes = hn::Lanes(d);
  const auto decay_v = hn::Set(d, decay);
  kS0 = kS1 = kS2 = kS3 = hn::Zero(d);
  qS0 = qS1 = qS2 = qS3 = hn::Zero(d);
  for (size_t i = 0; i < dk; ++i) {
    float* row = state + i * dv + j;
    const auto ki = hn::Set(d, k[i]);
    const auto s0 = hn::MulAdd(ki, delta0, hn::Mul(decay_v, hn::LoadU(d, row)));
    hn::StoreU(s0, d, row);
    V s1 = s0, s2 = s0, s3 = s0;
    if constexpr (kVectors == 4) {
      s1 = hn::MulAdd(ki, delta1, hn::Mul(decay_v, hn::LoadU(d, row + lanes)));
      s2 = hn::MulAdd(ki, delta2, hn::Mul(decay_v, hn::LoadU(d, row + 2 * lanes)));
      s3 = hn::MulAdd(ki, delta3, hn::Mul(decay_v, hn::LoadU(d, row + 3 * lanes)));
      hn::StoreU(s1, d, row + lanes);
      hn::StoreU(s2, d, row + 2 * lanes);
      hn::StoreU(s3, d, row + 3 * lanes);
    }
    if constexpr (kNext) {
      const auto k_next_i = hn::Set(d, k_next[i]);
      const auto q_next_i = hn::Set(d, q_next[i]);
      kS0 = hn::MulAdd(s0, k_next_i, kS0);
      qS0 = hn::MulAdd(s0, q_next_i, qS0);
      if constexpr (kVectors == 4) {
        kS1 = hn::MulAdd(s1, k_next_i, kS1);
        kS2 = hn::MulAdd(s2, k_next_i, kS2);
        kS3 = hn::MulAdd(s3, k_next_i, kS3);
        qS1 = hn::MulAdd(s1, q_next_i, qS1);
        qS2 = hn::MulAdd(s2, q_next_i, qS2);
        qS3 = hn::MulAdd(s3, q_next_i, qS3);
      }
    }
  }
}

// Runs columns [j, j + kVectors * lanes) through tokens [0, n) of the gathered group.
template <size_t kVectors>
HWY_INLINE void RecurrentColumns(const DeltaRuleBuffers& group, size_t n, float scale, float* state,
                                 size_t dk, size_t dv, size_t j, float* out,
                                 size_t out_token_stride) {
  static_assert(kVectors == 1 || kVectors == 4, "column blocks of 1 or 4 vectors");
  const FloatTag d;
  const size_t lanes = hn::Lanes(d);
  const float* q = group.q_group;
  const float* k = group.k_group;

  // S^T k and S^T q of the first token.
  auto kS0 = hn::Zero(d), kS1 = hn::Zero(d), kS2 = hn::Zero(d), kS3 = hn::Zero(d);
  auto qS0 = hn::Zero(d), qS1 = hn::Zero(d), qS2 = hn::Zero(d), qS3 = hn::Zero(d);
  for (size_t i = 0; i < dk; ++i) {
    const float* row = state + i * dv + j;
    const auto ki = hn::Set(d, k[i]);
    const auto qi = hn::Set(d, q[i]);
    const auto s0 = hn::LoadU(d, row);
    kS0 = hn::MulAdd(s0, ki, kS0);
    qS0 = hn::MulAdd(s0, qi, qS0);
    if constexpr (kVectors == 4) {
      const auto s1 = hn::LoadU(d, row + lanes);
      const auto s2 = hn::LoadU(d, row + 2 * lanes);
      const auto s3 = hn::LoadU(d, row + 3 * lanes);
      kS1 = hn::MulAdd(s1, ki, kS1);
      kS2 = hn::MulAdd(s2, ki, kS2);
      kS3 = hn::MulAdd(s3, ki, kS3);
      qS1 = hn::MulAdd(s1, qi, qS1);
      qS2 = hn::MulAdd(s2, qi, qS2);
      qS3 = hn::MulAdd(s3, qi, qS3);
    }
  }

  for (size_t t = 0; t < n; ++t) {
    const float decay = group.decay_group[t];
    const float beta = group.beta_group[t];
    const float* v = group.v_group + t * dv + j;

    // delta = beta v - beta decay (S_old^T k).
    const auto beta_v = hn::Set(d, beta);
    const auto minus_beta_decay = hn::Set(d, -beta * decay);
    const auto delta0 = hn::MulAdd(minus_beta_decay, kS0, hn::Mul(beta_v, hn::LoadU(d, v)));
    auto delta1 = delta0, delta2 = delta0, delta3 = delta0;
    if constexpr (kVectors == 4) {
      delta1 = hn::MulAdd(minus_beta_decay, kS1, hn::Mul(beta_v, hn::LoadU(d, v + lanes)));
      delta2 = hn::MulAdd(minus_beta_decay, kS2, hn::Mul(beta_v, hn::LoadU(d, v + 2 * lanes)));
      delta3 = hn::MulAdd(minus_beta_decay, kS3, hn::Mul(beta_v, hn::LoadU(d, v + 3 * lanes)));
    }

    // o = scale (decay S_old^T q + (k . q) delta).
    const auto scaled_decay = hn::Set(d, scale * decay);
    const auto scaled_key_query = hn::Set(d, scale * group.key_query_group[t]);
    float* o = out + t * out_token_stride + j;
    hn::StoreU(hn::MulAdd(scaled_decay, qS0, hn::Mul(scaled_key_query, delta0)), d, o);
    if constexpr (kVectors == 4) {
      hn::StoreU(hn::MulAdd(scaled_decay, qS1, hn::Mul(scaled_key_query, delta1)), d, o + lanes);
      hn::StoreU(hn::MulAdd(scaled_decay, qS2, hn::Mul(scaled_key_query, delta2)), d,
                 o + 2 * lanes);
      hn::StoreU(hn::MulAdd(scaled_decay, qS3, hn::Mul(scaled_key_query, delta3)), d,
                 o + 3 * lanes);
    }

    // S <- decay S + k delta^T, accumulating the next token's S^T k and S^T q on the way.
    if (t + 1 < n) {
      UpdateColumns<kVectors, true>(state, dk, dv, j, k + t * dk, k + (t + 1) * dk,
                                    q + (t + 1) * dk, decay, delta0, delta1, delta2, delta3, kS0,
                                    kS1, kS2, kS3, qS0, qS1, qS2, qS3);
    } else {
      UpdateColumns<kVectors, false>(state, dk, dv, j, k + t * dk, nullptr, nullptr, decay, delta0,
                                     delta1, delta2, delta3, kS0, kS1, kS2, kS3, qS0, qS1, qS2,
                                     qS3);
    }
  }
}

// The same for one column, for the dv % lanes columns that fill no vector.
void RecurrentColumnScalar(const DeltaRuleBuffers& group, size_t n, float scale, float* state,
                           size_t dk, size_t dv, size_t j, float* out, size_t out_token_stride) {
  for (size_t t = 0; t < n; ++t) {
    const float* q = group.q_group + t * dk;
    const float* k = group.k_group + t * dk;
    const float decay = group.decay_group[t];
    const float beta = group.beta_group[t];
    float kS = 0.0f, qS = 0.0f;
    for (size_t i = 0; i < dk; ++i) {
      kS += state[i * dv + j] * k[i];
      qS += state[i * dv + j] * q[i];
    }
    const float delta = beta * group.v_group[t * dv + j] - beta * decay * kS;
    out[t * out_token_stride + j] = scale * (decay * qS + group.key_query_group[t] * delta);
    for (size_t i = 0; i < dk; ++i) {
      float& s = state[i * dv + j];
      s = decay * s + k[i] * delta;
    }
  }
}

void RecurrentHead(const DeltaRuleHead& head, const DeltaRuleBuffers& buffers) {
  const size_t dk = static_cast<size_t>(head.dk), dv = static_cast<size_t>(head.dv);
  const size_t lanes = hn::Lanes(FloatTag());
  for (int64_t t0 = 0; t0 < head.n_tokens; t0 += kRecurrentGroup) {
    const size_t n = std::min<size_t>(kRecurrentGroup, head.n_tokens - t0);
    for (size_t t = 0; t < n; ++t) {
      float* q = buffers.q_group + t * dk;
      float* k = buffers.k_group + t * dk;
      GatherRow(head.q, t0 + t, dk, q);
      GatherRow(head.k, t0 + t, dk, k);
      GatherRow(head.v, t0 + t, dv, buffers.v_group + t * dv);
      buffers.decay_group[t] = std::exp(ReadScalar(head.g, t0 + t));
      buffers.beta_group[t] = ReadScalar(head.beta, t0 + t);
      float key_query = 0.0f;
      for (size_t i = 0; i < dk; ++i)
        key_query += k[i] * q[i];
      buffers.key_query_group[t] = key_query;
    }
    float* out = head.out + t0 * head.out_token_stride;
    size_t j = 0;
    for (; j + 4 * lanes <= dv; j += 4 * lanes) {
      RecurrentColumns<4>(buffers, n, head.scale, head.state, dk, dv, j, out,
                          head.out_token_stride);
    }
    for (; j + lanes <= dv; j += lanes) {
      RecurrentColumns<1>(buffers, n, head.scale, head.state, dk, dv, j, out,
                          head.out_token_stride);
    }
    for (; j < dv; ++j) {
      RecurrentColumnScalar(buffers, n, head.scale, head.state, dk, dv, j, out,
                            head.out_token_stride);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matrix products for the chunked form.

// c[kRows, kVectors * lanes] (+)= a[kRows, depth] b[depth, kVectors * lanes], row-major with
// leading dimensions in floats. The kRows x kVectors accumulators stay in registers.
template <size_t kRows, size_t kVectors>
HWY_INLINE void MatMulTile(const float* a, size_t lda, const float* b, size_t ldb, float* c,
                           size_t ldc, size_t depth, bool accumulate) {
  const FloatTag d;
  const size_t lanes = hn::Lanes(d);
  // The loops over r and x are unrolled so that sum lives in registers even without -O3.
  hn::Vec<FloatTag> sum[kRows][kVectors];
  HWY_UNROLL(4)
  for (size_t r = 0; r < kRows; ++r) {
    HWY_UNROLL(4)
    for (size_t x = 0; x < kVectors; ++x) {
      sum[r][x] = accumulate ? hn::LoadU(d, c + r * ldc + x * lanes) : hn::Zero(d);
    }
  }
  for (size_t p = 0; p < depth; ++p) {
    hn::Vec<FloatTag> b_row[kVectors];
    for (size_t x = 0; x < kVectors; ++x)
      b_row[x] = hn::LoadU(d, b + p * ldb + x * lanes);
    for (size_t r = 0; r < kRows; ++r) {
      const auto a_value = hn::Set(d, a[r * lda + p]);
      for (size_t x = 0; x < kVectors; ++x)
        sum[r][x] = hn::MulAdd(a_value, b_row[x], sum[r][x]);
    }
  }
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t x = 0; x < kVectors; ++x)
      hn::StoreU(sum[r][x], d, c + r * ldc + x * lanes);
  }
}

// Vectors per row of a tile: 4 x 4 accumulators fit the 32 vector registers of AVX-512, while
// the 16 of AVX2 and SSE hold 4 x 2 with room for the operands.
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
constexpr size_t kTileVectors = 2;
#else
constexpr size_t kTileVectors = 4;
#endif

template <size_t kRows>
void MatMulRows(const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
                size_t cols, size_t depth, bool accumulate) {
  const size_t lanes = hn::Lanes(FloatTag());
  size_t j = 0;
  for (; j + kTileVectors * lanes <= cols; j += kTileVectors * lanes) {
    MatMulTile<kRows, kTileVectors>(a, lda, b + j, ldb, c + j, ldc, depth, accumulate);
  }
  for (; j + lanes <= cols; j += lanes) {
    MatMulTile<kRows, 1>(a, lda, b + j, ldb, c + j, ldc, depth, accumulate);
  }
  for (; j < cols; ++j) {
    for (size_t r = 0; r < kRows; ++r) {
      float sum = accumulate ? c[r * ldc + j] : 0.0f;
      for (size_t p = 0; p < depth; ++p)
        sum += a[r * lda + p] * b[p * ldb + j];
      c[r * ldc + j] = sum;
    }
  }
}

// c[rows, cols] (+)= a[rows, depth] b[depth, cols], all row-major with leading dimensions in
// floats; with accumulate false c is overwritten.
void MatMul(const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
            size_t rows, size_t cols, size_t depth, bool accumulate) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    MatMulRows<4>(a + r * lda, lda, b, ldb, c + r * ldc, ldc, cols, depth, accumulate);
  }
  for (; r < rows; ++r) {
    MatMulRows<1>(a + r * lda, lda, b, ldb, c + r * ldc, ldc, cols, depth, accumulate);
  }
}

// Rows of the lower-triangular products handled per step: the substitution solves this many rows
// one by one after adding the earlier rows' contributions with one matrix product.
constexpr size_t kTriangleBlock = 4;

// x[rows, cols] += l[rows, rows] x for a strictly lower-triangular l (entries on and above the
// diagonal are ignored), in row order, so row t uses the final values of rows u < t. This solves
// (I - l) x_new = x_old by forward substitution.
void ForwardSubstitute(const float* l, size_t ldl, float* x, size_t ldx, size_t rows, size_t cols) {
  for (size_t r0 = 0; r0 < rows; r0 += kTriangleBlock) {
    const size_t block = std::min(kTriangleBlock, rows - r0);
    if (r0 > 0) MatMul(l + r0 * ldl, ldl, x, ldx, x + r0 * ldx, ldx, block, cols, r0, true);
    for (size_t t = r0 + 1; t < r0 + block; ++t) {
      MatMul(l + t * ldl + r0, ldl, x + r0 * ldx, ldx, x + t * ldx, ldx, 1, cols, t - r0, true);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Chunked form.

// Processes tokens [t0, t0 + n) of one head, n <= chunk_size; see the file comment for the
// algebra. Matrices over the chunk's tokens use leading dimension chunk_size.
void Chunk(const DeltaRuleHead& head, const DeltaRuleBuffers& buffers, int64_t t0, size_t n) {
  const size_t dk = static_cast<size_t>(head.dk), dv = static_cast<size_t>(head.dv);
  const size_t c = static_cast<size_t>(head.chunk_size);
  float* q = buffers.q_chunk;                  // [n, dk]
  float* k = buffers.k_chunk;                  // [n, dk]
  float* k_transposed = buffers.k_transposed;  // [dk, n], leading dimension c
  float* delta = buffers.delta;                // [n, dv]: v, then the right-hand side, then Delta
  float* key_state = buffers.key_state;        // [n, dv]: K S0
  float* products = buffers.products;          // [n, n]: -A, later scale M * Q K^T
  float* weights = buffers.decay_weights;      // [n, n]: M, lower triangle including the diagonal
  double* cumulative = buffers.decay_cumulative;
  float* beta = buffers.beta;
  float* state = head.state;

  double sum = 0.0;
  for (size_t t = 0; t < n; ++t) {
    GatherRow(head.q, t0 + t, dk, q + t * dk);
    GatherRow(head.k, t0 + t, dk, k + t * dk);
    GatherRow(head.v, t0 + t, dv, delta + t * dv);
    sum += std::max(static_cast<double>(ReadScalar(head.g, t0 + t)), kMinLogDecay);
    cumulative[t] = sum;
    beta[t] = ReadScalar(head.beta, t0 + t);
  }
  for (size_t t = 0; t < n; ++t) {
    for (size_t i = 0; i < dk; ++i)
      k_transposed[i * c + t] = k[t * dk + i];
  }
  // The decay from token u to token t, computed from double differences because G grows with
  // the chunk while the differences that matter may be small.
  for (size_t t = 0; t < n; ++t) {
    for (size_t u = 0; u <= t; ++u) {
      weights[t * c + u] = std::exp(static_cast<float>(cumulative[t] - cumulative[u]));
    }
  }

  // Right-hand side beta (V - e^G K S0).
  MatMul(k, dk, state, dv, key_state, dv, n, dv, dk, false);
  for (size_t t = 0; t < n; ++t) {
    const float decay = std::exp(static_cast<float>(cumulative[t]));
    float* row = delta + t * dv;
    const float* ks_row = key_state + t * dv;
    for (size_t j = 0; j < dv; ++j)
      row[j] = beta[t] * (row[j] - decay * ks_row[j]);
  }

  // Delta = (I + A)^-1 rhs, with -A stored so that the substitution only adds.
  MatMul(k, dk, k_transposed, c, products, c, n, n, dk, false);
  for (size_t t = 0; t < n; ++t) {
    for (size_t u = 0; u < t; ++u)
      products[t * c + u] *= -beta[t] * weights[t * c + u];
  }
  ForwardSubstitute(products, c, delta, dv, n, dv);

  // O = scale e^G Q S0 + (scale M * Q K^T) Delta; the upper triangle is cleared because the
  // triangular product reads up to the end of each row block.
  float* out = head.out + t0 * head.out_token_stride;
  const size_t ldo = head.out_token_stride;
  MatMul(q, dk, state, dv, out, ldo, n, dv, dk, false);
  for (size_t t = 0; t < n; ++t) {
    const float factor = head.scale * std::exp(static_cast<float>(cumulative[t]));
    for (size_t j = 0; j < dv; ++j)
      out[t * ldo + j] *= factor;
  }
  MatMul(q, dk, k_transposed, c, products, c, n, n, dk, false);
  for (size_t t = 0; t < n; ++t) {
    for (size_t u = 0; u <= t; ++u)
      products[t * c + u] *= head.scale * weights[t * c + u];
    for (size_t u = t + 1; u < n; ++u)
      products[t * c + u] = 0.0f;
  }
  for (size_t r0 = 0; r0 < n; r0 += kTriangleBlock) {
    const size_t block = std::min(kTriangleBlock, n - r0);
    MatMul(products + r0 * c, c, delta, dv, out + r0 * ldo, ldo, block, dv, r0 + block, true);
  }

  // S_n = e^{G_n} S0 + (e^{G_n - G} K)^T Delta.
  const double last = cumulative[n - 1];
  for (size_t u = 0; u < n; ++u) {
    // beta is no longer needed, so its buffer takes the per-token weights of the state update.
    beta[u] = std::exp(static_cast<float>(last - cumulative[u]));
  }
  for (size_t i = 0; i < dk; ++i) {
    for (size_t u = 0; u < n; ++u)
      k_transposed[i * c + u] *= beta[u];
  }
  const float state_decay = std::exp(static_cast<float>(last));
  for (size_t i = 0; i < dk * dv; ++i)
    state[i] *= state_decay;
  MatMul(k_transposed, c, delta, dv, state, dv, dk, dv, n, true);
}

void ChunkedHead(const DeltaRuleHead& head, const DeltaRuleBuffers& buffers) {
  for (int64_t t0 = 0; t0 < head.n_tokens; t0 += head.chunk_size) {
    const size_t n = static_cast<size_t>(std::min(head.chunk_size, head.n_tokens - t0));
    Chunk(head, buffers, t0, n);
  }
}

void RunDeltaRuleHead(const DeltaRuleHead& head) {
  DeltaRuleBuffers buffers;
  delta_rule_buffers(head.dk, head.dv, head.chunk_size, head.workspace, &buffers);
  if (head.chunk_size > 0) {
    ChunkedHead(head, buffers);
  } else {
    RecurrentHead(head, buffers);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace hllm::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu {

HWY_EXPORT(RunDeltaRuleHead);

namespace {

void check_f32(const Tensor& dst, const Tensor& tensor) {
  HLLM_CHECK(tensor.type == GgmlType::F32, "delta_rule {}: tensor '{}' must be F32, found {}",
             dst.name, tensor.name, type_name(tensor.type));
}

StridedRows rows_of(const Tensor& tensor, size_t offset, size_t token_stride) {
  return StridedRows{static_cast<const char*>(tensor.data) + offset, tensor.nb[0], token_stride};
}

}  // namespace

void run_delta_rule_head(const DeltaRuleHead& head) {
  HWY_DYNAMIC_DISPATCH(RunDeltaRuleHead)(head);
}

void compute_delta_rule(Tensor& dst, CpuContext& ctx) {
  compute_delta_rule_with_threshold(dst, ctx, kMinChunkedTokens);
}

void compute_delta_rule_with_threshold(Tensor& dst, CpuContext& ctx, int64_t min_chunked_tokens) {
  HLLM_CHECK(dst.n_src == 7, "delta_rule {}: expected 7 sources, found {}", dst.name, dst.n_src);
  const Tensor& q = *dst.src[0];
  const Tensor& k = *dst.src[1];
  const Tensor& v = *dst.src[2];
  const Tensor& g = *dst.src[3];
  const Tensor& beta = *dst.src[4];
  Tensor& state = *dst.src[5];
  const Tensor& slots = *dst.src[6];
  const DeltaRuleParams& params = dst.get<DeltaRuleParams>();

  const int64_t dk = q.ne[0], n_key_heads = q.ne[1];
  const int64_t dv = v.ne[0], n_value_heads = v.ne[1], n_tokens = v.ne[2], n_seqs = v.ne[3];
  for (const Tensor* tensor : {&q, &k, &v, &g, &beta, static_cast<const Tensor*>(&state),
                               static_cast<const Tensor*>(&dst)}) {
    check_f32(dst, *tensor);
  }
  HLLM_CHECK(k.ne == q.ne, "delta_rule {}: k shape [{}] differs from q shape [{}]", dst.name,
             fmt::join(k.ne, ", "), fmt::join(q.ne, ", "));
  HLLM_CHECK(q.ne[2] == n_tokens && q.ne[3] == n_seqs,
             "delta_rule {}: q has {} tokens x {} sequences, v has {} x {}", dst.name, q.ne[2],
             q.ne[3], n_tokens, n_seqs);
  HLLM_CHECK(n_key_heads > 0 && n_value_heads % n_key_heads == 0,
             "delta_rule {}: {} value heads are not a multiple of {} key heads", dst.name,
             n_value_heads, n_key_heads);
  for (const Tensor* per_head : {&g, &beta}) {
    HLLM_CHECK(per_head->ne[0] == n_value_heads && per_head->ne[1] == n_tokens &&
                   per_head->ne[2] == n_seqs,
               "delta_rule {}: '{}' has shape [{}], expected [{}, {}, {}]", dst.name,
               per_head->name, fmt::join(per_head->ne, ", "), n_value_heads, n_tokens, n_seqs);
  }
  HLLM_CHECK(state.ne[0] == dk * dv * n_value_heads && state.nb[0] == sizeof(float),
             "delta_rule {}: state '{}' must have contiguous rows of {} floats, found [{}]",
             dst.name, state.name, dk * dv * n_value_heads, fmt::join(state.ne, ", "));
  HLLM_CHECK(dst.ne == v.ne && dst.nb[0] == sizeof(float),
             "delta_rule {}: output shape [{}] must equal v shape [{}] with contiguous rows",
             dst.name, fmt::join(dst.ne, ", "), fmt::join(v.ne, ", "));
  HLLM_CHECK(params.chunk_size >= 0 && params.chunk_size <= 4096,
             "delta_rule {}: chunk size {} outside 0..4096", dst.name, params.chunk_size);

  const std::vector<int32_t> slot_of = read_state_slots(dst, slots, state, n_seqs);

  const bool chunked = params.chunk_size > 0 && n_tokens >= min_chunked_tokens;
  const int64_t chunk_size = chunked ? params.chunk_size : 0;
  const size_t workspace_floats = delta_rule_buffers(dk, dv, chunk_size, nullptr, nullptr);
  const int n_threads = ctx.pool.size();
  float* workspace = static_cast<float*>(ctx.scratch(workspace_floats * sizeof(float) * n_threads));
  const int64_t heads_per_key = n_value_heads / n_key_heads;
  const int64_t n_jobs = n_seqs * n_value_heads;

  ctx.pool.run([&](int ith, int nth) {
    for (int64_t job = ith; job < n_jobs; job += nth) {
      const int64_t s = job / n_value_heads, h = job % n_value_heads;
      const int64_t key_head = h / heads_per_key;
      DeltaRuleHead head;
      head.q = rows_of(q, key_head * q.nb[1] + s * q.nb[3], q.nb[2]);
      head.k = rows_of(k, key_head * k.nb[1] + s * k.nb[3], k.nb[2]);
      head.v = rows_of(v, h * v.nb[1] + s * v.nb[3], v.nb[2]);
      head.g = rows_of(g, h * g.nb[0] + s * g.nb[2], g.nb[1]);
      head.beta = rows_of(beta, h * beta.nb[0] + s * beta.nb[2], beta.nb[1]);
      head.state =
          reinterpret_cast<float*>(static_cast<char*>(state.data) + slot_of[s] * state.nb[1]) +
          h * dk * dv;
      head.out =
          reinterpret_cast<float*>(static_cast<char*>(dst.data) + h * dst.nb[1] + s * dst.nb[3]);
      head.out_token_stride = dst.nb[2] / sizeof(float);
      head.dk = dk;
      head.dv = dv;
      head.n_tokens = n_tokens;
      head.scale = params.scale;
      head.chunk_size = chunk_size;
      head.workspace = workspace + workspace_floats * ith;
      run_delta_rule_head(head);
    }
  });
}

}  // namespace hllm::cpu
#endif  // HWY_ONCE
