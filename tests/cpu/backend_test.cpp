#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/reference.h"
#include "backends/cpu/simd.h"
#include "compare.h"
#include "graph/allocator.h"
#include "graph/ops.h"
#include "op_harness.h"
#include "util/error.h"
#include "util/half.h"

namespace hllm::test {
namespace {

TEST(CpuBackend, SupportsByType) {
  const CpuBackend& backend = cpu_backend(1);
  Graph g;
  Tensor* ids = g.input("ids", GgmlType::I32, {2});
  Tensor* q4k = g.weight("q4k", GgmlType::Q4_K, {256, 4});
  Tensor* iq2 = g.weight("iq2", GgmlType::IQ2_XXS, {256, 4});
  Tensor* x = g.input("x", GgmlType::F32, {256, 4});
  Tensor* q8 = g.weight("q8", GgmlType::Q8_0, {256, 4});
  Tensor* i32 = g.input("i32", GgmlType::I32, {256, 4});

  EXPECT_TRUE(backend.supports(*ops::get_rows(g, q4k, ids)));
  EXPECT_FALSE(backend.supports(*ops::get_rows(g, iq2, ids)));
  EXPECT_TRUE(backend.supports(*ops::silu(g, x)));
  EXPECT_TRUE(backend.supports(*ops::copy(g, x, GgmlType::BF16)));
  EXPECT_FALSE(backend.supports(*ops::copy(g, x, GgmlType::Q8_0)));
  EXPECT_FALSE(backend.supports(*ops::copy(g, q8, GgmlType::F32)));
  EXPECT_TRUE(backend.supports(*ops::concat(g, i32, i32, 1)));
  EXPECT_FALSE(backend.supports(*ops::concat(g, q8, q8, 1)));
  EXPECT_TRUE(backend.supports(*ops::transpose(g, x)));
  Tensor* four_ids = g.input("four_ids", GgmlType::I32, {4});
  Tensor* cache = g.state("cache", GgmlType::F16, {256, 8});
  EXPECT_TRUE(backend.supports(*ops::set_rows(g, cache, x, four_ids)));
}

TEST(CpuBackend, AllocatesAlignedMemory) {
  CpuBackend& backend = cpu_backend(1);
  for (size_t bytes : {0, 1, 63, 64, 1000, 1 << 20}) {
    auto buffer = backend.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u) << bytes << " bytes";
    EXPECT_EQ(buffer->size(), bytes);
  }
}

TEST(CpuBackend, CopiesInAndOut) {
  CpuBackend& backend = cpu_backend(1);
  Graph g;
  Tensor* t = g.input("t", GgmlType::F32, {4});
  auto buffer = backend.allocate(t->n_bytes());
  t->data = buffer->data();
  const float in[4] = {1, 2, 3, 4};
  backend.copy_in(*t, in, 0, sizeof in);
  float out[2] = {};
  backend.copy_out(*t, out, 2 * sizeof(float), sizeof out);
  EXPECT_EQ(out[0], 3.0f);
  EXPECT_EQ(out[1], 4.0f);
  EXPECT_THROW(backend.copy_in(*t, in, 4, sizeof in), Error);
  EXPECT_THROW(backend.copy_out(*t, out, 17, 0), Error);
}

TEST(CpuBackend, RejectsMissingDataAndUnsupportedNodes) {
  CpuBackend& backend = cpu_backend(1);
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {32});
  Tensor* y = Graph::name(ops::exp(g, x), "y");
  ArenaBuffer arena;
  try {
    evaluate(g, backend, arena);
    FAIL() << "expected an Error for the input without data";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
  }

