// Operations on values with Jinja2's semantics: attribute and item access, slicing, iteration,
// operators, the methods of str and dict, filters and tests. Failures throw an Error without a
// position; the renderer adds the position of the expression.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "text/jinja/value.h"

namespace hllm::jinja {

// Binds call arguments to parameters by position and keyword, as Python does. Returns one
// value per parameter, Undefined where the caller passed nothing. Throws for unknown keywords,
// repeated parameters, too many positional arguments and a missing one among the first
// n_required parameters.
std::vector<Value> bind_arguments(std::string_view function, const Arguments& arguments,
                                  std::initializer_list<std::string_view> parameters,
                                  size_t n_required);

// Throws the error that using an Undefined value raises.
[[noreturn]] void fail_undefined(const Value& undefined);

// object.name: methods of str and dict first, then the dict key or namespace attribute, as
// Jinja2's getattr does. Returns Undefined when nothing matches and throws when object is
// Undefined.
Value get_attribute(const Value& object, const std::string& name, Budget& budget);
// object[key]: the dict key, list or string index (negative counts from the end), then a method
// of that name. Returns Undefined when nothing matches and throws when object is
// Undefined.
Value get_item(const Value& object, const Value& key, Budget& budget);
// object[start:stop:step] on a list or string, with Python's index rules. None or Undefined
// bounds are left out.
Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step,
                Budget& budget);

// The items a for loop visits: list items, dict keys, the characters of a string. Undefined
// yields nothing.
Array iterate(const Value& value, Budget& budget);
// Python's "item in container".
bool contains(const Value& container, const Value& item, Budget& budget);

// Binary operators + - * / // % ** and ~, with Python's numeric rules.
Value binary_operation(std::string_view op, const Value& left, const Value& right, Budget& budget);
// Unary - and +.
Value unary_operation(std::string_view op, const Value& operand);
// One comparison of a chain: == != < <= > >= in, "not in".
bool compare_operation(std::string_view op, const Value& left, const Value& right, Budget& budget);

// Filters and tests by name. apply_* throw for unknown names.
bool has_filter(std::string_view name);
Value apply_filter(std::string_view name, const Value& operand, const Arguments& arguments,
                   Budget& budget);
bool has_test(std::string_view name);
bool apply_test(std::string_view name, const Value& operand, const Arguments& arguments,
                Budget& budget);

// UTF-8 helpers shared by the string operations.
std::vector<std::string_view> split_characters(std::string_view text);
size_t count_characters(std::string_view text);
// Python's str.strip family. chars null strips whitespace; lstrip/rstrip pick the ends.
std::string strip_text(std::string_view text, const std::string* chars, bool left, bool right);
// printf-style formatting for "text" % values and the format filter.
std::string percent_format(const std::string& format, const Array& values, Budget& budget);

}  // namespace hllm::jinja
