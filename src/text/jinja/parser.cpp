#include "text/jinja/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "util/error.h"

namespace hllm::jinja {
namespace {

const char* describe(TokenType type) {
  switch (type) {
    case TokenType::kText:
      return "text";
    case TokenType::kVariableBegin:
      return "'{{'";
    case TokenType::kVariableEnd:
      return "'}}'";
    case TokenType::kBlockBegin:
      return "'{%'";
    case TokenType::kBlockEnd:
      return "'%}'";
    case TokenType::kName:
      return "name";
    case TokenType::kString:
      return "string";
    case TokenType::kInteger:
      return "integer";
    case TokenType::kFloat:
      return "float";
    case TokenType::kOperator:
      return "operator";
    case TokenType::kEnd:
      return "end of template";
  }
  return "token";
}

std::string describe(const Token& token) {
  if (token.type == TokenType::kName || token.type == TokenType::kOperator) {
    return "'" + token.text + "'";
  }
  return describe(token.type);
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& name, int max_depth)
      : tokens_(std::move(tokens)), name_(name), max_depth_(max_depth) {}

  NodeList parse_template() {
    std::string end;
    NodeList nodes = parse_statements({}, end);
    if (current().type != TokenType::kEnd) error(current(), "unexpected " + describe(current()));
    return nodes;
  }

 private:
  // Counts nesting while a parse function is active, so hostile input cannot exhaust the stack.
  class DepthGuard {
   public:
    DepthGuard(Parser& parser, const Token& token) : parser_(parser) {
      if (++parser_.depth_ > parser_.max_depth_) {
        parser_.error(token,
                      fmt::format("template nests deeper than {} levels", parser_.max_depth_));
      }
    }
    ~DepthGuard() { --parser_.depth_; }

   private:
    Parser& parser_;
  };

  const Token& current() const { return tokens_[index_]; }
  const Token& peek(size_t ahead = 1) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() {
    const Token& token = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }

  [[noreturn]] void error(const Token& token, const std::string& message) const {
    fail_at(name_, token.position, message);
  }

