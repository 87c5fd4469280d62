// Attribute and item access, slicing, iteration, operators and the methods of str and dict.
#include "text/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "text/jinja/lexer.h"
#include "util/error.h"

namespace hllm::jinja {

std::vector<Value> bind_arguments(std::string_view function, const Arguments& arguments,
                                  std::initializer_list<std::string_view> parameters,
                                  size_t n_required) {
  std::vector<Value> bound(parameters.size());
  std::vector<bool> given(parameters.size(), false);
  if (arguments.positional.size() > parameters.size()) {
    fail("{}() takes at most {} arguments ({} given)", function, parameters.size(),
         arguments.positional.size());
  }
  for (size_t i = 0; i < arguments.positional.size(); ++i) {
    bound[i] = arguments.positional[i];
    given[i] = true;
  }
  for (const auto& [name, value] : arguments.keyword) {
    const auto found = std::find(parameters.begin(), parameters.end(), name);
    if (found == parameters.end()) {
      fail("{}() got an unexpected keyword argument '{}'", function, name);
    }
    const size_t index = static_cast<size_t>(found - parameters.begin());
    if (given[index]) fail("{}() got multiple values for argument '{}'", function, name);
    bound[index] = value;
    given[index] = true;
  }
  for (size_t i = 0; i < n_required; ++i) {
    if (!given[i]) {
      fail("{}() is missing the required argument '{}'", function, *(parameters.begin() + i));
    }
  }
  return bound;
}

void fail_undefined(const Value& undefined) {
  fail("{}", undefined.undefined_message().empty() ? std::string("value is undefined")
                                                   : undefined.undefined_message());
}

// ---- UTF-8 and Python string helpers ----

namespace {

size_t character_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 1;  // a stray continuation or invalid byte counts as one character
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

std::vector<std::string_view> split_characters(std::string_view text) {
  std::vector<std::string_view> characters;
  for (size_t i = 0; i < text.size();) {
    const size_t length =
        std::min(character_length(static_cast<unsigned char>(text[i])), text.size() - i);
    characters.push_back(text.substr(i, length));
    i += length;
  }
  return characters;
}

size_t count_characters(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    i += std::min(character_length(static_cast<unsigned char>(text[i])), text.size() - i);
  }
  return count;
}

std::string strip_text(std::string_view text, const std::string* chars, bool left, bool right) {
  // NOTE: without chars only ASCII whitespace is stripped; Python also strips Unicode spaces
  // such as U+00A0 and U+3000.
  std::vector<std::string_view> strip_set;
  if (chars != nullptr) strip_set = split_characters(*chars);
  const auto strippable = [&](std::string_view character) {
    if (chars == nullptr) return character.size() == 1 && is_space(character[0]);
    return std::find(strip_set.begin(), strip_set.end(), character) != strip_set.end();
  };
  const std::vector<std::string_view> characters = split_characters(text);
  size_t begin = 0;
  size_t end = characters.size();
  if (left) {
    while (begin < end && strippable(characters[begin]))
      ++begin;
  }
  if (right) {
    while (end > begin && strippable(characters[end - 1]))
      --end;
  }
  if (begin == end) return "";
  const size_t byte_begin = static_cast<size_t>(characters[begin].data() - text.data());
  const size_t byte_end =
      static_cast<size_t>(characters[end - 1].data() - text.data()) + characters[end - 1].size();
  return std::string(text.substr(byte_begin, byte_end - byte_begin));
}

namespace {

std::string type_description(const Value& value) {
  if (value.is_none()) return "None";
  return std::string(value.type_name()) + " object";
}

Value missing_attribute(const Value& object, const std::string& name) {
  return Value::undefined(
      fmt::format("'{}' has no attribute '{}'", type_description(object), name));
}

Value missing_element(const Value& object, const Value& key, Budget& budget) {
  std::string key_text;
  append_repr(key, key_text, budget);
  return Value::undefined(
      fmt::format("'{}' has no element {}", type_description(object), key_text));
}

std::string ascii_upper(std::string text) {
  // NOTE: Python also changes the case of non-ASCII letters; this leaves them unchanged.
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

std::string ascii_lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

const std::string& require_string(const Value& value, std::string_view function,
                                  std::string_view parameter) {
  if (value.is_undefined()) fail_undefined(value);
  if (!value.is_string()) {
    fail("{}() expects a string for '{}', got '{}'", function, parameter, value.type_name());
  }
  return value.as_string();
}

int64_t require_int(const Value& value, std::string_view function, std::string_view parameter) {
  if (value.is_undefined()) fail_undefined(value);
  if (!value.is_int() && !value.is_bool()) {
    fail("{}() expects an integer for '{}', got '{}'", function, parameter, value.type_name());
  }
  return value.as_int();
}

// Python's str.split and str.rsplit. A null separator splits on whitespace runs.
Array split_text(const std::string& text, const std::string* separator, int64_t max_split,
                 bool from_right) {
  std::vector<std::string> parts;
  if (separator == nullptr) {
    std::vector<std::pair<size_t, size_t>> words;
    for (size_t i = 0; i < text.size();) {
      while (i < text.size() && is_space(text[i]))
        ++i;
      if (i == text.size()) break;
      size_t end = i;
      while (end < text.size() && !is_space(text[end]))
        ++end;
      words.emplace_back(i, end);
      i = end;
    }
    if (max_split < 0 || static_cast<size_t>(max_split) >= words.size()) {
      for (const auto& [begin, end] : words)
        parts.push_back(text.substr(begin, end - begin));
    } else if (!from_right) {
      for (size_t i = 0; i < static_cast<size_t>(max_split); ++i) {
        parts.push_back(text.substr(words[i].first, words[i].second - words[i].first));
      }
      // Python keeps the whitespace inside and after the unsplit remainder.
      const size_t rest = words[static_cast<size_t>(max_split)].first;
      parts.push_back(text.substr(rest));
    } else {
      const size_t first_kept = words.size() - static_cast<size_t>(max_split);
      parts.push_back(text.substr(0, words[first_kept - 1].second));
      for (size_t i = first_kept; i < words.size(); ++i) {
        parts.push_back(text.substr(words[i].first, words[i].second - words[i].first));
      }
    }
  } else {
    if (separator->empty()) fail("split() separator is empty");
    std::vector<size_t> cuts;
    if (!from_right) {
      for (size_t at = text.find(*separator); at != std::string::npos;
           at = text.find(*separator, at + separator->size())) {
        if (max_split >= 0 && cuts.size() == static_cast<size_t>(max_split)) break;
        cuts.push_back(at);
      }
    } else {
      size_t limit = text.size();
      while (limit >= separator->size()) {
        const size_t at = text.rfind(*separator, limit - separator->size());
        if (at == std::string::npos) break;
        if (max_split >= 0 && cuts.size() == static_cast<size_t>(max_split)) break;
        cuts.push_back(at);
        limit = at;
      }
      std::reverse(cuts.begin(), cuts.end());
    }
    size_t begin = 0;
    for (size_t at : cuts) {
      parts.push_back(text.substr(begin, at - begin));
      begin = at + separator->size();
    }
    parts.push_back(text.substr(begin));
  }
  Array items;
  items.reserve(parts.size());
  for (auto& part : parts)
    items.emplace_back(std::move(part));
  return items;
}

std::string replace_text(const std::string& text, const std::string& old_text,
                         const std::string& new_text, int64_t count, Budget& budget) {
  std::string out;
  int64_t done = 0;
  if (old_text.empty()) {
    // Python inserts the replacement before every character and at the end.
    for (std::string_view character : split_characters(text)) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      out += character;
      budget.check_string(out.size());
    }
    if (count < 0 || done < count) out += new_text;
  } else {
    size_t begin = 0;
    for (size_t at = text.find(old_text); at != std::string::npos && (count < 0 || done < count);
         at = text.find(old_text, begin)) {
      out.append(text, begin, at - begin);
      out += new_text;
      budget.check_string(out.size());
      begin = at + old_text.size();
      ++done;
    }
    out.append(text, begin, std::string::npos);
  }
  budget.check_string(out.size());
  budget.spend_bytes(out.size());
  return out;
}

// Python's str.format with "{}", "{0}" and "{name}" fields; format specifications are not
// supported.
std::string format_text(const std::string& format, const Arguments& arguments, Budget& budget) {
  std::string out;
  size_t next_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) fail("format() string has an unmatched '{{'");
    const std::string field = format.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) {
      fail("unsupported construct: format() field '{}' with a conversion or specification", field);
    }
    const Value* value = nullptr;
    if (field.empty() ||
        std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t index = field.empty() ? next_index++ : std::stoul(field);
      if (index >= arguments.positional.size()) fail("format() has no argument {}", index);
      value = &arguments.positional[index];
    } else {
      for (const auto& [name, argument] : arguments.keyword) {
        if (name == field) value = &argument;
      }
      if (value == nullptr) fail("format() has no keyword argument '{}'", field);
    }
    append_str(*value, out, budget);
    i = close;
  }
  budget.check_string(out.size());
  return out;
}

