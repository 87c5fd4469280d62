#include "text/byte_alphabet.h"

#include <array>

#include "text/utf8.h"

namespace hllm::text {

namespace {

struct Alphabet {
  std::array<std::string, 256> encoded;
  // Code points U+0000..U+01FF cover the whole alphabet; -1 marks characters outside it.
  std::array<int16_t, 0x200> decoded;

  Alphabet() {
    decoded.fill(-1);
    uint32_t next_code_point = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const bool itself = byte_maps_to_itself(static_cast<uint8_t>(byte));
      const uint32_t code_point = itself ? byte : next_code_point++;
      append_utf8(encoded[byte], code_point);
      decoded[code_point] = static_cast<int16_t>(byte);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

bool byte_maps_to_itself(uint8_t byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
}

const std::string& byte_to_alphabet(uint8_t byte) {
  return alphabet().encoded[byte];
}

std::string bytes_to_alphabet(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes)
    out += byte_to_alphabet(static_cast<uint8_t>(c));
  return out;
}

std::string alphabet_to_bytes(std::string_view text) {
  const Alphabet& table = alphabet();
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t length = utf8_char_length(text, pos);
    const auto lead = static_cast<uint8_t>(text[pos]);
    uint32_t code_point = 0x200;  // outside the alphabet unless decoded below
    if (length == 1 && lead < 0x80) {
      code_point = lead;
    } else if (length == 2) {
      code_point = ((lead & 0x1Fu) << 6) | (static_cast<uint8_t>(text[pos + 1]) & 0x3Fu);
    }
    if (code_point < table.decoded.size() && table.decoded[code_point] >= 0) {
      out += static_cast<char>(table.decoded[code_point]);
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

}  // namespace hllm::text
