// SoftMax over ne[0] of src0 * scale + mask.
#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {

void compute_soft_max(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const Tensor* mask = dst.n_src > 1 ? dst.src[1] : nullptr;
  const float scale = dst.get<SoftMaxParams>().scale;
  const int64_t n = a.ne[0];
  ThreadBuffers buffers(ctx, static_cast<size_t>(2 * n));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    float* x_buffer = buffers.get(thread);
    float* mask_buffer = x_buffer + n;
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      float* out = output_row(dst, r);
      simd::scale(read_row(a, r, n, x_buffer), scale, 0.0f, out, n);
      if (mask != nullptr) {
        const RowIndex mask_row{r.i1, r.i2 % mask->ne[2], r.i3 % mask->ne[3]};
        simd::add(out, read_row(*mask, mask_row, n, mask_buffer), out, n);
      }
      const float max = simd::max(out, n);
      // A row masked out entirely has no distribution; it becomes zeros instead of NaN.
      if (std::isinf(max) && max < 0) {
        std::fill(out, out + n, 0.0f);
        continue;
      }
      const float sum = simd::exp_shifted(out, max, out, n);
      simd::scale(out, 1.0f / sum, 0.0f, out, n);
    }
  });
}

}  // namespace hllm::cpu
