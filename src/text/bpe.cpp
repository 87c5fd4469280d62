#include "text/bpe.h"

#include <queue>

#include "text/byte_alphabet.h"
#include "util/error.h"

namespace hllm::text {

namespace {

int32_t find_token(const TokenIndex& index, std::string_view text) {
  const auto it = index.find(text);
  return it == index.end() ? -1 : it->second;
}

// One token of a word while merging, linked to its live neighbours.
struct Symbol {
  int32_t id;
  int32_t prev;  // index of the previous live symbol, or -1
  int32_t next;  // index of the next live symbol, or -1
};

// A merge that may apply to the symbol at left and its next neighbour.
struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t left_id;
  int32_t right_id;
  int32_t result;
};

// Orders the queue so that the lowest rank comes first and, among equal ranks, the leftmost pair.
struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.left > b.left;
  }
};

}  // namespace

BpeModel::BpeModel(const std::vector<std::string>& merges, const TokenIndex& index,
                   int32_t unknown_id, bool ignore_merges)
    : index_(index), ignore_merges_(ignore_merges) {
  for (int byte = 0; byte < 256; ++byte) {
    const int32_t id = find_token(index, byte_to_alphabet(static_cast<uint8_t>(byte)));
    byte_tokens_[byte] = id >= 0 ? id : unknown_id;
  }

  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& merge = merges[rank];
    // The split is at the first space after the first character, so that a left part that is
    // itself a space still parses.
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 >= merge.size()) {
      fail("tokenizer.ggml.merges[{}] is '{}'; expected two tokens separated by a space", rank,
           merge);
    }
    const std::string_view left = std::string_view(merge).substr(0, space);
    const std::string_view right = std::string_view(merge).substr(space + 1);
    joined.assign(left);
    joined.append(right);
    const int32_t left_id = find_token(index, left);
    const int32_t right_id = find_token(index, right);
    const int32_t result = find_token(index, joined);
    // NOTE: a merge whose parts or result are not tokens can never yield a token, so it is
    // dropped. Vocabularies cut from a larger one contain such merges only at their edges.
    if (left_id < 0 || right_id < 0 || result < 0) continue;
    // The first listing of a pair wins, as it has the lower rank.
    merges_.try_emplace(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), result});
  }
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const int32_t whole = find_token(index_, bytes_to_alphabet(word));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }

  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    const int32_t id = byte_tokens_[static_cast<uint8_t>(word[i])];
    if (id < 0) {
      fail("byte 0x{:02X} has no token in this vocabulary and there is no unknown token",
           static_cast<uint8_t>(word[i]));
    }
    const auto index = static_cast<int32_t>(i);
    symbols.push_back({id, index - 1, i + 1 < word.size() ? index + 1 : -1});
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> queue;
  const auto propose = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    const int32_t left_id = symbols[left].id;
    const int32_t right_id = symbols[symbols[left].next].id;
    if (const Merge* merge = find_merge(left_id, right_id)) {
      queue.push({merge->rank, left, left_id, right_id, merge->result});
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
    propose(i);

  while (!queue.empty()) {
    const Candidate candidate = queue.top();
    queue.pop();
    Symbol& left = symbols[candidate.left];
    // A merge may be stale: either side has merged since it was proposed. Merging always grows
    // a token, so a changed neighbourhood always shows as a changed id or a dead symbol.
    if (left.id != candidate.left_id || left.next < 0) continue;
    const Symbol& right = symbols[left.next];
    if (right.id != candidate.right_id) continue;

    left.id = candidate.result;
    const int32_t right_index = left.next;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = candidate.left;
    symbols[right_index].id = -1;  // dead: absorbed into its left neighbour

    propose(left.prev);
    propose(candidate.left);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next)
    out.push_back(symbols[i].id);
}

}  // namespace hllm::text
