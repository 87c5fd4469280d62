#include <gtest/gtest.h>

#include "compare.h"
#include "formats/quant/quant.h"
#include "op_harness.h"
#include "util/error.h"

namespace hllm::test {
namespace {

// Every table type with a dequantizer that files store weights in.
const std::vector<GgmlType> kTableTypes = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

TEST(GetRows, EveryTableType) {
  for (GgmlType type : kTableTypes) {
    for (Layout layout : {Layout::Contiguous, Layout::Offset, Layout::Permuted}) {
      const Shape shape{512, 10, 2, 1};
      SCOPED_TRACE(describe_case(type, shape, layout));
      OpHarness h(51);
      Tensor* table = h.source(layout, type, shape);
      Tensor* ids = h.ids({4, 2, 1, 1}, {9, 0, 3, 3, 1, 9, 0, 5});
      const OpResult result = h.run(ops::get_rows(h.graph(), table, ids));
      // Both sides dequantize the same blocks with the same code: the copy is exact.
      EXPECT_TRUE(all_close(result.actual, result.expected, Tolerance{}));
    }
  }
}

TEST(GetRows, TransposedFloatTable) {
  for (GgmlType type : kFloatTypes) {
    SCOPED_TRACE(type_name(type));
    OpHarness h(52);
    Tensor* table = h.source(Layout::Transposed, type, {7, 5, 1, 1});
    Tensor* ids = h.ids({3, 1, 1, 1}, {4, 0, 2});
    const OpResult result = h.run(ops::get_rows(h.graph(), table, ids));
    EXPECT_TRUE(all_close(result.actual, result.expected, Tolerance{}));
  }
}

TEST(GetRows, OutOfRangeIdThrows) {
  OpHarness h(53);
  Tensor* table = h.random(GgmlType::F32, {8, 4, 1, 1});
  table->name = "token_embd.weight";
  Tensor* ids = h.ids({2, 1, 1, 1}, {1, 4});
  ops::get_rows(h.graph(), table, ids);
  ArenaBuffer arena;
  try {
    evaluate(h.graph(), cpu_backend(2), arena);
    FAIL() << "expected an Error for id 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("id 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("token_embd.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hllm::test
