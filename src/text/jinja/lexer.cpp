#include "text/jinja/lexer.h"

#include <algorithm>

#include "util/error.h"

namespace hllm::jinja {

void fail_at(const std::string& template_name, Position position, const std::string& message) {
  throw TemplateError(
      fmt::format("{}:{}:{}: {}", template_name, position.line, position.column, message));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
         (c >= '\x1c' && c <= '\x1f');
}

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// Replaces "\r\n" and "\r" with "\n", as Jinja2 does before lexing, and drops one trailing
// newline because keep_trailing_newline is off.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const std::string& name) : source_(std::move(source)), name_(name) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < source_.size(); ++i) {
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < source_.size()) {
      const size_t start = find_tag_start(pos);
      if (start == std::string::npos) {
        add_text(source_.substr(pos), pos);
        break;
      }
      std::string text = source_.substr(pos, start - pos);
      const char kind = source_[start + 1];
      const char sign = sign_at(start + 2);
      strip_before_tag(text, kind, sign);
      add_text(std::move(text), pos);

      const size_t after_open = start + 2 + (sign != 0 ? 1 : 0);
      size_t raw_body = 0;
      if (kind == '#') {
        pos = skip_comment(start, after_open);
      } else if (kind == '%' && match_raw_begin(after_open, raw_body)) {
        pos = read_raw(start, raw_body);
      } else {
        pos = read_tag(start, after_open, kind);
      }
    }
    tokens_.push_back({TokenType::kEnd, "", position_at(source_.size())});
    return std::move(tokens_);
  }

 private:
  Position position_at(size_t offset) const {
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(next - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void error(size_t offset, const std::string& message) const {
    fail_at(name_, position_at(offset), message);
  }

  char sign_at(size_t offset) const {
    if (offset < source_.size() && (source_[offset] == '-' || source_[offset] == '+')) {
      return source_[offset];
    }
    return 0;
  }

  bool starts_with_at(size_t offset, std::string_view text) const {
    return source_.compare(offset, text.size(), text) == 0;
  }

  size_t skip_spaces(size_t offset) const {
    while (offset < source_.size() && is_space(source_[offset]))
      ++offset;
    return offset;
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = source_.find('{', from); i != std::string::npos; i = source_.find('{', i + 1)) {
      if (i + 1 < source_.size()) {
        const char next = source_[i + 1];
        if (next == '{' || next == '%' || next == '#') return i;
      }
    }
    return std::string::npos;
  }

  void add_text(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back({TokenType::kText, std::move(text), position_at(offset)});
  }

  // Whitespace control in front of a tag. A "-" strips all whitespace before it. Otherwise
  // lstrip_blocks removes the spaces and tabs between the start of the line and a block or
  // comment tag, unless the tag starts with "+".
  void strip_before_tag(std::string& text, char kind, char sign) const {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0 && is_space(text[end - 1]))
        --end;
      text.resize(end);
      return;
    }
    if (sign == '+' || kind == '{') return;
    const size_t line_start = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    if (line_start == 0 && !line_starting_) return;
    if (line_start == text.size()) return;
    for (size_t i = line_start; i < text.size(); ++i) {
      if (!is_space(text[i])) return;
    }
    text.resize(line_start);
  }

  size_t skip_comment(size_t start, size_t from) {
    for (size_t i = from; i + 1 < source_.size(); ++i) {
      if ((source_[i] == '-' || source_[i] == '+') && starts_with_at(i + 1, "#}")) {
        return finish_tag(i + 3, source_[i]);
      }
      if (starts_with_at(i, "#}")) return finish_tag(i + 2, 0);
    }
    error(start, "missing end of comment tag '#}'");
  }

  // Applies the whitespace control after a closing "%}" or "#}" that ends just before offset.
  size_t finish_tag(size_t offset, char sign) {
    if (sign == '-') {
      offset = skip_spaces(offset);
    } else if (sign == 0 && offset < source_.size() && source_[offset] == '\n') {
      ++offset;  // trim_blocks
    }
    line_starting_ = offset > 0 && source_[offset - 1] == '\n';
    return offset;
  }

  // Matches "raw" followed by the end of the block tag, and sets body to the offset after it.
  bool match_raw_begin(size_t offset, size_t& body) {
    offset = skip_spaces(offset);
    if (!starts_with_at(offset, "raw")) return false;
    offset = skip_spaces(offset + 3);
    if (starts_with_at(offset, "-%}")) {
      body = skip_spaces(offset + 3);
    } else if (starts_with_at(offset, "%}")) {
      body = offset + 2;  // Jinja2 applies no trim_blocks after "raw"
    } else {
      return false;
    }
    line_starting_ = body > 0 && source_[body - 1] == '\n';
    return true;
  }

  size_t read_raw(size_t start, size_t body) {
    for (size_t i = source_.find("{%", body); i != std::string::npos;
         i = source_.find("{%", i + 1)) {
      const char sign = sign_at(i + 2);
      size_t offset = skip_spaces(i + 2 + (sign != 0 ? 1 : 0));
      if (!starts_with_at(offset, "endraw")) continue;
      offset = skip_spaces(offset + 6);
      char end_sign = sign_at(offset);
      if (!starts_with_at(offset + (end_sign != 0 ? 1 : 0), "%}")) continue;
      std::string text = source_.substr(body, i - body);
      strip_before_tag(text, '%', sign);
      add_text(std::move(text), body);
      return finish_tag(offset + (end_sign != 0 ? 3 : 2), end_sign);
    }
    error(start, "missing end of raw block '{% endraw %}'");
  }

  size_t read_tag(size_t start, size_t pos, char kind) {
    const bool block = kind == '%';
    tokens_.push_back({block ? TokenType::kBlockBegin : TokenType::kVariableBegin,
                       block ? "{%" : "{{", position_at(start)});
    std::vector<char> brackets;
    while (true) {
      pos = skip_spaces(pos);
      if (pos >= source_.size()) {
        error(start, block ? "missing end of block tag '%}'" : "missing end of variable tag '}}'");
      }
      if (brackets.empty()) {
        const char sign = sign_at(pos);
        const size_t after_sign = pos + (sign != 0 ? 1 : 0);
        const bool closes = block ? starts_with_at(after_sign, "%}")
                                  : sign != '+' && starts_with_at(after_sign, "}}");
        if (closes) {
          tokens_.push_back({block ? TokenType::kBlockEnd : TokenType::kVariableEnd,
                             block ? "%}" : "}}", position_at(pos)});
          if (block) return finish_tag(after_sign + 2, sign);
          size_t end = after_sign + 2;
          if (sign == '-') end = skip_spaces(end);
          line_starting_ = source_[end - 1] == '\n';
          return end;
        }
      }
      pos = read_token(pos, brackets);
    }
  }

  size_t read_token(size_t pos, std::vector<char>& brackets) {
    const char c = source_[pos];
    if (is_name_start(c)) {
      size_t end = pos;
      while (end < source_.size() && is_name_char(source_[end]))
        ++end;
      tokens_.push_back({TokenType::kName, source_.substr(pos, end - pos), position_at(pos)});
      return end;
    }
    if (is_digit(c)) return read_number(pos);
    if (c == '\'' || c == '"') return read_string(pos);

    static constexpr std::string_view kLongOperators[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kLongOperators) {
      if (starts_with_at(pos, op)) {
        tokens_.push_back({TokenType::kOperator, std::string(op), position_at(pos)});
        return pos + op.size();
      }
    }
    if (std::string_view("+-/*%~()[]{},.:|=<>;").find(c) == std::string_view::npos) {
      error(pos, fmt::format("unexpected character '{}' in tag", c));
    }
    if (c == '(') brackets.push_back(')');
    if (c == '[') brackets.push_back(']');
    if (c == '{') brackets.push_back('}');
    if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) error(pos, fmt::format("unexpected '{}'", c));
      if (brackets.back() != c)
        error(pos, fmt::format("unexpected '{}', expected '{}'", c, brackets.back()));
      brackets.pop_back();
    }
    tokens_.push_back({TokenType::kOperator, std::string(1, c), position_at(pos)});
    return pos + 1;
  }

  // Digits with optional '_' separators, as Python and Jinja2 allow.
  size_t read_digits(size_t pos, std::string& digits) const {
    while (pos < source_.size() && is_digit(source_[pos])) {
      digits += source_[pos++];
      if (pos + 1 < source_.size() && source_[pos] == '_' && is_digit(source_[pos + 1])) ++pos;
    }
    return pos;
  }

  size_t read_number(size_t start) {
    std::string digits;
    size_t pos = read_digits(start, digits);
    bool is_float = false;
    // "x.0.1" is attribute access, so a fraction needs no '.' right before the number.
    const bool after_dot = start > 0 && source_[start - 1] == '.';
    if (!after_dot && pos + 1 < source_.size() && source_[pos] == '.' &&
        is_digit(source_[pos + 1])) {
      digits += '.';
      pos = read_digits(pos + 1, digits);
      is_float = true;
    }
    if (!after_dot && pos < source_.size() && (source_[pos] == 'e' || source_[pos] == 'E')) {
      size_t exponent = pos + 1;
      std::string exponent_text = "e";
      if (exponent < source_.size() && (source_[exponent] == '+' || source_[exponent] == '-')) {
        exponent_text += source_[exponent++];
      }
      if (exponent < source_.size() && is_digit(source_[exponent])) {
        pos = read_digits(exponent, exponent_text);
        digits += exponent_text;
        is_float = true;
      }
    }
    tokens_.push_back(
        {is_float ? TokenType::kFloat : TokenType::kInteger, digits, position_at(start)});
    return pos;
  }

  size_t read_string(size_t start) {
    const char quote = source_[start];
    std::string value;
    size_t pos = start + 1;
    while (true) {
      if (pos >= source_.size()) error(start, "unterminated string literal");
      const char c = source_[pos];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++pos;
        continue;
      }
      if (pos + 1 >= source_.size()) error(start, "unterminated string literal");
      pos = read_escape(pos, value);
    }
    tokens_.push_back({TokenType::kString, std::move(value), position_at(start)});
    return pos + 1;
  }

  // Decodes one backslash escape the way Python's unicode-escape codec does.
  size_t read_escape(size_t pos, std::string& out) {
    const char c = source_[pos + 1];
    switch (c) {
      case '\n':
        return pos + 2;  // line continuation
      case '\\':
        out += '\\';
        return pos + 2;
      case '\'':
        out += '\'';
        return pos + 2;
      case '"':
        out += '"';
        return pos + 2;
      case 'a':
        out += '\a';
        return pos + 2;
      case 'b':
        out += '\b';
        return pos + 2;
      case 'f':
        out += '\f';
        return pos + 2;
      case 'n':
        out += '\n';
        return pos + 2;
      case 'r':
        out += '\r';
        return pos + 2;
      case 't':
        out += '\t';
        return pos + 2;
      case 'v':
        out += '\v';
        return pos + 2;
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      uint32_t code_point = 0;
      size_t end = pos + 1;
      while (end < pos + 4 && end < source_.size() && source_[end] >= '0' && source_[end] <= '7') {
        code_point = code_point * 8 + static_cast<uint32_t>(source_[end++] - '0');
      }
      append_utf8(code_point, out);
      return end;
    }
    int n_hex = 0;
    if (c == 'x') n_hex = 2;
    if (c == 'u') n_hex = 4;
    if (c == 'U') n_hex = 8;
    if (n_hex == 0) {
      out += '\\';  // Python keeps unknown escapes as they are
      return pos + 1;
    }
    uint32_t code_point = 0;
    for (int i = 0; i < n_hex; ++i) {
      const size_t at = pos + 2 + static_cast<size_t>(i);
      const int digit = at < source_.size() ? hex_digit(source_[at]) : -1;
      if (digit < 0) error(pos, fmt::format("truncated \\{} escape in string literal", c));
      code_point = code_point * 16 + static_cast<uint32_t>(digit);
    }
    if (code_point > 0x10ffff) error(pos, "escape in string literal is beyond U+10FFFF");
    append_utf8(code_point, out);
    return pos + 2 + static_cast<size_t>(n_hex);
  }

  std::string source_;
  const std::string& name_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  // Whether the previous tag ended with a newline, so the text after it starts a line.
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& template_name) {
  return Lexer(normalize_newlines(source), template_name).run();
}

}  // namespace hllm::jinja
