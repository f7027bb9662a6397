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
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

/// Reduces the C planes of `pixels` values at `in` (C×pixels) into `out` (pixels), in double.
inline void reduce_channel_planes(const float* in, std::size_t channels, std::size_t pixels, ChannelReduction rule,
                                  float* out) {
    // The rule chosen once, outside the loops (the per-value switch kept them from vectorizing).
    const auto reduce = [&](auto&& step, auto&& finish) {
        for (std::size_t p = 0; p < pixels; ++p) {
            double acc = 0.0;
            for (std::size_t c = 0; c < channels; ++c) acc = step(acc, static_cast<double>(in[c * pixels + p]));
            out[p] = static_cast<float>(finish(acc));
        }
    };
    const auto same = [](double acc) { return acc; };
    switch (rule) {
        case ChannelReduction::sum: reduce([](double acc, double v) { return acc + v; }, same); break;
        case ChannelReduction::max_abs: reduce([](double acc, double v) { return std::max(acc, std::abs(v)); }, same); break;
        case ChannelReduction::sum_abs: reduce([](double acc, double v) { return acc + std::abs(v); }, same); break;
        case ChannelReduction::l2_norm:
            reduce([](double acc, double v) { return acc + v * v; }, [](double acc) { return std::sqrt(acc); });
            break;
    }
}

/// The walk of cumulative_sum_threshold down the n values at `values` (reordered) until the
/// mass above the threshold would pass `budget`: std::nth_element brings the next k largest forward and they are sorted (k doubles
/// while the walk goes on), so only the top part is ordered.
inline double cumulative_sum_walk(float* values, std::size_t n, double budget) {
    double above = 0.0;
    std::size_t sorted = 0, k = std::min(n, std::max<std::size_t>(64, n / 32));
    for (;;) {
        std::nth_element(values + sorted, values + k - 1, values + n, std::greater<>());
        std::sort(values + sorted, values + k - 1, std::greater<>());  // values[k − 1] is already in place
        for (; sorted < k; ++sorted) {
            if (above + values[sorted] > budget) return values[sorted];
            above += values[sorted];
        }
        if (k == n) return n == 0 ? 0.0 : values[n - 1];  // percentile 0: the smallest value already reaches it
        k = std::min(n, 2 * k);
    }
}

/// Captum's _cumulative_sum_threshold of the n non-negative finite values at `values`: the
/// smallest value (ascending) at which the running sum reaches `percentile` % of the total (see
/// the header comment). Equivalently, walking down from the largest value, the
/// first value that would take the mass above the threshold past (100 − percentile) % of the
/// total. Only the values near the top are ordered: one pass sums the mass of each of 2,048
/// bins of the float's bit pattern (its exponent and 3 mantissa bits, in the values' order for
/// non-negative floats), the bins from the top show where the cut falls, and only the values
/// in that bin and above (`candidates`, scratch space) are sorted and walked — the same walk,
/// the same sums in the same order as a full sort. Should rounding leave that walk short, the
/// walk over all values decides. O(n) branch-free passes: a full sort, or even std::nth_element,
/// costs several times more in mispredicted branches.
inline double cumulative_sum_threshold(const float* values, std::size_t n, double percentile, std::vector<float>& candidates) {
    if (n == 0) return 0.0;
    constexpr unsigned shift = 20, bins = 1u << (31 - shift);
    const auto bin = [](float v) { return (std::bit_cast<std::uint32_t>(v) & 0x7fffffffu) >> shift; };
    // The total in the values' order (the budget, hence the result, is the definition's to the
    // last bit); two histograms, alternate values to each: neighbouring values often fall in one
    // bin, and one histogram would chain their adds through memory.
    std::array<std::array<double, bins>, 2> mass{};
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        total += values[i];
        mass[i & 1][bin(values[i])] += values[i];
    }
    const double budget = total - total * 0.01 * percentile;  // the mass allowed above the threshold
    double top = 0.0;
    for (std::size_t b = bins; b-- > 0;) {
        top += mass[0][b] + mass[1][b];
        if (top <= budget) continue;
        candidates.resize(n);
        std::size_t m = 0;
        for (std::size_t v = 0; v < n; ++v) {  // branch-free: every value written, the count moves for the candidates
            candidates[m] = values[v];
            m += bin(values[v]) >= b ? 1u : 0u;
        }
        std::sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(m), std::greater<>());
        double above = 0.0;
        for (std::size_t c = 0; c < m; ++c) {
            if (above + candidates[c] > budget) return candidates[c];
            above += candidates[c];
        }
        break;  // rounding: the bins' sums passed the budget, the walk did not
    }
    candidates.assign(values, values + n);
    return cumulative_sum_walk(candidates.data(), n, budget);
}

inline void require_outlier_percent(double outlier_percent, const char* where) {
    require(std::isfinite(outlier_percent) && outlier_percent >= 0.0 && outlier_percent <= 100.0, where,
            ": outlier_percent is ", outlier_percent, ", expected a value in [0, 100]");
}

/// normalize_attribution() of one plane of n values at `in` into `out` (which may be `in`);
/// `selected` and `candidates` are scratch space (the plane's chosen sign, and the values the
/// threshold sorts), kept by the caller across the planes of a stack.
inline void normalize_attribution_plane(const float* in, float* out, std::size_t n, SignMode sign, double outlier_percent,
                                        std::vector<float>& selected, std::vector<float>& candidates) {
    selected.resize(n);
    switch (sign) {  // the chosen sign's magnitudes, exact in float
        case SignMode::positive: std::transform(in, in + n, selected.begin(), [](float v) { return v > 0.0f ? v : 0.0f; }); break;
        case SignMode::negative: std::transform(in, in + n, selected.begin(), [](float v) { return v < 0.0f ? -v : 0.0f; }); break;
        case SignMode::absolute:
        case SignMode::all: std::transform(in, in + n, selected.begin(), [](float v) { return std::abs(v); }); break;
    }
    const double threshold = cumulative_sum_threshold(selected.data(), n, 100.0 - outlier_percent, candidates);
    if (!(threshold > 0.0)) {
        std::fill(out, out + n, 0.0f);
        return;
    }
    // The chosen sign's magnitudes (all: the signed values) over the threshold, clipped.
    const float* scaled = sign == SignMode::all ? in : selected.data();
    const double lo = sign == SignMode::all ? -1.0 : 0.0;
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(std::clamp(scaled[i] / threshold, lo, 1.0));
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
    Map out = Map::from_shape(map.shape());
    std::vector<float> selected, candidates;
    detail::normalize_attribution_plane(map.data(), out.data(), out.size(), sign, outlier_percent, selected, candidates);
    return out;
}

/// Each map of an N×H×W stack normalized on its own (normalize_attribution of one map).
inline Maps normalize_attribution(const Maps& maps, SignMode sign = SignMode::absolute,
                                  double outlier_percent = default_outlier_percent) {
    constexpr const char* where = "xai::normalize_attribution()";
    detail::require_nonempty(maps, "xai::normalize_attribution(): maps");
    detail::require_finite(maps, "xai::normalize_attribution(): maps");
    detail::require_outlier_percent(outlier_percent, where);
    Maps out = Maps::from_shape(maps.shape());
    const std::size_t plane = maps.shape(1) * maps.shape(2);
    std::vector<float> selected, candidates;
    for (std::size_t i = 0; i < maps.shape(0); ++i)
        detail::normalize_attribution_plane(maps.data() + i * plane, out.data() + i * plane, plane, sign, outlier_percent,
                                            selected, candidates);
    return out;
}

}  // namespace xai
