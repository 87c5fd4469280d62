#include "text/utf8.h"

namespace hllm::text {

namespace {

bool is_continuation(uint8_t byte) {
  return (byte & 0xC0) == 0x80;
}

// Checks the second byte of a sequence against the ranges that exclude overlong forms, surrogates
// and code points above U+10FFFF (RFC 3629, section 4).
bool second_byte_valid(uint8_t lead, uint8_t second) {
  switch (lead) {
    case 0xE0:
      return second >= 0xA0 && second <= 0xBF;
    case 0xED:
      return second >= 0x80 && second <= 0x9F;
    case 0xF0:
      return second >= 0x90 && second <= 0xBF;
    case 0xF4:
      return second >= 0x80 && second <= 0x8F;
    default:
      return is_continuation(second);
  }
}

}  // namespace

int utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation bytes and the overlong leads 0xC0, 0xC1
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

size_t utf8_char_length(std::string_view text, size_t pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  const int length = utf8_sequence_length(lead);
  if (length <= 1) return 1;
  if (pos + length > text.size()) return 1;
  if (!second_byte_valid(lead, static_cast<uint8_t>(text[pos + 1]))) return 1;
  for (int i = 2; i < length; ++i) {
    if (!is_continuation(static_cast<uint8_t>(text[pos + i]))) return 1;
  }
  return static_cast<size_t>(length);
}

size_t utf8_complete_prefix(std::string_view text) {
  // Only the last three bytes can belong to an unfinished sequence of at most four bytes.
  const size_t size = text.size();
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    const size_t start = size - back;
    const auto byte = static_cast<uint8_t>(text[start]);
    if (is_continuation(byte)) continue;
    const int length = utf8_sequence_length(byte);
    if (length <= static_cast<int>(back)) return size;  // complete, or not a lead byte
    if (back >= 2 && !second_byte_valid(byte, static_cast<uint8_t>(text[start + 1]))) return size;
    return start;
  }
  return size;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

}  // namespace hllm::text
