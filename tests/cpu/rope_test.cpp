#include <gtest/gtest.h>

#include "backends/cpu/reference.h"
#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

// Both sides take cos and sin of the same float64 angle; the kernel rounds them to float and
// computes x0 * cos - x1 * sin in float, so each output carries about three float roundings of
// terms bounded by |x| <= 1: 3 * 2^-24 * 2 ≈ 3.6e-7 absolute. Cancellation makes a relative
// bound meaningless here.
constexpr Tolerance kRope{5e-7, 0.0};

struct RopeCase {
  RopeMode mode;
  int64_t head_dim;
  int32_t n_dims;
  float freq_base;
  float freq_scale;
};

TEST(Rope, MatchesReference) {
  const std::vector<RopeCase> cases = {
      {RopeMode::Normal, 64, 64, 10000.0f, 1.0f}, {RopeMode::Neox, 64, 64, 1e6f, 1.0f},
      {RopeMode::Neox, 24, 16, 10000.0f, 0.25f},  {RopeMode::Normal, 10, 4, 500.0f, 1.0f},
      {RopeMode::Neox, 256, 64, 1e7f, 1.0f},  // partial rotary dims as in Qwen3-Next
  };
  for (const RopeCase& c : cases) {
    for (GgmlType type : kFloatTypes) {
      for (Layout layout : kLayouts) {
        const Shape shape{c.head_dim, 3, 5, 1};
        SCOPED_TRACE(fmt::format("mode {} n_dims {} base {} scale {} {}", static_cast<int>(c.mode),
                                 c.n_dims, c.freq_base, c.freq_scale,
                                 describe_case(type, shape, layout)));
        OpHarness h(21);
        Tensor* x = h.source(layout, type, shape);
        Tensor* positions = h.ids({5, 1, 1, 1}, {0, 1, 7, 1000, 40000});
        const RopeParams params{c.mode, c.n_dims, c.freq_base, c.freq_scale};
        const OpResult result = h.run(ops::rope(h.graph(), x, positions, params));
        EXPECT_TRUE(all_close(result.actual, result.expected, kRope));
      }
    }
  }
}

TEST(Rope, PositionsPerSequence) {
  OpHarness h(22);
  Tensor* x = h.source(Layout::Offset, GgmlType::F32, {32, 2, 3, 2});
  Tensor* positions = h.ids({3, 2, 1, 1}, {5, 6, 7, 100, 101, 102});
  const OpResult result =
      h.run(ops::rope(h.graph(), x, positions, RopeParams{RopeMode::Neox, 32, 10000.0f, 1.0f}));
  EXPECT_TRUE(all_close(result.actual, result.expected, kRope));
}

TEST(Rope, PositionZeroIsIdentity) {
  OpHarness h(23);
  Tensor* x = h.source(Layout::Contiguous, GgmlType::F32, {16, 2, 1, 1});
  Tensor* positions = h.ids({1, 1, 1, 1}, {0});
  const OpResult result =
      h.run(ops::rope(h.graph(), x, positions, RopeParams{RopeMode::Normal, 16, 10000.0f, 1.0f}));
  const std::vector<double> input = cpu::reference::read_all(*x);
  EXPECT_TRUE(all_close(result.actual, input, Tolerance{}));
}

}  // namespace
}  // namespace hllm::test
