#include "backends/cpu/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "formats/quant/quant.h"
#include "util/error.h"
#include "util/half.h"

namespace hllm::cpu::reference {
namespace {

using Shape = std::array<int64_t, kMaxDims>;

int64_t flat_index(const Shape& ne, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return i0 + ne[0] * (i1 + ne[1] * (i2 + ne[2] * i3));
}

// Calls body(i0, i1, i2, i3) for every index of shape, dimension 0 fastest.
template <class Body>
void for_each_index(const Shape& ne, const Body& body) {
  for (int64_t i3 = 0; i3 < ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < ne[1]; ++i1) {
        for (int64_t i0 = 0; i0 < ne[0]; ++i0)
          body(i0, i1, i2, i3);
      }
    }
  }
}

std::vector<double> zeros(const Shape& ne) {
  return std::vector<double>(static_cast<size_t>(ne[0] * ne[1] * ne[2] * ne[3]), 0.0);
}

// The value an op stores after rounding to type.
double round_to(GgmlType type, double value) {
  const auto as_float = static_cast<float>(value);
  switch (type) {
    case GgmlType::F16:
      return fp16_to_float(float_to_fp16(as_float));
    case GgmlType::BF16:
      return bf16_to_float(float_to_bf16(as_float));
    case GgmlType::F32:
      return as_float;
    default:
      return value;
  }
}

int32_t read_id(const Tensor& ids, int64_t i0, int64_t i1 = 0, int64_t i2 = 0) {
  return static_cast<int32_t>(read(ids, i0, i1, i2, 0));
}

std::vector<double> get_rows(const Tensor& node) {
  const Tensor& table = *node.src[0];
  const Tensor& ids = *node.src[1];
  std::vector<double> out = zeros(node.ne);
  for_each_index(node.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    const int32_t id = read_id(ids, i1, i2, i3);
    HLLM_CHECK(id >= 0 && id < table.ne[1], "reference get_rows: id {} is out of range", id);
    out[flat_index(node.ne, i0, i1, i2, i3)] = read(table, i0, id, i2, i3);
  });
  return out;
}

double binary_value(Op op, double a, double b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    default:
      return a / b;
  }
}

std::vector<double> binary(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const Tensor& b = *node.src[1];
  std::vector<double> out = zeros(node.ne);
  for_each_index(node.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    const double y = read(b, i0 % b.ne[0], i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    out[flat_index(node.ne, i0, i1, i2, i3)] = binary_value(node.op, read(a, i0, i1, i2, i3), y);
  });
  return out;
}

double unary_value(const Tensor& node, double x) {
  switch (node.op) {
    case Op::Scale:
      return x * node.get<ScaleParams>().scale + node.get<ScaleParams>().bias;
    case Op::Silu:
      return x / (1.0 + std::exp(-x));
    case Op::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Op::Softplus:
      return x > 20.0 ? x : std::log1p(std::exp(x));
    case Op::Exp:
      return std::exp(x);
    case Op::Neg:
      return -x;
    case Op::Sqr:
      return x * x;
    case Op::Sqrt:
      return std::sqrt(x);
    default:
      fail("reference: {} is not a unary op", op_name(node.op));
  }
}

std::vector<double> unary(const Tensor& node) {
  const Tensor& a = *node.src[0];
  std::vector<double> out = zeros(node.ne);
  for_each_index(node.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    out[flat_index(node.ne, i0, i1, i2, i3)] = unary_value(node, read(a, i0, i1, i2, i3));
  });
  return out;
}

// Calls body(i1, i2, i3) for every row of shape.
template <class Body>
void for_each_row(const Shape& ne, const Body& body) {
  for_each_index({1, ne[1], ne[2], ne[3]},
                 [&](int64_t, int64_t i1, int64_t i2, int64_t i3) { body(i1, i2, i3); });
}

std::vector<double> norm(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const double eps = node.get<NormParams>().eps;
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t i1, int64_t i2, int64_t i3) {
    double sum_squares = 0.0;
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0)
      sum_squares += std::pow(read(a, i0, i1, i2, i3), 2);
    const double factor = node.op == Op::RmsNorm
                              ? 1.0 / std::sqrt(sum_squares / static_cast<double>(a.ne[0]) + eps)
                              : 1.0 / std::max(std::sqrt(sum_squares), eps);
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) {
      out[flat_index(node.ne, i0, i1, i2, i3)] = read(a, i0, i1, i2, i3) * factor;
    }
  });
  return out;
}

