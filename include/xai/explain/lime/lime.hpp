#pragma once
// LIME for images: Ribeiro, Singh, Guestrin, "'Why Should I Trust You?': Explaining the
// Predictions of Any Classifier", KDD 2016, as the reference lime package's LimeImageExplainer
// implements it (lime_image.py, lime_base.py).
//
// For an image x split into d superpixels, LIME samples binary vectors z ∈ {0,1}^d (z_0 = all
// ones, the others with every superpixel on with probability ½), renders each as an image in
// which the "off" superpixels take a hiding colour, scores the renders with the black box
// f (probabilities by default), weights each sample by its proximity to x,
//   π(z) = √(exp(−D(z, 1)² / w²)),   D = cosine distance = 1 − ‖z‖₁/√(‖z‖₁·d)   (w = 0.25),
// and fits, per explained class c, a weighted ridge regression g(z) = b + Σ_s β_s z_s to f_c
// (explain/lime_regression.hpp: ridge α = 1, weighted R², lime's feature-selection methods).
// The explanation of class c is β (one weight per superpixel), b, the weighted R² of g, and
// g(z_0) = b + Σ β_s, the surrogate's prediction for the image itself (compare it with f_c(x)).
//
// Defaults and where they come from (LimeOptions):
//   num_samples 1000            lime explain_instance(num_samples=1000)
//   kernel_width 0.25           LimeImageExplainer(kernel_width=.25), kernel √(exp(−d²/w²))
//   ridge_alpha 1               lime_base: Ridge(alpha=1, fit_intercept=True)
//   feature_selection automatic LimeImageExplainer(feature_selection='auto')
//   num_features 0 = all        lime: num_features=100000, i.e. every superpixel
//   top_labels 5                lime: top_labels=5 (used when no targets are given)
//   hide_color segment mean     lime: hide_color=None, which fills each superpixel with its mean colour
//   segmentation Quickshift     lime: SegmentationAlgorithm('quickshift', kernel_size=4, max_dist=200, ratio=0.2)
//   score probability           lime's classifier_fn returns probabilities: softmax of the logits
//   batch_size 100              lime: 10; larger batches cost nothing in results and save overhead
// Segmentation is a policy: quick shift by default because that is lime's (so explanations agree
// with the Python tool); Slic is about 3× faster (docs/superpixels.md) and GridSegmenter is colour-blind.
// A precomputed Segmentation can be passed to explain() instead.
//
// Determinism: sample i draws its bits from Rng::stream(seed, i), so the same seed gives the
// same explanation bit for bit with any thread count and batch size. Batches of samples are
// rendered and scored on up to `threads` threads (the model's forward pass is const and
// thread-safe by the Classifier concept); progress is reported after each round of batches.
//
// Beyond the reference: stability() repeats the explanation with several seeds and reports, per
// superpixel, the mean and standard deviation of its weight and the Jaccard agreement of the
// top-k sets, so a user sees when the answer depends on the random samples.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings inside Eigen
#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/lime_regression.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/segments.hpp"
#include "xai/image/superpixels.hpp"

namespace xai {

/// What an "off" superpixel shows: its own mean colour (lime's hide_color=None, the default) or
/// a fixed value per channel (lime's hide_color=v; one value is used for every channel).
struct HideColor {
    bool segment_mean = true;  ///< true: each superpixel's own mean colour (then `value` is unused)
    std::vector<float> value;  ///< the fixed colour: 1 value for every channel, or one per channel

