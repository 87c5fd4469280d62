// Jinja2's built-in filters and tests that chat templates use, plus Hugging Face's tojson.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "text/jinja/builtins.h"
#include "text/jinja/lexer.h"
#include "util/error.h"

namespace hllm::jinja {
namespace {

using FilterFunction = Value (*)(const Value& operand, const Arguments& arguments, Budget& budget);
using TestFunction = bool (*)(const Value& operand, const Arguments& arguments, Budget& budget);

std::string text_of(const Value& value, Budget& budget) {
  return to_str(value, budget);
}

bool is_integral(const Value& value) {
  return value.is_int() || value.is_bool();
}

std::string lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string uppercase(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// Jinja2's attribute getter for map, selectattr, sort and friends: "a.b" looks up each part as
// an item, and numeric parts index lists.
Value lookup_path(const Value& item, const Value& attribute, Budget& budget) {
  if (is_integral(attribute)) return get_item(item, attribute, budget);
  if (!attribute.is_string()) fail("attribute must be a string, got '{}'", attribute.type_name());
  Value current = item;
  const std::string& path = attribute.as_string();
  size_t begin = 0;
  while (true) {
    const size_t dot = path.find('.', begin);
    const std::string part = path.substr(begin, dot == std::string::npos ? dot : dot - begin);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    current = numeric ? get_item(current, Value(static_cast<int64_t>(std::stoll(part))), budget)
                      : get_item(current, Value(part), budget);
    if (dot == std::string::npos) return current;
    begin = dot + 1;
  }
}

// The value a sort or comparison filter orders by: the attribute, lowercased for strings unless
// case_sensitive.
Value sort_key(const Value& item, const Value& attribute, bool case_sensitive, Budget& budget) {
  Value key =
      attribute.is_undefined() || attribute.is_none() ? item : lookup_path(item, attribute, budget);
  if (!case_sensitive && key.is_string()) return Value(lowercase(key.as_string()));
  return key;
}

Arguments rest_arguments(const Arguments& arguments, size_t first) {
  Arguments rest;
  for (size_t i = first; i < arguments.positional.size(); ++i) {
    rest.positional.push_back(arguments.positional[i]);
  }
  rest.keyword = arguments.keyword;
  return rest;
}

// ---- Filters ----

Value filter_abs(const Value& operand, const Arguments& arguments, Budget&) {
  bind_arguments("abs", arguments, {}, 0);
  if (operand.is_float()) return Value(std::fabs(operand.as_float()));
  if (is_integral(operand)) {
    if (operand.as_int() == INT64_MIN) fail("integer overflow in abs");
    return Value(operand.as_int() < 0 ? -operand.as_int() : operand.as_int());
  }
  if (operand.is_undefined()) fail_undefined(operand);
  fail("bad operand type for abs(): '{}'", operand.type_name());
}

Value filter_attr(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("attr", arguments, {"name"}, 1);
  if (!bound[0].is_string()) fail("attr() expects a string name");
  return get_attribute(operand, bound[0].as_string(), budget);
}

Value filter_capitalize(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("capitalize", arguments, {}, 0);
  std::string text = lowercase(text_of(operand, budget));
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  return Value(std::move(text));
}

Value filter_default(const Value& operand, const Arguments& arguments, Budget&) {
  const auto bound = bind_arguments("default", arguments, {"default_value", "boolean"}, 0);
  const bool boolean = bound[1].truthy();
  if (operand.is_undefined() || (boolean && !operand.truthy())) {
    return bound[0].is_undefined() ? Value("") : bound[0];
  }
  return operand;
}

Value filter_dictsort(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("dictsort", arguments, {"case_sensitive", "by", "reverse"}, 0);
  if (!operand.is_object()) fail("dictsort expects a dict, got '{}'", operand.type_name());
  const bool by_value = bound[1].is_string() && bound[1].as_string() == "value";
  Array pairs;
  for (const auto& [key, value] : operand.as_object().entries()) {
    pairs.push_back(Value::tuple({Value(key), value}));
  }
  const bool case_sensitive = bound[0].truthy();
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
    const size_t index = by_value ? 1 : 0;
    return compare(sort_key(a.as_array()[index], Value(), case_sensitive, budget),
                   sort_key(b.as_array()[index], Value(), case_sensitive, budget), budget) < 0;
  });
  if (bound[2].truthy()) std::reverse(pairs.begin(), pairs.end());
  return Value(std::move(pairs));
}

Value filter_escape(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("escape", arguments, {}, 0);
  std::string out;
  for (char c : text_of(operand, budget)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  budget.check_string(out.size());
  return Value(std::move(out));
}

Value filter_first(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("first", arguments, {}, 0);
  if (operand.is_array()) {
    if (operand.as_array().empty()) return Value::undefined("No first item, sequence was empty.");
    return operand.as_array().front();
  }
  Array items = iterate(operand, budget);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value filter_last(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("last", arguments, {}, 0);
  Array items = iterate(operand, budget);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value filter_float(const Value& operand, const Arguments& arguments, Budget&) {
  const auto bound = bind_arguments("float", arguments, {"default"}, 0);
  const Value fallback = bound[0].is_undefined() ? Value(0.0) : bound[0];
  if (operand.is_number()) return Value(operand.as_float());
  if (operand.is_string()) {
    const std::string text = strip_text(operand.as_string(), nullptr, true, true);
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return Value(number);
  }
  return fallback;
}

Value filter_format(const Value& operand, const Arguments& arguments, Budget& budget) {
  if (!arguments.keyword.empty()) fail("unsupported construct: format filter with keywords");
  if (!operand.is_string()) fail("format filter expects a string, got '{}'", operand.type_name());
  return Value(percent_format(operand.as_string(), arguments.positional, budget));
}

Value filter_indent(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("indent", arguments, {"width", "first", "blank"}, 0);
  std::string indentation = "    ";
  if (bound[0].is_string()) {
    indentation = bound[0].as_string();
  } else if (is_integral(bound[0])) {
    budget.check_string(static_cast<size_t>(std::max<int64_t>(bound[0].as_int(), 0)));
    indentation = std::string(static_cast<size_t>(std::max<int64_t>(bound[0].as_int(), 0)), ' ');
  }
  const bool first = bound[1].truthy();
  const bool blank = bound[2].truthy();
  // Jinja2 appends a newline and splits into lines, so a trailing newline yields an empty last
  // line, which is indented only with blank=true.
  const std::string text = text_of(operand, budget) + "\n";
  std::vector<std::string_view> lines;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = text.find('\n', begin);
    lines.push_back(std::string_view(text).substr(begin, end - begin));
    begin = end + 1;
  }
  std::string out(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    out += '\n';
    if (blank || !lines[i].empty()) out += indentation;
    out += lines[i];
    budget.check_string(out.size());
  }
  if (first) out = indentation + out;
  budget.check_string(out.size());
  return Value(std::move(out));
}

// Python's int() of a string: optional sign, digits with '_' separators, surrounding spaces.
bool parse_python_int(const std::string& raw, int64_t base, int64_t& result) {
  const std::string text = strip_text(raw, nullptr, true, true);
  if (text.empty()) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    ++i;
  }
  if (i == text.size()) return false;

  __int128 value = 0;
  bool previous_digit = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_' && previous_digit && i + 1 < text.size()) {
      previous_digit = false;
      continue;
    }
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'z') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') digit = c - 'A' + 10;
    if (digit < 0 || digit >= base) return false;
    value = value * base + digit;
    if (value > static_cast<__int128>(INT64_MAX) + 1) return false;
    previous_digit = true;
  }
  if (!previous_digit) return false;

  if (negative) value = -value;
  if (value > INT64_MAX) return false;
  result = static_cast<int64_t>(value);
  return true;
}

