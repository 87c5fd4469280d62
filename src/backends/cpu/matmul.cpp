// Matrix products: MulMat and MulMatId. Both reduce to the same work list: groups of output
// columns that share one weight matrix (a broadcast slice for MulMat, an expert for MulMatId).
// Each group's weight rows are split over the threads; every thread walks its rows in tiles of
// kTileRows, unpacks each tile once per chunk of columns, and computes kTileRows x kTileColumns
// dot products per kernel call so every weight byte loaded is reused across columns. Quantized
// weights meet activations quantized once per product to int8; F32, F16 and BF16 weights meet the
// float activations, rounded to F16 or BF16 for those weight types. Both follow llama.cpp's CPU
// backend, whose reference outputs the model tests compare against.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matmul_internal.h"
#include "util/error.h"

namespace hllm::cpu {
namespace {

using matmul::kTileColumns;
using matmul::kTileRows;

// Bytes of packed activations (or float rows) that one chunk of columns may take, so that the
// chunk stays in the L2 cache while each weight tile is multiplied with it.
constexpr size_t kColumnChunkBytes = 512 * 1024;

// Groups with at most this many columns read quantized weight blocks directly (fused_tile)
// instead of unpacking each tile first: with so few columns the unpacked tile is hardly reused.
constexpr int64_t kFusedColumns = 2;

// One output column: the prepared input row it reads and where its M results go.
struct Column {
  int64_t input;
  uint8_t* out;
};

// Output columns that share one weight matrix.
struct Group {
  const uint8_t* weights = nullptr;
  std::vector<Column> columns;
};

struct Problem {
  GgmlType type;
  int64_t k;
  int64_t rows;       // M
  size_t row_stride;  // bytes between weight rows
  size_t out_stride;  // bytes between results of consecutive weight rows
  std::vector<Group> groups;
};

// Input rows of src1 in the order [ne1, ne2, ne3]; index = i1 + ne1 * (i2 + ne2 * i3).
struct Inputs {
  const Tensor* tensor;
  int64_t count() const { return tensor->ne[1] * tensor->ne[2] * tensor->ne[3]; }
  const uint8_t* row(int64_t index) const {
    const int64_t i1 = index % tensor->ne[1];
    const int64_t i2 = index / tensor->ne[1] % tensor->ne[2];
    const int64_t i3 = index / (tensor->ne[1] * tensor->ne[2]);
    return static_cast<const uint8_t*>(tensor->data) + i1 * tensor->nb[1] + i2 * tensor->nb[2] +
           i3 * tensor->nb[3];
  }
  bool rows_contiguous() const { return tensor->nb[0] == sizeof(float); }
};

// Copies a row with element stride into dst.
void gather_row(const uint8_t* row, size_t stride, int64_t k, float* dst) {
  for (int64_t i = 0; i < k; ++i) dst[i] = *reinterpret_cast<const float*>(row + i * stride);
}

// Memory that persists across calls on one thread, grown on demand.
std::byte* thread_buffer(std::vector<std::byte>& buffer, size_t bytes) {
  if (buffer.size() < bytes + 64) buffer.resize(bytes + 64);
  auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64);
}

// Rows [begin, end) of M that thread ith of nth computes; boundaries fall on whole tiles.
std::pair<int64_t, int64_t> thread_rows(int64_t rows, int ith, int nth) {
  const int64_t tiles = (rows + kTileRows - 1) / kTileRows;
  const int64_t per_thread = (tiles + nth - 1) / nth * kTileRows;
  const int64_t begin = std::min(rows, per_thread * ith);
  return {begin, std::min(rows, begin + per_thread)};
}

int64_t column_chunk(size_t bytes_per_column) {
  const auto chunk = static_cast<int64_t>(kColumnChunkBytes / std::max<size_t>(bytes_per_column, 1));
  return std::max<int64_t>(kTileColumns, chunk / kTileColumns * kTileColumns);
}

void store_tile(const Problem& problem, const Column* columns, int64_t first_row, int n_rows,
                int n_columns, const float* result) {
  for (int c = 0; c < n_columns; ++c) {
    for (int r = 0; r < n_rows; ++r) {
      *reinterpret_cast<float*>(columns[c].out + (first_row + r) * problem.out_stride) =
          result[r * kTileColumns + c];
    }
  }
}

// Quantized weights: quantize every input row once, then multiply tiles with the int8 kernel.
void run_int8(const Problem& problem, const Inputs& inputs, ThreadPool& pool) {
  const matmul::WeightPacking packing = matmul::weight_packing(problem.type);
  const int64_t k = problem.k;
  const int64_t padded_k = matmul::padded_length(k);
  const size_t activation_bytes = matmul::packed_activation_bytes(k);

  thread_local std::vector<std::byte> activation_buffer;
  std::byte* activations = thread_buffer(activation_buffer, activation_bytes * inputs.count());
  pool.parallel_for(inputs.count(), [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> gathered;
    for (int64_t i = begin; i < end; ++i) {
      const auto* row = reinterpret_cast<const float*>(inputs.row(i));
      if (!inputs.rows_contiguous()) {
        gathered.resize(k);
        gather_row(inputs.row(i), inputs.tensor->nb[0], k, gathered.data());
        row = gathered.data();
      }
      matmul::quantize_activation(row, k, packing, activations + i * activation_bytes);
    }
  });

  const int64_t chunk = column_chunk(activation_bytes);
  const bool fused_available = matmul::has_fused_tile(problem.type);
  pool.run([&](int ith, int nth) {
    thread_local std::vector<std::byte> tile_buffer;
    // Codes, lane scales (padded_k bytes each) and mins (a quarter) of kTileRows rows.
    std::byte* tile = thread_buffer(tile_buffer, kTileRows * (2 * padded_k + padded_k / 4));
    matmul::PackedWeights packed{};
    packed.q = reinterpret_cast<uint8_t*>(tile);
    packed.scale = reinterpret_cast<float*>(tile + kTileRows * padded_k);
    packed.min = reinterpret_cast<float*>(tile + 2 * kTileRows * padded_k);
    packed.padded_k = padded_k;

    const auto [row_begin, row_end] = thread_rows(problem.rows, ith, nth);
    for (const Group& group : problem.groups) {
      const auto n_columns = static_cast<int64_t>(group.columns.size());
      const bool fused = fused_available && n_columns <= kFusedColumns;
      for (int64_t c0 = 0; c0 < n_columns; c0 += chunk) {
        const int64_t c1 = std::min(n_columns, c0 + chunk);
        for (int64_t r0 = row_begin; r0 < row_end; r0 += kTileRows) {
          const int n_rows = static_cast<int>(std::min<int64_t>(kTileRows, row_end - r0));
          const uint8_t* rows = group.weights + r0 * problem.row_stride;
          if (!fused) {
            matmul::unpack_weights(problem.type, rows, problem.row_stride, n_rows, k, packed);
          }
          for (int64_t c = c0; c < c1; c += kTileColumns) {
            const int n_tile_columns = static_cast<int>(std::min<int64_t>(kTileColumns, c1 - c));
            matmul::PackedActivation columns[kTileColumns];
            for (int j = 0; j < n_tile_columns; ++j) {
              const int64_t input = group.columns[c + j].input;
              columns[j] = matmul::view_activation(activations + input * activation_bytes, k);
            }
            float result[kTileRows * kTileColumns];
            if (fused) {
              matmul::fused_tile(problem.type, rows, problem.row_stride, n_rows, k, columns,
                                 n_tile_columns, result);
            } else {
              matmul::int8_tile(packed, n_rows, columns, n_tile_columns, packing.has_min, result);
            }
            store_tile(problem, &group.columns[c], r0, n_rows, n_tile_columns, result);
          }
        }
      }
    }
  });
}

// F32, F16 and BF16 weights with float activations. For F16 and BF16 weights the activations are
// first rounded to the weight type, as llama.cpp converts them, so that every product of two
// elements is exact in float32.
void run_float(const Problem& problem, const Inputs& inputs, ThreadPool& pool) {
  const int64_t k = problem.k;
  const bool round = problem.type != GgmlType::F32;
  std::vector<const float*> rows(inputs.count());
  thread_local std::vector<std::byte> copy_buffer;
  float* copies = nullptr;
  if (round || !inputs.rows_contiguous()) {
    copies = reinterpret_cast<float*>(thread_buffer(copy_buffer, sizeof(float) * k * rows.size()));
  }
  if (copies == nullptr) {
    for (int64_t i = 0; i < inputs.count(); ++i) {
      rows[i] = reinterpret_cast<const float*>(inputs.row(i));
    }
  } else {
    pool.parallel_for(inputs.count(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float* copy = copies + i * k;
        const auto* row = reinterpret_cast<const float*>(inputs.row(i));
        if (!inputs.rows_contiguous()) {
          gather_row(inputs.row(i), inputs.tensor->nb[0], k, copy);
          row = copy;
        }
        if (round) matmul::round_to_type(problem.type, row, copy, k);
        rows[i] = copy;
      }
    });
  }

