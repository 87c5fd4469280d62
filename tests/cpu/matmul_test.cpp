// MulMat and MulMatId against a float64 reference that dequantizes the weights with
// dequantize_row and converts the input as llama.cpp does for each weight type, for every weight
// type with a kernel, on every SIMD target this CPU runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matmul_internal.h"
#include "cpu/targets.h"
#include "formats/quant/quant.h"
#include "util/error.h"
#include "util/half.h"
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

// The format that llama.cpp's CPU backend converts the input to before its dot products with
// weights of type (ggml's vec_dot_type), which the kernels reproduce.
GgmlType activation_type(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return type;
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
      return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return GgmlType::Q8_1;
    default:
      return GgmlType::Q8_K;
  }
}

// One input row as the kernels multiply it: converted to activation_type(type) with the
// reference quantizers, then back to float.
struct ActivationRow {
  std::vector<double> values;
  // Q8_1 only: per 32-element block, the stored fp16 s minus the sum of the block's values. A
  // weight block's min multiplies s, which differs from that sum by the fp16 roundings.
  std::vector<double> min_excess;
};

ActivationRow convert_activation(GgmlType weight_type, const std::vector<double>& x) {
  const GgmlType type = activation_type(weight_type);
  const auto k = static_cast<int64_t>(x.size());
  const std::vector<float> source(x.begin(), x.end());
  std::vector<uint8_t> bytes(row_size(type, k));
  quantize_row(type, source.data(), bytes.data(), k);
  std::vector<float> converted(k);
  dequantize_row(type, bytes.data(), converted.data(), k);

  ActivationRow row;
  row.values.assign(converted.begin(), converted.end());
  if (type == GgmlType::Q8_1) {
    const auto* blocks = reinterpret_cast<const BlockQ8_1*>(bytes.data());
    for (int64_t b = 0; b < k / kLegacyBlockSize; ++b) {
      double sum = 0.0;
      for (int i = 0; i < kLegacyBlockSize; ++i) sum += row.values[b * kLegacyBlockSize + i];
      row.min_excess.push_back(fp16_to_float(blocks[b].s) - sum);
    }
  }
  return row;
}

// dot(w, x) of a dequantized weight row w (stored as `bytes`) and a converted input row x, with
// the min term of Q4_1 and Q5_1 taken against s as llama.cpp does.
double reference_dot(GgmlType type, const uint8_t* bytes, const std::vector<double>& w,
                     const ActivationRow& x) {
  double sum = 0.0;
  for (size_t i = 0; i < w.size(); ++i) sum += w[i] * x.values[i];
  for (size_t b = 0; b < x.min_excess.size(); ++b) {
    // Q4_1 and Q5_1 blocks both start with the fp16 scale d and then the fp16 min m.
    uint16_t min_bits;
    std::memcpy(&min_bits, bytes + b * type_traits(type).type_size + sizeof(uint16_t),
                sizeof min_bits);
    sum += fp16_to_float(min_bits) * x.min_excess[b];
  }
  return sum;
}

// Allowed error of one output: dot(w, x) with w a dequantized weight row and x the converted
// input row. Only float32 rounding remains, because the reference converts the input exactly as
// the kernels do. Products summed in vectors of up to 16 lanes see about k / 16 + 16 roundings of
// relative size FLT_EPSILON on partial sums bounded by |w| |x|. Types with mins get twice that,
// because the kernels sum the scaled codes and the mins separately and those parts may cancel.
// A factor 4 leaves headroom.
double tolerance(GgmlType type, const std::vector<double>& w, const std::vector<double>& x) {
  const auto k = static_cast<double>(w.size());
  const double mins = matmul::uses_int8_path(type) && matmul::weight_packing(type).has_min ? 2 : 1;
  return mins * 4.0 * (k / 16.0 + 16.0) * FLT_EPSILON * norm(w) * norm(x);
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
        const ActivationRow converted = convert_activation(type, x);
        for (int64_t m = 0; m < rows; ++m) {
          const int64_t weight_row = (w3 * weight_ne[2] + w2) * rows + m;
          const float* row = weights.values.data() + weight_row * k;
          for (int64_t i = 0; i < k; ++i) w[i] = row[i];
          const uint8_t* bytes = weights.bytes.data() + weight_row * weights.tensor.nb[1];
          const double expected = reference_dot(type, bytes, w, converted);
          const double actual = out[((i3 * input_ne[2] + i2) * input_ne[1] + n) * rows + m];
          check.add("output [" + std::to_string(m) + ", " + std::to_string(n) + ", " +
                        std::to_string(i2) + ", " + std::to_string(i3) + "]",
                    expected, actual, tolerance(type, w, converted.values));
        }
      }
    }
  }
  EXPECT_TRUE(check.ok()) << "worst " << check.report;
}

