// tokenscope eval: how well each score column of a JSONL file separates two classes (analysis/eval.h).
//
// Input: one JSON object per line (the output of detect, mia, or score/analyze summaries — a "summary" object is
// read as if its fields were at the top level); the --label-field gives the class: true / non-zero / "true" / "1" /
// "yes" is positive, false / 0 / "false" / "0" / "no" negative, or with --positive VALUE exactly the lines whose
// label (a string, or the JSON text of a number) equals VALUE are positive. Lines without the label are skipped
// (counted on stderr). Score columns: every top-level number (not bool) other than the label and --exclude (default
// "doc"), or exactly --columns. null (NaN, ±inf in our output) is a missing value, left out of that column.
//
// Direction: positives should score HIGHER; columns whose convention is lower ⇒ positive are negated first —
// binoculars and zlib_ratio by default, or any named in --lower (--higher overrides). Output, one line per column:
//   {"score":"fast_detectgpt","direction":"higher","positives":200,"negatives":200,"missing":0,"auroc":..,
//    "auroc_ci":[lo,hi],"tpr_at_1pct_fpr":..,"tpr_at_1pct_fpr_ci":[..],"tpr_at_5pct_fpr":..,"tpr_at_5pct_fpr_ci":[..],
//    "best_accuracy":..,"best_accuracy_ci":[..],"best_threshold":..,"best_balanced_accuracy":..,
//    "best_balanced_accuracy_ci":[..]}
// best_threshold is in the column's own units: positive iff score ≥ it ("higher") or ≤ it ("lower"). CIs: --resamples
// bootstrap resamples of the documents (each class resampled apart), percentile interval at --level.
// --format table prints the same as an aligned table.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "analysis/eval.h"
#include "commands.h"
#include "common.h"
#include "tensor/thread_pool.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string input, label = "label", positive, format = "jsonl";
  std::vector<std::string> columns, exclude = {"doc"}, lower, higher;
  int resamples = 1000, threads = 0;
  uint64_t seed = analysis::BootstrapOptions{}.seed;
  double level = 0.95;
  bool has_positive = false;
};

struct Column {
  std::string name;
  bool lower = false;
  std::vector<double> pos, neg;
  int64_t missing = 0;
  Expected<analysis::Evaluation> result = Error::input("not evaluated");
};

Expected<bool> label_value(const Json& v, const Opts& o, const std::string& where) {
  if (o.has_positive) return (v.is_string() ? v.get<std::string>() : v.dump()) == o.positive;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "true" || s == "1" || s == "yes") return true;
    if (s == "false" || s == "0" || s == "no") return false;
  }
  return Error::input(where + ": field '" + o.label + "': value " + v.dump() +
                      " is not a boolean class (give --positive VALUE to name the positive class)");
}

Json interval(const analysis::Interval& i) { return Json::array({round6(i.lo), round6(i.hi)}); }