// Normalizes Python slice bounds to indices into a sequence of length n.
std::vector<size_t> slice_indices(size_t n, const Value& start, const Value& stop,
                                  const Value& step) {
  const auto bound = [](const Value& value) -> std::optional<int64_t> {
    if (value.is_none() || value.is_undefined()) return std::nullopt;
    if (!value.is_int() && !value.is_bool()) {
      fail("slice indices must be integers or None, got '{}'", value.type_name());
    }
    return value.as_int();
  };
  const int64_t length = static_cast<int64_t>(n);
  const int64_t stride = bound(step).value_or(1);
  if (stride == 0) fail("slice step cannot be zero");
  const int64_t lower = stride > 0 ? 0 : -1;
  const int64_t upper = stride > 0 ? length : length - 1;
  const auto clamp = [&](std::optional<int64_t> index, int64_t fallback) {
    if (!index) return fallback;
    int64_t value = *index;
    if (value < 0) {
      value += length;
      return value < lower ? lower : value;
    }
    return value > upper ? upper : value;
  };
  const int64_t first = clamp(bound(start), stride > 0 ? 0 : length - 1);
  const int64_t last = clamp(bound(stop), stride > 0 ? length : -1);
  std::vector<size_t> indices;
  for (int64_t i = first; stride > 0 ? i < last : i > last; i += stride) {
    indices.push_back(static_cast<size_t>(i));
  }
  return indices;
}

