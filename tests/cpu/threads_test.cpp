#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "op_harness.h"

namespace hllm::test {
namespace {

// Builds one op over fresh random inputs. The test calls it once per thread count with the same
// seed, so every run sees the same inputs.
using Builder = std::function<Tensor*(OpHarness&)>;

std::vector<std::pair<const char*, Builder>> builders() {
  return {
      {"get_rows",
       [](OpHarness& h) {
         return ops::get_rows(h.graph(), h.random(GgmlType::Q4_K, {256, 9, 1, 1}),
                              h.ids({5, 1, 1, 1}, {8, 1, 0, 4, 1}));
       }},
      {"add",
       [](OpHarness& h) {
         return ops::add(h.graph(), h.source(Layout::Permuted, GgmlType::F16, {67, 5, 3, 1}),
                         h.random(GgmlType::F32, {67, 1, 1, 1}));
       }},
      {"silu",
       [](OpHarness& h) {
         return ops::silu(h.graph(), h.source(Layout::Offset, GgmlType::F32, {131, 7, 2, 1}));
       }},
      {"rms_norm",
       [](OpHarness& h) {
         return ops::rms_norm(h.graph(),
                              h.source(Layout::Contiguous, GgmlType::F32, {257, 9, 1, 1}), 1e-6f);
       }},
      {"sum_rows",
       [](OpHarness& h) {
         return ops::sum_rows(h.graph(),
                              h.source(Layout::Transposed, GgmlType::F32, {100, 7, 1, 1}));
       }},
      {"rope",
       [](OpHarness& h) {
         return ops::rope(h.graph(), h.source(Layout::Contiguous, GgmlType::F32, {64, 4, 7, 1}),
                          h.ids({7, 1, 1, 1}, {0, 1, 2, 3, 50, 51, 52}),
                          RopeParams{RopeMode::Neox, 32, 10000.0f, 1.0f});
       }},
      {"soft_max",
       [](OpHarness& h) {
         return ops::soft_max(
             h.graph(), h.source(Layout::Contiguous, GgmlType::F32, {77, 11, 1, 1}), nullptr, 0.3f);
       }},
      {"attention",
       [](OpHarness& h) {
         std::vector<float> mask(130 * 5, 0.0f);
         for (int q = 0; q < 5; ++q) {
           for (int k = 126 + q; k < 130; ++k)
             mask[q * 130 + k] = -INFINITY;
         }
         return ops::attention(h.graph(), h.random(GgmlType::F32, {64, 8, 5, 1}),
                               h.random(GgmlType::F16, {64, 2, 130, 1}),
                               h.random(GgmlType::F16, {64, 2, 130, 1}),
                               h.values(GgmlType::F32, {130, 5, 1, 1}, mask), 0.125f);
       }},
      {"top_k",
       [](OpHarness& h) {
         return ops::top_k(h.graph(), h.random(GgmlType::BF16, {300, 6, 1, 1}), 8);
       }},
      {"copy",
       [](OpHarness& h) {
         return ops::copy(h.graph(), h.source(Layout::Transposed, GgmlType::F32, {33, 9, 2, 1}),
                          GgmlType::F16);
       }},
      {"concat",
       [](OpHarness& h) {
         return ops::concat(h.graph(), h.random(GgmlType::F32, {5, 6, 3, 1}),
                            h.random(GgmlType::F32, {5, 6, 2, 1}), 2);
       }},
      {"set_rows",
       [](OpHarness& h) {
         return ops::set_rows(h.graph(), h.random(GgmlType::F16, {40, 8, 1, 1}),
                              h.random(GgmlType::F32, {40, 3, 1, 1}),
                              h.ids({3, 1, 1, 1}, {2, 6, 2}));
       }},
  };
}

TEST(Threads, CountsGiveIdenticalResults) {
  for (const auto& [name, build] : builders()) {
    SCOPED_TRACE(name);
    std::vector<std::vector<double>> outputs;
    for (int n_threads : {1, 2, 3}) {
      OpHarness h(91);
      outputs.push_back(h.run(build(h), n_threads).actual);
    }
    EXPECT_EQ(outputs[0], outputs[1]) << "2 threads differ from 1";
    EXPECT_EQ(outputs[0], outputs[2]) << "3 threads differ from 1";
  }
}

}  // namespace
}  // namespace hllm::test
