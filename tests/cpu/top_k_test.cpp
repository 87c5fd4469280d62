#include <gtest/gtest.h>

#include <cmath>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

TEST(TopK, MatchesReference) {
  const std::vector<Shape> shapes = {{1, 1, 1, 1}, {7, 3, 1, 1}, {64, 4, 2, 1}, {129, 3, 1, 2}};
  for (GgmlType type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      for (const Shape& shape : shapes) {
        for (int k : {1, 4}) {
          if (k > shape[0]) continue;
          SCOPED_TRACE(fmt::format("k {} {}", k, describe_case(type, shape, layout)));
          OpHarness h(61);
          // F16 and BF16 storage rounds the values, so rows hold ties, which go to the lower index.
          Tensor* x = h.source(layout, type, shape, -2.0f, 2.0f);
          const OpResult result = h.run(ops::top_k(h.graph(), x, k));
          EXPECT_TRUE(all_close(result.actual, result.expected, Tolerance{}));  // indices: exact
        }
      }
    }
  }
}

TEST(TopK, TiesPreferLowerIndex) {
  OpHarness h;
  Tensor* x = h.values(GgmlType::F32, {8, 1, 1, 1}, {1, 3, 2, 3, NAN, 3, 0, 2});
  const OpResult result = h.run(ops::top_k(h.graph(), x, 6));
  // NaN ranks below every number.
  EXPECT_EQ(result.actual, (std::vector<double>{1, 3, 5, 2, 7, 0}));
  EXPECT_EQ(result.expected, result.actual);
}

TEST(TopK, RoundedValuesTie) {
  OpHarness h(62);
  std::vector<float> values(300);
  std::uniform_int_distribution<int> level(0, 15);
  for (float& value : values)
    value = static_cast<float>(level(h.rng())) / 8.0f;
  Tensor* x = h.values(GgmlType::F32, {100, 3, 1, 1}, values);
  const OpResult result = h.run(ops::top_k(h.graph(), x, 20));
  EXPECT_EQ(result.actual, result.expected);
}

}  // namespace
}  // namespace hllm::test
