#pragma once
// Deep Feature Factorization: the concepts a layer's activations are made of.
//
// Collins, Achanta & Süsstrunk, "Deep Feature Factorization For Concept Discovery", ECCV 2018:
// a layer's activations A (C channels × h·w positions) are factorized by non-negative matrix
// factorization A ≈ W H into k concepts: column c of W (C values) is concept c in channel space,
// row c of H (h·w values) is where it is. Conventions of pytorch-grad-cam's
// DeepFeatureFactorization (feature_factorization/deep_feature_factorization.py, `dff` and
// `run_dff_on_image`): each channel's minimum over the positions is subtracted first (the offset,
// so that A − offset ≥ 0) and added back to the concepts (W + offset); each concept's heat map is
// min-max scaled, (H_c − min) / (max + 1e-7) (scale_cam_image), and resized bilinearly to the
// input's size; the concepts are labelled by the model's head: the softmax of the logits the
// network gives an activation map that carries the concept at every position
// (forward_from(layer, ·); on a GAP + linear head this is the reference's classifier applied to
// the concept vector, exactly), and each concept's top class is the arg-max.
// The NMF is Lee & Seung's multiplicative updates from a seeded random start (detail/nmf.hpp).
//
// One difference: the reference factorizes a whole batch jointly (concepts shared by its
// images); here each image is factorized on its own, so an image's result does not depend on
// the batch it is in (the library's rule). For a single image, as run_dff_on_image, they agree.
//
// The core fields explain the target: raw is the heat map (h×w, H's row, unscaled) of the
// concept whose head probability for the target class is highest, maps its scaled map at the
// input's size. factorization_picture() draws every pixel in the colour of its strongest concept
// with a legend strip (pytorch-grad-cam's show_factorization_on_image).
// Cost: one forward pass of the batch, k forward passes of the head per image, and the NMF
// (O(iterations · C·h·w·k)).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/eigen.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/nmf.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// Options of DeepFeatureFactorization; defaults from pytorch-grad-cam and scikit-learn's NMF.
struct DffOptions {
    std::string layer{};                ///< the layer factorized; empty = default_layer(model)
    std::size_t components = 5;         ///< k concepts (pytorch-grad-cam's run_dff_on_image: n_components=5)
    std::size_t max_iterations = 200;   ///< NMF iterations at most (scikit-learn's max_iter)
    double tolerance = 1e-4;            ///< stop when the objective falls by less than this fraction (scikit-learn's tol)
    std::uint64_t seed = 0;             ///< the NMF's random start (pytorch-grad-cam's random_state=0)
    std::size_t threads = 0;            ///< threads over the images (0 = all cores)
};

/// Deep Feature Factorization's result: the core (the target's strongest concept) and every concept.
struct DffResult : Explanation {
    std::string layer;                          ///< the layer factorized
    xt::xtensor<float, 3> concepts;             ///< N×C×k: each image's concepts in channel space (W + offset)
    xt::xtensor<float, 4> concept_maps;         ///< N×k×H×W: each concept's scaled heat map at the input's size
    xt::xtensor<float, 3> concept_scores;       ///< N×k×K: softmax of the head's logits on each concept
    std::vector<std::vector<std::size_t>> concept_classes;  ///< N×k: each concept's top class
    xt::xtensor<std::int32_t, 3> assignment;    ///< N×H×W: the concept with the largest scaled map at each pixel
    std::vector<std::size_t> nmf_iterations;    ///< N: the NMF iterations run
};

namespace detail {

/// model.forward_from(layer, activations) for `rows` activation maps, checked: rows × K, finite.
template <LayerForwardModel M>
Scores checked_forward_from(const M& model, const std::string& layer, const Activations& activations, std::size_t rows,
                            const char* where) {
    Scores s = model.forward_from(layer, activations);
    require_model_scores(s, rows, model.num_classes(), where);
    return s;
}

}  // namespace detail

/// Deep Feature Factorization (Collins et al., ECCV 2018) on a LayerForwardModel (see the header
/// comment). Holds a pointer to the model, which must outlive it; explain() is const and thread-safe.
template <LayerForwardModel Model>
class DeepFeatureFactorization {
public:
    /// The explainer's name in error messages ("xai::DeepFeatureFactorization::explain(): ...").
    static constexpr std::string_view name = "DeepFeatureFactorization";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    DeepFeatureFactorization(const Model&&, DffOptions = {}) = delete;
    /// Explains `model` at options.layer (empty: default_layer(model)); invalid_argument for an
    /// unknown layer, components or max_iterations 0, or a tolerance that is not finite and ≥ 0.
    explicit DeepFeatureFactorization(const Model& model, DffOptions options = {}) : model_(&model), options_(std::move(options)) {
        const std::string where = prefix(name);
        options_.layer = detail::resolve_layer(model, options_.layer, where.c_str());
        detail::require(options_.components >= 1, where, ": components is 0, expected at least 1");
        detail::require(options_.max_iterations >= 1, where, ": max_iterations is 0, expected at least 1");
        detail::require(std::isfinite(options_.tolerance) && options_.tolerance >= 0.0, where, ": tolerance is ",
                        options_.tolerance, ", expected a finite value >= 0");
    }

