// TopK: indices of the k largest values of each row, largest first, ties broken by the lower
// index. NaN ranks below every number.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"

namespace hllm::cpu {

void compute_top_k(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const int64_t n = a.ne[0];
  const int64_t k = dst.ne[0];
  ThreadBuffers buffers(ctx, static_cast<size_t>(n));

  for_each_share(ctx, n_rows(dst), [&](int thread, int64_t begin, int64_t end) {
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const float* x = read_row(a, r, n, buffers.get(thread));
      // A strict weak order: by value descending, NaN last, then by index.
      const auto before = [x](int32_t i, int32_t j) {
        const bool nan_i = std::isnan(x[i]);
        const bool nan_j = std::isnan(x[j]);
        if (nan_i != nan_j) return nan_j;
        if (!nan_i && x[i] != x[j]) return x[i] > x[j];
        return i < j;
      };
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      auto* out = reinterpret_cast<int32_t*>(output_row(dst, r));
      std::copy(order.begin(), order.begin() + k, out);
    }
  });
}

}  // namespace hllm::cpu
