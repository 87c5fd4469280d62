#include "text/spm.h"

#include <queue>

#include "text/utf8.h"
#include "util/error.h"

namespace hllm::text {

namespace {

// A run of bytes of the input that currently forms one symbol.
struct Symbol {
  size_t offset;
  size_t length;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

// A merge of the symbol at left with its next neighbour into a token of the given score.
struct Candidate {
  float score;
  int32_t left;
  size_t length;  // bytes of both symbols together when proposed
};

// Orders the queue so that the highest score comes first and, among equal scores, the leftmost.
struct WorseCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

}  // namespace

SpmModel::SpmModel(const TokenIndex& pieces, const std::vector<float>& scores,
                   const std::array<int32_t, 256>& byte_tokens)
    : pieces_(pieces), scores_(scores), byte_tokens_(byte_tokens) {}

int32_t SpmModel::find_piece(std::string_view text) const {
  const auto it = pieces_.find(text);
  return it == pieces_.end() ? -1 : it->second;
}

void SpmModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = utf8_char_length(text, pos);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({pos, length, index - 1, index + 1});
    pos += length;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, WorseCandidate> queue;
  const auto propose = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    const size_t length = a.length + b.length;
    const int32_t id = find_piece(text.substr(a.offset, length));
    if (id >= 0) queue.push({scores_[id], left, length});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
    propose(i);

  while (!queue.empty()) {
    const Candidate candidate = queue.top();
    queue.pop();
    Symbol& left = symbols[candidate.left];
    // Merges only grow symbols, so a stale candidate shows as a dead side or a changed length.
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (left.length + right.length != candidate.length) continue;

    left.length = candidate.length;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = candidate.left;
    right.length = 0;

    propose(left.prev);
    propose(candidate.left);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
    const int32_t id = find_piece(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Only single characters can lack a token, since every merge produced one.
    for (char c : piece) {
      const int32_t byte_id = byte_tokens_[static_cast<uint8_t>(c)];
      if (byte_id < 0) {
        fail("byte 0x{:02X} has no byte token <0x{:02X}> and the vocabulary has no unknown token",
             static_cast<uint8_t>(c), static_cast<uint8_t>(c));
      }
      out.push_back(byte_id);
    }
  }
}

}  // namespace hllm::text
