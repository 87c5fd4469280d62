// Checks that the committed op-support table is what `hllm ops --markdown` prints, so that the
// table never drifts from CpuBackend::supports.
#include <gtest/gtest.h>

#include <string>

#include "support/fixtures.h"

namespace hllm {
namespace {

TEST(OpsTable, DocsMatchCommandOutput) {
  const test::CommandResult result = test::run_command(test::hllm_binary() + " ops --markdown");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The test runs in the repository root.
  const std::string committed = test::read_file("docs/ops.md");
  EXPECT_EQ(result.out, committed) << "docs/ops.md is out of date; regenerate it with: "
                                      "build/bin/hllm ops --markdown > docs/ops.md";
}

TEST(OpsTable, PlainTableListsOps) {
  const test::CommandResult result = test::run_command(test::hllm_binary() + " ops");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("attention"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rms_norm"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("q4_K"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace hllm
