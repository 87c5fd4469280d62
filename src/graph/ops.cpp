#include "graph/ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "util/error.h"

namespace hllm::ops {
namespace {

// "'attn_norm-3' f32 [4096, 7]": the name (when set), type and shape with trailing ones dropped.
std::string describe(const Tensor* t) {
  int dims = kMaxDims;
  while (dims > 1 && t->ne[dims - 1] == 1)
    --dims;
  std::string shape;
  for (int i = 0; i < dims; ++i)
    shape += fmt::format("{}{}", i ? ", " : "", t->ne[i]);
  const std::string name = t->name.empty() ? std::string() : fmt::format("'{}' ", t->name);
  return fmt::format("{}{} [{}]", name, type_name(t->type), shape);
}

void check_not_null(Op op, const Tensor* t, const char* role) {
  HLLM_CHECK(t != nullptr, "{}: the {} tensor is null", op_name(op), role);
}

bool is_float_type(GgmlType type) {
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

void check_float(Op op, const Tensor* t, const char* role) {
  check_not_null(op, t, role);
  HLLM_CHECK(is_float_type(t->type), "{}: {} {} must be f32, f16 or bf16", op_name(op), role,
             describe(t));
}

void check_type(Op op, const Tensor* t, const char* role, GgmlType type) {
  check_not_null(op, t, role);
  HLLM_CHECK(t->type == type, "{}: {} {} must be {}", op_name(op), role, describe(t),
             type_name(type));
}

// Fails with both shapes unless condition holds.
void check_shapes(bool condition, Op op, const Tensor* a, const Tensor* b, const char* expected) {
  HLLM_CHECK(condition, "{}: shapes do not match: {} and {}; expected {}", op_name(op), describe(a),
             describe(b), expected);
}

// Bytes from a tensor's data pointer to the end of its last element.
size_t extent_bytes(GgmlType type, const std::array<int64_t, kMaxDims>& ne,
                    const std::array<size_t, kMaxDims>& nb) {
  for (int64_t n : ne) {
    if (n == 0) return 0;
  }
  const auto& traits = type_traits(type);
  size_t extent = traits.type_size;
  extent += static_cast<size_t>(ne[0] / traits.block_size - 1) * nb[0];
  for (int i = 1; i < kMaxDims; ++i)
    extent += static_cast<size_t>(ne[i] - 1) * nb[i];
  return extent;
}

// Appends a node that shares a's storage.
Tensor* make_view(Graph& g, Op op, Tensor* a, const std::array<int64_t, kMaxDims>& ne,
                  const std::array<size_t, kMaxDims>& nb, size_t offset, OpParams params) {
  Tensor* view = g.node(op, a->type, ne, {a}, std::move(params));
  view->nb = nb;
  view->view_source = a;
  view->view_offset = offset;
  return view;
}

Tensor* unary(Graph& g, Op op, Tensor* a, OpParams params = {}) {
  check_float(op, a, "source");
  return g.node(op, GgmlType::F32, a->ne, {a}, std::move(params));
}

Tensor* binary(Graph& g, Op op, Tensor* a, Tensor* b) {
  check_float(op, a, "first");
  check_float(op, b, "second");
  bool broadcasts = true;
  for (int i = 0; i < kMaxDims; ++i) {
    broadcasts = broadcasts && (b->ne[i] == 0 ? a->ne[i] == 0 : a->ne[i] % b->ne[i] == 0);
  }
  check_shapes(broadcasts, op, a, b, "each dimension of the second to divide the first's");
  return g.node(op, GgmlType::F32, a->ne, {a, b});
}

}  // namespace

Tensor* view(Graph& g, Tensor* a, std::array<int64_t, kMaxDims> ne, std::array<size_t, kMaxDims> nb,
             size_t offset) {
  check_not_null(Op::View, a, "source");
  const auto& traits = type_traits(a->type);
  HLLM_CHECK(ne[0] % traits.block_size == 0,
             "view: {} rows of {} elements are not whole blocks of {} for a view of {}",
             type_name(a->type), ne[0], traits.block_size, describe(a));
  HLLM_CHECK(!traits.quantized || nb[0] == traits.type_size,
             "view: a view of quantized {} must keep its blocks contiguous (nb[0] = {}, got {})",
             describe(a), traits.type_size, nb[0]);
  const size_t view_end = offset + extent_bytes(a->type, ne, nb);
  const size_t source_end = extent_bytes(a->type, a->ne, a->nb);
  HLLM_CHECK(view_end <= source_end || extent_bytes(a->type, ne, nb) == 0,
             "view: a view ending at byte {} lies outside {}, which ends at byte {}", view_end,
             describe(a), source_end);
  return make_view(g, Op::View, a, ne, nb, offset, ViewParams{offset});
}

Tensor* view_1d(Graph& g, Tensor* a, int64_t ne0, size_t offset) {
  check_not_null(Op::View, a, "source");
  const size_t row = row_size(a->type, ne0);
  return view(g, a, {ne0, 1, 1, 1}, {type_traits(a->type).type_size, row, row, row}, offset);
}

Tensor* view_2d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset) {
  check_not_null(Op::View, a, "source");
  const size_t nb2 = nb1 * static_cast<size_t>(ne1);
  return view(g, a, {ne0, ne1, 1, 1}, {type_traits(a->type).type_size, nb1, nb2, nb2}, offset);
}

Tensor* view_3d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2,
                size_t offset) {
  check_not_null(Op::View, a, "source");
  const size_t nb3 = nb2 * static_cast<size_t>(ne2);
  return view(g, a, {ne0, ne1, ne2, 1}, {type_traits(a->type).type_size, nb1, nb2, nb3}, offset);
}

