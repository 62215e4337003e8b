// Jinja2 parser (see parser.h). The grammar follows jinja2/parser.py's parse_* functions one for one.
#include "tokenizer/chat_template/parser.h"

#include <initializer_list>

#include "tokenizer/chat_template/lexer.h"

namespace ts::jinja {

namespace {

using K = Token::Kind;

std::string describe(const Token& t) {
  switch (t.kind) {
    case K::kText: return "template data";
    case K::kVarBegin: return "begin of print statement";
    case K::kVarEnd: return "end of print statement";
    case K::kBlockBegin: return "begin of statement block";
    case K::kBlockEnd: return "end of statement block";
    case K::kEof: return "end of template";
    case K::kString: return "string";
    case K::kInt: return "integer";
    case K::kFloat: return "float";
    default: return t.text;
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  std::unique_ptr<Program> program() {
    auto p = std::make_unique<Program>();
    body(p->body, {});
    return p;
  }

 private:
  // --- token stream --------------------------------------------------------------------------------------------
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool is_op(const char* op) const { return cur().kind == K::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == K::kName && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  [[noreturn]] void fail(const std::string& msg) const { throw Error(msg, cur().line); }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(std::string("expected '") + op + "', got '" + describe(cur()) + "'");
  }
  std::string expect_name() {
    if (cur().kind != K::kName) fail("expected a name, got '" + describe(cur()) + "'");
    return next().text;
  }
  void expect_block_end() {
    if (cur().kind != K::kBlockEnd) fail("expected end of statement block, got '" + describe(cur()) + "'");
    next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("template nested too deeply (limit " + std::to_string(kMaxNesting) + ")");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  ExprPtr node(Expr::Kind k, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = line;
    return e;
  }

  // --- statements ----------------------------------------------------------------------------------------------
  // Parses statements until a {% tag %} named in `ends`; returns that name (the tag's name token is consumed, the
  // rest of the tag is left for the caller). With no `ends`, parses to the end of the template.
  std::string body(Body& out, std::initializer_list<const char*> ends) {
    DepthGuard g(*this);
    while (true) {
      const Token& t = cur();
      if (t.kind == K::kEof) {
        if (ends.size() == 0) return "";
        std::string want;
        for (const char* e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
        fail("unexpected end of template, expected " + want);
      }
      if (t.kind == K::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->line = t.line;
        s->text = t.text;
        out.push_back(std::move(s));
        next();
      } else if (t.kind == K::kVarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = t.line;
        next();
        s->expr = tuple(true, {});
        if (cur().kind != K::kVarEnd) fail("expected end of print statement, got '" + describe(cur()) + "'");
        next();
        out.push_back(std::move(s));
      } else if (t.kind == K::kBlockBegin) {
        next();
        if (cur().kind != K::kName) fail("expected a tag name, got '" + describe(cur()) + "'");
        const std::string name = cur().text;
        for (const char* e : ends) {
          if (name == e) {
            next();
            return name;
          }
        }
        out.push_back(statement());
      } else {
        fail("unexpected '" + describe(t) + "'");
      }
    }
  }

  std::unique_ptr<Stmt> statement() {
    const Token& t = cur();
    auto s = std::make_unique<Stmt>();
    s->line = t.line;
    const std::string name = next().text;
    if (name == "if") {
      s->kind = Stmt::Kind::kIf;
      while (true) {
        ExprPtr c = tuple(false, {});
        expect_block_end();
        Body b;
        const std::string end = body(b, {"elif", "else", "endif"});
        s->branches.emplace_back(std::move(c), std::move(b));
        if (end == "elif") continue;
        if (end == "else") {
          expect_block_end();
          Body eb;
          body(eb, {"endif"});
          s->branches.emplace_back(nullptr, std::move(eb));
        }
        break;
      }
    } else if (name == "for") {
      s->kind = Stmt::Kind::kFor;
      s->target = assign_target(false);
      if (!skip_name("in")) fail("expected 'in', got '" + describe(cur()) + "'");
      s->expr = tuple(false, {"recursive"});
      if (skip_name("if")) s->cond = expression(true);
      if (is_name("recursive")) fail("recursive for loops are not supported");
      expect_block_end();
      const int refs_before = loop_refs_;
      const std::string end = body(s->body, {"endfor", "else"});
      s->uses_loop = loop_refs_ > refs_before;
      if (end == "else") {
        expect_block_end();
        body(s->else_body, {"endfor"});
      }
    } else if (name == "set") {
      s->target = assign_target(true);
      if (skip_op("=")) {
        s->kind = Stmt::Kind::kSet;
        s->expr = tuple(true, {});
      } else {
        s->kind = Stmt::Kind::kSetBlock;
        if (s->target.tuple || !s->target.attr.empty()) fail("a block set assigns one name");
        if (is_op("|")) s->expr = filters(nullptr);
        expect_block_end();
        body(s->body, {"endset"});
      }
    } else if (name == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->text = expect_name();
      expect_op("(");
      while (!skip_op(")")) {
        if (!s->params.empty()) expect_op(",");
        if (skip_op(")")) break;  // trailing comma
        s->params.push_back(expect_name());
        s->defaults.push_back(skip_op("=") ? expression(true) : nullptr);
      }
      expect_block_end();
      body(s->body, {"endmacro"});
    } else if (name == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      s->expr = filters(nullptr, false);
      expect_block_end();
      body(s->body, {"endfilter"});
    } else if (name == "with") {
      s->kind = Stmt::Kind::kWith;
      while (cur().kind != K::kBlockEnd) {
        if (!s->params.empty()) expect_op(",");
        s->params.push_back(expect_name());
        expect_op("=");
        s->defaults.push_back(expression(true));
      }
      expect_block_end();
      body(s->body, {"endwith"});
    } else if (name == "generation") {
      s->kind = Stmt::Kind::kScope;
      expect_block_end();
      body(s->body, {"endgeneration"});
    } else if (name == "break" || name == "continue") {
      s->kind = name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    } else if (name == "include" || name == "import" || name == "from" || name == "extends" || name == "block" ||
               name == "call" || name == "do" || name == "autoescape") {
      throw Error("tag '" + name + "' is not supported in chat templates", t.line);
    } else if (name.rfind("end", 0) == 0 || name == "elif" || name == "else") {
      throw Error("unexpected '" + name + "' (no open block it could close)", t.line);
    } else {
      throw Error("unknown tag '" + name + "'", t.line);
    }
    expect_block_end();
    return s;
  }

  Target assign_target(bool with_namespace) {
    Target tg;
    if (with_namespace && cur().kind == K::kName && peek().kind == K::kOp && peek().text == ".") {
      tg.names.push_back(next().text);
      next();
      tg.attr = expect_name();
      return tg;
    }
    const bool paren = skip_op("(");
    while (true) {
      tg.names.push_back(expect_name());
      if (!skip_op(",")) break;
      tg.tuple = true;
      if (cur().kind != K::kName) break;  // trailing comma
    }
    if (paren) {
      expect_op(")");
      tg.tuple = true;
    }
    return tg;
  }

  // --- expressions ---------------------------------------------------------------------------------------------
  bool tuple_end(std::initializer_list<const char*> extra) const {
    if (cur().kind == K::kVarEnd || cur().kind == K::kBlockEnd || is_op(")")) return true;
    for (const char* e : extra) {
      if (is_name(e)) return true;
    }
    return false;
  }

  // parse_tuple: one expression, or several separated by commas (a tuple). `explicit_parens`: "()" is allowed.
  ExprPtr tuple(bool with_condexpr, std::initializer_list<const char*> extra, bool explicit_parens = false) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra)) break;
      items.push_back(expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail("expected an expression, got '" + describe(cur()) + "'");
    }
    auto e = node(Expr::Kind::kTuple, line);
    e->args = std::move(items);
    return e;
  }

  ExprPtr expression(bool with_condexpr) {
    DepthGuard g(*this);
    return with_condexpr ? condexpr() : or_expr();
  }

  ExprPtr condexpr() {
    ExprPtr e = or_expr();
    while (is_name("if")) {
      const int line = next().line;
      auto c = node(Expr::Kind::kCond, line);
      ExprPtr test = or_expr();
      ExprPtr other = skip_name("else") ? condexpr() : nullptr;
      c->args.push_back(std::move(test));
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(ExprPtr l, const std::string& op, ExprPtr r, int line) {
    auto e = node(Expr::Kind::kBinary, line);
    e->name = op;
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr or_expr() {
    ExprPtr e = and_expr();
    while (is_name("or")) {
      const int line = next().line;
      e = binary(std::move(e), "or", and_expr(), line);
    }
    return e;
  }

  ExprPtr and_expr() {
    ExprPtr e = not_expr();
    while (is_name("and")) {
      const int line = next().line;
      e = binary(std::move(e), "and", not_expr(), line);
    }
    return e;
  }

  ExprPtr not_expr() {
    if (is_name("not")) {
      DepthGuard g(*this);
      auto e = node(Expr::Kind::kUnary, next().line);
      e->name = "not";
      e->args.push_back(not_expr());
      return e;
    }
    return compare();
  }

  ExprPtr compare() {
    const int line = cur().line;
    ExprPtr first = math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> rest;
    while (true) {
      if (cur().kind == K::kOp && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                   cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        ops.push_back(next().text);
      } else if (is_name("in")) {
        next();
        ops.emplace_back("in");
      } else if (is_name("not") && peek().kind == K::kName && peek().text == "in") {
        next();
        next();
        ops.emplace_back("notin");
      } else {
        break;
      }
      rest.push_back(math1());
    }
    if (ops.empty()) return first;
    auto e = node(Expr::Kind::kCompare, line);
    e->ops = std::move(ops);
    e->args.push_back(std::move(first));
    for (auto& r : rest) e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr math1() {
    ExprPtr e = concat();
    while (is_op("+") || is_op("-")) {
      const Token& op = next();
      e = binary(std::move(e), op.text, concat(), op.line);
    }
    return e;
  }

  ExprPtr concat() {
    ExprPtr e = math2();
    while (is_op("~")) {
      const int line = next().line;
      e = binary(std::move(e), "~", math2(), line);
    }
    return e;
  }

  ExprPtr math2() {
    ExprPtr e = pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& op = next();
      e = binary(std::move(e), op.text, pow(), op.line);
    }
    return e;
  }

  ExprPtr pow() {
    ExprPtr e = unary(true);
    while (is_op("**")) {
      const int line = next().line;
      e = binary(std::move(e), "**", unary(true), line);
    }
    return e;
  }

  ExprPtr unary(bool with_filter) {
    DepthGuard g(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const Token& op = next();
      e = node(Expr::Kind::kUnary, op.line);
      e->name = op.text;
      e->args.push_back(unary(false));
    } else {
      e = primary();
    }
    e = postfix(std::move(e));
    if (with_filter) e = filter_expr(std::move(e));
    return e;
  }

  ExprPtr primary() {
    const Token& t = cur();
    switch (t.kind) {
      case K::kName: {
        next();
        auto e = node(Expr::Kind::kLiteral, t.line);
        if (t.text == "true" || t.text == "True") {
          e->value = Value(true);
        } else if (t.text == "false" || t.text == "False") {
          e->value = Value(false);
        } else if (t.text == "none" || t.text == "None") {
          e->value = Value::none();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = t.text;
          loop_refs_ += t.text == "loop";
        }
        return e;
      }
      case K::kString: {
        auto e = node(Expr::Kind::kLiteral, t.line);
        std::string s;
        while (cur().kind == K::kString) s += next().text;  // adjacent literals concatenate
        e->value = Value(std::move(s));
        return e;
      }
      case K::kInt:
      case K::kFloat: {
        next();
        auto e = node(Expr::Kind::kLiteral, t.line);
        e->value = t.kind == K::kInt ? Value(t.i) : Value(t.f);
        return e;
      }
      default: break;
    }
    if (skip_op("(")) {
      ExprPtr e = tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      auto e = node(Expr::Kind::kList, next().line);
      while (!skip_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (skip_op("]")) break;
        e->args.push_back(expression(true));
      }
      return e;
    }
    if (is_op("{")) {
      auto e = node(Expr::Kind::kDict, next().line);
      while (!skip_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (skip_op("}")) break;
        e->args.push_back(expression(true));
        expect_op(":");
        e->args.push_back(expression(true));
      }
      return e;
    }
    fail("unexpected '" + describe(t) + "'");
  }

  ExprPtr postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const int line = next().line;
        if (cur().kind == K::kName) {
          auto a = node(Expr::Kind::kAttr, line);
          a->name = next().text;
          a->args.push_back(std::move(e));
          e = std::move(a);
        } else if (cur().kind == K::kInt) {
          auto a = node(Expr::Kind::kItem, line);
          auto idx = node(Expr::Kind::kLiteral, line);
          idx->value = Value(next().i);
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
          e = std::move(a);
        } else {
          fail("expected name or number after '.'");
        }
      } else if (is_op("[")) {
        e = subscript(std::move(e));
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr e) {
    const int line = next().line;  // '['
    std::vector<ExprPtr> parts;  // one index, or start/stop/step of a slice
    bool slice = false;
    std::vector<ExprPtr> tuple_items;
    while (true) {
      ExprPtr a = is_op(":") ? nullptr : expression(true);
      if (is_op(":")) {
        slice = true;
        parts.push_back(std::move(a));
        next();
        parts.push_back(is_op(":") || is_op("]") ? nullptr : expression(true));
        if (skip_op(":")) {
          parts.push_back(is_op("]") ? nullptr : expression(true));
        } else {
          parts.push_back(nullptr);
        }
        break;
      }
      tuple_items.push_back(std::move(a));
      if (!skip_op(",")) break;
      if (is_op("]")) break;
    }
    expect_op("]");
    if (slice) {
      if (!tuple_items.empty()) fail("multi-dimensional subscripts are not supported");
      auto s = node(Expr::Kind::kSlice, line);
      s->args.push_back(std::move(e));
      for (auto& p : parts) s->args.push_back(std::move(p));
      return s;
    }
    auto it = node(Expr::Kind::kItem, line);
    it->args.push_back(std::move(e));
    if (tuple_items.size() == 1) {
      it->args.push_back(std::move(tuple_items[0]));
    } else {
      auto t = node(Expr::Kind::kTuple, line);
      t->args = std::move(tuple_items);
      it->args.push_back(std::move(t));
    }
    return it;
  }

  // Call arguments into e->args (after any already there) and e->kwargs.
  void call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!skip_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (skip_op(")")) break;
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (cur().kind == K::kName && peek().kind == K::kOp && peek().text == "=") {
        std::string key = next().text;
        next();
        e.kwargs.emplace_back(std::move(key), expression(true));
      } else {
        if (!e.kwargs.empty()) fail("positional argument after keyword argument");
        e.args.push_back(expression(true));
      }
    }
  }

  ExprPtr call(ExprPtr fn) {
    auto e = node(Expr::Kind::kCall, cur().line);
    e->args.push_back(std::move(fn));
    call_args(*e);
    return e;
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (is_op(".") && peek().kind == K::kName) {
      next();
      n += "." + next().text;
    }
    return n;
  }

  // A chain of "| f(args)" applied to `subject` (null in filter blocks). `need_pipe`: the first "|" is required.
  ExprPtr filters(ExprPtr subject, bool need_pipe = true) {
    bool first = true;
    while ((first && !need_pipe) || is_op("|")) {
      if (!(first && !need_pipe)) next();
      first = false;
      auto f = node(Expr::Kind::kFilter, cur().line);
      f->name = dotted_name();
      f->args.push_back(std::move(subject));
      if (is_op("(")) call_args(*f);
      subject = std::move(f);
    }
    return subject;
  }

  ExprPtr filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        e = filters(std::move(e));
      } else if (is_name("is")) {
        const int line = next().line;
        auto t = node(Expr::Kind::kTest, line);
        t->negated = skip_name("not");
        t->name = dotted_name();
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          call_args(*t);
        } else if ((cur().kind == K::kName || cur().kind == K::kString || cur().kind == K::kInt ||
                    cur().kind == K::kFloat || is_op("(") || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) fail("you cannot chain multiple tests with 'is'");
          t->args.push_back(postfix(primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_refs_ = 0;  // `loop` names seen so far
};

}  // namespace

std::unique_ptr<Program> parse(std::string_view source) { return Parser(tokenize(source)).program(); }

}  // namespace ts::jinja
