#pragma once
// From a saliency map to a foreground mask: score-map normalisation and the thresholding rules of
// weakly supervised object localization (WSOL).
//
// Normalisation (Choe et al., "Evaluating Weakly Supervised Object Localization Methods Right",
// CVPR 2020; wsolevaluation's normalize_scoremap): s = (m − min m) / (max m − min m), so every
// map spans [0, 1]; a constant map becomes all zeros. A map with no positive value after it (all
// zeros) has no foreground at any threshold: it points nowhere (as the energy pointing game
// scores such a map 0, metrics/pointing_game.hpp).
//
// Rules (the foreground is {p : s(p) ≥ τ} unless stated):
//   fraction_of_max   τ = fraction · max s. Zhou et al., "Learning Deep Features for
//                     Discriminative Localization", CVPR 2016, §3: "we first segment the regions
//                     of which the value is above 20% of the max value of the CAM" (fraction 0.2,
//                     the default; Grad-CAM's localization used 0.15).
//   otsu              Otsu, "A Threshold Selection Method from Gray-Level Histograms", IEEE
//                     Trans. SMC 1979: the level t that maximises the between-class variance
//                     ω₀ω₁(μ₀ − μ₁)² of the map's 256-bin histogram over [min s, max s], taken at
//                     the bin centres exactly as scikit-image's threshold_otsu; the foreground is
//                     Otsu's upper class {p : s(p) > t}. A constant map has no foreground.
//   mean              τ = factor · mean s (factor 1 by default): a parameter-free rule that adapts
//                     to how spread the map is. The CAM paper itself uses the 20%-of-max rule above;
//                     the mean rule is offered as the data-adaptive alternative.
//   fixed             τ = value, on the normalised map: what Choe et al.'s protocol uses, with τ
//                     chosen on a validation split (localization/wsol.hpp).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// How a threshold is chosen on a (normalised) map; see the header comment.
enum class ThresholdRule {
    fraction_of_max,  ///< τ = fraction · max (Zhou et al. 2016: 0.2)
    otsu,             ///< Otsu 1979 on a 256-bin histogram, as scikit-image's threshold_otsu
    mean,             ///< τ = factor · mean
    fixed,            ///< τ = value
};

/// The rule's name: "fraction_of_max", "otsu", "mean" or "fixed".
inline std::string_view to_string(ThresholdRule rule) {
    switch (rule) {
        case ThresholdRule::fraction_of_max: return "fraction_of_max";
        case ThresholdRule::otsu: return "otsu";
        case ThresholdRule::mean: return "mean";
        case ThresholdRule::fixed: return "fixed";
    }
    return "unknown";
}

/// The rule named `name` (the names of to_string); invalid_argument otherwise.
inline ThresholdRule threshold_rule_from_string(std::string_view name) {
    for (ThresholdRule r : {ThresholdRule::fraction_of_max, ThresholdRule::otsu, ThresholdRule::mean, ThresholdRule::fixed})
        if (to_string(r) == name) return r;
    throw invalid_argument(detail::message("xai::threshold_rule_from_string(): rule is '", name,
                                           "', expected fraction_of_max, otsu, mean or fixed"));
}

/// Options of threshold_map(); the default is the CAM paper's 20% of the maximum.
struct ThresholdOptions {
    ThresholdRule rule = ThresholdRule::fraction_of_max;  ///< how τ is chosen
    double fraction = 0.2;   ///< fraction_of_max: τ = fraction · max, in [0, 1] (Zhou et al. 2016 §3)
    double factor = 1.0;     ///< mean: τ = factor · mean, ≥ 0
    double value = 0.5;      ///< fixed: τ, in [0, 1] on the normalised map
    bool normalize = true;   ///< min-max normalise the map first (Choe et al. 2020), else use it as given
};

/// A thresholded map: the threshold and the foreground mask.
struct ThresholdedMap {
    double threshold = 0.0;  ///< τ on the (normalised) map
    bool strict = false;     ///< true when the foreground is s > τ (Otsu), false when s ≥ τ
    RegionMask mask;         ///< H×W: the foreground pixels
};

/// The map min-max normalised to [0, 1] (Choe et al.'s normalize_scoremap); a constant map gives
/// zeros. invalid_argument for NaN or Inf, shape_error for an empty map.
inline Map normalize_scoremap(const Map& map) {
    detail::require_nonempty(map, "xai::normalize_scoremap(): map");
    detail::require_finite(map, "xai::normalize_scoremap(): map");
    const auto [lo, hi] = std::minmax_element(map.begin(), map.end());
    Map out = xt::zeros<float>(map.shape());
    if (*lo == *hi) return out;
    const double low = *lo, range = static_cast<double>(*hi) - low;
    auto o = out.begin();
    for (float v : map) *o++ = static_cast<float>((static_cast<double>(v) - low) / range);
    return out;
}

