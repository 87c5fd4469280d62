// Element-wise ops: binary arithmetic with broadcasting, Scale, and the unary functions. Each
// output row is computed from whole source rows converted to float.
#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"
#include "util/error.h"

namespace hllm::cpu {
namespace {

using BinaryRow = void (*)(const float*, const float*, float*, int64_t);
using UnaryRow = void (*)(const float*, float*, int64_t);

BinaryRow binary_row(Op op) {
  switch (op) {
    case Op::Add:
      return simd::add;
    case Op::Sub:
      return simd::sub;
    case Op::Mul:
      return simd::mul;
    case Op::Div:
      return simd::div;
    default:
      fail("cpu: {} is not a binary element-wise op", op_name(op));
  }
}

UnaryRow unary_row(Op op) {
  switch (op) {
    case Op::Silu:
      return simd::silu;
    case Op::Sigmoid:
      return simd::sigmoid;
    case Op::Softplus:
      return simd::softplus;
    case Op::Exp:
      return simd::exp;
    case Op::Neg:
      return simd::neg;
    case Op::Sqr:
      return simd::sqr;
    case Op::Sqrt:
      return simd::sqrt;
    default:
      fail("cpu: {} is not a unary element-wise op", op_name(op));
  }
}

float apply_scalar(Op op, float a, float b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    default:
      return a / b;
  }
}

// Shortest broadcast row handed to the vector code. Shorter ones are repeated element by
// element, with the same results, because +, -, * and / round identically either way.
constexpr int64_t kMinVectorRow = 16;

}  // namespace

void compute_binary(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const Tensor& b = *dst.src[1];
  const BinaryRow row_op = binary_row(dst.op);
  const int64_t n = a.ne[0];
  const int64_t nb0 = b.ne[0];
  ThreadBuffers buffers(ctx, static_cast<size_t>(n + nb0));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    float* a_buffer = buffers.get(thread);
    float* b_buffer = a_buffer + n;
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const RowIndex rb{r.i1 % b.ne[1], r.i2 % b.ne[2], r.i3 % b.ne[3]};
      const float* x = read_row(a, r, n, a_buffer);
      const float* y = read_row(b, rb, nb0, b_buffer);
      float* out = output_row(dst, r);
      if (nb0 >= kMinVectorRow || nb0 == n) {
        for (int64_t start = 0; start < n; start += nb0)
          row_op(x + start, y, out + start, nb0);
      } else {
        for (int64_t i = 0; i < n; ++i)
          out[i] = apply_scalar(dst.op, x[i], y[i % nb0]);
      }
    }
  });
}

void compute_unary(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const int64_t n = a.ne[0];
  const bool is_scale = dst.op == Op::Scale;
  const UnaryRow row_op = is_scale ? nullptr : unary_row(dst.op);
  const ScaleParams scale = is_scale ? dst.get<ScaleParams>() : ScaleParams{};
  ThreadBuffers buffers(ctx, static_cast<size_t>(n));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const float* x = read_row(a, r, n, buffers.get(thread));
      float* out = output_row(dst, r);
      if (is_scale) {
        simd::scale(x, scale.scale, scale.bias, out, n);
      } else {
        row_op(x, out, n);
      }
    }
  });
}

}  // namespace hllm::cpu
