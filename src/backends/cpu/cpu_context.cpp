#include <cstdint>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "backends/cpu/simd.h"

namespace hllm::cpu {

void* CpuContext::scratch(size_t bytes) {
  // Over-allocate by one alignment unit so that the returned pointer can be aligned.
  constexpr size_t kAlignment = 64;
  if (scratch_.size() < bytes + kAlignment) scratch_.resize(bytes + kAlignment);
  const auto address = reinterpret_cast<uintptr_t>(scratch_.data());
  const uintptr_t aligned = (address + kAlignment - 1) / kAlignment * kAlignment;
  return scratch_.data() + (aligned - address);
}

const float* read_row(const Tensor& t, const RowIndex& r, int64_t n, float* buffer) {
  const std::byte* row = row_at(t, r);
  if (t.type == GgmlType::F32 && t.nb[0] == sizeof(float)) {
    return reinterpret_cast<const float*>(row);
  }
  if (t.type == GgmlType::F16 && t.nb[0] == sizeof(uint16_t)) {
    simd::f16_to_f32(reinterpret_cast<const uint16_t*>(row), buffer, n);
    return buffer;
  }
  if (t.type == GgmlType::BF16 && t.nb[0] == sizeof(uint16_t)) {
    simd::bf16_to_f32(reinterpret_cast<const uint16_t*>(row), buffer, n);
    return buffer;
  }
  for (int64_t i = 0; i < n; ++i)
    buffer[i] = load_float(row + i * t.nb[0], t.type);
  return buffer;
}

}  // namespace hllm::cpu
