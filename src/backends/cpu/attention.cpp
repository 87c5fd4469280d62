// Fused attention: softmax(q k^T * scale + mask) v, computed one (query head, query, sequence)
// row at a time from the row's full list of scores, so the full score matrix never exists.
//
// A row's result depends only on the ordered list of its unmasked keys and values, not on the
// cells they occupy nor on the masked cells around them. The same prompt placed at different
// offsets of a KV cache, with the other sequences masked, therefore gives bitwise identical
// outputs. Every vector operation runs over the head dimension or over a compacted array of
// unmasked scores, never over cells, and masked keys are skipped entirely.
#include <cstring>
#include <limits>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {
namespace {

constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

struct AttentionShape {
  int64_t key_dim;    // Dk
  int64_t value_dim;  // Dv
  int64_t heads;      // H
  int64_t group;      // H / Hkv query heads per key/value head
  int64_t queries;    // Tq
  int64_t keys;       // Tkv
  int64_t sequences;  // S
};

// Per-thread buffers of one work item, carved out of one scratch block.
struct RowBuffers {
  float* query;    // Dk: the query row converted to F32
  float* key;      // Dk: one key row converted from F16/BF16
  float* value;    // Dv: one value row converted from F16/BF16
  float* output;   // Dv: the weighted sum of value rows
  float* weights;  // Tkv: scores, then softmax weights, of the unmasked keys in key order
  float* mask;     // Tkv: the mask row converted to F32

  static size_t floats(const AttentionShape& shape) {
    return static_cast<size_t>(2 * shape.key_dim + 2 * shape.value_dim + 2 * shape.keys);
  }

  explicit RowBuffers(float* base, const AttentionShape& shape)
      : query(base),
        key(query + shape.key_dim),
        value(key + shape.key_dim),
        output(value + shape.value_dim),
        weights(output + shape.value_dim),
        mask(weights + shape.keys) {}
};

bool is_masked(const float* mask_row, int64_t key) {
  return mask_row != nullptr && mask_row[key] == kNegativeInfinity;
}

// Computes one output row: head `head` of query `query` in sequence `sequence`.
void attend_row(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, float scale,
                const AttentionShape& shape, int64_t head, int64_t query, int64_t sequence,
                const RowBuffers& buffers, float* out) {
  const RowIndex query_index{head, query, sequence};
  const float* query_row = read_row(q, query_index, shape.key_dim, buffers.query);
  const float* mask_row = nullptr;
  if (mask != nullptr) {
    const RowIndex r{query, mask->ne[2] == 1 ? 0 : sequence, 0};
    mask_row = read_row(*mask, r, shape.keys, buffers.mask);
  }
  const int64_t kv_head = head / shape.group;

  // Scores of the unmasked keys, compacted in key order. The mask is added after scaling.
  int64_t visible = 0;
  for (int64_t j = 0; j < shape.keys; ++j) {
    if (is_masked(mask_row, j)) continue;
    const float* key_row = read_row(k, RowIndex{kv_head, j, sequence}, shape.key_dim, buffers.key);
    float score = simd::dot(query_row, key_row, shape.key_dim) * scale;
    if (mask_row != nullptr) score += mask_row[j];
    buffers.weights[visible++] = score;
  }

  // exp_shifted applies the same per-lane exponential to every element, and its lane sums see
  // the same compacted array wherever the keys sit in the cache.
  const float max_score = simd::max(buffers.weights, visible);
  float sum = 0.0f;
  if (max_score != kNegativeInfinity) {
    sum = simd::exp_shifted(buffers.weights, max_score, buffers.weights, visible);
  }

  // Weighted sum of the value rows, in key order, vectorized over the value dimension.
  std::memset(buffers.output, 0, static_cast<size_t>(shape.value_dim) * sizeof(float));
  int64_t index = 0;
  for (int64_t j = 0; j < shape.keys && index < visible; ++j) {
    if (is_masked(mask_row, j)) continue;
    const float weight = buffers.weights[index++];
    if (weight == 0.0f) continue;  // exp underflowed, or the score was -inf
    const float* value_row =
        read_row(v, RowIndex{kv_head, j, sequence}, shape.value_dim, buffers.value);
    simd::mul_add(value_row, weight, buffers.output, shape.value_dim);
  }

  // Rows with every key masked have no weights; they output zeros.
  const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
  simd::scale(buffers.output, inverse, 0.0f, out, shape.value_dim);
}

}  // namespace

void compute_attention(Tensor& dst, CpuContext& ctx) {
  const Tensor& q = *dst.src[0];
  const Tensor& k = *dst.src[1];
  const Tensor& v = *dst.src[2];
  const Tensor* mask = dst.n_src > 3 ? dst.src[3] : nullptr;
  const float scale = dst.get<AttentionParams>().scale;
  AttentionShape shape{};
  shape.key_dim = q.ne[0];
  shape.value_dim = v.ne[0];
  shape.heads = q.ne[1];
  shape.group = shape.heads / k.ne[1];
  shape.queries = q.ne[2];
  shape.keys = k.ne[2];
  shape.sequences = q.ne[3];
  ThreadBuffers thread_buffers(ctx, RowBuffers::floats(shape));

  // Work items are (query head, query, sequence) rows, head fastest so that a thread's
  // consecutive rows share key/value heads. A decoded token thus still has H items to share.
  // NOTE: each query head reads (and converts from F16/BF16) its key and value rows itself, so
  // a group of H / Hkv heads reads them H / Hkv times instead of once.
  const int64_t items = shape.heads * shape.queries * shape.sequences;
  for_each_share(ctx, items, [&](int thread, int64_t begin, int64_t end) {
    const RowBuffers buffers(thread_buffers.get(thread), shape);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t head = item % shape.heads;
      const int64_t query = (item / shape.heads) % shape.queries;
      const int64_t sequence = item / (shape.heads * shape.queries);
      float* out = output_row(dst, RowIndex{head, query, sequence});
      attend_row(q, k, v, mask, scale, shape, head, query, sequence, buffers, out);
    }
  });
}

}  // namespace hllm::cpu
