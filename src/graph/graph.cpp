#include "graph/graph.h"

#include <fmt/format.h>

#include "util/error.h"

namespace hllm {
namespace {

std::array<int64_t, kMaxDims> leaf_shape(std::string_view name, std::initializer_list<int64_t> ne) {
  HLLM_CHECK(ne.size() >= 1 && ne.size() <= kMaxDims,
             "tensor '{}' has {} dimensions: expected 1 to {}", name, ne.size(), kMaxDims);
  std::array<int64_t, kMaxDims> shape{1, 1, 1, 1};
  int i = 0;
  for (int64_t n : ne) {
    HLLM_CHECK(n >= 0, "tensor '{}' has a negative size {} in dimension {}", name, n, i);
    shape[i++] = n;
  }
  return shape;
}

}  // namespace

std::array<size_t, kMaxDims> contiguous_strides(GgmlType type,
                                                const std::array<int64_t, kMaxDims>& ne) {
  const auto& traits = type_traits(type);
  std::array<size_t, kMaxDims> nb{};
  nb[0] = traits.type_size;
  nb[1] = row_size(type, ne[0]);  // throws when ne[0] is not a whole number of blocks
  for (int i = 2; i < kMaxDims; ++i)
    nb[i] = nb[i - 1] * static_cast<size_t>(ne[i - 1]);
  return nb;
}

Tensor* Graph::add(Tensor tensor) {
  tensor.id = static_cast<int32_t>(tensors_.size());
  tensor.nb = contiguous_strides(tensor.type, tensor.ne);
  tensors_.push_back(std::move(tensor));
  Tensor* added = &tensors_.back();
  if (added->leaf != LeafKind::None) {
    leaves_.push_back(added);
  } else {
    nodes_.push_back(added);
  }
  return added;
}

Tensor* Graph::weight(std::string name, GgmlType type, std::initializer_list<int64_t> ne,
                      int layer) {
  Tensor tensor;
  tensor.ne = leaf_shape(name, ne);
  tensor.name = std::move(name);
  tensor.type = type;
  tensor.leaf = LeafKind::Weight;
  tensor.layer = layer;
  return add(std::move(tensor));
}

Tensor* Graph::input(std::string name, GgmlType type, std::initializer_list<int64_t> ne) {
  Tensor tensor;
  tensor.ne = leaf_shape(name, ne);
  tensor.name = std::move(name);
  tensor.type = type;
  tensor.leaf = LeafKind::Input;
  return add(std::move(tensor));
}

Tensor* Graph::state(std::string name, GgmlType type, std::initializer_list<int64_t> ne,
                     int layer) {
  Tensor tensor;
  tensor.ne = leaf_shape(name, ne);
  tensor.name = std::move(name);
  tensor.type = type;
  tensor.leaf = LeafKind::State;
  tensor.layer = layer;
  return add(std::move(tensor));
}

Tensor* Graph::node(Op op, GgmlType type, const std::array<int64_t, kMaxDims>& ne,
                    std::initializer_list<Tensor*> sources, OpParams params) {
  HLLM_CHECK(op != Op::None && op != Op::Count, "invalid op {} for a computed tensor",
             static_cast<int>(op));
  HLLM_CHECK(sources.size() <= kMaxSources, "op {} has {} sources: at most {} are allowed",
             op_name(op), sources.size(), kMaxSources);
  Tensor tensor;
  tensor.op = op;
  tensor.type = type;
  tensor.params = std::move(params);
  for (int i = 0; i < kMaxDims; ++i) {
    HLLM_CHECK(ne[i] >= 0, "op {} output has a negative size {} in dimension {}", op_name(op),
               ne[i], i);
  }
  tensor.ne = ne;
  for (Tensor* source : sources) {
    HLLM_CHECK(source != nullptr, "op {} got a null source {}", op_name(op), tensor.n_src);
    tensor.src[tensor.n_src++] = source;
    // A node inherits the layer of its sources so that unnamed intermediates still carry it.
    if (tensor.layer < 0) tensor.layer = source->layer;
  }
  return add(std::move(tensor));
}

void Graph::mark_output(Tensor* tensor) {
  HLLM_CHECK(tensor != nullptr, "mark_output got a null tensor");
  for (const Tensor* output : outputs_) {
    if (output == tensor) return;
  }
  outputs_.push_back(tensor);
}

Tensor* Graph::find(std::string_view name) const {
  if (name.empty()) return nullptr;
  for (const Tensor& tensor : tensors_) {
    if (tensor.name == name) return const_cast<Tensor*>(&tensor);
  }
  return nullptr;
}

Tensor* Graph::name(Tensor* tensor, std::string_view base, int layer) {
  HLLM_CHECK(tensor != nullptr, "cannot name a null tensor '{}'", base);
  tensor->name = layer < 0 ? std::string(base) : fmt::format("{}-{}", base, layer);
  tensor->layer = layer;
  return tensor;
}

}  // namespace hllm
