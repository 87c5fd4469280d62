// SentencePiece-style tokenization of Llama vocabularies: text starts as one symbol per UTF-8
// character, and the adjacent pair whose concatenation is the highest-scoring token merges first.
// Characters left without a token fall back to byte tokens <0xXX>.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hllm::text {

using TokenIndex = std::unordered_map<std::string_view, int32_t>;

class SpmModel {
 public:
  // pieces maps the text of every token that merging may produce to its id, and scores contains
  // one score per token id. Both must outlive the model. byte_tokens[b] is the token for byte b, or
  // -1 where the vocabulary has none.
  SpmModel(const TokenIndex& pieces, const std::vector<float>& scores,
           const std::array<int32_t, 256>& byte_tokens);

  // Appends the tokens of text, which must already have its spaces replaced by U+2581.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  int32_t find_piece(std::string_view text) const;

  const TokenIndex& pieces_;
  const std::vector<float>& scores_;
  std::array<int32_t, 256> byte_tokens_;
};

}  // namespace hllm::text
