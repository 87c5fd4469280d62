// Data movement: Copy (any strides and F32/F16/BF16 to a contiguous F32/F16/BF16 tensor),
// Concat along any dimension, and SetRows (scatter rows into a destination in place).
#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "util/error.h"

namespace hllm::cpu {
namespace {

// Copies n elements of the same type from a strided row into a contiguous one, bit for bit.
void copy_elements(const std::byte* source, size_t source_stride, std::byte* out,
                   size_t element_size, int64_t n) {
  if (source_stride == element_size) {
    std::memcpy(out, source, static_cast<size_t>(n) * element_size);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * element_size, source + i * source_stride, element_size);
  }
}

}  // namespace

void compute_copy(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const int64_t n = a.ne[0];
  const size_t out_size = type_traits(dst.type).type_size;

  for_each_share(ctx, n_rows(dst), [&](int, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      const std::byte* source = row_at(a, r);
      std::byte* out = element_at(dst, 0, r.i1, r.i2, r.i3);
      if (a.type == dst.type) {
        copy_elements(source, a.nb[0], out, out_size, n);
        continue;
      }
      for (int64_t i = 0; i < n; ++i) {
        store_float(out + i * out_size, dst.type, load_float(source + i * a.nb[0], a.type));
      }
    }
  });
}

void compute_concat(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const Tensor& b = *dst.src[1];
  const int dim = dst.get<ConcatParams>().dim;
  const size_t element_size = type_traits(dst.type).type_size;

  for_each_share(ctx, n_rows(dst), [&](int, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowIndex r = unravel_row(dst, row);
      std::byte* out = element_at(dst, 0, r.i1, r.i2, r.i3);
      if (dim == 0) {
        copy_elements(row_at(a, r), a.nb[0], out, element_size, a.ne[0]);
        copy_elements(row_at(b, r), b.nb[0], out + a.ne[0] * element_size, element_size, b.ne[0]);
        continue;
      }
      // Rows past a's extent along dim come from b, shifted back by that extent.
      std::array<int64_t, kMaxDims> index{0, r.i1, r.i2, r.i3};
      const bool from_a = index[dim] < a.ne[dim];
      if (!from_a) index[dim] -= a.ne[dim];
      const Tensor& source = from_a ? a : b;
      copy_elements(row_at(source, RowIndex{index[1], index[2], index[3]}), source.nb[0], out,
                    element_size, dst.ne[0]);
    }
  });
}

void compute_set_rows(Tensor& dst, CpuContext& ctx) {
  const Tensor& rows = *dst.src[1];
  const Tensor& ids = *dst.src[2];
  const int64_t n = dst.ne[0];
  const int64_t m = rows.ne[1];
  const size_t out_size = type_traits(dst.type).type_size;

  for (int64_t j = 0; j < m; ++j) {
    const int32_t id = *reinterpret_cast<const int32_t*>(element_at(ids, j, 0, 0, 0));
    HLLM_CHECK(id >= 0 && id < dst.ne[1],
               "set_rows: id {} at position {} is out of range for destination '{}' with {} rows",
               id, j, dst.src[0]->name, dst.ne[1]);
  }
  // Threads split the columns, so when ids repeat the later row wins regardless of threads.
  for_each_share(ctx, n, [&](int, int64_t begin, int64_t end) {
    for (int64_t j = 0; j < m; ++j) {
      const int32_t id = *reinterpret_cast<const int32_t*>(element_at(ids, j, 0, 0, 0));
      const std::byte* source = element_at(rows, 0, j, 0, 0);
      std::byte* out = element_at(dst, 0, id, 0, 0);
      for (int64_t i = begin; i < end; ++i) {
        store_float(out + i * out_size, dst.type, load_float(source + i * rows.nb[0], rows.type));
      }
    }
  });
}

}  // namespace hllm::cpu
