// Op builders: each appends one node to the graph and returns it. They check shapes and types
// and throw hllm::Error naming the op and both shapes on a mismatch.
#pragma once

#include "graph/graph.h"

namespace hllm::ops {

// Views (no compute, shared storage).
Tensor* view(Graph& g, Tensor* a, std::array<int64_t, kMaxDims> ne, std::array<size_t, kMaxDims> nb,
             size_t offset);
Tensor* view_1d(Graph& g, Tensor* a, int64_t ne0, size_t offset);
Tensor* view_2d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset);
Tensor* view_3d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2,
                size_t offset);
Tensor* view_4d(Graph& g, Tensor* a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, size_t nb1,
                size_t nb2, size_t nb3, size_t offset);
Tensor* reshape(Graph& g, Tensor* a, std::initializer_list<int64_t> ne);  // a contiguous
Tensor* permute(Graph& g, Tensor* a, int axis0, int axis1, int axis2, int axis3);
Tensor* transpose(Graph& g, Tensor* a);  // swaps dims 0 and 1

// Compute ops (semantics in graph/tensor.h).
Tensor* get_rows(Graph& g, Tensor* table, Tensor* ids);
Tensor* mul_mat(Graph& g, Tensor* weight, Tensor* x);
Tensor* mul_mat_id(Graph& g, Tensor* experts, Tensor* x, Tensor* ids);
Tensor* add(Graph& g, Tensor* a, Tensor* b);
Tensor* sub(Graph& g, Tensor* a, Tensor* b);
Tensor* mul(Graph& g, Tensor* a, Tensor* b);
Tensor* div(Graph& g, Tensor* a, Tensor* b);
Tensor* scale(Graph& g, Tensor* a, float scale, float bias = 0.0f);
Tensor* rms_norm(Graph& g, Tensor* a, float eps);
Tensor* l2_norm(Graph& g, Tensor* a, float eps);
Tensor* rope(Graph& g, Tensor* a, Tensor* positions, const RopeParams& params);
Tensor* soft_max(Graph& g, Tensor* a, Tensor* mask = nullptr, float scale = 1.0f);
Tensor* attention(Graph& g, Tensor* q, Tensor* k, Tensor* v, Tensor* mask, float scale);
Tensor* silu(Graph& g, Tensor* a);
Tensor* sigmoid(Graph& g, Tensor* a);
Tensor* softplus(Graph& g, Tensor* a);
Tensor* exp(Graph& g, Tensor* a);
Tensor* neg(Graph& g, Tensor* a);
Tensor* sqr(Graph& g, Tensor* a);
Tensor* sqrt(Graph& g, Tensor* a);
Tensor* top_k(Graph& g, Tensor* a, int k);
Tensor* ssm_conv(Graph& g, Tensor* x, Tensor* kernel, Tensor* state, Tensor* slots);
Tensor* delta_rule(Graph& g, Tensor* q, Tensor* k, Tensor* v, Tensor* log_decay, Tensor* beta,
                   Tensor* state, Tensor* slots, const DeltaRuleParams& params);
Tensor* concat(Graph& g, Tensor* a, Tensor* b, int dim);
Tensor* copy(Graph& g, Tensor* a, GgmlType type = GgmlType::F32);  // contiguous copy
Tensor* set_rows(Graph& g, Tensor* destination, Tensor* rows, Tensor* ids);
Tensor* sum_rows(Graph& g, Tensor* a);

}  // namespace hllm::ops
