// The chat-template language, case by case: whitespace control with HF's trim_blocks / lstrip_blocks, loops,
// scoping and namespaces, macros, filters, tests, Python operator and printing semantics, undefined values,
// raise_exception, errors with line numbers, and the limits that stop runaway templates. Expected strings are what
// Jinja2 3.1 renders in HF's environment (checked against it when these tests were written).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/chat_template/chat_template.h"

namespace ts {
namespace {

using Json = nlohmann::ordered_json;

const char* kContext = R"({
  "messages": [{"role": "system", "content": "  Be brief. "}, {"role": "user", "content": "Hi ünï"},
               {"role": "assistant", "content": "Hello!"}],
  "lst": [3, 1, 2], "d": {"b": 2, "a": 1}, "s": "Hello World", "n": 7, "f": 2.5, "t": true, "none": null,
  "empty": []
})";

// The rendering, or "ERROR: <message>".
std::string render(const std::string& tmpl, const ChatRenderOptions& opt = {}) {
  auto t = ChatTemplate::parse(tmpl);
  if (!t) return "ERROR: " + t.error().message;
  auto out = t->render(Json::parse(kContext), opt);
  return out ? *out : "ERROR: " + out.error().message;
}

struct Case {
  const char* tmpl;
  const char* want;
};

void expect_all(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(render(c.tmpl), c.want) << "template: " << c.tmpl;
}

TEST(ChatTemplateLanguage, WhitespaceControlFollowsTrimBlocksAndLstripBlocks) {
  expect_all({
      {"a\n  {% if t %}\n    x\n  {% endif %}\nb", "a\n    x\nb"},  // block lines vanish whole
      {"  {%+ if t %}x{% endif +%}\ny", "  x\ny"},                  // + keeps both sides
      {"{% for i in lst -%}\n  [{{ i }}]\n{%- endfor %}\nend", "[3][1][2]end"},
      {"{{- '  a  ' -}}   b   {{ 1 }}", "  a  b   1"},
      {"x  {#- strip -#}   y", "xy"},
      {"{{ n }}\n{% if t %}\nx\n{% endif %}", "7\nx\n"},  // "}}" is not a block: its newline stays
      {"line\n", "line"},                                    // one trailing newline is dropped
      {"line\n\n", "line\n"},
      {"a {% if t %}b{% endif %} c\n  {{ n }}", "a b c\n  7"},  // lstrip only at line starts, not for {{
      {"{{ '}}' }} {{ {'a': {'b': 1}} }}", "}} {'a': {'b': 1}}"},
      {"{% raw %}{{ kept }}{% endraw %}", "{{ kept }}"},
      {"a\r\nb", "a\nb"},
  });
}

TEST(ChatTemplateLanguage, LoopVariablesElseFiltersAndControl) {
  expect_all({
      {"{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}"
       "{{ loop.last }}{{ loop.length }};{% endfor %}",
       "103TrueFalse3;212FalseFalse3;321FalseTrue3;"},
      {"{% for x in lst %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", "-1;3-2;1-;"},
      {"{% for x in empty %}{{ x }}{% else %}none{% endfor %}", "none"},
      {"{% for x in lst if x > 1 %}{{ x }}/{{ loop.length }} {% endfor %}", "3/2 2/2 "},
      {"{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}", "b=2,a=1,"},
      {"{% for x in lst %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}"
       "{{ x }}{% endfor %}",
       "3"},
      {"{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}", "aba"},
      {"{% for c in 'hé' %}[{{ c }}]{% endfor %}", "[h][é]"},
  });
}

TEST(ChatTemplateLanguage, SetScopingAndNamespaces) {
  expect_all({
      {"{% set x = 1 %}{% for i in lst %}{% set x = i %}{% endfor %}{{ x }}", "1"},  // loop sets stay inside
      {"{% set ns = namespace(a=0) %}{% for i in lst %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}", "6"},
      {"{% if t %}{% set z = 3 %}{% endif %}{{ z }}", "3"},  // if-blocks open no scope
      {"{% for i in [1, 2] %}{% if i == 1 %}{% set v = 'x' %}{% endif %}[{{ v }}]{% endfor %}", "[x][]"},
      {"{% set a, b = [1, 2] %}{{ a }}{{ b }}", "12"},
      {"{% set blk %} in {{ n }} {% endset %}[{{ blk }}]{% set up | upper %}abc{% endset %}{{ up }}",
       "[ in 7 ]ABC"},
      {"{% set ns = namespace() %}{% set ns.x = 3 %}{{ ns.x }}", "3"},
      {"{% with q = 5 %}{{ q }}{% endwith %}[{{ q }}]", "5[]"},
      {"{% filter upper %}hi {{ s }}{% endfilter %}", "HI HELLO WORLD"},
  });
}

