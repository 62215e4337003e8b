// Order statistics shared by the detectors: quantiles, the mean of the lowest fraction, top-fraction flags.
//
//   quantile(α) on sorted x_0 ≤ … ≤ x_{n−1}: h = α(n−1), x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋)   (numpy's default
//     "linear" method, which torch.quantile also uses)
//   mean_of_lowest(x, k): the mean of the c smallest values, c = max(1, ⌊n·k⌋)  (the Min-K% and Min-K%++ code take
//     c = int(n·k) and get an empty mean — NaN — when n·k < 1; we keep at least one)
//   top_fraction_flags(x, f): x_i ≥ quantile(1 − f)  (the 80/20 forking-token rule with f = 0.2; ties at the
//     threshold are all flagged)
// Empty inputs give NaN (quantile, mean) or an empty vector.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ts::analysis {

double quantile_sorted(std::span<const double> sorted, double alpha);
double quantile(std::vector<double> values, double alpha);
double mean_of_lowest(std::vector<double> values, double fraction);
std::vector<uint8_t> top_fraction_flags(std::span<const double> values, double fraction);

}  // namespace ts::analysis