  const int64_t chunk = column_chunk(sizeof(float) * k);
  pool.run([&](int ith, int nth) {
    thread_local std::vector<float> widened;
    if (problem.type != GgmlType::F32) widened.resize(kTileRows * k);

    const auto [row_begin, row_end] = thread_rows(problem.rows, ith, nth);
    for (const Group& group : problem.groups) {
      const auto n_columns = static_cast<int64_t>(group.columns.size());
      for (int64_t c0 = 0; c0 < n_columns; c0 += chunk) {
        const int64_t c1 = std::min(n_columns, c0 + chunk);
        for (int64_t r0 = row_begin; r0 < row_end; r0 += kTileRows) {
          const int n_rows = static_cast<int>(std::min<int64_t>(kTileRows, row_end - r0));
          const float* weight_rows[kTileRows];
          for (int r = 0; r < n_rows; ++r) {
            const uint8_t* row = group.weights + (r0 + r) * problem.row_stride;
            if (problem.type == GgmlType::F32) {
              weight_rows[r] = reinterpret_cast<const float*>(row);
            } else {
              matmul::widen_to_float(problem.type, row, widened.data() + r * k, k);
              weight_rows[r] = widened.data() + r * k;
            }
          }
          for (int64_t c = c0; c < c1; c += kTileColumns) {
            const int n_tile_columns = static_cast<int>(std::min<int64_t>(kTileColumns, c1 - c));
            const float* columns[kTileColumns];
            for (int j = 0; j < n_tile_columns; ++j) columns[j] = rows[group.columns[c + j].input];
            float result[kTileRows * kTileColumns];
            matmul::float_tile(weight_rows, n_rows, columns, n_tile_columns, k, result);
            store_tile(problem, &group.columns[c], r0, n_rows, n_tile_columns, result);
          }
        }
      }
    }
  });
}

