// UTF-8 helpers shared by the tokenizers and the streaming decoder. Input text may contain invalid
// UTF-8; every function here accepts it and treats each invalid byte as one character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hllm::text {

// Returns the length of the sequence that a lead byte starts (1 to 4), or 0 for a continuation
// byte or a byte that never occurs in UTF-8 (0xF8 and above).
int utf8_sequence_length(uint8_t lead);

// Returns the byte length of the character at text[pos]: the whole sequence when it is valid
// UTF-8, otherwise 1, so that each invalid byte is a character of its own.
size_t utf8_char_length(std::string_view text, size_t pos);

// Returns how many leading bytes of text can be printed now. A trailing sequence that is cut short
// but could still be completed by more bytes is held back. Everything else counts as printable,
// invalid bytes included.
size_t utf8_complete_prefix(std::string_view text);

// Appends the UTF-8 encoding of a code point (at most U+10FFFF).
void append_utf8(std::string& out, uint32_t code_point);

}  // namespace hllm::text
