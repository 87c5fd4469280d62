// Values of the template language. They follow Python's data model as Jinja2 exposes it: None,
// booleans, 64-bit integers, doubles, strings, lists, insertion-ordered dicts, Jinja2's Undefined,
// namespace() objects and callables (macros, built-in functions and bound methods).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hllm::jinja {

class Value;
class Budget;
using Array = std::vector<Value>;

// A dict with string keys in insertion order, like a Python dict built from JSON.
class Object {
 public:
  const Value* find(std::string_view key) const;
  // Replaces the value of an existing key in place, or appends the key.
  void set(std::string key, Value value);
  // Appends a key that the caller knows is absent, in constant time.
  void add_new(std::string key, Value value);
  void clear() { entries_.clear(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, Value>> entries_;
};

// Positional and keyword arguments of one call, after evaluation.
struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A function value. The callee reports failures by throwing an Error without a position, and the
// caller adds the position of the call.
struct Callable {
  std::string name;
  std::function<Value(Arguments& arguments)> call;
};

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kArray,
    kObject,
    kNamespace,
    kCallable
  };

  Value() = default;  // Undefined
  Value(std::nullptr_t) : kind_(Kind::kNone) {}
  Value(bool value) : kind_(Kind::kBool), int_(value) {}
  Value(int value) : kind_(Kind::kInt), int_(value) {}
  Value(int64_t value) : kind_(Kind::kInt), int_(value) {}
  Value(double value) : kind_(Kind::kFloat), float_(value) {}
  Value(std::string value) : kind_(Kind::kString), string_(std::move(value)) {}
  Value(const char* value) : kind_(Kind::kString), string_(value) {}
  Value(Array value);   // throws when nested deeper than kMaxValueDepth
  Value(Object value);  // throws when nested deeper than kMaxValueDepth

  // Undefined with the message that using it as a value raises, as Jinja2 words it
  // ("'x' is undefined", "'dict object' has no attribute 'y'").
  static Value undefined(std::string message);
  static Value namespace_object(Object attributes);
  // A list that Python would hold as a tuple. Only its repr differs: (1, 2).
  static Value tuple(Array items);
  static Value callable(std::string name, std::function<Value(Arguments&)> call);
  // Converts JSON; throws when it nests deeper than kMaxValueDepth.
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_tuple() const { return kind_ == Kind::kArray && tuple_; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // also the value of a bool
  double as_float() const { return is_float() ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return string_; }
  const Array& as_array() const { return *array_; }
  // The dict of an object, or the attributes of a namespace.
  const Object& as_object() const { return *object_; }
  Object& mutable_namespace() const { return *object_; }
  const Callable& as_callable() const { return *callable_; }
  // For Undefined: the message that using it raises.
  const std::string& undefined_message() const { return string_; }
  // Nesting depth of lists and dicts: 0 for scalars, namespaces and callables.
  int depth() const { return depth_; }

  // Python truthiness: empty strings and containers, zero, None and Undefined are false.
  bool truthy() const;
  // The Python type name used in messages ("str", "int", "list", "dict", "NoneType").
  std::string_view type_name() const;

 private:
  static Value from_json_at(const nlohmann::ordered_json& json, int depth);

  Kind kind_ = Kind::kUndefined;
  int depth_ = 0;
  bool tuple_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  std::shared_ptr<const Array> array_;
  std::shared_ptr<Object> object_;
  std::shared_ptr<const Callable> callable_;
};

// Bounds on one render of an untrusted template. The defaults are estimates that leave room for
// prompts of a few million tokens.
struct Limits {
  uint64_t max_loop_iterations = 1'000'000;  // over all loops of one render
  uint64_t max_steps = 100'000'000;    // values visited plus 64-byte units of string data built
  size_t max_string_bytes = 64 << 20;  // any string, the output included
  size_t max_list_items = 1'000'000;
  int max_call_depth = 100;     // nested macro calls
  int max_nesting_depth = 200;  // nested statements and expressions in the source
};

// Nesting depth of lists and dicts that a value may reach. Deeper values come only from hostile
// input and would overflow the stack of the recursive serializers.
inline constexpr int kMaxValueDepth = 500;

// Tracks the limits of one render. Operations whose cost grows with nested values (comparison,
// serialization) spend steps, and every string or list a template builds is checked against the
// size caps, so a hostile template cannot loop forever or exhaust memory.
class Budget {
 public:
  explicit Budget(const Limits& limits) : limits_(limits) {}

  void count_loop_iteration();
  void spend(uint64_t steps = 1);
  void spend_bytes(size_t n_bytes) { spend(1 + n_bytes / 64); }
  void check_string(size_t n_bytes) const;
  void check_list(size_t n_items) const;
  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
  uint64_t loop_iterations_ = 0;
  uint64_t steps_ = 0;
};

// Python's str(value) appended to out: strings as they are, None as "None", lists and dicts as
// their repr. Undefined renders as the empty string.
void append_str(const Value& value, std::string& out, Budget& budget);
std::string to_str(const Value& value, Budget& budget);
// Python's repr(value) appended to out.
void append_repr(const Value& value, std::string& out, Budget& budget);

struct JsonStyle {
  int indent = -1;  // negative: one line
  bool sort_keys = false;
  std::string item_separator = ", ";  // json.dumps uses "," when it indents
  std::string key_separator = ": ";
};
// json.dumps(value, ensure_ascii=False) with the given style. Throws for Undefined and callables.
void append_json(const Value& value, std::string& out, const JsonStyle& style, Budget& budget);

// Python's repr of a float ("1.0", "0.1", "1e-05", "1e+16", "inf", "nan").
std::string format_float(double value);

// Python ==, with 1 == 1.0 == True and deep comparison of lists and dicts.
bool equals(const Value& a, const Value& b, Budget& budget);
// Python's ordering for numbers, strings and lists: negative, zero or positive. Throws for
// other types, as Python does.
int compare(const Value& a, const Value& b, Budget& budget);

}  // namespace hllm::jinja
