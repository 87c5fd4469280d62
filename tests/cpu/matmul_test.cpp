// MulMat and MulMatId against a float64 reference that dequantizes the weights with
// dequantize_row, for every weight type with a kernel, on every SIMD target this CPU runs.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL  // as the kernels are built, so the VNNI target is tested too
#endif
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matmul_internal.h"
#include "formats/quant/quant.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm::cpu {
namespace {

const GgmlType kWeightTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0,
    GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
};

// Row lengths: three blocks, so rows are not a multiple of the 64-element SIMD step.
int64_t test_k(GgmlType type) { return 3 * std::max<int64_t>(32, type_traits(type).block_size); }

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values) v = uniform(rng);
  return values;
}

// Sets contiguous byte strides for a tensor of type and shape ne.
void set_contiguous(Tensor& t, GgmlType type, std::array<int64_t, 4> ne) {
  t.type = type;
  t.ne = ne;
  t.nb[0] = type_traits(type).type_size;
  t.nb[1] = row_size(type, ne[0]);
  t.nb[2] = t.nb[1] * ne[1];
  t.nb[3] = t.nb[2] * ne[2];
}

// Weights of any type: random floats quantized (or converted) with quantize_rows, and their
// dequantized values for the reference.
struct Weights {
  Tensor tensor;
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // dequantize_row of every row, [k, M, B0, C0]
};

Weights make_weights(GgmlType type, std::array<int64_t, 4> ne, uint32_t seed) {
  Weights w;
  set_contiguous(w.tensor, type, ne);
  w.tensor.name = "weights";
  const int64_t rows = ne[1] * ne[2] * ne[3];
  const std::vector<float> source = random_floats(static_cast<size_t>(ne[0] * rows), seed);
  w.bytes.resize(row_size(type, ne[0]) * rows);
  quantize_rows(type, source.data(), w.bytes.data(), rows, ne[0]);
  w.tensor.data = w.bytes.data();
  w.values.resize(source.size());
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(type, w.bytes.data() + r * w.tensor.nb[1], w.values.data() + r * ne[0], ne[0]);
  }
  return w;
}

// How the F32 input rows are laid out in memory.
enum class Layout {
  Contiguous,
  PaddedRows,  // 8 unused floats after every row
  Transposed,  // element stride of ne[1] floats: rows are columns of a [N, k] matrix
};

struct Input {
  Tensor tensor;
  std::vector<float> storage;
  float at(int64_t i0, int64_t i1, int64_t i2, int64_t i3) const {
    const size_t offset =
        i0 * tensor.nb[0] + i1 * tensor.nb[1] + i2 * tensor.nb[2] + i3 * tensor.nb[3];
    return storage[offset / sizeof(float)];
  }
};

Input make_input(std::array<int64_t, 4> ne, Layout layout, uint32_t seed) {
  Input in;
  in.tensor.type = GgmlType::F32;
  in.tensor.name = "input";
  in.tensor.ne = ne;
  const size_t f = sizeof(float);
  switch (layout) {
    case Layout::Contiguous:
      in.tensor.nb = {f, f * ne[0], f * ne[0] * ne[1], f * ne[0] * ne[1] * ne[2]};
      break;
    case Layout::PaddedRows:
      in.tensor.nb = {f, f * (ne[0] + 8), f * (ne[0] + 8) * ne[1],
                      f * (ne[0] + 8) * ne[1] * ne[2]};
      break;
    case Layout::Transposed:
      in.tensor.nb = {f * ne[1], f, f * ne[0] * ne[1], f * ne[0] * ne[1] * ne[2]};
      break;
  }
  in.storage = random_floats(in.tensor.nb[3] * ne[3] / f, seed);
  in.tensor.data = in.storage.data();
  return in;
}