TEST(ChatTemplateLanguage, MacrosTakeDefaultsKeywordsAndRecurse) {
  expect_all({
      {"{% macro g(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}"
       "{{ g('Bob') }} {{ g('Al', greeting='Yo') }} {{ g('X', 'Hey') }}",
       "Hi, Bob! Yo, Al! Hey, X!"},
      {"{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}"
       "{{ fact(5) }}",
       "120"},
      {"{% macro m(a, b=a * 2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(3) }} {{ m(b=5, a=1) }}", "3-6 1-5"},
      {"{% macro m(a) %}[{{ a }}]{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}", "[1](2,){'k': 3}"},
      {"{% set x = 5 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }}", "6"},
  });
}

TEST(ChatTemplateLanguage, FiltersBehaveAsJinja2s) {
  expect_all({
      {"{{ s|upper }} {{ s|lower }} {{ 'a-b (c)'|title }} {{ 'hELLO'|capitalize }}", "HELLO WORLD hello world A-B (C) Hello"},
      {"{{ s|length }} {{ lst|count }} {{ 'ünï'|length }} {{ '  x '|trim }}|{{ 'xxhixx'|trim('x') }}", "11 3 3 x|hi"},
      {"{{ s|replace('o', '0') }} {{ lst|join(',') }} {{ lst|first }} {{ lst|last }}", "Hell0 W0rld 3,1,2 3 2"},
      {"{{ none|default('d') }} {{ nothing|default('u') }} {{ ''|default('e', true) }} {{ nothing|d('x') }}", "None u e x"},
      {"{{ messages|selectattr('role', 'equalto', 'user')|list|length }} "
       "{{ messages|map(attribute='role')|join(',') }} {{ messages|rejectattr('role', '==', 'system')|list|length }}",
       "1 system,user,assistant 2"},
      {"{{ d|items|list }} {{ d|dictsort }} {{ [1, 'a', 'A', 1]|unique|list }}",
       "[('b', 2), ('a', 1)] [('a', 1), ('b', 2)] [1, 'a']"},
      {"{{ '42'|int + 1 }} {{ '4.7'|int }} {{ 'x'|int(5) }} {{ 3|float }} {{ 7|string ~ '!' }}", "43 4 5 3.0 7!"},
      {"{{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 7|round }} {{ 2.4|round(0, 'ceil') }}", "3 2.57 2.0 7 3.0"},
      {"{{ 'a\nb\n\nc'|indent(2) }}|{{ 'one two  three'|wordcount }}", "a\n  b\n\n  c|3"},
      {"{{ lst|sort }} {{ ['b', 'A', 'c']|sort }} {{ lst|sum }} {{ lst|max }} {{ lst|min }}", "[1, 2, 3] ['A', 'b', 'c'] 6 3 1"},
      {"{{ lst|select('odd')|list }} {{ lst|reject('odd')|list }} {{ lst|map('string')|join }}", "[3, 1] [2] 312"},
      {"{{ '<a & \"b\">'|escape }}", "&lt;a &amp; &#34;b&#34;&gt;"},
  });
}

TEST(ChatTemplateLanguage, TojsonIsHfsJsonDumpsWithNonAsciiKept) {
  expect_all({
      {"{{ d|tojson }} {{ 'ü \"q\"\n'|tojson }} {{ none|tojson }} {{ [1.0, t]|tojson }}",
       "{\"b\": 2, \"a\": 1} \"ü \\\"q\\\"\\n\" null [1.0, true]"},
      {"{{ [1, {'a': []}]|tojson(indent=2) }}", "[\n  1,\n  {\n    \"a\": []\n  }\n]"},
      {"{{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }}", "{\"a\": 1, \"b\": 2} {\"b\":2,\"a\":1}"},
      {"{{ lst|map('string')|tojson }}", "ERROR: chat template line 1: Object of type generator is not JSON serializable"},
  });
}