std::string slice_string(const std::string& text, const Value& start, const Value& stop,
                         const Value& step) {
  std::string out;
  if (is_ascii(text)) {
    for (size_t i : slice_indices(text.size(), start, stop, step))
      out += text[i];
    return out;
  }
  const std::vector<std::string_view> characters = split_characters(text);
  for (size_t i : slice_indices(characters.size(), start, stop, step))
    out += characters[i];
  return out;
}

Value bound_method(std::string name, std::function<Value(Arguments&)> call) {
  return Value::callable(std::move(name), std::move(call));
}

// The methods of str that templates call, bound to text.
Value string_method(const std::string& text, const std::string& name, Budget& budget) {
  Budget* work = &budget;
  if (name == "startswith" || name == "endswith") {
    const bool at_start = name == "startswith";
    return bound_method(name, [text, name, at_start](Arguments& arguments) {
      const auto bound = bind_arguments(name, arguments, {"prefix", "start", "end"}, 1);
      std::string subject = text;
      if (!bound[1].is_undefined() || !bound[2].is_undefined()) {
        subject = slice_string(text, bound[1], bound[2], Value());
      }
      std::vector<std::string> candidates;
      if (bound[0].is_array()) {
        for (const Value& item : bound[0].as_array()) {
          candidates.push_back(require_string(item, name, "prefix"));
        }
      } else {
        candidates.push_back(require_string(bound[0], name, "prefix"));
      }
      for (const std::string& candidate : candidates) {
        if (candidate.size() > subject.size()) continue;
        const size_t offset = at_start ? 0 : subject.size() - candidate.size();
        if (subject.compare(offset, candidate.size(), candidate) == 0) return Value(true);
      }
      return Value(false);
    });
  }

  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return bound_method(name, [text, name](Arguments& arguments) {
      const auto bound = bind_arguments(name, arguments, {"chars"}, 0);
      const std::string* chars = nullptr;
      if (!bound[0].is_undefined() && !bound[0].is_none()) {
        chars = &require_string(bound[0], name, "chars");
      }
      return Value(strip_text(text, chars, name != "rstrip", name != "lstrip"));
    });
  }

  if (name == "split" || name == "rsplit") {
    return bound_method(name, [text, name, work](Arguments& arguments) {
      const auto bound = bind_arguments(name, arguments, {"sep", "maxsplit"}, 0);
      const std::string* separator = nullptr;
      if (!bound[0].is_undefined() && !bound[0].is_none()) {
        separator = &require_string(bound[0], name, "sep");
      }
      const int64_t max_split =
          bound[1].is_undefined() ? -1 : require_int(bound[1], name, "maxsplit");
      Array parts = split_text(text, separator, max_split, name == "rsplit");
      work->check_list(parts.size());
      work->spend_bytes(text.size());
      return Value(std::move(parts));
    });
  }

  if (name == "upper" || name == "lower") {
    return bound_method(name, [text, name](Arguments& arguments) {
      bind_arguments(name, arguments, {}, 0);
      return Value(name == "upper" ? ascii_upper(text) : ascii_lower(text));
    });
  }

  if (name == "title" || name == "capitalize") {
    return bound_method(name, [text, name](Arguments& arguments) {
      bind_arguments(name, arguments, {}, 0);
      std::string out = ascii_lower(text);
      bool word_start = true;
      for (size_t i = 0; i < out.size(); ++i) {
        if (word_start && is_ascii_letter(out[i])) out[i] = ascii_upper(std::string(1, out[i]))[0];
        word_start = name == "title" ? !is_ascii_letter(out[i]) : false;
      }
      return Value(std::move(out));
    });
  }

  if (name == "replace") {
    return bound_method(name, [text, work](Arguments& arguments) {
      const auto bound = bind_arguments("replace", arguments, {"old", "new", "count"}, 2);
      const int64_t count =
          bound[2].is_undefined() ? -1 : require_int(bound[2], "replace", "count");
      return Value(replace_text(text, require_string(bound[0], "replace", "old"),
                                require_string(bound[1], "replace", "new"), count, *work));
    });
  }

  if (name == "find" || name == "rfind" || name == "count") {
    return bound_method(name, [text, name](Arguments& arguments) {
      const auto bound = bind_arguments(name, arguments, {"sub"}, 1);
      const std::string& needle = require_string(bound[0], name, "sub");
      if (name == "count") {
        if (needle.empty()) return Value(static_cast<int64_t>(count_characters(text) + 1));
        int64_t count = 0;
        for (size_t at = text.find(needle); at != std::string::npos;
             at = text.find(needle, at + needle.size())) {
          ++count;
        }
        return Value(count);
      }
      const size_t at = name == "find" ? text.find(needle) : text.rfind(needle);
      if (at == std::string::npos) return Value(static_cast<int64_t>(-1));
      return Value(static_cast<int64_t>(count_characters(std::string_view(text).substr(0, at))));
    });
  }

  if (name == "join") {
    return bound_method(name, [text, work](Arguments& arguments) {
      const auto bound = bind_arguments("join", arguments, {"iterable"}, 1);
      std::string out;
      bool first = true;
      for (const Value& item : iterate(bound[0], *work)) {
        if (!first) out += text;
        first = false;
        out += require_string(item, "join", "iterable");
        work->check_string(out.size());
      }
      work->spend_bytes(out.size());
      return Value(std::move(out));
    });
  }

  if (name == "format") {
    return bound_method(name, [text, work](Arguments& arguments) {
      return Value(format_text(text, arguments, *work));
    });
  }

  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "islower" || name == "isupper") {
    return bound_method(name, [text, name](Arguments& arguments) {
      bind_arguments(name, arguments, {}, 0);
      if (name == "islower" || name == "isupper") {
        const bool lower = name == "islower";
        bool has_cased = false;
        for (char c : text) {
          if (!is_ascii_letter(c)) continue;
          has_cased = true;
          if ((c >= 'a' && c <= 'z') != lower) return Value(false);
        }
        return Value(has_cased);
      }
      if (text.empty()) return Value(false);
      for (char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool ok = name == "isdigit"   ? digit
                        : name == "isalpha" ? is_ascii_letter(c)
                        : name == "isalnum" ? digit || is_ascii_letter(c)
                                            : is_space(c);
        if (!ok) return Value(false);
      }
      return Value(true);
    });
  }
  return Value();
}

