// Element-wise comparison of op outputs with their float64 reference.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace hllm::test {

// An element passes when |actual - expected| <= absolute + relative * |expected|.
struct Tolerance {
  double absolute = 0.0;
  double relative = 0.0;
};

// Succeeds when every element is within tolerance. A NaN expected value needs a NaN, and an
// infinite one the same infinity. A failure reports how many elements failed, and the worst one
// (largest excess over its allowed error) with its index, expected and actual values, and the
// tolerance.
inline ::testing::AssertionResult all_close(const std::vector<double>& actual,
                                            const std::vector<double>& expected,
                                            Tolerance tolerance) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "output has " << actual.size() << " elements, expected " << expected.size();
  }
  size_t failures = 0;
  size_t worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double e = expected[i];
    const double a = actual[i];
    double excess = 0.0;
    if (std::isnan(e) || std::isnan(a)) {
      excess = std::isnan(e) && std::isnan(a) ? 0.0 : INFINITY;
    } else if (std::isinf(e) || std::isinf(a)) {
      excess = e == a ? 0.0 : INFINITY;
    } else {
      excess = std::fabs(a - e) - (tolerance.absolute + tolerance.relative * std::fabs(e));
    }
    if (excess > 0.0) {
      ++failures;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format(
             "{} of {} elements differ; worst at index {}: expected {:.9g}, actual {:.9g}, "
             "error {:.3g}, tolerance {:.3g} absolute + {:.3g} relative",
             failures, actual.size(), worst, expected[worst], actual[worst],
             std::fabs(actual[worst] - expected[worst]), tolerance.absolute, tolerance.relative);
}

// Expects |expected - actual| <= tolerance everywhere; a failure names the worst element.
template <typename Expected, typename Actual>
void expect_close(const std::vector<Expected>& expected, const std::vector<Actual>& actual,
                  double tolerance, const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  size_t worst = 0;
  double worst_error = -1.0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double error = std::fabs(static_cast<double>(expected[i]) - actual[i]);
    if (!(error <= worst_error)) {  // also picks up NaN
      worst = i;
      worst_error = error;
      if (std::isnan(error)) break;
    }
  }
  EXPECT_LE(worst_error, tolerance)
      << what << ": worst element " << worst << " expected " << expected[worst] << " actual "
      << actual[worst] << " tolerance " << tolerance;
}

}  // namespace hllm::test
