#pragma once
// The noise tunnel: SmoothGrad, SmoothGrad² and VarGrad around any gradient attribution method
// (Saliency, GradientTimesInput, IntegratedGradients, GuidedBackprop, …).
//
//   SmoothGrad   (1/n) Σ_s A(x + ε_s)        Smilkov, Thorat, Kim, Viégas & Wattenberg,
//                                             "SmoothGrad: removing noise by adding noise", 2017, eq. 3
//   SmoothGrad²  (1/n) Σ_s A(x + ε_s)²       Hooker et al., "A Benchmark for Interpretability
//                                             Methods in Deep Neural Networks", NeurIPS 2019 (SG-SQ)
//   VarGrad      (1/n) Σ_s A(x + ε_s)² − ((1/n) Σ_s A(x + ε_s))²
//                                             Adebayo et al., "Local Explanation Methods for Deep
//                                             Neural Networks Lack Sensitivity to Parameter
//                                             Values", ICLR Workshop 2018
// with ε_s ~ N(0, σ²) i.i.d. per input value and σ = noise_level · (max(x) − min(x)), the noise
// level as a fraction of the image's range (the paper's σ/(x_max − x_min); its §4.1 finds 10–20 %
// best, and PAIR's saliency library, the authors' code, defaults to stdev_spread = 0.15). n = 50
// samples by default (the paper's §4.1: "n = 50"; Captum's nt_samples default of 5 is for speed).
// These are Captum's NoiseTunnel nt_type "smoothgrad", "smoothgrad_sq" and "vargrad" (Captum's
// stdevs is an absolute σ; here it is relative to the image's range, as the paper states it).
// VarGrad is the population variance, ≥ 0 up to rounding (clamped at 0).
//
// The noise of sample s is drawn from Rng::stream(seed, s) by Rng::normal_float (the ziggurat):
// the same standard normal values for every image of that shape, scaled by each image's σ, so an
// explanation does not depend on the batch it is explained in nor on the thread count. Every sample explains the class of the noise-free image (its
// target, or its predicted class), as Captum passes one target to all samples.
//
// Cost: n times the wrapped method's cost per image (n × 1 gradient pass for Saliency,
// n × m for Integrated Gradients with m steps), plus one forward pass of the images.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
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

/// How the noise tunnel aggregates the attributions of the noisy samples (see the header comment).
enum class NoiseTunnelType { smoothgrad, smoothgrad_squared, vargrad };

/// The type's name as Captum spells it: "smoothgrad", "smoothgrad_sq" or "vargrad".
inline std::string_view to_string(NoiseTunnelType type) {
    switch (type) {
        case NoiseTunnelType::smoothgrad: return "smoothgrad";
        case NoiseTunnelType::smoothgrad_squared: return "smoothgrad_sq";
        case NoiseTunnelType::vargrad: return "vargrad";
    }
    return "unknown";
}

/// A gradient attribution explainer the noise tunnel can wrap: built from (model, options),
/// explains a batch for fixed targets with per-channel `attributions`, and names its default
/// channel reduction.
template <class E>
concept GradientAttributionExplainer =
    requires(const E& explainer, const Batch& images, const Targets& targets) {
        typename E::Options;
        { E::default_reduction } -> std::convertible_to<ChannelReduction>;
        { explainer.model() } -> Classifier;
        { explainer.explain(images, targets).attributions } -> std::convertible_to<Batch>;
    } && std::constructible_from<E, decltype(std::declval<const E&>().model()), typename E::Options>;

/// The noisy samples of the noise tunnel; the defaults are the SmoothGrad paper's.
struct NoiseSampling {
    NoiseTunnelType type = NoiseTunnelType::smoothgrad;  ///< the aggregate: SmoothGrad, SmoothGrad² or VarGrad
    std::size_t samples = 50;                            ///< n, the noisy copies per image (the paper's n = 50)
    double noise_level = 0.15;                           ///< σ / (max(x) − min(x)) (PAIR saliency's stdev_spread)
    std::uint64_t seed = 0;                              ///< the noise of sample s comes from Rng::stream(seed, s)
};

/// Options of NoiseTunnel<Method>:
/// `{.method = {.absolute = false}, .noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 20}}`.
template <class Method>
struct NoiseTunnelOptions {
    typename Method::Options method{};  ///< the wrapped method's options (its display is not used)
    NoiseSampling noise{};              ///< the aggregate and the noise
    AttributionDisplay display{};       ///< reduction (default: the method's), sign and clipping
};

/// The result of NoiseTunnel: GradientExplanation (attributions = the aggregate over the noisy
/// samples; targets, scores and logits of the noise-free images) with σ per image.
struct NoiseTunnelExplanation : GradientExplanation {
    std::vector<double> sigma;  ///< the noise's standard deviation per image
};

