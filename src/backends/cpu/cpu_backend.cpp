#include "backends/cpu/cpu_backend.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "formats/quant/quant.h"
#include "graph/allocator.h"
#include "util/error.h"

namespace hllm {
namespace {

constexpr size_t kBufferAlignment = 64;

class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(size_t bytes) : size_(bytes) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    const size_t rounded =
        (std::max<size_t>(bytes, 1) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    data_ = std::aligned_alloc(kBufferAlignment, rounded);
    if (data_ == nullptr) fail("cpu: failed to allocate {} bytes of host memory", bytes);
  }
  ~HostBuffer() override { std::free(data_); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() override { return data_; }
  size_t size() const override { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_;
};

bool is_float(GgmlType type) {
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

// Whether every source from first on is F32, F16 or BF16.
bool float_sources(const Tensor& node, int first = 0) {
  for (int i = first; i < node.n_src; ++i) {
    if (!is_float(node.src[i]->type)) return false;
  }
  return true;
}

bool is_type(const Tensor* tensor, GgmlType type) {
  return tensor->type == type;
}

void check_data(const Tensor& node) {
  HLLM_CHECK(node.data != nullptr, "cpu: node '{}' ({}) has no memory assigned", node.name,
             op_name(node.op));
  for (int i = 0; i < node.n_src; ++i) {
    const Tensor& source = *node.src[i];
    HLLM_CHECK(source.data != nullptr, "cpu: source {} '{}' of node '{}' ({}) has no data", i,
               source.name, node.name, op_name(node.op));
  }
}

void check_range(const Tensor& tensor, size_t offset, size_t bytes, const char* what) {
  HLLM_CHECK(tensor.data != nullptr, "cpu: {} tensor '{}' which has no memory", what, tensor.name);
  HLLM_CHECK(offset <= tensor.n_bytes() && bytes <= tensor.n_bytes() - offset,
             "cpu: {} bytes [{}, {}) of tensor '{}', which has {} bytes", what, offset,
             offset + bytes, tensor.name, tensor.n_bytes());
}

}  // namespace

CpuBackend::CpuBackend(int n_threads) : pool_(n_threads), context_(pool_) {}

bool CpuBackend::supports(const Tensor& node) const {
  const Tensor* const* src = node.src.data();
  switch (node.op) {
    case Op::None:
    case Op::View:
    case Op::Reshape:
    case Op::Permute:
    case Op::Transpose:
      return true;
    case Op::GetRows:
      return (is_float(src[0]->type) || has_dequantizer(src[0]->type)) &&
             is_type(src[1], GgmlType::I32);
    case Op::MulMat:
      return cpu::mul_mat_supports(src[0]->type) && is_type(src[1], GgmlType::F32);
    case Op::MulMatId:
      return cpu::mul_mat_supports(src[0]->type) && is_type(src[1], GgmlType::F32) &&
             is_type(src[2], GgmlType::I32);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Scale:
    case Op::RmsNorm:
    case Op::L2Norm:
    case Op::SoftMax:
    case Op::Attention:
    case Op::Silu:
    case Op::Sigmoid:
    case Op::Softplus:
    case Op::Exp:
    case Op::Neg:
    case Op::Sqr:
    case Op::Sqrt:
    case Op::TopK:
    case Op::SumRows:
      return float_sources(node);
    case Op::Rope:
      return is_float(src[0]->type) && is_type(src[1], GgmlType::I32);
    case Op::SsmConv:
    case Op::DeltaRule:
      // The recurrent kernels read F32 tensors only, with int32 slots last.
      for (int i = 0; i + 1 < node.n_src; ++i) {
        if (!is_type(src[i], GgmlType::F32)) return false;
      }
      return is_type(src[node.n_src - 1], GgmlType::I32);
    case Op::Concat:
      // Elements are copied bit for bit, so any type with one element per block works.
      return src[0]->type == src[1]->type && type_traits(src[0]->type).block_size == 1;
    case Op::Copy:
      return is_float(src[0]->type) && is_float(node.type);
    case Op::SetRows:
      return is_float(src[0]->type) && is_float(src[1]->type) && is_type(src[2], GgmlType::I32);
    case Op::Count:
      break;
  }
  return false;
}

std::unique_ptr<Buffer> CpuBackend::allocate(size_t bytes) {
  return std::make_unique<HostBuffer>(bytes);
}

void CpuBackend::compute(std::span<Tensor* const> nodes) {
  for (Tensor* node : nodes) {
    if (node->is_view()) continue;
    HLLM_CHECK(supports(*node), "cpu: op {} of node '{}' is not supported for source type {}",
               op_name(node->op), node->name,
               node->n_src > 0 ? type_name(node->src[0]->type) : "none");
    check_data(*node);
    if (node_timer_) {
      compute_timed(*node);
    } else {
      compute_node(*node);
    }
  }
}

void CpuBackend::compute_timed(Tensor& node) {
  const auto start = std::chrono::steady_clock::now();
  compute_node(node);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  node_timer_(node, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

void CpuBackend::compute_node(Tensor& node) {
  switch (node.op) {
    case Op::GetRows:
      return cpu::compute_get_rows(node, context_);
    case Op::MulMat:
      return cpu::compute_mul_mat(node, context_);
    case Op::MulMatId:
      return cpu::compute_mul_mat_id(node, context_);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      return cpu::compute_binary(node, context_);
    case Op::Scale:
    case Op::Silu:
    case Op::Sigmoid:
    case Op::Softplus:
    case Op::Exp:
    case Op::Neg:
    case Op::Sqr:
    case Op::Sqrt:
      return cpu::compute_unary(node, context_);
    case Op::RmsNorm:
    case Op::L2Norm:
      return cpu::compute_norm(node, context_);
    case Op::SumRows:
      return cpu::compute_sum_rows(node, context_);
    case Op::Rope:
      return cpu::compute_rope(node, context_);
    case Op::SoftMax:
      return cpu::compute_soft_max(node, context_);
    case Op::Attention:
      return cpu::compute_attention(node, context_);
    case Op::TopK:
      return cpu::compute_top_k(node, context_);
    case Op::SsmConv:
      return cpu::compute_ssm_conv(node, context_);
    case Op::DeltaRule:
      return cpu::compute_delta_rule(node, context_);
    case Op::Concat:
      return cpu::compute_concat(node, context_);
    case Op::Copy:
      return cpu::compute_copy(node, context_);
    case Op::SetRows:
      return cpu::compute_set_rows(node, context_);
    default:
      fail("cpu: node '{}' has op {}, which computes nothing", node.name, op_name(node.op));
  }
}

void CpuBackend::copy_in(Tensor& tensor, const void* host, size_t offset, size_t bytes) {
  check_range(tensor, offset, bytes, "copy_in to");
  std::memcpy(static_cast<std::byte*>(tensor.data) + offset, host, bytes);
}

void CpuBackend::copy_out(const Tensor& tensor, void* host, size_t offset, size_t bytes) {
  check_range(tensor, offset, bytes, "copy_out from");
  std::memcpy(host, static_cast<const std::byte*>(tensor.data) + offset, bytes);
}

void* ArenaBuffer::reserve(Backend& backend, size_t bytes) {
  if (!buffer_ || buffer_->size() < bytes) buffer_ = backend.allocate(bytes);
  return buffer_->data();
}

void evaluate(Graph& graph, CpuBackend& backend, ArenaBuffer& arena) {
  const ArenaPlan plan = plan_arena(graph);
  place_in_arena(plan, arena.reserve(backend, plan.size));
  resolve_views(graph);
  backend.compute(graph.nodes());
}

}  // namespace hllm
