// Incremental detokenization for generated text: bytes are released only once they form whole
// UTF-8 characters, so a character split across tokens is never printed in halves.
#pragma once

#include <cstdint>
#include <string>

namespace hllm {

class Tokenizer;

class StreamDecoder {
 public:
  // The tokenizer must outlive the decoder. Control tokens are rendered only with render_special.
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false);

  // Adds one token and returns the text that is now complete, possibly empty.
  std::string push(int32_t token);

  // Returns whatever is still held back (an unfinished character at the end of the stream) and
  // resets the decoder.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  std::string pending_;  // bytes of an unfinished UTF-8 character, at most 3
};

}  // namespace hllm
