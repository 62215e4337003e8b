// Renders a parsed chat template: statements, expressions with Python operator semantics, Jinja2 scoping.
//
// Scoping as jinja2 compiles it: the render context and globals are the root; the template body has its own
// scope; each for-loop iteration, macro call and with-block gets a fresh child scope, so `{% set %}` inside a loop
// does not leak out (templates use namespace() for that); if-blocks do not open a scope. A macro sees the scope
// it was defined in, not its caller's.
//
// Limits (RenderLimits) turn runaway templates into errors instead of hangs or crashes: total work (each
// expression or statement evaluated counts one step, as do 8 bytes of text built; a list element copied, a loop
// iteration with its `loop` object or a macro call count a few), output size,
// nested macro calls and evaluation depth, and range() at 100,000 items as jinja2's sandbox does.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/value.h"

namespace ts::jinja {

inline constexpr uint64_t kBytesPerStep = 8;  // building this much text counts as one step of work

struct RenderLimits {
  size_t max_output_bytes = size_t{32} << 20;  // the rendered text, and any one string built on the way
  uint64_t max_steps = 50'000'000;             // about 1-2 s of work at worst
  int max_macro_depth = 100;                   // nested macro calls (recursion)
  int max_eval_depth = 1000;                   // nested evaluations of any kind
};

struct Scope {
  std::shared_ptr<Scope> parent;
  Items vars;
  const Value* lookup(std::string_view name) const;  // this scope, then its parents
  void set(const std::string& name, Value v);         // in this scope
};

class Interp {
 public:
  Interp(const RenderLimits& limits, std::tm now);

  // Renders `program` with `context` (and the globals) as its variables. Throws jinja::Error.
  std::string render(const Program& program, const Items& context);

  // For the builtins.
  Value call(const Value& fn, Args& args);
  Value get_attr(const Value& obj, const std::string& name);  // jinja2 getattr: attribute, then item
  Value get_item(const Value& obj, const Value& key);         // jinja2 getitem: item, then attribute
  Value apply_filter(const std::string& name, Args& args);
  bool apply_test(const std::string& name, Args& args);
  void charge(uint64_t steps);                       // counts work; raises past the limit
  void check_size(size_t bytes) const;               // raises when a string would exceed the output limit
  const std::tm& now() const { return now_; }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  struct DepthGuard;

  Flow exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  Flow exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  void assign(const Target& t, Value v, Scope& scope);
  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  // A filter node: its subject is args[0] evaluated, or `block_subject` (the captured text of a filter / set
  // block) where the chain ends in a null subject.
  Value eval_filter_chain(const Expr& e, const Value* block_subject, const std::shared_ptr<Scope>& scope);
  void eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope, Args& out);
  Value call_macro(const CallableData& m, Args& args);
  void emit(std::string& out, std::string_view s);

  RenderLimits limits_;
  std::tm now_;
  uint64_t steps_ = 0;
  int macro_depth_ = 0;
  int eval_depth_ = 0;
  std::vector<std::shared_ptr<Scope>> macro_scopes_;  // scopes that define macros, kept for the whole render
};

// Operators with Python semantics (also used by filters such as sum).
Value binary_op(Interp& in, const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);  // Python `item in container`
// The items a for-loop (or list()) visits: list items, dict keys, string characters; undefined gives none.
std::vector<Value> iterate(const Value& v);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// Raises the error an operation on an undefined value raises.
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace ts::jinja
