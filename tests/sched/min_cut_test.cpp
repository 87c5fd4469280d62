// The max-flow solver and the planner's cut against exhaustive search on small graphs.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/sim/sim_backend.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "sched/cost_model.h"
#include "sched/min_cut.h"
#include "sched/plan.h"

namespace hllm::sched {
namespace {

struct Edge {
  int from, to;
  int64_t capacity;
};

// Capacity of the cut whose sink side is the set bits of sink_mask (source 0 never in it,
// sink 1 always in it).
int64_t cut_capacity(const std::vector<Edge>& edges, uint32_t sink_mask) {
  int64_t total = 0;
  for (const Edge& e : edges) {
    const bool from_sink = (sink_mask >> e.from) & 1;
    const bool to_sink = (sink_mask >> e.to) & 1;
    if (!from_sink && to_sink) total += e.capacity;
  }
  return total;
}

TEST(MinCut, MatchesBruteForceOnRandomGraphs) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 11);  // source, sink and up to 10 more: 12 nodes
    std::vector<Edge> edges;
    const int n_edges = static_cast<int>(rng() % (3 * n));
    for (int i = 0; i < n_edges; ++i) {
      const int from = static_cast<int>(rng() % n);
      const int to = static_cast<int>(rng() % n);
      // Some infinite edges, as pins and ties make them.
      const int64_t capacity =
          rng() % 10 == 0 ? FlowNetwork::kInfinite / 1024 : static_cast<int64_t>(rng() % 20);
      if (from != to) edges.push_back({from, to, capacity});
    }
    FlowNetwork network(n);
    for (const Edge& e : edges)
      network.add_edge(e.from, e.to, e.capacity);
    const int64_t flow = network.max_flow(0, 1);

    int64_t best = std::numeric_limits<int64_t>::max();
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
      if ((mask & 1u) || !(mask & 2u)) continue;
      best = std::min(best, cut_capacity(edges, mask));
    }
    ASSERT_EQ(flow, best) << "trial " << trial << " with " << n << " nodes";

    const std::vector<bool> sink_side = network.sink_side(1);
    uint32_t found = 0;
    for (int v = 0; v < n; ++v)
      found |= sink_side[v] ? (1u << v) : 0u;
    ASSERT_FALSE(sink_side[0]) << "trial " << trial;
    EXPECT_EQ(cut_capacity(edges, found), best)
        << "trial " << trial << ": the reported side is not a minimum cut";
    // Ties go to the source: every minimum cut's sink side contains the reported one.
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
      if ((mask & 1u) || !(mask & 2u) || cut_capacity(edges, mask) != best) continue;
      EXPECT_EQ(mask & found, found)
          << "trial " << trial << ": a minimum cut with a smaller sink side exists";
    }
  }
}

TEST(MinCut, InfiniteCutStopsAtLimit) {
  FlowNetwork network(3);
  network.add_edge(0, 2, FlowNetwork::kInfinite);
  network.add_edge(2, 1, FlowNetwork::kInfinite);
  network.add_edge(0, 1, FlowNetwork::kInfinite);
  EXPECT_EQ(network.max_flow(0, 1), FlowNetwork::kInfinite);
}

// The planner's objective, computed directly for one assignment of computing nodes: node costs,
// one copy per owner and reading backend, weights resident on the device when a device node
// reads them, inputs on the CPU.
int64_t placement_cost(const Graph& graph, const std::vector<int>& backend, const CostModel& cost) {
  int64_t total = 0;
  std::vector<std::array<bool, 2>> read_on(graph.tensors().size(), {false, false});
  for (const Tensor* node : graph.nodes()) {
    if (node->is_view()) continue;
    const int b = backend[node->id];
    total += b == kDevice ? cost.device_ns(*node) : cost.cpu_ns(*node);
    for (int s = 0; s < node->n_src; ++s)
      read_on[node->src[s]->storage_owner()->id][b] = true;
  }
  for (const Tensor& tensor : graph.tensors()) {
    if (tensor.is_view()) continue;
    const auto& reads = read_on[tensor.id];
    if (tensor.leaf == LeafKind::Weight) {
      if (reads[kDevice]) total += cost.residency_ns(tensor.n_bytes());
      continue;
    }
    const int home = tensor.leaf == LeafKind::Input ? kCpu : backend[tensor.id];
    if (reads[1 - home]) total += cost.copy_ns(tensor.n_bytes());
  }
  return total;
}