TEST(ChatTemplateLanguage, TestsBehaveAsJinja2s) {
  expect_all({
      {"{{ x is defined }}{{ s is defined }}{{ none is none }}{{ s is string }}{{ n is number }}{{ t is number }}"
       "{{ t is integer }}{{ f is float }}{{ t is boolean }}{{ d is mapping }}{{ lst is iterable }}{{ n is sequence }}",
       "FalseTrueTrueTrueTrueTrueFalseTrueTrueTrueTrueFalse"},
      {"{{ t is true }}{{ n is odd }}{{ n is even }}{{ 9 is divisibleby 3 }}{{ 'a' is in 'abc' }}"
       "{{ n is equalto 7 }}{{ x is undefined }}{{ s is not string }}{{ none is not none }}",
       "TrueTrueFalseTrueTrueTrueTrueFalseFalse"},
  });
}

TEST(ChatTemplateLanguage, OperatorsAndPrintingFollowPython) {
  expect_all({
      {"{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 4 / 2 }}", "3.5 3 -4 2 1024 0.5 2.0"},
      {"{{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1, 2] + [3] }} {{ 'a' ~ 1 ~ none ~ t }}", "ababab [1, 1] [1, 2, 3] a1NoneTrue"},
      {"{{ 1.0 }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 1e15 }} {{ 1e16 }} {{ -0.0 }}",
       "1.0 1e+20 0.30000000000000004 1e-05 1000000000000000.0 1e+16 -0.0"},
      {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ t == 1 }} {{ '1' == 1 }} {{ [1, 2] < [1, 3] }}",
       "True False True True False True"},
      {"{{ 'ell' in s }} {{ 'z' not in s }} {{ 2 in lst }} {{ 'a' in d }} {{ none or 'fb' }} {{ t and 'yes' }}",
       "True True True True fb yes"},
      {"{{ 'x' if t else 'y' }}{{ 'x' if not t }}|{{ not t }}", "x|False"},
      {"{{ ['it\\'s', 'say \"x\"'] }} {{ {'k': none, 't': true} }} {{ (1,) }} {{ d.keys() }}",
       "[\"it's\", 'say \"x\"'] {'k': None, 't': True} (1,) dict_keys(['b', 'a'])"},
      {"{{ '%s-%03d' % ('a', 7) }} {{ '{} and {x}'.format(1, x='b') }}", "a-007 1 and b"},
      {"{{ {0: 'a', 512: 'b'}[512] }} {{ {1: 2}|tojson }}", "b {\"1\": 2}"},
      {"{{ '<b>'|safe + '&' }}|{{ '<b>'|safe ~ '&' }}", "<b>&amp;|<b>&"},  // Markup + str escapes, ~ does not
  });
}

TEST(ChatTemplateLanguage, StringAndDictMethodsAndSlicing) {
  expect_all({
      {"{{ s.split(' ') }} {{ 'a b  c '.split(none, 1) }} {{ ' x '.strip() }}|{{ '--a'.lstrip('-') }}",
       "['Hello', 'World'] ['a', 'b  c '] x|a"},
      {"{{ s.startswith('He') }} {{ s.endswith(('x', 'ld')) }} {{ s.find('o') }} {{ s.count('l') }} {{ s.upper() }}",
       "True True 4 3 HELLO WORLD"},
      {"{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }} {{ d['b'] }} {{ d.a }}", "1 None 9 2 1"},
      {"{{ s[0] }} {{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ lst[1:] }} {{ lst[::-1] }} {{ lst[-2:] }}",
       "H d el dlroW olleH [1, 2] [2, 1, 3] [1, 2]"},
      {"{{ 'ünï✓'[1:3] }} {{ 'ünï✓'[-1] }} {{ messages[1].content.split(' ')[1] }}", "nï ✓ ünï"},
      {"{{ lst[10] is defined }} {{ d.zz is defined }} {{ none.x is defined }}", "False False False"},
  });
}

TEST(ChatTemplateLanguage, UndefinedActsAsJinja2sDefaultUndefined) {
  expect_all({
      {"[{{ nothing }}]{{ nothing|length }}{% for x in nothing %}x{% endfor %}{{ nothing is defined }}"
       "{% if not nothing %}falsy{% endif %}{{ 'a' in nothing }}",
       "[]0FalsefalsyFalse"},
      {"{{ nothing.attr }}", "ERROR: chat template line 1: 'nothing' is undefined"},
      {"{{ nothing + 1 }}", "ERROR: chat template line 1: 'nothing' is undefined"},
      {"{{ messages[0].missing.x }}", "ERROR: chat template line 1: 'dict object' has no attribute 'missing'"},
      {"{{ lst.append(4) }}", "ERROR: chat template line 1: access to attribute 'append' of 'list' object is unsafe."},
  });
}

