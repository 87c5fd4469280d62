// Work description of one (sequence, value head) pair of the gated delta rule, shared by the
// SIMD code that delta_rule.cpp compiles once per Highway target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "graph/tensor.h"
#include "util/error.h"

namespace hllm::cpu {

// Strided float rows: element i of token t is at base + i * element_stride + t * token_stride
// (strides in bytes, so any view of an F32 tensor fits).
struct StridedRows {
  const char* base = nullptr;
  size_t element_stride = 0;
  size_t token_stride = 0;
};

struct DeltaRuleHead {
  StridedRows q;                // [dk] per token, the key head this value head shares
  StridedRows k;                // [dk] per token
  StridedRows v;                // [dv] per token
  StridedRows g;                // one log decay per token (element_stride unused)
  StridedRows beta;             // one write strength per token (element_stride unused)
  float* state = nullptr;       // [dk, dv], dv fastest, updated in place
  float* out = nullptr;         // [dv] per token, contiguous within a token
  size_t out_token_stride = 0;  // floats between consecutive tokens of out
  int64_t dk = 0;
  int64_t dv = 0;
  int64_t n_tokens = 0;
  float scale = 1.0f;
  // Tokens per chunk of the chunked form; 0 runs the token-by-token recurrence.
  int64_t chunk_size = 0;
  float* workspace = nullptr;  // 64-byte aligned, delta_rule_buffers(...) floats
};

// Sequences at least this long use the chunked form when the op allows it (chunk_size > 0).
// bench_delta_rule --benchmark_filter=Head, one head with dk = dv = 128 on one thread of an
// AMD EPYC with AVX-512 (2 cores shared with other jobs, so +-10%), CPU microseconds:
//   T            1     2     4     8    16    32    64   128   512
//   recurrence  2.3   2.8   5.5  10.6  21.3  41.9  85.2   172   859
//   chunk 16    3.3   5.4   8.5  20.2  20.9  41.3  83.3   170   771
//   chunk 64    3.4   5.5   9.1  21.7  21.0  44.4   107   216   980
// The recurrence does one fused pass over the state per token and runs near the FMA peak, so the
// chunked form only ties it: from 16 tokens with 16-token chunks, and 64-token chunks lose
// 20-25% to their n^2 terms. The chunked form is used from 16 tokens, where it is no slower.
// NOTE: with chunk_size 64 the recurrence would be faster for prompts; 16 suits this CPU.
constexpr int64_t kMinChunkedTokens = 16;

// Tokens whose rows the recurrence gathers at once. Each block of state columns then runs through
// all of them while it stays in L1.
constexpr size_t kRecurrentGroup = 64;

// Per-thread scratch buffers of one DeltaRuleHead, each starting on a 64-byte boundary.
struct DeltaRuleBuffers {
  // Token-by-token recurrence, g = kRecurrentGroup tokens at a time.
  float* q_group = nullptr;          // [g, dk]
  float* k_group = nullptr;          // [g, dk]
  float* v_group = nullptr;          // [g, dv]
  float* decay_group = nullptr;      // [g]: exp(g_t)
  float* beta_group = nullptr;       // [g]
  float* key_query_group = nullptr;  // [g]: k_t . q_t
  // Chunked form, c = chunk_size.
  float* q_chunk = nullptr;            // [c, dk]
  float* k_chunk = nullptr;            // [c, dk]
  float* k_transposed = nullptr;       // [dk, c]
  float* delta = nullptr;              // [c, dv]
  float* key_state = nullptr;          // [c, dv]
  float* products = nullptr;           // [c, c]: -A, then scale M * Q K^T
  float* decay_weights = nullptr;      // [c, c]: M, the decay from token u to token t
  double* decay_cumulative = nullptr;  // [c]
  float* beta = nullptr;               // [c]
};

// Splits base into DeltaRuleBuffers and returns the floats they take; with base == nullptr it
// only counts, so callers size the scratch memory with the same function.
inline size_t delta_rule_buffers(int64_t dk, int64_t dv, int64_t chunk_size, float* base,
                                 DeltaRuleBuffers* buffers) {
  size_t used = 0;
  auto take = [&](size_t n_floats) {
    float* start = base != nullptr ? base + used : nullptr;
    used += (n_floats + 15) / 16 * 16;
    return start;
  };
  const size_t k = static_cast<size_t>(dk), v = static_cast<size_t>(dv);
  DeltaRuleBuffers b;
  const size_t g = kRecurrentGroup;
  b.q_group = take(g * k);
  b.k_group = take(g * k);
  b.v_group = take(g * v);
  b.decay_group = take(g);
  b.beta_group = take(g);
  b.key_query_group = take(g);
  if (chunk_size > 0) {
    const size_t c = static_cast<size_t>(chunk_size);
    b.q_chunk = take(c * k);
    b.k_chunk = take(c * k);
    b.k_transposed = take(k * c);
    b.delta = take(c * v);
    b.key_state = take(c * v);
    b.products = take(c * c);
    b.decay_weights = take(c * c);
    b.decay_cumulative = reinterpret_cast<double*>(take(2 * c));
    b.beta = take(c);
  }
  if (buffers != nullptr) *buffers = b;
  return used;
}

// Runs one head on the best SIMD target of this CPU: the chunked form when head.chunk_size > 0,
// else the recurrence. compute_delta_rule picks the form; benchmarks call this to time each.
void run_delta_rule_head(const DeltaRuleHead& head);

// compute_delta_rule with the form chosen by min_chunked_tokens in place of the tuned default:
// sequences of at least that many tokens use the chunked form when chunk_size > 0. Tests use it
// to run the chunked form on short sequences.
void compute_delta_rule_with_threshold(Tensor& dst, CpuContext& ctx, int64_t min_chunked_tokens);

// Reads the state slot of each of n_seqs sequences from the I32 tensor slots and checks that each
// exists in state (one slot per column) and is used once, because sequences update their slots
// concurrently. Shared by the recurrent-layer ops, delta_rule and ssm_conv.
inline std::vector<int32_t> read_state_slots(const Tensor& dst, const Tensor& slots,
                                             const Tensor& state, int64_t n_seqs) {
  HLLM_CHECK(slots.type == GgmlType::I32 && slots.ne[0] == n_seqs,
             "{}: slots '{}' must be I32 with {} entries, found {} with {}", dst.name, slots.name,
             n_seqs, type_name(slots.type), slots.ne[0]);
  std::vector<int32_t> slot_of(static_cast<size_t>(n_seqs));
  for (int64_t s = 0; s < n_seqs; ++s) {
    std::memcpy(&slot_of[s], static_cast<const char*>(slots.data) + s * slots.nb[0],
                sizeof(int32_t));
    HLLM_CHECK(slot_of[s] >= 0 && slot_of[s] < state.ne[1],
               "{}: sequence {} uses state slot {}, but state '{}' has {} slots", dst.name, s,
               slot_of[s], state.name, state.ne[1]);
    for (int64_t other = 0; other < s; ++other) {
      HLLM_CHECK(slot_of[other] != slot_of[s], "{}: sequences {} and {} share state slot {}",
                 dst.name, other, s, slot_of[s]);
    }
  }
  return slot_of;
}

}  // namespace hllm::cpu