/// Otsu's threshold t of the values (scikit-image's threshold_otsu with nbins = 256 over
/// [min, max]: the bin centre that maximises the between-class variance; the first of equal
/// maxima). A constant map returns its value (its foreground s > t is empty).
inline double otsu_threshold(const Map& map) {
    detail::require_nonempty(map, "xai::otsu_threshold(): map");
    detail::require_finite(map, "xai::otsu_threshold(): map");
    constexpr std::size_t bins = 256;
    const auto [lo_it, hi_it] = std::minmax_element(map.begin(), map.end());
    const double lo = *lo_it, hi = *hi_it;
    if (lo == hi) return lo;
    // numpy.histogram: edges e_k = lo + k·(hi − lo)/256 (e_256 = hi), bins [e_k, e_{k+1}), the
    // last one closed; a value's bin is found by division and then corrected against the edges,
    // as numpy does. Centres (e_k + e_{k+1}) / 2, as scikit-image's histogram().
    std::array<double, bins + 1> edge{};
    for (std::size_t k = 0; k < bins; ++k) edge[k] = lo + static_cast<double>(k) * ((hi - lo) / static_cast<double>(bins));
    edge[bins] = hi;
    std::array<double, bins> count{}, centre{};
    for (std::size_t k = 0; k < bins; ++k) centre[k] = (edge[k] + edge[k + 1]) / 2.0;
    const double per_unit = static_cast<double>(bins) / (hi - lo);
    for (float f : map) {
        const double v = f;
        auto k = std::min(bins - 1, static_cast<std::size_t>((v - lo) * per_unit));
        if (v < edge[k]) --k;
        else if (k + 1 < bins && v >= edge[k + 1]) ++k;
        count[k] += 1.0;
    }
    // ω₀(k) = Σ_{j ≤ k} n_j and ω₁(k) = Σ_{j > k} n_j with their means μ₀, μ₁; the level maximises
    // ω₀ω₁(μ₀ − μ₁)² over k = 0 … 254. Both classes are never empty: the first bin holds the
    // minimum, the last the maximum.
    std::array<double, bins> below{}, below_sum{};
    double w = 0.0, s = 0.0;
    for (std::size_t k = 0; k < bins; ++k) {
        w += count[k];
        s += count[k] * centre[k];
        below[k] = w;
        below_sum[k] = s;
    }
    const double total = w, total_sum = s;
    double best = -1.0;
    std::size_t best_k = 0;
    for (std::size_t k = 0; k + 1 < bins; ++k) {
        const double w0 = below[k], w1 = total - below[k];
        const double m0 = below_sum[k] / w0, m1 = (total_sum - below_sum[k]) / w1;
        const double variance = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (variance > best) {
            best = variance;
            best_k = k;
        }
    }
    return centre[best_k];
}

namespace detail {

inline void require_threshold_options(const ThresholdOptions& o, const char* where) {
    require(std::isfinite(o.fraction) && o.fraction >= 0.0 && o.fraction <= 1.0, where, ": fraction is ", o.fraction,
            ", expected a fraction of the maximum in [0, 1]");
    require(std::isfinite(o.factor) && o.factor >= 0.0, where, ": factor is ", o.factor,
            ", expected a finite multiple of the mean >= 0");
    require(std::isfinite(o.value) && o.value >= 0.0 && o.value <= 1.0, where, ": value is ", o.value,
            ", expected a threshold in [0, 1] on the normalised map");
}

}  // namespace detail

/// The foreground of `map` (H×W) by `options` (see the header comment). A map without a positive
/// value (after normalisation) has an empty foreground.
inline ThresholdedMap threshold_map(const Map& map, const ThresholdOptions& options = {}) {
    constexpr const char* where = "xai::threshold_map()";
    detail::require_threshold_options(options, where);
    detail::require_nonempty(map, "xai::threshold_map(): map");
    detail::require_finite(map, "xai::threshold_map(): map");
    const Map s = options.normalize ? normalize_scoremap(map) : map;
    const double top = *std::max_element(s.begin(), s.end());
    ThresholdedMap out;
    switch (options.rule) {
        case ThresholdRule::fraction_of_max: out.threshold = options.fraction * top; break;
        case ThresholdRule::otsu:
            out.threshold = otsu_threshold(s);
            out.strict = true;
            break;
        case ThresholdRule::mean: {
            double sum = 0.0;
            for (float v : s) sum += v;
            out.threshold = options.factor * sum / static_cast<double>(s.size());
            break;
        }
        case ThresholdRule::fixed: out.threshold = options.value; break;
    }
    out.mask = xt::zeros<bool>(s.shape());
    if (!(top > 0.0)) return out;
    auto m = out.mask.begin();
    for (float v : s) *m++ = out.strict ? static_cast<double>(v) > out.threshold : static_cast<double>(v) >= out.threshold;
    return out;
}

}  // namespace xai
