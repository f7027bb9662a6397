#pragma once
// LIME for images: Ribeiro, Singh, Guestrin, "'Why Should I Trust You?': Explaining the
// Predictions of Any Classifier", KDD 2016, as the reference lime package's LimeImageExplainer
// implements it (lime_image.py, lime_base.py).
//
// For an image x split into d superpixels, LIME samples binary vectors z ∈ {0,1}^d (z_0 = all
// ones, the others with every superpixel on with probability ½), renders each as an image in
// which the "off" superpixels show the baseline (LimeOptions::baseline: by default each
// superpixel's own mean colour, lime's hide_color=None), scores the renders with the black box
// f (probabilities by default), weights each sample by its proximity to x,
//   π(z) = √(exp(−D(z, 1)² / w²)),   D = cosine distance = 1 − ‖z‖₁/√(‖z‖₁·d)   (w = 0.25),
// and fits, per explained class c, a weighted ridge regression g(z) = b + Σ_s β_s z_s to f_c
// (explain/lime/detail/regression.hpp: ridge α = 1, weighted R², lime's feature-selection
// methods). The explanation of class c is β (one weight per superpixel), b, the weighted R² of
// g, and g(z_0) = b + Σ β_s, the surrogate's prediction for the image itself (compare it with
// f_c(x)); the result type is in explain/lime/explanation.hpp, the options and their defaults
// (every one lime's) in explain/lime/options.hpp.
//
// Segmentation is a policy: quick shift by default because that is lime's
// (SegmentationAlgorithm('quickshift', kernel_size=4, max_dist=200, ratio=0.2), so explanations
// agree with the Python tool); Slic is about 3× faster (docs/superpixels.md) and GridSegmenter
// is colour-blind. explain_segmented() takes a precomputed Segmentation instead.
//
// A batch is explained image by image: each image is segmented, sampled and fitted on its own,
// with the same seed, so explaining a batch gives exactly the explanations of its images one
// at a time. The explained target's surrogate is always fitted; the top_labels classes of
// highest score are fitted from the same samples beside it (lime's top_labels). A target may
// be a target function (Target::function): its surrogate is fitted to the function's value on
// each sample's output (reported under the function's class); the top labels stay class scores.
//
// Determinism: sample i draws its bits from Rng::stream(seed, i), so the same seed gives the
// same explanation bit for bit with any thread count and batch size. Batches of samples are
// rendered and scored on up to `threads` threads (the model's forward pass is const and
// thread-safe by the Classifier concept); progress is reported after each round of batches,
// counting samples over the whole batch of images.
//
// Adaptive sample size (LimeOptions::adaptive, off by default), in the spirit of S-LIME (Zhou,
// Hooker and Wang, KDD 2021, which tests each step of a LARS selection against its runner-up and
// grows the sample until the step is significant): start with n₀ = max(2(d + 1), 100) samples,
// fit the target's surrogate, and compute for every superpixel i of its top k (by `sign`) and
// every superpixel j outside it
//     z_ij = (β_i − β_j) / sd(β_i − β_j),
// the standard deviation from the sandwich covariance of the weighted ridge coefficients
// (detail::weighted_ridge_covariance). The selection is stable when min z_ij ≥ Φ⁻¹(1 − α); if not,
// the sample grows to n · (Φ⁻¹(1 − α) / z)² (S-LIME's rule; between 1.25 n and 4 n, 2 n when
// z ≤ 0) and the test repeats, num_samples being the ceiling. Samples are added, never redrawn:
// sample i is the same whatever the round, so the result is the plain explanation on the first
// n samples, bit-identical for any thread count and batch size. samples_used, selection_z and
// converged report what happened.
//
// Beyond the reference: stability() repeats the explanation with several seeds and reports, per
// superpixel, the mean and standard deviation of its weight and the Jaccard agreement of the
// top-k sets, so a user sees when the answer depends on the random samples.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings inside Eigen
#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/lime/detail/regression.hpp"
#include "xai/explain/lime/explanation.hpp"
#include "xai/explain/lime/options.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/segments.hpp"
#include "xai/image/superpixels.hpp"

