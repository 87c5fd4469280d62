#include <gtest/gtest.h>

#include "compare.h"
#include "op_harness.h"
#include "util/error.h"

namespace hllm::test {
namespace {

// Copy, Concat and SetRows move values and round them to the output type once, exactly as the
// reference does, so every comparison here is exact.
constexpr Tolerance kExact{};

TEST(Copy, EveryTypePairAndLayout) {
  const std::vector<Shape> shapes = {{1, 1, 1, 1}, {7, 3, 1, 1}, {33, 5, 3, 2}, {64, 4, 2, 1}};
  for (GgmlType from : kFloatTypes) {
    for (GgmlType to : kFloatTypes) {
      for (Layout layout : kLayouts) {
        for (const Shape& shape : shapes) {
          SCOPED_TRACE(
              fmt::format("to {} from {}", type_name(to), describe_case(from, shape, layout)));
          OpHarness h(71);
          Tensor* x = h.source(layout, from, shape, -100.0f, 100.0f);
          Tensor* copied = ops::copy(h.graph(), x, to);
          const OpResult result = h.run(copied);
          EXPECT_TRUE(copied->is_contiguous());
          EXPECT_TRUE(all_close(result.actual, result.expected, kExact));
        }
      }
    }
  }
}

TEST(Concat, EveryDimension) {
  for (int dim = 0; dim < kMaxDims; ++dim) {
    for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
      for (Layout layout : kLayouts) {
        Shape a_shape{9, 4, 3, 2};
        Shape b_shape = a_shape;
        b_shape[dim] = 2;
        SCOPED_TRACE(fmt::format("dim {} {}", dim, describe_case(type, a_shape, layout)));
        OpHarness h(72);
        Tensor* a = h.source(layout, type, a_shape);
        Tensor* b = h.source(Layout::Contiguous, type, b_shape);
        const OpResult result = h.run(ops::concat(h.graph(), a, b, dim));
        EXPECT_TRUE(all_close(result.actual, result.expected, kExact));
      }
    }
  }
}

TEST(Concat, IntegerIds) {
  OpHarness h;
  Tensor* a = h.ids({3, 1, 1, 1}, {1, 2, 3});
  Tensor* b = h.ids({2, 1, 1, 1}, {-4, 5});
  const OpResult result = h.run(ops::concat(h.graph(), a, b, 0));
  EXPECT_EQ(result.actual, (std::vector<double>{1, 2, 3, -4, 5}));
}

TEST(SetRows, WritesDestinationInPlace) {
  for (GgmlType destination_type : kFloatTypes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(
          fmt::format("destination {} rows {}", type_name(destination_type), layout_name(layout)));
      OpHarness h(73);
      Tensor* cache = h.random(destination_type, {24, 10, 1, 1});
      Tensor* rows = h.source(layout, GgmlType::F32, {24, 4, 1, 1});
      // Id 7 repeats: the later row wins.
      Tensor* ids = h.ids({4, 1, 1, 1}, {7, 0, 9, 7});
      Tensor* updated = ops::set_rows(h.graph(), cache, rows, ids);
      const OpResult result = h.run(updated);
      EXPECT_TRUE(all_close(result.actual, result.expected, kExact));
      EXPECT_EQ(updated->data, cache->data);
    }
  }
}

TEST(SetRows, IntoViewOfState) {
  OpHarness h(74);
  Tensor* cache = h.random(GgmlType::F16, {16, 12, 1, 1});
  // The upper half of the cache's rows, as a layer's slice of a shared cache would be.
  Tensor* half = ops::view_2d(h.graph(), cache, 16, 6, cache->nb[1], 6 * cache->nb[1]);
  Tensor* rows = h.source(Layout::Contiguous, GgmlType::F16, {16, 2, 1, 1});
  Tensor* ids = h.ids({2, 1, 1, 1}, {5, 0});
  const OpResult result = h.run(ops::set_rows(h.graph(), half, rows, ids));
  EXPECT_TRUE(all_close(result.actual, result.expected, kExact));
}

TEST(SetRows, OutOfRangeIdThrows) {
  OpHarness h(75);
  Tensor* cache = h.random(GgmlType::F32, {8, 4, 1, 1});
  Tensor* rows = h.random(GgmlType::F32, {8, 1, 1, 1});
  Tensor* ids = h.ids({1, 1, 1, 1}, {4});
  ops::set_rows(h.graph(), cache, rows, ids);
  ArenaBuffer arena;
  EXPECT_THROW(evaluate(h.graph(), cpu_backend(1), arena), Error);
}

}  // namespace
}  // namespace hllm::test
