#include "text/tokenizer.h"

#include <algorithm>

#include "formats/gguf.h"
#include "text/bpe.h"
#include "text/byte_alphabet.h"
#include "text/pre_tokenizer.h"
#include "text/spm.h"
#include "util/error.h"

namespace hllm {

namespace {

// SentencePiece writes spaces as U+2581 LOWER ONE EIGHTH BLOCK.
constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";

// Texts of control tokens that end a turn in the chat formats of common model families.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|endoftext|>", "<|im_end|>",      "<|eot_id|>", "<|eom_id|>", "<|end|>",
    "<end_of_turn>", "<|end_of_text|>", "<EOT>",      "<|return|>", "<|call|>",
};

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(from, pos);
    if (found == std::string_view::npos) break;
    out.append(text.substr(pos, found - pos));
    out.append(to);
    pos = found + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

// Parses "<0xXX>" into its byte value, or returns -1.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value |= c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      value |= c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file,
                                                const TokenizerOptions& options) {
  try {
    return from_vocabulary(read_vocabulary(file), options);
  } catch (const Error& e) {
    // Messages from the vocabulary builder do not know the file; add it unless already there.
    const std::string message = e.what();
    if (message.find(file.path()) != std::string::npos) throw;
    fail("{}: {}", file.path(), message);
  }
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocabulary(Vocabulary vocabulary,
                                                      const TokenizerOptions& options) {
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(vocabulary), options));
}

Tokenizer::Tokenizer(Vocabulary vocabulary, const TokenizerOptions& options)
    : vocabulary_(std::move(vocabulary)) {
  Vocabulary& v = vocabulary_;
  const size_t n_tokens = v.tokens.size();
  if (n_tokens == 0) fail("vocabulary has no tokens");
  if (v.types.empty()) v.types.assign(n_tokens, TokenType::NORMAL);
  if (v.types.size() != n_tokens) {
    fail("vocabulary has {} token types for {} tokens", v.types.size(), n_tokens);
  }
  if (!v.scores.empty() && v.scores.size() != n_tokens) {
    fail("vocabulary has {} scores for {} tokens", v.scores.size(), n_tokens);
  }
  for (const int32_t id : {v.bos, v.eos, v.eot, v.eom, v.unknown, v.padding}) {
    if (id < -1 || id >= static_cast<int32_t>(n_tokens)) {
      fail("special token id {} is outside the vocabulary of {} tokens", id, n_tokens);
    }
  }

  const bool sentence_piece = v.kind == VocabularyKind::SENTENCE_PIECE;
  add_bos_ = v.add_bos.value_or(sentence_piece);
  add_eos_ = v.add_eos.value_or(false);
  add_space_prefix_ = sentence_piece && v.add_space_prefix.value_or(true);
  if (add_bos_ && v.bos < 0) fail("vocabulary asks for a BOS token but names none");
  if (add_eos_ && v.eos < 0) fail("vocabulary asks for an EOS token but names none");

  index_.reserve(n_tokens);
  plain_index_.reserve(n_tokens);
  for (size_t id = 0; id < n_tokens; ++id) {
    const std::string_view text = v.tokens[id];
    const TokenType type = v.types[id];
    index_.try_emplace(text, static_cast<int32_t>(id));
    const bool plain = type == TokenType::NORMAL || type == TokenType::UNDEFINED ||
                       (!sentence_piece && type == TokenType::BYTE);
    if (plain) plain_index_.try_emplace(text, static_cast<int32_t>(id));
  }

  if (sentence_piece) {
    build_sentence_piece();
  } else {
    build_byte_level_bpe(options);
  }
  build_special_tokens();
}

Tokenizer::~Tokenizer() = default;

void Tokenizer::build_byte_level_bpe(const TokenizerOptions& options) {
  std::string pre = vocabulary_.pre;
  if (!text::PreTokenizer::is_known(pre)) {
    if (options.pre_fallback.empty()) {
      const std::string described = pre.empty() ? "(missing)" : "'" + pre + "'";
      std::string known;
      for (const auto& name : text::PreTokenizer::known_names()) {
        if (!known.empty()) known += ", ";
        known += name;
      }
      fail("tokenizer.ggml.pre {} is not a supported pre-tokenizer; choose a fallback from: {}",
           described, known);
    }
    pre = options.pre_fallback;
  }
  pre_tokenizer_ = std::make_unique<text::PreTokenizer>(pre);
  bpe_ = std::make_unique<text::BpeModel>(vocabulary_.merges, plain_index_, vocabulary_.unknown,
                                          pre_tokenizer_->ignore_merges());

  pieces_.resize(vocabulary_.tokens.size());
  for (size_t id = 0; id < pieces_.size(); ++id) {
    const std::string& text = vocabulary_.tokens[id];
    const TokenType type = vocabulary_.types[id];
    // Added tokens hold plain text, the rest are spelled in the byte alphabet.
    const bool added =
        type == TokenType::CONTROL || type == TokenType::USER_DEFINED || type == TokenType::UNKNOWN;
    pieces_[id] = added ? text : text::alphabet_to_bytes(text);
  }
}

