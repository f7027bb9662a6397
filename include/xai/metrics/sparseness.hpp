#pragma once
// Sparseness and complexity of a map: how concentrated an explanation is, from the map alone
// (no model). Quantus's Sparseness and Complexity (Hedström et al., JMLR 2023), after:
//
//   sparseness   Chalasani, Chen, Chowdhury, Wu, Jha, "Concise Explanations of Neural
//                Networks using Adversarial Training", ICML 2020: the Gini index of |a|,
//                  G = Σ_{i=1}^{n} (2i − n − 1) a_(i) / (n Σ_i a_(i)),   a_(1) ≤ … ≤ a_(n) = |map| sorted
//                0 for a uniform map, (n − 1)/n for a single non-zero pixel; higher = sparser.
//   complexity   Bhatt, Weller, Moura, "Evaluating and Aggregating Feature-based Model
//                Explanations", IJCAI 2020, eq. 5: the entropy of the fractional contribution,
//                  P_i = |a_i| / Σ_j |a_j|,   H = −Σ_i P_i ln P_i   (P ln P = 0 at P = 0)
//                0 for a single non-zero pixel, ln n for a uniform map; lower = simpler.
// Quantus adds 1e-7 to the map before the Gini index; here the formula is exact, and an all-zero
// map (no contribution to distribute) is refused with invalid_argument rather than given a
// value. Both take N×H×W maps (one value per map) and work on the raw or the display map alike:
// only |a| matters.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

namespace detail {

/// |map i| of N×H×W maps, checked finite and not all zero; `where` prefixes the errors.
inline std::vector<double> absolute_map(const Maps& maps, std::size_t i, const char* where) {
    const std::size_t plane = maps.shape(1) * maps.shape(2);
    std::vector<double> a(plane);
    double sum = 0.0;
    for (std::size_t p = 0; p < plane; ++p) {
        const float v = maps.data()[i * plane + p];
        require(std::isfinite(v), where, ": map ", i, " contains NaN or Inf, expected finite values");
        sum += a[p] = std::abs(static_cast<double>(v));
    }
    require(sum > 0.0, where, ": map ", i, " is all zeros, expected some attribution to measure");
    return a;
}

inline void require_maps(const Maps& maps, const char* where) {
    require<shape_error>(maps.size() > 0, where, ": maps have shape ", shape_string(maps.shape()),
                         ", expected N×H×W with N, H, W ≥ 1");
}

}  // namespace detail

/// The Gini index of |map| per map (Chalasani et al. 2020; see the header comment): in [0, 1),
/// higher = sparser. invalid_argument for an all-zero or non-finite map.
inline std::vector<double> sparseness(const Maps& maps) {
    constexpr const char* where = "xai::sparseness()";
    detail::require_maps(maps, where);
    std::vector<double> out(maps.shape(0));
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::vector<double> a = detail::absolute_map(maps, i, where);
        std::sort(a.begin(), a.end());
        const auto n = static_cast<double>(a.size());
        double weighted = 0.0, sum = 0.0;
        for (std::size_t k = 0; k < a.size(); ++k) {
            weighted += (2.0 * static_cast<double>(k + 1) - n - 1.0) * a[k];
            sum += a[k];
        }
        out[i] = weighted / (n * sum);
    }
    return out;
}

/// The entropy of the fractional contribution |a_i| / Σ|a| per map (Bhatt et al. 2020; see the
/// header comment): in [0, ln(H·W)], lower = simpler. invalid_argument for an all-zero or
/// non-finite map.
inline std::vector<double> complexity(const Maps& maps) {
    constexpr const char* where = "xai::complexity()";
    detail::require_maps(maps, where);
    std::vector<double> out(maps.shape(0));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::vector<double> a = detail::absolute_map(maps, i, where);
        double sum = 0.0;
        for (double v : a) sum += v;
        double h = 0.0;
        for (double v : a)
            if (v > 0.0) h -= (v / sum) * std::log(v / sum);
        out[i] = h;
    }
    return out;
}

}  // namespace xai
