// Syntax tree of a parsed chat template: expressions and statements, each with its template line.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/value.h"

namespace ts::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,  // value
    kName,     // name
    kList,     // [args...]
    kTuple,    // (args...)
    kDict,     // {args[0]: args[1], args[2]: args[3], ...}
    kAttr,     // args[0].name        (jinja2 getattr: attribute, then item)
    kItem,     // args[0][args[1]]    (jinja2 getitem: item, then attribute)
    kSlice,    // args[0][args[1]:args[2]:args[3]], omitted parts null
    kCall,     // args[0](args[1..], kwargs)
    kFilter,   // args[0] | name(args[1..], kwargs); args[0] null in a {% filter %} / {% set x | f %} chain
    kTest,     // args[0] is [not] name(args[1..], kwargs)
    kUnary,    // name: "-", "+", "not"
    kBinary,   // args[0] name args[1]; name: + - * / // % ** ~ and or
    kCompare,  // args[0] ops[0] args[1] ops[1] args[2] ... (chained, Python style); ops: == != < <= > >= in notin
    kCond,     // args[1] if args[0] else args[2] (args[2] null: undefined)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  Value value;
  std::string name;
  std::vector<std::string> ops;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  bool negated = false;  // kTest: "is not"
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

// Left side of set / for: one name, several names (tuple unpacking), or namespace.attr.
struct Target {
  std::vector<std::string> names;
  std::string attr;  // set when the target is names[0].attr
  bool tuple = false;
};

struct Stmt {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // branches: (condition, body)...; an else branch has a null condition
    kFor,          // for target in expr [if cond] body [else else_body]
    kSet,          // set target = expr
    kSetBlock,     // set target [| filters in expr] body endset
    kMacro,        // macro text(params = defaults) body
    kFilterBlock,  // filter expr body endfilter
    kWith,         // with params[i] = defaults[i] ... body endwith
    kScope,        // a body rendered in place ({% generation %}, HF's assistant-mask marker)
    kBreak,
    kContinue,
  };
  Kind kind = Kind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr, cond;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Target target;
  Body body, else_body;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // aligned with params; null where a macro parameter has no default
  bool uses_loop = true;           // kFor: the body names `loop` (else no loop object is built per iteration)
};

struct Program {
  Body body;
};

}  // namespace ts::jinja
