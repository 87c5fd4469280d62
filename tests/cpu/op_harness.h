// Builds one-op graphs over random inputs stored in any type and memory layout, runs them on
// the CPU backend and returns the output next to the float64 reference.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/graph.h"
#include "graph/ops.h"

namespace hllm::test {

using Shape = std::array<int64_t, kMaxDims>;

// How a source's elements sit in memory. Every layout but Contiguous makes a view.
enum class Layout {
  Contiguous,
  Transposed,  // stored with dimensions 0 and 1 swapped, then transposed: elements strided
  Offset,      // a window into a larger tensor: padded rows and an unaligned start
  Permuted,    // stored with dimensions 1 and 2 swapped, then permuted back
};

inline constexpr std::array<Layout, 4> kLayouts = {Layout::Contiguous, Layout::Transposed,
                                                   Layout::Offset, Layout::Permuted};
inline constexpr std::array<GgmlType, 3> kFloatTypes = {GgmlType::F32, GgmlType::F16,
                                                        GgmlType::BF16};

const char* layout_name(Layout layout);

// Returns a backend with n_threads threads, shared by all tests.
CpuBackend& cpu_backend(int n_threads);

struct OpResult {
  std::vector<double> expected;  // the float64 reference
  std::vector<double> actual;    // what the CPU backend stored, in logical order
};

class OpHarness {
 public:
  explicit OpHarness(uint32_t seed = 1) : rng_(seed) {}

  Graph& graph() { return graph_; }
  std::mt19937& rng() { return rng_; }

  // An input of shape ne stored as type, filled with uniform values in [low, high].
  Tensor* random(GgmlType type, Shape ne, float low = -1.0f, float high = 1.0f);
  // A tensor of logical shape ne laid out in memory as layout, over a random input.
  Tensor* source(Layout layout, GgmlType type, Shape ne, float low = -1.0f, float high = 1.0f);
  // An input holding the given values (converted to type), in logical order.
  Tensor* values(GgmlType type, Shape ne, const std::vector<float>& values);
  Tensor* ids(Shape ne, const std::vector<int32_t>& values);

  // Computes every node before node, then node's reference, then node and the rest.
  OpResult run(Tensor* node, int n_threads = 2);

 private:
  Tensor* input(GgmlType type, Shape ne);

  Graph graph_;
  std::mt19937 rng_;
  std::deque<std::vector<std::byte>> storage_;
  ArenaBuffer arena_;
};

// "f16 [33, 5, 3] transposed": for SCOPED_TRACE.
std::string describe_case(GgmlType type, const Shape& ne, Layout layout);

}  // namespace hllm::test