// The methods of dict that templates call, bound to object.
Value dict_method(const Value& object, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return bound_method(name, [object, name](Arguments& arguments) {
      bind_arguments(name, arguments, {}, 0);
      Array items;
      for (const auto& [key, value] : object.as_object().entries()) {
        if (name == "items") {
          items.push_back(Value::tuple({Value(key), value}));
        } else {
          items.push_back(name == "keys" ? Value(key) : value);
        }
      }
      return Value(std::move(items));
    });
  }
  if (name == "get") {
    return bound_method(name, [object](Arguments& arguments) {
      const auto bound = bind_arguments("get", arguments, {"key", "default"}, 1);
      if (bound[0].is_string()) {
        if (const Value* found = object.as_object().find(bound[0].as_string())) return *found;
      }
      return bound[1].is_undefined() ? Value(nullptr) : bound[1];
    });
  }
  return Value();
}

}  // namespace

// ---- Access ----

Value get_attribute(const Value& object, const std::string& name, Budget& budget) {
  switch (object.kind()) {
    case Value::Kind::kUndefined:
      fail_undefined(object);
    case Value::Kind::kString: {
      Value method = string_method(object.as_string(), name, budget);
      return method.is_undefined() ? missing_attribute(object, name) : method;
    }
    case Value::Kind::kObject: {
      Value method = dict_method(object, name);
      if (!method.is_undefined()) return method;
      if (const Value* found = object.as_object().find(name)) return *found;
      return missing_attribute(object, name);
    }
    case Value::Kind::kNamespace: {
      if (const Value* found = object.as_object().find(name)) return *found;
      return missing_attribute(object, name);
    }
    default:
      return missing_attribute(object, name);
  }
}

