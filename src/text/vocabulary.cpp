#include "text/vocabulary.h"

#include "formats/gguf.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm {

namespace {

VocabularyKind parse_kind(const GgufFile& file) {
  const std::string model = file.get_string("tokenizer.ggml.model");
  if (model == "gpt2") return VocabularyKind::BYTE_LEVEL_BPE;
  if (model == "llama") return VocabularyKind::SENTENCE_PIECE;
  fail(
      "{}: tokenizer.ggml.model is '{}'; supported models are 'gpt2' (byte-level BPE) and "
      "'llama' (SentencePiece)",
      file.path(), model);
}

std::vector<TokenType> read_types(const GgufFile& file, size_t n_tokens) {
  std::vector<TokenType> types;
  if (file.find("tokenizer.ggml.token_type") == nullptr) return types;
  const std::vector<int64_t> values = file.get_int_array("tokenizer.ggml.token_type");
  if (values.size() != n_tokens) {
    fail("{}: tokenizer.ggml.token_type has {} entries; expected one per token ({})", file.path(),
         values.size(), n_tokens);
  }
  types.reserve(n_tokens);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] > static_cast<int64_t>(TokenType::BYTE)) {
      fail("{}: tokenizer.ggml.token_type[{}] is {}; expected a type from 0 to 6", file.path(), i,
           values[i]);
    }
    types.push_back(static_cast<TokenType>(values[i]));
  }
  return types;
}

std::vector<float> read_scores(const GgufFile& file, size_t n_tokens) {
  std::vector<float> scores;
  if (file.find("tokenizer.ggml.scores") == nullptr) return scores;
  const std::vector<double> values = file.get_float_array("tokenizer.ggml.scores");
  if (values.size() != n_tokens) {
    fail("{}: tokenizer.ggml.scores has {} entries; expected one per token ({})", file.path(),
         values.size(), n_tokens);
  }
  scores.assign(values.begin(), values.end());
  return scores;
}

int32_t read_token_id(const GgufFile& file, const char* key, size_t n_tokens) {
  const std::optional<int64_t> value = file.find_int(key);
  if (!value) return -1;
  // 0xFFFFFFFF is how converters write "no such token" in an unsigned field.
  if (*value == -1 || *value == 0xFFFFFFFFLL) return -1;
  if (*value < 0 || *value >= static_cast<int64_t>(n_tokens)) {
    log::warn("{}: {} is {}, outside the vocabulary of {} tokens, so it is ignored", file.path(),
              key, *value, n_tokens);
    return -1;
  }
  return static_cast<int32_t>(*value);
}

}  // namespace

Vocabulary read_vocabulary(const GgufFile& file) {
  Vocabulary vocabulary;
  vocabulary.kind = parse_kind(file);
  vocabulary.tokens = file.get_string_array("tokenizer.ggml.tokens");
  const size_t n_tokens = vocabulary.tokens.size();
  if (n_tokens == 0) fail("{}: tokenizer.ggml.tokens is empty", file.path());
  if (n_tokens > static_cast<size_t>(INT32_MAX)) {
    fail("{}: tokenizer.ggml.tokens has {} entries; at most {} are supported", file.path(),
         n_tokens, INT32_MAX);
  }
  vocabulary.types = read_types(file, n_tokens);
  vocabulary.scores = read_scores(file, n_tokens);

  if (vocabulary.kind == VocabularyKind::BYTE_LEVEL_BPE) {
    if (file.find("tokenizer.ggml.merges") == nullptr) {
      fail("{}: tokenizer.ggml.merges is missing; byte-level BPE needs its merges", file.path());
    }
    vocabulary.merges = file.get_string_array("tokenizer.ggml.merges");
    vocabulary.pre = file.find_string("tokenizer.ggml.pre").value_or("");
  }

  vocabulary.bos = read_token_id(file, "tokenizer.ggml.bos_token_id", n_tokens);
  vocabulary.eos = read_token_id(file, "tokenizer.ggml.eos_token_id", n_tokens);
  vocabulary.eot = read_token_id(file, "tokenizer.ggml.eot_token_id", n_tokens);
  vocabulary.eom = read_token_id(file, "tokenizer.ggml.eom_token_id", n_tokens);
  vocabulary.unknown = read_token_id(file, "tokenizer.ggml.unknown_token_id", n_tokens);
  vocabulary.padding = read_token_id(file, "tokenizer.ggml.padding_token_id", n_tokens);

  vocabulary.add_bos = file.find_bool("tokenizer.ggml.add_bos_token");
  vocabulary.add_eos = file.find_bool("tokenizer.ggml.add_eos_token");
  vocabulary.add_space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix");
  return vocabulary;
}

}  // namespace hllm