double norm(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

// Allowed error of one output: dot(w, x) with w a dequantized weight row.
double tolerance(GgmlType type, const std::vector<double>& w, const std::vector<double>& x) {
  // Float32 products summed in vectors of up to 16 lanes: about k / 16 + 16 roundings of
  // relative size FLT_EPSILON on partial sums bounded by |w| |x|; a factor 4 of headroom.
  const auto k = static_cast<double>(w.size());
  double allowed = 4.0 * (k / 16.0 + 16.0) * FLT_EPSILON * norm(w) * norm(x);
  if (!matmul::uses_int8_path(type)) return allowed;
  // Quantized weights meet int8 activations: each activation moves by at most d / 2 with
  // d = (max |x| of its 32-element block) / 127. These independent, uniform rounding errors
  // give the dot product a standard deviation of sqrt(sum w^2 d^2 / 12); allow 6 of them.
  double variance = 0.0;
  for (size_t block = 0; block < w.size(); block += 32) {
    double max_abs = 0.0;
    for (size_t i = block; i < block + 32; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
    const double d = max_abs / 127.0;
    for (size_t i = block; i < block + 32; ++i) variance += w[i] * w[i] * d * d / 12.0;
  }
  return allowed + 6.0 * std::sqrt(variance);
}

// Worst violation over all outputs, reported with its place.
struct Check {
  double worst_excess = 0.0;
  std::string report;
  void add(const std::string& where, double expected, double actual, double allowed) {
    const double error = std::fabs(expected - actual);
    if (error <= allowed) return;  // NaN fails this test too
    const double excess = std::isnan(error) ? INFINITY : error - allowed;
    if (!report.empty() && excess <= worst_excess) return;
    worst_excess = excess;
    report = where + ": expected " + std::to_string(expected) + ", actual " +
             std::to_string(actual) + ", tolerance " + std::to_string(allowed);
  }
  bool ok() const { return report.empty(); }
};

std::vector<float> run_mul_mat(Tensor& weights, Tensor& input, int threads) {
  Tensor dst;
  set_contiguous(dst, GgmlType::F32, {weights.ne[1], input.ne[1], input.ne[2], input.ne[3]});
  dst.name = "product";
  dst.op = Op::MulMat;
  dst.src[0] = &weights;
  dst.src[1] = &input;
  dst.n_src = 2;
  std::vector<float> out(dst.n_elements(), NAN);
  dst.data = out.data();
  ThreadPool pool(threads);
  CpuContext ctx(pool);
  compute_mul_mat(dst, ctx);
  return out;
}

// Multiplies weights [k, M, B0, C0] by an input [k, N, B, C] and checks every output.
void check_mul_mat(GgmlType type, std::array<int64_t, 4> weight_ne, std::array<int64_t, 4> input_ne,
                   Layout layout, int threads) {
  SCOPED_TRACE(std::string(type_name(type)) + " on " + matmul::kernel_target_name() + ", M " +
               std::to_string(weight_ne[1]) + ", N " + std::to_string(input_ne[1]) + ", " +
               std::to_string(threads) + " threads, layout " +
               std::to_string(static_cast<int>(layout)));
  Weights weights = make_weights(type, weight_ne, 17);
  Input input = make_input(input_ne, layout, 29);
  const std::vector<float> out = run_mul_mat(weights.tensor, input.tensor, threads);

  const int64_t k = weight_ne[0];
  const int64_t rows = weight_ne[1];
  Check check;
  std::vector<double> w(k);
  std::vector<double> x(k);
  for (int64_t i3 = 0; i3 < input_ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < input_ne[2]; ++i2) {
      const int64_t w2 = i2 / (input_ne[2] / weight_ne[2]);
      const int64_t w3 = i3 / (input_ne[3] / weight_ne[3]);
      for (int64_t n = 0; n < input_ne[1]; ++n) {
        for (int64_t i = 0; i < k; ++i) x[i] = input.at(i, n, i2, i3);
        for (int64_t m = 0; m < rows; ++m) {
          const float* row = weights.values.data() + ((w3 * weight_ne[2] + w2) * rows + m) * k;
          double expected = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            w[i] = row[i];
            expected += w[i] * x[i];
          }
          const double actual = out[((i3 * input_ne[2] + i2) * input_ne[1] + n) * rows + m];
          check.add("output [" + std::to_string(m) + ", " + std::to_string(n) + ", " +
                        std::to_string(i2) + ", " + std::to_string(i3) + "]",
                    expected, actual, tolerance(type, w, x));
        }
      }
    }
  }
  EXPECT_TRUE(check.ok()) << "worst " << check.report;
}

