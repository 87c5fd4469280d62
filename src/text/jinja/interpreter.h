// Executes a parsed template against a context of variables.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace hllm::jinja {

// Renders nodes with the top-level keys of context as variables, next to the global functions
// range, namespace, dict, raise_exception and strftime_now. Throws an Error with the position
// of the failing expression or statement, and when a limit is exceeded.
std::string render_nodes(const NodeList& nodes, const std::string& template_name,
                         const Limits& limits, const nlohmann::ordered_json& context);

}  // namespace hllm::jinja
