// Recursive-descent parser for the Jinja2 subset that chat templates use, with Jinja2's operator
// precedence.
#pragma once

#include <string>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace hllm::jinja {

// Parses a token list from tokenize(). Throws an Error with the position for a syntax error or
// an unsupported construct, and when statements or expressions nest deeper than max_depth.
NodeList parse(std::vector<Token> tokens, const std::string& template_name, int max_depth);

}  // namespace hllm::jinja
