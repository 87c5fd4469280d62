#include "runtime/kv_cache.h"

#include <algorithm>
#include <limits>

#include "util/error.h"

namespace hllm {

KvCells::KvCells(int64_t n_cells) : cells_(static_cast<size_t>(n_cells)) {}

std::vector<int32_t> KvCells::allocate(const std::vector<int32_t>& seq_ids,
                                       const std::vector<int32_t>& positions) {
  std::vector<int32_t> assigned;
  assigned.reserve(seq_ids.size());
  int64_t cursor = 0;  // first fit keeps the used extent, and so attention's length, small
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    while (cursor < size() && cells_[cursor].seq >= 0) ++cursor;
    if (cursor >= size()) {
      // Undo this call's allocations so that a failed batch leaves the cache as it was.
      for (int32_t cell : assigned) cells_[cell] = Cell{};
      fail("the KV cache is full: {} cells all in use; raise the context size (-c) or remove "
           "sequences", size());
    }
    cells_[cursor] = Cell{seq_ids[i], positions[i]};
    assigned.push_back(static_cast<int32_t>(cursor));
  }
  return assigned;
}

void KvCells::remove_sequence(int32_t seq_id) {
  for (Cell& cell : cells_) {
    if (cell.seq == seq_id) cell = Cell{};
  }
}

void KvCells::clear() {
  std::fill(cells_.begin(), cells_.end(), Cell{});
}

int64_t KvCells::used_extent(int64_t padding) const {
  int64_t extent = 0;
  for (int64_t i = size() - 1; i >= 0; --i) {
    if (cells_[i].seq >= 0) {
      extent = i + 1;
      break;
    }
  }
  extent = (extent + padding - 1) / padding * padding;
  return std::min(std::max<int64_t>(extent, 1), size());
}

void KvCells::fill_mask(float* mask, int64_t n_kv, const std::vector<int32_t>& seq_ids,
                        const std::vector<int32_t>& positions) const {
  const float blocked = -std::numeric_limits<float>::infinity();
  for (size_t t = 0; t < seq_ids.size(); ++t) {
    float* row = mask + t * n_kv;
    for (int64_t c = 0; c < n_kv; ++c) {
      const Cell& cell = cells_[c];
      row[c] = (cell.seq == seq_ids[t] && cell.position <= positions[t]) ? 0.0f : blocked;
    }
  }
}

int32_t KvCells::max_position(int32_t seq_id) const {
  int32_t result = -1;
  for (const Cell& cell : cells_) {
    if (cell.seq == seq_id) result = std::max(result, cell.position);
  }
  return result;
}

}  // namespace hllm