/// SmoothGrad, SmoothGrad² or VarGrad around the gradient method `Method` (see the header
/// comment), e.g. NoiseTunnel<Saliency<Net>>, NoiseTunnel<IntegratedGradients<Net>>. Holds
/// the wrapped explainer, which points to the model: the model must outlive it.
template <GradientAttributionExplainer Method>
class NoiseTunnel {
public:
    /// The model type of the wrapped method.
    using Model = std::remove_cvref_t<decltype(std::declval<const Method&>().model())>;
    /// The options type.
    using Options = NoiseTunnelOptions<Method>;
    /// The channel reduction of raw when AttributionDisplay::reduction is empty: the method's.
    static constexpr ChannelReduction default_reduction = Method::default_reduction;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    NoiseTunnel(const Model&&, Options = {}) = delete;
    /// Wraps Method(model, options.method); invalid_argument for samples 0, a negative or
    /// non-finite noise_level, an invalid display, or what the method refuses.
    explicit NoiseTunnel(const Model& model, Options options = {})
        : options_(std::move(options)), method_(model, options_.method) {
        detail::require(options_.noise.samples >= 1, Where::constructor, ": noise.samples is 0, expected at least 1");
        detail::require(std::isfinite(options_.noise.noise_level) && options_.noise.noise_level >= 0.0, Where::constructor,
                        ": noise.noise_level is ", options_.noise.noise_level,
                        ", expected a finite fraction >= 0 of the image's range (0.15 is the paper's)");
        detail::require_display(options_.display, Where::constructor);
    }

    /// The options the explainer was built with.
    const Options& options() const { return options_; }
    /// The model explained.
    const Model& model() const { return method_.model(); }

    /// The aggregate attributions of each image for its target (empty targets: the predicted
    /// class of the noise-free image). `progress` counts images (stage "images").
    template <std::same_as<Batch> B>
    NoiseTunnelExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_gradient_input(model(), images, targets, where);
        const std::size_t n = images.shape(0), values = images.size() / n, samples = options_.noise.samples;
        NoiseTunnelExplanation out;
        out.logits = detail::checked_forward(model(), images, where);
        out.targets = resolve_targets(targets, out.logits, where);
        out.attributions = Batch::from_shape(images.shape());
        out.sigma.assign(n, 0.0);
        Batch noisy = Batch::from_shape({samples, images.shape(1), images.shape(2), images.shape(3)});
        const bool squares = options_.noise.type != NoiseTunnelType::smoothgrad;
        std::vector<double> mean(values), square(squares ? values : 0);
        for (std::size_t i = 0; i < n; ++i) {
            const float* x = images.data() + i * values;
            const auto [lo, hi] = std::minmax_element(x, x + values);
            const double sigma = options_.noise.noise_level * (static_cast<double>(*hi) - static_cast<double>(*lo));
            out.sigma[i] = sigma;
            if (!write_noisy_copies(x, values, static_cast<float>(sigma), noisy.data()))
                throw invalid_argument("xai::NoiseTunnel::explain(): the noisy images (image + σ·noise) contains NaN or Inf, "
                                       "expected finite values");
            const Batch a = attributions_of(noisy, Targets(1, Target(out.targets[i])));
            std::fill(mean.begin(), mean.end(), 0.0);
            std::fill(square.begin(), square.end(), 0.0);
            for (std::size_t s = 0; s < samples; ++s) {  // in sample order: independent of threads
                const float* as = a.data() + s * values;
                for (std::size_t v = 0; v < values; ++v) mean[v] += as[v];
                if (squares)
                    for (std::size_t v = 0; v < values; ++v) square[v] += static_cast<double>(as[v]) * as[v];
            }
            float* dst = out.attributions.data() + i * values;
            for (std::size_t v = 0; v < values; ++v) {
                const double m = mean[v] / static_cast<double>(samples);
                const double q = squares ? square[v] / static_cast<double>(samples) : 0.0;
                switch (options_.noise.type) {
                    case NoiseTunnelType::smoothgrad: dst[v] = static_cast<float>(m); break;
                    case NoiseTunnelType::smoothgrad_squared: dst[v] = static_cast<float>(q); break;
                    case NoiseTunnelType::vargrad: dst[v] = static_cast<float>(std::max(0.0, q - m * m)); break;
                }
            }
            detail::report(progress, i + 1, n, "images");
        }
        detail::finish_gradient_result(out, default_reduction, options_.display, score_kind(), where);
        return out;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    NoiseTunnelExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::NoiseTunnel::NoiseTunnel()";
        static constexpr const char* explain = "xai::NoiseTunnel::explain()";
    };

    /// The noisy copies x + σ·ε_s of one image (`values` values at x) into `noisy` (samples ×
    /// values), in one pass: ε_s's standard normal values come from Rng::stream(seed, s) by
    /// Rng::normal_float (the ziggurat), the same for every image, drawn again per image rather
    /// than kept in a buffer (drawing costs less than writing and reading it back). False when
    /// a value overflowed (checked in the same pass).
    bool write_noisy_copies(const float* x, std::size_t values, float sigma, float* noisy) const {
        std::size_t non_finite = 0;
        for (std::size_t s = 0; s < options_.noise.samples; ++s) {
            Rng rng = Rng::stream(options_.noise.seed, s);
            float* out = noisy + s * values;
            for (std::size_t v = 0; v < values; ++v) {
                out[v] = x[v] + sigma * rng.normal_float();
                non_finite += !(std::abs(out[v]) <= std::numeric_limits<float>::max()) ? 1u : 0u;
            }
        }
        return non_finite == 0;
    }

    /// The wrapped method's attributions of the noisy copies: without their maps when the
    /// method can give them alone (GradientAttribution::attributions), else from explain().
    Batch attributions_of(const Batch& noisy, const Targets& targets) const {
        if constexpr (requires { { method_.attributions(noisy, targets) } -> std::same_as<Batch>; })
            return method_.attributions(noisy, targets);
        else
            return method_.explain(noisy, targets).attributions;
    }

    /// The score the wrapped method explains (its `score` option).
    ScoreKind score_kind() const { return options_.method.score; }

    Options options_;
    Method method_;
};

}  // namespace xai