    /// Each superpixel's mean colour (lime's hide_color=None, the default).
    static HideColor mean_of_segment() { return {}; }
    /// A fixed colour, one value per channel of the image.
    static HideColor fixed(std::vector<float> per_channel) { return {false, std::move(per_channel)}; }
    /// A fixed value for every channel (lime's hide_color=v).
    static HideColor fixed(float v) { return {false, {v}}; }
};

/// The largest LimeOptions::num_samples accepted: 2^24, whose design matrix for 100 superpixels
/// is 13 GiB of doubles.
inline constexpr std::size_t max_lime_samples = std::size_t{1} << 24;

/// Options of Lime; every default is the reference lime package's (see the header).
struct LimeOptions {
    std::size_t num_samples = 1000;   ///< perturbed samples, the first is the image itself (>= 1)
    std::size_t batch_size = 100;     ///< samples per forward pass (lime: 10)
    double kernel_width = 0.25;       ///< w of the kernel √(exp(−d²/w²)) on the cosine distance
    double ridge_alpha = 1.0;         ///< α of the surrogate's ridge penalty
    FeatureSelection feature_selection = FeatureSelection::automatic;  ///< lime's feature_selection='auto'
    std::size_t num_features = 0;     ///< superpixels in the surrogate; 0 = all (lime's 100000)
    std::size_t top_labels = 5;       ///< classes explained when no targets are given, best first
    HideColor hide_color;             ///< default: each superpixel's mean colour
    ScoreKind score = ScoreKind::probability;  ///< the score regressed: lime's classifier_fn returns probabilities
    std::uint64_t seed = 0;           ///< sample i uses Rng::stream(seed, i)
    std::size_t threads = 0;          ///< threads rendering and scoring batches; 0 = all
    Progress progress;        ///< samples scored so far / num_samples, after each round
};

/// The surrogate of one explained class.
struct LimeLabelExplanation {
    std::size_t label = 0;              ///< the class explained
    std::vector<double> weights;        ///< β_s per superpixel (0 for superpixels not selected)
    std::vector<std::size_t> features;  ///< the selected superpixels by decreasing |β_s| (lime's local_exp order)
    double intercept = 0.0;             ///< b
    double score = 0.0;                 ///< weighted R² of the surrogate (lime's `score`)
    double local_prediction = 0.0;      ///< g(all on) = b + Σ β_s (lime's `local_pred`)
    double model_prediction = 0.0;      ///< f_c(x), the black box's score for the image itself
};

/// A LIME explanation of one image.
struct LimeExplanation {
    Segmentation segmentation;                 ///< the superpixels the weights refer to
    std::vector<LimeLabelExplanation> labels;  ///< in the order requested (top labels: best first)
    std::size_t num_samples = 0;               ///< perturbed samples scored (LimeOptions::num_samples)

