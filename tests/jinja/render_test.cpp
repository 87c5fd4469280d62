// Renders one template per construct and compares with the output of Jinja2 3.1 configured as
// Hugging Face renders chat templates (trim_blocks, lstrip_blocks, loopcontrols, a tojson that
// keeps non-ASCII characters). The expected strings were produced by that Jinja2 setup.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

#include "text/jinja/template.h"

namespace hllm::jinja {
namespace {

struct RenderCase {
  const char* name;
  const char* source;
  const char* context;  // JSON object
  const char* expected;
};

// Prints the case's name, which test listings show, instead of its bytes.
void PrintTo(const RenderCase& c, std::ostream* out) { *out << c.name; }

const RenderCase kCases[] = {
    {"IfElifElse",
     R"jinja({% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %} {% endfor %})jinja",
     R"jinja({})jinja", R"jinja(one two many )jinja"},
    {"ForLoopVariables",
     R"jinja({% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %})jinja",
     R"jinja({})jinja", R"jinja(1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;)jinja"},
    {"ForPrevNextAndCycle",
     R"jinja({% for x in [1, 2, 3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {{ loop.cycle('odd', 'even') }}|{% endfor %})jinja",
     R"jinja({})jinja", R"jinja(<1>2 odd|1<2>3 even|2<3> odd|)jinja"},
    {"ForWithFilterCountsKept",
     R"jinja({% for x in range(6) if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %})jinja",
     R"jinja({})jinja", R"jinja(1/3:1 2/3:3 3/3:5 )jinja"},
    {"ForElseRunsWhenEmpty",
     R"jinja({% for x in [] %}item{% else %}empty{% endfor %}|{% for x in [1] if x > 5 %}item{% else %}filtered{% endfor %})jinja",
     R"jinja({})jinja", R"jinja(empty|filtered)jinja"},
    {"ForUnpacksPairs",
     R"jinja({% for key, value in data.items() %}{{ key }}={{ value }};{% endfor %}{% for key, value in data|items %}{{ key }}{% endfor %}{% for key in data %}{{ key }}{% endfor %})jinja",
     R"jinja({"data": {"z": 1, "a": [2]}})jinja", R"jinja(z=1;a=[2];zaza)jinja"},
    {"ForOverUndefinedIsEmpty", R"jinja([{% for x in missing %}{{ x }}{% endfor %}])jinja",
     R"jinja({})jinja", R"jinja([])jinja"},
    {"NestedLoopsShadowLoop",
     R"jinja({% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %})jinja",
     R"jinja({})jinja", R"jinja(1x1 1y2 1|2x1 2y2 2|)jinja"},
    {"BreakAndContinue",
     R"jinja({% for i in range(10) %}{% if i is even %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %})jinja",
     R"jinja({})jinja", R"jinja(135)jinja"},
    {"SetInsideLoopDoesNotLeak",
     R"jinja({% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i + 10 %}{{ x }};{% endfor %}{{ x }})jinja",
     R"jinja({})jinja", R"jinja(111;112;1)jinja"},
    {"SetInsideIfLeaks",
     R"jinja({% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }})jinja",
     R"jinja({})jinja", R"jinja(2)jinja"},
    {"SetUnpacksTuple",
     R"jinja({% set a, b = [1, 2] %}{{ a }}{{ b }}{% set t = 1, 'x' %}{{ t }})jinja",
     R"jinja({})jinja", R"jinja(12(1, 'x'))jinja"},
    {"SetBlockCaptures", R"jinja({% set text %}hello {{ 1 + 1 }}{% endset %}[{{ text }}])jinja",
     R"jinja({})jinja", R"jinja([hello 2])jinja"},
    {"NamespaceAttributes",
     R"jinja({% set ns = namespace(count=0, found=false) %}{% for m in ['a', 'b', 'a'] %}{% if m == 'a' %}{% set ns.count = ns.count + 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }} {{ ns.other is defined }})jinja",
     R"jinja({})jinja", R"jinja(2 True False)jinja"},
    {"NamespaceFromDict",
     R"jinja({% set ns = namespace({'x': 5}, y=6) %}{{ ns.x }}{{ ns.y }})jinja", R"jinja({})jinja",
     R"jinja(56)jinja"},
    {"MacroDefaultsAndKeywords",
     R"jinja({% macro tag(name, value='v', close=name ~ '/') %}<{{ name }}={{ value }}{{ close }}>{% endmacro %}{{ tag('a') }}{{ tag('b', close='!') }}{{ tag(value=1, name='c') }}{{ tag() }})jinja",
     R"jinja({})jinja", R"jinja(<a=va/><b=v!><c=1c/><=v/>)jinja"},
    {"MacroRecursion",
     R"jinja({% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(4) }})jinja",
     R"jinja({})jinja", R"jinja(4321)jinja"},
    {"MacroSeesLaterGlobals",
     R"jinja({% macro show() %}{{ value }}{% endmacro %}{% set value = 'late' %}{{ show() }})jinja",
     R"jinja({})jinja", R"jinja(late)jinja"},
    {"FilterBlock",
     R"jinja({% filter upper %}abc {{ 'd' }}{% endfilter %}|{% filter trim | upper %}  x  {% endfilter %})jinja",
     R"jinja({})jinja", R"jinja(ABC D|X)jinja"},
    {"WithBlockScope", R"jinja({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}])jinja",
     R"jinja({})jinja", R"jinja(3[])jinja"},
    {"GenerationBlock", R"jinja({% generation %}kept{% endgeneration %})jinja", R"jinja({})jinja",
     R"jinja(kept)jinja"},
    {"RawBlock", R"jinja({% raw %}{{ not parsed }} {% if %}{% endraw %})jinja", R"jinja({})jinja",
     R"jinja({{ not parsed }} {% if %})jinja"},
    {"CommentsDropped", R"jinja(a{# note #}b{#- trimmed -#}  c)jinja", R"jinja({})jinja",
     R"jinja(abc)jinja"},
    {"ArithmeticPrecedence",
     R"jinja({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 10 / 2 }} {{ 7.5 // 2 }} {{ 2 ** -1 }} {{ 1 - - 1 }})jinja",
     R"jinja({})jinja", R"jinja(7 9 64 4 3 -4 2 3.5 5.0 3.0 0.5 2)jinja"},
    {"FloatFormatting",
     R"jinja({{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5 }} {{ -2.0 }} {{ 1e100 }} {{ 2|float }})jinja",
     R"jinja({})jinja",
     R"jinja(0.30000000000000004 1e+16 1000000000000000.0 0.0001 1e-05 1.5 -2.0 1e+100 2.0)jinja"},
    {"ComparisonChains",
     R"jinja({{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ none == none }} {{ missing == none }})jinja",
     R"jinja({})jinja", R"jinja(True False True True True True True True False)jinja"},
    {"InAndNotIn",
     R"jinja({{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in ['x'] }} {{ not 'x' in ['y'] }} {{ 'a' in missing }})jinja",
     R"jinja({})jinja", R"jinja(True True True False True False)jinja"},
    {"LogicReturnsOperands",
     R"jinja({{ 0 or 'fallback' }} {{ 'first' or 'second' }} {{ '' and 'never' }}|{{ 1 and 'both' }} {{ not none }} {{ not not 1 }})jinja",
     R"jinja({})jinja", R"jinja(fallback first |both True True)jinja"},
    {"ConditionalExpression",
     R"jinja({{ 'yes' if flag else 'no' }}|{{ 'shown' if false }}|{{ (1 if true else 2) + 1 }})jinja",
     R"jinja({"flag": true})jinja", R"jinja(yes||2)jinja"},
    {"ConcatenationConverts", R"jinja({{ 'x' ~ 1 ~ none ~ true ~ 1.0 ~ [1] ~ missing }})jinja",
     R"jinja({})jinja", R"jinja(x1NoneTrue1.0[1])jinja"},
    {"Literals",
     R"jinja({{ [1, 'two', none, true, 1.5, [], {}] }} {{ {'key': 'it\'s', 'n': [1]} }} {{ (1,) }} {{ ('a', 'b') }} {{ 'con' 'cat' }} {{ 1_000 }})jinja",
     R"jinja({})jinja",
     R"jinja([1, 'two', None, True, 1.5, [], {}] {'key': "it's", 'n': [1]} (1,) ('a', 'b') concat 1000)jinja"},
    {"StringEscapes", R"jinja({{ '\u00e9\x41\101|\n|\\|\d|\t' }})jinja", R"jinja({})jinja",
     "éAA|\n|\\|\\d|\t"},
    {"SlicesAndIndexes",
     R"jinja({{ 'hello'[::-1] }} {{ [1, 2, 3, 4, 5][1:4] }} {{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2, 3, 4, 5][4:1:-1] }} {{ [1, 2, 3][-1] }} {{ 'abc'[-2] }} {{ [1, 2, 3][:-1] }} {{ [1, 2, 3][5:] }} {{ 'abc'[10] }}|)jinja",
     R"jinja({})jinja", R"jinja(olleh [2, 3, 4] [1, 3, 5] [5, 4, 3] 3 b [1, 2] [] |)jinja"},
    {"UnicodeIsCountedInCharacters",
     R"jinja({{ text|length }} {{ text[1] }} {{ text[::-1] }} {{ text[1:3] }} {{ text.find('🚀') }})jinja",
     R"jinja({"text": "数据🚀é"})jinja", R"jinja(4 据 é🚀据数 据🚀 2)jinja"},
    {"AttributeAndItemAccess",
     R"jinja({{ d.a }} {{ d['a'] }} {{ d.nested.list.1 }} {{ d.nested['list'][0] }} {{ d['items'] }} {{ d.missing }}|{{ none.attribute }}|)jinja",
     R"jinja({"d": {"a": 1, "items": "value", "nested": {"list": [10, 20]}}})jinja",
     R"jinja(1 1 20 10 value ||)jinja"},
    {"TojsonKeepsOrderAndUnicode", R"jinja({{ value|tojson }})jinja",
     R"jinja({"value": {"z": 1, "a": [1, 2.5, null, true, "é\n\"\u0001"], "n": -0.0, "e": 1.5e-07}})jinja",
     R"jinja({"z": 1, "a": [1, 2.5, null, true, "é\n\"\u0001"], "n": -0.0, "e": 1.5e-07})jinja"},
    {"TojsonIndentAndOptions",
     R"jinja({{ value|tojson(indent=2) }}|{{ value|tojson(sort_keys=true) }}|{{ [1, 2]|tojson(separators=(',', ':')) }}|{{ []|tojson(indent=2) }})jinja",
     R"jinja({"value": {"b": [1, {}], "a": []}})jinja",
     R"jinja({
  "b": [
    1,
    {}
  ],
  "a": []
}|{"a": [], "b": [1, {}]}|[1,2]|[])jinja"},
    {"StringFilters",
     R"jinja({{ 'Hello World'|lower }} {{ 'hello'|upper }} {{ 'hello world'|title }} {{ 'hELLO'|capitalize }} [{{ '  x  '|trim }}] {{ 'xxaxx'|trim('x') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 'a b  c'|wordcount }} {{ '<a href="x">'|e }})jinja",
     R"jinja({})jinja",
     R"jinja(hello world HELLO Hello World Hello [x] a bba -a-b-c- 3 &lt;a href=&#34;x&#34;&gt;)jinja"},
    {"SequenceFilters",
     R"jinja({{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ ['b', 'A', 'a']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ [1, 2]|first }} {{ [1, 2]|last }} {{ []|first is defined }} {{ 'ab'|list }} {{ {'a': 1}|list }} {{ [1, 1, 2]|unique|list }} {{ ['A', 'a']|unique|list }})jinja",
     R"jinja({})jinja",
     R"jinja([1, 2, 3] ['A', 'a', 'b'] ['A', 'a', 'b'] [3, 2, 1] [3, 2, 1] cba 1 2 False ['a', 'b'] ['a'] [1, 2] ['A'])jinja"},
    {"NumericFilters",
     R"jinja({{ [1, 2, 3]|sum }} {{ [1, 2, 3]|max }} {{ [1, 2, 3]|min }} {{ -3|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.567|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 3.9|int }} {{ '12'|int }} {{ ' 42 '|int }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '2.5'|float }} {{ 'x'|float }})jinja",
     R"jinja({})jinja", R"jinja(6 3 1 3 2.0 4.0 2.57 3.0 3 12 42 3 0 7 2.5 0.0)jinja"},
    {"DefaultFilter",
     R"jinja({{ missing|default('d') }} {{ none|default('d') }} {{ ''|default('d', true) }} {{ 0|default(5, boolean=true) }} {{ missing|d('e') }} [{{ missing|default }}])jinja",
     R"jinja({})jinja", R"jinja(d None d 5 e [])jinja"},
    {"LengthAndCount",
     R"jinja({{ 'abc'|length }} {{ [1, 2]|length }} {{ {'a': 1}|length }} {{ missing|length }} {{ [1, 2, 3]|count }})jinja",
     R"jinja({})jinja", R"jinja(3 2 1 0 3)jinja"},
    {"JoinFilter",
     R"jinja({{ [1, 2, 3]|join }} {{ ['a', 'b']|join(', ') }} {{ people|join(',', attribute='name') }} [{{ missing|join(',') }}])jinja",
     R"jinja({"people": [{"name": "ann"}, {"name": "bob"}]})jinja",
     R"jinja(123 a, b ann,bob [])jinja"},
    {"SelectAndMap",
     R"jinja({{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }} {{ messages|rejectattr('content')|list|length }} {{ messages|selectattr('content')|map(attribute='role')|list }} {{ messages|map(attribute='name', default='anon')|list }} {{ [1, 2, 3]|select('odd')|list }} {{ [1, 2, 3]|reject('odd')|list }} {{ [1, 2, 3]|select('gt', 1)|list }} {{ ['a', '', none]|select|list }} {{ ['a', 'b']|map('upper')|list }})jinja",
     R"jinja({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": ""}, {"role": "user", "content": "b"}]})jinja",
     R"jinja(a,b 1 ['user', 'user'] ['anon', 'anon', 'anon'] [1, 3] [2] [2, 3] ['a'] ['A', 'B'])jinja"},
    {"ItemsAndDictsort",
     R"jinja({{ data|items|list }} {{ data|dictsort }} {{ data|dictsort(by='value') }} {{ missing|items|list }})jinja",
     R"jinja({"data": {"b": 1, "a": 2}})jinja",
     R"jinja([('b', 1), ('a', 2)] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)] [])jinja"},
    {"IndentFilter",
     R"jinja({{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb\n'|indent(2, blank=true) }}|{{ 'x'|indent('> ', first=true) }})jinja",
     R"jinja({})jinja",
     R"jinja(a
  b

  c|  a
  b|a
  
  b
  |> x)jinja"},
    {"FormatFilterAndOperator",
     R"jinja({{ '%s-%d'|format('a', 3) }} {{ '%5.2f|%-3s|' % (3.14159, 'a') }} {{ '%s' % 'x' }} {{ '{}-{}'.format(1, 'b') }} {{ '{0}{name}'.format('a', name='b') }})jinja",
     R"jinja({})jinja", R"jinja(a-3  3.14|a  | x 1-b ab)jinja"},
    {"StringFilterOfValues",
     R"jinja({{ 10|string ~ 1.0 }} {{ none|string }} {{ ['it\'s', "q\"", 'both\'"']|string }})jinja",
     R"jinja({})jinja", R"jinja(101.0 None ["it's", 'q"', 'both\'"'])jinja"},
    {"StringMethods",
     R"jinja({{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ '-'.join(['a', 'b']) }} {{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'a1'.isalnum() }} {{ '12'.isdigit() }} {{ 'hi there'.title() }} {{ 'hello'.replace('l', 'L') }} {{ 'hello'.capitalize() }})jinja",
     R"jinja({})jinja",
     R"jinja(True True 2 3 2 a-b HELLO hello True True Hi There heLLo Hello)jinja"},
    {"SplitAndStrip",
     R"jinja({{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'abc'.split('b', 1) }} {{ ' a b  c '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  a b  '.rsplit(none, 1) }} {{ ''.split() }} {{ ''.split(',') }} [{{ '\n x \n'.strip() }}] [{{ '\n x \n'.lstrip() }}] [{{ '\n x \n'.rstrip('\n') }}] {{ 'xxhixx'.strip('x') }})jinja",
     R"jinja({})jinja",
     R"jinja(['a', 'b', '', 'c'] ['a', 'b'] ['a', 'c'] ['a', 'b  c '] ['a,b', 'c'] ['  a', 'b'] [] [''] [x] [x 
] [
 x ] hi)jinja"},
    {"DictMethods",
     R"jinja({{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.get('a') }} {{ d.get('q') }} {{ d.get('q', 5) }})jinja",
     R"jinja({"d": {"a": 1, "b": 2}})jinja",
     R"jinja(['a', 'b'] [1, 2] [('a', 1), ('b', 2)] 1 None 5)jinja"},
    {"TypeTests",
     R"jinja({{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ {} is sequence }} {{ 'a' is sequence }} {{ 5 is sequence }} {{ 'abc' is iterable }} {{ 5 is iterable }} {{ range is callable }} {{ none is none }} {{ missing is none }})jinja",
     R"jinja({})jinja",
     R"jinja(True True True True False True True True False True True True False True False True True False)jinja"},
    {"ValueTests",
     R"jinja({{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is lower }} {{ 'A' is upper }} {{ false is false }} {{ 0 is false }} {{ true is true }} {{ 2 is eq 2 }} {{ 2 is ne 2 }} {{ 2 is lt 3 }} {{ 2 is ge 3 }} {{ 2 is in [1, 2] }} {{ none is sameas none }} {{ 'upper' is filter }} {{ 'odd' is test }})jinja",
     R"jinja({})jinja",
     R"jinja(True True True False True True True False True True False True False True True True True)jinja"},
    {"DefinedTests",
     R"jinja({{ missing is defined }} {{ missing is undefined }} {{ missing is not defined }} {{ x is defined and x.y is defined }} {{ x.z is defined }} {{ enable_thinking is defined and enable_thinking is false }})jinja",
     R"jinja({"x": {"y": 1}, "enable_thinking": false})jinja",
     R"jinja(False True True True False True)jinja"},
    {"UndefinedRendersEmpty",
     R"jinja([{{ missing }}][{{ missing|string }}][{{ missing|trim }}][{{ missing|upper }}][{{ missing ~ 'x' }}][{{ missing == missing }}][{{ missing or 'o' }}])jinja",
     R"jinja({})jinja", R"jinja([][][][][x][True][o])jinja"},
    {"TrimBlocksRemovesNewline",
     R"jinja({% if true %}
line
{% endif %}
end)jinja",
     R"jinja({})jinja",
     R"jinja(line
