#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "runtime/graph_runner.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm {

namespace {

// Attention reads the used KV cells rounded up to this many, so consecutive decode steps share
// one graph shape (and one built graph) for this many tokens.
constexpr int64_t kKvPadding = 256;

}  // namespace

// A built graph for one micro-batch shape, with the host memory of its inputs.
struct Session::CachedGraph {
  std::unique_ptr<ModelGraph> graph;
  std::vector<int32_t> tokens, positions, kv_cells, slots, output_ids;
  std::vector<float> mask;
};

Session::Session(const Model& model, const SessionOptions& options)
    : model_(model), options_(options), kv_(1) {
  const HParams& hp = model.hparams();
  if (options_.n_ctx <= 0) options_.n_ctx = std::min<int64_t>(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  if (options_.n_threads <= 0) options_.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  HLLM_CHECK(options_.n_seq_max >= 1, "invalid sequence count {}: expected at least 1", options_.n_seq_max);
  HLLM_CHECK(options_.n_ubatch >= 1, "invalid micro-batch size {}: expected at least 1", options_.n_ubatch);

  kv_ = KvCells(options_.n_ctx);
  state_shape_ = StateShape{options_.n_ctx, options_.n_seq_max};
  const ModelSpec& spec = model.spec();
  const size_t n_layer = spec.layers.size();
  k_cache_.resize(n_layer);
  v_cache_.resize(n_layer);
  conv_state_.resize(n_layer);
  ssm_state_.resize(n_layer);
  for (size_t il = 0; il < n_layer; ++il) {
    const LayerStateSizes sizes = layer_state_sizes(spec, static_cast<int>(il));
    k_cache_[il].assign(sizes.k_row * options_.n_ctx, 0.0f);
    v_cache_[il].assign(sizes.v_row * options_.n_ctx, 0.0f);
    conv_state_[il].assign(sizes.conv_slot * options_.n_seq_max, 0.0f);
    ssm_state_[il].assign(sizes.ssm_slot * options_.n_seq_max, 0.0f);
  }
  if (options_.placement.uses_device()) {
    runner_ = make_sched_runner(spec, options_.n_threads, options_.placement);
    // Placement is decided on the largest micro-batch first, and weights and state stay there.
    graph_for(worst_case_shape(spec, options_.n_ubatch, options_.n_ctx));
  } else {
    runner_ = make_cpu_runner(options_.n_threads);
  }
}

std::string Session::plan_summary() const {
  return runner_->plan_summary();
}

Session::~Session() = default;

void Session::set_node_timer(NodeTimer timer) {
  runner_->set_node_timer(std::move(timer));
}

void Session::check_batch(const Batch& batch) const {
  const int64_t n_vocab = model_.hparams().n_vocab;
  for (size_t i = 0; i < batch.size(); ++i) {
    HLLM_CHECK(batch.tokens[i] >= 0 && batch.tokens[i] < n_vocab,
               "invalid token id {} at batch index {}: expected 0 to {}", batch.tokens[i], i, n_vocab - 1);
    HLLM_CHECK(batch.seq_ids[i] >= 0 && batch.seq_ids[i] < options_.n_seq_max,
               "invalid sequence id {} at batch index {}: expected 0 to {} (raise the sequence count)",
               batch.seq_ids[i], i, options_.n_seq_max - 1);
    HLLM_CHECK(batch.positions[i] >= 0, "invalid position {} at batch index {}", batch.positions[i], i);
  }
}

std::vector<float> Session::decode(const Batch& batch) {
  check_batch(batch);
  const int64_t n_vocab = model_.hparams().n_vocab;

  // Row of each flagged token in the result.
  std::vector<int64_t> output_row(batch.size(), -1);
  int64_t n_rows = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch.logits[i]) output_row[i] = n_rows++;
  }
  std::vector<float> logits(static_cast<size_t>(n_rows * n_vocab));
  for (const MicroBatch& micro : split_batch(batch, options_.n_ubatch)) {
    evaluate(batch, micro, logits, output_row);
  }
  return logits;
}

Session::CachedGraph& Session::graph_for(const BatchShape& shape) {
  for (auto& cached : graphs_) {
    if (cached->graph->shape == shape) return *cached;
  }
  auto cached = std::make_unique<CachedGraph>();
  cached->graph = build_model_graph(model_.spec(), shape, state_shape_);
  bind_leaves(*cached);
  runner_->prepare(*cached->graph);
  log::debug("built a graph of {} nodes for {} tokens x {} sequences, {} KV cells",
             cached->graph->graph.nodes().size(), shape.n_seq_tokens, shape.n_seqs, shape.n_kv);
  graphs_.push_back(std::move(cached));
  return *graphs_.back();
}

