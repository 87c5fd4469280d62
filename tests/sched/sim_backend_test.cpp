// The simulated device: its option parser, op support, memory budget and copy counters.
#include <gtest/gtest.h>

#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/sim/sim_backend.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "sched/placement.h"
#include "util/error.h"

namespace hllm {
namespace {

TEST(SimOptions, ParsesOpsAndBudget) {
  const SimOptions options = parse_sim_options("unsupported=delta_rule+ssm_conv,mem=1MiB");
  EXPECT_TRUE(options.unsupported[static_cast<size_t>(Op::DeltaRule)]);
  EXPECT_TRUE(options.unsupported[static_cast<size_t>(Op::SsmConv)]);
  EXPECT_FALSE(options.unsupported[static_cast<size_t>(Op::MulMat)]);
  EXPECT_EQ(options.memory_budget, size_t{1} << 20);
  EXPECT_EQ(parse_sim_options("").memory_budget, 0u);
}

TEST(SimOptions, ParsesByteSizes) {
  EXPECT_EQ(parse_byte_size("8GiB"), size_t{8} << 30);
  EXPECT_EQ(parse_byte_size("512KiB"), size_t{512} << 10);
  EXPECT_EQ(parse_byte_size("3MB"), 3000000u);
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_THROW(parse_byte_size("8 parsecs"), Error);
  EXPECT_THROW(parse_byte_size("GiB"), Error);
}

TEST(SimOptions, RejectsBadItems) {
  EXPECT_THROW(parse_sim_options("unsupported=warp_drive"), Error);
  EXPECT_THROW(parse_sim_options("unsupported=view"), Error);
  EXPECT_THROW(parse_sim_options("mem"), Error);
  EXPECT_THROW(parse_sim_options("colour=blue"), Error);
  CpuBackend cpu(1);
  EXPECT_THROW(sched::make_device("gpu0", cpu), Error);
}

TEST(SimBackend, DeclaresUnsupportedOps) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, parse_sim_options("unsupported=silu"));
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {8});
  EXPECT_FALSE(sim.supports(*ops::silu(g, x)));
  EXPECT_TRUE(sim.supports(*ops::sigmoid(g, x)));
  EXPECT_TRUE(sim.supports(*ops::reshape(g, x, {4, 2})));
  EXPECT_EQ(sim.name(), "sim");
}

TEST(SimBackend, EnforcesMemoryBudget) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, parse_sim_options("mem=1KiB"));
  auto first = sim.allocate(600);
  EXPECT_EQ(sim.bytes_allocated(), 600u);
  EXPECT_THROW(sim.allocate(600), Error);
  first.reset();
  EXPECT_EQ(sim.bytes_allocated(), 0u);
  EXPECT_NO_THROW(sim.allocate(1024));
}

TEST(SimBackend, CountsCopiedBytes) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, SimOptions{});
  Graph g;
  Tensor* t = g.input("t", GgmlType::F32, {16});
  auto buffer = sim.allocate(t->n_bytes());
  t->data = buffer->data();
  std::vector<float> host(16, 2.5f), back(16, 0.0f);
  sim.copy_in(*t, host.data(), 0, 64);
  sim.copy_out(*t, back.data(), 16, 32);
  EXPECT_EQ(sim.bytes_copied_in(), 64u);
  EXPECT_EQ(sim.bytes_copied_out(), 32u);
  EXPECT_EQ(back[0], 2.5f);
  EXPECT_TRUE(sim.owns(t->data));
  EXPECT_FALSE(sim.owns(host.data()));
  EXPECT_THROW(sim.copy_in(*t, host.data(), 32, 64), Error);
}

}  // namespace
}  // namespace hllm
