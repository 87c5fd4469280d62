// Byte-level byte-pair encoding: a word starts as one token per byte and adjacent tokens are
// merged, lowest merge rank first, until no listed merge applies.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hllm::text {

using TokenIndex = std::unordered_map<std::string_view, int32_t>;

class BpeModel {
 public:
  // merges[rank] is "LEFT RIGHT", spelled in the byte alphabet. index maps token text to id and
  // must outlive the model. unknown_id (or -1) replaces bytes whose alphabet character is not
  // a token. Throws Error for a malformed merge.
  BpeModel(const std::vector<std::string>& merges, const TokenIndex& index, int32_t unknown_id,
           bool ignore_merges);

  // Appends the tokens of one pre-tokenized word, given as raw bytes.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  size_t n_merges() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // token id of LEFT + RIGHT
  };

  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  const Merge* find_merge(int32_t left, int32_t right) const;

  const TokenIndex& index_;
  bool ignore_merges_;
  std::array<int32_t, 256> byte_tokens_{};  // token of each byte's alphabet character, or -1
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace hllm::text