Tensor* view_4d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, size_t nb1,
                size_t nb2, size_t nb3, size_t offset) {
  check_not_null(Op::View, a, "source");
  return view(g, a, {ne0, ne1, ne2, ne3}, {type_traits(a->type).type_size, nb1, nb2, nb3}, offset);
}

Tensor* reshape(Graph& g, Tensor* a, std::initializer_list<int64_t> ne) {
  check_not_null(Op::Reshape, a, "source");
  HLLM_CHECK(ne.size() >= 1 && ne.size() <= kMaxDims,
             "reshape: {} dimensions given: expected 1 to {}", ne.size(), kMaxDims);
  std::array<int64_t, kMaxDims> shape{1, 1, 1, 1};
  std::copy(ne.begin(), ne.end(), shape.begin());
  const int64_t count = shape[0] * shape[1] * shape[2] * shape[3];
  HLLM_CHECK(count == a->n_elements(), "reshape: {} has {} elements but the new shape [{}] has {}",
             describe(a), a->n_elements(), fmt::join(ne, ", "), count);
  HLLM_CHECK(a->is_contiguous(), "reshape: source {} is not contiguous; copy it first",
             describe(a));
  return make_view(g, Op::Reshape, a, shape, contiguous_strides(a->type, shape), 0, {});
}

Tensor* permute(Graph& g, Tensor* a, int axis0, int axis1, int axis2, int axis3) {
  check_not_null(Op::Permute, a, "source");
  const std::array<int32_t, kMaxDims> axes{axis0, axis1, axis2, axis3};
  std::array<bool, kMaxDims> seen{};
  for (int32_t axis : axes) {
    HLLM_CHECK(axis >= 0 && axis < kMaxDims && !seen[axis],
               "permute: axes ({}) of {} are not a permutation of 0, 1, 2, 3",
               fmt::join(axes, ", "), describe(a));
    seen[axis] = true;
  }
  HLLM_CHECK(!type_traits(a->type).quantized || axes[0] == 0,
             "permute: dimension 0 of quantized {} must stay first", describe(a));
  std::array<int64_t, kMaxDims> ne{};
  std::array<size_t, kMaxDims> nb{};
  for (int i = 0; i < kMaxDims; ++i) {
    ne[axes[i]] = a->ne[i];
    nb[axes[i]] = a->nb[i];
  }
  return make_view(g, Op::Permute, a, ne, nb, 0, PermuteParams{axes});
}