namespace xai {

namespace detail {

/// The top-k superpixels of a surrogate with weights of the given sign (or by |β| for both),
/// in lime's order (decreasing |β| among the selected features).
inline std::vector<std::size_t> lime_top_features(const LimeSurrogate& s, std::size_t k, WeightSign sign) {
    std::vector<std::size_t> top;
    for (std::size_t f : s.features) {
        if (top.size() == k) break;
        const double w = s.weights[f];
        if (sign == WeightSign::both || (sign == WeightSign::positive && w > 0.0) ||
            (sign == WeightSign::negative && w < 0.0))
            top.push_back(f);
    }
    return top;
}

inline double jaccard(std::vector<std::size_t> a, std::vector<std::size_t> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    std::vector<std::size_t> common, all;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(all));
    return all.empty() ? 1.0 : static_cast<double>(common.size()) / static_cast<double>(all.size());
}

}  // namespace detail

/// LIME image explainer over any black-box Classifier; `Segmenter` is the superpixel policy.
/// Holds a reference to the model, which must outlive the explainer. explain() is const and may
/// run concurrently.
template <Classifier Model, SegmentationAlgorithm Segmenter = Quickshift>
class Lime {
public:
    /// Explains `model`, which must outlive the explainer, with superpixels from `segmenter`.
    /// Throws invalid_argument for num_samples or batch_size 0, more than max_lime_samples
    /// samples, a non-positive kernel_width, a negative ridge_alpha, or (when adaptive) a top_k
    /// of 0, an alpha outside (0, 0.5) or an unknown sign.
    explicit Lime(const Model& model, LimeOptions options = {}, Segmenter segmenter = {})
        : model_(model), options_(std::move(options)), segmenter_(std::move(segmenter)) {
        const char* where = Where::constructor;
        detail::require(options_.num_samples > 0, where, ": num_samples is 0, expected at least 1");
        // The samples' design matrix holds num_samples rows of one double per superpixel: 2^24
        // samples (lime's default is 1000) keep it allocatable instead of a length_error.
        detail::require(options_.num_samples <= max_lime_samples, where, ": num_samples is ", options_.num_samples,
                        ", expected at most ", max_lime_samples, " (max_lime_samples)");
        detail::require(options_.batch_size > 0, where, ": batch_size is 0, expected at least 1");
        detail::require(std::isfinite(options_.kernel_width) && options_.kernel_width > 0.0, where,
                        ": kernel_width is ", options_.kernel_width, ", expected a finite value > 0");
        detail::require(std::isfinite(options_.ridge_alpha) && options_.ridge_alpha >= 0.0, where,
                        ": ridge_alpha is ", options_.ridge_alpha, ", expected a finite value >= 0");
        const LimeAdaptiveOptions& adaptive = options_.adaptive;
        if (adaptive.enabled) {
            detail::require(adaptive.top_k >= 1, where, ": adaptive.top_k is 0, expected at least 1");
            detail::require(adaptive.alpha > 0.0 && adaptive.alpha < 0.5, where, ": adaptive.alpha is ", adaptive.alpha,
                            ", expected a level in (0, 0.5)");
            detail::require(adaptive.sign == WeightSign::positive || adaptive.sign == WeightSign::negative ||
                                adaptive.sign == WeightSign::both,
                            where, ": adaptive.sign is ", static_cast<int>(adaptive.sign),
                            ", expected WeightSign::positive, negative or both");
        }
    }

    /// The explainer keeps a reference to the model: a temporary would dangle.
    Lime(const Model&&, LimeOptions = {}, Segmenter = {}) = delete;

    /// The options the explainer was built with.
    const LimeOptions& options() const { return options_; }

