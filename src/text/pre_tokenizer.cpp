#include "text/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>

#include "text/utf8.h"
#include "util/error.h"

namespace hllm::text {

namespace {

struct PatternInfo {
  std::string_view name;
  std::string_view pattern;
  bool ignore_merges;
};

// The split expressions of each model family's own tokenizer.
// GPT-2: contractions, then letters, digits and other symbols each with an optional leading space.
constexpr std::string_view kGpt2Pattern =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";

// Llama 3: case-insensitive contractions, a letter run with at most one leading non-letter,
// digits in groups of up to three, and newlines kept apart from other whitespace.
constexpr std::string_view kLlama3Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3})re"
    R"re(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// Qwen2 (also Qwen3 and Qwen3-Next): as Llama 3, but every digit is a word of its own.
constexpr std::string_view kQwen2Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N})re"
    R"re(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

constexpr std::array kPatterns = {
    PatternInfo{"gpt-2", kGpt2Pattern, false},
    PatternInfo{"llama-bpe", kLlama3Pattern, true},
    PatternInfo{"qwen2", kQwen2Pattern, false},
};

const PatternInfo* find_pattern(std::string_view name) {
  for (const auto& info : kPatterns) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  pcre2_get_error_message(code, buffer.data(), buffer.size());
  return reinterpret_cast<const char*>(buffer.data());
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

}  // namespace

void PreTokenizer::CodeDeleter::operator()(pcre2_real_code_8* code) const {
  pcre2_code_free(code);
}

bool PreTokenizer::is_known(std::string_view name) {
  return find_pattern(name) != nullptr;
}

std::vector<std::string> PreTokenizer::known_names() {
  std::vector<std::string> names;
  for (const auto& info : kPatterns)
    names.emplace_back(info.name);
  return names;
}

PreTokenizer::PreTokenizer(std::string_view name) : name_(name) {
  const PatternInfo* info = find_pattern(name);
  if (info == nullptr) {
    std::string known;
    for (const auto& each : kPatterns) {
      if (!known.empty()) known += ", ";
      known += each.name;
    }
    fail("pre-tokenizer '{}' is not supported; known pre-tokenizers: {}", name, known);
  }
  ignore_merges_ = info->ignore_merges;

  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(info->pattern.data()), info->pattern.size(),
                    options, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    fail("pre-tokenizer '{}': regular expression failed to compile at offset {}: {}", name,
         error_offset, pcre2_message(error_code));
  }
  code_.reset(code);
  // JIT compilation is an optimisation only: where it is unavailable the interpreter matches the
  // same way, so its result is deliberately ignored.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> words;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match_data(
      pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  if (!match_data) fail("pre-tokenizer '{}': out of memory for match data", name_);

  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    const int result =
        pcre2_match(code_.get(), subject, text.size(), pos, 0, match_data.get(), nullptr);
    if (result == PCRE2_ERROR_NOMATCH) {
      words.push_back(text.substr(pos));
      break;
    }
    if (result < 0) {
      fail("pre-tokenizer '{}': matching failed at byte {}: {}", name_, pos, pcre2_message(result));
    }
    const PCRE2_SIZE* offsets = pcre2_get_ovector_pointer(match_data.get());
    const size_t start = offsets[0];
    size_t end = offsets[1];
    // Bytes skipped by the match are invalid UTF-8 that no alternative accepts.
    if (start > pos) words.push_back(text.substr(pos, start - pos));
    // None of the expressions matches the empty string, so this guard only keeps the loop finite.
    if (end == start) end = start + utf8_char_length(text, start);
    words.push_back(text.substr(start, end - start));
    pos = end;
  }
  return words;
}

}  // namespace hllm::text
