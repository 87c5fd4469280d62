// Placement of a graph on the CPU and at most one device: which backend computes each node,
// where each weight and state tensor lives, the splits in node order, what each split copies in,
// and why. See plan.cpp for the minimum-cut formulation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"
#include "sched/cost_model.h"

namespace hllm::sched {

// Backend indices in a plan.
constexpr int kCpu = 0;
constexpr int kDevice = 1;

// A user rule placing the weights whose name matches a regular expression.
struct WeightOverride {
  std::string pattern;  // ECMAScript regex matched against the whole weight name
  int backend = kCpu;
};

// The user's constraints on placement.
struct Constraints {
  // Layers at or above this index run on the CPU with their weights and state; -1: no limit.
  // Like llama.cpp's -ngl, the output head counts as layer n_layer: it stays on the CPU unless
  // gpu_layers > n_layer. The token embedding is never constrained by it.
  int gpu_layers = -1;
  int n_layer = 0;                            // decoding layers of the model
  std::vector<const Tensor*> output_weights;  // the output head's weights (final norm, projection)
  std::vector<WeightOverride> overrides;      // the first matching rule wins
  bool cpu_moe = false;      // routed-expert weights (read by mul_mat_id) on the CPU
  size_t device_memory = 0;  // bytes of device memory; 0: unlimited
};

// Parses "PATTERN=DEVICE", DEVICE being "cpu" or the device's name. Throws Error for a missing
// '=', an unknown device or an invalid regex.
WeightOverride parse_override(const std::string& text, const std::string& device_name);

// The cause of a split starting where it does.
enum class SplitReason {
  GraphStart,        // the first split
  UnsupportedOp,     // the device lacks an op of this CPU split (detail: the op and node)
  UserConstraint,    // a node or weight of this split is pinned by --gpu-layers, --override or
                     // --cpu-moe
  MemoryBudget,      // weights or state of this split were moved to the CPU to fit device memory
  WeightResidency,   // a node reads a weight fixed on this backend by the load-time plan
  StateResidency,    // a node updates state that lives on this backend
  PreferredBackend,  // the device again, after a CPU run: it computes faster
  Cost,              // the minimum cut found this cheaper than copying
};

// The cause of a weight or state tensor living where it does.
enum class ResidencyReason {
  Consumers,       // it lives where the nodes reading it run
  NoConsumers,     // nothing in the graph reads it
  UserConstraint,  // --gpu-layers, --override or --cpu-moe
  MemoryBudget,    // moved to the CPU to fit device memory
  LoadPlan,        // fixed by the plan made when the model was loaded
};

const char* split_reason_name(SplitReason reason);
const char* residency_reason_name(ResidencyReason reason);

struct Split {
  int backend = kCpu;
  int first = 0;      // index in graph.nodes() of the first node
  int last = 0;       // index of the last node (inclusive)
  int n_compute = 0;  // nodes that compute something (views excluded)
  SplitReason reason = SplitReason::GraphStart;
  std::string detail;                 // e.g. "delta_rule (linear_attn_core-0)"
  std::vector<const Tensor*> inputs;  // storage owners copied in before it runs, in first-use order
  size_t copy_bytes = 0;              // bytes of those inputs that change per evaluation
};

// A weight or state tensor's residency.
struct Residency {
  const Tensor* tensor = nullptr;
  bool on_device = false;  // a device copy exists
  bool on_cpu = false;     // CPU nodes read it (weights: in place from the file's memory map)
  ResidencyReason reason = ResidencyReason::Consumers;
  std::string detail;  // the constraint that applied, when one did
};

// The residency of weights and state decided when the model was loaded, by tensor name, so that
// later graphs (other micro-batch shapes) keep it.
struct FixedResidency {
  std::vector<std::pair<std::string, bool>> on_device;  // sorted by name
  std::optional<bool> find(const std::string& name) const;
};

struct Plan {
  std::vector<std::string> backend_names;  // [kCpu] = "cpu", [kDevice] = the device when present
  std::vector<int8_t> backend;  // by tensor id: backend of each node, and home of each leaf
  std::vector<Split> splits;
  std::vector<Residency> weights;  // in graph order
  std::vector<Residency> states;
  int n_nodes = 0;    // graph.nodes().size(), views included
  int n_compute = 0;  // nodes that compute something
  int n_compute_on_device = 0;
  size_t copy_bytes = 0;  // per evaluation, split inputs plus outputs copied back to the CPU
  int64_t cost_ns = 0;    // estimated cost of the placement: compute, copies and splits
  int64_t cut_ns = 0;     // value of the minimum cut (0 without a device)
  // Device memory: weights and state resident there, the arena for its intermediates, and the
  // copies of CPU tensors its nodes read.
  size_t device_weight_bytes = 0;
  size_t device_state_bytes = 0;
  size_t device_arena_bytes = 0;
  size_t device_mirror_bytes = 0;
  size_t device_total_bytes() const {
    return device_weight_bytes + device_state_bytes + device_arena_bytes + device_mirror_bytes;
  }
  int n_layers_moved = 0;  // layers moved to the CPU to fit the device memory budget

  // Returns the residency of fixed weights and state, for planning later graphs.
  FixedResidency fixed_residency() const;
};

// Plans the graph on the CPU and, when device is not null, the device. fixed, when given, is the
// residency of weights and state from the load-time plan. The plan reads tensor
// descriptions only, never their data. Throws Error when constraints contradict each other.
Plan plan_graph(const Graph& graph, const Backend& cpu, const Backend* device,
                const Constraints& constraints, const CostModel& cost = {},
                const FixedResidency* fixed = nullptr);

// "3 splits, 1.2 MiB copied per evaluation, 96% of nodes on sim".
std::string plan_summary(const Plan& plan);

// "1.2 MiB", "512 B".
std::string format_bytes(size_t bytes);

}  // namespace hllm::sched