// Runs body once with each SIMD target that this CPU supports, then restores the default.
template <typename Body>
void for_each_target(const Body& body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(MulMat, MatrixVectorEveryType) {
  for_each_target([] {
    for (GgmlType type : kWeightTypes) {
      const int64_t k = test_k(type);
      for (int threads : {1, 2}) {
        check_mul_mat(type, {k, 67, 1, 1}, {k, 1, 1, 1}, Layout::Contiguous, threads);
        check_mul_mat(type, {k, 1, 1, 1}, {k, 1, 1, 1}, Layout::Contiguous, threads);
      }
    }
  });
}

TEST(MulMat, SmallBatchesEveryType) {
  for (GgmlType type : kWeightTypes) {
    const int64_t k = test_k(type);
    for (int threads : {1, 2}) {
      check_mul_mat(type, {k, 3, 1, 1}, {k, 17, 1, 1}, Layout::Contiguous, threads);
      check_mul_mat(type, {k, 17, 1, 1}, {k, 3, 1, 1}, Layout::Contiguous, threads);
    }
  }
}

// 511 columns span several column chunks and end in a partial tile.
TEST(MulMat, LargeBatchEveryType) {
  for_each_target([] {
    for (GgmlType type : kWeightTypes) {
      const int64_t k = test_k(type);
      check_mul_mat(type, {k, 17, 1, 1}, {k, 511, 1, 1}, Layout::Contiguous, 2);
    }
  });
  check_mul_mat(GgmlType::Q4_K, {2048, 67, 1, 1}, {2048, 512, 1, 1}, Layout::Contiguous, 1);
  check_mul_mat(GgmlType::Q8_0, {2048, 67, 1, 1}, {2048, 512, 1, 1}, Layout::Contiguous, 2);
}

TEST(MulMat, StridedInput) {
  for (GgmlType type : kWeightTypes) {
    const int64_t k = test_k(type);
    for (Layout layout : {Layout::PaddedRows, Layout::Transposed}) {
      check_mul_mat(type, {k, 17, 1, 1}, {k, 5, 1, 1}, layout, 2);
      check_mul_mat(type, {k, 3, 1, 1}, {k, 1, 1, 1}, layout, 1);
    }
  }
}

TEST(MulMat, BroadcastOverDims2And3) {
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_K}) {
    const int64_t k = test_k(type);
    check_mul_mat(type, {k, 5, 2, 1}, {k, 3, 4, 2}, Layout::Contiguous, 2);
    check_mul_mat(type, {k, 5, 2, 3}, {k, 3, 2, 3}, Layout::PaddedRows, 1);
  }
}

TEST(MulMat, RejectsMismatchedRowLength) {
  Weights weights = make_weights(GgmlType::Q8_0, {64, 3, 1, 1}, 1);
  Input input = make_input({96, 2, 1, 1}, Layout::Contiguous, 2);
  EXPECT_THROW(run_mul_mat(weights.tensor, input.tensor, 1), Error);
}

TEST(MulMat, SupportsListedTypesOnly) {
  for (GgmlType type : kWeightTypes) EXPECT_TRUE(mul_mat_supports(type)) << type_name(type);
  EXPECT_FALSE(mul_mat_supports(GgmlType::IQ2_XXS));
  EXPECT_FALSE(mul_mat_supports(GgmlType::I32));
}

struct IdProblem {
  Weights experts;
  Input input;
  Tensor ids;
  std::vector<int32_t> id_values;
  Tensor dst;
  std::vector<float> out;
};

