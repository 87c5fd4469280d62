// The multi-backend graph runner: plans each graph on the CPU and a device, then runs it split by
// split with the scheduler's executor.
#include <algorithm>
#include <map>
#include <memory>

#include "backends/cpu/cpu_backend.h"
#include "runtime/graph_runner.h"
#include "sched/executor.h"
#include "sched/plan.h"
#include "util/log.h"

namespace hllm {

namespace {

class SchedRunner : public GraphRunner {
 public:
  SchedRunner(const ModelSpec& spec, int n_threads, const sched::PlacementOptions& options)
      : spec_(spec),
        options_(options),
        cpu_(n_threads),
        device_(sched::make_device(options.device, cpu_)),
        executor_(cpu_, device_.get()) {}

  void prepare(ModelGraph& graph) override {
    sched::Constraints constraints = model_constraints(spec_, graph, options_, device_.get());
    sched::Plan plan;
    if (!fixed_) {
      plan = sched::plan_graph(graph.graph, cpu_, device_.get(), constraints);
      fixed_ = std::make_unique<sched::FixedResidency>(plan.fixed_residency());
      summary_ = sched::plan_summary(plan);
    } else {
      // Weights and state stay where the load-time plan put them, which was sized for the largest
      // micro-batch, so the budget needs no second repair.
      constraints.device_memory = 0;
      plan = sched::plan_graph(graph.graph, cpu_, device_.get(), constraints, {}, fixed_.get());
    }
    log::debug("plan for {} tokens x {} sequences: {}", graph.shape.n_seq_tokens,
               graph.shape.n_seqs, sched::plan_summary(plan));
    splits_[&graph] = plan.splits.size();
    executor_.prepare(graph.graph, plan);
  }

  void run(ModelGraph& graph) override { executor_.run(graph.graph); }

  void state_cleared(const void* host, size_t offset, size_t bytes) override {
    executor_.clear_state(host, offset, bytes);
  }

  std::string plan_summary() const override { return summary_; }

  // The simulated device computes with the CPU backend's kernels, so its nodes are timed too.
  void set_node_timer(NodeTimer timer) override { cpu_.set_node_timer(std::move(timer)); }

  size_t split_count(const ModelGraph& graph) const override {
    auto it = splits_.find(&graph);
    return it == splits_.end() ? 0 : it->second;
  }

 private:
  const ModelSpec& spec_;
  sched::PlacementOptions options_;
  CpuBackend cpu_;
  std::unique_ptr<Backend> device_;
  sched::Executor executor_;
  std::unique_ptr<sched::FixedResidency> fixed_;
  std::string summary_;
  std::map<const ModelGraph*, size_t> splits_;  // splits of each prepared graph
};

}  // namespace

std::unique_ptr<GraphRunner> make_sched_runner(const ModelSpec& spec, int n_threads,
                                               const sched::PlacementOptions& options) {
  return std::make_unique<SchedRunner>(spec, n_threads, options);
}

BatchShape worst_case_shape(const ModelSpec& spec, int64_t n_ubatch, int64_t n_ctx) {
  const bool has_attention =
      std::any_of(spec.layers.begin(), spec.layers.end(),
                  [](LayerKind kind) { return kind != LayerKind::GatedDeltaNet; });
  BatchShape shape;
  shape.n_seq_tokens = n_ubatch;
  shape.n_seqs = 1;
  shape.n_kv = has_attention ? n_ctx : 0;
  shape.n_outputs = n_ubatch;
  return shape;
}

sched::Constraints model_constraints(const ModelSpec& spec, const ModelGraph& graph,
                                     const sched::PlacementOptions& options,
                                     const Backend* device) {
  sched::Constraints constraints = sched::make_constraints(options, device);
  constraints.n_layer = static_cast<int>(spec.layers.size());
  std::map<const GgufTensorInfo*, Role> roles;
  for (const BoundTensor& bound : spec.tensors)
    roles[bound.info] = bound.role;
  for (const WeightBinding& binding : graph.weights) {
    auto it = roles.find(binding.info);
    if (it != roles.end() && it->second == Role::Output)
      constraints.output_weights.push_back(binding.leaf);
  }
  return constraints;
}

}  // namespace hllm