TEST(MulMat, MatrixVectorEveryType) {
  test::for_each_simd_target([] {
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
  test::for_each_simd_target([] {
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

// Places one probe input row at `position` among `n_columns` random rows, multiplies on `threads`
// threads and returns the probe's M outputs.
std::vector<float> probe_outputs(Weights& weights, const std::vector<float>& probe,
                                 int64_t n_columns, int64_t position, int threads) {
  const int64_t k = weights.tensor.ne[0];
  const int64_t rows = weights.tensor.ne[1];
  Input input = make_input({k, n_columns, 1, 1}, Layout::Contiguous, 43);
  std::copy(probe.begin(), probe.end(), input.storage.begin() + position * k);
  const std::vector<float> out = run_mul_mat(weights.tensor, input.tensor, threads);
  return std::vector<float>(out.begin() + position * rows, out.begin() + (position + 1) * rows);
}

// An output's bits must not depend on where its column falls: alone (as in decoding), at each
// place of a full tile, in a remainder tile, after a column chunk boundary, or with the weight
// rows split differently over threads. Batched sequences rely on this to stay identical.
TEST(MulMat, ColumnPositionKeepsBits) {
  test::for_each_simd_target([] {
    for (GgmlType type : kWeightTypes) {
      SCOPED_TRACE(std::string(type_name(type)) + " on " + matmul::kernel_target_name());
      const int64_t k = test_k(type);
      const int64_t rows = 13;  // three full row tiles and a remainder
      Weights weights = make_weights(type, {k, rows, 1, 1}, 3);
      const std::vector<float> probe = random_floats(k, 41);
      const std::vector<float> alone = probe_outputs(weights, probe, 1, 0, 1);
      struct Placement {
        int64_t n_columns;
        int64_t position;
        int threads;
      };
      std::vector<Placement> placements;
      for (int64_t n_columns : {2, 3, 4, 5, 6, 7, 9}) {
        for (int64_t position = 0; position < n_columns; ++position) {
          placements.push_back({n_columns, position, 1});
        }
      }
      placements.push_back({1, 0, 2});
      placements.push_back({7, 6, 2});
      // More columns than one chunk of packed activations holds for these row lengths.
      placements.push_back({3001, 2999, 2});
      placements.push_back({3001, 3000, 1});
      for (const Placement& p : placements) {
        const std::vector<float> out =
            probe_outputs(weights, probe, p.n_columns, p.position, p.threads);
        for (int64_t m = 0; m < rows; ++m) {
          ASSERT_EQ(float_to_bits(out[m]), float_to_bits(alone[m]))
              << "row " << m << " of column " << p.position << " of " << p.n_columns << " on "
              << p.threads << " threads: " << out[m] << ", alone: " << alone[m];
        }
      }
    }
  });
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

// An input row of k elements: random values, except that the first 32-element block and, when k
// allows, the second 256-element block become exact halves after scaling, so that the rounding
// of ties shows. In the first block max |x| = 127 gives d = 1 (and Q8_K's iscale = -1). In the
// second 256-element block x_max = -127 gives Q8_K's iscale = 1.
std::vector<float> activation_with_ties(int64_t k) {
  std::vector<float> x = random_floats(k, 53);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i % 2 == 0 ? i : -i) + 0.5f;
  x[31] = 127.0f;
  if (k >= 512) {
    for (int i = 0; i < 256; ++i) x[256 + i] = static_cast<float>(i % 7 - 3) + 0.5f;
    x[300] = -127.0f;
  }
  return x;
}

// The packed activation row must hold exactly the codes and scales of the reference quantizers
// (quantize_row with Q8_0, Q8_1 or Q8_K), which follow llama.cpp's.
void check_packed_activation(GgmlType weight_type, int64_t k) {
  SCOPED_TRACE(std::string(type_name(weight_type)) + " on " + matmul::kernel_target_name());
  const matmul::WeightPacking packing = matmul::weight_packing(weight_type);
  const std::vector<float> x = activation_with_ties(k);
  std::vector<std::byte> memory(matmul::packed_activation_bytes(k));
  matmul::quantize_activation(x.data(), k, packing, memory.data());
  const matmul::PackedActivation packed = matmul::view_activation(memory.data(), k);

  const GgmlType type = activation_type(weight_type);
  std::vector<uint8_t> bytes(row_size(type, k));
  quantize_row(type, x.data(), bytes.data(), k);
  for (int64_t i = 0; i < k; ++i) {
    int code = 0;
    float scale = 0.0f;
    if (type == GgmlType::Q8_K) {
      const BlockQ8_K& block = reinterpret_cast<const BlockQ8_K*>(bytes.data())[i / 256];
      code = block.qs[i % 256];
      scale = block.d;
      if (i % matmul::kMinGroup == 0) {
        EXPECT_EQ(packed.sums[i / matmul::kMinGroup],
                  block.d * static_cast<float>(block.bsums[i % 256 / matmul::kMinGroup]))
            << "sum of the group at " << i;
      }
    } else if (type == GgmlType::Q8_1) {
      const BlockQ8_1& block = reinterpret_cast<const BlockQ8_1*>(bytes.data())[i / 32];
      code = block.qs[i % 32];
      scale = fp16_to_float(block.d);
      if (i % 32 == 0) {
        EXPECT_EQ(packed.sums[i / matmul::kMinGroup], fp16_to_float(block.s)) << "s at " << i;
        EXPECT_EQ(packed.sums[i / matmul::kMinGroup + 1], 0.0f) << "second group at " << i;
      }
    } else {
      const BlockQ8_0& block = reinterpret_cast<const BlockQ8_0*>(bytes.data())[i / 32];
      code = block.qs[i % 32];
      scale = fp16_to_float(block.d);
    }
    ASSERT_EQ(packed.q[i], code) << "code " << i << " of x = " << x[i];
    ASSERT_EQ(packed.scale[i / matmul::kLaneWidth], scale) << "scale of element " << i;
  }
}

TEST(QuantizeActivation, MatchesReferenceQuantizers) {
  test::for_each_simd_target([] {
    for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q4_K}) {
      check_packed_activation(type, 512);
    }
    check_packed_activation(GgmlType::Q5_0, 96);  // not a multiple of the 64-element SIMD step
  });
}

// Rounding to F16 and BF16 must match the scalar converters, to nearest even, including fp16
// subnormals, values that overflow fp16, and the vector tail.
TEST(RoundToType, MatchesScalarConverters) {
  std::vector<float> x = random_floats(1003, 61);
  const float special[] = {1e-7f, -3e-6f, 6.1e-5f, 65504.0f, 65520.0f, -1e5f, 1.0f + 0x1p-11f,
                           1.0f + 0x1p-8f, 0.0f, -0.0f, 3.0f * 0x1p-25f};
  std::copy(std::begin(special), std::end(special), x.begin() + 500);
  test::for_each_simd_target([&] {
    for (GgmlType type : {GgmlType::F16, GgmlType::BF16}) {
      SCOPED_TRACE(std::string(type_name(type)) + " on " + matmul::kernel_target_name());
      std::vector<float> rounded(x.size());
      matmul::round_to_type(type, x.data(), rounded.data(), static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        const float expected = type == GgmlType::F16 ? fp16_to_float(float_to_fp16(x[i]))
                                                     : bf16_to_float(float_to_bf16(x[i]));
        ASSERT_EQ(float_to_bits(rounded[i]), float_to_bits(expected))
            << "element " << i << " = " << x[i] << ": " << rounded[i] << ", expected " << expected;
      }
    }
  });
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