    /// The options, with the layer resolved.
    const DffOptions& options() const { return options_; }

    /// Factorizes each image's activations at options().layer (targets: empty = the predicted
    /// class, one = the same for all, else one per image; they choose the concept in maps and raw).
    /// `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    DffResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string w = prefix("explain");
        const char* where = w.c_str();
        detail::ResolvedLayerOutput r = detail::checked_layer_activations(*model_, batch, targets, options_.layer, where);
        const Activations& a = r.output.activations;
        detail::require<shape_error>(a.dimension() == 4, where, ": layer '", options_.layer, "' has activations of shape ",
                                     shape_string(a.shape()), ", expected N×C×h×w (a convolutional layer)");
        const std::size_t n = a.shape(0), c = a.shape(1), h = a.shape(2), wd = a.shape(3), pixels = h * wd;
        const std::size_t k = options_.components, classes = model_->num_classes();
        const std::size_t out_h = batch.shape(2), out_w = batch.shape(3);
        detail::require(k <= c, where, ": components is ", k, " but layer '", options_.layer, "' has ", c,
                        " channels, expected at most ", c);
        DffResult out;
        out.layer = options_.layer;
        out.targets = std::move(r.targets);
        out.logits = std::move(r.output.scores);
        out.concepts = xt::xtensor<float, 3>::from_shape({n, c, k});
        out.concept_maps = xt::xtensor<float, 4>::from_shape({n, k, out_h, out_w});
        out.concept_scores = xt::xtensor<float, 3>::from_shape({n, k, classes});
        out.concept_classes.assign(n, std::vector<std::size_t>(k));
        out.assignment = xt::xtensor<std::int32_t, 3>::from_shape({n, out_h, out_w});
        out.nmf_iterations.assign(n, 0);
        out.raw = Maps::from_shape({n, h, wd});
        out.maps = Maps::from_shape({n, out_h, out_w});
        parallel_for(n, options_.threads, [&](std::size_t i) {
            const float* ai = a.data() + i * c * pixels;
            Eigen::MatrixXd v(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(pixels));
            std::vector<double> offset(c);
            for (std::size_t ch = 0; ch < c; ++ch) {
                offset[ch] = *std::min_element(ai + ch * pixels, ai + (ch + 1) * pixels);
                for (std::size_t p = 0; p < pixels; ++p)
                    v(static_cast<Eigen::Index>(ch), static_cast<Eigen::Index>(p)) = ai[ch * pixels + p] - offset[ch];
            }
            const detail::NmfFactors<double> f = detail::nmf<double>(v, k, options_.max_iterations, options_.tolerance, options_.seed);
            out.nmf_iterations[i] = f.iterations;
            // The concepts in channel space, and the head's answer to each.
            Activations filled = Activations::from_shape({k, c, h, wd});
            for (std::size_t j = 0; j < k; ++j)
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const auto value = static_cast<float>(f.w(static_cast<Eigen::Index>(ch), static_cast<Eigen::Index>(j)) + offset[ch]);
                    out.concepts(i, ch, j) = value;
                    std::fill_n(filled.data() + (j * c + ch) * pixels, pixels, value);
                }
            const Scores head = softmax(detail::checked_forward_from(*model_, options_.layer, filled, k, where));
            for (std::size_t j = 0; j < k; ++j) {
                std::copy_n(head.data() + j * classes, classes, out.concept_scores.data() + (i * k + j) * classes);
                out.concept_classes[i][j] = static_cast<std::size_t>(
                    std::max_element(head.data() + j * classes, head.data() + (j + 1) * classes) - (head.data() + j * classes));
            }
            // Each concept's map: scale_cam_image (min-max with 1e-7), resized to the input.
            std::vector<float> plane(pixels), big(out_h * out_w);
            for (std::size_t j = 0; j < k; ++j) {
                for (std::size_t p = 0; p < pixels; ++p)
                    plane[p] = static_cast<float>(f.h(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(p)));
                const float lo = *std::min_element(plane.begin(), plane.end());
                for (float& x : plane) x -= lo;
                const float hi = *std::max_element(plane.begin(), plane.end());
                for (float& x : plane) x /= hi + 1e-7f;
                detail::resize_planes(plane.data(), 1, h, wd, big.data(), out_h, out_w, Interpolation::bilinear);
                std::copy(big.begin(), big.end(), out.concept_maps.data() + (i * k + j) * out_h * out_w);
            }
            for (std::size_t p = 0; p < out_h * out_w; ++p) {
                std::size_t best = 0;
                for (std::size_t j = 1; j < k; ++j)
                    if (out.concept_maps.data()[(i * k + j) * out_h * out_w + p] >
                        out.concept_maps.data()[(i * k + best) * out_h * out_w + p])
                        best = j;
                out.assignment.data()[i * out_h * out_w + p] = static_cast<std::int32_t>(best);
            }
            // The target's concept: the highest head probability for the target class.
            std::size_t chosen = 0;
            for (std::size_t j = 1; j < k; ++j)
                if (out.concept_scores(i, j, out.targets[i]) > out.concept_scores(i, chosen, out.targets[i])) chosen = j;
            for (std::size_t p = 0; p < pixels; ++p)
                out.raw.data()[i * pixels + p] = static_cast<float>(f.h(static_cast<Eigen::Index>(chosen), static_cast<Eigen::Index>(p)));
            std::copy_n(out.concept_maps.data() + (i * k + chosen) * out_h * out_w, out_h * out_w,
                        out.maps.data() + i * out_h * out_w);
        });
        out.score_kind = ScoreKind::logit;
        out.scores = detail::target_scores(out.logits, out.targets, ScoreKind::logit);
        detail::report(progress, n, n, "images");
        return out;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    DffResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