Value filter_int(const Value& operand, const Arguments& arguments, Budget&) {
  const auto bound = bind_arguments("int", arguments, {"default", "base"}, 0);
  const Value fallback = bound[0].is_undefined() ? Value(0) : bound[0];
  const int64_t base = is_integral(bound[1]) ? bound[1].as_int() : 10;
  if (is_integral(operand)) return Value(operand.as_int());
  if (operand.is_float()) {
    const double number = operand.as_float();
    if (!std::isfinite(number) || std::fabs(number) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(number));
  }
  if (operand.is_string()) {
    int64_t result = 0;
    if (base >= 2 && base <= 36 && parse_python_int(operand.as_string(), base, result)) {
      return Value(result);
    }
    // Jinja2 falls back to int(float(text)), so "3.7" becomes 3.
    const std::string text = strip_text(operand.as_string(), nullptr, true, true);
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number) &&
        std::fabs(number) < 9.2e18) {
      return Value(static_cast<int64_t>(number));
    }
  }
  return fallback;
}

Value filter_items(const Value& operand, const Arguments& arguments, Budget&) {
  bind_arguments("items", arguments, {}, 0);
  if (operand.is_undefined()) return Value(Array{});
  if (!operand.is_object()) fail("items filter expects a dict, got '{}'", operand.type_name());
  Array pairs;
  for (const auto& [key, value] : operand.as_object().entries()) {
    pairs.push_back(Value::tuple({Value(key), value}));
  }
  return Value(std::move(pairs));
}

