// The single-backend graph runner: every node on the CPU, intermediates in one arena that all
// cached graphs share, because only one graph runs at a time.
#include <map>
#include <span>

#include "backends/cpu/cpu_backend.h"
#include "graph/allocator.h"
#include "runtime/graph_runner.h"

namespace hllm {

namespace {

class CpuRunner : public GraphRunner {
 public:
  explicit CpuRunner(int n_threads) : backend_(n_threads) {}

  void prepare(ModelGraph& graph) override {
    ArenaPlan& plan = plans_[&graph];
    plan = plan_arena(graph.graph);
    if (!arena_ || arena_->size() < plan.size) {
      arena_ = backend_.allocate(plan.size);
      // Every graph placed so far pointed into the old arena.
      for (auto& [other, other_plan] : plans_) place(*other, other_plan);
    } else {
      place(graph, plan);
    }
  }

  void run(ModelGraph& graph) override {
    const auto& nodes = graph.graph.nodes();
    backend_.compute(std::span<Tensor* const>(nodes.data(), nodes.size()));
  }

  void set_node_timer(NodeTimer timer) override { backend_.set_node_timer(std::move(timer)); }

  size_t split_count(const ModelGraph& graph) const override {
    (void)graph;
    return 1;
  }

 private:
  void place(ModelGraph& graph, const ArenaPlan& plan) {
    place_in_arena(plan, arena_->data());
    resolve_views(graph.graph);
  }

  CpuBackend backend_;
  std::unique_ptr<Buffer> arena_;
  std::map<ModelGraph*, ArenaPlan> plans_;
};

}  // namespace

std::unique_ptr<GraphRunner> make_cpu_runner(int n_threads) {
  return std::make_unique<CpuRunner>(n_threads);
}

}  // namespace hllm