  Graph q;
  Tensor* w = q.weight("w", GgmlType::Q8_0, {32});
  Tensor* copied = Graph::name(ops::copy(q, w, GgmlType::F32), "copied");
  std::vector<std::byte> storage(w->n_bytes());
  w->data = storage.data();
  try {
    evaluate(q, backend, arena);
    FAIL() << "expected an Error for an unsupported copy";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("copy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("copied"), std::string::npos) << e.what();
  }
  (void)y;
  (void)copied;
}

// A small block of a model, evaluated as one graph with memory reuse: every node must equal
// its reference computed from the values of its sources.
TEST(CpuBackend, EvaluatesGraphWithReuse) {
  OpHarness h(81);
  Graph& g = h.graph();
  Tensor* x = h.random(GgmlType::F32, {64, 5, 1, 1});
  Tensor* norm_weight = h.random(GgmlType::F32, {64, 1, 1, 1});
  Tensor* positions = h.ids({5, 1, 1, 1}, {0, 1, 2, 3, 4});
  Tensor* normed = Graph::name(ops::mul(g, ops::rms_norm(g, x, 1e-6f), norm_weight), "norm", 0);
  Tensor* heads = ops::reshape(g, normed, {16, 4, 5});
  Tensor* roped = ops::rope(g, heads, positions, RopeParams{RopeMode::Neox, 16, 10000.0f, 1.0f});
  Tensor* q = ops::scale(g, roped, 0.5f);
  Tensor* attended = ops::attention(g, q, roped, roped, nullptr, 0.25f);
  Tensor* out = Graph::name(ops::silu(g, ops::reshape(g, attended, {64, 5})), "out", 0);
  for (Tensor* node : g.nodes())
    g.mark_output(node);  // keep every value for the check

  ArenaBuffer arena;
  evaluate(g, cpu_backend(2), arena);
  for (Tensor* node : g.nodes()) {
    if (node->is_view()) continue;
    SCOPED_TRACE(op_name(node->op));
    // Each step's inputs are the kernel's own outputs, so only that step's rounding counts;
    // 2e-5 covers the attention and norm row sums (see their tests).
    EXPECT_TRUE(all_close(cpu::reference::read_all(*node), cpu::reference::compute(*node),
                          Tolerance{2e-5, 2e-5}));
  }
  EXPECT_EQ(g.find("out-0"), out);
}

// The vector primitives handle every length from 0 to past two AVX-512 vectors and every start
// alignment, with the tail computed by the same arithmetic.
TEST(Simd, LengthsAndAlignments) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> a(64), b(64), out(64);
  for (float& value : a)
    value = uniform(rng);
  for (float& value : b)
    value = uniform(rng);
  for (int64_t start = 0; start < 4; ++start) {
    for (int64_t n = 0; n <= 40; ++n) {
      SCOPED_TRACE(fmt::format("start {} length {}", start, n));
      const float* x = a.data() + start;
      const float* y = b.data() + start;
      double dot = 0.0, sum = 0.0;
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < n; ++i) {
        dot += static_cast<double>(x[i]) * y[i];
        sum += x[i];
        max = std::max(max, x[i]);
      }
      // n <= 40 float products and sums of terms below 4: 40 * 4 * 2^-24 ≈ 1e-5 absolute.
      EXPECT_NEAR(cpu::simd::dot(x, y, n), dot, 1e-5);
      EXPECT_NEAR(cpu::simd::sum(x, n), sum, 1e-5);
      EXPECT_EQ(cpu::simd::max(x, n), max);

      std::fill(out.begin(), out.end(), 99.0f);
      cpu::simd::add(x, y, out.data() + start, n);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(out[start + i], x[i] + y[i]) << "index " << i;
      // Elements past the end stay untouched.
      EXPECT_EQ(out[start + n], 99.0f);

      const float total = cpu::simd::exp_shifted(x, 1.0f, out.data() + start, n);
      double expected_total = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const double e = std::exp(static_cast<double>(x[i]) - 1.0);
        expected_total += e;
        // Highway's Exp: 1 ulp; the argument x - 1 rounds once more.
        EXPECT_NEAR(out[start + i], e, 4e-7 * e) << "index " << i;
      }
      EXPECT_NEAR(total, expected_total, 1e-5);
      EXPECT_EQ(out[start + n], 99.0f);
    }
  }
}

}  // namespace
}  // namespace hllm::test

namespace hllm::test {
namespace {

// Every one of the 65536 half and bfloat16 codes converts exactly as util/half.h does, through
// full vectors and (for the last few codes) the staged tail.
TEST(Simd, HalfConversionsAreExact) {
  std::vector<uint16_t> codes(65536 + 5);
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<uint16_t>(i);
  std::vector<float> out(codes.size());
  for (bool bfloat : {false, true}) {
    SCOPED_TRACE(bfloat ? "bf16" : "f16");
    if (bfloat) {
      cpu::simd::bf16_to_f32(codes.data(), out.data(), static_cast<int64_t>(codes.size()));
    } else {
      cpu::simd::f16_to_f32(codes.data(), out.data(), static_cast<int64_t>(codes.size()));
    }
    int mismatches = 0;
    for (size_t i = 0; i < codes.size(); ++i) {
      const float expected = bfloat ? bf16_to_float(codes[i]) : fp16_to_float(codes[i]);
      const bool same = std::isnan(expected) ? std::isnan(out[i]) : out[i] == expected;
      if (!same && ++mismatches <= 5) {
        ADD_FAILURE() << "code " << codes[i] << ": expected " << expected << ", got " << out[i];
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

}  // namespace
}  // namespace hllm::test
