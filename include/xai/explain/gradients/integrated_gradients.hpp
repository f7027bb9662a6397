#pragma once
// Integrated Gradients — Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks",
// ICML 2017, eq. 1 and its Riemann approximation eq. 3:
//
//   IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F(x′ + α(x − x′))/∂x_i dα
//           ≈ (x_i − x′_i) · Σ_k w_k ∂F(x′ + α_k(x − x′))/∂x_i
//
// for every input value i (channel and pixel), where x′ is the baseline and (α_k, w_k) a
// quadrature rule (explain/gradients/integration.hpp; Gauss–Legendre with m = 50 steps by
// default, Captum's n_steps=50, method="gausslegendre"). F is the explained class's logit by
// default (ScoreKind option).
//
// Completeness (the paper's Proposition 1): Σ_i IG_i(x) = F(x) − F(x′). The quadrature makes it
// hold only approximately; the result reports, for every image, F(x), F(x′), Σ_i IG_i and the
// completeness error |Σ_i IG_i − (F(x) − F(x′))| (Captum's convergence delta, as an absolute
// value). With tolerance > 0 the step count is doubled for each image until its error is at
// most tolerance · |F(x) − F(x′)|, or until doubling would pass max_steps (the paper: "20 to 300
// steps" are usually within 5 %).
//
// The baseline is an xai::Baseline (image/baseline.hpp): black by default (the paper's and
// Captum's zeros), or blurred, a colour, the image's mean, a fixed image, any function of the
// image, or uniform noise (xai::uniform_noise_baseline, explain/gradients/baselines.hpp).
// Baseline::segment_mean() needs superpixels and is refused.
//
// Cost: one forward pass of the images and one of their baselines, then m forward + backward
// passes to the input per image (the path points, batch_size of them per model call, `threads`
// calls at a time); no parameter gradients. Gradients are summed in double, in step order, so
// the result does not depend on batch_size or threads.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/gradients/detail/common.hpp"
#include "xai/explain/gradients/integration.hpp"
#include "xai/explain/gradients/options.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/baseline.hpp"

namespace xai {

/// Options of IntegratedGradients; defaults are Captum's and the paper's.
struct IntegratedGradientsOptions {
    Baseline baseline{};                                      ///< x′: black (0) by default; not segment_mean()
    std::size_t steps = 50;                                   ///< m, the path points (Captum's n_steps)
    IntegrationRule rule = IntegrationRule::gauss_legendre;   ///< Captum's default method
    /// > 0: per image, double the steps until the completeness error is at most tolerance ·
    /// |F(x) − F(x′)| (or the next doubling would pass max_steps); 0 = off, `steps` steps.
    double tolerance = 0.0;
    std::size_t max_steps = 800;                              ///< the ceiling of the doubling (16 × the default)
    ScoreKind score = ScoreKind::logit;                       ///< F: the class score before the softmax
    AttributionDisplay display{};                             ///< reduction (default sum), sign and clipping
    std::size_t batch_size = 50;                              ///< path points per model call (Captum's internal_batch_size)
    std::size_t threads = 0;                                  ///< model calls in flight at once (0 = all cores)
};

/// The result of IntegratedGradients: GradientExplanation with the completeness report.
struct IntegratedGradientsExplanation : GradientExplanation {
    std::vector<double> baseline_scores;     ///< F(x′) per image (of score_kind); F(x) is `scores`
    std::vector<double> attribution_sums;    ///< Σ_i IG_i over every channel and pixel, per image
    std::vector<double> completeness_error;  ///< |Σ_i IG_i − (F(x) − F(x′))| per image
    std::vector<std::size_t> steps;          ///< the steps used per image
    std::vector<bool> converged;             ///< per image: the tolerance was met (false when it is off)
};

/// Integrated Gradients (Sundararajan et al., ICML 2017; see the header comment) on any
/// InputGradientModel. Holds a pointer to the model, which must outlive it; explain() is const
/// and thread-safe.
template <InputGradientModel Model>
class IntegratedGradients {
public:
    /// The options type.
    using Options = IntegratedGradientsOptions;
    /// The channel reduction of raw when AttributionDisplay::reduction is empty: the sum.
    static constexpr ChannelReduction default_reduction = ChannelReduction::sum;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    IntegratedGradients(const Model&&, IntegratedGradientsOptions = {}) = delete;
    /// Explains `model`. invalid_argument for steps 0 (1 with the trapezoid rule) or above
    /// max_integration_steps, a negative or non-finite tolerance, max_steps below steps with a
    /// tolerance, batch_size 0, a segment_mean() baseline or an invalid display.
    explicit IntegratedGradients(const Model& model, IntegratedGradientsOptions options = {})
        : model_(&model), options_(std::move(options)) {
        const char* where = Where::constructor;
        const std::size_t fewest = options_.rule == IntegrationRule::riemann_trapezoid ? 2 : 1;
        detail::require(options_.steps >= fewest && options_.steps <= max_integration_steps, where, ": steps is ",
                        options_.steps, ", expected ", fewest, " to ", max_integration_steps, " for the ",
                        to_string(options_.rule), " rule");
        detail::require(std::isfinite(options_.tolerance) && options_.tolerance >= 0.0, where, ": tolerance is ",
                        options_.tolerance, ", expected a finite value >= 0 (0 turns the automatic step count off)");
        detail::require(options_.tolerance == 0.0 || (options_.max_steps >= options_.steps &&
                                                      options_.max_steps <= max_integration_steps),
                        where, ": max_steps is ", options_.max_steps, ", expected ", options_.steps, " (steps) to ",
                        max_integration_steps);
        detail::require_gradient_batch_size(options_.batch_size, where);
        detail::require_baseline_without_superpixels(options_.baseline, where);
        detail::require_display(options_.display, where);
    }

