#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "compare.h"
#include "op_harness.h"

namespace hllm::test {
namespace {

// Odd sizes exercise the vector tails; 16 and 64 fill AVX-512 vectors exactly.
const std::vector<Shape> kShapes = {{1, 1, 1, 1},  {7, 3, 1, 1},  {16, 4, 2, 1},
                                    {33, 5, 3, 2}, {64, 2, 1, 1}, {131, 3, 2, 1}};

// One float rounding of the result: half an ulp, 2^-24 relative. The inputs are exact (they are
// read from their stored type), so +, -, *, / and a fused multiply-add round once.
constexpr Tolerance kOneRounding{0.0, 0x1p-24};

struct UnaryCase {
  const char* name;
  std::function<Tensor*(Graph&, Tensor*)> build;
  float low;
  float high;
  Tolerance tolerance;
};

std::vector<UnaryCase> unary_cases() {
  // Highway's Exp is accurate to 1 ulp and Log1p to 2 ulp. With the following division each
  // function stays within a few ulp, which 1e-6 relative covers. The absolute term covers
  // results near zero, where a few ulp of the intermediate exp(x) dominate.
  constexpr Tolerance kTranscendental{1e-7, 1e-6};
  return {
      {"silu", [](Graph& g, Tensor* x) { return ops::silu(g, x); }, -12, 12, kTranscendental},
      {"sigmoid", [](Graph& g, Tensor* x) { return ops::sigmoid(g, x); }, -12, 12, kTranscendental},
      {"softplus", [](Graph& g, Tensor* x) { return ops::softplus(g, x); }, -30, 30,
       kTranscendental},
      {"exp", [](Graph& g, Tensor* x) { return ops::exp(g, x); }, -20, 20, kTranscendental},
      {"neg", [](Graph& g, Tensor* x) { return ops::neg(g, x); }, -2, 2, Tolerance{}},
      {"sqr", [](Graph& g, Tensor* x) { return ops::sqr(g, x); }, -2, 2, kOneRounding},
      {"sqrt", [](Graph& g, Tensor* x) { return ops::sqrt(g, x); }, 0, 4, kOneRounding},
      {"scale", [](Graph& g, Tensor* x) { return ops::scale(g, x, 0.37f, -1.5f); }, -2, 2,
       kOneRounding},
  };
}

TEST(Elementwise, UnaryOpsMatchReference) {
  for (const UnaryCase& op : unary_cases()) {
    for (GgmlType type : kFloatTypes) {
      for (Layout layout : kLayouts) {
        for (const Shape& shape : kShapes) {
          SCOPED_TRACE(fmt::format("{} of {}", op.name, describe_case(type, shape, layout)));
          OpHarness h(7);
          Tensor* x = h.source(layout, type, shape, op.low, op.high);
          const OpResult result = h.run(op.build(h.graph(), x));
          EXPECT_TRUE(all_close(result.actual, result.expected, op.tolerance));
        }
      }
    }
  }
}

TEST(Elementwise, UnaryEdgeValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> inputs = {-200,  -88, -20,   -1e-30f, 0,   1e-30f,
                                     19.9f, 20,  20.1f, 88,      200, -inf};
  const int64_t n = static_cast<int64_t>(inputs.size());
  for (const UnaryCase& op : unary_cases()) {
    if (std::string(op.name) == "sqrt") continue;
    SCOPED_TRACE(op.name);
    OpHarness h;
    Tensor* x = h.values(GgmlType::F32, {n, 1, 1, 1}, inputs);
    const OpResult result = h.run(op.build(h.graph(), x));
    // exp overflows float above 88.72, as float math does; the reference is float64.
    std::vector<double> expected = result.expected;
    for (double& value : expected) {
      if (std::fabs(value) > std::numeric_limits<float>::max())
        value = std::copysign(INFINITY, value);
    }
    // silu(-inf) is NaN in both float and float64 arithmetic (-inf / inf); skip that element.
    std::vector<double> actual = result.actual;
    if (std::string(op.name) == "silu") {
      actual.pop_back();
      expected.pop_back();
    }
    EXPECT_TRUE(all_close(actual, expected, Tolerance{1e-7, 1e-6}));
  }
}

TEST(Elementwise, BinaryOpsBroadcast) {
  using Build = Tensor* (*)(Graph&, Tensor*, Tensor*);
  const std::vector<std::pair<const char*, Build>> binary = {
      {"add", ops::add}, {"sub", ops::sub}, {"mul", ops::mul}, {"div", ops::div}};
  // (a shape, b shape): same shape, a row broadcast, a scalar, broadcast over dims 2 and 3.
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{33, 5, 3, 2}, {33, 5, 3, 2}}, {{33, 5, 3, 2}, {33, 1, 1, 1}},
      {{17, 4, 1, 1}, {1, 1, 1, 1}},  {{64, 4, 6, 2}, {64, 4, 3, 1}},
      {{48, 3, 1, 1}, {16, 3, 1, 1}}, {{10, 3, 1, 1}, {5, 1, 1, 1}}};
  for (const auto& [name, build] : binary) {
    for (const auto& [a_shape, b_shape] : shapes) {
      for (GgmlType type : kFloatTypes) {
        for (Layout layout : kLayouts) {
          SCOPED_TRACE(fmt::format("{} of {} and {}", name, describe_case(type, a_shape, layout),
                                   describe_case(GgmlType::F32, b_shape, layout)));
          OpHarness h(11);
          Tensor* a = h.source(layout, type, a_shape);
          // Divisors stay in [0.5, 2] so that quotients are well conditioned.
          Tensor* b = h.source(layout, GgmlType::F32, b_shape, 0.5f, 2.0f);
          const OpResult result = h.run(build(h.graph(), a, b));
          EXPECT_TRUE(all_close(result.actual, result.expected, kOneRounding));
        }
      }
    }
  }
}

TEST(Elementwise, MixedSourceTypes) {
  OpHarness h(3);
  Tensor* a = h.source(Layout::Permuted, GgmlType::BF16, {40, 3, 2, 1});
  Tensor* b = h.source(Layout::Offset, GgmlType::F16, {40, 3, 1, 1});
  const OpResult result = h.run(ops::mul(h.graph(), a, b));
  EXPECT_TRUE(all_close(result.actual, result.expected, kOneRounding));
}

}  // namespace
}  // namespace hllm::test
