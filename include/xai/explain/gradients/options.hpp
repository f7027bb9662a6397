#pragma once
// What every gradient attribution method (docs/methods/gradients.md) shares: how its per-channel
// attributions become the core's maps, and the result type with those attributions beside the
// core.
//
// Each method computes attributions a (N×C×H×W, signed, one value per input value: the gradient,
// gradient × input, Integrated Gradients, …). The Explanation core is then filled as:
//   raw    N×H×W   reduce_channels(a, reduction)   (image/attribution_map.hpp; the method's default
//                  rule is max_abs for Saliency, Simonyan et al.'s max_c |∂y/∂x_c|, and sum —
//                  Captum's visualization — for every other method)
//   maps   N×H×W   normalize_attribution(raw, sign, outlier_percent): the chosen sign scaled by
//                  Captum's cumulative-sum threshold (2 % of the mass clipped), in [0, 1];
//                  positive by default, the library's "evidence for the target"
//   targets, scores (of score_kind), logits   of the unperturbed images.
// The completeness-style diagnostics (Integrated Gradients, GradientSHAP) sum a over every
// channel and pixel, never over a reduced map.

#include <cstddef>
#include <optional>

#include "xai/core/explanation.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/attribution_map.hpp"

namespace xai {

/// How a gradient method's attributions become its maps (see the header comment). An aggregate:
/// `{.reduction = xai::ChannelReduction::sum_abs, .sign = xai::SignMode::absolute}`.
struct AttributionDisplay {
    /// Channel reduction of raw; empty: the method's default (max_abs for Saliency, sum otherwise).
    std::optional<ChannelReduction> reduction{};
    /// Which attributions `maps` show: positive (the default: evidence for the target), negative
    /// (shown as positive values) or absolute (Captum's default picture). SignMode::all is
    /// refused here, since maps are in [0, 1]: draw raw with normalize_attribution(raw, all).
    SignMode sign = SignMode::positive;
    /// Share of the attribution mass clipped to 1 (Captum's outlier_perc = 2), in [0, 100].
    double outlier_percent = default_outlier_percent;
};

/// The result of a gradient attribution method: the Explanation core (raw = the reduced
/// attributions, maps = their display maps; see the header comment) and the per-channel
/// attributions.
struct GradientExplanation : Explanation {
    Batch attributions;                                 ///< N×C×H×W signed attributions
    ChannelReduction reduction = ChannelReduction::sum; ///< the rule that made raw from them
};

}  // namespace xai