  bool is_operator(std::string_view text) const {
    return current().type == TokenType::kOperator && current().text == text;
  }
  bool is_name(std::string_view text) const {
    return current().type == TokenType::kName && current().text == text;
  }
  bool skip_operator(std::string_view text) {
    if (!is_operator(text)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view text) {
    if (!is_name(text)) return false;
    advance();
    return true;
  }
  void expect_operator(std::string_view text) {
    if (!skip_operator(text)) {
      error(current(), fmt::format("expected '{}', found {}", text, describe(current())));
    }
  }
  void expect_type(TokenType type) {
    if (current().type != type) {
      error(current(), fmt::format("expected {}, found {}", describe(type), describe(current())));
    }
    advance();
  }
  std::string expect_identifier() {
    if (current().type != TokenType::kName) {
      error(current(), "expected a name, found " + describe(current()));
    }
    return advance().text;
  }

  ExpressionPtr make(Expression::Kind kind, const Token& token) {
    auto expression = std::make_unique<Expression>();
    expression->kind = kind;
    expression->position = token.position;
    return expression;
  }

  // Appends a child and checks the height of the tree, which evaluation recurses over.
  void add_child(Expression& parent, ExpressionPtr child) {
    if (child != nullptr) {
      parent.depth = std::max(parent.depth, child->depth + 1);
      if (parent.depth > max_depth_) {
        fail_at(name_, parent.position,
                fmt::format("expression nests deeper than {} levels", max_depth_));
      }
    }
    parent.children.push_back(std::move(child));
  }

  ExpressionPtr make_binary(const Token& token, std::string op, ExpressionPtr left,
                            ExpressionPtr right) {
    auto node = make(Expression::Kind::kBinary, token);
    node->name = std::move(op);
    add_child(*node, std::move(left));
    add_child(*node, std::move(right));
    return node;
  }

  // ---- Statements ----

  // Parses text, output and statements until a block tag whose keyword is in end_keywords. On
  // return the current token is that keyword, and end is set to it.
  NodeList parse_statements(std::initializer_list<std::string_view> end_keywords,
                            std::string& end) {
    NodeList nodes;
    while (true) {
      const Token& token = current();
      if (token.type == TokenType::kEnd) {
        if (end_keywords.size() == 0) return nodes;
        // The last keyword closes the statement ("endif" after "elif" and "else").
        error(token, fmt::format("missing '{{% {} %}}' before the end of the template",
                                 *(end_keywords.end() - 1)));
      }
      if (token.type == TokenType::kText) {
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::kText;
        node->position = token.position;
        node->text = advance().text;
        nodes.push_back(std::move(node));
      } else if (token.type == TokenType::kVariableBegin) {
        advance();
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::kOutput;
        node->position = token.position;
        node->expression = parse_tuple(true);
        expect_type(TokenType::kVariableEnd);
        nodes.push_back(std::move(node));
      } else if (token.type == TokenType::kBlockBegin) {
        advance();
        const Token& keyword = current();
        if (keyword.type == TokenType::kName && std::find(end_keywords.begin(), end_keywords.end(),
                                                          keyword.text) != end_keywords.end()) {
          end = keyword.text;
          return nodes;
        }
        nodes.push_back(parse_statement());
      } else {
        error(token, "unexpected " + describe(token));
      }
    }
  }

  // Parses the body of a block statement up to its end tag and consumes that tag.
  NodeList parse_body(std::string_view end_keyword) {
    std::string end;
    NodeList body = parse_statements({end_keyword}, end);
    advance();
    expect_type(TokenType::kBlockEnd);
    return body;
  }

  std::unique_ptr<Node> parse_statement() {
    const Token& keyword = current();
    DepthGuard guard(*this, keyword);
    if (keyword.type != TokenType::kName) {
      error(keyword, "expected a statement keyword, found " + describe(keyword));
    }
    const std::string& word = keyword.text;
    if (word == "if") return parse_if();
    if (word == "for") return parse_for();
    if (word == "set") return parse_set();
    if (word == "macro") return parse_macro();
    if (word == "filter") return parse_filter_block();
    if (word == "with") return parse_with();
    if (word == "generation") return parse_generation();
    if (word == "break" || word == "continue") return parse_loop_control();
    if (word.rfind("end", 0) == 0 || word == "elif" || word == "else") {
      error(keyword, fmt::format("unexpected '{}' without a matching opening statement", word));
    }
    error(keyword, fmt::format("unsupported statement '{}'", word));
  }

  std::unique_ptr<Node> make_node(Node::Kind kind, const Token& token) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->position = token.position;
    return node;
  }

  std::unique_ptr<Node> parse_if() {
    // Jinja2 reads if and elif conditions without "x if y else z", so an inline "if" there is
    // a syntax error.
    auto node = make_node(Node::Kind::kIf, advance());
    ExpressionPtr condition = parse_tuple(false);
    while (true) {
      expect_type(TokenType::kBlockEnd);
      std::string end;
      NodeList body = parse_statements({"elif", "else", "endif"}, end);
      node->branches.emplace_back(std::move(condition), std::move(body));
      advance();
      if (end == "elif") {
        condition = parse_tuple(false);
        continue;
      }
      if (end == "else") {
        expect_type(TokenType::kBlockEnd);
        node->branches.emplace_back(nullptr, parse_body("endif"));
        return node;
      }
      expect_type(TokenType::kBlockEnd);
      return node;
    }
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> targets;
    const bool parenthesized = skip_operator("(");
    targets.push_back(expect_identifier());
    while (skip_operator(",")) {
      if (current().type != TokenType::kName) break;  // a trailing comma
      targets.push_back(expect_identifier());
    }
    if (parenthesized) expect_operator(")");
    return targets;
  }

