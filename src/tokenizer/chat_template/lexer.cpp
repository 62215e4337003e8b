// Jinja2 lexer with HF's whitespace settings (see lexer.h).
#include "tokenizer/chat_template/lexer.h"

#include <cerrno>
#include <cstdlib>

#include "tokenizer/chat_template/text.h"
#include "tokenizer/chat_template/value.h"

namespace ts::jinja {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

std::string normalize_newlines(std::string_view src) {
  std::string s;
  s.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      s += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      s += src[i];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();  // keep_trailing_newline=False
  return s;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(normalize_newlines(src)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < s_.size()) {
      const size_t start = find_tag(pos_);
      std::string text = s_.substr(pos_, start - pos_);
      if (start == s_.size()) {
        emit_text(text, line_);
        count_lines(text);
        break;
      }
      const char kind = s_[start + 1];  // '{', '%' or '#'
      char sign = start + 2 < s_.size() ? s_[start + 2] : 0;
      if (sign != '-' && sign != '+') sign = 0;
      const int text_line = line_;
      count_lines(text);
      if (sign == '-') {
        size_t e = text.size();
        while (e > 0 && is_ws(text[e - 1])) --e;
        text.resize(e);
      } else if (sign == 0 && kind != '{') {  // lstrip_blocks
        const size_t l = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
        if (l > 0 || line_starting) {
          bool blank = l < text.size();
          for (size_t k = l; k < text.size() && blank; ++k) blank = is_ws(text[k]);
          if (blank) text.resize(l);
        }
      }
      emit_text(std::move(text), text_line);
      pos_ = start + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        line_starting = comment();
      } else if (kind == '%' && raw_block()) {
        line_starting = last_consumed_newline_;
      } else {
        line_starting = tag(kind == '{');
      }
    }
    out_.push_back(Token{Token::Kind::kEof, "", 0, 0.0, line_});
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw Error(msg, line_); }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < s_.size(); ++i) {
      if (s_[i] == '{' && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
    }
    return s_.size();
  }

  void count_lines(std::string_view t) {
    for (char c : t) line_ += c == '\n';
  }

  void emit_text(std::string text, int line) {
    if (!text.empty()) out_.push_back(Token{Token::Kind::kText, std::move(text), 0, 0.0, line});
  }

  // After an end marker: "-" eats all following whitespace, trim_blocks one newline. Returns whether the
  // consumed text ended with a newline (lstrip_blocks' "line starting").
  bool after_end(char sign, bool trim_newline) {
    bool nl = false;
    if (sign == '-') {
      while (pos_ < s_.size() && is_ws(s_[pos_])) {
        nl = s_[pos_] == '\n';
        line_ += nl;
        ++pos_;
      }
    } else if (sign == 0 && trim_newline && pos_ < s_.size() && s_[pos_] == '\n') {
      ++pos_;
      ++line_;
      nl = true;
    }
    last_consumed_newline_ = nl;
    return nl;
  }

  bool comment() {
    for (size_t i = pos_; i + 1 < s_.size(); ++i) {
      char sign = 0;
      if ((s_[i] == '-' || s_[i] == '+') && i + 2 < s_.size() && s_[i + 1] == '#' && s_[i + 2] == '}') {
        sign = s_[i];
      } else if (!(s_[i] == '#' && s_[i + 1] == '}')) {
        continue;
      }
      count_lines(std::string_view(s_).substr(pos_, i - pos_));
      pos_ = i + (sign ? 3 : 2);
      return after_end(sign, true);
    }
    fail("missing end of comment tag");
  }

  // "{% raw %}...{% endraw %}": the body is text, taken as is. Returns false (consuming nothing) for other tags.
  bool raw_block() {
    size_t p = pos_;
    while (p < s_.size() && is_ws(s_[p])) ++p;
    if (s_.compare(p, 3, "raw") != 0 || (p + 3 < s_.size() && is_name_char(s_[p + 3]))) return false;
    p += 3;
    while (p < s_.size() && is_ws(s_[p])) ++p;
    char sign = 0;
    if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) sign = s_[p++];
    if (s_.compare(p, 2, "%}") != 0) return false;
    count_lines(std::string_view(s_).substr(pos_, p + 2 - pos_));
    pos_ = p + 2;
    after_end(sign, false);  // no trim_blocks after "{% raw %}", as in jinja2
    for (size_t i = pos_; i + 1 < s_.size(); ++i) {
      if (s_[i] != '{' || s_[i + 1] != '%') continue;
      size_t q = i + 2;
      char open_sign = 0;
      if (q < s_.size() && (s_[q] == '-' || s_[q] == '+')) open_sign = s_[q++];
      while (q < s_.size() && is_ws(s_[q])) ++q;
      if (s_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      while (q < s_.size() && is_ws(s_[q])) ++q;
      char end_sign = 0;
      if (q < s_.size() && (s_[q] == '-' || s_[q] == '+')) end_sign = s_[q++];
      if (s_.compare(q, 2, "%}") != 0) continue;
      std::string body = s_.substr(pos_, i - pos_);
      const int body_line = line_;
      count_lines(std::string_view(s_).substr(pos_, q + 2 - pos_));
      if (open_sign == '-') {
        while (!body.empty() && is_ws(body.back())) body.pop_back();
      }
      emit_text(std::move(body), body_line);
      pos_ = q + 2;
      after_end(end_sign, true);
      return true;
    }
    fail("missing end of raw block");
  }

  // Tokens of one {{ }} or {% %} tag, up to and including its end. Returns lstrip's "line starting".
  bool tag(bool is_var) {
    out_.push_back(Token{is_var ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "", 0, 0.0, line_});
    int depth = 0;
    while (true) {
      while (pos_ < s_.size() && is_ws(s_[pos_])) line_ += s_[pos_++] == '\n';
      if (pos_ >= s_.size()) fail(is_var ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      const char c = s_[pos_];
      if (depth == 0) {
        const std::string_view rest = std::string_view(s_).substr(pos_);
        const std::string_view end = is_var ? "}}" : "%}";
        char sign = 0;
        size_t len = 0;
        if (rest.substr(0, 2) == end) {
          len = 2;
        } else if (rest.size() >= 3 && rest.substr(1, 2) == end && (c == '-' || (c == '+' && !is_var))) {
          sign = c;
          len = 3;
        }
        if (len) {
          out_.push_back(Token{is_var ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "", 0, 0.0, line_});
          pos_ += len;
          return after_end(sign, !is_var);
        }
      }
      if (is_name_start(c)) {
        size_t e = pos_;
        while (e < s_.size() && is_name_char(s_[e])) ++e;
        out_.push_back(Token{Token::Kind::kName, s_.substr(pos_, e - pos_), 0, 0.0, line_});
        pos_ = e;
      } else if (is_digit(c)) {
        number();
      } else if (c == '\'' || c == '"') {
        string_literal(c);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", ";"};
        std::string op;
        for (const char* o : kOps) {
          if (s_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (op.empty()) fail(std::string("unexpected character '") + c + "'");
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") {
          if (depth == 0) fail("unexpected '" + op + "'");
          --depth;
        }
        out_.push_back(Token{Token::Kind::kOp, op, 0, 0.0, line_});
        pos_ += op.size();
      }
    }
  }

  void number() {
    const size_t b = pos_;
    Token t{Token::Kind::kInt, "", 0, 0.0, line_};
    auto digits = [&](auto ok) {
      std::string d;
      while (pos_ < s_.size() && (ok(s_[pos_]) || (s_[pos_] == '_' && pos_ + 1 < s_.size() && ok(s_[pos_ + 1])))) {
        if (s_[pos_] != '_') d += s_[pos_];
        ++pos_;
      }
      return d;
    };
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && std::string_view("xXoObB").find(s_[pos_ + 1]) != std::string_view::npos) {
      const char p = static_cast<char>(s_[pos_ + 1] | 0x20);
      const int base = p == 'x' ? 16 : (p == 'o' ? 8 : 2);
      pos_ += 2;
      const std::string d = digits([&](char ch) { const int v = hex_value(ch); return v >= 0 && v < base; });
      if (d.empty()) fail("invalid number literal");
      errno = 0;
      t.i = static_cast<int64_t>(std::strtoull(d.c_str(), nullptr, base));
      if (errno == ERANGE || t.i < 0) fail("integer literal too large");
    } else {
      std::string num = digits(is_digit);
      bool is_float = false;
      if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
        ++pos_;
        num += "." + digits(is_digit);
        is_float = true;
      }
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        size_t q = pos_ + 1;
        if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
        if (q < s_.size() && is_digit(s_[q])) {
          num += 'e';
          if (s_[pos_ + 1] == '-') num += '-';
          pos_ = q;
          num += digits(is_digit);
          is_float = true;
        }
      }
      if (is_float) {
        t.kind = Token::Kind::kFloat;
        t.f = std::strtod(num.c_str(), nullptr);
      } else {
        errno = 0;
        const unsigned long long v = std::strtoull(num.c_str(), nullptr, 10);
        if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) fail("integer literal too large");
        t.i = static_cast<int64_t>(v);
      }
    }
    t.text = s_.substr(b, pos_ - b);
    out_.push_back(std::move(t));
  }

  void string_literal(char quote) {
    const int start_line = line_;
    std::string v;
    size_t i = pos_ + 1;
    for (;; ++i) {
      if (i >= s_.size()) {
        line_ = start_line;
        fail("unterminated string literal");
      }
      const char c = s_[i];
      if (c == quote) break;
      line_ += c == '\n';
      if (c != '\\') {
        v += c;
        continue;
      }
      if (i + 1 >= s_.size()) continue;  // reported as unterminated above
      const char e = s_[++i];
      auto hex = [&](int n) {
        uint32_t cp = 0;
        for (int k = 0; k < n; ++k) {
          const int h = i + 1 < s_.size() ? hex_value(s_[i + 1]) : -1;
          if (h < 0) fail("invalid \\x, \\u or \\U escape in string literal");
          cp = cp * 16 + static_cast<uint32_t>(h);
          ++i;
        }
        if (cp > 0x10FFFF) fail("invalid \\U escape in string literal");
        text::append(v, cp);
      };
      switch (e) {
        case '\n': ++line_; break;  // line continuation
        case '\\': v += '\\'; break;
        case '\'': v += '\''; break;
        case '"': v += '"'; break;
        case 'a': v += '\a'; break;
        case 'b': v += '\b'; break;
        case 'f': v += '\f'; break;
        case 'n': v += '\n'; break;
        case 'r': v += '\r'; break;
        case 't': v += '\t'; break;
        case 'v': v += '\v'; break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < s_.size() && s_[i + 1] >= '0' && s_[i + 1] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(s_[++i] - '0');
            }
            text::append(v, cp);
          } else {  // unknown escapes stay as written, as in Python
            v += '\\';
            v += e;
            line_ += e == '\n';
          }
      }
    }
    out_.push_back(Token{Token::Kind::kString, std::move(v), 0, 0.0, start_line});
    pos_ = i + 1;
  }

  std::string s_;
  size_t pos_ = 0;
  int line_ = 1;
  bool last_consumed_newline_ = false;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace ts::jinja