Value filter_join(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("join", arguments, {"d", "attribute"}, 0);
  const std::string separator = bound[0].is_undefined() ? "" : text_of(bound[0], budget);
  std::string out;
  bool first = true;
  for (const Value& item : iterate(operand, budget)) {
    if (!first) out += separator;
    first = false;
    append_str(bound[1].is_undefined() ? item : lookup_path(item, bound[1], budget), out, budget);
    budget.check_string(out.size());
  }
  budget.spend_bytes(out.size());
  return Value(std::move(out));
}

Value filter_length(const Value& operand, const Arguments& arguments, Budget&) {
  bind_arguments("length", arguments, {}, 0);
  switch (operand.kind()) {
    case Value::Kind::kUndefined:
      return Value(0);
    case Value::Kind::kString:
      return Value(static_cast<int64_t>(count_characters(operand.as_string())));
    case Value::Kind::kArray:
      return Value(static_cast<int64_t>(operand.as_array().size()));
    case Value::Kind::kObject:
      return Value(static_cast<int64_t>(operand.as_object().size()));
    default:
      fail("object of type '{}' has no len()", operand.type_name());
  }
}

Value filter_list(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("list", arguments, {}, 0);
  return Value(iterate(operand, budget));
}

Value filter_lower(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("lower", arguments, {}, 0);
  return Value(lowercase(text_of(operand, budget)));
}

Value filter_upper(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("upper", arguments, {}, 0);
  return Value(uppercase(text_of(operand, budget)));
}

Value filter_map(const Value& operand, const Arguments& arguments, Budget& budget) {
  Array out;
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [name, value] : arguments.keyword) {
    if (name == "attribute") attribute = &value;
    if (name == "default") fallback = &value;
  }
  if (attribute != nullptr) {
    for (const Value& item : iterate(operand, budget)) {
      Value mapped = lookup_path(item, *attribute, budget);
      if (mapped.is_undefined() && fallback != nullptr) mapped = *fallback;
      out.push_back(std::move(mapped));
    }
    return Value(std::move(out));
  }
  if (arguments.positional.empty() || !arguments.positional[0].is_string()) {
    fail("map expects a filter name or attribute=");
  }
  const std::string& filter = arguments.positional[0].as_string();
  const Arguments rest = rest_arguments(arguments, 1);
  for (const Value& item : iterate(operand, budget)) {
    out.push_back(apply_filter(filter, item, rest, budget));
  }
  return Value(std::move(out));
}

