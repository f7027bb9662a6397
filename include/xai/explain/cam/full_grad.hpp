#pragma once
// FullGrad: the input-gradient and the bias-gradients of every convolution, post-processed and summed.
//
// Srinivas & Fleuret, "Full-Gradient Representation for Neural Network Visualization", NeurIPS
// 2019. For a network of ReLUs, max pooling and affine layers, the output is positively
// homogeneous in the input x and the biases b together, so (Theorem 1, completeness)
//   f(x) = ∇ₓf · x + Σ_layers Σ_positions (∇_z f ⊙ b),
// where ∇_z f is the gradient at the output z of a layer that adds bias b (broadcast over its
// positions). The saliency map (eq. 4) is
//   S_f(x) = ψ(∇ₓf ⊙ x) + Σ_{conv layers} Σ_channels ψ(∇_z f ⊙ b),
// with the post-processing ψ of the authors' reference code (github.com/idiap/fullgrad-saliency,
// saliency/fullgrad.py, `_postProcess` and `saliency`), which this follows exactly:
//   ψ(t) = (|t| − min |t|) / (max(|t| − min |t|) + 1e-6), min and max over the whole C×h×w
//   tensor of one image (not per channel); the input term is summed over its channels at the
//   input's size; each convolution's term is upsampled bilinearly with align_corners=True to
//   the input's size and summed over its channels. Vector layers (linear) take part in
//   completeness but not in the map, as in the reference ("Select only Conv layers").
// pytorch-grad-cam's FullGrad differs: it min-max scales every channel on its own
// (scale_accross_batch_and_channels) before the sum; this follows the authors.
//
// raw is S_f at the input's resolution (≥ 0); the display map is its min-max normalisation.
// The score is the logit, as in the reference (−nll_loss of the raw output selects it); a
// target function (Target::function) seeds the backward pass with its gradient.
// Cost: one forward and one full backward pass per image (BiasGradientModel).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/resize_align_corners.hpp"
#include "xai/image/normalize.hpp"

namespace xai {

/// Options of FullGrad; the defaults are the reference implementation's.
struct FullGradOptions {
    ScoreKind score = ScoreKind::logit;  ///< the score differentiated: the logit, as the reference
    float epsilon = 1e-6f;               ///< ψ's denominator guard, max + epsilon (the reference's eps)
    std::size_t threads = 0;             ///< threads over the images for the post-processing (0 = all cores)
};

/// FullGrad's result: the core, and the convolutions whose bias-gradients are in the map.
struct FullGradResult : Explanation {
    std::vector<std::string> layers;  ///< the spatial biased layers summed into the map, first to last
};

namespace detail {

/// ψ of FullGrad's reference code on one image's values (|t|, then min-max over all of them with
/// max + eps), summed over `channels` planes of `pixels` values into `plane`.
inline void full_grad_post_process(const float* values, std::size_t channels, std::size_t pixels, float epsilon,
                                   std::vector<float>& plane) {
    const std::size_t n = channels * pixels;
    float lo = std::abs(values[0]), hi = lo;
    for (std::size_t v = 1; v < n; ++v) {
        lo = std::min(lo, std::abs(values[v]));
        hi = std::max(hi, std::abs(values[v]));
    }
    const float scale = 1.0f / (hi - lo + epsilon);
    plane.assign(pixels, 0.0f);
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < pixels; ++p) plane[p] += (std::abs(values[c * pixels + p]) - lo) * scale;
}

}  // namespace detail

/// FullGrad (Srinivas & Fleuret, NeurIPS 2019) on a BiasGradientModel (see the header comment).
/// Holds a pointer to the model, which must outlive it; explain() is const and thread-safe.
template <BiasGradientModel Model>
class FullGrad {
public:
    /// The explainer's name in error messages ("xai::FullGrad::explain(): ...").
    static constexpr std::string_view name = "FullGrad";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    FullGrad(const Model&&, FullGradOptions = {}) = delete;
    /// Explains `model`; invalid_argument for an epsilon that is not finite and > 0.
    explicit FullGrad(const Model& model, FullGradOptions options = {}) : model_(&model), options_(options) {
        detail::require(std::isfinite(options_.epsilon) && options_.epsilon > 0.0f, prefix("FullGrad"), ": epsilon is ",
                        options_.epsilon, ", expected a finite value > 0");
    }

    /// The options the explainer was built with.
    const FullGradOptions& options() const { return options_; }

