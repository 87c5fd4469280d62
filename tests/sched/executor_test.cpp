// Running planned graphs: every placement gives the CPU's results bit for bit, copies only what
// the plan lists, and keeps the device's work inside device memory.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/sim/sim_backend.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "sched/executor.h"
#include "sched/plan.h"
#include "util/error.h"

namespace hllm::sched {
namespace {

constexpr int64_t kWidth = 32;
constexpr int64_t kTokens = 4;
constexpr int64_t kCells = 8;

// A small graph with the features placement has to get right: a weight read by two nodes, a
// state updated in place and read through a view afterwards, inputs, and an output.
struct TestGraph {
  Graph graph;
  Tensor* x = nullptr;
  Tensor* cells = nullptr;
  Tensor* cache = nullptr;
  Tensor* output = nullptr;
  std::vector<float> weight, norm, x_data, cache_data;
  std::vector<int32_t> cell_data;

  TestGraph() {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    weight.resize(kWidth * kWidth);
    norm.resize(kWidth);
    for (float& v : weight)
      v = normal(rng);
    for (float& v : norm)
      v = 1.0f + normal(rng);
    cache_data.assign(kWidth * kCells, 0.0f);
    x_data.resize(kWidth * kTokens);
    cell_data = {0, 1, 2, 3};

    Graph& g = graph;
    x = g.input("x", GgmlType::F32, {kWidth, kTokens});
    cells = g.input("cells", GgmlType::I32, {kTokens});
    Tensor* w = g.weight("blk.0.w", GgmlType::F32, {kWidth, kWidth}, 0);
    Tensor* n = g.weight("blk.0.norm", GgmlType::F32, {kWidth}, 0);
    cache = g.state("cache", GgmlType::F32, {kWidth, kCells}, 0);
    Tensor* h = Graph::name(ops::mul_mat(g, w, x), "h", 0);
    Tensor* normed = Graph::name(ops::mul(g, ops::rms_norm(g, h, 1e-5f), n), "normed", 0);
    Tensor* stored = Graph::name(ops::set_rows(g, cache, ops::copy(g, normed), cells), "store", 0);
    Tensor* all_cells = ops::view_2d(g, stored, kWidth, kCells, stored->nb[1], 0);
    Tensor* scores =
        Graph::name(ops::mul_mat(g, all_cells, normed), "scores", 0);  // [kCells, kTokens]
    Tensor* again = ops::mul_mat(g, w, ops::silu(g, normed));
    Tensor* probs = Graph::name(ops::soft_max(g, scores), "probs", 0);
    output =
        Graph::name(ops::add(g, ops::sum_rows(g, again), ops::sum_rows(g, probs)), "result", -1);
    g.mark_output(output);

    w->data = weight.data();
    n->data = norm.data();
    x->data = x_data.data();
    cells->data = cell_data.data();
    cache->data = cache_data.data();
  }

  void set_inputs(int step) {
    for (int64_t i = 0; i < kWidth * kTokens; ++i)
      x_data[i] = std::sin(0.1f * static_cast<float>(i + 7 * step));
    for (int64_t t = 0; t < kTokens; ++t)
      cell_data[t] = static_cast<int32_t>(t + kTokens * (step % 2));
  }