void run(const Problem& problem, const Inputs& inputs, ThreadPool& pool) {
  if (problem.groups.empty() || problem.rows == 0) return;
  if (matmul::uses_int8_path(problem.type)) {
    run_int8(problem, inputs, pool);
  } else {
    run_float(problem, inputs, pool);
  }
}

// Checks what both ops require of the weights, the input and the output.
void check_operands(const Tensor& dst, const Tensor& weights, const Tensor& input,
                    const char* op) {
  HLLM_CHECK(mul_mat_supports(weights.type), "{} {}: weight {} has type {}, which has no kernel",
             op, dst.name, weights.name, type_name(weights.type));
  HLLM_CHECK(input.type == GgmlType::F32, "{} {}: input {} has type {}, expected f32", op,
             dst.name, input.name, type_name(input.type));
  HLLM_CHECK(dst.type == GgmlType::F32, "{} {}: output has type {}, expected f32", op, dst.name,
             type_name(dst.type));
  HLLM_CHECK(weights.ne[0] == input.ne[0],
             "{} {}: weight {} rows have {} elements but input {} rows have {}", op, dst.name,
             weights.name, weights.ne[0], input.name, input.ne[0]);
  const int64_t block = type_traits(weights.type).block_size;
  HLLM_CHECK(weights.ne[0] % block == 0,
             "{} {}: weight {} row length {} is not a multiple of the {} block size {}", op,
             dst.name, weights.name, weights.ne[0], type_name(weights.type), block);
  HLLM_CHECK(weights.nb[0] == type_traits(weights.type).type_size,
             "{} {}: weight {} rows are not contiguous", op, dst.name, weights.name);
  HLLM_CHECK(weights.data != nullptr && input.data != nullptr && dst.data != nullptr,
             "{} {}: an operand has no memory assigned", op, dst.name);
}

}  // namespace

bool mul_mat_supports(GgmlType weight_type) {
  return weight_type == GgmlType::F32 || weight_type == GgmlType::F16 ||
         weight_type == GgmlType::BF16 || matmul::uses_int8_path(weight_type);
}

