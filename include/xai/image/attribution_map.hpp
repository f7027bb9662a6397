#pragma once
// Per-channel attributions (C×H×W, what the gradient methods of explain/gradients/ compute) as
// one map a person can read: channel reduction, sign selection and outlier clipping, with
// Captum's conventions (captum/attr/_utils/visualization.py, _normalize_attr).
//
//   reduce_channels(a, rule)     C×H×W → H×W:
//     sum       Σ_c a_c          Captum's visualize_image_attr (np.sum over the channel axis)
//     max_abs   max_c |a_c|      Simonyan, Vedaldi & Zisserman 2014, §3.1 (the saliency map)
//     sum_abs   Σ_c |a_c|        PAIR's saliency library (VisualizeImageGrayscale)
//     l2_norm   √(Σ_c a_c²)      the gradient's norm per pixel
//   normalize_attribution(m, sign, outlier_percent = 2)   H×W → values in [0, 1] ([−1, 1] for all):
//     positive  m⁺ = max(m, 0) / t⁺         t⁺ = threshold(m⁺)
//     negative  m⁻ = max(−m, 0) / t⁻        t⁻ = threshold(max(−m, 0))
//     absolute  |m| / t                     t  = threshold(|m|)
//     all       m / t, signed               t  = threshold(|m|)
//   each clipped to [0, 1] (all: [−1, 1]).
//
// threshold(v) is Captum's _cumulative_sum_threshold(v, 100 − outlier_percent): NOT the value
// percentile but the smallest value v_k (in ascending order) at which the cumulative sum
// v_1 + … + v_k reaches (100 − outlier_percent) % of the total. With the default 2 % the largest
// values that together hold the last 2 % of the mass are clipped to 1, so one extreme pixel
// cannot leave the rest of the picture black. Sums here are in double, the top values from the
// largest down (numpy's cumsum on a float32 map sums in float32 from the smallest up; the two can
// differ only when two sums straddle the cut within rounding). A map whose threshold is 0 (no
// mass of the chosen sign) becomes all zeros, where Captum asserts.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// How the C channels of an attribution become one value per pixel (see the header comment).
enum class ChannelReduction {
    sum,      ///< Σ_c a_c (Captum's visualization)
    max_abs,  ///< max_c |a_c| (Simonyan et al. 2014's saliency map)
    sum_abs,  ///< Σ_c |a_c| (PAIR's saliency library)
    l2_norm,  ///< √(Σ_c a_c²)
};

/// The rule's name: "sum", "max_abs", "sum_abs" or "l2_norm".
inline std::string_view to_string(ChannelReduction rule) {
    switch (rule) {
        case ChannelReduction::sum: return "sum";
        case ChannelReduction::max_abs: return "max_abs";
        case ChannelReduction::sum_abs: return "sum_abs";
        case ChannelReduction::l2_norm: return "l2_norm";
    }
    return "unknown";
}

/// Which attributions a picture shows (Captum's VisualizeSign): the positive ones (evidence for
/// the class), the negative ones (against it), their absolute values, or all with their sign.
enum class SignMode { positive, negative, absolute, all };

/// The mode's name: "positive", "negative", "absolute" or "all".
inline std::string_view to_string(SignMode sign) {
    switch (sign) {
        case SignMode::positive: return "positive";
        case SignMode::negative: return "negative";
        case SignMode::absolute: return "absolute";
        case SignMode::all: return "all";
    }
    return "unknown";
}

/// "positive", "negative", "absolute" (or Captum's "absolute_value") or "all" → SignMode;
/// invalid_argument otherwise.
inline SignMode sign_mode_from_string(std::string_view name) {
    if (name == "absolute_value") return SignMode::absolute;
    for (SignMode s : {SignMode::positive, SignMode::negative, SignMode::absolute, SignMode::all})
        if (to_string(s) == name) return s;
    throw invalid_argument(detail::message("xai::sign_mode_from_string(): unknown sign mode '", name,
                                           "', expected positive, negative, absolute or all"));
}

/// Captum's default share of the attribution mass that is clipped in a picture (outlier_perc = 2).
inline constexpr double default_outlier_percent = 2.0;

