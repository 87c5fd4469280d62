// Fused attention: softmax(q k^T * scale + mask) v. Each work item takes one query of one
// sequence and a few query heads that share a key/value head, and computes each head's row from
// its full list of scores. The full score matrix never exists, and each key and value row is
// converted once for the whole group of heads.
//
// A row's result depends only on the ordered list of its unmasked keys and values, not on the
// cells they occupy nor on the masked cells around them. The same prompt placed at different
// offsets of a KV cache, with the other sequences masked, therefore gives bitwise identical
// outputs. Every vector operation runs over the head dimension or over a compacted array of
// unmasked scores, never over cells, and masked keys are skipped entirely.
#include <algorithm>
#include <cstring>
#include <limits>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {
namespace {

constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();
// Largest number of query heads that one work item computes together. Larger groups are split.
constexpr int64_t kMaxGroupHeads = 16;

struct AttentionShape {
  int64_t key_dim;    // Dk
  int64_t value_dim;  // Dv
  int64_t heads;      // H
  int64_t group;      // H / Hkv query heads per key/value head
  int64_t queries;    // Tq
  int64_t keys;       // Tkv
  int64_t sequences;  // S
};

// Per-thread buffers of one work item: `heads` query heads that share one key/value head.
struct ItemBuffers {
  float* query;    // Dk per head: the query rows converted to F32
  float* key;      // Dk: one key row converted from F16/BF16
  float* value;    // Dv: one value row converted from F16/BF16
  float* output;   // Dv per head: the weighted sums of value rows
  float* weights;  // Tkv per head: scores, then softmax weights, of the unmasked keys in key order
  float* mask;     // Tkv: the mask row converted to F32

  static size_t floats(const AttentionShape& shape, int64_t heads) {
    return static_cast<size_t>(heads * (shape.key_dim + shape.value_dim + shape.keys) +
                               shape.key_dim + shape.value_dim + shape.keys);
  }

  ItemBuffers(float* base, const AttentionShape& shape, int64_t heads)
      : query(base),
        key(query + heads * shape.key_dim),
        value(key + shape.key_dim),
        output(value + shape.value_dim),
        weights(output + heads * shape.value_dim),
        mask(weights + heads * shape.keys) {}
};

bool is_masked(const float* mask_row, int64_t key) {
  return mask_row != nullptr && mask_row[key] == kNegativeInfinity;
}

// Query heads [first_head, first_head + heads) share one key/value head.
struct HeadRange {
  int64_t first_head;
  int64_t heads;
};

// Computes the output rows of query `query` in sequence `sequence` for a range of query heads
// that share one key/value head, so each key and value row is read and converted once for all of
// them. Each head's row gets the same operations in the same order as if computed alone.
void attend_heads(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                  float scale, const AttentionShape& shape, HeadRange range, int64_t query,
                  int64_t sequence, const ItemBuffers& buffers, Tensor& dst) {
  const float* query_rows[kMaxGroupHeads];
  for (int64_t h = 0; h < range.heads; ++h) {
    const RowIndex index{range.first_head + h, query, sequence};
    query_rows[h] = read_row(q, index, shape.key_dim, buffers.query + h * shape.key_dim);
  }
  const float* mask_row = nullptr;
  if (mask != nullptr) {
    const RowIndex r{query, mask->ne[2] == 1 ? 0 : sequence, 0};
    mask_row = read_row(*mask, r, shape.keys, buffers.mask);
  }
  const int64_t kv_head = range.first_head / shape.group;

  // Scores of the unmasked keys, compacted in key order. The mask is added after scaling.
  int64_t visible = 0;
  for (int64_t j = 0; j < shape.keys; ++j) {
    if (is_masked(mask_row, j)) continue;
    const float* key_row = read_row(k, RowIndex{kv_head, j, sequence}, shape.key_dim, buffers.key);
    for (int64_t h = 0; h < range.heads; ++h) {
      float score = simd::dot(query_rows[h], key_row, shape.key_dim) * scale;
      if (mask_row != nullptr) score += mask_row[j];
      buffers.weights[h * shape.keys + visible] = score;
    }
    ++visible;
  }

  // exp_shifted applies the same per-lane exponential to every element, and its lane sums see
  // the same compacted array wherever the keys sit in the cache.
  float sums[kMaxGroupHeads];
  for (int64_t h = 0; h < range.heads; ++h) {
    float* weights = buffers.weights + h * shape.keys;
    const float max_score = simd::max(weights, visible);
    sums[h] = 0.0f;
    if (max_score != kNegativeInfinity) {
      sums[h] = simd::exp_shifted(weights, max_score, weights, visible);
    }
  }

  // Weighted sums of the value rows, in key order, vectorized over the value dimension.
  std::memset(buffers.output, 0,
              static_cast<size_t>(range.heads * shape.value_dim) * sizeof(float));
  int64_t index = 0;
  for (int64_t j = 0; j < shape.keys && index < visible; ++j) {
    if (is_masked(mask_row, j)) continue;
    const float* value_row = nullptr;
    for (int64_t h = 0; h < range.heads; ++h) {
      const float weight = buffers.weights[h * shape.keys + index];
      if (weight == 0.0f) continue;  // exp underflowed, or the score was -inf
      if (value_row == nullptr) {
        value_row = read_row(v, RowIndex{kv_head, j, sequence}, shape.value_dim, buffers.value);
      }
      simd::mul_add(value_row, weight, buffers.output + h * shape.value_dim, shape.value_dim);
    }
    ++index;
  }

  // Rows with every key masked have no weights; they output zeros.
  for (int64_t h = 0; h < range.heads; ++h) {
    const float inverse = sums[h] > 0.0f ? 1.0f / sums[h] : 0.0f;
    float* out = output_row(dst, RowIndex{range.first_head + h, query, sequence});
    simd::scale(buffers.output + h * shape.value_dim, inverse, 0.0f, out, shape.value_dim);
  }
}

// Returns the query heads per work item: the whole group that shares a key/value head when that
// still leaves every thread a few items, else the largest divisor of the group that does. Down to
// one head, so that decoding one token with few key/value heads keeps every thread busy.
int64_t heads_per_item(const AttentionShape& shape, int threads) {
  const int64_t rows = shape.queries * shape.sequences * (shape.heads / shape.group);
  int64_t heads = std::min(shape.group, kMaxGroupHeads);
  while (heads > 1 && (shape.group % heads != 0 || rows * (shape.group / heads) < 4 * threads)) {
    --heads;
  }
  return heads;
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
  const int64_t heads = heads_per_item(shape, ctx.pool.size());
  ThreadBuffers thread_buffers(ctx, ItemBuffers::floats(shape, heads));

  // Work items are (head range, query, sequence), head ranges fastest so that a thread's
  // consecutive items share key/value heads.
  const int64_t ranges = shape.heads / heads;
  const int64_t items = ranges * shape.queries * shape.sequences;
  for_each_share(ctx, items, [&](int thread, int64_t begin, int64_t end) {
    const ItemBuffers buffers(thread_buffers.get(thread), shape, heads);
    for (int64_t item = begin; item < end; ++item) {
      const HeadRange range{item % ranges * heads, heads};
      const int64_t query = (item / ranges) % shape.queries;
      const int64_t sequence = item / (ranges * shape.queries);
      attend_heads(q, k, v, mask, scale, shape, range, query, sequence, buffers, dst);
    }
  });
}

}  // namespace hllm::cpu
