// The batch API: tokens with positions, sequence ids and "return logits" flags, and the split of
// a batch into micro-batches that a recurrent layer can process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hllm {

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> seq_ids;
  std::vector<uint8_t> logits;  // 1 where the caller wants this token's logits

  void add(int32_t token, int32_t position, int32_t seq_id, bool want_logits);
  size_t size() const { return tokens.size(); }
  void clear();
};

// One micro-batch: n_seqs sequences with n_seq_tokens tokens each, ordered sequence-major.
// indices[i] is the position in the original batch of the micro-batch's i-th token.
struct MicroBatch {
  int64_t n_seq_tokens = 0;
  int64_t n_seqs = 0;
  std::vector<int32_t> indices;
  std::vector<int32_t> seq_ids;  // one per sequence
};

// Splits a batch into micro-batches of at most max_tokens tokens. Tokens of one sequence keep
// their order, and each micro-batch holds the same number of tokens from each of its sequences,
// because a recurrent layer advances every sequence by the same number of steps.
std::vector<MicroBatch> split_batch(const Batch& batch, int64_t max_tokens);

}  // namespace hllm
