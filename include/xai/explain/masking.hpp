#pragma once
// Shared machinery of the perturbation explainers (LIME, RISE, occlusion, Sobol attribution, the
// Shapley methods): applying a mask, batched black-box forward passes that return the explained
// scores, superpixel coalitions rendered and scored, and the display maps of their results.
// (RISE's running sums are in explain/detail/rise_estimator.hpp.)
//
// A mask M (H×W, values in [0, 1], 1 = keep) turns an image I into
//     I ⊙ M + B ⊙ (1 − M)
// where B is the baseline (image/baseline.hpp): a constant (0 in the RISE paper and Captum's
// occlusion), a colour, the image's mean, a blurred copy, a fixed image or any function of I.
// Written this way a pixel with M = 1 is exactly I and one with M = 0 exactly B.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/blur.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/segments.hpp"

namespace xai {

namespace detail {

/// out[c][p] = image[c][p] · mask[p] + baseline[c][p] · (1 − mask[p]) for every channel c.
inline void apply_mask(const float* image, const float* baseline, std::size_t channels, std::size_t pixels,
                       const float* mask, float* out) {
    for (std::size_t c = 0; c < channels; ++c) {
        const float* in = image + c * pixels;
        const float* base = baseline + c * pixels;
        float* dst = out + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p) dst[p] = in[p] * mask[p] + base[p] * (1.0f - mask[p]);
    }
}

/// The same with a constant baseline value: out[c][p] = image[c][p] · mask[p] + value · (1 − mask[p]).
/// Saves reading a baseline image (the masked images are memory-bound at 224×224).
inline void apply_mask(const float* image, float value, std::size_t channels, std::size_t pixels, const float* mask,
                       float* out) {
    for (std::size_t c = 0; c < channels; ++c) {
        const float* in = image + c * pixels;
        float* dst = out + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p) dst[p] = in[p] * mask[p] + value * (1.0f - mask[p]);
    }
}

/// Makes `batch` a count×C×H×W buffer, reallocating only when the count changes (the last
/// batch of a run, or of a block, is shorter). The old buffer is released before the new one is
/// allocated, so the peak memory stays at one batch.
inline void reshape_batch(Batch& batch, std::size_t count, const ImageShape& shape) {
    if (batch.shape(0) == count && image_shape(batch) == shape) return;
    batch = Batch();
    batch = Batch::from_shape({count, shape.channels, shape.height, shape.width});
}

/// The most bytes of perturbed images (and their masks) that RISE, occlusion or LIME builds for
/// one forward pass: 1 GiB. A batch_size that would need more is lowered to fit, down to one
/// image; their results do not depend on the batch size, so this bounds memory without
/// changing a result. At 224×224 RGB it never binds (the defaults need at most 60 MB); at
/// 4096×4096 RGB it allows 4–5 images per forward pass instead of the default 32 or 100
/// (docs/limits.md).
inline constexpr std::size_t max_batch_bytes = std::size_t{1} << 30;

/// `batch_size` lowered so that `batches_in_flight` batches of that many images of `shape` (one
/// per thread, built at the same time), each image with `extra_floats` more floats (e.g. its
/// mask), take at most max_batch_bytes together; never below 1.
inline std::size_t batch_within_memory(std::size_t batch_size, const ImageShape& shape, std::size_t extra_floats = 0,
                                       std::size_t batches_in_flight = 1) {
    const std::size_t per_image = (shape.size() + extra_floats) * sizeof(float);
    const std::size_t fitting = per_image == 0 ? batch_size : max_batch_bytes / per_image / std::max<std::size_t>(1, batches_in_flight);
    return std::max<std::size_t>(1, std::min(batch_size, fitting));
}

/// Refuses Baseline::segment_mean() in a method without superpixels (RISE, occlusion): called by
/// their constructors, so the mistake shows before any work.
inline void require_baseline_without_superpixels(const Baseline& baseline, const char* where) {
    require(!baseline.needs_segmentation(), where,
            ": baseline is Baseline::segment_mean(), which needs superpixels, and this method has none; expected "
            "another baseline (constant, color, image_mean, blurred, image or from_function)");
}

/// Checks the images an explainer is asked to explain and the model's input shape.
template <Classifier M>
void require_explainable(const M& model, const Batch& images, const char* where) {
    require<shape_error>(images.shape(0) > 0 && images.size() > 0, where, ": images is empty (shape ",
                         shape_string(images.shape()), "), expected at least one C×H×W image");
    require_model_input(model, images, where);
}

