// The CPU backend: computes every op with the kernels of backends/cpu on a fixed thread pool,
// in 64-byte aligned host memory. It is the numerical reference and the fallback for other
// backends.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "graph/graph.h"
#include "util/thread_pool.h"

namespace hllm {

class CpuBackend : public Backend {
 public:
  // Starts n_threads - 1 worker threads, which every kernel of every compute call shares.
  explicit CpuBackend(int n_threads);

  std::string_view name() const override { return "cpu"; }
  bool supports(const Tensor& node) const override;
  std::unique_ptr<Buffer> allocate(size_t bytes) override;
  // Throws Error for a node it does not support, or whose data or sources' data is missing.
  void compute(std::span<Tensor* const> nodes) override;
  void copy_in(Tensor& tensor, const void* host, size_t offset, size_t bytes) override;
  void copy_out(const Tensor& tensor, void* host, size_t offset, size_t bytes) override;

  int n_threads() const { return pool_.size(); }

 private:
  void compute_node(Tensor& node);

  ThreadPool pool_;
  cpu::CpuContext context_;
};

// Host memory for a graph's intermediates, kept across evaluations so that graphs of the same
// size reuse it.
class ArenaBuffer {
 public:
  // Returns at least bytes of memory from backend, reallocating (and dropping the contents) when
  // the current buffer is smaller.
  void* reserve(Backend& backend, size_t bytes);
  size_t size() const { return buffer_ ? buffer_->size() : 0; }

 private:
  std::unique_ptr<Buffer> buffer_;
};

// Places every computed tensor of the graph in arena (see graph/allocator.h), resolves views and
// computes every node on the CPU. Leaves must already point at their data.
void evaluate(Graph& graph, CpuBackend& backend, ArenaBuffer& arena);

}  // namespace hllm
