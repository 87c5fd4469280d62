#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

// exp is accurate to 1 ulp, the float sum of n <= 200 terms to about n * 2^-24 ≈ 1.2e-5
// relative in the worst case, and the division adds one rounding. The absolute term covers
// probabilities near zero.
constexpr Tolerance kSoftMax{1e-8, 2e-5};

// A mask whose entries are 0 or -inf, with row `masked_row` masked entirely.
std::vector<float> random_mask(std::mt19937& rng, int64_t columns, int64_t rows,
                               int64_t masked_row) {
  std::vector<float> mask(static_cast<size_t>(columns * rows));
  std::bernoulli_distribution hidden(0.3);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      const bool masked = r == masked_row || hidden(rng);
      mask[r * columns + c] = masked ? -std::numeric_limits<float>::infinity() : 0.0f;
    }
  }
  return mask;
}

TEST(SoftMax, MatchesReference) {
  const std::vector<Shape> shapes = {
      {1, 1, 1, 1}, {7, 3, 1, 1}, {16, 4, 2, 1}, {33, 5, 3, 2}, {200, 2, 1, 1}};
  for (GgmlType type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      for (const Shape& shape : shapes) {
        SCOPED_TRACE(describe_case(type, shape, layout));
        OpHarness h(31);
        Tensor* x = h.source(layout, type, shape, -5.0f, 5.0f);
        const OpResult result = h.run(ops::soft_max(h.graph(), x, nullptr, 0.7f));
        EXPECT_TRUE(all_close(result.actual, result.expected, kSoftMax));
      }
    }
  }
}

TEST(SoftMax, MaskBroadcastsAndMaskedRowsAreZero) {
  for (GgmlType mask_type : {GgmlType::F32, GgmlType::F16}) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(fmt::format("mask {} {}", type_name(mask_type), layout_name(layout)));
      OpHarness h(32);
      const Shape shape{37, 5, 4, 2};
      Tensor* x = h.source(layout, GgmlType::F32, shape, -5.0f, 5.0f);
      // The mask [37, 5, 2] repeats over dimension 2 and is shared by both entries of dim 3.
      Tensor* mask = h.values(mask_type, {37, 5, 2, 1}, random_mask(h.rng(), 37, 10, 3));
      const OpResult result = h.run(ops::soft_max(h.graph(), x, mask, 0.5f));
      EXPECT_TRUE(all_close(result.actual, result.expected, kSoftMax));
      // Row 3 of the first mask plane is all -inf: rows (3, i2 even) output zeros.
      for (int64_t i0 = 0; i0 < 37; ++i0)
        EXPECT_EQ(result.actual[3 * 37 + i0], 0.0);
    }
  }
}

TEST(SoftMax, RowsSumToOne) {
  OpHarness h(33);
  Tensor* x = h.source(Layout::Contiguous, GgmlType::F32, {1000, 4, 1, 1}, -20.0f, 20.0f);
  const OpResult result = h.run(ops::soft_max(h.graph(), x));
  for (int64_t row = 0; row < 4; ++row) {
    double sum = 0.0;
    for (int64_t i = 0; i < 1000; ++i)
      sum += result.actual[row * 1000 + i];
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << row;  // 1000 float roundings of terms <= 1
  }
}

}  // namespace
}  // namespace hllm::test
