// Chat-template evaluation: statements and expressions (see evaluator.h). Operators: operators.cpp.
#include "tokenizer/chat_template/evaluator.h"

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

const Value* Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& [k, x] : vars) {
    if (k == name) {
      x = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

struct Interp::DepthGuard {
  explicit DepthGuard(Interp& in) : in_(in) {
    if (++in_.eval_depth_ > in_.limits_.max_eval_depth) {
      throw Error("template evaluation nested deeper than " + std::to_string(in_.limits_.max_eval_depth));
    }
  }
  ~DepthGuard() { --in_.eval_depth_; }
  Interp& in_;
};

Interp::Interp(const RenderLimits& limits, std::tm now) : limits_(limits), now_(now) {}

void Interp::charge(uint64_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) {
    throw Error("template exceeded its work limit (" + std::to_string(limits_.max_steps) + " steps)");
  }
}

void Interp::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    throw Error("template output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Interp::emit(std::string& out, std::string_view s) {
  check_size(out.size() + s.size());
  charge(s.size() / kBytesPerStep);
  out.append(s);
}

std::string Interp::render(const Program& program, const Items& context) {
  auto root = std::make_shared<Scope>();
  root->vars = make_globals();
  for (const auto& [k, v] : context) root->set(k, v);
  auto top = std::make_shared<Scope>();
  top->parent = root;
  std::string out;
  if (exec(program.body, top, out) != Flow::kNormal) throw Error("'break' or 'continue' outside a loop");
  return out;
}

Interp::Flow Interp::exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out) {
  for (const auto& s : body) {
    const Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interp::Flow Interp::exec_stmt(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  DepthGuard g(*this);
  charge(1);
  try {
    switch (s.kind) {
      case Stmt::Kind::kText: emit(out, s.text); return Flow::kNormal;
      case Stmt::Kind::kOutput: emit(out, to_str(eval(*s.expr, scope))); return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (const auto& [cond, body] : s.branches) {
          if (!cond || eval(*cond, scope).truthy()) return exec(body, scope, out);
        }
        return Flow::kNormal;
      case Stmt::Kind::kFor: return exec_for(s, scope, out);
      case Stmt::Kind::kSet: assign(s.target, eval(*s.expr, scope), *scope); return Flow::kNormal;
      case Stmt::Kind::kSetBlock:
      case Stmt::Kind::kFilterBlock: {
        auto inner = std::make_shared<Scope>();
        inner->parent = scope;
        std::string captured;
        if (exec(s.body, inner, captured) != Flow::kNormal) {
          throw Error("'break' or 'continue' outside a loop", s.line);
        }
        Value v(std::move(captured));
        if (s.expr) v = eval_filter_chain(*s.expr, &v, scope);
        if (s.kind == Stmt::Kind::kSetBlock) {
          assign(s.target, std::move(v), *scope);
        } else {
          emit(out, to_str(v));
        }
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        if (macro_scopes_.empty() || macro_scopes_.back() != scope) macro_scopes_.push_back(scope);
        scope->set(s.text, Value::macro(s.text, &s, scope));
        return Flow::kNormal;
      case Stmt::Kind::kWith: {
        auto inner = std::make_shared<Scope>();
        inner->parent = scope;
        for (size_t i = 0; i < s.params.size(); ++i) inner->set(s.params[i], eval(*s.defaults[i], scope));
        return exec(s.body, inner, out);
      }
      case Stmt::Kind::kScope: return exec(s.body, scope, out);
      case Stmt::Kind::kBreak: return Flow::kBreak;
      case Stmt::Kind::kContinue: return Flow::kContinue;
    }
  } catch (Error& e) {
    if (e.line == 0) e.line = s.line;
    throw;
  }
  return Flow::kNormal;
}

Interp::Flow Interp::exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  std::vector<Value> items = iterate(eval(*s.expr, scope));
  charge(items.size());
  if (s.cond) {  // `for x in xs if cond`: the condition sees the loop target, not `loop`
    std::vector<Value> kept;
    for (auto& it : items) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      assign(s.target, it, *probe);
      if (eval(*s.cond, probe).truthy()) kept.push_back(std::move(it));
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    assign(s.target, items[i], *inner);
    if (!s.uses_loop) {
      if (exec(s.body, inner, out) == Flow::kBreak) break;
      continue;
    }
    charge(8);  // building the loop object costs about as much as eight plain steps
    Items loop = {{"index", Value(i + 1)},      {"index0", Value(i)},         {"revindex", Value(n - i)},
                  {"revindex0", Value(n - i - 1)}, {"first", Value(i == 0)},   {"last", Value(i == n - 1)},
                  {"length", Value(n)},         {"depth", Value(1)},          {"depth0", Value(0)}};
    if (i > 0) loop.emplace_back("previtem", items[i - 1]);
    if (i + 1 < n) loop.emplace_back("nextitem", items[i + 1]);
    loop.emplace_back("cycle", Value::callable("loop.cycle", [i](Interp&, Args& a) -> Value {
                        if (a.pos.empty()) throw Error("loop.cycle() needs at least one argument");
                        return a.pos[static_cast<size_t>(i) % a.pos.size()];
                      }));
    inner->set("loop", Value::dict_unique(std::move(loop)));
    const Flow f = exec(s.body, inner, out);
    if (f == Flow::kBreak) break;
  }
  if (n == 0) return exec(s.else_body, scope, out);
  return Flow::kNormal;
}

void Interp::assign(const Target& t, Value v, Scope& scope) {
  if (!t.attr.empty()) {
    const Value* ns = scope.lookup(t.names[0]);
    if (!ns || !ns->is_namespace()) throw Error("cannot assign attribute on non-namespace object");
    ns->ns().set(t.attr, std::move(v));
    return;
  }
  if (!t.tuple) {
    scope.set(t.names[0], std::move(v));
    return;
  }
  if (v.is_undefined()) fail_undefined(v);
  std::vector<Value> parts = iterate(v);
  if (parts.size() != t.names.size()) {
    throw Error(parts.size() > t.names.size()
                    ? "too many values to unpack (expected " + std::to_string(t.names.size()) + ")"
                    : "not enough values to unpack (expected " + std::to_string(t.names.size()) + ", got " +
                          std::to_string(parts.size()) + ")");
  }
  for (size_t i = 0; i < parts.size(); ++i) scope.set(t.names[i], std::move(parts[i]));
}

void Interp::eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope, Args& out) {
  for (size_t i = first; i < e.args.size(); ++i) out.pos.push_back(eval(*e.args[i], scope));
  for (const auto& [k, x] : e.kwargs) out.kw.emplace_back(k, eval(*x, scope));
}

Value Interp::eval_filter_chain(const Expr& e, const Value* block_subject, const std::shared_ptr<Scope>& scope) {
  Args a;
  if (!e.args[0]) {
    a.pos.push_back(*block_subject);
  } else if (block_subject) {  // an inner link of a {% filter %} / {% set x | f %} chain
    a.pos.push_back(eval_filter_chain(*e.args[0], block_subject, scope));
  } else {
    a.pos.push_back(eval(*e.args[0], scope));
  }
  eval_args(e, 1, scope, a);
  return apply_filter(e.name, a);
}

Value Interp::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  DepthGuard g(*this);
  charge(1);
  try {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.value;
      case Expr::Kind::kName: {
        const Value* v = scope->lookup(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        std::vector<Value> xs;
        xs.reserve(e.args.size());
        for (const auto& a : e.args) xs.push_back(eval(*a, scope));
        return Value::list(std::move(xs), e.kind == Expr::Kind::kTuple);
      }
      case Expr::Kind::kDict: {
        Items es;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          std::string k = dict_key(eval(*e.args[i], scope));
          es.emplace_back(std::move(k), eval(*e.args[i + 1], scope));
        }
        return Value::dict(std::move(es));
      }
      case Expr::Kind::kAttr: return get_attr(eval(*e.args[0], scope), e.name);
      case Expr::Kind::kItem: {
        Value obj = eval(*e.args[0], scope);
        return get_item(obj, eval(*e.args[1], scope));
      }
      case Expr::Kind::kSlice: {
        Value obj = eval(*e.args[0], scope);
        Value parts[3];
        for (int i = 0; i < 3; ++i) parts[i] = e.args[1 + i] ? eval(*e.args[1 + i], scope) : Value::none();
        if (obj.is_undefined()) fail_undefined(obj);
        Value r = slice(obj, parts[0], parts[1], parts[2]);
        charge(r.is_list() ? r.items().size() : r.is_string() ? r.str().size() / kBytesPerStep : 0);
        return r;
      }
      case Expr::Kind::kCall: {
        Value fn = eval(*e.args[0], scope);
        Args a;
        eval_args(e, 1, scope, a);
        return call(fn, a);
      }
      case Expr::Kind::kFilter: return eval_filter_chain(e, nullptr, scope);
      case Expr::Kind::kTest: {
        Args a;
        eval_args(e, 0, scope, a);
        return Value(apply_test(e.name, a) != e.negated);
      }
      case Expr::Kind::kUnary: {
        Value v = eval(*e.args[0], scope);
        if (e.name == "not") return Value(!v.truthy());
        if (v.is_undefined()) fail_undefined(v);
        if (!v.is_number()) throw Error("bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
        if (e.name == "+") return v.is_float() ? v : Value(v.as_int());
        if (v.is_float()) return Value(-v.as_float());
        if (v.as_int() == INT64_MIN) throw Error("integer overflow");
        return Value(-v.as_int());
      }
      case Expr::Kind::kBinary: {
        Value l = eval(*e.args[0], scope);
        if (e.name == "and") return l.truthy() ? eval(*e.args[1], scope) : l;
        if (e.name == "or") return l.truthy() ? l : eval(*e.args[1], scope);
        Value r = eval(*e.args[1], scope);
        return binary_op(*this, e.name, l, r);
      }
      case Expr::Kind::kCompare: {
        Value l = eval(*e.args[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value r = eval(*e.args[i + 1], scope);
          const std::string& op = e.ops[i];
          bool ok;
          if (op == "==") ok = equals(l, r);
          else if (op == "!=") ok = !equals(l, r);
          else if (op == "in") ok = contains(r, l);
          else if (op == "notin") ok = !contains(r, l);
          else {
            const int c = compare(l, r);
            ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
          }
          if (!ok) return Value(false);
          l = std::move(r);
        }
        return Value(true);
      }
      case Expr::Kind::kCond:
        if (eval(*e.args[0], scope).truthy()) return eval(*e.args[1], scope);
        if (e.args[2]) return eval(*e.args[2], scope);
        return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                                " evaluated to false and no else section was defined");
    }
  } catch (Error& err) {
    if (err.line == 0) err.line = e.line;
    throw;
  }
  return Value();
}