    /// Explains each image for its target (empty = the predicted class, one entry = the same for
    /// all, else one per image; a target function seeds the backward pass with its gradient and
    /// result.scores holds its value). `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    FullGradResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        detail::require_model_input(*model_, batch, where.c_str());
        const std::size_t n = batch.shape(0), k = model_->num_classes();
        const std::size_t h = batch.shape(2), w = batch.shape(3), channels = batch.shape(1), pixels = h * w;
        detail::require_targets(targets, n, k, where.c_str());
        std::vector<std::size_t> resolved;
        bool seeded = false;
        const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, n);
        const ScoreSeed seed =
            detail::target_seed(targets, functions, n, k, options_.score, resolved, seeded, where.c_str());
        BiasGradients g = model_->bias_gradients(batch, seed);
        check(g, batch, seeded, where.c_str());

        FullGradResult result;
        result.raw = xt::zeros<float>({n, h, w});
        for (const LayerBiasGradient& layer : g.layers)
            if (layer.gradients.dimension() == 4) result.layers.push_back(layer.layer);
        parallel_for(n, options_.threads, [&](std::size_t i) {
            float* map = result.raw.data() + i * pixels;
            std::vector<float> values(channels * pixels), plane, up(pixels);
            const float* x = batch.data() + i * channels * pixels;
            const float* gx = g.input_gradients.data() + i * channels * pixels;
            for (std::size_t v = 0; v < values.size(); ++v) values[v] = gx[v] * x[v];
            detail::full_grad_post_process(values.data(), channels, pixels, options_.epsilon, plane);
            for (std::size_t p = 0; p < pixels; ++p) map[p] += plane[p];
            for (const LayerBiasGradient& layer : g.layers) {
                if (layer.gradients.dimension() != 4) continue;
                const std::size_t c = layer.gradients.shape(1), lh = layer.gradients.shape(2), lw = layer.gradients.shape(3);
                const float* gz = layer.gradients.data() + i * c * lh * lw;
                values.resize(c * lh * lw);
                for (std::size_t ch = 0; ch < c; ++ch)
                    for (std::size_t p = 0; p < lh * lw; ++p) values[ch * lh * lw + p] = gz[ch * lh * lw + p] * layer.bias[ch];
                detail::full_grad_post_process(values.data(), c, lh * lw, options_.epsilon, plane);
                detail::resize_planes_align_corners(plane.data(), 1, lh, lw, up.data(), h, w);
                for (std::size_t p = 0; p < pixels; ++p) map[p] += up[p];
            }
        });
        if (!all_finite(result.raw.data(), result.raw.size()))
            throw numerical_error(detail::message(where, ": the map overflowed to Inf or NaN"));
        result.maps = normalize_min_max(result.raw);
        result.targets = std::move(resolved);
        result.logits = std::move(g.scores);
        result.score_kind = options_.score;
        result.scores = detail::target_scores(result.logits, result.targets, options_.score);
        detail::replace_function_scores(result.scores, result.logits, functions);
        detail::report(progress, n, n, "images");
        return result;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    FullGradResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

private:
    /// "xai::FullGrad::<function>()", the prefix of every error message.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// What the model returned: the seed called, N×K finite logits, input gradients of the
    /// batch's shape, each layer's gradients N×C(×h×w) with C biases, all finite.
    void check(const BiasGradients& g, const Batch& batch, bool seeded, const char* where) const {
        const std::size_t n = batch.shape(0);
        if (!seeded) throw model_error(detail::message(where, ": the model returned without calling the score seed"));
        detail::require_model_scores(g.scores, n, model_->num_classes(), where);
        if (g.input_gradients.shape() != batch.shape() || !all_finite(g.input_gradients.data(), g.input_gradients.size()))
            throw model_error(detail::message(where, ": the model returned input gradients of shape ",
                                              shape_string(g.input_gradients.shape()), ", expected the batch's ",
                                              shape_string(batch.shape()), " and finite values"));
        for (const LayerBiasGradient& layer : g.layers) {
            const bool ok = (layer.gradients.dimension() == 4 || layer.gradients.dimension() == 2) &&
                            layer.gradients.shape(0) == n && layer.gradients.shape(1) == layer.bias.size() &&
                            layer.gradients.size() > 0 && all_finite(layer.gradients.data(), layer.gradients.size()) &&
                            all_finite(layer.bias.data(), layer.bias.size());
            if (!ok)
                throw model_error(detail::message(where, ": the model returned bias gradients of shape ",
                                                  shape_string(layer.gradients.shape()), " with ", layer.bias.size(),
                                                  " biases for layer '", layer.layer, "', expected [", n,
                                                  ", C(, h, w)] with C finite biases and finite values"));
        }
    }

    const Model* model_;
    FullGradOptions options_;
};

}  // namespace xai
