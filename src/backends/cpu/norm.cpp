// Row reductions: RmsNorm and L2Norm normalize each row over ne[0]; SumRows sums it.
#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {
namespace {

// Returns the factor that normalizes a row with this sum of squares.
float norm_factor(Op op, float sum_squares, int64_t n, float eps) {
  if (op == Op::RmsNorm) return 1.0f / std::sqrt(sum_squares / static_cast<float>(n) + eps);
  return 1.0f / std::max(std::sqrt(sum_squares), eps);
}

}  // namespace

void compute_norm(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const int64_t n = a.ne[0];
  const float eps = dst.get<NormParams>().eps;
  if (n == 0) return;
  ThreadBuffers buffers(ctx, static_cast<size_t>(n));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const float* x = read_row(a, r, n, buffers.get(thread));
      const float factor = norm_factor(dst.op, simd::sum_squares(x, n), n, eps);
      simd::scale(x, factor, 0.0f, output_row(dst, r), n);
    }
  });
}

void compute_sum_rows(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const int64_t n = a.ne[0];
  ThreadBuffers buffers(ctx, static_cast<size_t>(n));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const float* x = read_row(a, r, n, buffers.get(thread));
      output_row(dst, r)[0] = simd::sum(x, n);
    }
  });
}

}  // namespace hllm::cpu
