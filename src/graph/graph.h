// The compute graph: tensors in creation order, which is a topological order because every op's
// sources exist before it. Leaves are weights, inputs or state; every other tensor is a node.
#pragma once

#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/tensor.h"

namespace hllm {

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Leaves. Dimensions are fastest first; trailing ones may be omitted.
  Tensor* weight(std::string name, GgmlType type, std::initializer_list<int64_t> ne, int layer = -1);
  Tensor* input(std::string name, GgmlType type, std::initializer_list<int64_t> ne);
  Tensor* state(std::string name, GgmlType type, std::initializer_list<int64_t> ne, int layer = -1);

  // Creates a computed tensor (used by the op builders in graph/ops.h).
  Tensor* node(Op op, GgmlType type, const std::array<int64_t, kMaxDims>& ne,
               std::initializer_list<Tensor*> sources, OpParams params = {});

  // Marks a tensor whose value the caller reads after evaluation (logits), so that no later node
  // reuses its memory.
  void mark_output(Tensor* tensor);

  // All tensors in creation order: leaves and nodes interleaved.
  const std::deque<Tensor>& tensors() const { return tensors_; }
  // Computed tensors (views included) in topological order.
  const std::vector<Tensor*>& nodes() const { return nodes_; }
  const std::vector<Tensor*>& leaves() const { return leaves_; }
  const std::vector<Tensor*>& outputs() const { return outputs_; }

  // Finds a tensor by name ("attn_norm-3"); nullptr when absent.
  Tensor* find(std::string_view name) const;

  // Sets the tensor's name as "<base>-<layer>" (or "<base>" for layer < 0) and records the layer.
  static Tensor* name(Tensor* tensor, std::string_view base, int layer = -1);

 private:
  Tensor* add(Tensor tensor);

  std::deque<Tensor> tensors_;  // stable addresses
  std::vector<Tensor*> nodes_;
  std::vector<Tensor*> leaves_;
  std::vector<Tensor*> outputs_;
};

// Computes contiguous strides for a type and shape.
std::array<size_t, kMaxDims> contiguous_strides(GgmlType type, const std::array<int64_t, kMaxDims>& ne);

}  // namespace hllm
