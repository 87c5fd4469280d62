#include "text/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace hllm::jinja {

const Value* Object::find(std::string_view key) const {
  for (const auto& [name, value] : entries_) {
    if (name == key) return &value;
  }
  return nullptr;
}

void Object::set(std::string key, Value value) {
  for (auto& [name, existing] : entries_) {
    if (name == key) {
      existing = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

void Object::add_new(std::string key, Value value) {
  entries_.emplace_back(std::move(key), std::move(value));
}

namespace {

int nested_depth(int max_child_depth) {
  if (max_child_depth + 1 > kMaxValueDepth) {
    fail("value nests lists and dicts deeper than {} levels", kMaxValueDepth);
  }
  return max_child_depth + 1;
}

}  // namespace

Value::Value(Array value) : kind_(Kind::kArray) {
  int max_child_depth = 0;
  for (const Value& item : value)
    max_child_depth = std::max(max_child_depth, item.depth_);
  depth_ = nested_depth(max_child_depth);
  array_ = std::make_shared<const Array>(std::move(value));
}

Value::Value(Object value) : kind_(Kind::kObject) {
  int max_child_depth = 0;
  for (const auto& entry : value.entries()) {
    max_child_depth = std::max(max_child_depth, entry.second.depth_);
  }
  depth_ = nested_depth(max_child_depth);
  object_ = std::make_shared<Object>(std::move(value));
}

Value Value::undefined(std::string message) {
  Value value;
  value.string_ = std::move(message);
  return value;
}

Value Value::namespace_object(Object attributes) {
  Value value(std::move(attributes));
  value.kind_ = Kind::kNamespace;
  value.depth_ = 0;
  return value;
}

Value Value::tuple(Array items) {
  Value value(std::move(items));
  value.tuple_ = true;
  return value;
}

Value Value::callable(std::string name, std::function<Value(Arguments&)> call) {
  Value value;
  value.kind_ = Kind::kCallable;
  value.callable_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(call)});
  return value;
}

Value Value::from_json(const nlohmann::ordered_json& json) {
  return from_json_at(json, 0);
}

Value Value::from_json_at(const nlohmann::ordered_json& json, int depth) {
  if (depth > kMaxValueDepth) fail("JSON value nests deeper than {} levels", kMaxValueDepth);
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value(nullptr);
    case nlohmann::ordered_json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t number = json.get<uint64_t>();
      // NOTE: integers past int64 become doubles and lose precision, where Python keeps them exact.
      if (number > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(number));
      return Value(static_cast<int64_t>(number));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array items;
      items.reserve(json.size());
      for (const auto& item : json)
        items.push_back(from_json_at(item, depth + 1));
      return Value(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object object;
      // ordered_json keeps one entry per key, so no key repeats.
      for (const auto& [key, item] : json.items())
        object.add_new(key, from_json_at(item, depth + 1));
      return Value(std::move(object));
    }
    default:
      fail("JSON value of type '{}' cannot be passed to a template", json.type_name());
  }
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
    case Kind::kInt:
      return int_ != 0;
    case Kind::kFloat:
      return float_ != 0;
    case Kind::kString:
      return !string_.empty();
    case Kind::kArray:
      return !array_->empty();
    case Kind::kObject:
      return object_->size() != 0;
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kArray:
      return "list";
    case Kind::kObject:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

void Budget::count_loop_iteration() {
  if (++loop_iterations_ > limits_.max_loop_iterations) {
    fail("template exceeded the limit of {} loop iterations", limits_.max_loop_iterations);
  }
}

void Budget::spend(uint64_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) {
    fail("template exceeded its work limit of {} steps (values visited and string data built)",
         limits_.max_steps);
  }
}

void Budget::check_string(size_t n_bytes) const {
  if (n_bytes > limits_.max_string_bytes) {
    fail("template built a string of more than {} bytes", limits_.max_string_bytes);
  }
}

void Budget::check_list(size_t n_items) const {
  if (n_items > limits_.max_list_items) {
    fail("template built a list of more than {} items", limits_.max_list_items);
  }
}

std::string format_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";

  // The shortest round-trip digits, as Python's repr uses, then Python's layout rule: fixed
  // notation when the decimal exponent is in [-4, 16), scientific otherwise.
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view text(buffer, result.ptr - buffer);
  std::string sign;
  if (text.front() == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exponent = std::stoi(std::string(text.substr(e + 1)));

  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof exponent_text, "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    return out + exponent_text;
  }
  if (exponent < 0) return sign + "0." + std::string(-exponent - 1, '0') + digits;
  const size_t n_integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= n_integer_digits) {
    return sign + digits + std::string(n_integer_digits - digits.size(), '0') + ".0";
  }
  return sign + digits.substr(0, n_integer_digits) + "." + digits.substr(n_integer_digits);
}

namespace {

void append_checked(std::string& out, std::string_view text, Budget& budget) {
  budget.check_string(out.size() + text.size());
  out += text;
}

void append_string_repr(const std::string& text, std::string& out) {
  // Python prefers single quotes and switches to double quotes only to avoid escaping.
  const bool has_single = text.find('\'') != std::string::npos;
  const bool has_double = text.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  out += quote;
  for (unsigned char c : text) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      // NOTE: Python also escapes non-printable non-ASCII characters (such as U+200B); this
      // keeps every non-ASCII character as it is.
      out += static_cast<char>(c);
    }
  }
  out += quote;
}