  std::vector<float> read_output() const {
    const auto* data = static_cast<const float*>(output->data);
    return std::vector<float>(data, data + output->n_elements());
  }
};

// Outputs of three evaluations under a device configuration ("" for the CPU only).
std::vector<std::vector<float>> run_three(const std::string& unsupported,
                                          std::string* failure = nullptr,
                                          size_t* n_splits = nullptr) {
  CpuBackend cpu(2);
  std::unique_ptr<SimBackend> sim;
  if (unsupported != "cpu") {
    sim = std::make_unique<SimBackend>(
        cpu, parse_sim_options(unsupported.empty() ? "" : "unsupported=" + unsupported));
  }
  TestGraph test;
  const Plan plan = plan_graph(test.graph, cpu, sim.get(), Constraints{});
  if (n_splits != nullptr) *n_splits = plan.splits.size();
  Executor executor(cpu, sim.get());
  executor.prepare(test.graph, plan);
  std::vector<std::vector<float>> outputs;
  for (int step = 0; step < 3; ++step) {
    test.set_inputs(step);
    const size_t before = sim ? sim->bytes_copied_in() + sim->bytes_copied_out() : 0;
    executor.run(test.graph);
    const size_t copied = sim ? sim->bytes_copied_in() + sim->bytes_copied_out() - before : 0;
    if (failure != nullptr && copied != plan.copy_bytes) {
      *failure = "copied " + std::to_string(copied) + " bytes in one evaluation, the plan says " +
                 std::to_string(plan.copy_bytes);
    }
    outputs.push_back(test.read_output());
  }
  return outputs;
}

TEST(Executor, EveryPlacementMatchesCpu) {
  const auto expected = run_three("cpu");
  for (const std::string unsupported :
       {"", "soft_max", "set_rows", "rms_norm+mul_mat", "add", "silu+sum_rows",
        "mul_mat+copy+set_rows+soft_max+rms_norm+mul+silu+sum_rows+add"}) {
    std::string failure;
    size_t n_splits = 0;
    const auto actual = run_three(unsupported, &failure, &n_splits);
    EXPECT_TRUE(failure.empty()) << "device lacking '" << unsupported << "': " << failure;
    // Nothing missing, or every op missing, runs in one split; anything between switches backends.
    const bool everything = unsupported.find("sum_rows+add") != std::string::npos;
    if (unsupported.empty() || everything) {
      EXPECT_EQ(n_splits, 1u) << "device lacking '" << unsupported << "'";
    } else {
      EXPECT_GT(n_splits, 1u) << "device lacking '" << unsupported
                              << "' should fall back to the CPU";
    }
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t step = 0; step < expected.size(); ++step) {
      ASSERT_EQ(actual[step].size(), expected[step].size());
      for (size_t i = 0; i < expected[step].size(); ++i) {
        ASSERT_EQ(actual[step][i], expected[step][i])
            << "device lacking '" << unsupported << "', evaluation " << step << ", element " << i;
      }
    }
  }
}

TEST(Executor, StateFollowsItsInPlaceUpdate) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, parse_sim_options("unsupported=set_rows"));
  TestGraph test;
  const Plan plan = plan_graph(test.graph, cpu, &sim, Constraints{});
  ASSERT_EQ(plan.states.size(), 1u);
  EXPECT_FALSE(plan.states[0].on_device)
      << "the cache is updated by set_rows, which the device lacks";
  SimBackend full(cpu, SimOptions{});
  TestGraph other;
  const Plan on_device = plan_graph(other.graph, cpu, &full, Constraints{});
  ASSERT_EQ(on_device.states.size(), 1u);
  EXPECT_TRUE(on_device.states[0].on_device);
  EXPECT_EQ(on_device.splits.size(), 1u);
}

TEST(Executor, ClearStateZeroesDeviceCopy) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, SimOptions{});
  TestGraph test;
  const void* host_cache = test.cache->data;
  const Plan plan = plan_graph(test.graph, cpu, &sim, Constraints{});
  Executor executor(cpu, &sim);
  executor.prepare(test.graph, plan);
  test.set_inputs(0);
  executor.run(test.graph);
  ASSERT_TRUE(sim.owns(test.cache->data)) << "the cache should live on the device";
  executor.clear_state(host_cache, 0, kWidth * kCells * sizeof(float));
  std::vector<float> cache(kWidth * kCells, 1.0f);
  sim.copy_out(*test.cache, cache.data(), 0, cache.size() * sizeof(float));
  for (size_t i = 0; i < cache.size(); ++i)
    ASSERT_EQ(cache[i], 0.0f) << "cache element " << i;
}

TEST(Executor, DeviceRejectsHostMemory) {
  CpuBackend cpu(1);
  SimBackend sim(cpu, SimOptions{});
  TestGraph test;
  // Without the executor's mirrors, the device would read the host's input directly.
  Tensor* first = nullptr;
  for (Tensor* node : test.graph.nodes()) {
    if (!node->is_view()) {
      first = node;
      break;
    }
  }
  ASSERT_NE(first, nullptr);
  auto buffer = sim.allocate(first->n_bytes());
  first->data = buffer->data();
  EXPECT_THROW(sim.compute(std::span<Tensor* const>(&first, 1)), Error);
}

}  // namespace
}  // namespace hllm::sched