    /// Explains every image of `images` (N×C×H×W, the model's input shape) for its target
    /// (empty targets: each image's predicted class; one: the same for all; else one per image),
    /// each on the policy's superpixels of that image. `progress` counts samples over the batch.
    /// Throws invalid_argument when num_samples is below the surrogate's columns + 1 (the
    /// superpixels of an image, or num_features under forward selection).
    template <std::same_as<Batch> B>
    LimeExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        return run(images, targets, nullptr, options_.seed, nullptr, progress, Where::explain);
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    LimeExplanation explain(const I& image, Target target = Target::predicted(),
                            const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }


    /// Explains one image on a given segmentation (H×W labels 0..n−1) instead of the policy's.
    LimeExplanation explain_segmented(const Image& image, const Segmentation& segmentation,
                                      Target target = Target::predicted(), const Progress& progress = {}) const {
        const Batch batch = detail::single_image_batch(image, Where::explain_segmented);
        return run(batch, Targets{target}, &segmentation, options_.seed, nullptr, progress, Where::explain_segmented);
    }

    /// Repeats the explanation of `image` with `options.repeats` seeds (the first is the options'
    /// seed, so run 0 equals explain()) on the same superpixels and the same classes, and reports
    /// how much each weight and the top-k sets move. `progress` counts samples over all runs.
    LimeStability stability(const Image& image, Target target = Target::predicted(),
                            const LimeStabilityOptions& options = {}, const Progress& progress = {}) const {
        const char* where = Where::stability;
        detail::require(options.repeats >= 2, where, ": repeats is ", options.repeats, ", expected at least 2");
        detail::require(options.top_k >= 1, where, ": top_k is 0, expected at least 1");
        detail::require(options.sign == WeightSign::positive || options.sign == WeightSign::negative ||
                            options.sign == WeightSign::both,
                        where, ": sign is ", static_cast<int>(options.sign),
                        ", expected WeightSign::positive, negative or both");
        const Batch batch = detail::single_image_batch(image, where);
        detail::require_explainable(model_, batch, where);
        const Segmentation segmentation = segmenter_(image);
        const std::size_t per_run = options_.num_samples, total = options.repeats * per_run;
        LimeStability out;
        for (std::size_t r = 0; r < options.repeats; ++r) {
            const std::uint64_t seed = r == 0 ? options_.seed : Rng::stream(options_.seed, r)();
            Progress shifted;
            if (progress)
                shifted = [&progress, r, per_run, total](const ProgressReport& p) {
                    progress(ProgressReport{r * per_run + p.done, total, p.stage});
                };
            out.seeds.push_back(seed);
            if (r == 0) {
                out.runs.push_back(run(batch, Targets{target}, &segmentation, seed, nullptr, shifted, where));
                continue;
            }
            // The same target and classes as run 0, even when run 0 chose them.
            std::vector<std::size_t> classes;
            for (const LimeSurrogate& s : out.runs.front().surrogates.front()) classes.push_back(s.target);
            const Targets fixed{target.is_function() ? target : Target::class_index(out.runs.front().targets.front())};
            out.runs.push_back(run(batch, fixed, &segmentation, seed, &classes, shifted, where));
        }
        const std::size_t d = segmentation.count;
        const auto repeats = static_cast<double>(options.repeats);
        for (std::size_t c = 0; c < out.runs.front().surrogates.front().size(); ++c) {
            LimeSurrogateStability s;
            s.target = out.runs.front().surrogates.front()[c].target;
            s.mean_weight.assign(d, 0.0);
            s.weight_std.assign(d, 0.0);
            for (const auto& run : out.runs) {
                const LimeSurrogate& e = run.surrogates.front()[c];
                for (std::size_t j = 0; j < d; ++j) s.mean_weight[j] += e.weights[j] / repeats;
                s.mean_r2 += e.r2 / repeats;
                s.top_sets.push_back(detail::lime_top_features(e, options.top_k, options.sign));
            }
            for (const auto& run : out.runs)
                for (std::size_t j = 0; j < d; ++j) {
                    const double diff = run.surrogates.front()[c].weights[j] - s.mean_weight[j];
                    s.weight_std[j] += diff * diff / (repeats - 1.0);
                }
            for (double& v : s.weight_std) v = std::sqrt(v);
            double sum = 0.0;
            std::size_t pairs = 0;
            for (std::size_t a = 0; a < s.top_sets.size(); ++a)
                for (std::size_t b = a + 1; b < s.top_sets.size(); ++b) {
                    const double j = detail::jaccard(s.top_sets[a], s.top_sets[b]);
                    sum += j;
                    s.min_jaccard = std::min(s.min_jaccard, j);
                    ++pairs;
                }
            s.mean_jaccard = sum / static_cast<double>(pairs);
            out.surrogates.push_back(std::move(s));
        }
        return out;
    }

private:
    /// The prefix of every error message of the class, one per entry point.
    struct Where {
        static constexpr const char* constructor = "xai::Lime::Lime()";
        static constexpr const char* explain = "xai::Lime::explain()";
        static constexpr const char* explain_segmented = "xai::Lime::explain_segmented()";
        static constexpr const char* stability = "xai::Lime::stability()";
    };

