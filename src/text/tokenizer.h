// Tokenizers built from a GGUF file's vocabulary: byte-level BPE (tokenizer.ggml.model = gpt2)
// and SentencePiece (llama). Text is UTF-8 bytes; encoding then decoding returns the same bytes,
// invalid UTF-8 included. The exception is SentencePiece text containing U+2581, the character
// that SentencePiece uses for a space: it decodes as a space.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/vocabulary.h"

namespace hllm {

namespace text {
class BpeModel;
class PreTokenizer;
class SpmModel;
}  // namespace text

struct TokenizerOptions {
  // Pre-tokenizer to use when tokenizer.ggml.pre is missing or names one this build does not
  // support. Empty means such a vocabulary is rejected with an Error.
  std::string pre_fallback;
};

class Tokenizer {
 public:
  // Reads the tokenizer.ggml.* metadata. Throws Error for a missing or malformed key and for an
  // unsupported model or pre-tokenizer.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file,
                                              const TokenizerOptions& options = {});
  static std::unique_ptr<Tokenizer> from_vocabulary(Vocabulary vocabulary,
                                                    const TokenizerOptions& options = {});

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Tokenizes text. With add_special, the BOS and EOS tokens are added where the vocabulary's
  // metadata requests them (add_bos(), add_eos()). With parse_special, the text of control,
  // user-defined and unknown tokens (such as <|im_start|> or <think>) becomes those tokens; without
  // it they are tokenized as plain text like any other.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Joins the pieces of tokens. Control tokens are left out unless render_special. For
  // SentencePiece vocabularies that add a space prefix, one leading space is removed from the
  // first token after an optional leading BOS, which undoes the space that encode() added.
  std::string decode(std::span<const int32_t> tokens, bool render_special = false) const;

  // Returns the bytes that one token stands for: byte-alphabet text mapped back to bytes, U+2581
  // turned back into spaces, <0xXX> as its byte. A control token gives its text when
  // render_special is set and nothing otherwise. Throws Error for an id outside the vocabulary.
  std::string token_piece(int32_t token, bool render_special = true) const;

  // Returns the token's text as stored in the vocabulary.
  const std::string& token_text(int32_t token) const;
  TokenType token_type(int32_t token) const;
  // Returns the id of the token whose text is exactly text, or -1.
  int32_t find_token(std::string_view text) const;

  // True for tokens that end a generation: EOS, EOT, EOM, and control tokens whose text is a
  // known end-of-turn marker such as <|im_end|>, <|endoftext|> or <|eot_id|>.
  bool is_end_of_generation(int32_t token) const;

  int32_t bos() const { return vocabulary_.bos; }
  int32_t eos() const { return vocabulary_.eos; }
  int32_t eot() const { return vocabulary_.eot; }
  int32_t unknown() const { return vocabulary_.unknown; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  int n_vocab() const { return static_cast<int>(vocabulary_.tokens.size()); }
  VocabularyKind kind() const { return vocabulary_.kind; }
  // Name of the pre-tokenizer in use (byte-level BPE), empty for SentencePiece.
  const std::string& pre_tokenizer() const;

 private:
  Tokenizer(Vocabulary vocabulary, const TokenizerOptions& options);

  void check_token(int32_t token) const;
  void build_byte_level_bpe(const TokenizerOptions& options);
  void build_sentence_piece();
  void build_special_tokens();
  void encode_plain(std::string_view text, bool after_special, std::vector<int32_t>& out) const;

  // A stretch of input: either plain text or one special token found in it.
  struct Fragment {
    std::string_view text;
    int32_t token = -1;
  };
  std::vector<Fragment> split_special(std::string_view text) const;

  Vocabulary vocabulary_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  std::vector<std::string> pieces_;      // token_piece() of every token with render_special set
  std::vector<bool> end_of_generation_;  // per token id
  std::vector<int32_t> special_tokens_;  // ids matched by parse_special, longest text first
  std::unordered_map<std::string_view, int32_t> index_;  // text -> id, every token
  // text -> id of the tokens that plain text may produce: normal tokens, and byte tokens of
  // byte-level BPE. Special tokens only come from parse_special.
  std::unordered_map<std::string_view, int32_t> plain_index_;
  std::unique_ptr<text::PreTokenizer> pre_tokenizer_;
  std::unique_ptr<text::BpeModel> bpe_;
  std::unique_ptr<text::SpmModel> spm_;
};

}  // namespace hllm