  std::unique_ptr<Node> parse_for() {
    auto node = make_node(Node::Kind::kFor, advance());
    node->targets = parse_targets();
    if (!skip_name("in")) error(current(), "expected 'in', found " + describe(current()));
    node->expression = parse_tuple(false);
    if (skip_name("if")) node->condition = parse_expression();
    if (is_name("recursive")) error(current(), "unsupported construct 'recursive' loop");
    expect_type(TokenType::kBlockEnd);

    ++loop_depth_;
    std::string end;
    node->body = parse_statements({"else", "endfor"}, end);
    --loop_depth_;
    advance();
    expect_type(TokenType::kBlockEnd);
    if (end == "else") node->else_body = parse_body("endfor");
    return node;
  }

  std::unique_ptr<Node> parse_set() {
    const Token& keyword = advance();
    auto node = make_node(Node::Kind::kSet, keyword);
    const Token& first = current();
    std::string name = expect_identifier();
    if (skip_operator(".")) {
      // "set ns.attribute = value" assigns into a namespace object.
      auto object = make(Expression::Kind::kName, first);
      object->name = std::move(name);
      node->target_object = std::move(object);
      node->name = expect_identifier();
    } else {
      node->targets.push_back(std::move(name));
      while (skip_operator(","))
        node->targets.push_back(expect_identifier());
    }
    if (is_operator("|")) error(current(), "unsupported construct: filter on a block 'set'");
    if (current().type == TokenType::kBlockEnd) {
      if (node->target_object != nullptr || node->targets.size() != 1) {
        error(current(), "a block 'set' assigns one plain name");
      }
      node->kind = Node::Kind::kSetBlock;
      node->name = node->targets[0];
      advance();
      node->body = parse_body("endset");
      return node;
    }
    expect_operator("=");
    node->expression = parse_tuple(true);
    expect_type(TokenType::kBlockEnd);
    return node;
  }

  std::unique_ptr<Node> parse_macro() {
    auto node = make_node(Node::Kind::kMacro, advance());
    node->name = expect_identifier();
    expect_operator("(");
    while (!is_operator(")")) {
      if (!node->parameters.empty()) expect_operator(",");
      if (is_operator(")")) break;
      const Token& parameter = current();
      node->parameters.push_back(expect_identifier());
      if (skip_operator("=")) {
        node->defaults.push_back(parse_expression());
      } else {
        if (!node->defaults.empty() && node->defaults.back() != nullptr) {
          error(parameter, "a macro parameter without a default follows one with a default");
        }
        node->defaults.push_back(nullptr);
      }
    }
    advance();
    expect_type(TokenType::kBlockEnd);
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    node->body = parse_body("endmacro");
    loop_depth_ = saved_loop_depth;
    return node;
  }

  std::unique_ptr<Node> parse_filter_block() {
    auto node = make_node(Node::Kind::kFilterBlock, advance());
    node->filters.push_back(parse_filter(nullptr));
    while (is_operator("|"))
      node->filters.push_back(parse_filter(nullptr));
    expect_type(TokenType::kBlockEnd);
    node->body = parse_body("endfilter");
    return node;
  }

  std::unique_ptr<Node> parse_with() {
    auto node = make_node(Node::Kind::kScope, advance());
    while (current().type != TokenType::kBlockEnd) {
      if (!node->assignments.empty()) expect_operator(",");
      std::string name = expect_identifier();
      expect_operator("=");
      node->assignments.emplace_back(std::move(name), parse_expression());
    }
    advance();
    node->body = parse_body("endwith");
    return node;
  }

  // Hugging Face's generation block marks assistant text for training masks and renders its
  // body unchanged.
  std::unique_ptr<Node> parse_generation() {
    auto node = make_node(Node::Kind::kScope, advance());
    expect_type(TokenType::kBlockEnd);
    node->body = parse_body("endgeneration");
    return node;
  }

  std::unique_ptr<Node> parse_loop_control() {
    const Token& keyword = advance();
    if (loop_depth_ == 0) error(keyword, fmt::format("'{}' outside of a loop", keyword.text));
    auto node =
        make_node(keyword.text == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, keyword);
    expect_type(TokenType::kBlockEnd);
    return node;
  }

