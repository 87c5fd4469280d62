#include "op_harness.h"

#include <fmt/format.h>

#include <map>
#include <memory>

#include "backends/cpu/reference.h"
#include "formats/quant/quant.h"
#include "graph/allocator.h"
#include "util/half.h"

namespace hllm::test {

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Contiguous:
      return "contiguous";
    case Layout::Transposed:
      return "transposed";
    case Layout::Offset:
      return "offset";
    case Layout::Permuted:
      return "permuted";
  }
  return "?";
}

CpuBackend& cpu_backend(int n_threads) {
  static std::map<int, std::unique_ptr<CpuBackend>> backends;
  auto& backend = backends[n_threads];
  if (!backend) backend = std::make_unique<CpuBackend>(n_threads);
  return *backend;
}

std::string describe_case(GgmlType type, const Shape& ne, Layout layout) {
  return fmt::format("{} [{}] {}", type_name(type), fmt::join(ne, ", "), layout_name(layout));
}

Tensor* OpHarness::input(GgmlType type, Shape ne) {
  Tensor* t = graph_.input(fmt::format("input{}", graph_.leaves().size()), type,
                           {ne[0], ne[1], ne[2], ne[3]});
  storage_.emplace_back(t->n_bytes() + 1);  // never empty, so data is never null
  t->data = storage_.back().data();
  return t;
}

Tensor* OpHarness::values(GgmlType type, Shape ne, const std::vector<float>& values) {
  Tensor* t = input(type, ne);
  const int64_t rows = ne[1] * ne[2] * ne[3];
  quantize_rows(type, values.data(), t->data, rows, ne[0]);
  return t;
}

Tensor* OpHarness::random(GgmlType type, Shape ne, float low, float high) {
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> data(static_cast<size_t>(ne[0] * ne[1] * ne[2] * ne[3]));
  for (float& value : data)
    value = uniform(rng_);
  return values(type, ne, data);
}

Tensor* OpHarness::ids(Shape ne, const std::vector<int32_t>& values) {
  Tensor* t = input(GgmlType::I32, ne);
  std::copy(values.begin(), values.end(), static_cast<int32_t*>(t->data));
  return t;
}

Tensor* OpHarness::source(Layout layout, GgmlType type, Shape ne, float low, float high) {
  Graph& g = graph_;
  switch (layout) {
    case Layout::Contiguous:
      return random(type, ne, low, high);
    case Layout::Transposed: {
      Tensor* stored = random(type, {ne[1], ne[0], ne[2], ne[3]}, low, high);
      return ops::transpose(g, stored);
    }
    case Layout::Offset: {
      // One extra block per row and one extra row; the window starts one row and one block in.
      const int64_t block = type_traits(type).block_size;
      Tensor* stored = random(type, {ne[0] + block, ne[1] + 1, ne[2], ne[3]}, low, high);
      const size_t offset = stored->nb[1] + stored->nb[0];
      return ops::view_4d(g, stored, ne[0], ne[1], ne[2], ne[3], stored->nb[1], stored->nb[2],
                          stored->nb[3], offset);
    }
    case Layout::Permuted: {
      Tensor* stored = random(type, {ne[0], ne[2], ne[1], ne[3]}, low, high);
      return ops::permute(g, stored, 0, 2, 1, 3);
    }
  }
  return nullptr;
}

OpResult OpHarness::run(Tensor* node, int n_threads) {
  CpuBackend& backend = cpu_backend(n_threads);
  graph_.mark_output(node);
  const ArenaPlan plan = plan_arena(graph_);
  place_in_arena(plan, arena_.reserve(backend, plan.size));
  resolve_views(graph_);

  const auto& nodes = graph_.nodes();
  size_t index = 0;
  while (nodes[index] != node)
    ++index;
  backend.compute(std::span<Tensor* const>(nodes.data(), index));
  OpResult result;
  result.expected = cpu::reference::compute(*node);
  backend.compute(std::span<Tensor* const>(nodes.data() + index, nodes.size() - index));
  result.actual = cpu::reference::read_all(*node);
  return result;
}

}  // namespace hllm::test
