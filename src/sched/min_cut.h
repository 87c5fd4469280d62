// Minimum s-t cut by maximum flow (Dinic's algorithm), with integer capacities so that the
// result, ties included, is exact and the same on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hllm::sched {

class FlowNetwork {
 public:
  using Capacity = int64_t;
  // A capacity no finite cut reaches: 2^50 ns is 13 days. max_flow stops at it, so flows never
  // overflow.
  static constexpr Capacity kInfinite = Capacity{1} << 50;

  explicit FlowNetwork(int n_nodes = 0) : edges_of_(n_nodes) {}

  int add_node();
  int n_nodes() const { return static_cast<int>(edges_of_.size()); }
  // Adds a directed edge; capacities at or above kInfinite are clamped to it.
  void add_edge(int from, int to, Capacity capacity);

  // Returns the value of the maximum flow, which equals the capacity of the minimum cut. Stops
  // early at kInfinite, which means every cut crosses an infinite edge.
  Capacity max_flow(int source, int sink);

  // After max_flow: true for the nodes that can still reach the sink in the residual network.
  // They form the sink side of the minimum cut with the smallest sink side, so nodes that could
  // go either way at equal cost end on the source side.
  std::vector<bool> sink_side(int sink) const;

 private:
  struct Edge {
    int to;
    Capacity residual;
  };

  bool build_levels(int source, int sink);
  Capacity push(int node, int sink, Capacity limit);

  std::vector<Edge> edges_;                 // edge 2i and its reverse 2i+1
  std::vector<std::vector<int>> edges_of_;  // edge indices leaving each node
  std::vector<int> level_;
  std::vector<size_t> next_edge_;
};

}  // namespace hllm::sched
