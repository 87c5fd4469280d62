// Node assignment as a minimum s-t cut.
//
// With the CPU and one device, every computing node, weight, input and state leaf is a vertex of
// a flow network. The source is the device and the sink is the CPU, so a vertex on the sink side
// of the minimum cut runs (or lives) on the CPU. Edges, in nanoseconds of the cost model:
//
//   source -> node   CPU time of the node          (paid when the node runs on the CPU)
//   node -> sink     device time of the node       (paid on the device; infinite when the device
//                                                   lacks the op or a constraint pins the node)
//   leaf -> sink     residency of a weight or state in device memory (infinite when pinned to
//                    the CPU); source -> leaf is infinite when pinned to the device
//   consumer -> weight  infinite: a node on the device reads the device copy of its weights, so
//                    a weight lives on the device when any consumer runs there. CPU nodes read
//                    weights in place from the file's memory map, which costs nothing.
//   in-place updates (set_rows into the KV cache, ssm_conv and delta_rule into the recurrent
//                    state) and their state leaf: infinite both ways, so they run where it lives
//   data: for each storage owner with consumers, two auxiliary vertices a and b with
//                    owner -> a (copy cost), a -> consumer (infinite) and
//                    consumer -> b (infinite), b -> owner (copy cost),
//                    so the copy to the other backend is paid once however many consumers there
//                    read it, which is what the executor does (one mirror per owner and backend).
//
// Graph outputs (logits) are copied back to the host after the last split. That copy counts in
// Plan::copy_bytes but not in the cut: as in llama.cpp, the output head follows the layers, so a
// large vocabulary does not pull the final projection back to the CPU and add a split.
// Views are not vertices: a consumer of a view reads the view's storage owner.
#include "sched/plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "graph/allocator.h"
#include "sched/min_cut.h"
#include "util/error.h"

namespace hllm::sched {

namespace {

using Capacity = FlowNetwork::Capacity;
constexpr Capacity kInfinite = FlowNetwork::kInfinite;

// The storage owner a node updates in place, or nullptr.
const Tensor* in_place_target(const Tensor& node) {
  const int written = in_place_source(node.op);
  return written < 0 ? nullptr : node.src[written]->storage_owner();
}

// Whether the tensor owns storage that nodes read: a leaf or a computing node that is not an
// in-place update.
bool owns_storage(const Tensor& tensor) {
  return tensor.view_source == nullptr;
}

std::string display_name(const Tensor& tensor) {
  return tensor.name.empty() ? fmt::format("{}#{}", op_name(tensor.op), tensor.id) : tensor.name;
}

std::string leaf_key(const Tensor& leaf) {
  return leaf.layer >= 0 && leaf.leaf == LeafKind::State
             ? fmt::format("{}-{}", leaf.name, leaf.layer)
             : leaf.name;
}

// A vertex's pinned backend and the reason for it.
struct Pin {
  int backend = -1;  // -1: free
  ResidencyReason reason = ResidencyReason::Consumers;
  std::string detail;
};

class Planner {
 public:
  Planner(const Graph& graph, const Backend& cpu, const Backend* device,
          const Constraints& constraints, const CostModel& cost, const FixedResidency* fixed)
      : graph_(graph),
        cpu_(cpu),
        device_(device),
        constraints_(constraints),
        cost_(cost),
        fixed_(fixed) {
    const size_t n = graph.tensors().size();
    pins_.resize(n);
    consumers_.resize(n);
    find_consumers();
  }

  Plan run();

 private:
  void find_consumers();
  void apply_constraints();
  void pin(const Tensor& tensor, int backend, ResidencyReason reason, std::string detail);
  void pin_layer_to_cpu(int layer, const std::string& detail);
  std::vector<int8_t> cut();
  int64_t cut_ns_ = 0;
  Plan describe(const std::vector<int8_t>& backend) const;
  void measure_device_memory(const std::vector<int8_t>& backend, Plan& plan) const;
  void build_splits(const std::vector<int8_t>& backend, Plan& plan) const;
  void explain_split(Split& split, const std::vector<int8_t>& backend) const;
  void record_residency(const std::vector<int8_t>& backend, Plan& plan) const;
  bool moves_layer_for_budget(const std::vector<int8_t>& backend, int& moved);
  bool device_supports(const Tensor& node) const {
    return device_ != nullptr && device_->supports(node);
  }

