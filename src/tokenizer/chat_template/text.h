// Python string semantics over UTF-8 for the chat-template interpreter: code points, whitespace, case, strip,
// split, float repr, string repr and JSON string quoting, as CPython 3 defines them.
//
// Strings are kept as UTF-8 bytes. Operations that count or index (len, slicing, find) work on code points, as
// Python's str does. Bytes that are not valid UTF-8 become U+DC80..U+DCFF when decoded (Python's surrogateescape)
// and turn back into the same byte when encoded, so no input is ever rejected or altered.
//
// Case mapping covers ASCII, Latin-1, Greek and Cyrillic (one-to-one mappings only; "ß".upper() stays "ß" where
// Python gives "SS"). Whitespace is Python's str.isspace() set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ts::jinja::text {

std::u32string decode(std::string_view s);
void append(std::string& out, char32_t cp);
std::string encode(std::u32string_view s);
bool is_ascii(std::string_view s);
size_t length(std::string_view s);  // in code points

bool is_space(char32_t c);
bool is_word_char(char32_t c);  // regex \w: letters, digits, underscore (non-ASCII letters approximated)
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);
bool is_cased(char32_t c);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);  // str.capitalize
std::string title(std::string_view s);       // str.title
std::string jinja_title(std::string_view s);  // Jinja2's title filter: words split at runs of [-\s({\[<]

// str.strip / lstrip / rstrip; chars == nullopt strips whitespace.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit): sep == nullopt splits on whitespace runs; maxsplit < 0 means no limit.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace(old, new, count); count < 0 replaces all. An empty `old` inserts between code points.
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);
// str.find / rfind: code-point index of the first (last) occurrence, -1 when absent.
int64_t find(std::string_view s, std::string_view sub, bool reverse);
int64_t count(std::string_view s, std::string_view sub);  // non-overlapping, as str.count

// repr(float): shortest round-trip digits, fixed notation for exponents -4..15, else "1e+16" style.
std::string float_repr(double x);
// repr(str): single quotes unless the text holds ' and no ", escapes for control characters.
std::string repr(std::string_view s);
// json.dumps(str, ensure_ascii=False): only ", \ and control characters are escaped; other bytes pass through.
std::string json_quote(std::string_view s);

// markupsafe.escape: & < > " ' as &amp; &lt; &gt; &#34; &#39;.
std::string html_escape(std::string_view s);

}  // namespace ts::jinja::text