    /// The explanation of class `label`; throws invalid_argument if it was not explained.
    const LimeLabelExplanation& for_label(std::size_t label) const {
        for (const auto& l : labels)
            if (l.label == label) return l;
        throw invalid_argument(detail::message("xai::LimeExplanation::for_label(): class ", label,
                                               " was not explained"));
    }
};

/// Options of Lime::stability().
struct LimeStabilityOptions {
    std::size_t repeats = 5;     ///< explanations with different seeds (>= 2)
    std::size_t top_k = 5;       ///< size of the compared top sets (lime's get_image_and_mask: num_features=5)
    bool positive_only = true;   ///< compare the top-k positive superpixels (lime's default view) or top |β|
};

/// Spread of one class's explanation over repeated seeds.
struct LimeLabelStability {
    std::size_t label = 0;             ///< the class
    std::vector<double> mean_weight;   ///< per superpixel, over the repeats
    std::vector<double> weight_std;    ///< per superpixel, sample standard deviation over the repeats
    std::vector<std::vector<std::size_t>> top_sets;  ///< the top-k set of each repeat
    double mean_jaccard = 1.0;         ///< mean over pairs of repeats of |A∩B| / |A∪B|
    double min_jaccard = 1.0;          ///< the worst pair
    double mean_score = 0.0;           ///< mean weighted R² over the repeats
};

/// The result of Lime::stability().
struct LimeStability {
    std::vector<LimeExplanation> runs;        ///< run 0 uses the options' seed (= explain())
    std::vector<std::uint64_t> seeds;         ///< the seed of each run
    std::vector<LimeLabelStability> labels;   ///< per explained class
};

namespace detail {

/// The top-k superpixels of a class explanation: positive weights only, or by |weight|; in
/// lime's order (decreasing |β| among the selected features).
inline std::vector<std::size_t> lime_top_features(const LimeLabelExplanation& e, std::size_t k, bool positive_only) {
    std::vector<std::size_t> top;
    for (std::size_t f : e.features) {
        if (top.size() == k) break;
        if (!positive_only || e.weights[f] > 0.0) top.push_back(f);
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
    /// Throws invalid_argument for num_samples or batch_size 0, a non-positive kernel_width, a
    /// negative ridge_alpha or a fixed hide_color without a value.
    explicit Lime(const Model& model, LimeOptions options = {}, Segmenter segmenter = {})
        : model_(model), options_(std::move(options)), segmenter_(std::move(segmenter)) {
        constexpr const char* where = "xai::Lime::Lime()";
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
        detail::require(options_.hide_color.segment_mean || !options_.hide_color.value.empty(), where,
                        ": hide_color is fixed but has no value, expected 1 or C values");
    }

    /// The explainer keeps a reference to the model: a temporary would dangle.
    Lime(const Model&&, LimeOptions = {}, Segmenter = {}) = delete;

    /// The options the explainer was built with.
    const LimeOptions& options() const { return options_; }

    /// Explains `image` (C×H×W, the model's input shape) for the given classes; no targets means
    /// the top_labels classes of the model's score, best first. Segments with the policy.
    LimeExplanation explain(const Image& image, const Targets& targets = {}) const {
        detail::require_rank(image, 3, "xai::Lime::explain(): image", "C×H×W");
        require_input(image);
        return explain(image, segmenter_(image), targets);
    }

    /// Explains `image` on a given segmentation (H×W labels 0..n−1).
    LimeExplanation explain(const Image& image, const Segmentation& segmentation, const Targets& targets = {}) const {
        return explain_with_seed(image, segmentation, targets, options_.seed);
    }

    /// Repeats the explanation with `options.repeats` seeds (the first is the options' seed) on the
    /// same segmentation and the same classes, and reports how much each weight and the top-k
    /// sets move.
    LimeStability stability(const Image& image, const LimeStabilityOptions& options = {}, const Targets& targets = {}) const {
        constexpr const char* where = "xai::Lime::stability()";
        detail::require(options.repeats >= 2, where, ": repeats is ", options.repeats, ", expected at least 2");
        detail::require(options.top_k >= 1, where, ": top_k is 0, expected at least 1");
        detail::require_rank(image, 3, "xai::Lime::stability(): image", "C×H×W");
        require_input(image);
        const Segmentation segmentation = segmenter_(image);
        LimeStability out;
        for (std::size_t r = 0; r < options.repeats; ++r) {
            const std::uint64_t seed = r == 0 ? options_.seed : Rng::stream(options_.seed, r)();
            Targets fixed = targets;
            if (r > 0) {  // the same classes as run 0, even when run 0 chose them
                fixed.clear();
                for (const auto& l : out.runs.front().labels) fixed.push_back(Target::class_index(l.label));
            }
            out.seeds.push_back(seed);
            out.runs.push_back(explain_with_seed(image, segmentation, fixed, seed));
        }
        const std::size_t d = segmentation.count;
        const auto repeats = static_cast<double>(options.repeats);
        for (std::size_t c = 0; c < out.runs.front().labels.size(); ++c) {
            LimeLabelStability s;
            s.label = out.runs.front().labels[c].label;
            s.mean_weight.assign(d, 0.0);
            s.weight_std.assign(d, 0.0);
            for (const auto& run : out.runs) {
                const LimeLabelExplanation& e = run.labels[c];
                for (std::size_t j = 0; j < d; ++j) s.mean_weight[j] += e.weights[j] / repeats;
                s.mean_score += e.score / repeats;
                s.top_sets.push_back(detail::lime_top_features(e, options.top_k, options.positive_only));
            }
            for (const auto& run : out.runs)
                for (std::size_t j = 0; j < d; ++j) {
                    const double diff = run.labels[c].weights[j] - s.mean_weight[j];
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
            out.labels.push_back(std::move(s));
        }
        return out;
    }

private:
    void require_input(const Image& image) const {
        const ImageShape expected = model_.input_shape();
        detail::require<shape_error>(image_shape(image) == expected, "xai::Lime::explain(): image is ",
                                     to_string(image_shape(image)), ", the model expects ", to_string(expected),
                                     " (C×H×W)");
        if (!all_finite(image))
            throw invalid_argument("xai::Lime::explain(): image contains NaN or Inf, expected finite pixel values");
    }

    /// The image each "off" superpixel is replaced by (C×H×W).
    Image hidden_image(const Image& image, const Segmentation& segmentation) const {
        const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
        Image fudged = Image::from_shape(image.shape());
        if (options_.hide_color.segment_mean) {
            const auto mean = segment_mean_colors(image, segmentation);
            const std::int32_t* labels = segmentation.labels.data();
            for (std::size_t c = 0; c < channels; ++c)
                for (std::size_t p = 0; p < pixels; ++p)
                    fudged.data()[c * pixels + p] = static_cast<float>(mean[static_cast<std::size_t>(labels[p])][c]);
            return fudged;
        }
        const auto& value = options_.hide_color.value;
        detail::require(value.size() == 1 || value.size() == channels, "xai::Lime::explain(): hide_color has ",
                        value.size(), " values, expected 1 or the image's ", channels, " channels");
        for (std::size_t c = 0; c < channels; ++c)
            std::fill_n(fudged.data() + c * pixels, pixels, value.size() == 1 ? value[0] : value[c]);
        return fudged;
    }

    LimeExplanation explain_with_seed(const Image& image, const Segmentation& segmentation, const Targets& targets,
                                      std::uint64_t seed) const {
        constexpr const char* where = "xai::Lime::explain()";
        detail::require_rank(image, 3, "xai::Lime::explain(): image", "C×H×W");
        require_input(image);
        require_segmentation(segmentation, image.shape(1), image.shape(2), where);
        const std::size_t d = segmentation.count;
        const std::size_t num_features = options_.num_features == 0 ? d : options_.num_features;
        detail::require(num_features <= d, where, ": num_features is ", options_.num_features,
                        " but the segmentation has only ", d, " superpixels, expected num_features <= ", d,
                        " (or 0 for all)");
        const std::size_t n = options_.num_samples;
        const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
        const std::size_t k = model_.num_classes();
        detail::require(!targets.empty() || options_.top_labels > 0, where,
                        ": top_labels is 0 and no targets are given, expected classes to explain");
        for (const Target& t : targets)
            if (!t.is_predicted())
                detail::require(t.index() < k, where, ": target class ", t.index(),
                                " is out of range, expected a class index below ", k);

        // 1. the samples z (row 0 all on), each from its own random stream
        std::vector<std::uint8_t> on(n * d, 1);
        parallel_for(n - 1, options_.threads, [&](std::size_t i) {
            Rng rng = Rng::stream(seed, i + 1);
            std::uint8_t* row = on.data() + (i + 1) * d;
            std::uint64_t bits = 0;
            for (std::size_t s = 0; s < d; ++s) {
                if (s % 64 == 0) bits = rng();
                row[s] = static_cast<std::uint8_t>((bits >> (s % 64)) & 1U);
            }
        });

        // 2. render and score them, batch by batch
        const Image fudged = hidden_image(image, segmentation);
        const std::int32_t* labels = segmentation.labels.data();
        Scores scores = Scores::from_shape({n, k});
        // Batches in flight at once (one per thread) share the memory bound of masking.hpp.
        const std::size_t per_round = std::max<std::size_t>(1, resolve_threads(options_.threads));
        const std::size_t batch_size = detail::batch_within_memory(options_.batch_size, image_shape(image), 0, per_round);
        const std::size_t batches = detail::ceil_div(n, batch_size);
        for (std::size_t first = 0; first < batches; first += per_round) {
            const std::size_t round = std::min(per_round, batches - first);
            parallel_for(round, round, [&](std::size_t r) {
                const std::size_t b = first + r;
                const std::size_t begin = b * batch_size, end = std::min(n, begin + batch_size);
                Batch batch = Batch::from_shape({end - begin, channels, image.shape(1), image.shape(2)});
                std::vector<std::uint8_t> pixel_on(pixels);
                for (std::size_t i = begin; i < end; ++i) {
                    const std::uint8_t* z = on.data() + i * d;
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
                std::copy(s.begin(), s.end(), scores.begin() + static_cast<std::ptrdiff_t>(begin * k));
            });
            detail::report(options_.progress, std::min(n, (first + round) * batch_size), n, "samples");
        }

        // 3. proximity weights: cosine distance to the all-on sample, kernel √exp(−d²/w²)
        Eigen::MatrixXd X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
        Eigen::VectorXd weights(static_cast<Eigen::Index>(n));
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t count = 0;
            for (std::size_t s = 0; s < d; ++s) {
                const std::uint8_t bit = on[i * d + s];
                X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(s)) = bit;
                count += bit;
            }
            const double distance = count == 0 ? 1.0 : 1.0 - std::sqrt(static_cast<double>(count) / static_cast<double>(d));
            weights[static_cast<Eigen::Index>(i)] =
                std::sqrt(std::exp(-distance * distance / (options_.kernel_width * options_.kernel_width)));
        }

        // 4. the classes to explain
        std::vector<std::size_t> classes;
        const float* original = scores.data();
        if (targets.empty()) {
            std::vector<std::size_t> order(k);
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return original[a] > original[b]; });
            order.resize(std::min(options_.top_labels, k));
            classes = order;
        } else {
            const std::size_t predicted =
                static_cast<std::size_t>(std::max_element(original, original + k) - original);
            for (const Target& t : targets) classes.push_back(t.is_predicted() ? predicted : t.index());
        }

        // 5. one surrogate per class
        LimeExplanation out;
        out.segmentation = segmentation;
        out.num_samples = n;
        for (std::size_t label : classes) {
            Eigen::VectorXd y(static_cast<Eigen::Index>(n));
            for (std::size_t i = 0; i < n; ++i) y[static_cast<Eigen::Index>(i)] = scores(i, label);
            const std::vector<std::size_t> used = select_features(X, y, weights, num_features, options_.feature_selection);
            Eigen::MatrixXd Xu(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(used.size()));
            for (std::size_t j = 0; j < used.size(); ++j)
                Xu.col(static_cast<Eigen::Index>(j)) = X.col(static_cast<Eigen::Index>(used[j]));
            const WeightedLinearFit fit = weighted_ridge(Xu, y, weights, options_.ridge_alpha);
            LimeLabelExplanation e;
            e.label = label;
            e.weights.assign(d, 0.0);
            for (std::size_t j = 0; j < used.size(); ++j) e.weights[used[j]] = fit.coef[static_cast<Eigen::Index>(j)];
            e.features = used;
            std::stable_sort(e.features.begin(), e.features.end(),
                             [&](std::size_t a, std::size_t b) { return std::abs(e.weights[a]) > std::abs(e.weights[b]); });
            e.intercept = fit.intercept;
            e.score = fit.score;
            e.local_prediction = fit.intercept + (Xu.row(0) * fit.coef)(0);
            e.model_prediction = scores(0, label);
            out.labels.push_back(std::move(e));
        }
        return out;
    }

    const Model& model_;
    LimeOptions options_;
    Segmenter segmenter_;
};

}  // namespace xai