  const Graph& graph_;
  const Backend& cpu_;
  const Backend* device_;
  const Constraints& constraints_;
  const CostModel& cost_;
  const FixedResidency* fixed_;
  std::vector<Pin> pins_;                              // by tensor id
  std::vector<std::vector<const Tensor*>> consumers_;  // by owner id: computing nodes reading it
  std::vector<const Tensor*> graph_outputs_;
  std::vector<bool> layer_moved_;  // by layer: moved to the CPU by the memory budget
};

void Planner::find_consumers() {
  for (const Tensor* node : graph_.nodes()) {
    if (node->is_view()) continue;
    const int written = in_place_source(node->op);
    for (int i = 0; i < node->n_src; ++i) {
      if (i == written) continue;
      const Tensor* owner = node->src[i]->storage_owner();
      auto& list = consumers_[owner->id];
      if (list.empty() || list.back() != node) list.push_back(node);
    }
  }
  for (const Tensor* output : graph_.outputs())
    graph_outputs_.push_back(output->storage_owner());
}

void Planner::pin(const Tensor& tensor, int backend, ResidencyReason reason, std::string detail) {
  Pin& p = pins_[tensor.id];
  if (p.backend >= 0) return;  // the first constraint applied wins
  p = Pin{backend, reason, std::move(detail)};
}

void Planner::apply_constraints() {
  if (device_ == nullptr) return;
  std::vector<std::regex> patterns;
  for (const WeightOverride& rule : constraints_.overrides)
    patterns.emplace_back(rule.pattern);

  std::vector<bool> expert_weight(graph_.tensors().size(), false);
  for (const Tensor* node : graph_.nodes()) {
    if (node->op == Op::MulMatId) expert_weight[node->src[0]->storage_owner()->id] = true;
  }
  std::vector<bool> output_weight(graph_.tensors().size(), false);
  for (const Tensor* weight : constraints_.output_weights)
    output_weight[weight->id] = true;

  const int limit = constraints_.gpu_layers;
  const std::string layers_detail = fmt::format("--gpu-layers {}", limit);
  for (const Tensor* leaf : graph_.leaves()) {
    if (leaf->leaf == LeafKind::Weight) {
      if (fixed_ != nullptr) {
        if (auto on_device = fixed_->find(leaf_key(*leaf))) {
          pin(*leaf, *on_device ? kDevice : kCpu, ResidencyReason::LoadPlan, "");
          continue;
        }
      }
      for (size_t r = 0; r < patterns.size(); ++r) {
        if (std::regex_match(leaf->name, patterns[r])) {
          const WeightOverride& rule = constraints_.overrides[r];
          pin(*leaf, rule.backend, ResidencyReason::UserConstraint,
              fmt::format("--override {}", rule.pattern));
          break;
        }
      }
      if (constraints_.cpu_moe && expert_weight[leaf->id]) {
        pin(*leaf, kCpu, ResidencyReason::UserConstraint, "--cpu-moe");
      }
      if (limit >= 0) {
        const int layer = output_weight[leaf->id] ? constraints_.n_layer : leaf->layer;
        if (layer >= limit && (layer >= 0))
          pin(*leaf, kCpu, ResidencyReason::UserConstraint, layers_detail);
      }
    } else if (leaf->leaf == LeafKind::State) {
      if (fixed_ != nullptr) {
        if (auto on_device = fixed_->find(leaf_key(*leaf))) {
          pin(*leaf, *on_device ? kDevice : kCpu, ResidencyReason::LoadPlan, "");
          continue;
        }
      }
      if (limit >= 0 && leaf->layer >= limit)
        pin(*leaf, kCpu, ResidencyReason::UserConstraint, layers_detail);
    } else {
      // Inputs are written by the runtime in host memory.
      pin(*leaf, kCpu, ResidencyReason::Consumers, "");
    }
  }
  if (limit >= 0) {
    for (const Tensor* node : graph_.nodes()) {
      if (!node->is_view() && node->layer >= limit)
        pin(*node, kCpu, ResidencyReason::UserConstraint, layers_detail);
    }
  }
}

void Planner::pin_layer_to_cpu(int layer, const std::string& detail) {
  for (const Tensor* leaf : graph_.leaves()) {
    if (leaf->layer == layer && leaf->leaf != LeafKind::Input)
      pin(*leaf, kCpu, ResidencyReason::MemoryBudget, detail);
  }
  for (const Tensor* node : graph_.nodes()) {
    if (!node->is_view() && node->layer == layer)
      pin(*node, kCpu, ResidencyReason::MemoryBudget, detail);
  }
}

std::vector<int8_t> Planner::cut() {
  const auto& tensors = graph_.tensors();
  std::vector<int8_t> backend(tensors.size(), kCpu);
  if (device_ == nullptr) return backend;

  FlowNetwork network;
  const int source = network.add_node();  // the device
  const int sink = network.add_node();    // the CPU
  std::vector<int> vertex(tensors.size(), -1);
  for (const Tensor& tensor : tensors) {
    if (!tensor.is_view()) vertex[tensor.id] = network.add_node();
  }
  auto pin_edges = [&](const Tensor& tensor) {
    const Pin& p = pins_[tensor.id];
    if (p.backend == kCpu) network.add_edge(vertex[tensor.id], sink, kInfinite);
    if (p.backend == kDevice) network.add_edge(source, vertex[tensor.id], kInfinite);
  };

  for (const Tensor* node : graph_.nodes()) {
    if (node->is_view()) continue;
    const int v = vertex[node->id];
    network.add_edge(source, v, cost_.cpu_ns(*node));
    network.add_edge(v, sink, device_supports(*node) ? cost_.device_ns(*node) : kInfinite);
    pin_edges(*node);
    if (const Tensor* state = in_place_target(*node)) {
      network.add_edge(v, vertex[state->id], kInfinite);
      network.add_edge(vertex[state->id], v, kInfinite);
    }
  }
  for (const Tensor* leaf : graph_.leaves()) {
    pin_edges(*leaf);
    if (leaf->leaf != LeafKind::Input)
      network.add_edge(vertex[leaf->id], sink, cost_.residency_ns(leaf->n_bytes()));
  }

  for (const Tensor& owner : tensors) {
    if (owner.is_view() || !owns_storage(owner)) continue;
    const auto& readers = consumers_[owner.id];
    if (readers.empty()) continue;
    const int o = vertex[owner.id];
    if (owner.leaf == LeafKind::Weight) {
      for (const Tensor* reader : readers)
        network.add_edge(vertex[reader->id], o, kInfinite);
      continue;
    }
    const Capacity copy = cost_.copy_ns(owner.n_bytes());
    const int to_cpu = network.add_node();
    const int to_device = network.add_node();
    network.add_edge(o, to_cpu, copy);
    network.add_edge(to_device, o, copy);
    for (const Tensor* reader : readers) {
      network.add_edge(to_cpu, vertex[reader->id], kInfinite);
      network.add_edge(vertex[reader->id], to_device, kInfinite);
    }
  }

  const Capacity flow = network.max_flow(source, sink);
  cut_ns_ = flow;
  HLLM_CHECK(
      flow < kInfinite,
      "no placement satisfies the constraints: a node pinned to {} must update state or read a "
      "weight pinned to the other backend",
      device_->name());
  const std::vector<bool> on_cpu = network.sink_side(sink);
  for (const Tensor& tensor : tensors) {
    if (vertex[tensor.id] >= 0) backend[tensor.id] = on_cpu[vertex[tensor.id]] ? kCpu : kDevice;
  }
  // Views and in-place updates live with their storage.
  for (const Tensor& tensor : tensors) {
    if (tensor.is_view() || tensor.op == Op::SetRows)
      backend[tensor.id] = backend[tensor.storage_owner()->id];
  }
  return backend;
}

// Whether the node reads the owner from memory of the given backend without a copy.
bool readable_on(const Tensor& owner, int reader_backend, const std::vector<int8_t>& backend) {
  if (owner.leaf == LeafKind::Weight) return reader_backend == kCpu || backend[owner.id] == kDevice;
  return backend[owner.id] == reader_backend;
}

void Planner::build_splits(const std::vector<int8_t>& backend, Plan& plan) const {
  const auto& nodes = graph_.nodes();
  // Versions of each owner's contents within one evaluation, and of each mirror, as the executor
  // tracks them: a mirror is copied when its owner changed since the last copy.
  std::vector<int> version(graph_.tensors().size(), 0);
  std::map<std::pair<int, int>, int> mirror_version;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
    const Tensor* node = nodes[i];
    if (node->is_view()) continue;
    const int b = backend[node->id];
    if (plan.splits.empty() || plan.splits.back().backend != b) {
      if (!plan.splits.empty()) plan.splits.back().last = i - 1;
      Split split;
      split.backend = b;
      split.first = plan.splits.empty() ? 0 : i;
      plan.splits.push_back(split);
    }
    Split& split = plan.splits.back();
    ++split.n_compute;
    const int written = in_place_source(node->op);
    for (int s = 0; s < node->n_src; ++s) {
      if (s == written) continue;
      const Tensor* owner = node->src[s]->storage_owner();
      if (readable_on(*owner, b, backend)) continue;
      int& copied = mirror_version.try_emplace({owner->id, b}, -1).first->second;
      if (copied == version[owner->id]) continue;
      copied = version[owner->id];
      split.inputs.push_back(owner);
      split.copy_bytes += owner->n_bytes();
    }
    ++version[node->storage_owner()->id];
    if (node->op != Op::SetRows && in_place_target(*node) != nullptr)
      ++version[in_place_target(*node)->id];
  }
  if (!plan.splits.empty()) plan.splits.back().last = static_cast<int>(nodes.size()) - 1;
  for (Split& split : plan.splits) {
    plan.copy_bytes += split.copy_bytes;
    explain_split(split, backend);
  }
  for (const Tensor* output : graph_outputs_) {
    if (backend[output->id] != kCpu) plan.copy_bytes += output->n_bytes();
  }
}

void Planner::explain_split(Split& split, const std::vector<int8_t>& backend) const {
  if (split.first == 0) {
    split.reason = SplitReason::GraphStart;
    return;
  }
  if (split.backend == kDevice) {
    split.reason = SplitReason::PreferredBackend;
    return;
  }
  // The strongest cause found among the split's nodes, in this order of priority.
  int best = 99;
  auto consider = [&](int rank, SplitReason reason, std::string detail) {
    if (rank < best) {
      best = rank;
      split.reason = reason;
      split.detail = std::move(detail);
    }
  };
  auto pinned_cause = [&](const Tensor& tensor, const Tensor& node, bool is_state) {
    const Pin& p = pins_[tensor.id];
    if (p.backend != kCpu) return;
    if (p.reason == ResidencyReason::UserConstraint) {
      consider(1, SplitReason::UserConstraint,
               fmt::format("{} ({})", p.detail, display_name(tensor)));
    } else if (p.reason == ResidencyReason::MemoryBudget) {
      consider(2, SplitReason::MemoryBudget,
               fmt::format("{} ({})", p.detail, display_name(tensor)));
    } else if (p.reason == ResidencyReason::LoadPlan) {
      consider(is_state ? 4 : 3,
               is_state ? SplitReason::StateResidency : SplitReason::WeightResidency,
               fmt::format("{} read by {}", tensor.name, display_name(node)));
    }
  };
  const auto& nodes = graph_.nodes();
  for (int i = split.first; i <= split.last; ++i) {
    const Tensor& node = *nodes[i];
    if (node.is_view()) continue;
    if (!device_supports(node)) {
      // Every op the device lacks in this split, in node order.
      const std::string item = fmt::format("{} ({})", op_name(node.op), display_name(node));
      if (best == 0) {
        split.detail += ", " + item;
      } else {
        consider(0, SplitReason::UnsupportedOp, item);
      }
    }
    pinned_cause(node, node, false);
    for (int s = 0; s < node.n_src; ++s) {
      const Tensor& owner = *node.src[s]->storage_owner();
      if (owner.leaf == LeafKind::Weight) pinned_cause(owner, node, false);
    }
    if (const Tensor* state = in_place_target(node)) {
      pinned_cause(*state, node, true);
      if (backend[state->id] == kCpu)
        consider(5, SplitReason::StateResidency,
                 fmt::format("{} updated by {}", leaf_key(*state), display_name(node)));
    }
  }
  if (best == 99) split.reason = SplitReason::Cost;
}

void Planner::record_residency(const std::vector<int8_t>& backend, Plan& plan) const {
  for (const Tensor* leaf : graph_.leaves()) {
    if (leaf->leaf != LeafKind::Weight && leaf->leaf != LeafKind::State) continue;
    Residency r;
    r.tensor = leaf;
    r.on_device = device_ != nullptr && backend[leaf->id] == kDevice;
    const auto& readers = consumers_[leaf->id];
    if (leaf->leaf == LeafKind::Weight) {
      r.on_cpu = !r.on_device;
      for (const Tensor* reader : readers)
        r.on_cpu = r.on_cpu || backend[reader->id] == kCpu;
    } else {
      r.on_cpu = !r.on_device;
    }
    const Pin& p = pins_[leaf->id];
    if (p.backend >= 0 && leaf->leaf != LeafKind::Input) {
      r.reason = p.reason;
      r.detail = p.detail;
    } else if (readers.empty() && leaf->leaf == LeafKind::Weight) {
      r.reason = ResidencyReason::NoConsumers;
    }
    (leaf->leaf == LeafKind::Weight ? plan.weights : plan.states).push_back(std::move(r));
  }
}

void Planner::measure_device_memory(const std::vector<int8_t>& backend, Plan& plan) const {
  plan.device_weight_bytes = plan.device_state_bytes = plan.device_arena_bytes =
      plan.device_mirror_bytes = 0;
  if (device_ == nullptr) return;
  for (const Tensor* leaf : graph_.leaves()) {
    if (backend[leaf->id] != kDevice) continue;
    if (leaf->leaf == LeafKind::Weight) plan.device_weight_bytes += leaf->n_bytes();
    if (leaf->leaf == LeafKind::State) plan.device_state_bytes += leaf->n_bytes();
  }
  plan.device_arena_bytes =
      plan_arena(graph_, [&](const Tensor& tensor) { return backend[tensor.id] == kDevice; }).size;
  std::vector<bool> mirrored(graph_.tensors().size(), false);
  for (const Split& split : plan.splits) {
    if (split.backend != kDevice) continue;
    for (const Tensor* input : split.inputs) {
      // The executor aligns each mirror like an arena tensor.
      const size_t aligned =
          (input->n_bytes() + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
      if (!mirrored[input->id]) plan.device_mirror_bytes += aligned;
      mirrored[input->id] = true;
    }
  }
}

Plan Planner::describe(const std::vector<int8_t>& backend) const {
  Plan plan;
  plan.backend_names = {"cpu"};
  if (device_ != nullptr) plan.backend_names.emplace_back(device_->name());
  plan.backend = backend;
  plan.n_nodes = static_cast<int>(graph_.nodes().size());
  for (const Tensor* node : graph_.nodes()) {
    if (node->is_view()) continue;
    ++plan.n_compute;
    if (backend[node->id] == kDevice) {
      ++plan.n_compute_on_device;
      plan.cost_ns += cost_.device_ns(*node);
    } else {
      plan.cost_ns += cost_.cpu_ns(*node);
    }
  }
  build_splits(backend, plan);
  for (const Split& split : plan.splits) {
    plan.cost_ns += cost_.split_ns();
    for (const Tensor* input : split.inputs)
      plan.cost_ns += cost_.copy_ns(input->n_bytes());
  }
  record_residency(backend, plan);
  measure_device_memory(backend, plan);
  return plan;
}

// Moves the last layer still using the device to the CPU. Returns false when none is left.
bool Planner::moves_layer_for_budget(const std::vector<int8_t>& backend, int& moved) {
  int last = -1;
  for (const Tensor& tensor : graph_.tensors()) {
    const bool moved_before = tensor.layer >= 0 &&
                              tensor.layer < static_cast<int>(layer_moved_.size()) &&
                              layer_moved_[tensor.layer];
    if (tensor.layer >= 0 && !moved_before && !tensor.is_view() && backend[tensor.id] == kDevice &&
        (tensor.leaf == LeafKind::Weight || tensor.leaf == LeafKind::State ||
         tensor.leaf == LeafKind::None)) {
      last = std::max(last, tensor.layer);
    }
  }
  const std::string detail =
      fmt::format("device memory budget {}", format_bytes(constraints_.device_memory));
  if (last >= 0) {
    if (static_cast<int>(layer_moved_.size()) <= last) layer_moved_.resize(last + 1, false);
    layer_moved_[last] = true;
    pin_layer_to_cpu(last, detail);
    ++moved;
    return true;
  }
  // No layer left: the remaining weights, then every node.
  bool changed = false;
  for (const Tensor& tensor : graph_.tensors()) {
    if (tensor.is_view() || tensor.leaf == LeafKind::Input || backend[tensor.id] != kDevice)
      continue;
    if (pins_[tensor.id].backend == kCpu) continue;
    pins_[tensor.id] = Pin{kCpu, ResidencyReason::MemoryBudget, detail};
    changed = true;
  }
  return changed;
}

Plan Planner::run() {
  apply_constraints();
  std::vector<int8_t> backend = cut();
  Plan plan = describe(backend);
  int moved = 0;
  while (constraints_.device_memory > 0 && plan.device_total_bytes() > constraints_.device_memory) {
    if (!moves_layer_for_budget(backend, moved)) break;
    backend = cut();
    plan = describe(backend);
  }
  plan.n_layers_moved = moved;
  plan.cut_ns = cut_ns_;
  return plan;
}

}  // namespace

std::optional<bool> FixedResidency::find(const std::string& name) const {
  auto it =
      std::lower_bound(on_device.begin(), on_device.end(), name,
                       [](const auto& entry, const std::string& key) { return entry.first < key; });
  if (it == on_device.end() || it->first != name) return std::nullopt;
  return it->second;
}

FixedResidency Plan::fixed_residency() const {
  FixedResidency fixed;
  for (const auto* list : {&weights, &states}) {
    for (const Residency& r : *list)
      fixed.on_device.emplace_back(leaf_key(*r.tensor), r.on_device);
  }
  std::sort(fixed.on_device.begin(), fixed.on_device.end());
  return fixed;
}

WeightOverride parse_override(const std::string& text, const std::string& device_name) {
  const size_t equals = text.rfind('=');
  HLLM_CHECK(equals != std::string::npos && equals > 0,
             "invalid --override '{}': expected PATTERN=DEVICE, e.g. ffn_.*_exps=cpu", text);
  WeightOverride rule;
  rule.pattern = text.substr(0, equals);
  const std::string device = text.substr(equals + 1);
  if (device == "cpu") {
    rule.backend = kCpu;
  } else if (!device_name.empty() && device == device_name) {
    rule.backend = kDevice;
  } else {
    fail("invalid device '{}' in --override '{}': expected cpu{}", device, text,
         device_name.empty() ? "" : " or " + device_name);
  }
  try {
    std::regex check(rule.pattern);
  } catch (const std::regex_error& error) {
    fail("invalid regular expression '{}' in --override: {}", rule.pattern, error.what());
  }
  return rule;
}

const char* split_reason_name(SplitReason reason) {
  switch (reason) {
    case SplitReason::GraphStart:
      return "graph_start";
    case SplitReason::UnsupportedOp:
      return "unsupported_op";
    case SplitReason::UserConstraint:
      return "user_constraint";
    case SplitReason::MemoryBudget:
      return "memory_budget";
    case SplitReason::WeightResidency:
      return "weight_residency";
    case SplitReason::StateResidency:
      return "state_residency";
    case SplitReason::PreferredBackend:
      return "preferred_backend";
    case SplitReason::Cost:
      return "cost";
  }
  return "unknown";
}

const char* residency_reason_name(ResidencyReason reason) {
  switch (reason) {
    case ResidencyReason::Consumers:
      return "consumers";
    case ResidencyReason::NoConsumers:
      return "no_consumers";
    case ResidencyReason::UserConstraint:
      return "user_constraint";
    case ResidencyReason::MemoryBudget:
      return "memory_budget";
    case ResidencyReason::LoadPlan:
      return "load_plan";
  }
  return "unknown";
}

Plan plan_graph(const Graph& graph, const Backend& cpu, const Backend* device,
                const Constraints& constraints, const CostModel& cost,
                const FixedResidency* fixed) {
  Planner planner(graph, cpu, device, constraints, cost, fixed);
  return planner.run();
}

std::string format_bytes(size_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 3) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string plan_summary(const Plan& plan) {
  const std::string& device =
      plan.backend_names.size() > 1 ? plan.backend_names[kDevice] : plan.backend_names[kCpu];
  const int on_device = plan.backend_names.size() > 1 ? plan.n_compute_on_device : plan.n_compute;
  const double percent = plan.n_compute > 0 ? 100.0 * on_device / plan.n_compute : 100.0;
  return fmt::format("{} split{}, {} copied per evaluation, {:.0f}% of nodes on {}",
                     plan.splits.size(), plan.splits.size() == 1 ? "" : "s",
                     format_bytes(plan.copy_bytes), percent, device);
}

}  // namespace hllm::sched
