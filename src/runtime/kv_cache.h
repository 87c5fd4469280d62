// Bookkeeping of the KV cache cells shared by every attention layer: which sequence and position
// each cell holds. The cells' data lives in per-layer state tensors owned by the session.
#pragma once

#include <cstdint>
#include <vector>

namespace hllm {

class KvCells {
 public:
  explicit KvCells(int64_t n_cells);

  int64_t size() const { return static_cast<int64_t>(cells_.size()); }

  // Finds a free cell for each token and records its sequence and position. Returns the cells.
  // Throws Error when the cache is full.
  std::vector<int32_t> allocate(const std::vector<int32_t>& seq_ids, const std::vector<int32_t>& positions);

  // Frees every cell of a sequence.
  void remove_sequence(int32_t seq_id);
  void clear();

  // Number of cells attention must read: one past the highest used cell, rounded up to `padding`
  // so that graphs for consecutive decode steps have the same shape, and capped at size().
  int64_t used_extent(int64_t padding) const;

  // Fills mask [n_kv, n_tokens] (n_kv fastest): 0 where token i may attend to the cell (same
  // sequence, position not after the token's), else -infinity.
  void fill_mask(float* mask, int64_t n_kv, const std::vector<int32_t>& seq_ids,
                 const std::vector<int32_t>& positions) const;

  // Highest position stored for a sequence, or -1 when it has none.
  int32_t max_position(int32_t seq_id) const;

 private:
  struct Cell {
    int32_t seq = -1;  // -1: free
    int32_t position = -1;
  };
  std::vector<Cell> cells_;
};

}  // namespace hllm