  // ---- Expressions, from the lowest precedence to the highest ----

  // An expression, or a tuple when commas separate several.
  ExpressionPtr parse_tuple(bool with_conditional) {
    const Token& start = current();
    auto first = with_conditional ? parse_expression() : parse_or();
    if (!is_operator(",")) return first;
    auto tuple = make(Expression::Kind::kList, start);
    tuple->name = "tuple";
    add_child(*tuple, std::move(first));
    while (skip_operator(",")) {
      if (ends_tuple()) break;
      add_child(*tuple, with_conditional ? parse_expression() : parse_or());
    }
    return tuple;
  }

  bool ends_tuple() const {
    const TokenType type = current().type;
    return type == TokenType::kBlockEnd || type == TokenType::kVariableEnd || is_operator(")") ||
           is_operator("]") || is_operator("}") || is_name("if") || is_name("recursive");
  }

  ExpressionPtr parse_expression() {
    DepthGuard guard(*this, current());
    const Token& start = current();
    auto node = parse_or();
    while (skip_name("if")) {
      auto conditional = make(Expression::Kind::kConditional, start);
      add_child(*conditional, parse_or());
      add_child(*conditional, std::move(node));
      add_child(*conditional, skip_name("else") ? parse_expression() : nullptr);
      node = std::move(conditional);
    }
    return node;
  }

  ExpressionPtr parse_or() {
    auto left = parse_and();
    while (is_name("or")) {
      const Token& token = advance();
      left = make_binary(token, "or", std::move(left), parse_and());
    }
    return left;
  }

  ExpressionPtr parse_and() {
    auto left = parse_not();
    while (is_name("and")) {
      const Token& token = advance();
      left = make_binary(token, "and", std::move(left), parse_not());
    }
    return left;
  }

  ExpressionPtr parse_not() {
    if (!is_name("not")) return parse_compare();
    const Token& token = advance();
    DepthGuard guard(*this, token);
    auto node = make(Expression::Kind::kUnary, token);
    node->name = "not";
    add_child(*node, parse_not());
    return node;
  }