Tensor* transpose(Graph& g, Tensor* a) {
  check_not_null(Op::Transpose, a, "source");
  HLLM_CHECK(!type_traits(a->type).quantized, "transpose: quantized {} cannot be transposed",
             describe(a));
  std::array<int64_t, kMaxDims> ne = a->ne;
  std::array<size_t, kMaxDims> nb = a->nb;
  std::swap(ne[0], ne[1]);
  std::swap(nb[0], nb[1]);
  return make_view(g, Op::Transpose, a, ne, nb, 0, PermuteParams{{1, 0, 2, 3}});
}

Tensor* get_rows(Graph& g, Tensor* table, Tensor* ids) {
  check_not_null(Op::GetRows, table, "table");
  check_type(Op::GetRows, ids, "ids", GgmlType::I32);
  check_shapes(ids->ne[1] == table->ne[2] && ids->ne[2] == table->ne[3] && ids->ne[3] == 1,
               Op::GetRows, table, ids, "table [n, R, B, C] and ids [m, B, C]");
  return g.node(Op::GetRows, GgmlType::F32, {table->ne[0], ids->ne[0], ids->ne[1], ids->ne[2]},
                {table, ids});
}

Tensor* mul_mat(Graph& g, Tensor* weight, Tensor* x) {
  check_not_null(Op::MulMat, weight, "weight");
  check_type(Op::MulMat, x, "input", GgmlType::F32);
  check_shapes(weight->ne[0] == x->ne[0] && weight->ne[2] > 0 && weight->ne[3] > 0 &&
                   x->ne[2] % weight->ne[2] == 0 && x->ne[3] % weight->ne[3] == 0,
               Op::MulMat, weight, x,
               "weight [k, M, B0, C0] and input [k, N, B, C] with B0 dividing B and C0 dividing C");
  return g.node(Op::MulMat, GgmlType::F32, {weight->ne[1], x->ne[1], x->ne[2], x->ne[3]},
                {weight, x});
}

Tensor* mul_mat_id(Graph& g, Tensor* experts, Tensor* x, Tensor* ids) {
  check_not_null(Op::MulMatId, experts, "experts");
  check_type(Op::MulMatId, x, "input", GgmlType::F32);
  check_type(Op::MulMatId, ids, "ids", GgmlType::I32);
  check_shapes(experts->ne[0] == x->ne[0] && experts->ne[3] == 1 && x->ne[3] == 1, Op::MulMatId,
               experts, x, "experts [k, M, E] and input [k, U1, T]");
  check_shapes(x->ne[2] == ids->ne[1] && (x->ne[1] == 1 || x->ne[1] == ids->ne[0]) &&
                   ids->ne[2] == 1 && ids->ne[3] == 1,
               Op::MulMatId, x, ids, "input [k, U1, T] with U1 = 1 or U and ids [U, T]");
  return g.node(Op::MulMatId, GgmlType::F32, {experts->ne[1], ids->ne[0], ids->ne[1], 1},
                {experts, x, ids});
}

Tensor* add(Graph& g, Tensor* a, Tensor* b) {
  return binary(g, Op::Add, a, b);
}
Tensor* sub(Graph& g, Tensor* a, Tensor* b) {
  return binary(g, Op::Sub, a, b);
}
Tensor* mul(Graph& g, Tensor* a, Tensor* b) {
  return binary(g, Op::Mul, a, b);
}
Tensor* div(Graph& g, Tensor* a, Tensor* b) {
  return binary(g, Op::Div, a, b);
}