void Tokenizer::build_sentence_piece() {
  Vocabulary& v = vocabulary_;
  if (v.scores.empty()) v.scores.assign(v.tokens.size(), 0.0f);

  std::array<int32_t, 256> byte_tokens;
  byte_tokens.fill(-1);
  pieces_.resize(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string& text = v.tokens[id];
    const int byte = parse_byte_token(text);
    if (v.types[id] == TokenType::BYTE && byte >= 0) {
      pieces_[id] = std::string(1, static_cast<char>(byte));
      if (byte_tokens[byte] < 0) byte_tokens[byte] = static_cast<int32_t>(id);
    } else if (v.types[id] == TokenType::CONTROL || v.types[id] == TokenType::UNKNOWN) {
      pieces_[id] = text;
    } else {
      pieces_[id] = replace_all(text, kSpaceMarker, " ");
    }
  }
  // A vocabulary without byte tokens falls back to single-character tokens, then to unknown.
  for (int byte = 0; byte < 256; ++byte) {
    if (byte_tokens[byte] >= 0) continue;
    const auto it = plain_index_.find(std::string(1, static_cast<char>(byte)));
    byte_tokens[byte] = it != plain_index_.end() ? it->second : v.unknown;
  }
  spm_ = std::make_unique<text::SpmModel>(plain_index_, v.scores, byte_tokens);
}

void Tokenizer::build_special_tokens() {
  const Vocabulary& v = vocabulary_;
  end_of_generation_.assign(v.tokens.size(), false);
  for (const int32_t id : {v.eos, v.eot, v.eom}) {
    if (id >= 0) end_of_generation_[id] = true;
  }
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const TokenType type = v.types[id];
    if (type == TokenType::CONTROL) {
      const auto& texts = kEndOfTurnTexts;
      if (std::find(std::begin(texts), std::end(texts), v.tokens[id]) != std::end(texts)) {
        end_of_generation_[id] = true;
      }
    }
    const bool special =
        type == TokenType::CONTROL || type == TokenType::USER_DEFINED || type == TokenType::UNKNOWN;
    if (special && !v.tokens[id].empty()) special_tokens_.push_back(static_cast<int32_t>(id));
  }
  // Longer texts first, so that a special token containing another one wins.
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });
}

const std::string& Tokenizer::pre_tokenizer() const {
  static const std::string kNone;
  return pre_tokenizer_ ? pre_tokenizer_->name() : kNone;
}

void Tokenizer::check_token(int32_t token) const {
  if (token < 0 || token >= n_vocab()) {
    fail("token id {} is outside the vocabulary of {} tokens", token, n_vocab());
  }
}

const std::string& Tokenizer::token_text(int32_t token) const {
  check_token(token);
  return vocabulary_.tokens[token];
}

TokenType Tokenizer::token_type(int32_t token) const {
  check_token(token);
  return vocabulary_.types[token];
}

int32_t Tokenizer::find_token(std::string_view text) const {
  const auto it = index_.find(text);
  return it == index_.end() ? -1 : it->second;
}

bool Tokenizer::is_end_of_generation(int32_t token) const {
  return token >= 0 && token < n_vocab() && end_of_generation_[token];
}

std::string Tokenizer::token_piece(int32_t token, bool render_special) const {
  check_token(token);
  if (!render_special && vocabulary_.types[token] == TokenType::CONTROL) return {};
  return pieces_[token];
}

std::vector<Tokenizer::Fragment> Tokenizer::split_special(std::string_view text) const {
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({text, -1});
  std::vector<Fragment> next;
  for (const int32_t id : special_tokens_) {
    const std::string_view special = vocabulary_.tokens[id];
    next.clear();
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      size_t pos = 0;
      while (true) {
        const size_t found = fragment.text.find(special, pos);
        if (found == std::string_view::npos) break;
        if (found > pos) next.push_back({fragment.text.substr(pos, found - pos), -1});
        next.push_back({special, id});
        pos = found + special.size();
      }
      if (pos < fragment.text.size()) next.push_back({fragment.text.substr(pos), -1});
    }
    fragments.swap(next);
  }
  return fragments;
}

void Tokenizer::encode_plain(std::string_view text, bool after_special,
                             std::vector<int32_t>& out) const {
  if (spm_) {
    // SentencePiece puts a space before the input and before each stretch that follows a
    // special token, then spells every space as U+2581.
    std::string prefixed;
    if (add_space_prefix_ && after_special) prefixed = " ";
    prefixed.append(text);
    spm_->encode(replace_all(prefixed, " ", kSpaceMarker), out);
    return;
  }
  for (const std::string_view word : pre_tokenizer_->split(text))
    bpe_->encode_word(word, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_) out.push_back(vocabulary_.bos);

  std::vector<Fragment> fragments;
  if (parse_special) {
    fragments = split_special(text);
  } else if (!text.empty()) {
    fragments.push_back({text, -1});
  }
  bool after_special = true;  // the start of the input counts as following a special token
  for (const Fragment& fragment : fragments) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      after_special = true;
    } else if (!fragment.text.empty()) {
      encode_plain(fragment.text, after_special, out);
      after_special = false;
    }
  }

  if (add_special && add_eos_) out.push_back(vocabulary_.eos);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> tokens, bool render_special) const {
  std::string out;
  bool strip_space = add_space_prefix_;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t token = tokens[i];
    std::string piece = token_piece(token, render_special);
    if (i == 0 && token == vocabulary_.bos) {
      out += piece;
      continue;
    }
    if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_space = false;
    out += piece;
  }
  return out;
}

}  // namespace hllm
