// Row access shared by the CPU kernels: element addresses from byte strides, conversion of
// F32/F16/BF16 rows to float, and splitting rows over the thread pool.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/kernels.h"
#include "graph/tensor.h"
#include "util/half.h"

namespace hllm::cpu {

// Indices of one row (dimensions 1 to 3) of a tensor.
struct RowIndex {
  int64_t i1 = 0;
  int64_t i2 = 0;
  int64_t i3 = 0;
};

inline int64_t n_rows(const Tensor& t) {
  return t.ne[1] * t.ne[2] * t.ne[3];
}

// Row number `row` of t counted with dimension 1 fastest.
inline RowIndex unravel_row(const Tensor& t, int64_t row) {
  RowIndex index;
  index.i1 = row % t.ne[1];
  index.i2 = (row / t.ne[1]) % t.ne[2];
  index.i3 = row / (t.ne[1] * t.ne[2]);
  return index;
}

inline const std::byte* element_at(const Tensor& t, int64_t i0, int64_t i1, int64_t i2,
                                   int64_t i3) {
  return static_cast<const std::byte*>(t.data) + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] +
         i3 * t.nb[3];
}

inline std::byte* element_at(Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return static_cast<std::byte*>(t.data) + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] +
         i3 * t.nb[3];
}

inline const std::byte* row_at(const Tensor& t, const RowIndex& r) {
  return element_at(t, 0, r.i1, r.i2, r.i3);
}

// Row r of a contiguous F32 output.
inline float* output_row(Tensor& dst, const RowIndex& r) {
  return reinterpret_cast<float*>(element_at(dst, 0, r.i1, r.i2, r.i3));
}

// Reads one F32, F16 or BF16 element as float.
inline float load_float(const std::byte* p, GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return fp16_to_float(*reinterpret_cast<const uint16_t*>(p));
    case GgmlType::BF16:
      return bf16_to_float(*reinterpret_cast<const uint16_t*>(p));
    default:
      return *reinterpret_cast<const float*>(p);
  }
}

// Writes one float as an F32, F16 or BF16 element.
inline void store_float(std::byte* p, GgmlType type, float value) {
  switch (type) {
    case GgmlType::F16:
      *reinterpret_cast<uint16_t*>(p) = float_to_fp16(value);
      break;
    case GgmlType::BF16:
      *reinterpret_cast<uint16_t*>(p) = float_to_bf16(value);
      break;
    default:
      *reinterpret_cast<float*>(p) = value;
      break;
  }
}

// Returns the first n elements of row r of an F32, F16 or BF16 tensor as floats: the row itself
// when it is F32 with contiguous elements, else a converted copy in buffer (n floats).
const float* read_row(const Tensor& t, const RowIndex& r, int64_t n, float* buffer);

// Runs body(thread, begin, end) on each thread of the pool over a contiguous share of [0, n).
// The share of a thread depends only on n and the thread count.
template <class Body>
void for_each_share(CpuContext& ctx, int64_t n, const Body& body) {
  ctx.pool.run([&](int ith, int nth) {
    const int64_t chunk = (n + nth - 1) / nth;
    const int64_t begin = chunk * ith < n ? chunk * ith : n;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) body(ith, begin, end);
  });
}

// Carves per-thread float buffers of a fixed size out of the context's scratch memory.
class ThreadBuffers {
 public:
  ThreadBuffers(CpuContext& ctx, size_t floats_per_thread)
      : stride_((floats_per_thread + 15) / 16 * 16),  // whole 64-byte lines per thread
        base_(static_cast<float*>(
            ctx.scratch(stride_ * static_cast<size_t>(ctx.pool.size()) * sizeof(float)))) {}

  float* get(int thread) const { return base_ + stride_ * static_cast<size_t>(thread); }

 private:
  size_t stride_;
  float* base_;
};

}  // namespace hllm::cpu
