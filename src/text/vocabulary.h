// The tokenizer description stored in a GGUF file's tokenizer.ggml.* metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hllm {

class GgufFile;

// Token types of tokenizer.ggml.token_type, with the values the GGUF format assigns.
enum class TokenType : int32_t {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
};

enum class VocabularyKind {
  BYTE_LEVEL_BPE,  // tokenizer.ggml.model = "gpt2"
  SENTENCE_PIECE,  // tokenizer.ggml.model = "llama"
};

struct Vocabulary {
  VocabularyKind kind = VocabularyKind::BYTE_LEVEL_BPE;
  std::vector<std::string> tokens;  // token text; byte-level BPE tokens are in the byte alphabet
  std::vector<float> scores;        // SentencePiece merge priority per token; may be empty
  std::vector<TokenType> types;     // one per token; empty means all NORMAL
  std::vector<std::string> merges;  // byte-level BPE only: "LEFT RIGHT", lowest rank first
  // Pre-tokenizer name (tokenizer.ggml.pre) of byte-level BPE, empty when the file has none.
  std::string pre;

  // Special token ids, -1 where the file names none.
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t eot = -1;  // end of turn
  int32_t eom = -1;  // end of message (tool calls)
  int32_t unknown = -1;
  int32_t padding = -1;

  // Unset flags take the model's default. add_bos is true for SentencePiece and false for
  // byte-level BPE, add_eos is false, and add_space_prefix is true for SentencePiece.
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;
};

// Reads the tokenizer.ggml.* keys of a GGUF file. Throws Error for a missing or malformed key,
// naming it. Special token ids outside the vocabulary are ignored with a warning, because
// converters write 0xFFFFFFFF or stale ids for tokens a model lacks.
Vocabulary read_vocabulary(const GgufFile& file);

}  // namespace hllm