Tensor* scale(Graph& g, Tensor* a, float scale, float bias) {
  return unary(g, Op::Scale, a, ScaleParams{scale, bias});
}

Tensor* rms_norm(Graph& g, Tensor* a, float eps) {
  HLLM_CHECK(eps >= 0.0f, "rms_norm: eps {} must not be negative", eps);
  return unary(g, Op::RmsNorm, a, NormParams{eps});
}

Tensor* l2_norm(Graph& g, Tensor* a, float eps) {
  HLLM_CHECK(eps >= 0.0f, "l2_norm: eps {} must not be negative", eps);
  return unary(g, Op::L2Norm, a, NormParams{eps});
}

Tensor* rope(Graph& g, Tensor* a, Tensor* positions, const RopeParams& params) {
  check_float(Op::Rope, a, "source");
  check_type(Op::Rope, positions, "positions", GgmlType::I32);
  check_shapes(positions->ne[0] == a->ne[2] &&
                   (positions->ne[1] == 1 || positions->ne[1] == a->ne[3]) &&
                   positions->ne[2] == 1 && positions->ne[3] == 1,
               Op::Rope, a, positions, "source [D, H, T, S] and positions [T] or [T, S]");
  HLLM_CHECK(params.n_dims > 0 && params.n_dims % 2 == 0 && params.n_dims <= a->ne[0],
             "rope: n_dims {} must be even, positive and at most the head size of {}",
             params.n_dims, describe(a));
  HLLM_CHECK(params.mode == RopeMode::Normal || params.mode == RopeMode::Neox,
             "rope: unknown mode {}", static_cast<int>(params.mode));
  HLLM_CHECK(params.freq_base > 0.0f, "rope: freq_base {} must be positive", params.freq_base);
  return g.node(Op::Rope, GgmlType::F32, a->ne, {a, positions}, params);
}

Tensor* soft_max(Graph& g, Tensor* a, Tensor* mask, float scale) {
  check_float(Op::SoftMax, a, "source");
  if (mask == nullptr) return g.node(Op::SoftMax, GgmlType::F32, a->ne, {a}, SoftMaxParams{scale});
  check_float(Op::SoftMax, mask, "mask");
  check_shapes(mask->ne[0] == a->ne[0] && mask->ne[1] == a->ne[1] && mask->ne[2] > 0 &&
                   mask->ne[3] > 0 && a->ne[2] % mask->ne[2] == 0 && a->ne[3] % mask->ne[3] == 0,
               Op::SoftMax, a, mask, "a mask with the source's first two dimensions");
  return g.node(Op::SoftMax, GgmlType::F32, a->ne, {a, mask}, SoftMaxParams{scale});
}

Tensor* attention(Graph& g, Tensor* q, Tensor* k, Tensor* v, Tensor* mask, float scale) {
  check_float(Op::Attention, q, "query");
  check_float(Op::Attention, k, "key");
  check_float(Op::Attention, v, "value");
  check_shapes(
      q->ne[0] == k->ne[0] && k->ne[1] > 0 && q->ne[1] % k->ne[1] == 0 && q->ne[3] == k->ne[3],
      Op::Attention, q, k, "query [Dk, H, Tq, S] and key [Dk, Hkv, Tkv, S] with Hkv dividing H");
  check_shapes(k->ne[1] == v->ne[1] && k->ne[2] == v->ne[2] && k->ne[3] == v->ne[3], Op::Attention,
               k, v, "key [Dk, Hkv, Tkv, S] and value [Dv, Hkv, Tkv, S]");
  const std::array<int64_t, kMaxDims> out{v->ne[0], q->ne[1], q->ne[2], q->ne[3]};
  if (mask == nullptr)
    return g.node(Op::Attention, GgmlType::F32, out, {q, k, v}, AttentionParams{scale});
  check_float(Op::Attention, mask, "mask");
  check_shapes(mask->ne[0] == k->ne[2] && mask->ne[1] == q->ne[2] &&
                   (mask->ne[2] == 1 || mask->ne[2] == q->ne[3]) && mask->ne[3] == 1,
               Op::Attention, mask, q, "mask [Tkv, Tq] or [Tkv, Tq, S] for query [Dk, H, Tq, S]");
  return g.node(Op::Attention, GgmlType::F32, out, {q, k, v, mask}, AttentionParams{scale});
}