Value get_item(const Value& object, const Value& key, Budget& budget) {
  if (object.is_undefined()) fail_undefined(object);
  if (key.is_undefined()) fail_undefined(key);
  if ((object.is_array() || object.is_string()) && (key.is_int() || key.is_bool())) {
    const bool ascii = object.is_string() && is_ascii(object.as_string());
    std::vector<std::string_view> characters;
    if (object.is_string() && !ascii) characters = split_characters(object.as_string());
    const int64_t length = object.is_array() ? static_cast<int64_t>(object.as_array().size())
                           : ascii           ? static_cast<int64_t>(object.as_string().size())
                                             : static_cast<int64_t>(characters.size());
    int64_t index = key.as_int();
    if (index < 0) index += length;
    if (index < 0 || index >= length) return missing_element(object, key, budget);
    const size_t at = static_cast<size_t>(index);
    if (object.is_array()) return object.as_array()[at];
    if (ascii) return Value(std::string(1, object.as_string()[at]));
    return Value(std::string(characters[at]));
  }
  if (object.is_object() && key.is_string()) {
    if (const Value* found = object.as_object().find(key.as_string())) return *found;
  }
  if (key.is_string()) return get_attribute(object, key.as_string(), budget);
  return missing_element(object, key, budget);
}

Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step,
                Budget& budget) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_string()) return Value(slice_string(object.as_string(), start, stop, step));
  if (object.is_array()) {
    const Array& items = object.as_array();
    Array out;
    for (size_t i : slice_indices(items.size(), start, stop, step))
      out.push_back(items[i]);
    budget.spend(out.size());
    return Value(std::move(out));
  }
  return Value::undefined(fmt::format("'{}' cannot be sliced", type_description(object)));
}

Array iterate(const Value& value, Budget& budget) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kArray:
      budget.spend(value.as_array().size());
      return value.as_array();
    case Value::Kind::kObject: {
      Array keys;
      for (const auto& entry : value.as_object().entries())
        keys.emplace_back(entry.first);
      budget.spend(keys.size());
      return keys;
    }
    case Value::Kind::kString: {
      Array characters;
      for (std::string_view character : split_characters(value.as_string())) {
        characters.emplace_back(std::string(character));
      }
      budget.spend(characters.size());
      return characters;
    }
    default:
      fail("'{}' object is not iterable", value.type_name());
  }
}

bool contains(const Value& container, const Value& item, Budget& budget) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (item.is_undefined()) fail_undefined(item);
      if (!item.is_string()) {
        fail("'in <string>' requires a string as left operand, not '{}'", item.type_name());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kArray:
      for (const Value& element : container.as_array()) {
        if (equals(element, item, budget)) return true;
      }
      return false;
    case Value::Kind::kObject:
      return item.is_string() && container.as_object().find(item.as_string()) != nullptr;
    default:
      fail("argument of type '{}' is not iterable", container.type_name());
  }
}