Value filter_extreme(const Value& operand, const Arguments& arguments, Budget& budget,
                     bool maximum) {
  const auto bound =
      bind_arguments(maximum ? "max" : "min", arguments, {"case_sensitive", "attribute"}, 0);
  const Array items = iterate(operand, budget);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const bool case_sensitive = bound[0].truthy();
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const int order = compare(sort_key(items[i], bound[1], case_sensitive, budget),
                              sort_key(items[best], bound[1], case_sensitive, budget), budget);
    if (maximum ? order > 0 : order < 0) best = i;
  }
  return items[best];
}

Value filter_max(const Value& operand, const Arguments& arguments, Budget& budget) {
  return filter_extreme(operand, arguments, budget, true);
}

Value filter_min(const Value& operand, const Arguments& arguments, Budget& budget) {
  return filter_extreme(operand, arguments, budget, false);
}

Value filter_replace(const Value& operand, const Arguments& arguments, Budget& budget) {
  Value method = get_attribute(Value(text_of(operand, budget)), "replace", budget);
  Arguments call = arguments;
  return method.as_callable().call(call);
}

Value filter_reverse(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("reverse", arguments, {}, 0);
  if (operand.is_string()) {
    return get_slice(operand, Value(), Value(), Value(-1), budget);
  }
  Array items = iterate(operand, budget);
  std::reverse(items.begin(), items.end());
  return Value(std::move(items));
}

Value filter_round(const Value& operand, const Arguments& arguments, Budget&) {
  const auto bound = bind_arguments("round", arguments, {"precision", "method"}, 0);
  const int64_t precision = is_integral(bound[0]) ? bound[0].as_int() : 0;
  const std::string method = bound[1].is_string() ? bound[1].as_string() : "common";
  if (!operand.is_number()) fail("round expects a number, got '{}'", operand.type_name());
  if (precision < -308 || precision > 308) fail("round precision {} is out of range", precision);
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = operand.as_float() * scale;
  double rounded = 0;
  if (method == "common") {
    rounded = std::nearbyint(scaled);  // ties to even, like Python's round()
  } else if (method == "ceil") {
    rounded = std::ceil(scaled);
  } else if (method == "floor") {
    rounded = std::floor(scaled);
  } else {
    fail("round method must be 'common', 'ceil' or 'floor', got '{}'", method);
  }
  return Value(rounded / scale);
}

Value filter_safe(const Value& operand, const Arguments& arguments, Budget&) {
  bind_arguments("safe", arguments, {}, 0);
  return operand;
}

Value select_items(const Value& operand, const Arguments& arguments, Budget& budget,
                   bool by_attribute, bool keep) {
  size_t first_test_argument = 0;
  Value attribute;
  if (by_attribute) {
    if (arguments.positional.empty()) fail("selectattr and rejectattr need an attribute name");
    attribute = arguments.positional[0];
    first_test_argument = 1;
  }
  std::string test;
  if (arguments.positional.size() > first_test_argument) {
    const Value& name = arguments.positional[first_test_argument];
    if (!name.is_string()) fail("the test name must be a string");
    test = name.as_string();
  }
  const Arguments rest = rest_arguments(arguments, first_test_argument + 1);
  Array out;
  for (const Value& item : iterate(operand, budget)) {
    const Value subject = by_attribute ? lookup_path(item, attribute, budget) : item;
    const bool passed = test.empty() ? subject.truthy() : apply_test(test, subject, rest, budget);
    if (passed == keep) out.push_back(item);
  }
  return Value(std::move(out));
}

Value filter_select(const Value& operand, const Arguments& arguments, Budget& budget) {
  return select_items(operand, arguments, budget, false, true);
}
Value filter_reject(const Value& operand, const Arguments& arguments, Budget& budget) {
  return select_items(operand, arguments, budget, false, false);
}
Value filter_selectattr(const Value& operand, const Arguments& arguments, Budget& budget) {
  return select_items(operand, arguments, budget, true, true);
}
Value filter_rejectattr(const Value& operand, const Arguments& arguments, Budget& budget) {
  return select_items(operand, arguments, budget, true, false);
}

