#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

// Scores are float dot products of Dk <= 128 terms in [-1, 1], with a rounding error of about
// Dk * 2^-24 * |q||k| ≈ 1e-5 before the 1/sqrt(Dk) scale. The softmax weights and their sum
// are float, and the outputs are weighted means of values in [-1, 1] accumulated in float over
// up to 130 keys. 2e-5 absolute bounds the sum of these errors with margin, and the relative
// term covers the few outputs whose magnitude is near 1.
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
      {64, 64, 4, 2, 5, 70, 1},     // 70 keys, no multiple of the vector width
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

// Where the keys of one sequence sit in a KV cache of `cells` cells: key i is in cell
// offset + i * stride, and every other cell contains another sequence's key, masked.
struct Placement {
  int64_t cells;
  int64_t offset;
  int64_t stride;
};

// Keys, values and queries of one sequence, in logical order, shared by every placement.
struct PlacedCase {
  int64_t key_dim = 40;  // not a multiple of the vector width, so dot products have a tail
  int64_t value_dim = 24;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t queries = 3;
  int64_t keys = 29;
  std::vector<float> query_values;  // [Dk, H, Tq]
  std::vector<float> key_values;    // [Dk, Hkv, keys]
  std::vector<float> value_values;  // [Dv, Hkv, keys]

  // Query t attends to the first keys - 4t keys, like a causal mask over the sequence.
  int64_t visible_keys(int64_t query) const { return keys - 4 * query; }
};

std::vector<float> uniform_values(std::mt19937& rng, int64_t count, float low, float high) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(static_cast<size_t>(count));
  for (float& x : values)
    x = distribution(rng);
  return values;
}

// Runs attention for the case's keys placed in a cache as p describes. Filler cells get random
// keys and values of a larger range, different for every placement.
OpResult run_placed(const PlacedCase& c, const Placement& p, GgmlType kv_type, GgmlType mask_type,
                    uint32_t filler_seed) {
  OpHarness h(filler_seed);
  std::vector<float> keys = uniform_values(h.rng(), c.key_dim * c.kv_heads * p.cells, -4, 4);
  std::vector<float> values = uniform_values(h.rng(), c.value_dim * c.kv_heads * p.cells, -4, 4);
  const float kHidden = -std::numeric_limits<float>::infinity();
  std::vector<float> mask(static_cast<size_t>(p.cells * c.queries), kHidden);
  for (int64_t i = 0; i < c.keys; ++i) {
    const int64_t cell = p.offset + i * p.stride;
    const int64_t key_row = c.key_dim * c.kv_heads;
    const int64_t value_row = c.value_dim * c.kv_heads;
    std::copy_n(c.key_values.begin() + i * key_row, key_row, keys.begin() + cell * key_row);
    std::copy_n(c.value_values.begin() + i * value_row, value_row,
                values.begin() + cell * value_row);
    for (int64_t t = 0; t < c.queries; ++t) {
      if (i < c.visible_keys(t)) mask[t * p.cells + cell] = 0.0f;
    }
  }
  Tensor* q = h.values(GgmlType::F32, {c.key_dim, c.heads, c.queries, 1}, c.query_values);
  Tensor* k = h.values(kv_type, {c.key_dim, c.kv_heads, p.cells, 1}, keys);
  Tensor* v = h.values(kv_type, {c.value_dim, c.kv_heads, p.cells, 1}, values);
  Tensor* mask_tensor = h.values(mask_type, {p.cells, c.queries, 1, 1}, mask);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.key_dim));
  return h.run(ops::attention(h.graph(), q, k, v, mask_tensor, scale));
}

// Succeeds when both outputs hold the same floats, bit for bit.
::testing::AssertionResult bitwise_equal(const std::vector<double>& actual,
                                         const std::vector<double>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "output has " << actual.size() << " elements, expected " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const float a = static_cast<float>(actual[i]);
    const float e = static_cast<float>(expected[i]);
    if (std::memcmp(&a, &e, sizeof(float)) != 0) {
      return ::testing::AssertionFailure()
             << fmt::format("element {} differs: expected {:.9g}, actual {:.9g}", i, e, a);
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Attention, IndependentOfCachePlacement) {
  PlacedCase c;
  std::mt19937 rng(44);
  c.query_values = uniform_values(rng, c.key_dim * c.heads * c.queries, -1, 1);
  c.key_values = uniform_values(rng, c.key_dim * c.kv_heads * c.keys, -1, 1);
  c.value_values = uniform_values(rng, c.value_dim * c.kv_heads * c.keys, -1, 1);

  // Offsets on both sides of a 64-cell boundary, keys packed together or spread over every
  // other cell, and caches of different sizes.
  std::vector<Placement> placements;
  for (int64_t cells : {37, 64, 130}) {
    for (int64_t offset : {0, 1, 63, 64, 100}) {
      for (int64_t stride : {1, 2}) {
        if (offset + (c.keys - 1) * stride < cells) placements.push_back({cells, offset, stride});
      }
    }
  }
  ASSERT_EQ(placements.size(), 15u);

  for (GgmlType kv_type : kFloatTypes) {
    for (GgmlType mask_type : {GgmlType::F32, GgmlType::F16}) {
      const Placement& first = placements.front();
      const OpResult baseline = run_placed(c, first, kv_type, mask_type, 100);
      for (size_t i = 0; i < placements.size(); ++i) {
        const Placement& p = placements[i];
        SCOPED_TRACE(fmt::format("kv {} mask {} cells {} offset {} stride {}", type_name(kv_type),
                                 type_name(mask_type), p.cells, p.offset, p.stride));
        const OpResult result = run_placed(c, p, kv_type, mask_type, 101 + i);
        EXPECT_TRUE(all_close(result.actual, result.expected, kAttention));
        EXPECT_TRUE(bitwise_equal(result.actual, baseline.actual))
            << "compared with cells " << first.cells << " offset " << first.offset << " stride "
            << first.stride;
      }
    }
  }
}

// Heads that share a key/value head are computed together in groups whose size depends on the
// thread count (one head per item when threads outnumber the rows). Each head's output must not
// depend on that grouping.
TEST(Attention, HeadGroupingKeepsBits) {
  for (int64_t queries : {1, 3, 40}) {
    SCOPED_TRACE(fmt::format("{} queries", queries));
    const AttentionCase c{64, 48, 16, 2, queries, 70, 1};
    OpHarness h(43);
    Tensor* q = h.source(Layout::Contiguous, GgmlType::F32, {c.key_dim, c.heads, c.queries, 1});
    Tensor* k = h.source(Layout::Contiguous, GgmlType::F16, {c.key_dim, c.kv_heads, c.keys, 1});
    Tensor* v = h.source(Layout::Contiguous, GgmlType::F16, {c.value_dim, c.kv_heads, c.keys, 1});
    Tensor* mask =
        h.values(GgmlType::F32, {c.keys, c.queries, 1, 1}, causal_mask(c.keys, c.queries));
    Tensor* out = ops::attention(h.graph(), q, k, v, mask, 0.125f);
    const OpResult one_thread = h.run(out, 1);
    const OpResult many_threads = h.run(out, 8);
    EXPECT_TRUE(all_close(one_thread.actual, one_thread.expected, kAttention));
    EXPECT_TRUE(bitwise_equal(one_thread.actual, many_threads.actual));
  }
}

}  // namespace
}  // namespace hllm::test
