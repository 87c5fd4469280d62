// A session on a loaded model: the KV cache of the attention layers, the recurrent state of the
// DeltaNet layers, several sequences at once, and evaluation of batches in micro-batches.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "models/model_graph.h"
#include "runtime/batch.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"
#include "sched/placement.h"

namespace hllm {

class GraphRunner;

struct SessionOptions {
  int64_t n_ctx = 0;       // KV cells per attention layer; 0: the training context, at most 4096
  int32_t n_seq_max = 1;   // sequences that can be alive at once (ids 0 .. n_seq_max-1)
  int64_t n_ubatch = 512;  // tokens per micro-batch
  int n_threads = 0;       // 0: all hardware threads
  // Device and placement constraints. Without a device every node runs on the CPU runner.
  sched::PlacementOptions placement;
};

class Session {
 public:
  Session(const Model& model, const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Evaluates a batch and returns the logits of the flagged tokens in batch order, n_vocab floats
  // each. Throws Error for invalid tokens, sequence ids or a full cache; the cache is unchanged
  // for micro-batches that were not evaluated.
  std::vector<float> decode(const Batch& batch);

  // Clears exactly the KV cells and recurrent state of one sequence.
  void remove_sequence(int32_t seq_id);
  // Clears every sequence.
  void clear();

  // The position after the last one stored for a sequence (0 for an empty sequence).
  int32_t next_position(int32_t seq_id) const;

  int64_t n_vocab() const { return model_.hparams().n_vocab; }
  int64_t n_ctx() const { return kv_.size(); }
  const SessionOptions& options() const { return options_; }
  // Node count of the most recently evaluated graph.
  size_t last_graph_nodes() const { return last_graph_nodes_; }
  // Split count of the most recently evaluated graph: 1 when one backend computes every node, 0
  // when the runner does not report splits.
  size_t last_graph_splits() const { return last_graph_splits_; }
  // Times each node that the CPU computes in later decode calls (for profiles); an empty timer
  // stops timing.
  void set_node_timer(NodeTimer timer);
  // One line on the load-time placement ("3 splits, ..."); empty when everything runs on the CPU.
  std::string plan_summary() const;

 private:
  struct CachedGraph;

  void check_batch(const Batch& batch) const;
  CachedGraph& graph_for(const BatchShape& shape);
  void bind_leaves(CachedGraph& cached);
  void evaluate(const Batch& batch, const MicroBatch& micro, std::vector<float>& logits,
                const std::vector<int64_t>& output_row);

  const Model& model_;
  SessionOptions options_;
  KvCells kv_;
  StateShape state_shape_;
  // Persistent state per layer, zero-initialised: keys, values, convolution windows, DeltaNet.
  std::vector<std::vector<float>> k_cache_, v_cache_, conv_state_, ssm_state_;
  std::map<int32_t, int32_t> next_position_;  // per sequence: one past its last position
  std::unique_ptr<GraphRunner> runner_;
  std::vector<std::unique_ptr<CachedGraph>> graphs_;
  size_t last_graph_nodes_ = 0;
  size_t last_graph_splits_ = 0;
};

}  // namespace hllm
