// Tensors over caller-owned memory, for op tests that call a kernel directly.
#pragma once

#include <array>
#include <cstdint>

#include "graph/tensor.h"

namespace hllm::test {

// Returns a contiguous tensor of shape ne over data: I32 elements for GgmlType::I32, F32
// elements for any other type.
inline Tensor make_tensor(const char* name, GgmlType type, std::array<int64_t, kMaxDims> ne,
                          void* data) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = type;
  tensor.ne = ne;
  tensor.nb[0] = type == GgmlType::I32 ? sizeof(int32_t) : sizeof(float);
  for (int i = 1; i < kMaxDims; ++i)
    tensor.nb[i] = tensor.nb[i - 1] * ne[i - 1];
  tensor.data = data;
  return tensor;
}

}  // namespace hllm::test
