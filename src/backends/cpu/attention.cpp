// Fused attention: softmax(q k^T * scale + mask) v for every query row, computed with an online
// softmax over tiles of keys so that the full score matrix never exists. Query heads that share a
// key/value head are processed together, so each key and value row is read (and converted from
// F16/BF16) once per group instead of once per head.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {
namespace {

constexpr int64_t kKeyTile = 64;  // keys scored per step of the online softmax
constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

struct AttentionShape {
  int64_t key_dim;    // Dk
  int64_t value_dim;  // Dv
  int64_t heads;      // H
  int64_t kv_heads;   // Hkv
  int64_t group;      // H / Hkv query heads per key/value head
  int64_t queries;    // Tq
  int64_t keys;       // Tkv
  int64_t sequences;  // S
};

// Running state of the online softmax for one query head: the maximum score so far, the sum of
// exp(score - max) and the matching weighted sum of value rows.
struct HeadState {
  float max;
  float sum;
  float* acc;  // value_dim floats
};

// Floats of per-thread scratch for one work item.
size_t scratch_floats(const AttentionShape& shape) {
  return static_cast<size_t>(shape.group * (shape.key_dim + shape.value_dim + kKeyTile) +
                             kKeyTile * (shape.key_dim + shape.value_dim) + shape.keys);
}

// Adds one tile of keys to a head's state. scores contains the tile's scaled, masked scores and
// is overwritten with their weights.
void accumulate_tile(HeadState& state, float* scores, const float* const* value_rows, int64_t count,
                     int64_t value_dim) {
  const float tile_max = simd::max(scores, count);
  if (tile_max == kNegativeInfinity) return;  // every key of the tile is masked
  const float new_max = std::max(state.max, tile_max);
  if (state.max != kNegativeInfinity && new_max != state.max) {
    const float correction = std::exp(state.max - new_max);
    state.sum *= correction;
    simd::scale(state.acc, correction, 0.0f, state.acc, value_dim);
  }
  state.max = new_max;
  state.sum += simd::exp_shifted(scores, new_max, scores, count);
  for (int64_t j = 0; j < count; ++j) {
    if (scores[j] != 0.0f) simd::mul_add(value_rows[j], scores[j], state.acc, value_dim);
  }
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
  shape.kv_heads = k.ne[1];
  shape.group = shape.heads / shape.kv_heads;
  shape.queries = q.ne[2];
  shape.keys = k.ne[2];
  shape.sequences = q.ne[3];
  ThreadBuffers buffers(ctx, scratch_floats(shape));

  // NOTE: work is split over (query, key/value head, sequence) items. A single decoded token
  // with few key/value heads therefore keeps only that many threads busy. Splitting the keys
  // across threads and merging the partial softmax states would lift that limit.
  const int64_t items = shape.queries * shape.kv_heads * shape.sequences;
  for_each_share(ctx, items, [&](int thread, int64_t begin, int64_t end) {
    float* query_rows = buffers.get(thread);                         // group * Dk
    float* accumulators = query_rows + shape.group * shape.key_dim;  // group * Dv
    float* scores = accumulators + shape.group * shape.value_dim;    // group * tile
    float* key_buffer = scores + shape.group * kKeyTile;             // tile * Dk
    float* value_buffer = key_buffer + kKeyTile * shape.key_dim;     // tile * Dv
    float* mask_buffer = value_buffer + kKeyTile * shape.value_dim;  // Tkv
    const float* key_rows[kKeyTile];
    const float* value_rows[kKeyTile];
    std::vector<HeadState> heads(static_cast<size_t>(shape.group));

    for (int64_t item = begin; item < end; ++item) {
      const int64_t kv_head = item % shape.kv_heads;
      const int64_t query = (item / shape.kv_heads) % shape.queries;
      const int64_t sequence = item / (shape.kv_heads * shape.queries);

      for (int64_t j = 0; j < shape.group; ++j) {
        const RowIndex r{kv_head * shape.group + j, query, sequence};
        float* row = query_rows + j * shape.key_dim;
        const float* source = read_row(q, r, shape.key_dim, row);
        if (source != row) std::memcpy(row, source, shape.key_dim * sizeof(float));
        heads[j] = HeadState{kNegativeInfinity, 0.0f, accumulators + j * shape.value_dim};
        std::fill(heads[j].acc, heads[j].acc + shape.value_dim, 0.0f);
      }
      const float* mask_row = nullptr;
      if (mask != nullptr) {
        const RowIndex r{query, mask->ne[2] == 1 ? 0 : sequence, 0};
        mask_row = read_row(*mask, r, shape.keys, mask_buffer);
      }

      for (int64_t start = 0; start < shape.keys; start += kKeyTile) {
        const int64_t count = std::min(kKeyTile, shape.keys - start);
        if (mask_row != nullptr && simd::max(mask_row + start, count) == kNegativeInfinity) {
          continue;  // causal masks hide whole tiles of future keys
        }
        for (int64_t j = 0; j < count; ++j) {
          const RowIndex r{kv_head, start + j, sequence};
          key_rows[j] = read_row(k, r, shape.key_dim, key_buffer + j * shape.key_dim);
          value_rows[j] = read_row(v, r, shape.value_dim, value_buffer + j * shape.value_dim);
        }
        for (int64_t h = 0; h < shape.group; ++h) {
          float* head_scores = scores + h * kKeyTile;
          const float* query_row = query_rows + h * shape.key_dim;
          for (int64_t j = 0; j < count; ++j) {
            // The mask is added after scaling, so -inf entries stay -inf.
            head_scores[j] = simd::dot(query_row, key_rows[j], shape.key_dim) * scale;
            if (mask_row != nullptr) head_scores[j] += mask_row[start + j];
          }
          accumulate_tile(heads[h], head_scores, value_rows, count, shape.value_dim);
        }
      }

      for (int64_t j = 0; j < shape.group; ++j) {
        float* out = output_row(dst, RowIndex{kv_head * shape.group + j, query, sequence});
        // Rows with every key masked have no weights; they output zeros.
        const float inverse = heads[j].sum > 0.0f ? 1.0f / heads[j].sum : 0.0f;
        simd::scale(heads[j].acc, inverse, 0.0f, out, shape.value_dim);
      }
    }
  });
}

}  // namespace hllm::cpu