end)jinja"},
    {"LstripBlocksRemovesIndent",
     R"jinja(start
    {% if true %}
    inside
    {% endif %}
end)jinja",
     R"jinja({})jinja",
     R"jinja(start
    inside
end)jinja"},
    {"LstripKeepsTextBeforeTag",
     R"jinja(a  {% if true %}b{% endif %}  c
  {{ 'out' }}  
  {# comment #}
z)jinja",
     R"jinja({})jinja",
     R"jinja(a  b  c
  out  
z)jinja"},
    {"PlusDisablesLstrip",
     R"jinja(  {%+ if true %}x{% endif %}|
  {%- if true %}y{% endif %})jinja",
     R"jinja({})jinja", R"jinja(  x|y)jinja"},
    {"MinusStripsBothSides",
     R"jinja(a  
  {{- 'b' -}}  
  c  {%- if true -%}  d  {%- endif -%}  e)jinja",
     R"jinja({})jinja", R"jinja(abcde)jinja"},
    {"CommentWhitespace",
     R"jinja(x
  {# c #}
y {#- c -#} z
{# c #}
w)jinja",
     R"jinja({})jinja",
     R"jinja(x
yz
w)jinja"},
    {"CrLfNormalized", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n", R"jinja({})jinja",
     R"jinja(a
b
c)jinja"},
    {"TrailingNewlineDropped",
     R"jinja(text

)jinja",
     R"jinja({})jinja",
     R"jinja(text
)jinja"},
    {"RawWhitespaceControl", R"jinja(a {%- raw -%}  {{ x }}  {%- endraw -%} b)jinja",
     R"jinja({})jinja", R"jinja(a{{ x }}b)jinja"},
};

class RenderTest : public testing::TestWithParam<RenderCase> {};

TEST_P(RenderTest, MatchesJinja2) {
  const RenderCase& test_case = GetParam();
  const Template parsed(test_case.source, test_case.name);
  const std::string actual = parsed.render(nlohmann::ordered_json::parse(test_case.context));
  EXPECT_EQ(actual, test_case.expected) << "template: " << test_case.source;
}

INSTANTIATE_TEST_SUITE_P(Constructs, RenderTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<RenderCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace hllm::jinja
