#pragma once
// GradientSHAP / expected gradients — Lundberg & Lee, "A Unified Approach to Interpreting Model
// Predictions", NeurIPS 2017 (SHAP values; the shap library's GradientExplainer); Erion, Janizek,
// Sturmfels, Lundberg & Lee, "Improving performance of deep learning models with axiomatic
// attribution priors and expected gradients", Nature Machine Intelligence 2021, eq. 4:
//
//   φ_i(x) = E_{x′ ~ D, α ~ U(0, 1)} [ (x_i − x′_i) · ∂F(x′ + α(x − x′))/∂x_i ]
//
// Integrated Gradients averaged over a distribution D of baselines (a set of reference images,
// e.g. training images; one black image when none is given), estimated by Monte Carlo: each of the n samples draws one baseline of
// the set uniformly and α uniformly in [0, 1). With input noise (Captum's stdevs, absolute σ;
// 0 by default) x is replaced in sample s by x + ε_s, ε_s ~ N(0, σ²), as Captum's GradientShap
// (NoiseTunnel over InputBaselineXGradient) does. The defaults are Captum's: n_samples = 5,
// stdevs = 0.
//
// Completeness holds in expectation: E[Σ_i φ_i] = F(x) − E_{x′ ~ D} F(x′) (exactly, per sample,
// for a linear F). The result reports Σ_i φ_i, the mean baseline score over the set and their
// gap |Σ_i φ_i − (F(x) − E F(x′))| (Captum's delta, averaged), which falls as 1/√n.
//
// Sample s's (baseline index, α, noise) come from Rng::stream(seed, s), the same for every image
// (the noise's standard normal values by Rng::normal_float, as the noise tunnel draws them),
// so the result does not depend on the batch, batch_size or threads. Cost: n forward + backward
// passes to the input per image (batch_size rows per model call), plus one forward pass of the
// images and of the baselines; no parameter gradients.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/gradients/detail/common.hpp"
#include "xai/explain/gradients/options.hpp"
#include "xai/explain/masking.hpp"

namespace xai {

/// Options of GradientShap; defaults are Captum's.
struct GradientShapOptions {
    Batch baselines{};                   ///< B×C×H×W reference images x′; empty: one black image (x′ = 0)
    std::size_t samples = 5;             ///< n, Monte Carlo samples per image (Captum's n_samples)
    double noise = 0.0;                  ///< σ of the Gaussian noise added to x (Captum's stdevs)
    std::uint64_t seed = 0;              ///< sample s draws from Rng::stream(seed, s)
    ScoreKind score = ScoreKind::logit;  ///< F: the class score before the softmax
    AttributionDisplay display{};        ///< reduction (default sum), sign and clipping of the maps
    std::size_t batch_size = 32;         ///< samples per model call
    std::size_t threads = 0;             ///< model calls in flight at once (0 = all cores)
};

/// The result of GradientShap: GradientExplanation with the completeness report.
struct GradientShapExplanation : GradientExplanation {
    std::vector<double> baseline_scores;     ///< E_{x′} F(x′): the mean score of the baselines, per image
    std::vector<double> attribution_sums;    ///< Σ_i φ_i per image
    std::vector<double> completeness_error;  ///< |Σ_i φ_i − (F(x) − E F(x′))| per image
};

/// GradientSHAP / expected gradients (see the header comment) on any InputGradientModel. Holds a
/// pointer to the model, which must outlive it; explain() is const and thread-safe.
template <InputGradientModel Model>
class GradientShap {
public:
    /// The options type.
    using Options = GradientShapOptions;
    /// The channel reduction of raw when AttributionDisplay::reduction is empty: the sum.
    static constexpr ChannelReduction default_reduction = ChannelReduction::sum;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    GradientShap(const Model&&, Options = {}) = delete;
    /// Explains `model` (empty baselines become one black image). shape_error for baselines
    /// that are not B×C×H×W of the model's input shape; invalid_argument for NaN/Inf baselines, samples 0, a negative or
    /// non-finite noise, batch_size 0 or an invalid display.
    explicit GradientShap(const Model& model, Options options = {}) : model_(&model), options_(std::move(options)) {
        const char* where = Where::constructor;
        const ImageShape s = model.input_shape();
        if (options_.baselines.size() == 0) options_.baselines = Batch(xt::zeros<float>({std::size_t{1}, s.channels, s.height, s.width}));
        const Batch& b = options_.baselines;
        detail::require<shape_error>(b.shape(0) >= 1 && b.shape(1) == s.channels && b.shape(2) == s.height &&
                                         b.shape(3) == s.width,
                                     where, ": baselines has shape ", shape_string(b.shape()), ", expected B×", s.channels,
                                     "×", s.height, "×", s.width, " with B >= 1 (the model's input shape)");
        detail::require_finite(b, "xai::GradientShap::GradientShap(): baselines");
        detail::require(options_.samples >= 1, where, ": samples is 0, expected at least 1");
        detail::require(std::isfinite(options_.noise) && options_.noise >= 0.0, where, ": noise is ", options_.noise,
                        ", expected a finite standard deviation >= 0");
        detail::require_gradient_batch_size(options_.batch_size, where);
        detail::require_display(options_.display, where);
        baseline_logits_ = detail::checked_forward(model, b, where);
    }

