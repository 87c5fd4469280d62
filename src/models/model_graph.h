// The graph of one forward pass over a micro-batch, as the architectures' builders produce it,
// and the inputs and state the runtime binds before each evaluation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/graph.h"
#include "models/registry.h"

namespace hllm {

struct GgufTensorInfo;

// Shape of one micro-batch. Tokens are ordered sequence-major: token t of sequence s is at index
// s * n_seq_tokens + t, so a recurrent layer sees [n_seq_tokens, n_seqs] blocks.
struct BatchShape {
  int64_t n_seq_tokens = 1;  // tokens per sequence (equal for every sequence of the micro-batch)
  int64_t n_seqs = 1;
  int64_t n_kv = 0;          // KV cells that attention reads: cells [0, n_kv)
  int64_t n_outputs = 1;     // rows of logits computed (those listed in output_ids)

  int64_t n_tokens() const { return n_seq_tokens * n_seqs; }
  bool operator==(const BatchShape&) const = default;
};

// Sizes of the persistent state, fixed for a session.
struct StateShape {
  int64_t n_cells = 0;  // KV cells per attention layer
  int64_t n_slots = 0;  // recurrent state slots (one per sequence)
};

// A weight leaf and the file tensor that provides its data.
struct WeightBinding {
  Tensor* leaf;
  const GgufTensorInfo* info;
};

// Per-layer persistent state leaves. Unused ones stay nullptr.
struct LayerState {
  Tensor* k_cache = nullptr;     // F32 [head_dim_k * n_head_kv, n_cells]
  Tensor* v_cache = nullptr;     // F32 [head_dim_v * n_head_kv, n_cells]
  Tensor* conv_state = nullptr;  // F32 [(conv_kernel - 1) * conv_channels, n_slots]
  Tensor* ssm_state = nullptr;   // F32 [d_state * d_state * n_v_heads, n_slots]
};

struct ModelGraph {
  Graph graph;
  BatchShape shape;

  // Inputs the runtime fills.
  Tensor* tokens = nullptr;       // I32 [n_tokens]
  Tensor* positions = nullptr;    // I32 [n_tokens]; nullptr when no layer uses positions
  Tensor* kv_cells = nullptr;     // I32 [n_tokens]: KV cell each token is written to
  Tensor* kq_mask = nullptr;      // F32 [n_kv, n_tokens]: 0 where a token sees a cell, else -inf
  Tensor* state_slots = nullptr;  // I32 [n_seqs]: recurrent state slot of each sequence
  Tensor* output_ids = nullptr;   // I32 [n_outputs]: token indices whose logits are computed

  Tensor* logits = nullptr;  // F32 [n_vocab, n_outputs]

  std::vector<WeightBinding> weights;
  std::vector<LayerState> layers;  // one per decoding layer
};

// Builds the forward graph of a model for one micro-batch shape. Throws Error for an
// architecture without a builder.
std::unique_ptr<ModelGraph> build_model_graph(const ModelSpec& spec, const BatchShape& batch,
                                              const StateShape& state);

// Sizes of one layer's persistent state for a model; zeros for state the layer does not keep.
struct LayerStateSizes {
  int64_t k_row = 0;      // floats per KV cell for keys
  int64_t v_row = 0;      // floats per KV cell for values
  int64_t conv_slot = 0;  // floats per recurrent slot of the convolution window
  int64_t ssm_slot = 0;   // floats per recurrent slot of the DeltaNet state
};
LayerStateSizes layer_state_sizes(const ModelSpec& spec, int layer);

}  // namespace hllm
