// Splits template source into text and tag tokens, applying Jinja2's whitespace control with
// trim_blocks and lstrip_blocks on, as Hugging Face renders chat templates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace hllm::jinja {

// A place in the template source, both counted from 1. Columns count bytes.
struct Position {
  int line = 1;
  int column = 1;
};

enum class TokenType {
  kText,           // literal output
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,   // text is the unescaped value
  kInteger,  // text is the digits without '_' separators
  kFloat,
  kOperator,
  kEnd,  // end of the source
};

struct Token {
  TokenType type;
  std::string text;
  Position position;
};

// An Error that already names its place in the template, so callers add no second position.
class TemplateError : public Error {
 public:
  using Error::Error;
};

// Throws a TemplateError formatted as "NAME:LINE:COLUMN: MESSAGE".
[[noreturn]] void fail_at(const std::string& template_name, Position position,
                          const std::string& message);

// Python's str.isspace() for one ASCII byte.
bool is_space(char c);

// Normalizes newlines to "\n", drops one trailing newline (keep_trailing_newline is off), drops
// comments, turns raw blocks into text and tokenizes the contents of every tag. Throws an Error
// with the position for an unterminated tag, comment or string and for unknown characters.
std::vector<Token> tokenize(std::string_view source, const std::string& template_name);

}  // namespace hllm::jinja
