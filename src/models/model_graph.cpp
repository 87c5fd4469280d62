#include "models/model_graph.h"

#include <string>

#include "models/blocks.h"
#include "util/error.h"

namespace hllm {

// Defined in build_<arch>.cpp.
void build_llama(GraphContext& ctx);
void build_qwen3next(GraphContext& ctx);

LayerStateSizes layer_state_sizes(const ModelSpec& spec, int layer) {
  const HParams& hp = spec.hp;
  LayerStateSizes sizes;
  if (spec.layers.at(layer) == LayerKind::GatedDeltaNet) {
    const int64_t channels = 2 * hp.ssm_d_state * hp.ssm_n_k_heads + hp.ssm_d_state * hp.ssm_n_v_heads;
    sizes.conv_slot = (hp.ssm_conv_kernel - 1) * channels;
    sizes.ssm_slot = hp.ssm_d_state * hp.ssm_d_state * hp.ssm_n_v_heads;
  } else {
    sizes.k_row = hp.head_dim_k * hp.n_head_kv;
    sizes.v_row = hp.head_dim_v * hp.n_head_kv;
  }
  return sizes;
}

namespace {

void add_inputs(ModelGraph& out, const ModelSpec& spec) {
  Graph& g = out.graph;
  const BatchShape& shape = out.shape;
  bool has_attention = false;
  bool has_recurrent = false;
  for (LayerKind kind : spec.layers) {
    (kind == LayerKind::GatedDeltaNet ? has_recurrent : has_attention) = true;
  }
  out.tokens = g.input("inp_tokens", GgmlType::I32, {shape.n_tokens()});
  out.output_ids = g.input("inp_out_ids", GgmlType::I32, {shape.n_outputs});
  if (has_attention) {
    out.positions = g.input("inp_pos", GgmlType::I32, {shape.n_tokens()});
    out.kv_cells = g.input("inp_kv_cells", GgmlType::I32, {shape.n_tokens()});
    out.kq_mask = g.input("inp_kq_mask", GgmlType::F32, {shape.n_kv, shape.n_tokens()});
  }
  if (has_recurrent) out.state_slots = g.input("inp_state_slots", GgmlType::I32, {shape.n_seqs});
}

void add_state(ModelGraph& out, const ModelSpec& spec, const StateShape& state) {
  Graph& g = out.graph;
  out.layers.resize(spec.layers.size());
  for (size_t il = 0; il < spec.layers.size(); ++il) {
    const int layer = static_cast<int>(il);
    const LayerStateSizes sizes = layer_state_sizes(spec, layer);
    LayerState& ls = out.layers[il];
    if (sizes.k_row > 0) {
      ls.k_cache = g.state("cache_k", GgmlType::F32, {sizes.k_row, state.n_cells}, layer);
      ls.v_cache = g.state("cache_v", GgmlType::F32, {sizes.v_row, state.n_cells}, layer);
    }
    if (sizes.ssm_slot > 0) {
      ls.conv_state = g.state("conv_state", GgmlType::F32, {sizes.conv_slot, state.n_slots}, layer);
      ls.ssm_state = g.state("ssm_state", GgmlType::F32, {sizes.ssm_slot, state.n_slots}, layer);
    }
  }
}

}  // namespace

std::unique_ptr<ModelGraph> build_model_graph(const ModelSpec& spec, const BatchShape& batch,
                                              const StateShape& state) {
  HLLM_CHECK(spec.arch != nullptr, "cannot build a graph: the model's architecture is unknown");
  HLLM_CHECK(batch.n_seq_tokens > 0 && batch.n_seqs > 0 && batch.n_outputs > 0 &&
                 batch.n_outputs <= batch.n_tokens(),
             "invalid micro-batch shape: {} tokens in each of {} sequences with {} outputs",
             batch.n_seq_tokens, batch.n_seqs, batch.n_outputs);
  auto out = std::make_unique<ModelGraph>();
  out->shape = batch;
  add_inputs(*out, spec);
  add_state(*out, spec, state);

  GraphContext ctx(spec, *out);
  const std::string_view arch = spec.arch->name;
  if (arch == "llama") {
    build_llama(ctx);
  } else if (arch == "qwen3next") {
    build_qwen3next(ctx);
  } else {
    fail("no graph builder for architecture '{}'", arch);
  }
  return out;
}

}  // namespace hllm