std::vector<double> sum_rows(const Tensor& node) {
  const Tensor& a = *node.src[0];
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t i1, int64_t i2, int64_t i3) {
    double sum = 0.0;
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0)
      sum += read(a, i0, i1, i2, i3);
    out[flat_index(node.ne, 0, i1, i2, i3)] = sum;
  });
  return out;
}

std::vector<double> rope(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const Tensor& positions = *node.src[1];
  const RopeParams& params = node.get<RopeParams>();
  const int64_t half = params.n_dims / 2;
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t head, int64_t t, int64_t s) {
    const double position = read_id(positions, t, positions.ne[1] == 1 ? 0 : s);
    for (int64_t i0 = params.n_dims; i0 < a.ne[0]; ++i0) {
      out[flat_index(node.ne, i0, head, t, s)] = read(a, i0, head, t, s);
    }
    for (int64_t i = 0; i < half; ++i) {
      const double theta =
          position * params.freq_scale *
          std::pow(static_cast<double>(params.freq_base), -2.0 * i / params.n_dims);
      const bool neox = params.mode == RopeMode::Neox;
      const int64_t first = neox ? i : 2 * i;
      const int64_t second = neox ? i + half : 2 * i + 1;
      const double x0 = read(a, first, head, t, s);
      const double x1 = read(a, second, head, t, s);
      out[flat_index(node.ne, first, head, t, s)] = x0 * std::cos(theta) - x1 * std::sin(theta);
      out[flat_index(node.ne, second, head, t, s)] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  });
  return out;
}

// Softmax of scores in place; a row whose scores are all -inf becomes zeros.
void softmax_in_place(std::vector<double>& scores) {
  const double max = *std::max_element(scores.begin(), scores.end());
  if (max == -std::numeric_limits<double>::infinity()) {
    std::fill(scores.begin(), scores.end(), 0.0);
    return;
  }
  double sum = 0.0;
  for (double& score : scores) {
    score = std::exp(score - max);
    sum += score;
  }
  for (double& score : scores)
    score /= sum;
}

std::vector<double> soft_max(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const Tensor* mask = node.n_src > 1 ? node.src[1] : nullptr;
  const double scale = node.get<SoftMaxParams>().scale;
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t i1, int64_t i2, int64_t i3) {
    std::vector<double> row(static_cast<size_t>(a.ne[0]));
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) {
      row[i0] = read(a, i0, i1, i2, i3) * scale;
      if (mask != nullptr) row[i0] += read(*mask, i0, i1, i2 % mask->ne[2], i3 % mask->ne[3]);
    }
    if (!row.empty()) softmax_in_place(row);
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0)
      out[flat_index(node.ne, i0, i1, i2, i3)] = row[i0];
  });
  return out;
}

std::vector<double> attention(const Tensor& node) {
  const Tensor& q = *node.src[0];
  const Tensor& k = *node.src[1];
  const Tensor& v = *node.src[2];
  const Tensor* mask = node.n_src > 3 ? node.src[3] : nullptr;
  const double scale = node.get<AttentionParams>().scale;
  const int64_t group = q.ne[1] / k.ne[1];
  const int64_t keys = k.ne[2];
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t head, int64_t query, int64_t sequence) {
    const int64_t kv_head = head / group;
    std::vector<double> weights(static_cast<size_t>(keys));
    for (int64_t j = 0; j < keys; ++j) {
      double dot = 0.0;
      for (int64_t d = 0; d < q.ne[0]; ++d) {
        dot += read(q, d, head, query, sequence) * read(k, d, kv_head, j, sequence);
      }
      weights[j] = dot * scale;
      if (mask != nullptr) weights[j] += read(*mask, j, query, mask->ne[2] == 1 ? 0 : sequence, 0);
    }
    if (keys > 0) softmax_in_place(weights);
    for (int64_t d = 0; d < v.ne[0]; ++d) {
      double sum = 0.0;
      for (int64_t j = 0; j < keys; ++j)
        sum += weights[j] * read(v, d, kv_head, j, sequence);
      out[flat_index(node.ne, d, head, query, sequence)] = sum;
    }
  });
  return out;
}