private:
    /// "xai::DeepFeatureFactorization::<function>()", the prefix of every error message.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    const Model* model_;
    DffOptions options_;
};

namespace detail {

/// The RGB colour of concept j of k: the hue j/k at full saturation and value.
inline void concept_colour(std::size_t j, std::size_t k, float rgb[3]) {
    const double hue = 6.0 * static_cast<double>(j) / static_cast<double>(k);
    const auto sector = static_cast<int>(hue) % 6;
    const auto f = static_cast<float>(hue - std::floor(hue));
    const float table[6][3] = {{1, f, 0}, {1 - f, 1, 0}, {0, 1, f}, {0, 1 - f, 1}, {f, 0, 1}, {1, 0, 1 - f}};
    std::copy_n(table[sector], 3, rgb);
}

}  // namespace detail

/// The factorization of image i as a picture (pytorch-grad-cam's show_factorization_on_image):
/// every pixel takes the colour of its strongest concept (assignment; hue j/k) scaled by that
/// concept's map, blended with the image as image·image_weight + colour·(1 − image_weight); below
/// it a legend strip of k swatches, concept 0 on the left (their top classes are
/// result.concept_classes[i]). `image` is C×H×W in [0, 1] (1 or 3 channels) at the maps' size.
inline Image factorization_picture(const Image& image, const DffResult& result, std::size_t i, float image_weight = 0.3f) {
    constexpr const char* where = "xai::factorization_picture()";
    const std::size_t k = result.concept_maps.shape(1), h = result.concept_maps.shape(2), w = result.concept_maps.shape(3);
    detail::require<shape_error>(i < result.concept_maps.shape(0), where, ": image index ", i, " is out of range, expected below ",
                                 result.concept_maps.shape(0));
    detail::require<shape_error>(image.dimension() == 3 && (image.shape(0) == 1 || image.shape(0) == 3) &&
                                     image.shape(1) == h && image.shape(2) == w,
                                 where, ": image has shape ", shape_string(image.shape()), ", expected [1 or 3, ", h, ", ", w, "]");
    detail::require(image_weight >= 0.0f && image_weight <= 1.0f, where, ": image_weight is ", image_weight,
                    ", expected a value in [0, 1]");
    const std::size_t swatch = std::max<std::size_t>(4, w / std::max<std::size_t>(k, 1) / 2), strip = swatch + 2;
    Image out = xt::ones<float>({std::size_t{3}, h + strip, w});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const std::size_t p = y * w + x;
            const auto j = static_cast<std::size_t>(result.assignment.data()[i * h * w + p]);
            const float e = result.concept_maps.data()[(i * k + j) * h * w + p];
            float rgb[3];
            detail::concept_colour(j, k, rgb);
            for (std::size_t ch = 0; ch < 3; ++ch) {
                const float pixel = image(image.shape(0) == 3 ? ch : 0, y, x);
                out(ch, y, x) = std::clamp(pixel * image_weight + rgb[ch] * e * (1.0f - image_weight), 0.0f, 1.0f);
            }
        }
    for (std::size_t j = 0; j < k; ++j) {
        float rgb[3];
        detail::concept_colour(j, k, rgb);
        for (std::size_t y = h + 1; y < h + 1 + swatch; ++y)
            for (std::size_t x = j * 2 * swatch; x < std::min(w, j * 2 * swatch + swatch); ++x)
                for (std::size_t ch = 0; ch < 3; ++ch) out(ch, y, x) = rgb[ch];
    }
    return out;
}

}  // namespace xai