/// One forward pass of `batch`; returns, per image, the scores of the given kind of the
/// requested classes (rows × classes.size()), or, when `function` is given (a target function,
/// core/target_function.hpp), its value on each image's output (rows × 1). Non-finite or
/// misshapen model output is a model_error.
template <Classifier M>
Scores forward_class_scores(const M& model, const Batch& batch, ScoreKind kind, std::span<const std::size_t> classes,
                            const char* where, const AnyTargetFunction* function = nullptr) {
    if (function != nullptr) {
        const Scores logits = checked_forward(model, batch, where);
        const std::size_t n = logits.shape(0), k = logits.shape(1);
        Scores picked = Scores::from_shape({n, std::size_t{1}});
        for (std::size_t i = 0; i < n; ++i)
            picked(i, 0) = static_cast<float>(function->score(std::span<const float>(logits.data() + i * k, k)));
        if (!all_finite(picked))
            throw model_error(message(where, ": ", function->describe(), " of the masked images is not finite"));
        return picked;
    }
    const Scores all = scores_of_kind(checked_forward(model, batch, where), kind);
    const std::size_t n = all.shape(0), k = all.shape(1);
    Scores picked = Scores::from_shape({n, classes.size()});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < classes.size(); ++j) picked(i, j) = all.data()[i * k + classes[j]];
    if (!all_finite(picked))
        throw model_error(message(where, ": the ", to_string(kind), " scores of the masked images are not finite"));
    return picked;
}

/// Coalitions of superpixels rendered and scored (LIME, KernelSHAP, Shapley value sampling): row
/// i of `on` (n × d bytes, d = segmentation.count) keeps superpixel s of `image` where
/// on[i·d + s] = 1 and shows `fudged` (the baseline, same shape) where it is 0. Returns the
/// scores of `kind` of every class (n × K). Rows go to the model batch_size at a time (within
/// the memory bound above), `threads` batches at once; after each round `progress` is told
/// done_before + the rows done, of `total` (stage "samples").
template <Classifier M>
Scores score_coalitions(const M& model, const Image& image, const Image& fudged, const Segmentation& segmentation,
                        const std::vector<std::uint8_t>& on, std::size_t n, ScoreKind kind, std::size_t batch_size,
                        std::size_t threads, const Progress& progress, std::size_t done_before, std::size_t total,
                        const char* where) {
    const std::size_t d = segmentation.count, k = model.num_classes();
    const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
    const std::int32_t* labels = segmentation.labels.data();
    Scores scores = Scores::from_shape({n, k});
    // Batches in flight at once (one per thread) share the memory bound.
    const std::size_t per_round = std::max<std::size_t>(1, resolve_threads(threads));
    const std::size_t batch = batch_within_memory(batch_size, image_shape(image), 0, per_round);
    const std::size_t batches = ceil_div(n, batch);
    for (std::size_t first = 0; first < batches; first += per_round) {
        const std::size_t round = std::min(per_round, batches - first);
        parallel_for(round, round, [&](std::size_t r) {
            const std::size_t begin = (first + r) * batch, end = std::min(n, begin + batch);
            Batch rendered = Batch::from_shape({end - begin, channels, image.shape(1), image.shape(2)});
            std::vector<std::uint8_t> pixel_on(pixels);
            for (std::size_t i = begin; i < end; ++i) {
                const std::uint8_t* z = on.data() + i * d;
                for (std::size_t p = 0; p < pixels; ++p) pixel_on[p] = z[labels[p]];
                float* dst = rendered.data() + (i - begin) * channels * pixels;
                for (std::size_t c = 0; c < channels; ++c) {
                    const float* src = image.data() + c * pixels;
                    const float* off = fudged.data() + c * pixels;
                    float* out = dst + c * pixels;
                    for (std::size_t p = 0; p < pixels; ++p) out[p] = pixel_on[p] != 0 ? src[p] : off[p];
                }
            }
            const Scores s = scores_of_kind(checked_forward(model, rendered, where), kind);
            std::copy(s.begin(), s.end(), scores.begin() + static_cast<std::ptrdiff_t>(begin * k));
        });
        report(progress, done_before + std::min(n, (first + round) * batch), total, "samples");
    }
    return scores;
}

/// The display maps of signed input-size maps (Explanation::maps): each map ReLU'd, then min-max
/// normalized on its own (a flat map becomes zeros). The convention of every explainer's `maps`:
/// evidence for the target, in [0, 1].
inline Maps positive_display_maps(const Maps& raw) {
    Maps positive = raw;
    for (float& v : positive) v = std::max(v, 0.0f);
    return normalize_min_max(positive);
}

}  // namespace detail
}  // namespace xai