// ---- Operators ----

namespace {

[[noreturn]] void fail_operands(std::string_view op, const Value& left, const Value& right) {
  if (left.is_undefined()) fail_undefined(left);
  if (right.is_undefined()) fail_undefined(right);
  fail("unsupported operand types for {}: '{}' and '{}'", op, left.type_name(), right.type_name());
}

bool is_integral(const Value& value) {
  return value.is_int() || value.is_bool();
}

Value repeat(const Value& sequence, int64_t times, Budget& budget) {
  if (times < 0) times = 0;
  if (sequence.is_string()) {
    const std::string& text = sequence.as_string();
    if (times > 0 &&
        text.size() > budget.limits().max_string_bytes / static_cast<uint64_t>(times)) {
      budget.check_string(budget.limits().max_string_bytes + 1);
    }
    std::string out;
    for (int64_t i = 0; i < times; ++i)
      out += text;
    budget.spend_bytes(out.size());
    return Value(std::move(out));
  }
  const Array& items = sequence.as_array();
  if (times > 0 && items.size() > budget.limits().max_list_items / static_cast<uint64_t>(times)) {
    budget.check_list(budget.limits().max_list_items + 1);
  }
  Array out;
  for (int64_t i = 0; i < times; ++i)
    out.insert(out.end(), items.begin(), items.end());
  budget.spend(out.size());
  return Value(std::move(out));
}

void check_overflow(bool overflow, std::string_view op) {
  if (overflow) fail("integer overflow in '{}'", op);
}

Value arithmetic(std::string_view op, const Value& left, const Value& right) {
  const bool integers = is_integral(left) && is_integral(right);
  if (integers) {
    const int64_t a = left.as_int();
    const int64_t b = right.as_int();
    int64_t result = 0;
    if (op == "+" || op == "-" || op == "*") {
      const bool overflow = op == "+"   ? __builtin_add_overflow(a, b, &result)
                            : op == "-" ? __builtin_sub_overflow(a, b, &result)
                                        : __builtin_mul_overflow(a, b, &result);
      check_overflow(overflow, op);
      return Value(result);
    }
    if (op == "//" || op == "%") {
      if (b == 0) fail("integer division or modulo by zero");
      if (a == INT64_MIN && b == -1) fail("integer overflow in '{}'", op);
      int64_t quotient = a / b;
      int64_t remainder = a % b;
      if (remainder != 0 && ((remainder < 0) != (b < 0))) {
        --quotient;  // Python floors toward negative infinity
        remainder += b;
      }
      return Value(op == "//" ? quotient : remainder);
    }
    if (op == "**" && b >= 0) {
      int64_t power = 1;
      for (int64_t i = 0; i < b; ++i) {
        check_overflow(__builtin_mul_overflow(power, a, &power), op);
        if (power == 0 || power == 1) break;
      }
      if (power == 1 && a == -1 && b % 2 == 1) power = -1;
      return Value(power);
    }
  }
  const double a = left.as_float();
  const double b = right.as_float();
  if (op == "+") return Value(a + b);
  if (op == "-") return Value(a - b);
  if (op == "*") return Value(a * b);
  if (op == "/") {
    if (b == 0) fail("division by zero");
    return Value(a / b);
  }
  if (op == "//" || op == "%") {
    if (b == 0) fail("float division or modulo by zero");
    // Python's float divmod: the remainder takes the sign of the divisor.
    double remainder = std::fmod(a, b);
    if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
    if (op == "%") return Value(remainder);
    const double quotient = (a - std::fmod(a, b)) / b;
    double floored = std::floor(quotient);
    if (quotient - floored > 0.5) floored += 1;
    if (std::fmod(a, b) != 0 && ((std::fmod(a, b) < 0) != (b < 0))) floored -= 1;
    return Value(floored);
  }
  if (op == "**") {
    if (a == 0 && b < 0) fail("0.0 cannot be raised to a negative power");
    return Value(std::pow(a, b));
  }
  fail("unknown operator '{}'", op);
}

}  // namespace

