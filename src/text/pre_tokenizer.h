// Pre-tokenizers of byte-level BPE: the regular expressions that cut text into words before merges
// run, so that no merged token crosses a word boundary. Each vocabulary names its expression in
// the GGUF key tokenizer.ggml.pre; the expressions are matched with PCRE2 in UTF mode with Unicode
// properties (PCRE2_UCP), so \p{L}, \p{N} and \s follow Unicode categories.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;

namespace hllm::text {

class PreTokenizer {
 public:
  // Compiles the expression called name. Throws Error for a name that is not in known_names().
  explicit PreTokenizer(std::string_view name);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  static bool is_known(std::string_view name);
  static std::vector<std::string> known_names();

  const std::string& name() const { return name_; }

  // True when a word that is a token as a whole maps to that token without running merges, as
  // the Llama 3 tokenizer does.
  bool ignore_merges() const { return ignore_merges_; }

  // Cuts text into consecutive words that together cover every byte of text. Invalid UTF-8 is
  // accepted: bytes that no alternative matches become words of their own.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct CodeDeleter {
    void operator()(pcre2_real_code_8* code) const;
  };

  std::string name_;
  bool ignore_merges_ = false;
  std::unique_ptr<pcre2_real_code_8, CodeDeleter> code_;
};

}  // namespace hllm::text
