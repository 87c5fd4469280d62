// Entry points of the CPU kernels, one op family per file. Each computes one node: dst's sources
// and dst's own memory are already assigned. Kernels split their work over ctx.pool.
#pragma once

#include <cstddef>
#include <vector>

#include "graph/tensor.h"
#include "util/thread_pool.h"

namespace hllm::cpu {

// Per-backend state shared by the kernels of one evaluation.
class CpuContext {
 public:
  explicit CpuContext(ThreadPool& pool) : pool(pool) {}

  // Returns at least bytes of 64-byte aligned scratch memory, valid until the next call.
  void* scratch(size_t bytes);

  ThreadPool& pool;

 private:
  std::vector<std::byte> scratch_;
};

// get_rows.cpp: GetRows from tables of F32, F16, BF16 or any type with a dequantizer.
void compute_get_rows(Tensor& dst, CpuContext& ctx);

// elementwise.cpp: Add, Sub, Mul, Div (src1 broadcast over src0), Scale, Silu, Sigmoid,
// Softplus, Exp, Neg, Sqr and Sqrt on F32, F16 or BF16 sources.
void compute_binary(Tensor& dst, CpuContext& ctx);
void compute_unary(Tensor& dst, CpuContext& ctx);

// norm.cpp: RmsNorm, L2Norm and SumRows, one row at a time.
void compute_norm(Tensor& dst, CpuContext& ctx);
void compute_sum_rows(Tensor& dst, CpuContext& ctx);

// rope.cpp
void compute_rope(Tensor& dst, CpuContext& ctx);

// softmax.cpp
void compute_soft_max(Tensor& dst, CpuContext& ctx);

// attention.cpp
void compute_attention(Tensor& dst, CpuContext& ctx);

// top_k.cpp
void compute_top_k(Tensor& dst, CpuContext& ctx);

// copy.cpp: Copy (type conversion to contiguous), Concat and SetRows.
void compute_copy(Tensor& dst, CpuContext& ctx);
void compute_concat(Tensor& dst, CpuContext& ctx);
void compute_set_rows(Tensor& dst, CpuContext& ctx);

// matmul.cpp
void compute_mul_mat(Tensor& dst, CpuContext& ctx);
void compute_mul_mat_id(Tensor& dst, CpuContext& ctx);
// Whether the matmul kernels accept this weight type.
bool mul_mat_supports(GgmlType weight_type);

// ssm_conv.cpp
void compute_ssm_conv(Tensor& dst, CpuContext& ctx);

// delta_rule.cpp
void compute_delta_rule(Tensor& dst, CpuContext& ctx);

}  // namespace hllm::cpu
