#pragma once
// How clearly an explanation method exposes a bias: the AUC of telling a biased model from a
// clean one by a region's share of the method's attribution.
//
// Given the per-image shares a_1 … a_m of a region (the spurious cue) under the biased model and
// b_1 … b_n under the clean model, on the same kind of images,
//     AUC = (1 / mn) Σ_i Σ_j ( 1[a_i > b_j] + ½ · 1[a_i = b_j] ),
// the probability that a random image explained for the biased model puts a larger share on the
// cue than a random image explained for the clean one (ties count half): the Mann–Whitney U
// statistic divided by mn (Mann & Whitney 1947; Hanley & McNeil 1982 show U/mn is the area under
// the ROC curve). 1 means every biased-model map puts more on the cue than every clean-model map,
// 0.5 that the method cannot tell the models apart (any map that ignores the model — a random
// map, a centred Gaussian — scores exactly that in expectation), below 0.5 that it points the
// wrong way. It is threshold-free and depends only on the order of the shares, so methods whose
// maps have different scales and offsets are compared fairly.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "xai/core/error.hpp"

namespace xai {

/// P(a > b) + ½ P(a = b) for a drawn from `a` and b from `b` (see the header): computed from
/// mid-ranks of the pooled values in O((m + n) log(m + n)).
inline double separation_auc(const std::vector<double>& a, const std::vector<double>& b) {
    constexpr const char* where = "xai::separation_auc()";
    detail::require(!a.empty() && !b.empty(), where, ": ", a.size(), " and ", b.size(),
                    " values, expected at least one in each sample");
    for (const auto* s : {&a, &b})
        for (double v : *s) detail::require(std::isfinite(v), where, ": a value is ", v, ", expected finite values");
    const std::size_t m = a.size(), n = b.size();
    std::vector<std::size_t> order(m + n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto value = [&](std::size_t k) { return k < m ? a[k] : b[k - m]; };
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return value(x) < value(y); });
    // Sum of the mid-ranks (1-based) of a's values: tied values share the mean of their ranks.
    double rank_sum = 0.0;
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j < order.size() && value(order[j]) == value(order[i])) ++j;
        const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (std::size_t k = i; k < j; ++k)
            if (order[k] < m) rank_sum += mid;
        i = j;
    }
    const double u = rank_sum - static_cast<double>(m) * static_cast<double>(m + 1) / 2.0;
    return u / (static_cast<double>(m) * static_cast<double>(n));
}

}  // namespace xai