Tensor* silu(Graph& g, Tensor* a) {
  return unary(g, Op::Silu, a);
}
Tensor* sigmoid(Graph& g, Tensor* a) {
  return unary(g, Op::Sigmoid, a);
}
Tensor* softplus(Graph& g, Tensor* a) {
  return unary(g, Op::Softplus, a);
}
Tensor* exp(Graph& g, Tensor* a) {
  return unary(g, Op::Exp, a);
}
Tensor* neg(Graph& g, Tensor* a) {
  return unary(g, Op::Neg, a);
}
Tensor* sqr(Graph& g, Tensor* a) {
  return unary(g, Op::Sqr, a);
}
Tensor* sqrt(Graph& g, Tensor* a) {
  return unary(g, Op::Sqrt, a);
}

Tensor* top_k(Graph& g, Tensor* a, int k) {
  check_float(Op::TopK, a, "source");
  HLLM_CHECK(k >= 1 && k <= a->ne[0], "top_k: k = {} must be in [1, {}] for {}", k, a->ne[0],
             describe(a));
  return g.node(Op::TopK, GgmlType::I32, {k, a->ne[1], a->ne[2], a->ne[3]}, {a}, TopKParams{k});
}

Tensor* ssm_conv(Graph& g, Tensor* x, Tensor* kernel, Tensor* state, Tensor* slots) {
  check_float(Op::SsmConv, x, "input");
  check_float(Op::SsmConv, kernel, "kernel");
  check_float(Op::SsmConv, state, "state");
  check_type(Op::SsmConv, slots, "slots", GgmlType::I32);
  const int64_t channels = x->ne[0];
  const int64_t width = kernel->ne[0];
  check_shapes(kernel->ne[1] == channels && width >= 1 && kernel->ne[2] == 1 && x->ne[3] == 1,
               Op::SsmConv, x, kernel, "input [C, T, S] and kernel [K, C]");
  check_shapes(state->ne[0] == (width - 1) * channels && state->ne[2] == 1 && state->ne[3] == 1,
               Op::SsmConv, state, kernel, "state [(K-1)*C, slots] for kernel [K, C]");
  check_shapes(slots->ne[0] == x->ne[2] && slots->ne[1] == 1, Op::SsmConv, slots, x,
               "slots [S] for input [C, T, S]");
  return g.node(Op::SsmConv, GgmlType::F32, x->ne, {x, kernel, state, slots});
}

