// The CPU backend: computes every op with the kernels of backends/cpu on a fixed thread pool,
// in 64-byte aligned host memory. It is the numerical reference and the fallback for other
// backends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "graph/graph.h"
#include "util/thread_pool.h"

namespace hllm {

// Receives each computed node and its wall time in nanoseconds, on the thread that called
// compute(). Views compute nothing and are not reported.
using NodeTimer = std::function<void(const Tensor& node, int64_t nanoseconds)>;

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

  // Times every node that compute() runs from now on; an empty timer turns timing off. Without
  // a timer compute() reads no clock.
  void set_node_timer(NodeTimer timer) { node_timer_ = std::move(timer); }

 private:
  void compute_node(Tensor& node);
  void compute_timed(Tensor& node);

  ThreadPool pool_;
  cpu::CpuContext context_;
  NodeTimer node_timer_;
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
