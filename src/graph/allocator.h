// Memory planning for graph intermediates: every computed, non-view tensor gets an offset in one
// arena, and a tensor's bytes are reused once its last consumer has run.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace hllm {

// Alignment of every tensor placed in an arena, in bytes: a cache line and an AVX-512 vector.
constexpr size_t kArenaAlignment = 64;

struct ArenaPlan {
  size_t size = 0;                                  // bytes the arena needs
  std::vector<std::pair<Tensor*, size_t>> offsets;  // each placed tensor and its byte offset
};

// Plans offsets for the graph's computed tensors that own storage (views and in-place nodes
// such as SetRows share their source's storage and are skipped). When select is given, only the
// tensors it accepts are placed, so that each backend can plan its own arena.
//
// A tensor's memory is free for reuse after the last node that reads it, directly or through a
// view, in graph order. A tensor is never placed over any of the tensors its own node reads.
// Tensors marked with Graph::mark_output, and the owners of views marked so, are never reused.
ArenaPlan plan_arena(const Graph& graph,
                     const std::function<bool(const Tensor&)>& select = nullptr);

// Sets the data pointer of every tensor in the plan to base + its offset. base must be
// kArenaAlignment aligned and hold plan.size bytes.
void place_in_arena(const ArenaPlan& plan, void* base);

// Sets every view's (and in-place node's) data to its view source's data plus its offset, in
// graph order so that chains of views resolve. Views whose source has no data yet are left null.
void resolve_views(const Graph& graph);

// The index in graph.nodes() of the last node that reads each tensor's storage (through views
// too), indexed by tensor id; -1 when nothing reads it. Exposed for tests and schedulers.
std::vector<int> last_uses(const Graph& graph);

}  // namespace hllm
