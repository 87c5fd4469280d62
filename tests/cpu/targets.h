// Runs a test body once per SIMD target, so every kernel variant this CPU can run is checked.
#pragma once

// The CPU kernels compile the AVX-512 VNNI target, which Highway builds only on request; asking
// for it here too lets the tests select it.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif
#include <gtest/gtest.h>
#include <hwy/targets.h>

namespace hllm::test {

// Runs check once per SIMD target that this build compiled and this CPU supports, then restores
// the default choice.
template <typename Check>
void for_each_simd_target(const Check& check) {
  for (const int64_t target : hwy::SupportedAndGeneratedTargets()) {
    SCOPED_TRACE(hwy::TargetName(target));
    hwy::SetSupportedTargetsForTest(target);
    check();
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace hllm::test