void Session::bind_leaves(CachedGraph& cached) {
  ModelGraph& mg = *cached.graph;
  const BatchShape& shape = mg.shape;
  for (const WeightBinding& binding : mg.weights) binding.leaf->data = const_cast<uint8_t*>(binding.info->data);
  for (size_t il = 0; il < mg.layers.size(); ++il) {
    LayerState& ls = mg.layers[il];
    if (ls.k_cache) ls.k_cache->data = k_cache_[il].data();
    if (ls.v_cache) ls.v_cache->data = v_cache_[il].data();
    if (ls.conv_state) ls.conv_state->data = conv_state_[il].data();
    if (ls.ssm_state) ls.ssm_state->data = ssm_state_[il].data();
  }
  cached.tokens.resize(shape.n_tokens());
  cached.positions.resize(shape.n_tokens());
  cached.kv_cells.resize(shape.n_tokens());
  cached.slots.resize(shape.n_seqs);
  cached.output_ids.resize(shape.n_outputs);
  cached.mask.resize(shape.n_kv * shape.n_tokens());
  mg.tokens->data = cached.tokens.data();
  mg.output_ids->data = cached.output_ids.data();
  if (mg.positions) mg.positions->data = cached.positions.data();
  if (mg.kv_cells) mg.kv_cells->data = cached.kv_cells.data();
  if (mg.kq_mask) mg.kq_mask->data = cached.mask.data();
  if (mg.state_slots) mg.state_slots->data = cached.slots.data();
}

void Session::evaluate(const Batch& batch, const MicroBatch& micro, std::vector<float>& logits,
                       const std::vector<int64_t>& output_row) {
  const int64_t n_tokens = micro.n_seq_tokens * micro.n_seqs;
  std::vector<int32_t> seq_ids(n_tokens), positions(n_tokens);
  std::vector<int32_t> outputs;
  for (int64_t i = 0; i < n_tokens; ++i) {
    const int32_t index = micro.indices[i];
    seq_ids[i] = batch.seq_ids[index];
    positions[i] = batch.positions[index];
    if (batch.logits[index]) outputs.push_back(static_cast<int32_t>(i));
  }
  if (outputs.empty()) outputs.push_back(static_cast<int32_t>(n_tokens - 1));  // graphs need one

  // Cells first: the mask must let each token see itself and the earlier tokens of this batch.
  const bool has_attention = std::any_of(k_cache_.begin(), k_cache_.end(), [](const auto& k) { return !k.empty(); });
  std::vector<int32_t> cells;
  if (has_attention) cells = kv_.allocate(seq_ids, positions);

  BatchShape shape;
  shape.n_seq_tokens = micro.n_seq_tokens;
  shape.n_seqs = micro.n_seqs;
  shape.n_kv = has_attention ? kv_.used_extent(kKvPadding) : 0;
  shape.n_outputs = static_cast<int64_t>(outputs.size());
  CachedGraph& cached = graph_for(shape);
  ModelGraph& mg = *cached.graph;

  for (int64_t i = 0; i < n_tokens; ++i) cached.tokens[i] = batch.tokens[micro.indices[i]];
  std::copy(positions.begin(), positions.end(), cached.positions.begin());
  std::copy(outputs.begin(), outputs.end(), cached.output_ids.begin());
  std::copy(micro.seq_ids.begin(), micro.seq_ids.end(), cached.slots.begin());
  if (has_attention) {
    std::copy(cells.begin(), cells.end(), cached.kv_cells.begin());
    kv_.fill_mask(cached.mask.data(), shape.n_kv, seq_ids, positions);
  }

  runner_->run(mg);
  last_graph_nodes_ = mg.graph.nodes().size();
  last_graph_splits_ = runner_->split_count(mg);
  for (int64_t i = 0; i < n_tokens; ++i) {
    int32_t& next = next_position_[seq_ids[i]];
    next = std::max(next, positions[i] + 1);
  }

  const int64_t n_vocab = model_.hparams().n_vocab;
  const float* rows = static_cast<const float*>(mg.logits->data);
  for (size_t j = 0; j < outputs.size(); ++j) {
    const int64_t row = output_row[micro.indices[outputs[j]]];
    if (row < 0) continue;
    std::memcpy(logits.data() + row * n_vocab, rows + j * n_vocab, n_vocab * sizeof(float));
  }
}

void Session::remove_sequence(int32_t seq_id) {
  HLLM_CHECK(seq_id >= 0 && seq_id < options_.n_seq_max, "invalid sequence id {}: expected 0 to {}",
             seq_id, options_.n_seq_max - 1);
  kv_.remove_sequence(seq_id);
  for (size_t il = 0; il < conv_state_.size(); ++il) {
    const LayerStateSizes sizes = layer_state_sizes(model_.spec(), static_cast<int>(il));
    std::fill_n(conv_state_[il].begin() + sizes.conv_slot * seq_id, sizes.conv_slot, 0.0f);
    std::fill_n(ssm_state_[il].begin() + sizes.ssm_slot * seq_id, sizes.ssm_slot, 0.0f);
    if (sizes.conv_slot > 0) {
      runner_->state_cleared(conv_state_[il].data(), sizes.conv_slot * seq_id * sizeof(float),
                             sizes.conv_slot * sizeof(float));
    }
    if (sizes.ssm_slot > 0) {
      runner_->state_cleared(ssm_state_[il].data(), sizes.ssm_slot * seq_id * sizeof(float),
                             sizes.ssm_slot * sizeof(float));
    }
  }
  next_position_.erase(seq_id);
}

void Session::clear() {
  for (int32_t seq = 0; seq < options_.n_seq_max; ++seq) remove_sequence(seq);
}

int32_t Session::next_position(int32_t seq_id) const {
  auto it = next_position_.find(seq_id);
  return it == next_position_.end() ? 0 : it->second;
}

}  // namespace hllm
