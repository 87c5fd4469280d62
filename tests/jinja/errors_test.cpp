// Errors, positions and the limits that protect against hostile templates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "text/jinja/template.h"
#include "util/error.h"

namespace hllm::jinja {
namespace {

// Passes when message contains fragment, and prints both otherwise.
testing::AssertionResult Contains(const std::string& message, const std::string& fragment) {
  if (message.find(fragment) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "expected a message containing \"" << fragment << "\", got \"" << message << "\"";
}

// Parses and renders source, and returns the message of the Error it throws, or "no error".
std::string error_of(const std::string& source, const std::string& context = "{}",
                     const Limits& limits = {}) {
  try {
    const Template parsed(source, "t", limits);
    parsed.render(nlohmann::ordered_json::parse(context));
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

std::string render(const std::string& source, const std::string& context = "{}") {
  return Template(source, "t").render(nlohmann::ordered_json::parse(context));
}

TEST(TemplateErrors, UnsupportedStatementNamesPosition) {
  EXPECT_EQ(error_of("{% include 'other.jinja' %}"), "t:1:4: unsupported statement 'include'");
  EXPECT_EQ(error_of("line one\nline two\n  {% extends 'base' %}"),
            "t:3:6: unsupported statement 'extends'");
  EXPECT_EQ(error_of("{% for x in items recursive %}{% endfor %}"),
            "t:1:19: unsupported construct 'recursive' loop");
  EXPECT_EQ(error_of("{% do items.append(1) %}"), "t:1:4: unsupported statement 'do'");
}

TEST(TemplateErrors, UnknownFilterFailsWhenReached) {
  // Jinja2 3 reports unknown filters and tests when they run, so unreached branches may use them.
  EXPECT_EQ(render("{% if false %}{{ value | bogus }}{% endif %}ok"), "ok");
  EXPECT_EQ(error_of("{% if true %}\n  {{ value | bogus }}\n{% endif %}"),
            "t:2:12: unsupported filter 'bogus'");
  EXPECT_EQ(error_of("{{ value is bogus }}"), "t:1:10: unsupported test 'bogus'");
  EXPECT_EQ(error_of("{{ value | my.filter }}"), "t:1:10: unsupported filter 'my.filter'");
}

TEST(TemplateErrors, SyntaxErrorsNamePosition) {
  EXPECT_EQ(error_of("{{ 1 + }}"), "t:1:8: unexpected '}}'");
  EXPECT_EQ(error_of("ab\n{{ x "), "t:2:1: missing end of variable tag '}}'");
  EXPECT_EQ(error_of("{% if x %}open"),
            "t:1:15: missing '{% endif %}' before the end of the template");
  EXPECT_EQ(error_of("{# never closed"), "t:1:1: missing end of comment tag '#}'");
  EXPECT_EQ(error_of("{{ 'unterminated }}"), "t:1:4: unterminated string literal");
  EXPECT_EQ(error_of("{% break %}"), "t:1:4: 'break' outside of a loop");
  EXPECT_EQ(error_of("{% endfor %}"),
            "t:1:4: unexpected 'endfor' without a matching opening statement");
  EXPECT_EQ(error_of("{{ a ! b }}"), "t:1:6: unexpected character '!' in tag");
  EXPECT_EQ(error_of("{{ (1 ] }}"), "t:1:7: unexpected ']', expected ')'");
  EXPECT_EQ(error_of("{{ f(a=1, 2) }}"),
            "t:1:11: a positional argument follows a keyword argument");
  EXPECT_EQ(error_of("{% if a if b else c %}{% endif %}"), "t:1:9: expected '%}', found 'if'");
}

TEST(TemplateErrors, UndefinedFailsOnlyWhereJinja2Does) {
  // Rendering, testing and filtering Undefined succeed, but looking into it fails.
  EXPECT_EQ(render("[{{ missing }}{{ missing is defined }}{{ missing|length }}]"), "[False0]");
  EXPECT_EQ(error_of("{{ missing.attribute }}"), "t:1:11: 'missing' is undefined");
  EXPECT_EQ(error_of("{{ missing['key'] }}"), "t:1:11: 'missing' is undefined");
  EXPECT_EQ(error_of("{{ m.foo.bar }}", R"({"m": {}})"),
            "t:1:9: 'dict object' has no attribute 'foo'");
  EXPECT_EQ(error_of("{{ m.content.startswith('x') }}", R"({"m": {"content": null}})"),
            "t:1:13: 'None' has no attribute 'startswith'");
  EXPECT_EQ(error_of("{{ missing + 1 }}"), "t:1:12: 'missing' is undefined");
  EXPECT_EQ(error_of("{{ missing|tojson }}"),
            "t:1:11: object of type 'Undefined' is not JSON serializable");
  EXPECT_EQ(error_of("{{ missing() }}"), "t:1:4: 'missing' is undefined");
}

TEST(TemplateErrors, TypeErrorsNamePosition) {
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "t:1:8: unsupported operand types for +: 'str' and 'int'");
  EXPECT_EQ(error_of("{{ 1 < 'a' }}"),
            "t:1:4: ordering is not supported between instances of 'int' and 'str'");
  EXPECT_EQ(error_of("{{ 1 / 0 }}"), "t:1:6: division by zero");
  EXPECT_EQ(error_of("{% for x in none %}{% endfor %}"),
            "t:1:4: 'NoneType' object is not iterable");
  EXPECT_EQ(error_of("{% set d = {} %}{% set d.x = 1 %}"),
            "t:1:20: cannot assign attribute 'x' on 'd': only namespace() objects take attributes");
  EXPECT_EQ(error_of("{{ 9223372036854775807 + 1 }}"), "t:1:24: integer overflow in '+'");
  EXPECT_EQ(error_of("{% set a, b = [1] %}"), "t:1:4: cannot unpack 1 values into 2 names");
}

TEST(TemplateErrors, RaiseExceptionCarriesMessage) {
  const std::string source =
      "{% for m in messages %}\n"
      "{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Unknown role: ' ~ m.role) }}"
      "{% endif %}\n"
      "{% endfor %}";
  EXPECT_EQ(error_of(source, R"({"messages": [{"role": "user"}, {"role": "robot"}]})"),
            "t:2:48: template raised an exception: Unknown role: robot");
}

TEST(TemplateErrors, MacroArgumentsAreChecked) {
  EXPECT_EQ(error_of("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}"),
            "t:1:34: macro 'f' takes at most 1 arguments (2 given)");
  EXPECT_EQ(error_of("{% macro f(a) %}{% endmacro %}{{ f(b=1) }}"),
            "t:1:34: macro 'f' has no parameter named 'b'");
}

TEST(TemplateLimits, LoopIterationsAreBounded) {
  Limits limits;
  limits.max_loop_iterations = 50;
  EXPECT_EQ(error_of("{% for i in range(10) %}{% for j in range(10) %}{% endfor %}{% endfor %}",
                     "{}", limits),
            "t:1:28: template exceeded the limit of 50 loop iterations");
  EXPECT_EQ(error_of("{% for i in range(5) %}{% for j in range(9) %}{% endfor %}{% endfor %}", "{}",
                     limits),
            "no error");
}

TEST(TemplateLimits, LargeRangesAreRejected) {
  EXPECT_EQ(error_of("{{ range(10000000000)|length }}"),
            "t:1:4: template built a list of more than 1000000 items");
}

TEST(TemplateLimits, OutputSizeIsBounded) {
  Limits limits;
  limits.max_string_bytes = 500;
  EXPECT_TRUE(Contains(error_of("{% for i in range(100) %}0123456789{% endfor %}", "{}", limits),
                       "template built a string of more than 500 bytes"));
  EXPECT_TRUE(Contains(error_of("{{ 'ab' * 1000 }}", "{}", limits),
                       "template built a string of more than 500 bytes"));
  // Doubling a string 60 times would need exabytes, so the default cap stops it early.
  EXPECT_TRUE(Contains(error_of("{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
                                "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
                       "template built a string of more than 67108864 bytes"));
  EXPECT_TRUE(Contains(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                                "{% set ns.l = ns.l + ns.l %}{% endfor %}"),
                       "template built a list of more than 1000000 items"));
}

TEST(TemplateLimits, WorkIsBounded) {
  Limits limits;
  limits.max_steps = 1'000'000;
  // Each comparison visits 100,000 items, so a hundred of them exceed a million steps.
  EXPECT_TRUE(Contains(error_of("{% set big = range(100000)|list %}{% for i in range(100) %}"
                                "{% if big == big[:] %}{% endif %}{% endfor %}",
                                "{}", limits),
                       "template exceeded its work limit of 1000000 steps"));
}

TEST(TemplateLimits, MacroRecursionIsBounded) {
  EXPECT_TRUE(Contains(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                       "macro 'f' exceeded the limit of 100 nested macro calls"));
  Limits limits;
  limits.max_call_depth = 5;
  EXPECT_EQ(error_of("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                     "{{ f(4) }}",
                     "{}", limits),
            "no error");
  EXPECT_TRUE(
      Contains(error_of("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                        "{{ f(5) }}",
                        "{}", limits),
               "exceeded the limit of 5 nested macro calls"));
}

TEST(TemplateLimits, SourceNestingIsBounded) {
  const std::string parentheses =
      "{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}";
  EXPECT_TRUE(Contains(error_of(parentheses), "nests deeper than 200 levels"));

  std::string statements;
  for (int i = 0; i < 300; ++i)
    statements += "{% if true %}";
  EXPECT_TRUE(Contains(error_of(statements), "template nests deeper than 200 levels"));

  // A long flat chain builds a deep left-leaning tree without any parentheses.
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i)
    chain += " + 1";
  chain += " }}";
  EXPECT_TRUE(Contains(error_of(chain), "expression nests deeper than 200 levels"));

  EXPECT_TRUE(
      Contains(error_of("{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}"),
               "nests deeper than"));
}

TEST(TemplateLimits, DeepValuesAreRejected) {
  EXPECT_TRUE(Contains(error_of("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}"
                                "{% set ns.x = [ns.x] %}{% endfor %}"),
                       "value nests lists and dicts deeper than 500 levels"));
  const std::string deep_json = std::string(2000, '[') + std::string(2000, ']');
  EXPECT_TRUE(Contains(error_of("{{ x|length }}", R"({"x": )" + deep_json + "}"),
                       "JSON value nests deeper than 500 levels"));
}

TEST(TemplateLimits, SelfReferencingNamespaceRenders) {
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns.self.self is defined }}"),
            "True");
}

TEST(Template, RendersRepeatedlyWithFreshState) {
  const Template parsed(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}"
      "{{ ns.n }}",
      "t");
  const auto context = nlohmann::ordered_json::parse(R"({"messages": [1, 2, 3]})");
  EXPECT_EQ(parsed.render(context), "3");
  EXPECT_EQ(parsed.render(context), "3");
}

TEST(Template, ContextMustBeAnObject) {
  const Template parsed("x", "t");
  EXPECT_THROW(parsed.render(nlohmann::ordered_json::array()), Error);
  EXPECT_EQ(parsed.render(nlohmann::ordered_json()), "x");
}

}  // namespace
}  // namespace hllm::jinja
