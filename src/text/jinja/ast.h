// Syntax tree of a parsed template: statements (Node) and expressions (Expression).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/lexer.h"
#include "text/jinja/value.h"

namespace hllm::jinja {

struct Expression;
using ExpressionPtr = std::unique_ptr<Expression>;

struct Expression {
  enum class Kind {
    kLiteral,      // value
    kName,         // the variable called name
    kList,         // children are the items; name is "tuple" for a tuple
    kDict,         // children are key, value, key, value...
    kAttribute,    // children[0].name
    kSubscript,    // children[0][children[1]]
    kSlice,        // children[0][children[1]:children[2]:children[3]], null when left out
    kCall,         // children[0](children[1...]); the last keyword_names.size() are keywords
    kFilter,       // children[0] | name(children[1...]); same keyword layout as kCall
    kTest,         // children[0] is [not] name(children[1...]); same keyword layout as kCall
    kUnary,        // name is "-", "+" or "not"; children[0] is the operand
    kBinary,       // name is the operator: + - * / // % ** ~ and or
    kCompare,      // children are the operands, operators lie between them (Python chaining)
    kConditional,  // children[1] if children[0] else children[2]; children[2] may be null
  };

  Kind kind = Kind::kLiteral;
  Position position;
  Value value;
  std::string name;
  std::vector<ExpressionPtr> children;
  std::vector<std::string> keyword_names;
  std::vector<std::string> operators;
  bool negated = false;  // for kTest: "is not"
  int depth = 1;         // height of this subtree, bounded by the parser
};

struct Node;
using NodeList = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expression }}
    kIf,        // branches; the else branch has a null condition
    kFor,       // for targets in expression [if condition]: body [else: else_body]
    kSet,       // set targets = expression, or set target_object.name = expression
    kSetBlock,  // set name: the rendered body
    kMacro,     // macro name(parameters = defaults): body
    kBreak,
    kContinue,
    kFilterBlock,  // filter filters: body
    kScope,        // with assignments: body (also Hugging Face's generation block)
  };

  Kind kind = Kind::kText;
  Position position;
  std::string text;
  std::string name;
  std::vector<std::string> targets;
  ExpressionPtr expression;
  ExpressionPtr condition;
  ExpressionPtr target_object;
  std::vector<std::pair<ExpressionPtr, NodeList>> branches;
  NodeList body;
  NodeList else_body;
  std::vector<std::string> parameters;
  std::vector<ExpressionPtr> defaults;  // one per parameter, null when required
  std::vector<ExpressionPtr> filters;   // kFilter expressions whose children[0] is null
  std::vector<std::pair<std::string, ExpressionPtr>> assignments;
};

}  // namespace hllm::jinja
