#include "sched/min_cut.h"

#include <algorithm>
#include <queue>

#include "util/error.h"

namespace hllm::sched {

int FlowNetwork::add_node() {
  edges_of_.emplace_back();
  return n_nodes() - 1;
}

void FlowNetwork::add_edge(int from, int to, Capacity capacity) {
  HLLM_CHECK(from >= 0 && from < n_nodes() && to >= 0 && to < n_nodes(),
             "flow edge {} -> {} names a node outside 0..{}", from, to, n_nodes() - 1);
  HLLM_CHECK(capacity >= 0, "flow edge {} -> {} has negative capacity {}", from, to, capacity);
  if (capacity == 0 || from == to) return;
  edges_of_[from].push_back(static_cast<int>(edges_.size()));
  edges_.push_back({to, std::min(capacity, kInfinite)});
  edges_of_[to].push_back(static_cast<int>(edges_.size()));
  edges_.push_back({from, 0});
}

bool FlowNetwork::build_levels(int source, int sink) {
  level_.assign(n_nodes(), -1);
  std::queue<int> queue;
  level_[source] = 0;
  queue.push(source);
  while (!queue.empty()) {
    const int node = queue.front();
    queue.pop();
    for (int e : edges_of_[node]) {
      const Edge& edge = edges_[e];
      if (edge.residual > 0 && level_[edge.to] < 0) {
        level_[edge.to] = level_[node] + 1;
        queue.push(edge.to);
      }
    }
  }
  return level_[sink] >= 0;
}

// Pushes up to limit units along level-increasing paths; iterative over the path to keep the
// stack small on long graphs.
FlowNetwork::Capacity FlowNetwork::push(int source, int sink, Capacity limit) {
  std::vector<int> path;  // edge indices from source
  int node = source;
  while (true) {
    if (node == sink) {
      Capacity amount = limit;
      for (int e : path)
        amount = std::min(amount, edges_[e].residual);
      for (int e : path) {
        edges_[e].residual -= amount;
        edges_[e ^ 1].residual += amount;
      }
      return amount;
    }
    bool advanced = false;
    for (size_t& i = next_edge_[node]; i < edges_of_[node].size(); ++i) {
      const int e = edges_of_[node][i];
      const Edge& edge = edges_[e];
      if (edge.residual > 0 && level_[edge.to] == level_[node] + 1) {
        path.push_back(e);
        node = edge.to;
        advanced = true;
        break;
      }
    }
    if (advanced) continue;
    // Dead end: never try this node again in this phase, and retreat one step.
    level_[node] = -1;
    if (path.empty()) return 0;
    const int back = path.back();
    path.pop_back();
    node = edges_[back ^ 1].to;
    ++next_edge_[node];
  }
}

FlowNetwork::Capacity FlowNetwork::max_flow(int source, int sink) {
  HLLM_CHECK(source != sink, "max flow needs distinct source and sink, got node {} for both",
             source);
  Capacity total = 0;
  while (total < kInfinite && build_levels(source, sink)) {
    next_edge_.assign(n_nodes(), 0);
    while (total < kInfinite) {
      const Capacity pushed = push(source, sink, kInfinite);
      if (pushed == 0) break;
      total += pushed;
    }
  }
  return std::min(total, kInfinite);
}

std::vector<bool> FlowNetwork::sink_side(int sink) const {
  // Reverse search from the sink over edges that still have residual capacity toward it.
  std::vector<bool> reaches(n_nodes(), false);
  std::vector<int> stack{sink};
  reaches[sink] = true;
  while (!stack.empty()) {
    const int node = stack.back();
    stack.pop_back();
    for (int e : edges_of_[node]) {
      // edges_[e] leaves node; its reverse e^1 enters node from edges_[e].to.
      const int from = edges_[e].to;
      if (!reaches[from] && edges_[e ^ 1].residual > 0) {
        reaches[from] = true;
        stack.push_back(from);
      }
    }
  }
  return reaches;
}

}  // namespace hllm::sched