Value Interp::call(const Value& fn, Args& args) {
  if (fn.is_undefined()) fail_undefined(fn);
  if (!fn.is_callable()) throw Error("'" + type_name(fn) + "' object is not callable");
  const CallableData& c = fn.fn();
  if (c.macro) return call_macro(c, args);
  return c.fn(*this, args);
}

Value Interp::call_macro(const CallableData& m, Args& args) {
  if (macro_depth_ >= limits_.max_macro_depth) {
    throw Error("macro calls nested deeper than " + std::to_string(limits_.max_macro_depth) + " (runaway recursion?)");
  }
  ++macro_depth_;
  charge(8);  // a call builds a scope, binds arguments and renders into its own buffer
  struct Unwind {
    int& d;
    ~Unwind() { --d; }
  } unwind{macro_depth_};
  const Stmt& def = *m.macro;
  auto scope = std::make_shared<Scope>();
  scope->parent = m.closure.lock();  // alive: macro_scopes_ holds it for the render
  std::vector<bool> bound(def.params.size(), false);
  std::vector<Value> varargs;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < def.params.size()) {
      scope->set(def.params[i], args.pos[i]);
      bound[i] = true;
    } else {
      varargs.push_back(args.pos[i]);
    }
  }
  Items kwargs;
  for (auto& [k, v] : args.kw) {
    size_t j = 0;
    while (j < def.params.size() && def.params[j] != k) ++j;
    if (j == def.params.size()) {
      kwargs.emplace_back(k, v);
    } else if (bound[j]) {
      throw Error("macro '" + m.name + "' got multiple values for argument '" + k + "'");
    } else {
      scope->set(k, v);
      bound[j] = true;
    }
  }
  for (size_t j = 0; j < def.params.size(); ++j) {  // defaults are evaluated at call time, in the macro's scope
    if (bound[j]) continue;
    scope->set(def.params[j], def.defaults[j] ? eval(*def.defaults[j], scope)
                                              : Value::undefined("parameter '" + def.params[j] + "' was not provided"));
  }
  scope->set("varargs", Value::list(std::move(varargs), true));
  scope->set("kwargs", Value::dict(std::move(kwargs)));
  std::string out;
  if (exec(def.body, scope, out) != Flow::kNormal) throw Error("'break' or 'continue' outside a loop");
  return Value(std::move(out));
}

