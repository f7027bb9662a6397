#pragma once
// Spearman's rank correlation with ties averaged (Spearman 1904; the definition of
// scipy.stats.spearmanr, which Adebayo et al. 2018 use to compare saliency maps).
//
// Each sample is replaced by its rank, 1 … n, and tied values get the mean of the ranks they
// span (the "average" method of scipy.stats.rankdata); ρ is the Pearson correlation of the
// two rank vectors,
//     ρ = Σ (r_i − r̄)(s_i − s̄) / √(Σ (r_i − r̄)² · Σ (s_i − s̄)²).
// The shortcut 1 − 6 Σ d² / (n (n² − 1)) is exact only without ties, which saliency maps
// (ReLU'd to zero over large areas) rarely are, so it is not used.
// Constant inputs have no ranking: ρ is 1 when both are constant (the same — empty —
// ordering) and 0 when exactly one is, never 0/0.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// Ranks 1 … n of the values, ties given their average rank.
inline std::vector<double> average_ranks(std::span<const float> values) {
    const std::size_t n = values.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> ranks(n);
    for (std::size_t first = 0; first < n;) {
        std::size_t last = first + 1;
        while (last < n && values[order[last]] == values[order[first]]) ++last;
        // Positions first … last−1 hold equal values: ranks first+1 … last, mean (first+1+last)/2.
        const double rank = (static_cast<double>(first + 1) + static_cast<double>(last)) / 2.0;
        for (std::size_t k = first; k < last; ++k) ranks[order[k]] = rank;
        first = last;
    }
    return ranks;
}

/// Spearman's ρ of two samples of equal, non-zero length with finite values.
inline double spearman_correlation(std::span<const float> a, std::span<const float> b) {
    constexpr const char* where = "xai::spearman_correlation()";
    detail::require<shape_error>(a.size() == b.size() && !a.empty(), where, ": a has ", a.size(), " values and b ",
                                 b.size(), ", expected the same non-zero number");
    for (auto s : {a, b})
        detail::require(std::all_of(s.begin(), s.end(), [](float v) { return std::isfinite(v); }), where,
                        ": the samples contain NaN or Inf, expected finite values");
    const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
    const double mean = (static_cast<double>(a.size()) + 1.0) / 2.0;  // the mean rank, ties or not
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (std::size_t i = 0; i < ra.size(); ++i) {
        const double da = ra[i] - mean, db = rb[i] - mean;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa == 0.0 || sbb == 0.0) return saa == sbb ? 1.0 : 0.0;
    return std::clamp(sab / std::sqrt(saa * sbb), -1.0, 1.0);
}

/// Spearman's ρ between two maps of the same H×W.
inline double spearman_correlation(const Map& a, const Map& b) {
    detail::require<shape_error>(a.shape() == b.shape(), "xai::spearman_correlation(): the maps have shapes ",
                                 shape_string(a.shape()), " and ", shape_string(b.shape()), ", expected equal shapes");
    return spearman_correlation(std::span<const float>(a.data(), a.size()), std::span<const float>(b.data(), b.size()));
}

}  // namespace xai