Value filter_sort(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound =
      bind_arguments("sort", arguments, {"reverse", "case_sensitive", "attribute"}, 0);
  Array items = iterate(operand, budget);
  const bool case_sensitive = bound[1].truthy();
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t i = 0; i < items.size(); ++i) {
    keyed.emplace_back(sort_key(items[i], bound[2], case_sensitive, budget), i);
  }
  const bool reverse = bound[0].truthy();
  // Python's sort with reverse=True keeps equal items in their original order.
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    const int order = compare(a.first, b.first, budget);
    return reverse ? order > 0 : order < 0;
  });
  Array out;
  for (const auto& entry : keyed)
    out.push_back(items[entry.second]);
  return Value(std::move(out));
}

Value filter_string(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("string", arguments, {}, 0);
  return Value(text_of(operand, budget));
}

Value filter_sum(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("sum", arguments, {"attribute", "start"}, 0);
  Value total = bound[1].is_undefined() ? Value(0) : bound[1];
  for (const Value& item : iterate(operand, budget)) {
    const Value term = bound[0].is_undefined() ? item : lookup_path(item, bound[0], budget);
    total = binary_operation("+", total, term, budget);
  }
  return total;
}

Value filter_title(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("title", arguments, {}, 0);
  Value method = get_attribute(Value(text_of(operand, budget)), "title", budget);
  Arguments none;
  return method.as_callable().call(none);
}

// Hugging Face replaces Jinja2's HTML-safe tojson with json.dumps(value, ensure_ascii=False),
// which separates with ", " and ": " on one line and with "," and ": " when indenting.
Value filter_tojson(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound =
      bind_arguments("tojson", arguments, {"ensure_ascii", "indent", "separators", "sort_keys"}, 0);
  if (bound[0].truthy()) fail("unsupported construct: tojson with ensure_ascii=true");
  JsonStyle style;
  if (is_integral(bound[1])) {
    style.indent = static_cast<int>(std::clamp<int64_t>(bound[1].as_int(), 0, 64));
    style.item_separator.assign(1, ',');
  } else if (bound[1].is_string()) {
    fail("unsupported construct: tojson with a string indent");
  }
  if (bound[2].is_array()) {
    const Array& separators = bound[2].as_array();
    if (separators.size() != 2 || !separators[0].is_string() || !separators[1].is_string()) {
      fail("tojson separators must be two strings");
    }
    style.item_separator = separators[0].as_string();
    style.key_separator = separators[1].as_string();
  }
  style.sort_keys = bound[3].truthy();
  std::string out;
  append_json(operand, out, style, budget);
  return Value(std::move(out));
}

Value filter_trim(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("trim", arguments, {"chars"}, 0);
  const std::string text = text_of(operand, budget);
  if (bound[0].is_string()) return Value(strip_text(text, &bound[0].as_string(), true, true));
  return Value(strip_text(text, nullptr, true, true));
}

Value filter_unique(const Value& operand, const Arguments& arguments, Budget& budget) {
  const auto bound = bind_arguments("unique", arguments, {"case_sensitive", "attribute"}, 0);
  const bool case_sensitive = bound[0].truthy();
  Array out;
  Array seen;
  for (const Value& item : iterate(operand, budget)) {
    Value key = sort_key(item, bound[1], case_sensitive, budget);
    const bool repeated = std::any_of(
        seen.begin(), seen.end(), [&](const Value& other) { return equals(other, key, budget); });
    if (repeated) continue;
    seen.push_back(std::move(key));
    out.push_back(item);
  }
  return Value(std::move(out));
}

Value filter_wordcount(const Value& operand, const Arguments& arguments, Budget& budget) {
  bind_arguments("wordcount", arguments, {}, 0);
  Value method = get_attribute(Value(text_of(operand, budget)), "split", budget);
  Arguments none;
  return Value(static_cast<int64_t>(method.as_callable().call(none).as_array().size()));
}