    /// Refuses a budget too small to fit the surrogate. A fit with k weights and an intercept
    /// needs k + 1 samples: with fewer, the ridge solution interpolates the samples (R² = 1) and
    /// its weights are set by the penalty, not by the model (lime's num_samples = 1 returns
    /// all-zero weights with R² = 1). A refusal names the fix; a warning in the result would
    /// be easy to miss and the numbers beside it would still look valid. k is the number of
    /// superpixels, except under forward selection (lime's 'auto' with num_features <= 6), whose
    /// fits never hold more than num_features of them.
    void require_fittable(std::size_t samples, std::size_t superpixels, std::size_t num_features,
                          const char* where) const {
        const FeatureSelection method = options_.feature_selection;
        const bool forward = method == FeatureSelection::forward_selection ||
                             (method == FeatureSelection::automatic && num_features <= 6);
        const std::size_t columns = forward ? num_features : superpixels;
        detail::require(samples >= columns + 1, where, ": num_samples is ", samples, ", expected at least ", columns + 1,
                        " to fit a surrogate of ", columns, forward ? " selected" : "", " superpixels and an intercept",
                        " (with fewer the fit interpolates the samples: R² = 1 and weights set by the ridge penalty)");
    }

    /// The batch explained image by image with `seed`; `segmentation` (for a batch of one)
    /// replaces the policy's, `classes` (for a batch of one) fixes the fitted classes.
    LimeExplanation run(const Batch& images, const Targets& targets, const Segmentation* segmentation,
                        std::uint64_t seed, const std::vector<std::size_t>* classes, const Progress& progress,
                        const char* where) const {
        detail::require_explainable(model_, images, where);
        const Scores logits = detail::checked_forward(model_, images, where);
        const std::vector<std::size_t> resolved = resolve_targets(targets, logits, where, true);
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, n);
        LimeExplanation out;
        out.raw = Maps::from_shape({n, h, w});
        out.targets = resolved;
        out.score_kind = options_.score;
        out.logits = logits;
        out.num_samples = options_.num_samples;
        for (std::size_t i = 0; i < n; ++i) {
            const Image image = image_at(images, i);
            out.segmentations.push_back(segmentation != nullptr ? *segmentation : segmenter_(image));
            Fitted fitted = fit(image, out.segmentations.back(), resolved[i], functions[i], classes, seed, progress,
                                i * options_.num_samples, n * options_.num_samples, where);
            out.surrogates.push_back(std::move(fitted.surrogates));
            out.samples_used.push_back(fitted.samples);
            out.selection_z.push_back(fitted.selection_z);
            out.converged.push_back(fitted.converged);
            out.scores.push_back(static_cast<float>(out.surrogates.back().front().model_prediction));
            const Map weights = out.pixel_weights(resolved[i], i);
            std::copy(weights.begin(), weights.end(), out.raw.begin() + static_cast<std::ptrdiff_t>(i * h * w));
        }
        out.maps = detail::positive_display_maps(out.raw);
        return out;
    }

    /// What fit() returns for one image.
    struct Fitted {
        std::vector<LimeSurrogate> surrogates;  ///< the target's first, then the top labels
        std::size_t samples = 0;                ///< samples scored
        double selection_z = 0.0;               ///< the adaptive test's final z (0 when off)
        bool converged = false;                 ///< the adaptive test passed
    };

    /// The samples of one image, grown round by round: the bits z (row-major, n × d), the
    /// scores of every class (n × k) and, when the target is a target function, its value on
    /// each sample (n; the surrogate of label k, reported as class function_target).
    struct Samples {
        std::vector<std::uint8_t> on;
        std::vector<float> scores;
        std::size_t count = 0;
        const detail::AnyTargetFunction* function = nullptr;
        std::vector<float> function_scores;
        std::size_t function_target = 0;
    };

    /// Draws samples [samples.count, n) (row 0 all on; row i from Rng::stream(seed, i)), renders
    /// and scores them batch by batch. Progress reports add `done_before` and count up to `total`.
    void extend(Samples& samples, std::size_t n, const Image& image, const Image& fudged, const Segmentation& segmentation,
                std::uint64_t seed, const Progress& progress, std::size_t done_before, std::size_t total,
                const char* where) const {
        const std::size_t d = segmentation.count, first_new = samples.count;
        const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
        const std::size_t k = model_.num_classes();
        samples.on.resize(n * d, 1);
        samples.scores.resize(n * k);
        if (samples.function != nullptr) samples.function_scores.resize(n);
        // 1. the samples z, each from its own random stream
        parallel_for(n - first_new, options_.threads, [&](std::size_t r) {
            const std::size_t i = first_new + r;
            if (i == 0) return;  // the image itself: all on
            Rng rng = Rng::stream(seed, i);
            std::uint8_t* row = samples.on.data() + i * d;
            std::uint64_t bits = 0;
            for (std::size_t s = 0; s < d; ++s) {
                if (s % 64 == 0) bits = rng();
                row[s] = static_cast<std::uint8_t>((bits >> (s % 64)) & 1U);
            }
        });
        // 2. render and score them, batch by batch
        const std::int32_t* labels = segmentation.labels.data();
        // Batches in flight at once (one per thread) share the memory bound of masking.hpp.
        const std::size_t per_round = std::max<std::size_t>(1, resolve_threads(options_.threads));
        const std::size_t batch_size = detail::batch_within_memory(options_.batch_size, image_shape(image), 0, per_round);
        const std::size_t batches = detail::ceil_div(n - first_new, batch_size);
        for (std::size_t first = 0; first < batches; first += per_round) {
            const std::size_t round = std::min(per_round, batches - first);
            parallel_for(round, round, [&](std::size_t r) {
                const std::size_t begin = first_new + (first + r) * batch_size, end = std::min(n, begin + batch_size);
                Batch batch = Batch::from_shape({end - begin, channels, image.shape(1), image.shape(2)});
                std::vector<std::uint8_t> pixel_on(pixels);
                for (std::size_t i = begin; i < end; ++i) {
                    const std::uint8_t* z = samples.on.data() + i * d;
                    for (std::size_t p = 0; p < pixels; ++p) pixel_on[p] = z[labels[p]];
                    float* dst = batch.data() + (i - begin) * channels * pixels;
                    for (std::size_t c = 0; c < channels; ++c) {
                        const float* src = image.data() + c * pixels;
                        const float* off = fudged.data() + c * pixels;
                        float* out = dst + c * pixels;
                        for (std::size_t p = 0; p < pixels; ++p) out[p] = pixel_on[p] != 0 ? src[p] : off[p];
                    }
                }
                const Scores logits = detail::checked_forward(model_, batch, where);
                const Scores s = scores_of_kind(logits, options_.score);
                std::copy(s.begin(), s.end(), samples.scores.begin() + static_cast<std::ptrdiff_t>(begin * k));
                if (samples.function != nullptr)
                    for (std::size_t i = begin; i < end; ++i)
                        samples.function_scores[i] = static_cast<float>(samples.function->score(
                            std::span<const float>(logits.data() + (i - begin) * k, k)));
            });
            detail::report(progress, done_before + std::min(n, first_new + (first + round) * batch_size), total, "samples");
        }
        samples.count = n;
    }

    /// The design matrix (the first n samples' bits) and the proximity weights: cosine distance
    /// to the all-on sample, kernel √exp(−d²/w²).
    void design(const Samples& samples, std::size_t n, std::size_t d, Eigen::MatrixXd& X, Eigen::VectorXd& weights) const {
        X.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
        weights.resize(static_cast<Eigen::Index>(n));
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t count = 0;
            for (std::size_t s = 0; s < d; ++s) {
                const std::uint8_t bit = samples.on[i * d + s];
                X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(s)) = bit;
                count += bit;
            }
            const double distance = count == 0 ? 1.0 : 1.0 - std::sqrt(static_cast<double>(count) / static_cast<double>(d));
            weights[static_cast<Eigen::Index>(i)] =
                std::sqrt(std::exp(-distance * distance / (options_.kernel_width * options_.kernel_width)));
        }
    }

    /// The surrogate of class `label` on the first n samples (lime's feature selection, then the
    /// ridge); `covariance`, when given, receives the sandwich covariance of its d weights
    /// (zero rows and columns for unselected superpixels).
    LimeSurrogate surrogate(const Samples& samples, std::size_t n, std::size_t d, std::size_t num_features,
                            const Eigen::MatrixXd& X, const Eigen::VectorXd& weights, std::size_t label,
                            Eigen::MatrixXd* covariance = nullptr) const {
        // Label k is the target function's value (Samples), reported as its class.
        const std::size_t k = model_.num_classes();
        const bool function = label == k;
        Eigen::VectorXd y(static_cast<Eigen::Index>(n));
        for (std::size_t i = 0; i < n; ++i)
            y[static_cast<Eigen::Index>(i)] = function ? samples.function_scores[i] : samples.scores[i * k + label];
        const std::vector<std::size_t> used = detail::select_features(X, y, weights, num_features, options_.feature_selection);
        Eigen::MatrixXd Xu(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(used.size()));
        for (std::size_t j = 0; j < used.size(); ++j)
            Xu.col(static_cast<Eigen::Index>(j)) = X.col(static_cast<Eigen::Index>(used[j]));
        const detail::WeightedLinearFit<double> fit = detail::weighted_ridge(Xu, y, weights, options_.ridge_alpha);
        LimeSurrogate e;
        e.target = function ? samples.function_target : label;
        e.weights.assign(d, 0.0);
        for (std::size_t j = 0; j < used.size(); ++j) e.weights[used[j]] = fit.coef[static_cast<Eigen::Index>(j)];
        e.features = used;
        std::stable_sort(e.features.begin(), e.features.end(),
                         [&](std::size_t a, std::size_t b) { return std::abs(e.weights[a]) > std::abs(e.weights[b]); });
        e.intercept = fit.intercept;
        e.r2 = fit.r2;
        e.local_prediction = fit.intercept + (Xu.row(0) * fit.coef)(0);
        e.model_prediction = function ? samples.function_scores[0] : samples.scores[label];
        if (covariance != nullptr) {
            const Eigen::MatrixXd c = detail::weighted_ridge_covariance(Xu, y, weights, options_.ridge_alpha, fit);
            *covariance = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(d));
            for (std::size_t a = 0; a < used.size(); ++a)
                for (std::size_t b = 0; b < used.size(); ++b)
                    (*covariance)(static_cast<Eigen::Index>(used[a]), static_cast<Eigen::Index>(used[b])) =
                        c(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b));
        }
        return e;
    }

    /// The surrogates of one image: the target's first, then the top labels (or exactly
    /// `classes` when given), on num_samples samples or, with adaptive, on as many as the
    /// top-k test needs. Progress reports add `done_before` and count up to `total`.
    Fitted fit(const Image& image, const Segmentation& segmentation, std::size_t target,
               const detail::AnyTargetFunction* function, const std::vector<std::size_t>* classes, std::uint64_t seed, const Progress& progress,
               std::size_t done_before, std::size_t total, const char* where) const {
        require_segmentation(segmentation, image.shape(1), image.shape(2), where);
        const std::size_t d = segmentation.count;
        const std::size_t num_features = options_.num_features == 0 ? d : options_.num_features;
        detail::require(num_features <= d, where, ": num_features is ", options_.num_features,
                        " but the segmentation has only ", d, " superpixels, expected num_features <= ", d,
                        " (or 0 for all)");
        const std::size_t ceiling = options_.num_samples;
        require_fittable(ceiling, d, num_features, where);
        const std::size_t k = model_.num_classes();
        const Image fudged = options_.baseline.for_image(image, where, &segmentation);

        Fitted out;
        Samples samples;
        samples.function = function;
        samples.function_target = target;
        // The target's surrogate: of class `target`, or of the target function's value (label k).
        const std::size_t explained = function != nullptr ? k : target;
        Eigen::MatrixXd X;
        Eigen::VectorXd weights;
        const LimeAdaptiveOptions& adaptive = options_.adaptive;
        std::size_t n = ceiling;
        if (adaptive.enabled) {
            // S-LIME's loop: test the top-k boundary, grow the sample by (z_α / z)², repeat.
            const double critical = detail::normal_quantile(1.0 - adaptive.alpha);
            n = std::min(ceiling, adaptive.initial_samples != 0 ? adaptive.initial_samples
                                                                : std::max<std::size_t>(2 * (d + 1), 100));
            n = std::max(n, std::min(ceiling, d + 1));
            for (;;) {
                extend(samples, n, image, fudged, segmentation, seed, progress, done_before, total, where);
                design(samples, n, d, X, weights);
                Eigen::MatrixXd covariance;
                const LimeSurrogate s = surrogate(samples, n, d, num_features, X, weights, explained, &covariance);
                const std::vector<std::size_t> top = detail::lime_top_features(s, adaptive.top_k, adaptive.sign);
                out.selection_z = detail::top_k_boundary_z(s.weights, covariance, top, adaptive.sign);
                if (out.selection_z >= critical) {
                    out.converged = true;
                    break;
                }
                if (n == ceiling) break;
                const double z = out.selection_z;
                const double wanted = z > 0.0 ? static_cast<double>(n) * (critical / z) * (critical / z) : 2.0 * n;
                // at least +25% and at most ×4 per round, never past the ceiling
                const double next = std::clamp(wanted, 1.25 * static_cast<double>(n), 4.0 * static_cast<double>(n));
                n = std::min(ceiling, static_cast<std::size_t>(std::ceil(next)));
            }
        } else {
            extend(samples, n, image, fudged, segmentation, seed, progress, done_before, total, where);
            design(samples, n, d, X, weights);
        }
        out.samples = n;

        // The classes to fit: the target, then the other top labels by the image's score
        // (sample 0 is the image itself), best first.
        std::vector<std::size_t> fitted;
        if (classes != nullptr) {
            fitted = *classes;
            if (function != nullptr && !fitted.empty()) fitted.front() = explained;
        } else {
            fitted.push_back(explained);
            const float* original = samples.scores.data();
            std::vector<std::size_t> order(k);
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return original[a] > original[b]; });
            order.resize(std::min(options_.top_labels, k));
            for (std::size_t c : order)
                if (c != target) fitted.push_back(c);
        }
        for (std::size_t label : fitted) out.surrogates.push_back(surrogate(samples, n, d, num_features, X, weights, label));
        return out;
    }

    const Model& model_;
    LimeOptions options_;
    Segmenter segmenter_;
};

}  // namespace xai
