#pragma once
// Average Drop and Increase in Confidence — Chattopadhay, Sarkar, Howlader and Balasubramanian,
// "Grad-CAM++: Generalized Gradient-based Visual Explanations for Deep Convolutional
// Networks", WACV 2018, §5.2 (also the evaluation of Score-CAM, Wang et al. 2020, §5.1).
//
// The explanation map E^c of image i is multiplied point-wise into the image (every channel),
// and the model scores the result:
//     Y_i = p_c(I_i),    O_i = p_c(I_i ⊙ E_i),
//     Average Drop %            = 100 · (1/N) Σ_i max(0, Y_i − O_i) / Y_i
//     Increase in Confidence %  = 100 · (1/N) Σ_i 1[Y_i < O_i]
// p_c is the softmax probability of the target class (the papers' "confidence"; the target is
// the predicted class unless given). The map is first min-max normalized to [0, 1] per image
// (normalize = true, the default): the paper multiplies its heatmaps, which are in [0, 1], and
// a map outside [0, 1] would scale the image rather than mask it. A flat map normalizes to
// zeros (a black image). With normalize = false the map is used as given.
// The image is multiplied as the model receives it; for a model that takes mean/std-normalized
// inputs, "0" is the mean colour rather than black, as in pytorch-grad-cam's
// multiply_tensor_with_cam on the normalized tensor.
// `change` is O_i − Y_i, what pytorch-grad-cam's CamMultImageConfidenceChange reports with
// ClassifierOutputSoftmaxTarget (metrics/cam_mult_image.py: the target's score on
// input × cam minus on the input), and DropInConfidence / IncreaseInConfidence are max(0, −change)
// and 1[change > 0] of it.
// A drop rewards maps that keep what the model needs (lower is better); an increase rewards
// maps that remove distractors (higher is better). Y_i = 0 (possible only by underflow) counts
// as a drop of 0.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/normalize.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of confidence_change().
struct ConfidenceOptions {
    bool normalize = true;        ///< min-max normalize each map to [0, 1] first (the paper's heatmaps)
    std::size_t batch_size = 64;  ///< images per forward pass, ≥ 1
    std::size_t threads = 0;      ///< threads running forward batches; 0 = all
};

/// Average Drop and Increase in Confidence of a set of maps.
struct ConfidenceResult {
    std::vector<float> original;   ///< Y_i, the target's probability on the image
    std::vector<float> explained;  ///< O_i, the target's probability on the image ⊙ map
    std::vector<double> drop;      ///< max(0, Y_i − O_i) / Y_i
    std::vector<double> change;    ///< O_i − Y_i (pytorch-grad-cam's CamMultImageConfidenceChange)
    double mean_change = 0.0;      ///< (1/N) Σ_i (O_i − Y_i)
    double average_drop = 0.0;             ///< percent, lower is better
    double increase_in_confidence = 0.0;   ///< percent of images with O_i > Y_i, higher is better
    std::vector<std::size_t> targets;      ///< the class scored for each image
};

namespace detail {

template <Classifier M>
ConfidenceResult confidence_of_maps(const M& model, const Batch& images, const Maps& maps,
                                    std::vector<std::size_t> targets,
                                    const std::vector<const AnyTargetFunction*>& functions,
                                    const ConfidenceOptions& options, const char* where) {
    const std::size_t n = images.shape(0), channels = images.shape(1), pixels = images.shape(2) * images.shape(3);
    const Maps weights = options.normalize ? normalize_min_max(maps) : maps;
    Batch masked = Batch::from_shape(images.shape());
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < channels; ++c) {
            const float* in = images.data() + (i * channels + c) * pixels;
            const float* w = weights.data() + i * pixels;
            float* out = masked.data() + (i * channels + c) * pixels;
            for (std::size_t p = 0; p < pixels; ++p) out[p] = in[p] * w[p];
        }
    ConfidenceResult out;
    out.original = target_probabilities(model, images, targets, functions, options.batch_size, options.threads, where);
    out.explained = target_probabilities(model, masked, targets, functions, options.batch_size, options.threads, where);
    out.targets = std::move(targets);
    out.drop.resize(n);
    out.change.resize(n);
    std::size_t increased = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double y = out.original[i], o = out.explained[i];
        out.drop[i] = y > 0.0 ? std::max(0.0, y - o) / y : 0.0;
        out.change[i] = o - y;
        if (y < o) ++increased;
    }
    out.mean_change = std::accumulate(out.change.begin(), out.change.end(), 0.0) / static_cast<double>(n);
    out.average_drop = 100.0 * std::accumulate(out.drop.begin(), out.drop.end(), 0.0) / static_cast<double>(n);
    out.increase_in_confidence = 100.0 * static_cast<double>(increased) / static_cast<double>(n);
    return out;
}

}  // namespace detail

/// Average Drop and Increase in Confidence of an explainer's maps, precomputed maps (N×H×W, at
/// the images' size) or an explanation function's (see metric_inputs.hpp). A target may be a
/// target function (Target::function): its value replaces the class probability, and an
/// explainer is asked to explain it.
template <Classifier M, MapSource S>
ConfidenceResult confidence_change(const M& model, const Batch& images, const S& maps,
                                   const Targets& targets = {}, const ConfidenceOptions& options = {}) {
    constexpr const char* where = "xai::confidence_change()";
    detail::require_batch_size(options.batch_size, where);
    detail::require_metric_images(model, images, where);
    if constexpr (std::same_as<S, Maps>) detail::require_maps_for(images, maps, where);
    std::vector<std::size_t> resolved = detail::resolve_metric_targets(model, images, targets, where, true);
    const Maps obtained = detail::obtain_maps(maps, images, resolved, where, &targets);
    return detail::confidence_of_maps(model, images, obtained, std::move(resolved),
                                      target_functions(targets, images.shape(0)), options, where);
}

}  // namespace xai