int run_eval(const Opts& o) {
  std::ifstream file;
  std::istream* is = &std::cin;
  if (o.input != "-") {
    file.open(o.input, std::ios::binary);
    if (!file) return report(Error::input(o.input + ": cannot open"));
    is = &file;
  }
  const std::set<std::string> exclude(o.exclude.begin(), o.exclude.end());
  std::set<std::string> lower = {"binoculars", "zlib_ratio"};
  for (const auto& c : o.lower) lower.insert(c);
  for (const auto& c : o.higher) lower.erase(c);

  // rows: the label and the object, read once; the columns are found as they appear
  std::vector<std::pair<bool, Json>> rows;
  std::vector<std::string> names = o.columns;
  std::set<std::string> seen(names.begin(), names.end());
  int64_t line_no = 0, unlabeled = 0;
  std::string line;
  while (std::getline(*is, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = o.input + ":" + std::to_string(line_no);
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return report(Error::input(where + ": expected a JSON object"));
    if (j.contains("summary") && j["summary"].is_object()) {
      Json flat = j["summary"];
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "summary" && !flat.contains(it.key())) flat[it.key()] = it.value();
      j = std::move(flat);
    }
    if (!j.contains(o.label)) {
      ++unlabeled;
      continue;
    }
    auto lab = label_value(j[o.label], o, where);
    if (!lab) return report(lab.error());
    if (o.columns.empty())
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it.value().is_number() && it.key() != o.label && !exclude.count(it.key()) && seen.insert(it.key()).second)
          names.push_back(it.key());
    rows.emplace_back(*lab, std::move(j));
  }
  if (is->bad()) return report(Error::input(o.input + ": read error"));
  if (unlabeled) std::fprintf(stderr, "eval: %lld lines without field '%s' skipped\n", (long long)unlabeled, o.label.c_str());
  int64_t n_pos = 0;
  for (const auto& r : rows) n_pos += r.first;
  if (n_pos == 0 || n_pos == static_cast<int64_t>(rows.size()))
    return report(Error::input(o.input + ": field '" + o.label + "': need both classes, found " +
                               std::to_string(n_pos) + " positive and " + std::to_string(rows.size() - n_pos) +
                               " negative lines"));
  if (names.empty()) return report(Error::input(o.input + ": no numeric score column"));

  std::vector<Column> cols(names.size());
  for (size_t c = 0; c < names.size(); ++c) {
    Column& col = cols[c];
    col.name = names[c];
    col.lower = lower.count(col.name) > 0;
    for (const auto& [positive, j] : rows) {
      auto it = j.find(col.name);
      if (it == j.end() || !it->is_number()) {
        ++col.missing;
        continue;
      }
      const double v = it->get<double>() * (col.lower ? -1.0 : 1.0);
      (positive ? col.pos : col.neg).push_back(v);
    }
  }
  analysis::BootstrapOptions bo;
  bo.resamples = o.resamples;
  bo.seed = o.seed;
  bo.level = o.level;
  ThreadPool pool(thread_count(o.threads));
  pool.parallel_for(static_cast<int64_t>(cols.size()), 1, [&](int64_t a, int64_t b, int) {
    for (int64_t c = a; c < b; ++c) cols[c].result = analysis::evaluate(cols[c].pos, cols[c].neg, bo);
  });

  const bool table = o.format == "table";
  if (table)
    std::printf("%-28s %-6s %5s %5s  %-24s %9s %9s %9s\n", "score", "dir", "n+", "n-", "AUROC [95% CI]", "TPR@1%",
                "TPR@5%", "best acc");
  for (const Column& col : cols) {
    const char* dir = col.lower ? "lower" : "higher";
    if (!col.result) {
      if (table) std::printf("%-28s %-6s %5zu %5zu  %s\n", col.name.c_str(), dir, col.pos.size(), col.neg.size(),
                             col.result.error().message.c_str());
      else std::puts(dump_json(Json{{"score", col.name}, {"direction", dir}, {"positives", col.pos.size()},
                                    {"negatives", col.neg.size()}, {"missing", col.missing},
                                    {"error", col.result.error().message}}).c_str());
      continue;
    }
    const analysis::Evaluation& e = *col.result;
    if (table) {
      char ci[64];
      std::snprintf(ci, sizeof ci, "%.4f [%.4f, %.4f]", e.point.auroc, e.auroc.lo, e.auroc.hi);
      std::printf("%-28s %-6s %5zu %5zu  %-24s %9.4f %9.4f %9.4f\n", col.name.c_str(), dir, col.pos.size(),
                  col.neg.size(), ci, e.point.tpr_at_1pct_fpr, e.point.tpr_at_5pct_fpr, e.point.best_accuracy);
      continue;
    }
    const double thr = col.lower ? -e.point.best_accuracy_threshold : e.point.best_accuracy_threshold;
    Json j = {{"score", col.name},
              {"direction", dir},
              {"positives", col.pos.size()},
              {"negatives", col.neg.size()},
              {"missing", col.missing},
              {"auroc", round6(e.point.auroc)},
              {"auroc_ci", interval(e.auroc)},
              {"tpr_at_1pct_fpr", round6(e.point.tpr_at_1pct_fpr)},
              {"tpr_at_1pct_fpr_ci", interval(e.tpr_at_1pct_fpr)},
              {"tpr_at_5pct_fpr", round6(e.point.tpr_at_5pct_fpr)},
              {"tpr_at_5pct_fpr_ci", interval(e.tpr_at_5pct_fpr)},
              {"best_accuracy", round6(e.point.best_accuracy)},
              {"best_accuracy_ci", interval(e.best_accuracy)},
              {"best_threshold", thr},
              {"best_balanced_accuracy", round6(e.point.best_balanced_accuracy)},
              {"best_balanced_accuracy_ci", interval(e.best_balanced_accuracy)}};
    std::puts(dump_json(j).c_str());
  }
  return 0;
}

}  // namespace

void register_eval(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("eval", "AUROC, TPR at 1%/5% FPR and best-threshold accuracy, with bootstrap 95% "
                                         "CIs, of every score column of a JSONL file against a label column");
  auto o = std::make_shared<Opts>();
  cmd->add_option("scores", o->input, "JSONL scores (the output of detect or mia, with a label field; '-' for stdin)")
      ->required();
  cmd->add_option("--label-field", o->label, "Field holding the class");
  auto* pos = cmd->add_option("--positive", o->positive, "Label value of the positive class (default: true/1)");
  cmd->add_option("--columns", o->columns, "Evaluate only these columns (comma-separated)")->delimiter(',');
  cmd->add_option("--exclude", o->exclude, "Numeric columns that are not scores (default: doc)")->delimiter(',');
  cmd->add_option("--lower", o->lower, "Columns where LOWER means positive (default: binoculars, zlib_ratio)")
      ->delimiter(',');
  cmd->add_option("--higher", o->higher, "Columns where higher means positive, overriding the defaults")
      ->delimiter(',');
  cmd->add_option("--resamples", o->resamples, "Bootstrap resamples")->check(CLI::Range(1, 1000000));
  cmd->add_option("--level", o->level, "Confidence level of the intervals")->check(CLI::Range(0.5, 0.9999));
  cmd->add_option("--seed", o->seed, "Bootstrap seed (fixed by default: reruns give the same intervals)");
  cmd->add_option("--format", o->format, "jsonl or table")->check(CLI::IsMember({"jsonl", "table"}));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&run, o, pos] {
    o->has_positive = pos->count() > 0;
    run = [o] { return run_eval(*o); };
  });
}

}  // namespace ts::cli
