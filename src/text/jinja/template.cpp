#include "text/jinja/template.h"

#include "text/jinja/ast.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/lexer.h"
#include "text/jinja/parser.h"

namespace hllm::jinja {
Template::Template(std::string source, std::string name, Limits limits)
    : name_(std::move(name)), limits_(limits) {
  // Like Jinja2 3, unknown filters and tests fail when they run, not here, so a template that
  // uses one only in a branch a conversation never reaches still renders.
  nodes_ = parse(tokenize(source, name_), name_, limits_.max_nesting_depth);
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const nlohmann::ordered_json& context) const {
  return render_nodes(nodes_, name_, limits_, context);
}

}  // namespace hllm::jinja
