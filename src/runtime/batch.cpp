#include "runtime/batch.h"

#include <algorithm>
#include <map>

#include "util/error.h"

namespace hllm {

void Batch::add(int32_t token, int32_t position, int32_t seq_id, bool want_logits) {
  tokens.push_back(token);
  positions.push_back(position);
  seq_ids.push_back(seq_id);
  logits.push_back(want_logits ? 1 : 0);
}

void Batch::clear() {
  tokens.clear();
  positions.clear();
  seq_ids.clear();
  logits.clear();
}

std::vector<MicroBatch> split_batch(const Batch& batch, int64_t max_tokens) {
  HLLM_CHECK(max_tokens > 0, "invalid micro-batch size {}: expected at least 1", max_tokens);
  HLLM_CHECK(batch.positions.size() == batch.size() && batch.seq_ids.size() == batch.size() &&
                 batch.logits.size() == batch.size(),
             "invalid batch: {} tokens but {} positions, {} sequence ids and {} logit flags",
             batch.size(), batch.positions.size(), batch.seq_ids.size(), batch.logits.size());

  // Pending tokens of each sequence, in batch order; sequences ordered by id for determinism.
  std::map<int32_t, std::vector<int32_t>> pending;
  for (size_t i = 0; i < batch.size(); ++i) pending[batch.seq_ids[i]].push_back(static_cast<int32_t>(i));
  std::map<int32_t, size_t> next;  // index of each sequence's first pending token

  std::vector<MicroBatch> result;
  while (true) {
    std::vector<int32_t> active;
    for (const auto& [seq, indices] : pending) {
      if (next[seq] < indices.size()) active.push_back(seq);
    }
    if (active.empty()) break;

    // As many sequences as fit with at least one token each, then as many equal steps as fit.
    const int64_t n_seqs = std::min<int64_t>(static_cast<int64_t>(active.size()), max_tokens);
    active.resize(n_seqs);
    int64_t steps = max_tokens / n_seqs;
    for (int32_t seq : active) steps = std::min<int64_t>(steps, pending[seq].size() - next[seq]);

    MicroBatch micro;
    micro.n_seq_tokens = steps;
    micro.n_seqs = n_seqs;
    for (int32_t seq : active) {
      micro.seq_ids.push_back(seq);
      const auto& indices = pending[seq];
      for (int64_t t = 0; t < steps; ++t) micro.indices.push_back(indices[next[seq] + t]);
      next[seq] += steps;
    }
    result.push_back(std::move(micro));
  }
  return result;
}

}  // namespace hllm
