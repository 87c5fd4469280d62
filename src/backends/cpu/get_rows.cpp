// GetRows: gathers table rows by index, converting them to float (embedding lookup).
#include <algorithm>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "formats/quant/quant.h"
#include "util/error.h"

namespace hllm::cpu {

void compute_get_rows(Tensor& dst, CpuContext& ctx) {
  const Tensor& table = *dst.src[0];
  const Tensor& ids = *dst.src[1];
  const int64_t n = table.ne[0];
  const bool quantized = type_traits(table.type).quantized;

  for_each_share(ctx, n_rows(dst), [&](int, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const int32_t id = *reinterpret_cast<const int32_t*>(element_at(ids, r.i1, r.i2, r.i3, 0));
      HLLM_CHECK(id >= 0 && id < table.ne[1],
                 "get_rows: id {} at position {} is out of range for table '{}' with {} rows", id,
                 r.i1, table.name, table.ne[1]);
      const RowIndex source{id, r.i2, r.i3};
      float* out = output_row(dst, r);
      if (quantized) {
        // Views keep a quantized row's blocks contiguous, so the row dequantizes in one call.
        dequantize_row(table.type, row_at(table, source), out, n);
      } else {
        const float* values = read_row(table, source, n, out);
        if (values != out) std::copy(values, values + n, out);
      }
    }
  });
}

}  // namespace hllm::cpu
