#include "sched/cost_model.h"

#include <algorithm>
#include <cmath>

namespace hllm::sched {

namespace {

double elements(const Tensor& tensor) {
  return static_cast<double>(tensor.n_elements());
}

int64_t round_ns(double ns) {
  return static_cast<int64_t>(std::ceil(std::max(ns, 0.0)));
}

}  // namespace

double estimate_flops(const Tensor& node) {
  const Tensor* const* src = node.src.data();
  switch (node.op) {
    case Op::None:
    case Op::View:
    case Op::Reshape:
    case Op::Permute:
    case Op::Transpose:
      return 0.0;
    case Op::MulMat:
    case Op::MulMatId:
      // A multiply and an add per element of the reduced dimension for every output.
      return 2.0 * static_cast<double>(src[0]->ne[0]) * elements(node);
    case Op::Attention: {
      // q.k over every key, then the weighted sum of values: [Dk + Dv] per query, head and key.
      const double keys = static_cast<double>(src[1]->ne[2]);
      const double per_query = static_cast<double>(src[0]->ne[0] + src[2]->ne[0]);
      return 2.0 * per_query * keys * elements(*src[0]) / static_cast<double>(src[0]->ne[0]);
    }
    case Op::DeltaRule: {
      // Decay, S^T k, the rank-one update and S^T q: about 8 operations per state element and
      // token.
      const double state_per_head = static_cast<double>(src[0]->ne[0] * src[2]->ne[0]);
      const double head_tokens = static_cast<double>(src[2]->ne[1] * src[2]->ne[2] * src[2]->ne[3]);
      return 8.0 * state_per_head * head_tokens;
    }
    case Op::SsmConv:
      return 2.0 * static_cast<double>(src[1]->ne[0]) * elements(node);
    case Op::SoftMax:
    case Op::RmsNorm:
    case Op::L2Norm:
    case Op::Rope:
      return 5.0 * elements(node);
    default:
      return elements(node);
  }
}

double estimate_bytes(const Tensor& node) {
  if (node.op == Op::None || node.is_view()) return 0.0;
  double bytes = static_cast<double>(node.n_bytes());
  for (int i = 0; i < node.n_src; ++i) {
    double source = static_cast<double>(node.src[i]->n_bytes());
    // A routed-expert product reads only the selected experts' matrices.
    if (node.op == Op::MulMatId && i == 0) {
      const double used = static_cast<double>(node.src[2]->n_elements());
      const double experts = static_cast<double>(node.src[0]->ne[2]);
      source *= std::min(1.0, used / std::max(experts, 1.0));
    }
    bytes += source;
  }
  return bytes;
}

int64_t CostModel::cpu_ns(const Tensor& node) const {
  const double compute = estimate_flops(node) / cpu_flops_per_ns;
  const double memory = estimate_bytes(node) / cpu_bytes_per_ns;
  return round_ns(cpu_node_overhead_ns + std::max(compute, memory));
}

int64_t CostModel::device_ns(const Tensor& node) const {
  // At least 1 ns, so that a node never costs nothing on the device.
  return std::max<int64_t>(1, round_ns(static_cast<double>(cpu_ns(node)) / device_speedup));
}

int64_t CostModel::copy_ns(size_t bytes) const {
  return round_ns(copy_latency_ns + static_cast<double>(bytes) / link_bytes_per_ns);
}

int64_t CostModel::residency_ns(size_t bytes) const {
  return 1 + round_ns(residency_ns_per_mib * static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace hllm::sched