  ExpressionPtr parse_compare() {
    const Token& start = current();
    auto first = parse_math1();
    ExpressionPtr compare;
    while (true) {
      std::string op;
      const Token& token = current();
      if (token.type == TokenType::kOperator &&
          (token.text == "==" || token.text == "!=" || token.text == "<" || token.text == "<=" ||
           token.text == ">" || token.text == ">=")) {
        op = token.text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::kName && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (compare == nullptr) {
        compare = make(Expression::Kind::kCompare, start);
        add_child(*compare, std::move(first));
      }
      compare->operators.push_back(op);
      add_child(*compare, parse_math1());
    }
    return compare != nullptr ? std::move(compare) : std::move(first);
  }

  ExpressionPtr parse_math1() {
    auto left = parse_concat();
    while (is_operator("+") || is_operator("-")) {
      const Token& token = advance();
      left = make_binary(token, token.text, std::move(left), parse_concat());
    }
    return left;
  }

  ExpressionPtr parse_concat() {
    auto left = parse_math2();
    while (is_operator("~")) {
      const Token& token = advance();
      left = make_binary(token, "~", std::move(left), parse_math2());
    }
    return left;
  }

  ExpressionPtr parse_math2() {
    auto left = parse_pow();
    while (is_operator("*") || is_operator("/") || is_operator("//") || is_operator("%")) {
      const Token& token = advance();
      left = make_binary(token, token.text, std::move(left), parse_pow());
    }
    return left;
  }

  // Jinja2 evaluates "**" left to right, unlike Python: 2 ** 3 ** 2 is 64.
  ExpressionPtr parse_pow() {
    auto left = parse_unary(true);
    while (is_operator("**")) {
      const Token& token = advance();
      left = make_binary(token, "**", std::move(left), parse_unary(true));
    }
    return left;
  }

  // Unary minus binds looser than filters: -x|abs is abs(-x).
  ExpressionPtr parse_unary(bool with_filter) {
    ExpressionPtr node;
    if (is_operator("-") || is_operator("+")) {
      const Token& token = advance();
      DepthGuard guard(*this, token);
      node = make(Expression::Kind::kUnary, token);
      node->name = token.text;
      add_child(*node, parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_chain(std::move(node));
    return node;
  }

  ExpressionPtr parse_filter_chain(ExpressionPtr node) {
    while (true) {
      if (is_operator("|")) {
        node = parse_filter(std::move(node));
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  // Parses "| name(arguments)". operand is null inside a filter block, where the first filter
  // has no pipe.
  ExpressionPtr parse_filter(ExpressionPtr operand) {
    const Token& pipe = current();
    if (operand != nullptr || is_operator("|")) expect_operator("|");
    auto node = make(Expression::Kind::kFilter, pipe);
    node->name = parse_dotted_name();
    add_child(*node, std::move(operand));
    if (is_operator("(")) parse_arguments(*node);
    return node;
  }

  // Filter and test names may contain dots, as Jinja2 allows for names registered that way.
  std::string parse_dotted_name() {
    std::string name = expect_identifier();
    while (skip_operator("."))
      name += "." + expect_identifier();
    return name;
  }

  ExpressionPtr parse_test(ExpressionPtr operand) {
    const Token& keyword = advance();
    auto node = make(Expression::Kind::kTest, keyword);
    node->negated = skip_name("not");
    node->name = parse_dotted_name();
    add_child(*node, std::move(operand));
    const TokenType type = current().type;
    if (is_operator("(")) {
      parse_arguments(*node);
    } else if ((type == TokenType::kName || type == TokenType::kString ||
                type == TokenType::kInteger || type == TokenType::kFloat || is_operator("[") ||
                is_operator("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      // A test takes one argument without parentheses: "x is divisibleby 3".
      if (is_name("is")) error(current(), "tests cannot be chained with 'is'");
      add_child(*node, parse_postfix(parse_primary()));
    }
    return node;
  }

  ExpressionPtr parse_postfix(ExpressionPtr node) {
    while (true) {
      if (is_operator(".")) {
        const Token& dot = advance();
        const Token& attribute = current();
        if (attribute.type == TokenType::kName) {
          auto access = make(Expression::Kind::kAttribute, dot);
          access->name = advance().text;
          add_child(*access, std::move(node));
          node = std::move(access);
        } else if (attribute.type == TokenType::kInteger) {
          auto access = make(Expression::Kind::kSubscript, dot);
          add_child(*access, std::move(node));
          add_child(*access, parse_primary());
          node = std::move(access);
        } else {
          error(attribute, "expected an attribute name after '.', found " + describe(attribute));
        }
      } else if (is_operator("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExpressionPtr parse_subscript(ExpressionPtr object) {
    const Token& bracket = advance();
    ExpressionPtr start;
    if (!is_operator(":")) {
      start = parse_expression();
      if (skip_operator("]")) {
        auto access = make(Expression::Kind::kSubscript, bracket);
        add_child(*access, std::move(object));
        add_child(*access, std::move(start));
        return access;
      }
      if (is_operator(",")) error(current(), "unsupported construct: tuple subscript");
    }
    expect_operator(":");
    auto slice = make(Expression::Kind::kSlice, bracket);
    add_child(*slice, std::move(object));
    add_child(*slice, std::move(start));
    add_child(*slice, is_operator(":") || is_operator("]") ? nullptr : parse_expression());
    ExpressionPtr step;
    if (skip_operator(":") && !is_operator("]")) step = parse_expression();
    add_child(*slice, std::move(step));
    expect_operator("]");
    return slice;
  }

  // The call takes the position of its callee, so errors point at the function name.
  ExpressionPtr parse_call(ExpressionPtr callee) {
    auto call = make(Expression::Kind::kCall, current());
    call->position = callee->position;
    add_child(*call, std::move(callee));
    parse_arguments(*call);
    return call;
  }

  // Parses "(positional..., name=value...)" into node's children and keyword_names.
  void parse_arguments(Expression& node) {
    DepthGuard guard(*this, current());
    expect_operator("(");
    bool first = true;
    while (!skip_operator(")")) {
      if (!first) {
        expect_operator(",");
        if (skip_operator(")")) break;
      }
      first = false;
      if (is_operator("*") || is_operator("**")) {
        error(current(), "unsupported construct: '*' or '**' argument unpacking");
      }
      if (current().type == TokenType::kName && peek().type == TokenType::kOperator &&
          peek().text == "=") {
        node.keyword_names.push_back(advance().text);
        advance();
        add_child(node, parse_expression());
      } else {
        if (!node.keyword_names.empty()) {
          error(current(), "a positional argument follows a keyword argument");
        }
        add_child(node, parse_expression());
      }
    }
  }

  ExpressionPtr parse_primary() {
    const Token& token = current();
    switch (token.type) {
      case TokenType::kName:
        return parse_name();
      case TokenType::kString: {
        auto literal = make(Expression::Kind::kLiteral, token);
        std::string text;
        while (current().type == TokenType::kString)
          text += advance().text;
        literal->value = Value(std::move(text));
        return literal;
      }
      case TokenType::kInteger: {
        auto literal = make(Expression::Kind::kLiteral, token);
        int64_t number = 0;
        const std::string& digits = token.text;
        const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), number);
        if (result.ec != std::errc()) error(token, "integer literal " + digits + " is too large");
        literal->value = Value(number);
        advance();
        return literal;
      }
      case TokenType::kFloat: {
        auto literal = make(Expression::Kind::kLiteral, token);
        literal->value = Value(std::strtod(token.text.c_str(), nullptr));
        advance();
        return literal;
      }
      case TokenType::kOperator:
        if (token.text == "(") return parse_parenthesized();
        if (token.text == "[") return parse_list();
        if (token.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    error(token, "unexpected " + describe(token));
  }

  ExpressionPtr parse_name() {
    const Token& token = advance();
    auto node = make(Expression::Kind::kLiteral, token);
    const std::string& word = token.text;
    if (word == "true" || word == "True") {
      node->value = Value(true);
    } else if (word == "false" || word == "False") {
      node->value = Value(false);
    } else if (word == "none" || word == "None") {
      node->value = Value(nullptr);
    } else {
      node->kind = Expression::Kind::kName;
      node->name = word;
    }
    return node;
  }

  ExpressionPtr parse_parenthesized() {
    const Token& paren = advance();
    DepthGuard guard(*this, paren);
    if (skip_operator(")")) {
      auto empty = make(Expression::Kind::kList, paren);
      empty->name = "tuple";
      return empty;
    }
    auto node = parse_tuple(true);
    expect_operator(")");
    return node;
  }

  ExpressionPtr parse_list() {
    const Token& bracket = advance();
    DepthGuard guard(*this, bracket);
    auto list = make(Expression::Kind::kList, bracket);
    while (!skip_operator("]")) {
      if (!list->children.empty()) {
        expect_operator(",");
        if (skip_operator("]")) break;
      }
      add_child(*list, parse_expression());
    }
    return list;
  }

  ExpressionPtr parse_dict() {
    const Token& brace = advance();
    DepthGuard guard(*this, brace);
    auto dict = make(Expression::Kind::kDict, brace);
    while (!skip_operator("}")) {
      if (!dict->children.empty()) {
        expect_operator(",");
        if (skip_operator("}")) break;
      }
      add_child(*dict, parse_expression());
      expect_operator(":");
      add_child(*dict, parse_expression());
    }
    return dict;
  }

  std::vector<Token> tokens_;
  const std::string& name_;
  int max_depth_;
  size_t index_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

NodeList parse(std::vector<Token> tokens, const std::string& template_name, int max_depth) {
  return Parser(std::move(tokens), template_name, max_depth).parse_template();
}

}  // namespace hllm::jinja