namespace detail {

/// Reduces the C planes of `pixels` values at `in` (C×pixels) into `out` (pixels).
inline void reduce_channel_planes(const float* in, std::size_t channels, std::size_t pixels, ChannelReduction rule,
                                  float* out) {
    for (std::size_t p = 0; p < pixels; ++p) {
        double acc = 0.0;
        for (std::size_t c = 0; c < channels; ++c) {
            const double v = in[c * pixels + p];
            switch (rule) {
                case ChannelReduction::sum: acc += v; break;
                case ChannelReduction::max_abs: acc = std::max(acc, std::abs(v)); break;
                case ChannelReduction::sum_abs: acc += std::abs(v); break;
                case ChannelReduction::l2_norm: acc += v * v; break;
            }
        }
        out[p] = static_cast<float>(rule == ChannelReduction::l2_norm ? std::sqrt(acc) : acc);
    }
}

/// Captum's _cumulative_sum_threshold of n non-negative values: the smallest value (ascending)
/// at which the running sum reaches `percentile` % of the total (see the header comment).
/// Equivalently, walking down from the largest value, the first value that would take the mass
/// above the threshold past (100 − percentile) % of the total: only that top part is sorted
/// (partial sorts of growing size), so a map costs O(n) rather than a full sort when, as with
/// the default 2 %, few values hold the clipped mass.
inline double cumulative_sum_threshold(std::vector<double> values, double percentile) {
    if (values.empty()) return 0.0;
    double total = 0.0;
    for (double v : values) total += v;
    const double budget = total - total * 0.01 * percentile;  // the mass allowed above the threshold
    const std::size_t n = values.size();
    double above = 0.0;
    std::size_t sorted = 0, k = std::min(n, std::max<std::size_t>(64, n / 32));
    for (;;) {
        std::partial_sort(values.begin() + static_cast<std::ptrdiff_t>(sorted), values.begin() + static_cast<std::ptrdiff_t>(k),
                          values.end(), std::greater<>());
        for (; sorted < k; ++sorted) {
            if (above + values[sorted] > budget) return values[sorted];
            above += values[sorted];
        }
        if (k == n) return values.back();  // percentile 0: the smallest value already reaches it
        k = std::min(n, 2 * k);
    }
}

inline void require_outlier_percent(double outlier_percent, const char* where) {
    require(std::isfinite(outlier_percent) && outlier_percent >= 0.0 && outlier_percent <= 100.0, where,
            ": outlier_percent is ", outlier_percent, ", expected a value in [0, 100]");
}

/// normalize_attribution() of one plane of n values, in place.
inline void normalize_attribution_plane(float* values, std::size_t n, SignMode sign, double outlier_percent) {
    std::vector<double> selected(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double v = values[i];
        switch (sign) {
            case SignMode::positive: selected[i] = v > 0.0 ? v : 0.0; break;
            case SignMode::negative: selected[i] = v < 0.0 ? -v : 0.0; break;
            case SignMode::absolute:
            case SignMode::all: selected[i] = std::abs(v); break;
        }
    }
    const double threshold = cumulative_sum_threshold(selected, 100.0 - outlier_percent);
    if (!(threshold > 0.0)) {
        std::fill(values, values + n, 0.0f);
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const double v = sign == SignMode::all ? values[i] / threshold : selected[i] / threshold;
        values[i] = static_cast<float>(std::clamp(v, sign == SignMode::all ? -1.0 : 0.0, 1.0));
    }
}

}  // namespace detail

/// One image's attributions (C×H×W) reduced over the channels to an H×W map.
inline Map reduce_channels(const Image& attributions, ChannelReduction rule = ChannelReduction::sum) {
    detail::require_nonempty(attributions, "xai::reduce_channels(): attributions");
    detail::require_finite(attributions, "xai::reduce_channels(): attributions");
    const std::size_t pixels = attributions.shape(1) * attributions.shape(2);
    Map out = Map::from_shape({attributions.shape(1), attributions.shape(2)});
    detail::reduce_channel_planes(attributions.data(), attributions.shape(0), pixels, rule, out.data());
    return out;
}

/// A batch of attributions (N×C×H×W) reduced over the channels to N×H×W maps.
inline Maps reduce_channels(const Batch& attributions, ChannelReduction rule = ChannelReduction::sum) {
    detail::require_nonempty(attributions, "xai::reduce_channels(): attributions");
    detail::require_finite(attributions, "xai::reduce_channels(): attributions");
    const std::size_t n = attributions.shape(0), c = attributions.shape(1);
    const std::size_t pixels = attributions.shape(2) * attributions.shape(3);
    Maps out = Maps::from_shape({n, attributions.shape(2), attributions.shape(3)});
    for (std::size_t i = 0; i < n; ++i)
        detail::reduce_channel_planes(attributions.data() + i * c * pixels, c, pixels, rule, out.data() + i * pixels);
    return out;
}

/// The chosen sign of a signed H×W map scaled by Captum's cumulative-sum threshold and clipped:
/// [0, 1] for positive, negative and absolute (negative attributions become positive values),
/// [−1, 1] for all (see the header comment). A map without mass of that sign becomes zeros.
inline Map normalize_attribution(const Map& map, SignMode sign = SignMode::absolute,
                                 double outlier_percent = default_outlier_percent) {
    constexpr const char* where = "xai::normalize_attribution()";
    detail::require_nonempty(map, "xai::normalize_attribution(): map");
    detail::require_finite(map, "xai::normalize_attribution(): map");
    detail::require_outlier_percent(outlier_percent, where);
    Map out = map;
    detail::normalize_attribution_plane(out.data(), out.size(), sign, outlier_percent);
    return out;
}

/// Each map of an N×H×W stack normalized on its own (normalize_attribution of one map).
inline Maps normalize_attribution(const Maps& maps, SignMode sign = SignMode::absolute,
                                  double outlier_percent = default_outlier_percent) {
    constexpr const char* where = "xai::normalize_attribution()";
    detail::require_nonempty(maps, "xai::normalize_attribution(): maps");
    detail::require_finite(maps, "xai::normalize_attribution(): maps");
    detail::require_outlier_percent(outlier_percent, where);
    Maps out = maps;
    const std::size_t plane = maps.shape(1) * maps.shape(2);
    for (std::size_t i = 0; i < maps.shape(0); ++i)
        detail::normalize_attribution_plane(out.data() + i * plane, plane, sign, outlier_percent);
    return out;
}

}  // namespace xai
