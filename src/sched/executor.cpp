#include "sched/executor.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "util/error.h"

namespace hllm::sched {

namespace {

size_t align_up(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Bytes from a view's storage owner to the view's first element, along its chain of views.
size_t offset_in_owner(const Tensor& view) {
  size_t offset = 0;
  for (const Tensor* t = &view; t->view_source != nullptr; t = t->view_source)
    offset += t->view_offset;
  return offset;
}

}  // namespace

// A weight or state tensor kept in device memory.
struct Executor::Resident {
  std::unique_ptr<Buffer> buffer;
  Tensor tensor;  // the leaf's description with data in buffer
};

// A graph after prepare(): its plan, mirrors and the host copies of its outputs.
struct Executor::Prepared {
  Graph* graph = nullptr;
  Plan plan;
  ArenaPlan arenas[2];
  std::deque<Tensor> shadows;                        // mirrors of owners and of views into them
  std::map<std::pair<int, int>, Tensor*> mirror_of;  // (owner id, backend) -> mirror owner
  // Per backend: each mirror's offset in the shared mirror buffer, and the bytes they need.
  std::vector<std::pair<Tensor*, size_t>> mirror_offsets[2];
  size_t mirror_bytes[2] = {0, 0};
  std::vector<std::pair<Tensor*, Tensor*>> shadow_views;  // shadow view, the mirror it reads
  // Graph outputs computed on the device, their device memory and their host copy.
  struct Output {
    Tensor* tensor;
    void* device_data = nullptr;
    std::unique_ptr<Buffer> host;
  };
  std::vector<Output> outputs;
};

Executor::Executor(Backend& cpu, Backend* device) : cpu_(cpu), device_(device) {}

Executor::~Executor() {
  // Graph memory first: prepared graphs point into the arenas and resident copies.
  prepared_.clear();
  for (auto& arena : arenas_)
    arena.reset();
  for (auto& mirrors : mirror_buffers_)
    mirrors.reset();
  resident_.clear();
}

Tensor& Executor::resident_copy(const Tensor& leaf) {
  HLLM_CHECK(leaf.data != nullptr, "{} '{}' has no host data to upload",
             leaf.leaf == LeafKind::State ? "state" : "weight", leaf.name);
  auto& entry = resident_[leaf.data];
  if (!entry) {
    entry = std::make_unique<Resident>();
    entry->buffer = device_->allocate(leaf.n_bytes());
    entry->tensor = leaf;
    entry->tensor.name = leaf.name + "@" + std::string(device_->name());
    entry->tensor.data = entry->buffer->data();
    device_->copy_in(entry->tensor, leaf.data, 0, leaf.n_bytes());
  }
  return entry->tensor;
}

void Executor::prepare(Graph& graph, const Plan& plan) {
  HLLM_CHECK(plan.backend.size() == graph.tensors().size(),
             "plan of {} tensors does not match the graph of {} tensors", plan.backend.size(),
             graph.tensors().size());
  HLLM_CHECK(device_ != nullptr || plan.n_compute_on_device == 0,
             "plan uses a device, but the executor has none");
  auto prepared = std::make_unique<Prepared>();
  prepared->graph = &graph;
  prepared->plan = plan;
  Prepared& p = *prepared;

  // State the device keeps: the leaf points at the device copy from now on. The copy is keyed by
  // the host address the session bound, so that every graph of the session finds the same one.
  for (const Residency& state : plan.states) {
    if (!state.on_device) continue;
    Tensor& leaf = const_cast<Tensor&>(*state.tensor);
    leaf.data = resident_copy(leaf).data;
  }

  auto home = [&](const Tensor& owner) {
    return owner.leaf == LeafKind::Weight ? kCpu : static_cast<int>(plan.backend[owner.id]);
  };

  // Mirrors: one per owner and reading backend.
  size_t* mirror_bytes = p.mirror_bytes;
  auto* mirror_offsets = p.mirror_offsets;
  auto mirror_for = [&](Tensor& owner, int backend) -> Tensor* {
    if (owner.leaf == LeafKind::Weight && backend == kDevice) return &resident_copy(owner);
    Tensor*& mirror = p.mirror_of[{owner.id, backend}];
    if (mirror == nullptr) {
      Tensor copy = owner;
      copy.op = Op::None;
      copy.n_src = 0;
      copy.src = {};
      copy.leaf = LeafKind::Input;
      copy.view_source = nullptr;
      copy.view_offset = 0;
      copy.data = nullptr;
      copy.name = owner.name + "@" + plan.backend_names.at(backend);
      p.shadows.push_back(std::move(copy));
      mirror = &p.shadows.back();
      mirror_offsets[backend].emplace_back(mirror, mirror_bytes[backend]);
      mirror_bytes[backend] += align_up(std::max<size_t>(owner.n_bytes(), 1));
    }
    return mirror;
  };

  // Redirect each cross-backend read; views get a shadow view over the mirror.
  auto& shadow_views = p.shadow_views;
  for (Tensor* node : graph.nodes()) {
    if (node->is_view()) continue;
    const int backend = plan.backend[node->id];
    const int written = in_place_source(node->op);
    for (int s = 0; s < node->n_src; ++s) {
      Tensor* source = node->src[s];
      Tensor* owner = source->storage_owner();
      if (s == written) {
        HLLM_CHECK(home(*owner) == backend,
                   "plan runs '{}' on {} but the state '{}' it updates lives on {}", node->name,
                   plan.backend_names.at(backend), owner->name,
                   plan.backend_names.at(home(*owner)));
        continue;
      }
      if (home(*owner) == backend) continue;
      Tensor* mirror = mirror_for(*owner, backend);
      if (source == owner) {
        node->src[s] = mirror;
        continue;
      }
      Tensor view = *source;
      view.view_source = mirror;
      view.view_offset = offset_in_owner(*source);
      view.name = source->name + "@" + plan.backend_names.at(backend);
      p.shadows.push_back(std::move(view));
      shadow_views.emplace_back(&p.shadows.back(), mirror);
      node->src[s] = &p.shadows.back();
    }
  }

  // Intermediates: one arena per backend, shared by every graph because one runs at a time.
  for (int b = 0; b < (device_ != nullptr ? 2 : 1); ++b) {
    p.arenas[b] = plan_arena(
        graph, [&plan, b](const Tensor& tensor) { return plan.backend[tensor.id] == b; });
  }
  for (Tensor* output : graph.outputs()) {
    Tensor* owner = output->storage_owner();
    if (plan.backend[owner->id] != kDevice) continue;
    p.outputs.push_back({owner, nullptr, cpu_.allocate(owner->n_bytes())});
  }

  Prepared* raw = prepared.get();
  prepared_[&graph] = std::move(prepared);
  bool grown = false;
  for (int b = 0; b < (device_ != nullptr ? 2 : 1); ++b) {
    Backend& backend = b == kCpu ? cpu_ : *device_;
    // Free the old buffer first, so that a device with a memory budget can hold the larger one.
    if (!arenas_[b] || arenas_[b]->size() < raw->arenas[b].size) {
      arenas_[b].reset();
      arenas_[b] = backend.allocate(raw->arenas[b].size);
      grown = true;
    }
    if (!mirror_buffers_[b] || mirror_buffers_[b]->size() < raw->mirror_bytes[b]) {
      mirror_buffers_[b].reset();
      mirror_buffers_[b] = backend.allocate(raw->mirror_bytes[b]);
      grown = true;
    }
  }
  if (grown) {
    // Every graph placed so far pointed into the old arenas.
    for (auto& [other, other_prepared] : prepared_)
      place(*other_prepared);
  } else {
    place(*raw);
  }
}

void Executor::place(Prepared& prepared) {
  for (int b = 0; b < 2; ++b) {
    if (arenas_[b]) place_in_arena(prepared.arenas[b], arenas_[b]->data());
  }
  resolve_views(*prepared.graph);
  for (auto& output : prepared.outputs)
    output.device_data = output.tensor->data;
  for (int b = 0; b < 2; ++b) {
    if (prepared.mirror_offsets[b].empty()) continue;
    auto* base = static_cast<std::byte*>(mirror_buffers_[b]->data());
    for (auto& [mirror, offset] : prepared.mirror_offsets[b])
      mirror->data = base + offset;
  }
  for (auto& [view, mirror] : prepared.shadow_views) {
    view->data = static_cast<std::byte*>(mirror->data) + view->view_offset;
  }
}

void Executor::copy_input(const Tensor& owner, Tensor& mirror, int to_backend) {
  if (to_backend == kDevice) {
    device_->copy_in(mirror, owner.data, 0, owner.n_bytes());
  } else {
    device_->copy_out(owner, mirror.data, 0, owner.n_bytes());
  }
}

void Executor::run(Graph& graph) {
  auto it = prepared_.find(&graph);
  HLLM_CHECK(it != prepared_.end(), "graph run before prepare()");
  Prepared& p = *it->second;
  for (auto& output : p.outputs)
    output.tensor->data = output.device_data;

  const auto& nodes = graph.nodes();
  for (const Split& split : p.plan.splits) {
    for (const Tensor* input : split.inputs) {
      Tensor* mirror = p.mirror_of.at({input->id, split.backend});
      copy_input(*input, *mirror, split.backend);
    }
    Backend& backend = split.backend == kCpu ? cpu_ : *device_;
    backend.compute(
        std::span<Tensor* const>(nodes.data() + split.first, split.last - split.first + 1));
  }

  for (auto& output : p.outputs) {
    device_->copy_out(*output.tensor, output.host->data(), 0, output.tensor->n_bytes());
    output.tensor->data = output.host->data();
  }
}

void Executor::clear_state(const void* host, size_t offset, size_t bytes) {
  auto it = resident_.find(host);
  if (it == resident_.end() || bytes == 0) return;
  const std::vector<std::byte> zeros(bytes);
  device_->copy_in(it->second->tensor, zeros.data(), offset, bytes);
}

size_t Executor::device_resident_bytes() const {
  size_t total = 0;
  for (const auto& [host, entry] : resident_)
    total += entry->buffer->size();
  return total;
}

}  // namespace hllm::sched
