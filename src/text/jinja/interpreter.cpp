#include "text/jinja/interpreter.h"

#include <ctime>
#include <memory>

#include "text/jinja/builtins.h"
#include "text/jinja/lexer.h"
#include "util/error.h"

namespace hllm::jinja {
namespace {

// Nested evaluate and render calls allowed at once. Parsing bounds the nesting of one template
// body, and this bounds macro recursion times that nesting to keep the native stack small.
constexpr int kMaxRecursionDepth = 1000;

// Variables of one scope. Jinja2 opens a scope for each loop iteration, macro call and with
// block, while "if" shares its surrounding scope.
struct Frame {
  Object variables;
  std::shared_ptr<Frame> parent;
};
using FramePtr = std::shared_ptr<Frame>;

class Renderer {
 public:
  Renderer(const std::string& name, const Limits& limits) : name_(name), budget_(limits) {}

  ~Renderer() {
    // Namespaces may refer to each other or to themselves. Emptying them breaks those cycles
    // and long chains before the values are destroyed.
    for (const Value& object : namespaces_)
      object.mutable_namespace().clear();
  }

  std::string render(const NodeList& nodes, const nlohmann::ordered_json& context) {
    auto globals = std::make_shared<Frame>();
    install_globals(globals->variables);
    root_ = std::make_shared<Frame>();
    root_->parent = globals;
    if (!context.is_object() && !context.is_null()) {
      fail("template context must be a JSON object, got {}", context.type_name());
    }
    if (context.is_object()) {
      for (const auto& [key, value] : context.items()) {
        root_->variables.set(key, Value::from_json(value));
      }
    }
    std::string out;
    render_list(nodes, root_, out);
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  class RecursionGuard {
   public:
    explicit RecursionGuard(Renderer& renderer) : renderer_(renderer) {
      if (++renderer_.recursion_depth_ > kMaxRecursionDepth) {
        fail("template recursion is deeper than {} levels", kMaxRecursionDepth);
      }
    }
    ~RecursionGuard() { --renderer_.recursion_depth_; }

   private:
    Renderer& renderer_;
  };

  void append(std::string& out, std::string_view text) {
    budget_.check_string(out.size() + text.size());
    out += text;
  }

  // ---- Statements ----

  Flow render_list(const NodeList& nodes, const FramePtr& frame, std::string& out) {
    for (const auto& node : nodes) {
      const Flow flow = render_node(*node, frame, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow render_node(const Node& node, const FramePtr& frame, std::string& out) {
    try {
      RecursionGuard guard(*this);
      return render_node_unchecked(node, frame, out);
    } catch (const TemplateError&) {
      throw;
    } catch (const Error& error) {
      fail_at(name_, node.position, error.what());
    }
  }

  Flow render_node_unchecked(const Node& node, const FramePtr& frame, std::string& out) {
    switch (node.kind) {
      case Node::Kind::kText:
        append(out, node.text);
        return Flow::kNormal;
      case Node::Kind::kOutput: {
        const Value value = evaluate(*node.expression, frame);
        std::string text;
        append_str(value, text, budget_);
        append(out, text);
        return Flow::kNormal;
      }
      case Node::Kind::kIf:
        for (const auto& [condition, body] : node.branches) {
          if (condition == nullptr || evaluate(*condition, frame).truthy()) {
            return render_list(body, frame, out);
          }
        }
        return Flow::kNormal;
      case Node::Kind::kFor:
        render_for(node, frame, out);
        return Flow::kNormal;
      case Node::Kind::kSet:
        render_set(node, frame);
        return Flow::kNormal;
      case Node::Kind::kSetBlock: {
        std::string captured;
        render_list(node.body, frame, captured);
        frame->variables.set(node.name, Value(std::move(captured)));
        return Flow::kNormal;
      }
      case Node::Kind::kMacro:
        define_macro(node, frame);
        return Flow::kNormal;
      case Node::Kind::kBreak:
        return Flow::kBreak;
      case Node::Kind::kContinue:
        return Flow::kContinue;
      case Node::Kind::kFilterBlock: {
        std::string captured;
        const Flow flow = render_list(node.body, frame, captured);
        Value value(std::move(captured));
        for (const auto& filter : node.filters)
          value = apply_filter_node(*filter, value, frame);
        std::string text;
        append_str(value, text, budget_);
        append(out, text);
        return flow;
      }
      case Node::Kind::kScope: {
        auto scope = std::make_shared<Frame>();
        scope->parent = frame;
        for (const auto& [name, expression] : node.assignments) {
          scope->variables.set(name, evaluate(*expression, frame));
        }
        return render_list(node.body, scope, out);
      }
    }
    return Flow::kNormal;
  }

  // Binds one loop item or assigned value to several names, as Python unpacking does.
  void unpack(const std::vector<std::string>& targets, const Value& value, Frame& frame) {
    if (targets.size() == 1) {
      frame.variables.set(targets[0], value);
      return;
    }
    if (value.is_undefined()) fail_undefined(value);
    const Array items = iterate(value, budget_);
    if (items.size() != targets.size()) {
      fail("cannot unpack {} values into {} names", items.size(), targets.size());
    }
    for (size_t i = 0; i < items.size(); ++i)
      frame.variables.set(targets[i], items[i]);
  }

  void render_for(const Node& node, const FramePtr& frame, std::string& out) {
    const Value iterable = evaluate(*node.expression, frame);
    if (iterable.is_none()) fail("'NoneType' object is not iterable");
    Array items = iterate(iterable, budget_);

    // The "if" clause filters before the loop counts, so loop.index and loop.length see only
    // the items that pass.
    if (node.condition != nullptr) {
      Array kept;
      for (Value& item : items) {
        budget_.count_loop_iteration();
        auto scope = std::make_shared<Frame>();
        scope->parent = frame;
        unpack(node.targets, item, *scope);
        if (evaluate(*node.condition, scope).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }

    if (items.empty()) {
      render_list(node.else_body, frame, out);
      return;
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      budget_.count_loop_iteration();
      auto scope = std::make_shared<Frame>();
      scope->parent = frame;
      unpack(node.targets, items[static_cast<size_t>(i)], *scope);
      scope->variables.set("loop", loop_object(items, i));
      if (render_list(node.body, scope, out) == Flow::kBreak) break;
    }
  }

  Value loop_object(const Array& items, int64_t i) {
    const int64_t length = static_cast<int64_t>(items.size());
    Object loop;
    loop.add_new("index", Value(i + 1));
    loop.add_new("index0", Value(i));
    loop.add_new("revindex", Value(length - i));
    loop.add_new("revindex0", Value(length - i - 1));
    loop.add_new("first", Value(i == 0));
    loop.add_new("last", Value(i == length - 1));
    loop.add_new("length", Value(length));
    loop.add_new("depth", Value(1));
    loop.add_new("depth0", Value(0));
    loop.add_new("previtem", i > 0 ? items[static_cast<size_t>(i - 1)]
                                   : Value::undefined("there is no previous item"));
    loop.add_new("nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)]
                                            : Value::undefined("there is no next item"));
    loop.add_new(
        "cycle", Value::callable("loop.cycle", [i](Arguments& arguments) {
          if (arguments.positional.empty()) fail("loop.cycle() needs at least one value");
          return arguments.positional[static_cast<size_t>(i) % arguments.positional.size()];
        }));
    return Value(std::move(loop));
  }

  void render_set(const Node& node, const FramePtr& frame) {
    Value value = evaluate(*node.expression, frame);
    if (node.target_object == nullptr) {
      unpack(node.targets, value, *frame);
      return;
    }
    const Value object = evaluate(*node.target_object, frame);
    if (!object.is_namespace()) {
      fail("cannot assign attribute '{}' on '{}': only namespace() objects take attributes",
           node.name, node.target_object->name);
    }
    object.mutable_namespace().set(node.name, std::move(value));
  }

  void define_macro(const Node& node, const FramePtr& frame) {
    std::weak_ptr<Frame> scope = frame;
    const Node* macro = &node;
    frame->variables.set(node.name,
                         Value::callable(node.name, [this, macro, scope](Arguments& arguments) {
                           return call_macro(*macro, scope, arguments);
                         }));
  }

  Value call_macro(const Node& macro, const std::weak_ptr<Frame>& scope, Arguments& arguments) {
    if (call_depth_ >= budget_.limits().max_call_depth) {
      fail("macro '{}' exceeded the limit of {} nested macro calls", macro.name,
           budget_.limits().max_call_depth);
    }
    if (arguments.positional.size() > macro.parameters.size()) {
      fail("macro '{}' takes at most {} arguments ({} given)", macro.name, macro.parameters.size(),
           arguments.positional.size());
    }
    auto frame = std::make_shared<Frame>();
    // NOTE: a macro defined inside a loop iteration that has ended sees the top-level scope.
    frame->parent = scope.lock();
    if (frame->parent == nullptr) frame->parent = root_;

    std::vector<bool> given(macro.parameters.size(), false);
    for (size_t i = 0; i < arguments.positional.size(); ++i) {
      frame->variables.set(macro.parameters[i], arguments.positional[i]);
      given[i] = true;
    }
    for (auto& [name, value] : arguments.keyword) {
      const auto found = std::find(macro.parameters.begin(), macro.parameters.end(), name);
      if (found == macro.parameters.end()) {
        fail("macro '{}' has no parameter named '{}'", macro.name, name);
      }
      const size_t index = static_cast<size_t>(found - macro.parameters.begin());
      if (given[index]) fail("macro '{}' got multiple values for '{}'", macro.name, name);
      frame->variables.set(name, value);
      given[index] = true;
    }
    // Defaults are evaluated at call time and may refer to earlier parameters; a parameter
    // without a default that the caller left out is Undefined, as in Jinja2.
    for (size_t i = 0; i < macro.parameters.size(); ++i) {
      if (given[i]) continue;
      frame->variables.set(macro.parameters[i],
                           macro.defaults[i] != nullptr
                               ? evaluate(*macro.defaults[i], frame)
                               : Value::undefined("'" + macro.parameters[i] + "' is undefined"));
    }

    ++call_depth_;
    std::string out;
    try {
      render_list(macro.body, frame, out);
    } catch (...) {
      --call_depth_;
      throw;
    }
    --call_depth_;
    return Value(std::move(out));
  }

  // ---- Expressions ----

  Value evaluate(const Expression& expression, const FramePtr& frame) {
    try {
      RecursionGuard guard(*this);
      return evaluate_unchecked(expression, frame);
    } catch (const TemplateError&) {
      throw;
    } catch (const Error& error) {
      fail_at(name_, expression.position, error.what());
    }
  }

  Value lookup(const std::string& name, const FramePtr& frame) const {
    for (const Frame* scope = frame.get(); scope != nullptr; scope = scope->parent.get()) {
      if (const Value* found = scope->variables.find(name)) return *found;
    }
    return Value::undefined("'" + name + "' is undefined");
  }

  Arguments evaluate_arguments(const Expression& expression, const FramePtr& frame) {
    Arguments arguments;
    const size_t n_keyword = expression.keyword_names.size();
    const size_t n_positional = expression.children.size() - 1 - n_keyword;
    for (size_t i = 0; i < n_positional; ++i) {
      arguments.positional.push_back(evaluate(*expression.children[1 + i], frame));
    }
    for (size_t i = 0; i < n_keyword; ++i) {
      arguments.keyword.emplace_back(expression.keyword_names[i],
                                     evaluate(*expression.children[1 + n_positional + i], frame));
    }
    return arguments;
  }

  Value apply_filter_node(const Expression& filter, const Value& operand, const FramePtr& frame) {
    const Arguments arguments = evaluate_arguments(filter, frame);
    try {
      return apply_filter(filter.name, operand, arguments, budget_);
    } catch (const TemplateError&) {
      throw;
    } catch (const Error& error) {
      fail_at(name_, filter.position, error.what());
    }
  }

  Value evaluate_unchecked(const Expression& expression, const FramePtr& frame) {
    const auto& children = expression.children;
    switch (expression.kind) {
      case Expression::Kind::kLiteral:
        return expression.value;
      case Expression::Kind::kName:
        return lookup(expression.name, frame);
      case Expression::Kind::kList: {
        Array items;
        for (const auto& child : children)
          items.push_back(evaluate(*child, frame));
        if (expression.name == "tuple") return Value::tuple(std::move(items));
        return Value(std::move(items));
      }
      case Expression::Kind::kDict: {
        Object object;
        for (size_t i = 0; i + 1 < children.size(); i += 2) {
          const Value key = evaluate(*children[i], frame);
          if (!key.is_string()) {
            fail_at(name_, children[i]->position,
                    fmt::format("unsupported construct: dict key of type '{}'", key.type_name()));
          }
          object.set(key.as_string(), evaluate(*children[i + 1], frame));
        }
        return Value(std::move(object));
      }
      case Expression::Kind::kAttribute:
        return get_attribute(evaluate(*children[0], frame), expression.name, budget_);
      case Expression::Kind::kSubscript: {
        const Value object = evaluate(*children[0], frame);
        return get_item(object, evaluate(*children[1], frame), budget_);
      }
      case Expression::Kind::kSlice: {
        const Value object = evaluate(*children[0], frame);
        const auto bound = [&](size_t i) {
          return children[i] != nullptr ? evaluate(*children[i], frame) : Value(nullptr);
        };
        return get_slice(object, bound(1), bound(2), bound(3), budget_);
      }
      case Expression::Kind::kCall: {
        const Value callee = evaluate(*children[0], frame);
        if (callee.is_undefined()) fail_undefined(callee);
        if (!callee.is_callable()) fail("'{}' object is not callable", callee.type_name());
        Arguments arguments = evaluate_arguments(expression, frame);
        return callee.as_callable().call(arguments);
      }
      case Expression::Kind::kFilter: {
        const Value operand = evaluate(*children[0], frame);
        return apply_filter(expression.name, operand, evaluate_arguments(expression, frame),
                            budget_);
      }
      case Expression::Kind::kTest: {
        const Value operand = evaluate(*children[0], frame);
        const bool passed =
            apply_test(expression.name, operand, evaluate_arguments(expression, frame), budget_);
        return Value(passed != expression.negated);
      }
      case Expression::Kind::kUnary: {
        const Value operand = evaluate(*children[0], frame);
        if (expression.name == "not") return Value(!operand.truthy());
        return unary_operation(expression.name, operand);
      }
      case Expression::Kind::kBinary: {
        // "and" and "or" short-circuit and return an operand, as in Python.
        Value left = evaluate(*children[0], frame);
        if (expression.name == "and") return left.truthy() ? evaluate(*children[1], frame) : left;
        if (expression.name == "or") return left.truthy() ? left : evaluate(*children[1], frame);
        const Value right = evaluate(*children[1], frame);
        return binary_operation(expression.name, left, right, budget_);
      }
      case Expression::Kind::kCompare: {
        Value left = evaluate(*children[0], frame);
        for (size_t i = 0; i < expression.operators.size(); ++i) {
          Value right = evaluate(*children[i + 1], frame);
          if (!compare_operation(expression.operators[i], left, right, budget_)) {
            return Value(false);
          }
          left = std::move(right);
        }
        return Value(true);
      }
      case Expression::Kind::kConditional:
        if (evaluate(*children[0], frame).truthy()) return evaluate(*children[1], frame);
        if (children[2] != nullptr) return evaluate(*children[2], frame);
        return Value::undefined("the conditional expression has no else branch");
    }
    return Value();
  }

  // ---- Global functions ----

  void install_globals(Object& globals) {
    Budget* budget = &budget_;
    globals.add_new(
        "range", Value::callable("range", [budget](Arguments& arguments) {
          const auto bound = bind_arguments("range", arguments, {"start", "stop", "step"}, 1);
          for (const Value& value : bound) {
            if (!value.is_undefined() && !value.is_int() && !value.is_bool()) {
              fail("range() expects integers, got '{}'", value.type_name());
            }
          }
          int64_t start = 0;
          int64_t stop = bound[0].as_int();
          if (!bound[1].is_undefined()) {
            start = bound[0].as_int();
            stop = bound[1].as_int();
          }
          const int64_t step = bound[2].is_undefined() ? 1 : bound[2].as_int();
          if (step == 0) fail("range() step must not be zero");
          Array items;
          for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            budget->check_list(items.size() + 1);
            items.emplace_back(i);
            if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
          }
          budget->spend(items.size());
          return Value(std::move(items));
        }));
    globals.add_new("namespace", Value::callable("namespace", [this](Arguments& arguments) {
                      Object attributes;
                      if (arguments.positional.size() > 1)
                        fail("namespace() takes at most one dict");
                      if (!arguments.positional.empty()) {
                        if (!arguments.positional[0].is_object()) {
                          fail("namespace() expects a dict, got '{}'",
                               arguments.positional[0].type_name());
                        }
                        attributes = arguments.positional[0].as_object();
                      }
                      for (auto& [name, value] : arguments.keyword)
                        attributes.set(name, value);
                      budget_.spend();
                      Value object = Value::namespace_object(std::move(attributes));
                      namespaces_.push_back(object);
                      return object;
                    }));
    globals.add_new("dict", Value::callable("dict", [](Arguments& arguments) {
                      Object object;
                      if (arguments.positional.size() > 1) fail("dict() takes at most one dict");
                      if (!arguments.positional.empty()) {
                        if (!arguments.positional[0].is_object()) {
                          fail("dict() expects a dict, got '{}'",
                               arguments.positional[0].type_name());
                        }
                        object = arguments.positional[0].as_object();
                      }
                      for (auto& [name, value] : arguments.keyword)
                        object.set(name, value);
                      return Value(std::move(object));
                    }));
    // Hugging Face templates call raise_exception to reject malformed conversations.
    globals.add_new(
        "raise_exception", Value::callable("raise_exception", [budget](Arguments& arguments) {
          const auto bound = bind_arguments("raise_exception", arguments, {"message"}, 1);
          fail("template raised an exception: {}", to_str(bound[0], *budget));
          return Value();
        }));
    globals.add_new("strftime_now", Value::callable("strftime_now", [](Arguments& arguments) {
                      const auto bound = bind_arguments("strftime_now", arguments, {"format"}, 1);
                      if (!bound[0].is_string()) fail("strftime_now() expects a format string");
                      const std::time_t now = std::time(nullptr);
                      std::tm local{};
                      localtime_r(&now, &local);
                      char buffer[256];
                      const size_t n = std::strftime(buffer, sizeof buffer,
                                                     bound[0].as_string().c_str(), &local);
                      return Value(std::string(buffer, n));
                    }));
  }

  const std::string& name_;
  Budget budget_;
  FramePtr root_;
  std::vector<Value> namespaces_;
  int call_depth_ = 0;
  int recursion_depth_ = 0;
};

}  // namespace

std::string render_nodes(const NodeList& nodes, const std::string& template_name,
                         const Limits& limits, const nlohmann::ordered_json& context) {
  return Renderer(template_name, limits).render(nodes, context);
}

}  // namespace hllm::jinja
