// Runs a model graph: decides where its nodes compute, assigns their memory and evaluates it.
// Leaves (weights, inputs, state) have their data bound by the session before prepare().
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "backends/cpu/cpu_backend.h"
#include "models/model_graph.h"
#include "sched/placement.h"

namespace hllm {

class GraphRunner {
 public:
  virtual ~GraphRunner() = default;
  // Called once per built graph, before the first run().
  virtual void prepare(ModelGraph& graph) = 0;
  // Evaluates the graph; inputs have been filled.
  virtual void run(ModelGraph& graph) = 0;

  // Called after the session zeroed bytes [offset, offset + bytes) of a state tensor's host
  // memory (a removed sequence), so that a runner keeping that state on a device clears it too.
  virtual void state_cleared(const void* host, size_t offset, size_t bytes) {
    (void)host, (void)offset, (void)bytes;
  }
  // One line on where the first prepared graph runs ("3 splits, ..."); empty for the CPU runner.
  virtual std::string plan_summary() const { return {}; }

  // Times each node that the CPU backend computes in later runs; an empty timer stops timing.
  // A runner without timing support ignores the timer.
  virtual void set_node_timer(NodeTimer timer) { (void)timer; }
  // Splits of a prepared graph: runs of consecutive nodes that one backend computes. 0 when the
  // runner does not report them.
  virtual size_t split_count(const ModelGraph& graph) const {
    (void)graph;
    return 0;
  }
};

// Runs every node on the CPU backend with n_threads threads.
std::unique_ptr<GraphRunner> make_cpu_runner(int n_threads);

// Runs each graph as the scheduler plans it on the CPU and the device that options name. The
// first graph prepared is planned freely and fixes where weights and state live; the session
// prepares the largest micro-batch shape first (worst_case_shape) so that this plan fits every
// later graph.
std::unique_ptr<GraphRunner> make_sched_runner(const ModelSpec& spec, int n_threads,
                                               const sched::PlacementOptions& options);

// The largest micro-batch a session evaluates: n_ubatch tokens of one sequence, every one an
// output, attending to all n_ctx cells.
BatchShape worst_case_shape(const ModelSpec& spec, int64_t n_ubatch, int64_t n_ctx);

// The constraints of the options for a model's graph: the layer count and the output head's
// weights come from the model.
sched::Constraints model_constraints(const ModelSpec& spec, const ModelGraph& graph,
                                     const sched::PlacementOptions& options, const Backend* device);

}  // namespace hllm
