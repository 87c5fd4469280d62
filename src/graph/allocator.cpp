#include "graph/allocator.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>

#include "util/error.h"

namespace hllm {
namespace {

size_t align_up(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Whether the tensor shares another tensor's storage instead of owning memory.
bool shares_storage(const Tensor& tensor) {
  return tensor.view_source != nullptr;
}

// Free ranges of the arena, sorted by offset and never adjacent (adjacent ranges are merged).
class FreeList {
 public:
  // Returns the offset of a block of bytes (a multiple of the alignment): the smallest free range
  // that fits, else the free range at the end of the arena extended, else new space at the end.
  size_t take(size_t bytes) {
    auto best = ranges_.end();
    for (auto it = ranges_.begin(); it != ranges_.end(); ++it) {
      if (it->size >= bytes && (best == ranges_.end() || it->size < best->size)) best = it;
    }
    if (best != ranges_.end()) {
      const size_t offset = best->offset;
      best->offset += bytes;
      best->size -= bytes;
      if (best->size == 0) ranges_.erase(best);
      return offset;
    }
    if (!ranges_.empty() && ranges_.back().offset + ranges_.back().size == end_) {
      const size_t offset = ranges_.back().offset;
      ranges_.pop_back();
      end_ = offset + bytes;
      return offset;
    }
    const size_t offset = end_;
    end_ += bytes;
    return offset;
  }

  void give_back(size_t offset, size_t bytes) {
    auto next = std::lower_bound(ranges_.begin(), ranges_.end(), offset,
                                 [](const Range& range, size_t at) { return range.offset < at; });
    next = ranges_.insert(next, Range{offset, bytes});
    // Merge with the following range, then with the preceding one.
    if (std::next(next) != ranges_.end() && next->offset + next->size == std::next(next)->offset) {
      next->size += std::next(next)->size;
      ranges_.erase(std::next(next));
    }
    if (next != ranges_.begin() &&
        std::prev(next)->offset + std::prev(next)->size == next->offset) {
      std::prev(next)->size += next->size;
      ranges_.erase(next);
    }
  }

  size_t end() const { return end_; }

 private:
  struct Range {
    size_t offset;
    size_t size;
  };
  std::vector<Range> ranges_;
  size_t end_ = 0;
};

}  // namespace

std::vector<int> last_uses(const Graph& graph) {
  std::vector<int> last(graph.tensors().size(), -1);
  const auto& nodes = graph.nodes();
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
    const Tensor* node = nodes[i];
    // A view reads nothing itself, but a node that reads the view reads its owner.
    if (node->is_view()) continue;
    for (int s = 0; s < node->n_src; ++s) {
      const Tensor* source = node->src[s];
      last[source->id] = i;
      for (const Tensor* t = source; t->view_source != nullptr; t = t->view_source) {
        last[t->view_source->id] = i;
      }
    }
  }
  return last;
}

ArenaPlan plan_arena(const Graph& graph, const std::function<bool(const Tensor&)>& select) {
  const auto& nodes = graph.nodes();
  std::vector<int> last = last_uses(graph);

  std::vector<bool> pinned(graph.tensors().size(), false);
  for (const Tensor* output : graph.outputs())
    pinned[output->storage_owner()->id] = true;

  // Tensors whose memory becomes free after node i ran, grouped by i.
  std::vector<std::vector<const Tensor*>> frees(nodes.size());
  std::vector<size_t> offset_of(graph.tensors().size(), std::numeric_limits<size_t>::max());

  ArenaPlan plan;
  FreeList free_list;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Tensor* node = nodes[i];
    if (!shares_storage(*node) && (!select || select(*node))) {
      const size_t bytes = align_up(std::max<size_t>(node->n_bytes(), 1));
      const size_t offset = free_list.take(bytes);
      offset_of[node->id] = offset;
      plan.offsets.emplace_back(node, offset);
      if (!pinned[node->id]) {
        // Unread tensors are freed right after their own node.
        const size_t free_after = last[node->id] < 0 ? i : static_cast<size_t>(last[node->id]);
        frees[std::max(free_after, i)].push_back(node);
      }
    }
    for (const Tensor* done : frees[i]) {
      free_list.give_back(offset_of[done->id], align_up(std::max<size_t>(done->n_bytes(), 1)));
    }
  }
  plan.size = free_list.end();
  return plan;
}

void place_in_arena(const ArenaPlan& plan, void* base) {
  HLLM_CHECK(plan.size == 0 || base != nullptr, "arena of {} bytes has no memory", plan.size);
  HLLM_CHECK(reinterpret_cast<uintptr_t>(base) % kArenaAlignment == 0,
             "arena memory at {} is not {}-byte aligned", base, kArenaAlignment);
  auto* bytes = static_cast<std::byte*>(base);
  for (const auto& [tensor, offset] : plan.offsets)
    tensor->data = bytes + offset;
}

void resolve_views(const Graph& graph) {
  for (Tensor* node : graph.nodes()) {
    if (node->view_source == nullptr) continue;
    auto* source_data = static_cast<std::byte*>(node->view_source->data);
    node->data = source_data == nullptr ? nullptr : source_data + node->view_offset;
  }
}

}  // namespace hllm