Tensor* delta_rule(Graph& g, Tensor* q, Tensor* k, Tensor* v, Tensor* log_decay, Tensor* beta,
                   Tensor* state, Tensor* slots, const DeltaRuleParams& params) {
  check_float(Op::DeltaRule, q, "query");
  check_float(Op::DeltaRule, k, "key");
  check_float(Op::DeltaRule, v, "value");
  check_float(Op::DeltaRule, log_decay, "log decay");
  check_float(Op::DeltaRule, beta, "beta");
  check_float(Op::DeltaRule, state, "state");
  check_type(Op::DeltaRule, slots, "slots", GgmlType::I32);
  check_shapes(q->ne == k->ne, Op::DeltaRule, q, k,
               "query and key of the same shape [Dk, Hk, T, S]");
  const int64_t head_dim_v = v->ne[0];
  const int64_t heads_v = v->ne[1];
  check_shapes(
      v->ne[2] == q->ne[2] && v->ne[3] == q->ne[3] && q->ne[1] > 0 && heads_v % q->ne[1] == 0,
      Op::DeltaRule, q, v, "query [Dk, Hk, T, S] and value [Dv, Hv, T, S] with Hk dividing Hv");
  const std::array<int64_t, kMaxDims> gate_shape{heads_v, v->ne[2], v->ne[3], 1};
  check_shapes(log_decay->ne == gate_shape, Op::DeltaRule, log_decay, v,
               "log decay [Hv, T, S] for value [Dv, Hv, T, S]");
  check_shapes(beta->ne == gate_shape, Op::DeltaRule, beta, v,
               "beta [Hv, T, S] for value [Dv, Hv, T, S]");
  check_shapes(
      state->ne[0] == q->ne[0] * head_dim_v * heads_v && state->ne[2] == 1 && state->ne[3] == 1,
      Op::DeltaRule, state, v, "state [Dk*Dv*Hv, slots]");
  check_shapes(slots->ne[0] == v->ne[3] && slots->ne[1] == 1, Op::DeltaRule, slots, v,
               "slots [S] for value [Dv, Hv, T, S]");
  HLLM_CHECK(params.chunk_size >= 0, "delta_rule: chunk_size {} must not be negative",
             params.chunk_size);
  return g.node(Op::DeltaRule, GgmlType::F32, v->ne, {q, k, v, log_decay, beta, state, slots},
                params);
}

Tensor* concat(Graph& g, Tensor* a, Tensor* b, int dim) {
  check_not_null(Op::Concat, a, "first");
  check_not_null(Op::Concat, b, "second");
  HLLM_CHECK(dim >= 0 && dim < kMaxDims, "concat: dimension {} must be in [0, {})", dim, kMaxDims);
  HLLM_CHECK(a->type == b->type, "concat: {} and {} have different types", describe(a),
             describe(b));
  bool others_match = true;
  for (int i = 0; i < kMaxDims; ++i)
    others_match = others_match && (i == dim || a->ne[i] == b->ne[i]);
  check_shapes(others_match, Op::Concat, a, b,
               fmt::format("equal sizes outside dimension {}", dim).c_str());
  std::array<int64_t, kMaxDims> ne = a->ne;
  ne[dim] += b->ne[dim];
  return g.node(Op::Concat, a->type, ne, {a, b}, ConcatParams{dim});
}

Tensor* copy(Graph& g, Tensor* a, GgmlType type) {
  check_not_null(Op::Copy, a, "source");
  return g.node(Op::Copy, type, a->ne, {a});
}

Tensor* set_rows(Graph& g, Tensor* destination, Tensor* rows, Tensor* ids) {
  check_not_null(Op::SetRows, destination, "destination");
  check_float(Op::SetRows, rows, "rows");
  check_type(Op::SetRows, ids, "ids", GgmlType::I32);
  check_shapes(destination->ne[0] == rows->ne[0] && destination->ne[2] == 1 &&
                   destination->ne[3] == 1 && rows->ne[2] == 1 && rows->ne[3] == 1,
               Op::SetRows, destination, rows, "destination [n, R] and rows [n, m]");
  check_shapes(ids->ne[0] == rows->ne[1] && ids->ne[1] == 1 && ids->ne[2] == 1 && ids->ne[3] == 1,
               Op::SetRows, rows, ids, "rows [n, m] and ids [m]");
  HLLM_CHECK(destination->nb[0] == type_traits(destination->type).type_size,
             "set_rows: destination {} must have contiguous rows", describe(destination));
  // The output is the destination itself, updated in place.
  Tensor* out = g.node(Op::SetRows, destination->type, destination->ne, {destination, rows, ids});
  out->nb = destination->nb;
  out->view_source = destination;
  return out;
}

Tensor* sum_rows(Graph& g, Tensor* a) {
  check_float(Op::SumRows, a, "source");
  return g.node(Op::SumRows, GgmlType::F32, {1, a->ne[1], a->ne[2], a->ne[3]}, {a});
}

}  // namespace hllm::ops
