#pragma once
// Saliency and gradient × input: one gradient of the explained score per image.
//
// Saliency — Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks: Visualising
// Image Classification Models and Saliency Maps", ICLR Workshop 2014, §3.1: the class score
// S_c is locally linear in the image, S_c(x) ≈ wᵀx + b with w = ∂S_c/∂x at x, and the saliency
// of pixel (i, j) is M_ij = max_c |w_{c,i,j}| over the colour channels c. The attributions are
// |∂S_c/∂x| per channel (Captum's Saliency(abs=True)), or the signed gradient with
// `absolute = false`; raw reduces them over the channels with max_abs by default (the paper's
// max over channels; AttributionDisplay::reduction chooses another rule).
//
// Gradient × input — x ⊙ ∂S_c/∂x (Shrikumar et al. 2016 as "gradient * input"; Captum's
// InputXGradient); raw sums over the channels by default. For a linear model it is exactly the
// contribution w ⊙ x of each input to the score.
//
// S_c is the logit by default (ScoreKind::logit, as the paper's unnormalized class score and
// Captum on a model returning logits). Cost: one forward and one backward pass to the input per
// image, in batches of batch_size on `threads` threads (no parameter gradients).

#include <cmath>
#include <cstddef>
#include <string_view>

#include "xai/core/concepts.hpp"
#include "xai/core/scores.hpp"
#include "xai/explain/gradients/gradient_attribution.hpp"
#include "xai/explain/gradients/options.hpp"

namespace xai {

/// Options of Saliency; defaults are the paper's and Captum's.
struct SaliencyOptions {
    bool absolute = true;                      ///< |∂S_c/∂x| (the paper, Captum's abs=True); false: the signed gradient
    ScoreKind score = ScoreKind::logit;        ///< S_c: the class score before the softmax
    AttributionDisplay display{};              ///< reduction (default max_abs), sign and clipping of the maps
    std::size_t batch_size = 32;               ///< images per model call
    std::size_t threads = 0;                   ///< model calls in flight at once (0 = all cores)
};

/// Options of GradientTimesInput.
struct GradientTimesInputOptions {
    ScoreKind score = ScoreKind::logit;        ///< the score differentiated (the logit by default)
    AttributionDisplay display{};              ///< reduction (default sum), sign and clipping of the maps
    std::size_t batch_size = 32;               ///< images per model call
    std::size_t threads = 0;                   ///< model calls in flight at once (0 = all cores)
};

namespace detail {

/// The Saliency policy of GradientAttribution: |g| (or g), reduced by max_abs by default.
struct SaliencyMethod {
    using Options = SaliencyOptions;
    static constexpr std::string_view name = "Saliency";
    static constexpr ReluBackward relu = ReluBackward::standard;
    static constexpr ChannelReduction default_reduction = ChannelReduction::max_abs;
    static void attribute(const Options& o, const float*, const float* g, float* a, std::size_t n) {
        for (std::size_t v = 0; v < n; ++v) a[v] = o.absolute ? std::abs(g[v]) : g[v];
    }
};

/// The gradient × input policy of GradientAttribution: x ⊙ g, summed over the channels by default.
struct GradientTimesInputMethod {
    using Options = GradientTimesInputOptions;
    static constexpr std::string_view name = "GradientTimesInput";
    static constexpr ReluBackward relu = ReluBackward::standard;
    static constexpr ChannelReduction default_reduction = ChannelReduction::sum;
    static void attribute(const Options&, const float* x, const float* g, float* a, std::size_t n) {
        for (std::size_t v = 0; v < n; ++v) a[v] = x[v] * g[v];
    }
};

}  // namespace detail

/// The saliency map of Simonyan et al., ICLR-W 2014 (see the header comment).
template <InputGradientModel Model>
using Saliency = GradientAttribution<Model, detail::SaliencyMethod>;

/// Gradient × input, x ⊙ ∂S_c/∂x (see the header comment).
template <InputGradientModel Model>
using GradientTimesInput = GradientAttribution<Model, detail::GradientTimesInputMethod>;

}  // namespace xai
