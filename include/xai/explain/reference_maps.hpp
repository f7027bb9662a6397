#pragma once
// Reference maps: explainers that do not look at the model's reasoning at all, the floors every
// evaluation of saliency methods needs (docs/benchmark.md). A method that scores no better than
// these on a metric has not shown anything on that metric.
//
//   RandomMap        raw(p) ~ U[0, 1), independently per pixel, from Rng::stream(seed, i) for
//                    image i of the batch: the chance level of deletion, insertion and the
//                    pointing game (Petsiuk et al. 2018 and Zhang et al. 2018 report it)
//   CentreGaussian   raw(y, x) = exp(−((y − c_y)² + (x − c_x)²) / 2σ²), the image's centre
//                    c = ((H − 1)/2, (W − 1)/2) and σ = sigma · min(H, W): the centre bias of
//                    photographs (objects sit near the middle), which any map gets for free
//
// Both are explainers like the others (core/explainer.hpp): the core's targets, scores and
// logits come from one forward pass of the model; raw is the reference map, maps its display
// (ReLU, min-max per image). Neither depends on the model's weights, so the sanity check by
// cascading randomization (metrics/sanity_check.hpp) finds ρ = 1 for both: the maps a method
// must not resemble.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/masking.hpp"

namespace xai {

/// Options of RandomMap.
struct RandomMapOptions {
    std::uint64_t seed = 1;  ///< image i of a batch draws from Rng::stream(seed, i)
    ScoreKind score = ScoreKind::probability;  ///< the kind of the reported scores
};

/// Options of CentreGaussian.
struct CentreGaussianOptions {
    double sigma = 0.25;  ///< σ as a fraction of the shorter side, > 0 (0.25: the map falls to e^-8 at the border)
    ScoreKind score = ScoreKind::probability;  ///< the kind of the reported scores
};

namespace detail {

/// The core fields of a reference explanation: targets, scores and logits from one forward pass.
template <Classifier M>
Explanation reference_core(const M& model, const Batch& images, const Targets& targets, ScoreKind kind,
                           const char* where) {
    require_explainable(model, images, where);
    Explanation out;
    out.logits = checked_forward(model, images, where);
    out.targets = resolve_targets(targets, out.logits, where);
    out.score_kind = kind;
    const Scores s = scores_of_kind(out.logits, kind);
    for (std::size_t i = 0; i < out.targets.size(); ++i) out.scores.push_back(s(i, out.targets[i]));
    return out;
}

/// A reference explanation whose map is the same for every image: value(dy, dx) at each pixel,
/// dy and dx its offsets from the image's centre ((H − 1)/2, (W − 1)/2), computed once and copied.
template <Classifier M, class Value>
Explanation centred_reference(const M& model, const Batch& images, const Targets& targets, ScoreKind kind,
                              const Progress& progress, const char* where, Value value) {
    Explanation out = reference_core(model, images, targets, kind, where);
    const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
    const double cy = (static_cast<double>(h) - 1.0) / 2.0, cx = (static_cast<double>(w) - 1.0) / 2.0;
    out.raw = Maps::from_shape({n, h, w});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            out.raw(0, y, x) = static_cast<float>(value(static_cast<double>(y) - cy, static_cast<double>(x) - cx));
    for (std::size_t i = 1; i < n; ++i) std::copy_n(out.raw.data(), h * w, out.raw.data() + i * h * w);
    out.maps = positive_display_maps(out.raw);
    report(progress, n, n, "images");
    return out;
}

}  // namespace detail

/// Uniform random maps: the chance level of every metric (see the header). Holds a pointer to
/// the model (for the core's targets and scores), which must outlive it.
template <Classifier Model>
class RandomMap {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    RandomMap(const Model&&, RandomMapOptions = {}) = delete;
    /// Random maps for `model`'s inputs.
    explicit RandomMap(const Model& model, RandomMapOptions options = {}) : model_(&model), options_(options) {}

    /// The options the explainer was built with.
    const RandomMapOptions& options() const { return options_; }

    /// One random map per image (image i from Rng::stream(seed, i)); progress is called once.
    template <std::same_as<Batch> B>
    Explanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        Explanation out = detail::reference_core(*model_, images, targets, options_.score, "xai::RandomMap::explain()");
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        out.raw = Maps::from_shape({n, h, w});
        for (std::size_t i = 0; i < n; ++i) {
            Rng rng = Rng::stream(options_.seed, i);
            float* map = out.raw.data() + i * h * w;
            for (std::size_t p = 0; p < h * w; ++p) map[p] = rng.uniform_float();
        }
        out.maps = detail::positive_display_maps(out.raw);
        detail::report(progress, n, n, "images");
        return out;
    }

    /// One image (C×H×W): explain() on a batch of one, i.e. the map of Rng::stream(seed, 0).
    template <std::same_as<Image> I>
    Explanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, "xai::RandomMap::explain()"), Targets{target}, progress);
    }

private:
    const Model* model_;
    RandomMapOptions options_;
};

/// A Gaussian around the image's centre: the centre bias any map gets for free (see the header).
/// Holds a pointer to the model (for the core's targets and scores), which must outlive it.
template <Classifier Model>
class CentreGaussian {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    CentreGaussian(const Model&&, CentreGaussianOptions = {}) = delete;
    /// Centred Gaussians for `model`'s inputs; invalid_argument unless sigma is finite and > 0.
    explicit CentreGaussian(const Model& model, CentreGaussianOptions options = {}) : model_(&model), options_(options) {
        detail::require(std::isfinite(options_.sigma) && options_.sigma > 0.0, "xai::CentreGaussian::CentreGaussian(): "
                        "sigma is ", options_.sigma, ", expected a finite fraction of the shorter side > 0");
    }

    /// The options the explainer was built with.
    const CentreGaussianOptions& options() const { return options_; }

    /// The same centred Gaussian for every image; progress is called once.
    template <std::same_as<Batch> B>
    Explanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const double sigma = options_.sigma * static_cast<double>(std::min(images.shape(2), images.shape(3)));
        return detail::centred_reference(*model_, images, targets, options_.score, progress,
                                         "xai::CentreGaussian::explain()", [sigma](double dy, double dx) {
                                             return std::exp(-(dy * dy + dx * dx) / (2.0 * sigma * sigma));
                                         });
    }

    /// One image (C×H×W): explain() on a batch of one.
    template <std::same_as<Image> I>
    Explanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, "xai::CentreGaussian::explain()"), Targets{target}, progress);
    }

private:
    const Model* model_;
    CentreGaussianOptions options_;
};

}  // namespace xai
