// Scalar reference implementations of the CPU ops in float64, written for clarity and used by
// tests to check the optimized kernels (and any other backend) against.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/tensor.h"

namespace hllm::cpu::reference {

// Reads element (i0, i1, i2, i3) of a tensor through its strides. Handles F32, F16, BF16, I32
// and every type with a dequantizer (the element's block is dequantized).
double read(const Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3);

// Reads a whole tensor in its logical order, dimension 0 fastest.
std::vector<double> read_all(const Tensor& t);

// Computes the node's value from its sources' data, in the node's logical order (dimension 0
// fastest). TopK gives indices. Copy, Concat and SetRows give the values rounded to the output
// type, as the op stores them. SetRows gives the destination after the update, so call this
// before the op runs, because the op overwrites its destination. Throws Error for MulMat,
// MulMatId, SsmConv and DeltaRule, whose references live with their own tests.
std::vector<double> compute(const Tensor& node);

}  // namespace hllm::cpu::reference