struct FilterEntry {
  std::string_view name;
  FilterFunction function;
};

constexpr FilterEntry kFilters[] = {
    {"abs", filter_abs},
    {"attr", filter_attr},
    {"capitalize", filter_capitalize},
    {"count", filter_length},
    {"d", filter_default},
    {"default", filter_default},
    {"dictsort", filter_dictsort},
    {"e", filter_escape},
    {"escape", filter_escape},
    {"first", filter_first},
    {"float", filter_float},
    {"format", filter_format},
    {"indent", filter_indent},
    {"int", filter_int},
    {"items", filter_items},
    {"join", filter_join},
    {"last", filter_last},
    {"length", filter_length},
    {"list", filter_list},
    {"lower", filter_lower},
    {"map", filter_map},
    {"max", filter_max},
    {"min", filter_min},
    {"reject", filter_reject},
    {"rejectattr", filter_rejectattr},
    {"replace", filter_replace},
    {"reverse", filter_reverse},
    {"round", filter_round},
    {"safe", filter_safe},
    {"select", filter_select},
    {"selectattr", filter_selectattr},
    {"sort", filter_sort},
    {"string", filter_string},
    {"sum", filter_sum},
    {"title", filter_title},
    {"tojson", filter_tojson},
    {"trim", filter_trim},
    {"unique", filter_unique},
    {"upper", filter_upper},
    {"wordcount", filter_wordcount},
};

// ---- Tests ----

const Value& test_argument(const Arguments& arguments, std::string_view test) {
  if (arguments.positional.size() != 1 || !arguments.keyword.empty()) {
    fail("test '{}' takes exactly one argument", test);
  }
  return arguments.positional[0];
}

void no_arguments(const Arguments& arguments, std::string_view test) {
  if (!arguments.positional.empty() || !arguments.keyword.empty()) {
    fail("test '{}' takes no arguments", test);
  }
}

bool test_boolean(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "boolean");
  return v.is_bool();
}
bool test_callable(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "callable");
  return v.is_callable();
}
bool test_defined(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "defined");
  return !v.is_undefined();
}
bool test_undefined(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "undefined");
  return v.is_undefined();
}
bool test_none(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "none");
  return v.is_none();
}
bool test_true(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "true");
  return v.is_bool() && v.as_bool();
}
bool test_false(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "false");
  return v.is_bool() && !v.as_bool();
}
bool test_integer(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "integer");
  return v.is_int();
}
bool test_float(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "float");
  return v.is_float();
}
bool test_number(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "number");
  return v.is_number();
}
bool test_string(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "string");
  return v.is_string();
}
bool test_mapping(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "mapping");
  return v.is_object();
}
// Jinja2 calls anything with a length and item access a sequence, dicts and Undefined included.
bool test_sequence(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "sequence");
  return v.is_string() || v.is_array() || v.is_object() || v.is_undefined();
}
bool test_iterable(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "iterable");
  return v.is_string() || v.is_array() || v.is_object() || v.is_undefined();
}
int64_t integer_operand(const Value& v, std::string_view test) {
  if (v.is_undefined()) fail_undefined(v);
  if (!is_integral(v)) fail("test '{}' expects an integer, got '{}'", test, v.type_name());
  return v.as_int();
}
bool test_odd(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "odd");
  return integer_operand(v, "odd") % 2 != 0;
}
bool test_even(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "even");
  return integer_operand(v, "even") % 2 == 0;
}
bool test_divisibleby(const Value& v, const Arguments& a, Budget&) {
  const int64_t divisor = integer_operand(test_argument(a, "divisibleby"), "divisibleby");
  if (divisor == 0) fail("test 'divisibleby' with a divisor of zero");
  return integer_operand(v, "divisibleby") % divisor == 0;
}
bool test_eq(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation("==", v, test_argument(a, "eq"), b);
}
bool test_ne(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation("!=", v, test_argument(a, "ne"), b);
}
bool test_lt(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation("<", v, test_argument(a, "lt"), b);
}
bool test_le(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation("<=", v, test_argument(a, "le"), b);
}
bool test_gt(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation(">", v, test_argument(a, "gt"), b);
}
bool test_ge(const Value& v, const Arguments& a, Budget& b) {
  return compare_operation(">=", v, test_argument(a, "ge"), b);
}
bool test_in(const Value& v, const Arguments& a, Budget& b) {
  return contains(test_argument(a, "in"), v, b);
}
// Python's "is": identity for containers, equality of same-typed scalars otherwise.
bool test_sameas(const Value& v, const Arguments& a, Budget& b) {
  const Value& other = test_argument(a, "sameas");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kArray:
      return &v.as_array() == &other.as_array();
    case Value::Kind::kObject:
    case Value::Kind::kNamespace:
      return &v.as_object() == &other.as_object();
    default:
      return equals(v, other, b);
  }
}
bool test_lower(const Value& v, const Arguments& a, Budget& b) {
  no_arguments(a, "lower");
  const std::string text = to_str(v, b);
  return lowercase(text) == text && uppercase(text) != text;
}
bool test_upper(const Value& v, const Arguments& a, Budget& b) {
  no_arguments(a, "upper");
  const std::string text = to_str(v, b);
  return uppercase(text) == text && lowercase(text) != text;
}
bool test_filter(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "filter");
  return v.is_string() && has_filter(v.as_string());
}
bool test_test(const Value& v, const Arguments& a, Budget&) {
  no_arguments(a, "test");
  return v.is_string() && has_test(v.as_string());
}