std::vector<double> top_k(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const int64_t k = node.ne[0];
  std::vector<double> out = zeros(node.ne);
  for_each_row(node.ne, [&](int64_t i1, int64_t i2, int64_t i3) {
    std::vector<double> values(static_cast<size_t>(a.ne[0]));
    for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) {
      const double x = read(a, i0, i1, i2, i3);
      values[i0] = std::isnan(x) ? -std::numeric_limits<double>::infinity() : x;
    }
    std::vector<int64_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    // A stable sort keeps the lower index first among equal values.
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t i, int64_t j) { return values[i] > values[j]; });
    for (int64_t i0 = 0; i0 < k; ++i0)
      out[flat_index(node.ne, i0, i1, i2, i3)] = order[i0];
  });
  return out;
}

std::vector<double> concat(const Tensor& node) {
  const Tensor& a = *node.src[0];
  const Tensor& b = *node.src[1];
  const int dim = node.get<ConcatParams>().dim;
  std::vector<double> out = zeros(node.ne);
  for_each_index(node.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    Shape index{i0, i1, i2, i3};
    const bool from_a = index[dim] < a.ne[dim];
    if (!from_a) index[dim] -= a.ne[dim];
    const Tensor& source = from_a ? a : b;
    out[flat_index(node.ne, i0, i1, i2, i3)] = read(source, index[0], index[1], index[2], index[3]);
  });
  return out;
}

std::vector<double> copy(const Tensor& node) {
  const Tensor& a = *node.src[0];
  std::vector<double> out = zeros(node.ne);
  for_each_index(node.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    out[flat_index(node.ne, i0, i1, i2, i3)] = round_to(node.type, read(a, i0, i1, i2, i3));
  });
  return out;
}

std::vector<double> set_rows(const Tensor& node) {
  const Tensor& destination = *node.src[0];
  const Tensor& rows = *node.src[1];
  const Tensor& ids = *node.src[2];
  std::vector<double> out = read_all(destination);
  // Rows are written in order, so a repeated id keeps the later row.
  for (int64_t j = 0; j < rows.ne[1]; ++j) {
    const int32_t id = read_id(ids, j);
    HLLM_CHECK(id >= 0 && id < destination.ne[1], "reference set_rows: id {} is out of range", id);
    for (int64_t i0 = 0; i0 < rows.ne[0]; ++i0) {
      out[flat_index(node.ne, i0, id, 0, 0)] = round_to(node.type, read(rows, i0, j, 0, 0));
    }
  }
  return out;
}

}  // namespace

double read(const Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  HLLM_CHECK(t.data != nullptr, "reference: tensor '{}' has no data", t.name);
  const auto& traits = type_traits(t.type);
  const int64_t block = i0 / traits.block_size;
  const auto* p = static_cast<const std::byte*>(t.data) + block * t.nb[0] + i1 * t.nb[1] +
                  i2 * t.nb[2] + i3 * t.nb[3];
  switch (t.type) {
    case GgmlType::F32: {
      float value;
      std::memcpy(&value, p, sizeof value);
      return value;
    }
    case GgmlType::I32: {
      int32_t value;
      std::memcpy(&value, p, sizeof value);
      return value;
    }
    case GgmlType::F16:
    case GgmlType::BF16: {
      uint16_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return t.type == GgmlType::F16 ? fp16_to_float(bits) : bf16_to_float(bits);
    }
    default: {
      std::vector<float> values(static_cast<size_t>(traits.block_size));
      dequantize_row(t.type, p, values.data(), traits.block_size);
      return values[i0 % traits.block_size];
    }
  }
}

std::vector<double> read_all(const Tensor& t) {
  std::vector<double> values = zeros(t.ne);
  for_each_index(t.ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    values[flat_index(t.ne, i0, i1, i2, i3)] = read(t, i0, i1, i2, i3);
  });
  return values;
}

std::vector<double> compute(const Tensor& node) {
  switch (node.op) {
    case Op::GetRows:
      return get_rows(node);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      return binary(node);
    case Op::Scale:
    case Op::Silu:
    case Op::Sigmoid:
    case Op::Softplus:
    case Op::Exp:
    case Op::Neg:
    case Op::Sqr:
    case Op::Sqrt:
      return unary(node);
    case Op::RmsNorm:
    case Op::L2Norm:
      return norm(node);
    case Op::SumRows:
      return sum_rows(node);
    case Op::Rope:
      return rope(node);
    case Op::SoftMax:
      return soft_max(node);
    case Op::Attention:
      return attention(node);
    case Op::TopK:
      return top_k(node);
    case Op::Concat:
      return concat(node);
    case Op::Copy:
      return copy(node);
    case Op::SetRows:
      return set_rows(node);
    default:
      fail("reference: no reference implementation for op {}", op_name(node.op));
  }
}

}  // namespace hllm::cpu::reference