void compute_mul_mat(Tensor& dst, CpuContext& ctx) {
  const Tensor& weights = *dst.src[0];
  const Tensor& input = *dst.src[1];
  check_operands(dst, weights, input, "mul_mat");
  HLLM_CHECK(input.ne[2] % weights.ne[2] == 0 && input.ne[3] % weights.ne[3] == 0,
             "mul_mat {}: weight {} dims 2, 3 ({}, {}) do not divide input {} dims ({}, {})",
             dst.name, weights.name, weights.ne[2], weights.ne[3], input.name, input.ne[2],
             input.ne[3]);
  HLLM_CHECK(dst.ne[0] == weights.ne[1] && dst.ne[1] == input.ne[1] && dst.ne[2] == input.ne[2] &&
                 dst.ne[3] == input.ne[3],
             "mul_mat {}: output shape [{}, {}, {}, {}], expected [{}, {}, {}, {}]", dst.name,
             dst.ne[0], dst.ne[1], dst.ne[2], dst.ne[3], weights.ne[1], input.ne[1], input.ne[2],
             input.ne[3]);

  Problem problem{weights.type, weights.ne[0], weights.ne[1], weights.nb[1], dst.nb[0], {}};
  const int64_t repeat2 = input.ne[2] / weights.ne[2];
  const int64_t repeat3 = input.ne[3] / weights.ne[3];
  problem.groups.resize(weights.ne[2] * weights.ne[3]);
  for (int64_t i3 = 0; i3 < weights.ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < weights.ne[2]; ++i2) {
      problem.groups[i2 + weights.ne[2] * i3].weights =
          static_cast<const uint8_t*>(weights.data) + i2 * weights.nb[2] + i3 * weights.nb[3];
    }
  }
  auto* out = static_cast<uint8_t*>(dst.data);
  for (int64_t i3 = 0; i3 < input.ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < input.ne[2]; ++i2) {
      Group& group = problem.groups[i2 / repeat2 + weights.ne[2] * (i3 / repeat3)];
      for (int64_t i1 = 0; i1 < input.ne[1]; ++i1) {
        const int64_t index = i1 + input.ne[1] * (i2 + input.ne[2] * i3);
        group.columns.push_back({index, out + i1 * dst.nb[1] + i2 * dst.nb[2] + i3 * dst.nb[3]});
      }
    }
  }
  run(problem, Inputs{&input}, ctx.pool);
}

void compute_mul_mat_id(Tensor& dst, CpuContext& ctx) {
  const Tensor& experts = *dst.src[0];
  const Tensor& input = *dst.src[1];
  const Tensor& ids = *dst.src[2];
  check_operands(dst, experts, input, "mul_mat_id");
  HLLM_CHECK(ids.type == GgmlType::I32, "mul_mat_id {}: ids {} have type {}, expected i32",
             dst.name, ids.name, type_name(ids.type));
  const int64_t slots = ids.ne[0];
  const int64_t tokens = ids.ne[1];
  HLLM_CHECK(input.ne[1] == 1 || input.ne[1] == slots,
             "mul_mat_id {}: input {} has {} rows per token, expected 1 or {}", dst.name,
             input.name, input.ne[1], slots);
  HLLM_CHECK(input.ne[2] == tokens && input.ne[3] == 1,
             "mul_mat_id {}: input {} has shape [{}, {}, {}, {}], expected {} tokens in dim 2",
             dst.name, input.name, input.ne[0], input.ne[1], input.ne[2], input.ne[3], tokens);
  HLLM_CHECK(dst.ne[0] == experts.ne[1] && dst.ne[1] == slots && dst.ne[2] == tokens,
             "mul_mat_id {}: output shape [{}, {}, {}], expected [{}, {}, {}]", dst.name,
             dst.ne[0], dst.ne[1], dst.ne[2], experts.ne[1], slots, tokens);

  // Grouping the slots by expert streams each selected expert's matrix once per evaluation;
  // experts that no token selected are never read.
  Problem problem{experts.type, experts.ne[0], experts.ne[1], experts.nb[1], dst.nb[0], {}};
  std::vector<Group> by_expert(experts.ne[2]);
  auto* out = static_cast<uint8_t*>(dst.data);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t u = 0; u < slots; ++u) {
      const int32_t expert = *reinterpret_cast<const int32_t*>(
          static_cast<const uint8_t*>(ids.data) + u * ids.nb[0] + t * ids.nb[1]);
      HLLM_CHECK(expert >= 0 && expert < experts.ne[2],
                 "mul_mat_id {}: ids {} select expert {} at slot {}, token {}; expected 0 to {}",
                 dst.name, ids.name, expert, u, t, experts.ne[2] - 1);
      const int64_t input_row = (input.ne[1] == 1 ? 0 : u) + input.ne[1] * t;
      by_expert[expert].columns.push_back({input_row, out + u * dst.nb[1] + t * dst.nb[2]});
    }
  }
  for (int64_t e = 0; e < experts.ne[2]; ++e) {
    if (by_expert[e].columns.empty()) continue;
    by_expert[e].weights = static_cast<const uint8_t*>(experts.data) + e * experts.nb[2];
    problem.groups.push_back(std::move(by_expert[e]));
  }
  run(problem, Inputs{&input}, ctx.pool);
}

}  // namespace hllm::cpu