struct TestEntry {
  std::string_view name;
  TestFunction function;
};

constexpr TestEntry kTests[] = {
    {"!=", test_ne},
    {"<", test_lt},
    {"<=", test_le},
    {"==", test_eq},
    {">", test_gt},
    {">=", test_ge},
    {"boolean", test_boolean},
    {"callable", test_callable},
    {"defined", test_defined},
    {"divisibleby", test_divisibleby},
    {"eq", test_eq},
    {"equalto", test_eq},
    {"even", test_even},
    {"false", test_false},
    {"filter", test_filter},
    {"float", test_float},
    {"ge", test_ge},
    {"greaterthan", test_gt},
    {"gt", test_gt},
    {"in", test_in},
    {"integer", test_integer},
    {"iterable", test_iterable},
    {"le", test_le},
    {"lessthan", test_lt},
    {"lower", test_lower},
    {"lt", test_lt},
    {"mapping", test_mapping},
    {"ne", test_ne},
    {"none", test_none},
    {"number", test_number},
    {"odd", test_odd},
    {"sameas", test_sameas},
    {"sequence", test_sequence},
    {"string", test_string},
    {"test", test_test},
    {"true", test_true},
    {"undefined", test_undefined},
    {"upper", test_upper},
};

}  // namespace

bool has_filter(std::string_view name) {
  return std::any_of(std::begin(kFilters), std::end(kFilters),
                     [&](const FilterEntry& entry) { return entry.name == name; });
}

Value apply_filter(std::string_view name, const Value& operand, const Arguments& arguments,
                   Budget& budget) {
  for (const FilterEntry& entry : kFilters) {
    if (entry.name == name) return entry.function(operand, arguments, budget);
  }
  fail("unsupported filter '{}'", name);
}

bool has_test(std::string_view name) {
  return std::any_of(std::begin(kTests), std::end(kTests),
                     [&](const TestEntry& entry) { return entry.name == name; });
}

bool apply_test(std::string_view name, const Value& operand, const Arguments& arguments,
                Budget& budget) {
  for (const TestEntry& entry : kTests) {
    if (entry.name == name) return entry.function(operand, arguments, budget);
  }
  fail("unsupported test '{}'", name);
}

}  // namespace hllm::jinja