// Experts [k, M, E], input [k, U1, T], ids [U, T]; every token selects slot 1 = slot 0's expert,
// so repeated experts within one token are covered.
void setup_id_problem(IdProblem& p, GgmlType type, int64_t rows, int64_t n_experts,
                      int64_t slots, int64_t input_rows, int64_t tokens) {
  const int64_t k = test_k(type);
  p.experts = make_weights(type, {k, rows, n_experts, 1}, 5);
  p.input = make_input({k, input_rows, tokens, 1}, Layout::Contiguous, 7);
  std::mt19937 rng(11);
  p.id_values.resize(slots * tokens);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t u = 0; u < slots; ++u) {
      p.id_values[t * slots + u] = static_cast<int32_t>(rng() % n_experts);
    }
    if (slots > 1) p.id_values[t * slots + 1] = p.id_values[t * slots];
  }
  set_contiguous(p.ids, GgmlType::I32, {slots, tokens, 1, 1});
  p.ids.name = "ids";
  p.ids.data = p.id_values.data();
  set_contiguous(p.dst, GgmlType::F32, {rows, slots, tokens, 1});
  p.dst.name = "expert_product";
  p.dst.op = Op::MulMatId;
  p.dst.src[0] = &p.experts.tensor;
  p.dst.src[1] = &p.input.tensor;
  p.dst.src[2] = &p.ids;
  p.dst.n_src = 3;
  p.out.assign(p.dst.n_elements(), NAN);
  p.dst.data = p.out.data();
}

// Compares MulMatId with one MulMat per (slot, token) on the selected expert's matrix.
void check_mul_mat_id(GgmlType type, int64_t slots, int64_t input_rows, int64_t tokens,
                      int threads) {
  SCOPED_TRACE(std::string(type_name(type)) + ", U1 " + std::to_string(input_rows) + ", T " +
               std::to_string(tokens) + ", " + std::to_string(threads) + " threads");
  IdProblem p;
  const int64_t rows = 19;
  setup_id_problem(p, type, rows, 6, slots, input_rows, tokens);
  ThreadPool pool(threads);
  CpuContext ctx(pool);
  compute_mul_mat_id(p.dst, ctx);

  const int64_t k = p.experts.tensor.ne[0];
  Check check;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t u = 0; u < slots; ++u) {
      const int32_t expert = p.id_values[t * slots + u];
      Tensor matrix = p.experts.tensor;
      matrix.ne = {k, rows, 1, 1};
      matrix.data = p.experts.bytes.data() + expert * p.experts.tensor.nb[2];
      Tensor row = p.input.tensor;
      row.ne = {k, 1, 1, 1};
      const int64_t input_row = input_rows == 1 ? 0 : u;
      row.data = p.input.storage.data() + (t * input_rows + input_row) * k;
      const std::vector<float> expected = run_mul_mat(matrix, row, threads);
      for (int64_t m = 0; m < rows; ++m) {
        // Each output depends only on its own weight row and input row, so grouping by expert
        // must reproduce MulMat exactly.
        check.add("output [" + std::to_string(m) + ", " + std::to_string(u) + ", " +
                      std::to_string(t) + "] of expert " + std::to_string(expert),
                  expected[m], p.out[(t * slots + u) * rows + m], 0.0);
      }
    }
  }
  EXPECT_TRUE(check.ok()) << "worst " << check.report;
}

TEST(MulMatId, MatchesMulMatPerExpert) {
  for (GgmlType type : {GgmlType::F32, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_K,
                        GgmlType::Q6_K, GgmlType::Q5_1}) {
    for (int threads : {1, 2}) {
      check_mul_mat_id(type, 3, 3, 9, threads);  // one input row per slot
      check_mul_mat_id(type, 3, 1, 9, threads);  // one input row shared by all slots
      check_mul_mat_id(type, 2, 2, 1, threads);  // a single token, as in decoding
    }
  }
}

TEST(MulMatId, RejectsExpertOutOfRange) {
  IdProblem p;
  setup_id_problem(p, GgmlType::Q8_0, 4, 3, 2, 2, 2);
  p.id_values[3] = 3;
  ThreadPool pool(1);
  CpuContext ctx(pool);
  EXPECT_THROW(compute_mul_mat_id(p.dst, ctx), Error);
  p.id_values[3] = -1;
  EXPECT_THROW(compute_mul_mat_id(p.dst, ctx), Error);
}

}  // namespace
}  // namespace hllm::cpu
