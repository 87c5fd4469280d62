// Runs planned graphs on the CPU and the device: an arena per backend for the intermediates, device
// copies of the weights and state the plan keeps there, mirrors of tensors read across backends,
// and the copies before each split.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "graph/allocator.h"
#include "graph/graph.h"
#include "sched/plan.h"

namespace hllm::sched {

class Executor {
 public:
  // device may be null (every plan is then CPU-only). Both backends must outlive the executor.
  Executor(Backend& cpu, Backend* device);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Assigns memory to the graph's tensors and points every node that reads a tensor living on
  // the other backend at a mirror of it. Leaves must point at their host data: weights at the
  // file's memory map, state and inputs at host memory that outlives the executor. Weights and
  // state that the plan keeps on the device are uploaded on first use and shared by every graph
  // prepared later, keyed by their host address; the state leaves are pointed at the device copy.
  void prepare(Graph& graph, const Plan& plan);

  // Evaluates a prepared graph: for each split, copies in the inputs the plan lists, then
  // computes its nodes. Afterwards every graph output's data is in host memory.
  void run(Graph& graph);

  // Zeroes bytes [offset, offset + bytes) of the device copy of the state whose host memory
  // starts at host; does nothing when that state is not on the device.
  void clear_state(const void* host, size_t offset, size_t bytes);

  // Bytes the device holds for weights and state (arenas and mirrors excluded).
  size_t device_resident_bytes() const;

 private:
  struct Resident;
  struct Prepared;

  Tensor& resident_copy(const Tensor& leaf);
  void place(Prepared& prepared);
  void copy_input(const Tensor& owner, Tensor& mirror, int to_backend);

  Backend& cpu_;
  Backend* device_;
  std::map<const void*, std::unique_ptr<Resident>> resident_;  // by host address
  // Intermediates and mirrors of every graph share one buffer of each per backend, because one
  // graph runs at a time.
  std::unique_ptr<Buffer> arenas_[2];
  std::unique_ptr<Buffer> mirror_buffers_[2];
  std::map<const Graph*, std::unique_ptr<Prepared>> prepared_;
};

}  // namespace hllm::sched