Value binary_operation(std::string_view op, const Value& left, const Value& right, Budget& budget) {
  if (op == "~") {
    std::string out;
    append_str(left, out, budget);
    append_str(right, out, budget);
    budget.check_string(out.size());
    budget.spend_bytes(out.size());
    return Value(std::move(out));
  }
  if (left.is_number() && right.is_number()) return arithmetic(op, left, right);
  if (op == "+" && left.is_string() && right.is_string()) {
    budget.check_string(left.as_string().size() + right.as_string().size());
    budget.spend_bytes(left.as_string().size() + right.as_string().size());
    return Value(left.as_string() + right.as_string());
  }
  if (op == "+" && left.is_array() && right.is_array()) {
    budget.check_list(left.as_array().size() + right.as_array().size());
    Array items = left.as_array();
    items.insert(items.end(), right.as_array().begin(), right.as_array().end());
    budget.spend(items.size());
    return Value(std::move(items));
  }
  if (op == "*" && (left.is_string() || left.is_array()) && is_integral(right)) {
    return repeat(left, right.as_int(), budget);
  }
  if (op == "*" && is_integral(left) && (right.is_string() || right.is_array())) {
    return repeat(right, left.as_int(), budget);
  }
  if (op == "%" && left.is_string()) {
    return Value(percent_format(left.as_string(),
                                right.is_array() ? right.as_array() : Array{right}, budget));
  }
  fail_operands(op, left, right);
}

Value unary_operation(std::string_view op, const Value& operand) {
  if (operand.is_undefined()) fail_undefined(operand);
  if (!operand.is_number()) {
    fail("bad operand type for unary {}: '{}'", op, operand.type_name());
  }
  if (op == "+") return operand.is_float() ? operand : Value(operand.as_int());
  if (operand.is_float()) return Value(-operand.as_float());
  if (operand.as_int() == INT64_MIN) fail("integer overflow in unary -");
  return Value(-operand.as_int());
}

bool compare_operation(std::string_view op, const Value& left, const Value& right, Budget& budget) {
  if (op == "==") return equals(left, right, budget);
  if (op == "!=") return !equals(left, right, budget);
  if (op == "in") return contains(right, left, budget);
  if (op == "not in") return !contains(right, left, budget);
  if (left.is_undefined()) fail_undefined(left);
  if (right.is_undefined()) fail_undefined(right);
  const int order = compare(left, right, budget);
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  return order >= 0;
}

std::string percent_format(const std::string& format, const Array& values, Budget& budget) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t end = i + 1;
    while (end < format.size() &&
           std::string_view("-+ #0123456789.").find(format[end]) != std::string_view::npos) {
      ++end;
    }
    if (end >= format.size()) fail("incomplete format specification in '{}'", format);
    const char type = format[end];
    const std::string flags = format.substr(i + 1, end - i - 1);
    i = end;
    if (type == '%') {
      out += '%';
      continue;
    }
    if (next >= values.size()) fail("not enough arguments for format string '{}'", format);
    const Value& value = values[next++];
    char buffer[128];
    if (type == 's' || type == 'r') {
      std::string text;
      if (type == 's') {
        append_str(value, text, budget);
      } else {
        append_repr(value, text, budget);
      }
      if (flags.empty()) {
        out += text;
      } else {
        std::snprintf(buffer, sizeof buffer, ("%" + flags + "s").c_str(), text.c_str());
        out += buffer;
      }
    } else if (type == 'd' || type == 'i') {
      if (!value.is_number())
        fail("%{} format requires a number, not '{}'", type, value.type_name());
      const long long number =
          value.is_float() ? static_cast<long long>(value.as_float()) : value.as_int();
      std::snprintf(buffer, sizeof buffer, ("%" + flags + "lld").c_str(), number);
      out += buffer;
    } else if (type == 'f' || type == 'F' || type == 'e' || type == 'E' || type == 'g' ||
               type == 'G') {
      if (!value.is_number())
        fail("%{} format requires a number, not '{}'", type, value.type_name());
      std::snprintf(buffer, sizeof buffer, ("%" + flags + type).c_str(), value.as_float());
      out += buffer;
    } else {
      fail("unsupported format character '{}' in '{}'", type, format);
    }
    budget.check_string(out.size());
  }
  if (next < values.size()) fail("not all arguments converted during string formatting");
  return out;
}

}  // namespace hllm::jinja
