// Building blocks shared by the architectures' graph builders: norms, feed-forward networks,
// mixture of experts, attention over the KV cache and the gated DeltaNet layer. Each block exists
// once; models compose them.
#pragma once

#include <map>
#include <utility>

#include "graph/ops.h"
#include "models/model_graph.h"

namespace hllm {

// Graph-building state for one forward pass: the graph, the model description and the weight
// leaves created so far (each file tensor becomes one leaf, however often it is used).
class GraphContext {
 public:
  GraphContext(const ModelSpec& spec, ModelGraph& model_graph)
      : spec(spec), out(model_graph), g(model_graph.graph) {}

  // Returns the weight leaf of a tensor, creating it on first use; nullptr when the file lacks
  // this optional tensor.
  Tensor* weight(TensorId id, int layer = -1);
  // Like weight() but throws Error naming the tensor when the file lacks it.
  Tensor* require(TensorId id, int layer = -1);

  // Names a node "<base>-<layer>" and returns it.
  Tensor* name(Tensor* tensor, const char* base, int layer = -1) {
    return Graph::name(tensor, base, layer);
  }

  const ModelSpec& spec;
  ModelGraph& out;
  Graph& g;

 private:
  std::map<std::pair<TensorId, int>, Tensor*> leaves_;
};

// RMS norm over ne[0] scaled by a weight vector.
Tensor* rms_norm_weighted(GraphContext& ctx, Tensor* x, Tensor* weight, const char* name, int layer);

// down(silu(gate x) * (up x)).
Tensor* swiglu_ffn(GraphContext& ctx, Tensor* x, Tensor* gate, Tensor* up, Tensor* down, int layer);

// Mixture of experts with softmax routing over experts, the top n_used experts per token with
// renormalised weights, and SiLU-gated experts. x [n_embd, T] -> [n_embd, T].
Tensor* moe_ffn(GraphContext& ctx, Tensor* x, int layer);

// Attention over the KV cache: stores k and v ([head_dim, n_head_kv, T]) into the layer's cache
// cells, then attends q ([head_dim, n_head, T]) to cells [0, n_kv) under the mask.
// Returns [head_dim_v * n_head, T].
Tensor* cached_attention(GraphContext& ctx, Tensor* q, Tensor* k, Tensor* v, int layer);

// Qwen3-Next's gated DeltaNet layer, both weight layouts. x [n_embd, T] -> [n_embd, T].
Tensor* gated_delta_net(GraphContext& ctx, Tensor* x, int layer);

// Selects the rows of the tokens whose logits are computed, when that is not every token.
Tensor* select_outputs(GraphContext& ctx, Tensor* x);

// Final norm and vocabulary projection (token_embd when the output is tied).
Tensor* output_head(GraphContext& ctx, Tensor* x);

}  // namespace hllm