void append_json_string(const std::string& text, std::string& out) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json_at(const Value& value, std::string& out, const JsonStyle& style, int depth,
                    Budget& budget) {
  budget.spend();
  budget.check_string(out.size());
  const auto newline = [&](int level) {
    if (style.indent < 0) return;
    out += '\n';
    append_checked(out, std::string(static_cast<size_t>(style.indent) * level, ' '), budget);
  };
  switch (value.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(value.as_int());
      return;
    case Value::Kind::kFloat: {
      const double number = value.as_float();
      if (std::isnan(number)) {
        out += "NaN";
      } else if (std::isinf(number)) {
        out += number > 0 ? "Infinity" : "-Infinity";
      } else {
        out += format_float(number);
      }
      return;
    }
    case Value::Kind::kString:
      append_json_string(value.as_string(), out);
      return;
    case Value::Kind::kArray: {
      const Array& items = value.as_array();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += style.item_separator;
        newline(depth + 1);
        append_json_at(items[i], out, style, depth + 1, budget);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::kObject: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : value.as_object().entries())
        entries.push_back(&entry);
      if (entries.empty()) {
        out += "{}";
        return;
      }
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += style.item_separator;
        newline(depth + 1);
        append_json_string(entries[i]->first, out);
        out += style.key_separator;
        append_json_at(entries[i]->second, out, style, depth + 1, budget);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::kUndefined:
    case Value::Kind::kNamespace:
    case Value::Kind::kCallable:
      fail("object of type '{}' is not JSON serializable", value.type_name());
  }
}

}  // namespace

void append_repr(const Value& value, std::string& out, Budget& budget) {
  budget.spend();
  budget.check_string(out.size());
  switch (value.kind()) {
    case Value::Kind::kString:
      append_string_repr(value.as_string(), out);
      return;
    case Value::Kind::kArray: {
      const Array& items = value.as_array();
      out += value.is_tuple() ? '(' : '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        append_repr(items[i], out, budget);
      }
      if (value.is_tuple() && items.size() == 1) out += ',';
      out += value.is_tuple() ? ')' : ']';
      return;
    }
    case Value::Kind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.as_object().entries()) {
        if (!first) out += ", ";
        first = false;
        append_string_repr(key, out);
        out += ": ";
        append_repr(item, out, budget);
      }
      out += '}';
      return;
    }
    default:
      append_str(value, out, budget);
  }
}

void append_str(const Value& value, std::string& out, Budget& budget) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return;
    case Value::Kind::kNone:
      out += "None";
      return;
    case Value::Kind::kBool:
      out += value.as_bool() ? "True" : "False";
      return;
    case Value::Kind::kInt:
      out += std::to_string(value.as_int());
      return;
    case Value::Kind::kFloat:
      out += format_float(value.as_float());
      return;
    case Value::Kind::kString:
      append_checked(out, value.as_string(), budget);
      return;
    case Value::Kind::kArray:
    case Value::Kind::kObject:
      append_repr(value, out, budget);
      return;
    case Value::Kind::kNamespace:
      out += "<Namespace>";
      return;
    case Value::Kind::kCallable:
      out += "<function " + value.as_callable().name + ">";
      return;
  }
}

std::string to_str(const Value& value, Budget& budget) {
  if (value.is_string()) return value.as_string();
  std::string out;
  append_str(value, out, budget);
  return out;
}

void append_json(const Value& value, std::string& out, const JsonStyle& style, Budget& budget) {
  append_json_at(value, out, style, 0, budget);
}

bool equals(const Value& a, const Value& b, Budget& budget) {
  budget.spend();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kArray: {
      const Array& left = a.as_array();
      const Array& right = b.as_array();
      if (&left == &right) return true;
      if (left.size() != right.size()) return false;
      for (size_t i = 0; i < left.size(); ++i) {
        if (!equals(left[i], right[i], budget)) return false;
      }
      return true;
    }
    case Value::Kind::kObject: {
      const Object& left = a.as_object();
      const Object& right = b.as_object();
      if (&left == &right) return true;
      if (left.size() != right.size()) return false;
      for (const auto& [key, item] : left.entries()) {
        const Value* other = right.find(key);
        if (other == nullptr || !equals(item, *other, budget)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace:
      return &a.as_object() == &b.as_object();
    case Value::Kind::kCallable:
      return &a.as_callable() == &b.as_callable();
    default:
      return false;
  }
}

int compare(const Value& a, const Value& b, Budget& budget) {
  budget.spend();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.as_float();
      const double y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // Byte order of UTF-8 is code point order, which is what Python compares.
    const int order = a.as_string().compare(b.as_string());
    return order < 0 ? -1 : (order > 0 ? 1 : 0);
  }
  if (a.is_array() && b.is_array()) {
    const Array& left = a.as_array();
    const Array& right = b.as_array();
    for (size_t i = 0; i < left.size() && i < right.size(); ++i) {
      if (!equals(left[i], right[i], budget)) return compare(left[i], right[i], budget);
    }
    return left.size() < right.size() ? -1 : (left.size() > right.size() ? 1 : 0);
  }
  fail("ordering is not supported between instances of '{}' and '{}'", a.type_name(),
       b.type_name());
}

}  // namespace hllm::jinja
