#include <gtest/gtest.h>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

const std::vector<Shape> kShapes = {{1, 1, 1, 1},  {7, 3, 1, 1},   {16, 4, 2, 1},
                                    {33, 5, 3, 2}, {128, 2, 1, 1}, {301, 3, 1, 1}};

// The sum of n <= 301 float squares or values carries a rounding error of at most about
// n * 2^-24 ≈ 1.8e-5 relative (in practice far less, because the vector code keeps several
// partial sums); the square root halves it, and the final scale adds one rounding.
constexpr Tolerance kRowSum{1e-6, 2e-5};

TEST(Norm, RmsNormMatchesReference) {
  for (GgmlType type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      for (const Shape& shape : kShapes) {
        for (float eps : {1e-6f, 0.5f}) {
          SCOPED_TRACE(fmt::format("eps {} {}", eps, describe_case(type, shape, layout)));
          OpHarness h(5);
          Tensor* x = h.source(layout, type, shape, -3.0f, 3.0f);
          const OpResult result = h.run(ops::rms_norm(h.graph(), x, eps));
          EXPECT_TRUE(all_close(result.actual, result.expected, kRowSum));
        }
      }
    }
  }
}

TEST(Norm, L2NormMatchesReference) {
  for (GgmlType type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      for (const Shape& shape : kShapes) {
        SCOPED_TRACE(describe_case(type, shape, layout));
        OpHarness h(6);
        Tensor* x = h.source(layout, type, shape, -3.0f, 3.0f);
        const OpResult result = h.run(ops::l2_norm(h.graph(), x, 1e-6f));
        EXPECT_TRUE(all_close(result.actual, result.expected, kRowSum));
      }
    }
  }
}

TEST(Norm, L2NormEpsBoundsSmallRows) {
  OpHarness h;
  // ||x|| = 5e-4 < eps = 1e-2, so the row is divided by eps instead of its norm.
  Tensor* x = h.values(GgmlType::F32, {2, 1, 1, 1}, {3e-4f, 4e-4f});
  const OpResult result = h.run(ops::l2_norm(h.graph(), x, 1e-2f));
  EXPECT_TRUE(all_close(result.actual, {3e-2, 4e-2}, Tolerance{0, 1e-6}));
  EXPECT_TRUE(all_close(result.expected, {3e-2, 4e-2}, Tolerance{0, 1e-6}));
}

TEST(Norm, SumRowsMatchesReference) {
  for (GgmlType type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      for (const Shape& shape : kShapes) {
        SCOPED_TRACE(describe_case(type, shape, layout));
        OpHarness h(8);
        // Positive values keep the sum away from cancellation, where a relative bound fails.
        Tensor* x = h.source(layout, type, shape, 0.0f, 1.0f);
        const OpResult result = h.run(ops::sum_rows(h.graph(), x));
        EXPECT_TRUE(all_close(result.actual, result.expected, kRowSum));
      }
    }
  }
}

}  // namespace
}  // namespace hllm::test
