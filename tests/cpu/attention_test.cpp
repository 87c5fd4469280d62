#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

// Scores are float dot products of Dk <= 128 terms in [-1, 1], with a rounding error of about
// Dk * 2^-24 * |q||k| ≈ 1e-5 before the 1/sqrt(Dk) scale. The online softmax rescales float
// accumulators once per tile of 64 keys, and the outputs are weighted means of values in
// [-1, 1]. 2e-5 absolute bounds the sum of these errors with margin, and the relative term
// covers the few outputs whose magnitude is near 1.
constexpr Tolerance kAttention{2e-5, 1e-5};

struct AttentionCase {
  int64_t key_dim;
  int64_t value_dim;
  int64_t heads;
  int64_t kv_heads;
  int64_t queries;
  int64_t keys;
  int64_t sequences;
};

// A causal mask for queries at the end of the key range, with query row 0 masked entirely.
std::vector<float> causal_mask(int64_t keys, int64_t queries) {
  std::vector<float> mask(static_cast<size_t>(keys * queries));
  for (int64_t q = 0; q < queries; ++q) {
    const int64_t visible = keys - queries + q + 1;
    for (int64_t k = 0; k < keys; ++k) {
      const bool hidden = q == 0 || k >= visible;
      mask[q * keys + k] = hidden ? -std::numeric_limits<float>::infinity() : 0.0f;
    }
  }
  return mask;
}

TEST(Attention, MatchesReference) {
  const std::vector<AttentionCase> cases = {
      {64, 64, 4, 2, 5, 70, 1},     // two key tiles, the second partial
      {40, 24, 3, 3, 3, 9, 2},      // odd sizes, no grouping, two sequences
      {128, 128, 8, 1, 2, 130, 1},  // all heads share one key/value head
      {16, 16, 2, 2, 1, 1, 1},      // a single key
  };
  for (const AttentionCase& c : cases) {
    for (GgmlType kv_type : kFloatTypes) {
      for (Layout layout : kLayouts) {
        for (bool masked : {false, true}) {
          SCOPED_TRACE(fmt::format("Dk {} Dv {} H {} Hkv {} Tq {} Tkv {} S {} kv {} {} mask {}",
                                   c.key_dim, c.value_dim, c.heads, c.kv_heads, c.queries, c.keys,
                                   c.sequences, type_name(kv_type), layout_name(layout), masked));
          OpHarness h(41);
          Tensor* q = h.source(layout, GgmlType::F32, {c.key_dim, c.heads, c.queries, c.sequences});
          Tensor* k = h.source(layout, kv_type, {c.key_dim, c.kv_heads, c.keys, c.sequences});
          Tensor* v = h.source(layout, kv_type, {c.value_dim, c.kv_heads, c.keys, c.sequences});
          Tensor* mask = masked ? h.values(GgmlType::F32, {c.keys, c.queries, 1, 1},
                                           causal_mask(c.keys, c.queries))
                                : nullptr;
          const float scale = 1.0f / std::sqrt(static_cast<float>(c.key_dim));
          const OpResult result = h.run(ops::attention(h.graph(), q, k, v, mask, scale));
          EXPECT_TRUE(all_close(result.actual, result.expected, kAttention));
        }
      }
    }
  }
}

TEST(Attention, FullyMaskedRowsAreZero) {
  OpHarness h(42);
  Tensor* q = h.source(Layout::Contiguous, GgmlType::F32, {32, 4, 3, 1});
  Tensor* k = h.source(Layout::Contiguous, GgmlType::F16, {32, 2, 100, 1});
  Tensor* v = h.source(Layout::Contiguous, GgmlType::F16, {32, 2, 100, 1});
  Tensor* mask = h.values(GgmlType::F16, {100, 3, 1, 1}, causal_mask(100, 3));
  const OpResult result = h.run(ops::attention(h.graph(), q, k, v, mask, 0.2f));
  EXPECT_TRUE(all_close(result.actual, result.expected, kAttention));
  // Query 0 has no visible key, so its 4 heads x 32 values are zero, not NaN.
  for (int64_t i = 0; i < 4 * 32; ++i)
    EXPECT_EQ(result.actual[i], 0.0) << "element " << i;
}

TEST(Attention, PerSequenceMask) {
  OpHarness h(43);
  Tensor* q = h.source(Layout::Permuted, GgmlType::F32, {16, 2, 4, 2});
  Tensor* k = h.source(Layout::Contiguous, GgmlType::F32, {16, 1, 6, 2});
  Tensor* v = h.source(Layout::Contiguous, GgmlType::F32, {8, 1, 6, 2});
  std::vector<float> mask = causal_mask(6, 4);
  const std::vector<float> second(24, 0.0f);  // every key is visible to the second sequence
  mask.insert(mask.end(), second.begin(), second.end());
  Tensor* mask_tensor = h.values(GgmlType::F32, {6, 4, 2, 1}, mask);
  const OpResult result = h.run(ops::attention(h.graph(), q, k, v, mask_tensor, 0.25f));
  EXPECT_TRUE(all_close(result.actual, result.expected, kAttention));
}

}  // namespace
}  // namespace hllm::test