Value Interp::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (auto m = method(obj, name)) return *m;
  if (obj.is_dict()) {
    if (const Value* v = obj.find(name)) return *v;
  } else if (obj.is_namespace()) {
    if (const Value* v = obj.ns().find(name)) return *v;
  }
  const std::string owner = obj.is_none() ? "None" : type_name(obj) + " object";
  return Value::undefined("'" + owner + "' has no attribute '" + name + "'");
}

Value Interp::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict() && (key.is_string() || key.is_number() || key.is_none() || key.is_tuple())) {
    if (const Value* v = obj.find(dict_key(key))) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    const std::u32string cps = obj.is_string() && !text::is_ascii(obj.str()) ? text::decode(obj.str()) : U"";
    const int64_t n = obj.is_list() ? static_cast<int64_t>(obj.items().size())
                                    : static_cast<int64_t>(cps.empty() ? obj.str().size() : cps.size());
    int64_t i = key.as_int();
    if (i < 0) i += n;
    if (i >= 0 && i < n) {
      if (obj.is_list()) return obj.items()[static_cast<size_t>(i)];
      if (cps.empty()) return Value(obj.str().substr(static_cast<size_t>(i), 1));
      std::string ch;
      text::append(ch, cps[static_cast<size_t>(i)]);
      return Value(std::move(ch));
    }
    return Value::undefined("'" + type_name(obj) + " object' has no element " + repr(key));
  }
  if (key.is_string() && !obj.is_dict()) return get_attr(obj, key.str());
  if (key.is_string()) {  // a dict without that key: its methods, else undefined
    if (auto m = method(obj, key.str())) return *m;
    return Value::undefined("'dict object' has no attribute '" + key.str() + "'");
  }
  const std::string owner = obj.is_none() ? "None" : type_name(obj) + " object";
  return Value::undefined("'" + owner + "' has no element " + repr(key));
}

Value Interp::apply_filter(const std::string& name, Args& args) {
  const Builtin* f = find_filter(name);
  if (!f) throw Error("no filter named '" + name + "'");
  return (*f)(*this, args);
}

bool Interp::apply_test(const std::string& name, Args& args) {
  const Builtin* t = find_test(name);
  if (!t) throw Error("no test named '" + name + "'");
  return (*t)(*this, args).truthy();
}

void fail_undefined(const Value& v) {
  throw Error(v.undefined_hint().empty() ? "undefined value" : v.undefined_hint());
}

}  // namespace ts::jinja