TEST(ChatTemplateLanguage, RaiseExceptionAndErrorsNameTheTemplateLine) {
  expect_all({
      {"a\nb\n{{ raise_exception('System role not supported') }}", "ERROR: chat template line 3: System role not supported"},
      {"{% for x in lst %}\n{{ x }}\nmore", "ERROR: chat template line 3: unexpected end of template, expected 'endfor' or 'else'"},
      {"ok\n{% endif %}", "ERROR: chat template line 2: unexpected 'endif' (no open block it could close)"},
      {"{{ 1 +\n }}", "ERROR: chat template line 2: unexpected 'end of print statement'"},
      {"\n\n{{ lst|nosuch }}", "ERROR: chat template line 3: no filter named 'nosuch'"},
      {"{% if false %}{{ lst|nosuch }}{% endif %}ok", "ok"},  // as Jinja2: checked only when reached inside an if
      {"{{ 'open }}", "ERROR: chat template line 1: unterminated string literal"},
      {"{% include 'x' %}", "ERROR: chat template line 1: tag 'include' is not supported in chat templates"},
      {"x\n{{ 'a' + 1 }}", "ERROR: chat template line 2: can only concatenate str (not \"int\") to str"},
      {"{{ 1 / 0 }}", "ERROR: chat template line 1: division by zero"},
  });
}

TEST(ChatTemplateLanguage, StrftimeNowUsesTheGivenClock) {
  ChatRenderOptions opt;
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 15;
  t.tm_hour = 12;
  opt.now = t;
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%B %d, %Y') }}", opt), "2026-01-15 January 15, 2026");
}

ChatRenderOptions small_limits() {
  ChatRenderOptions opt;
  opt.limits.max_steps = 200000;
  opt.limits.max_output_bytes = 1 << 16;
  return opt;
}

TEST(ChatTemplateLimits, RunawayTemplatesAreRefusedCleanly) {
  const ChatRenderOptions opt = small_limits();
  auto refused = [&](const std::string& tmpl, const std::string& why) {
    const std::string out = render(tmpl, opt);
    EXPECT_EQ(out.rfind("ERROR: ", 0), 0u) << tmpl << " rendered " << out.size() << " bytes";
    EXPECT_NE(out.find(why), std::string::npos) << tmpl << " -> " << out;
  };
  refused("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", "macro calls nested deeper than 100");
  refused("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "work limit");
  refused("{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}", "work limit");
  refused("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
          "output exceeds the limit");
  refused("{{ 'a' * 1000000000000 }}", "output exceeds the limit");
  refused("{{ [1] * 1000000000 }}", "work limit");
  refused("{{ range(100001)|length }}", "range too big");
  refused("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}", "nested too deeply");
  refused(std::string(3000, '-') + "{% if t %}" + std::string(3000, 'x'), "unexpected end of template");
  refused("{{ " + std::string(20000, '-') + "1 }}", "nested too deeply");
  refused("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}",
          "nested deeper than 256");
  refused("{% set ns = namespace() %}{% set ns.x = ns %}", "a namespace cannot hold another namespace");
}

TEST(ChatTemplateLimits, GarbageInputGivesErrorsNotCrashes) {
  const std::vector<std::string> inputs = {
      "{{", "{%", "{#", "}}", "{{ }}", "{% %}", "{% for %}", "{% set %}", "{% macro %}", "{{ a[ }}", "{{ a.( }}",
      "{{ 'x' | }}", "{{ x is }}", "{% for a, in b %}{% endfor %}", "{{ {1: } }}", "{{ (1, 2 }}", "{% endfor %}",
      "{% else %}", "{{ '\\x4' }}", "{{ 0x }}", "{{ 99999999999999999999 }}", "{{ 1e999 }}", "{% raw %}x",
      std::string("{{ '\xff\xfe' }}"), std::string("\0{{ 1 }}", 8), "{{ -9223372036854775807 - 2 }}",
  };
  for (const auto& in : inputs) {
    const std::string out = render(in, small_limits());
    if (out.rfind("ERROR: ", 0) == 0) {
      EXPECT_EQ(out.rfind("ERROR: chat template line ", 0), 0u) << in << " -> " << out;
    }
  }
  EXPECT_EQ(render("{{ -9223372036854775807 - 2 }}"), "ERROR: chat template line 1: integer overflow (integers in chat templates are 64-bit)");
  EXPECT_EQ(render(std::string("\0{{ 1 }}", 8)), std::string("\0" "1", 2));
}

}  // namespace
}  // namespace ts
