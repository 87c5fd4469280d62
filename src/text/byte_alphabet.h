// The byte alphabet of byte-level BPE (GPT-2 and its descendants): every byte value is shown as one
// printable Unicode character, so vocabularies and merges can be stored as text. Printable Latin-1
// bytes map to the code point of the same value. The other 68 bytes (controls, space, 0x7F-0xA0
// and the soft hyphen 0xAD) map in byte order to U+0100 onwards, so the space 0x20 is U+0120 'Ġ'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hllm::text {

// Whether byte is shown as the character of the same code point (the printable Latin-1 bytes).
bool byte_maps_to_itself(uint8_t byte);

// Returns the UTF-8 encoding of the alphabet character that stands for byte.
const std::string& byte_to_alphabet(uint8_t byte);

// Maps raw bytes to alphabet text, one character per byte.
std::string bytes_to_alphabet(std::string_view bytes);

// Maps alphabet text back to raw bytes. A character outside the alphabet is copied unchanged,
// because added tokens may hold plain text.
std::string alphabet_to_bytes(std::string_view text);

}  // namespace hllm::text