    /// The options the explainer was built with.
    const Options& options() const { return options_; }
    /// The model explained.
    const Model& model() const { return *model_; }

    /// The expected gradients of each image for its target (empty targets: the predicted
    /// class). `progress` counts gradient passes (stage "gradients").
    template <std::same_as<Batch> B>
    GradientShapExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_gradient_input(*model_, images, targets, where);
        const std::size_t n = images.shape(0), values = images.size() / n, samples = options_.samples;
        GradientShapExplanation out;
        out.logits = detail::checked_forward(*model_, images, where);
        out.targets = resolve_targets(targets, out.logits, where);

        // Sample s: a baseline, α, and (with noise) the standard normal values, all from stream s.
        std::vector<std::size_t> chosen(samples);
        std::vector<float> alpha(samples);
        std::vector<float> noise(options_.noise > 0.0 ? samples * values : 0);
        for (std::size_t s = 0; s < samples; ++s) {
            Rng rng = Rng::stream(options_.seed, s);
            chosen[s] = static_cast<std::size_t>(rng.uniform_index(options_.baselines.shape(0)));
            alpha[s] = static_cast<float>(rng.uniform());
            if (!noise.empty())
                for (std::size_t v = 0; v < values; ++v) noise[s * values + v] = static_cast<float>(options_.noise) * rng.normal_float();
        }
        const auto noisy = [&](std::size_t i, std::size_t s, std::size_t v) {
            const float x = images.data()[i * values + v];
            return noise.empty() ? x : x + noise[s * values + v];
        };

        std::vector<double> sums(n * values, 0.0);
        detail::for_gradient_rows(
            *model_, n * samples, {options_.batch_size, options_.threads, options_.score, ReluBackward::standard},
            [&](std::size_t row, float* input) {
                const std::size_t i = row / samples, s = row % samples;
                const float* b = options_.baselines.data() + chosen[s] * values;
                for (std::size_t v = 0; v < values; ++v) input[v] = b[v] + alpha[s] * (noisy(i, s, v) - b[v]);
            },
            [&](std::size_t row, const float*) { return out.targets[row / samples]; },
            [&](std::size_t row, const float* gradient, const float*, std::size_t) {
                const std::size_t i = row / samples, s = row % samples;
                const float* b = options_.baselines.data() + chosen[s] * values;
                double* sum = sums.data() + i * values;
                for (std::size_t v = 0; v < values; ++v)
                    sum[v] += (static_cast<double>(noisy(i, s, v)) - b[v]) * gradient[v];
            },
            progress, 0, n * samples, where);

        out.attributions = Batch::from_shape(images.shape());
        const Scores baseline_scores = scores_of_kind(baseline_logits_, options_.score);
        const std::vector<double> f_x = detail::scores_of_targets(out.logits, out.targets, options_.score);
        out.baseline_scores.assign(n, 0.0);
        out.attribution_sums.assign(n, 0.0);
        out.completeness_error.assign(n, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            double total = 0.0;
            for (std::size_t v = 0; v < values; ++v) {
                const float a = static_cast<float>(sums[i * values + v] / static_cast<double>(samples));
                out.attributions.data()[i * values + v] = a;
                total += a;
            }
            double expected = 0.0;
            for (std::size_t b = 0; b < baseline_scores.shape(0); ++b) expected += baseline_scores(b, out.targets[i]);
            expected /= static_cast<double>(baseline_scores.shape(0));
            out.baseline_scores[i] = expected;
            out.attribution_sums[i] = total;
            out.completeness_error[i] = std::abs(total - (f_x[i] - expected));
        }
        detail::finish_gradient_result(out, default_reduction, options_.display, options_.score, where);
        return out;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    GradientShapExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::GradientShap::GradientShap()";
        static constexpr const char* explain = "xai::GradientShap::explain()";
    };

    const Model* model_;
    Options options_;
    Scores baseline_logits_;  ///< the baselines' logits, computed once
};

}  // namespace xai
