#include "graph/tensor.h"

#include <array>

namespace hllm {

const char* op_name(Op op) {
  static constexpr std::array<const char*, static_cast<size_t>(Op::Count)> kNames = {
      "none",       "view", "reshape",  "permute",   "transpose", "get_rows", "mul_mat",
      "mul_mat_id", "add",  "sub",      "mul",       "div",       "scale",    "rms_norm",
      "l2_norm",    "rope", "soft_max", "attention", "silu",      "sigmoid",  "softplus",
      "exp",        "neg",  "sqr",      "sqrt",      "top_k",     "ssm_conv", "delta_rule",
      "concat",     "copy", "set_rows", "sum_rows",
  };
  const auto index = static_cast<size_t>(op);
  return index < kNames.size() ? kNames[index] : "unknown";
}

size_t Tensor::n_bytes() const {
  return row_size(type, ne[0]) * ne[1] * ne[2] * ne[3];
}

bool Tensor::is_contiguous() const {
  const auto& traits = type_traits(type);
  size_t expected = traits.type_size;
  for (int i = 0; i < kMaxDims; ++i) {
    // A dimension of one element is never stepped over, so its stride does not matter.
    if (ne[i] != 1 && nb[i] != expected) return false;
    expected *= static_cast<size_t>(i == 0 ? ne[0] / traits.block_size : ne[i]);
  }
  return true;
}

const Tensor* Tensor::storage_owner() const {
  const Tensor* tensor = this;
  while (tensor->view_source != nullptr)
    tensor = tensor->view_source;
  return tensor;
}

Tensor* Tensor::storage_owner() {
  Tensor* tensor = this;
  while (tensor->view_source != nullptr)
    tensor = tensor->view_source;
  return tensor;
}

int in_place_source(Op op) {
  switch (op) {
    case Op::SetRows:
      return 0;
    case Op::SsmConv:
      return 2;
    case Op::DeltaRule:
      return 5;
    default:
      return -1;
  }
}

}  // namespace hllm