    /// The options the explainer was built with.
    const IntegratedGradientsOptions& options() const { return options_; }
    /// The model explained.
    const Model& model() const { return *model_; }

    /// The Integrated Gradients of each image for its target (empty targets: the predicted
    /// class) with the completeness report. `progress` counts gradient passes (path points;
    /// with a tolerance the total is the most the doubling can take).
    template <std::same_as<Batch> B>
    IntegratedGradientsExplanation explain(const B& images, const Targets& targets = {},
                                           const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_gradient_input(*model_, images, targets, where);
        const std::size_t n = images.shape(0), values = images.size() / n;
        IntegratedGradientsExplanation out;
        out.logits = detail::checked_forward(*model_, images, where);
        out.targets = resolve_targets(targets, out.logits, where);
        Batch baselines = Batch::from_shape(images.shape());
        for (std::size_t i = 0; i < n; ++i) {
            const Image b = options_.baseline.for_image(image_at(images, i), where);
            std::copy(b.begin(), b.end(), baselines.begin() + static_cast<std::ptrdiff_t>(i * values));
        }
        const std::vector<double> f_x = detail::scores_of_targets(out.logits, out.targets, options_.score);
        out.baseline_scores = detail::scores_of_targets(detail::checked_forward(*model_, baselines, where), out.targets,
                                                        options_.score);
        out.attributions = Batch::from_shape(images.shape());
        out.attribution_sums.assign(n, 0.0);
        out.completeness_error.assign(n, 0.0);
        out.steps.assign(n, 0);
        out.converged.assign(n, false);

        std::size_t planned = 0;  // the most path points the doubling can take, per image
        for (std::size_t m = options_.steps; m <= (options_.tolerance > 0.0 ? options_.max_steps : options_.steps); m *= 2)
            planned += m;
        std::vector<std::size_t> pending(n);
        for (std::size_t i = 0; i < n; ++i) pending[i] = i;
        std::size_t done = 0;
        for (std::size_t m = options_.steps; !pending.empty(); m *= 2) {
            const std::vector<std::vector<double>> sums = path_gradients(images, baselines, out.targets, pending, m,
                                                                         progress, done, n * planned);
            done += pending.size() * m;
            std::vector<std::size_t> next;
            for (std::size_t j = 0; j < pending.size(); ++j) {
                const std::size_t i = pending[j];
                const float* x = images.data() + i * values;
                const float* b = baselines.data() + i * values;
                float* a = out.attributions.data() + i * values;
                double total = 0.0;
                for (std::size_t v = 0; v < values; ++v) {
                    a[v] = static_cast<float>((static_cast<double>(x[v]) - b[v]) * sums[j][v]);
                    total += a[v];
                }
                const double difference = f_x[i] - out.baseline_scores[i];
                out.attribution_sums[i] = total;
                out.completeness_error[i] = std::abs(total - difference);
                out.steps[i] = m;
                out.converged[i] = options_.tolerance > 0.0 && out.completeness_error[i] <= options_.tolerance * std::abs(difference);
                const bool refine = options_.tolerance > 0.0 && !out.converged[i] && 2 * m <= options_.max_steps;
                if (refine) next.push_back(i);
            }
            pending = std::move(next);
        }
        detail::finish_gradient_result(out, default_reduction, options_.display, options_.score, where);
        return out;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    IntegratedGradientsExplanation explain(const I& image, Target target = Target::predicted(),
                                           const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::IntegratedGradients::IntegratedGradients()";
        static constexpr const char* explain = "xai::IntegratedGradients::explain()";
    };

    /// For each image of `which`, Σ_k w_k ∂F(x′ + α_k(x − x′))/∂x with the m-step rule (C·H·W
    /// sums in double, added in step order).
    std::vector<std::vector<double>> path_gradients(const Batch& images, const Batch& baselines,
                                                    const std::vector<std::size_t>& targets,
                                                    const std::vector<std::size_t>& which, std::size_t m,
                                                    const Progress& progress, std::size_t done, std::size_t total) const {
        const std::size_t values = images.size() / images.shape(0);
        const Quadrature q = quadrature(options_.rule, m);
        std::vector<std::vector<double>> sums(which.size(), std::vector<double>(values, 0.0));
        detail::for_gradient_rows(
            *model_, which.size() * m, {options_.batch_size, options_.threads, options_.score, ReluBackward::standard},
            [&](std::size_t row, float* input) {
                const std::size_t i = which[row / m];
                const auto alpha = static_cast<float>(q.alphas[row % m]);
                const float* x = images.data() + i * values;
                const float* b = baselines.data() + i * values;
                for (std::size_t v = 0; v < values; ++v) input[v] = b[v] + alpha * (x[v] - b[v]);
            },
            [&](std::size_t row, const float*) { return targets[which[row / m]]; },
            [&](std::size_t row, const float* gradient, const float*, std::size_t) {
                std::vector<double>& sum = sums[row / m];
                const double w = q.weights[row % m];
                for (std::size_t v = 0; v < values; ++v) sum[v] += w * gradient[v];
            },
            progress, done, total, Where::explain);
        return sums;
    }

    const Model* model_;
    IntegratedGradientsOptions options_;
};

}  // namespace xai
