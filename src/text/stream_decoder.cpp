#include "text/stream_decoder.h"

#include "text/tokenizer.h"
#include "text/utf8.h"

namespace hllm {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(tokenizer), render_special_(render_special) {}

std::string StreamDecoder::push(int32_t token) {
  pending_ += tokenizer_.token_piece(token, render_special_);
  const size_t ready = text::utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, ready);
  pending_.erase(0, ready);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace hllm