// A random chain-and-branch graph of element-wise ops over a few weights, with at most 10
// computing nodes.
void build_random_graph(Graph& g, std::mt19937& rng, int n_nodes) {
  const int64_t width = 16 << (rng() % 4);
  std::vector<Tensor*> values{g.input("x", GgmlType::F32, {width, 4})};
  std::vector<Tensor*> weights;
  for (int i = 0; i < 3; ++i) {
    // Appending instead of "w" + std::to_string(i) avoids a false -Wrestrict warning of GCC 12.
    std::string name = "w";
    name += std::to_string(i);
    weights.push_back(g.weight(name, GgmlType::F32, {width, width}));
  }
  for (int i = 0; i < n_nodes; ++i) {
    Tensor* a = values[rng() % values.size()];
    Tensor* b = values[rng() % values.size()];
    Tensor* out = nullptr;
    switch (rng() % 6) {
      case 0:
        out = ops::mul_mat(g, weights[rng() % weights.size()], a);
        break;
      case 1:
        out = ops::add(g, a, b);
        break;
      case 2:
        out = ops::mul(g, a, b);
        break;
      case 3:
        out = ops::silu(g, a);
        break;
      case 4:
        out = ops::rms_norm(g, a, 1e-5f);
        break;
      default:
        out = ops::soft_max(g, a);
        break;
    }
    values.push_back(out);
  }
  g.mark_output(values.back());
}

TEST(PlanCut, MatchesBruteForceOnSmallGraphs) {
  CpuBackend cpu(1);
  std::mt19937 rng(11);
  const CostModel cost;
  const Op choices[] = {Op::Silu, Op::RmsNorm, Op::SoftMax, Op::Add, Op::Count};
  for (int trial = 0; trial < 60; ++trial) {
    Graph g;
    build_random_graph(g, rng, 2 + static_cast<int>(rng() % 9));
    SimOptions options;
    const Op missing = choices[rng() % 5];
    if (missing != Op::Count) options.unsupported[static_cast<size_t>(missing)] = true;
    SimBackend sim(cpu, options);
    const Plan plan = plan_graph(g, cpu, &sim, Constraints{}, cost);

    std::vector<const Tensor*> compute;
    for (const Tensor* node : g.nodes()) {
      if (!node->is_view()) compute.push_back(node);
    }
    ASSERT_LE(compute.size(), 12u);
    int64_t best = std::numeric_limits<int64_t>::max();
    std::vector<int> backend(g.tensors().size(), kCpu);
    for (uint32_t mask = 0; mask < (1u << compute.size()); ++mask) {
      bool allowed = true;
      for (size_t i = 0; i < compute.size(); ++i) {
        const int b = (mask >> i) & 1 ? kDevice : kCpu;
        if (b == kDevice && !sim.supports(*compute[i])) allowed = false;
        backend[compute[i]->id] = b;
      }
      if (allowed) best = std::min(best, placement_cost(g, backend, cost));
    }
    std::vector<int> planned(g.tensors().size(), kCpu);
    for (const Tensor& t : g.tensors())
      planned[t.id] = plan.backend[t.id];
    EXPECT_EQ(plan.cut_ns, best) << "trial " << trial << " with " << compute.size() << " nodes";
    EXPECT_EQ(placement_cost(g, planned, cost), best)
        << "trial " << trial << ": the placement is not optimal";
    for (const Tensor* node : compute) {
      if (!sim.supports(*node)) {
        EXPECT_EQ(plan.backend[node->id], kCpu) << node->name;
      }
    }
  }
}

}  // namespace
}  // namespace hllm::sched
