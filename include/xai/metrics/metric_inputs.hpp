#pragma once
// What every metric of xai/metrics takes: images, saliency maps, target classes, ground-truth
// regions; and the checks they share.
//
// The maps come from one of (MapSource):
//   an Explainer     any explainer of the library (core/explainer.hpp), passed as it is: the
//                    metric calls explainer.explain(images, targets) and scores `maps`, the
//                    display maps at the images' size
//                      xai::GradCam grad_cam(model);
//                      auto curves = xai::deletion(model, images, grad_cam);
//   precomputed Maps N×H×W, one per image at the images' size
//   a function       for maps that no explainer makes (a baseline such as a centred Gaussian):
//                      batch form  maps = f(const Batch& images, const std::vector<std::size_t>& targets) -> Maps
//                      image form  map  = f(const Image& image, std::size_t target)                       -> Map
// The metric resolves the targets first (Targets: empty = the model's predicted class, as
// everywhere in xai) and asks for the maps of exactly those classes. Every map must have the
// images' H×W and finite values; anything else is refused with a message naming the metric.
//
// A ground-truth region is a RegionMask (H×W bool, true inside the object), built from a Box
// with box_mask() when the annotation is a bounding box.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// H×W ground-truth region: true on the object's pixels.
using RegionMask = xt::xtensor<bool, 2>;
/// N×H×W ground-truth regions, one per image.
using RegionMasks = xt::xtensor<bool, 3>;

/// An axis-aligned box of pixels: rows [top, bottom) and columns [left, right) (half-open).
struct Box {
    std::size_t top = 0;     ///< first row
    std::size_t left = 0;    ///< first column
    std::size_t bottom = 0;  ///< one past the last row
    std::size_t right = 0;   ///< one past the last column

    /// Equal when all four edges are equal.
    friend bool operator==(const Box&, const Box&) = default;
    /// Number of pixels, (bottom − top)·(right − left); the box must not be inverted.
    std::size_t area() const { return (bottom - top) * (right - left); }
};

/// The H×W region of a box; invalid_argument when the box is empty or leaves the image.
inline RegionMask box_mask(std::size_t height, std::size_t width, const Box& box) {
    detail::require(box.top < box.bottom && box.left < box.right, "xai::box_mask(): the box rows [", box.top, ", ",
                    box.bottom, ") × columns [", box.left, ", ", box.right,
                    ") is empty, expected top < bottom and left < right");
    detail::require(box.bottom <= height && box.right <= width, "xai::box_mask(): the box rows [", box.top, ", ",
                    box.bottom, ") × columns [", box.left, ", ", box.right, ") leaves the ", height, "×", width,
                    " image");
    RegionMask mask = xt::zeros<bool>({height, width});
    for (std::size_t y = box.top; y < box.bottom; ++y)
        std::fill(mask.data() + y * width + box.left, mask.data() + y * width + box.right, true);
    return mask;
}

/// Explanation function, batch form: (images, target classes) → N×H×W maps.
template <class F>
concept BatchExplanationFunction = std::invocable<const F&, const Batch&, const std::vector<std::size_t>&> &&
    std::convertible_to<std::invoke_result_t<const F&, const Batch&, const std::vector<std::size_t>&>, Maps>;

/// Explanation function, image form: (C×H×W image, target class) → H×W map.
template <class F>
concept ImageExplanationFunction = !BatchExplanationFunction<F> &&
    std::invocable<const F&, const Image&, std::size_t> &&
    std::convertible_to<std::invoke_result_t<const F&, const Image&, std::size_t>, Map>;

/// Either form of explanation function (not an Explainer: explainers are taken as they are).
template <class F>
concept ExplanationFunction = !Explainer<F> && (BatchExplanationFunction<F> || ImageExplanationFunction<F>);

/// What a metric takes the maps from: an Explainer, precomputed N×H×W Maps or an explanation function.
template <class S>
concept MapSource = std::same_as<S, Maps> || Explainer<S> || ExplanationFunction<S>;

namespace detail {

/// Checks a batch of images for a metric: non-empty, the model's input shape, finite.
template <Classifier M>
void require_metric_images(const M& model, const Batch& images, const char* where) {
    require<shape_error>(images.shape(0) > 0 && images.size() > 0, where, ": images is empty (shape ",
                         shape_string(images.shape()), "), expected at least one C×H×W image");
    require_model_input(model, images, where);
}

/// Checks that `maps` holds one finite H×W map per image of `images`.
inline void require_maps_for(const Batch& images, const Maps& maps, const char* where) {
    require<shape_error>(maps.shape(0) == images.shape(0) && maps.shape(1) == images.shape(2) &&
                             maps.shape(2) == images.shape(3),
                         where, ": maps has shape ", shape_string(maps.shape()), ", expected [", images.shape(0), ", ",
                         images.shape(2), ", ", images.shape(3), "] (one H×W map per image, at the images' size)");
    if (!all_finite(maps))
        throw invalid_argument(message(where, ": maps contains NaN or Inf, expected finite saliency values"));
}

/// Checks ground-truth regions against maps: same N×H×W, and no empty region.
inline void require_regions_for(const Maps& maps, const RegionMasks& regions, const char* where) {
    require<shape_error>(regions.shape() == maps.shape(), where, ": regions has shape ", shape_string(regions.shape()),
                         ", expected the maps' shape ", shape_string(maps.shape()));
    const std::size_t plane = regions.shape(1) * regions.shape(2);
    for (std::size_t i = 0; i < regions.shape(0); ++i) {
        const bool* r = regions.data() + i * plane;
        require(std::any_of(r, r + plane, [](bool b) { return b; }), where, ": regions[", i,
                "] is empty, expected at least one pixel inside the ground-truth region");
    }
}

/// The target class of every image: `targets` resolved against the model's prediction on the
/// unperturbed images (one checked forward pass).
/// With `functions`, a target function is taken (its image gets the function's class_index(),
/// else the prediction), as by resolve_targets.
template <Classifier M>
std::vector<std::size_t> resolve_metric_targets(const M& model, const Batch& images, const Targets& targets,
                                                const char* where, bool functions = false) {
    return resolve_targets(targets, checked_forward(model, images, where), where, functions);
}

/// The targets an explainer is asked for: the resolved classes, except that an image whose
/// target is a target function keeps it (the explainer explains the function, or refuses it
/// naming itself). `targets` as the caller gave them (empty, one, or one per image).
inline Targets explainer_targets(const Targets& targets, const std::vector<std::size_t>& resolved) {
    Targets out(resolved.begin(), resolved.end());
    for (std::size_t i = 0; i < out.size() && !targets.empty(); ++i) {
        const Target& t = targets.size() == 1 ? targets.front() : targets[i];
        if (t.is_function()) out[i] = t;
    }
    return out;
}

/// The score a metric reads from row `row` of a batch's outputs: the value of the row's target
/// function when it has one, else `kind_scores(row, target)` (the class's score of the metric's
/// kind, from scores_of_kind on the same logits).
inline float metric_score(const Scores& kind_scores, const Scores& logits, std::size_t row,
                          const AnyTargetFunction* function, std::size_t target) {
    const std::size_t k = logits.shape(1);
    if (function) return static_cast<float>(function->score(std::span<const float>(logits.data() + row * k, k)));
    return kind_scores(row, target);
}

/// Maps from an explanation function (either form), checked like precomputed maps.
template <ExplanationFunction F>
Maps explain_with(const F& explain, const Batch& images, const std::vector<std::size_t>& targets, const char* where) {
    Maps maps;
    if constexpr (BatchExplanationFunction<F>) {
        maps = explain(images, targets);
    } else {
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        maps = Maps::from_shape({n, h, w});
        for (std::size_t i = 0; i < n; ++i) {
            const Map map = explain(image_at(images, i), targets[i]);
            require<shape_error>(map.shape(0) == h && map.shape(1) == w, where,
                                 ": the explanation function returned a map of shape ", shape_string(map.shape()),
                                 " for image ", i, ", expected [", h, ", ", w, "] (the image's H×W)");
            std::copy(map.begin(), map.end(), maps.begin() + static_cast<std::ptrdiff_t>(i * h * w));
        }
    }
    require<shape_error>(maps.dimension() == 3, where, ": the explanation function returned rank ", maps.dimension(),
                         ", expected N×H×W maps");
    require_maps_for(images, maps, where);
    return maps;
}

/// The display maps of an explainer for the given images and resolved targets, checked.
/// `original`, when given, are the caller's targets: a target function among them is passed to
/// the explainer as it is (explainer_targets).
template <Explainer E>
Maps explain_with(const E& explainer, const Batch& images, const std::vector<std::size_t>& targets, const char* where,
                  const Targets* original = nullptr) {
    const Targets asked = original != nullptr ? explainer_targets(*original, targets) : Targets(targets.begin(), targets.end());
    Maps maps = explainer.explain(images, asked, Progress{}).maps;
    require<shape_error>(maps.size() > 0, where, ": the explainer returned no pixel maps (shape ",
                         shape_string(maps.shape()), "), expected one H×W map per image");
    require_maps_for(images, maps, where);
    return maps;
}

/// The maps of a MapSource for the given images and resolved targets, checked.
/// `original`, when given, are the caller's targets: an explainer gets their target functions
/// as they are (explanation functions and maps only see the resolved classes).
template <MapSource S>
Maps obtain_maps(const S& source, const Batch& images, const std::vector<std::size_t>& targets, const char* where,
                 const Targets* original = nullptr) {
    if constexpr (std::same_as<S, Maps>) {
        require_maps_for(images, source, where);
        return source;
    } else if constexpr (Explainer<S>) {
        return explain_with(source, images, targets, where, original);
    } else {
        return explain_with(source, images, targets, where);
    }
}

/// Softmax probability of class targets[i] for each image i of a batch (or the value of image
/// i's target function, `functions` empty or one per image), forward passes in chunks of
/// `batch_size` run on up to `threads` threads (results do not depend on either).
template <Classifier M>
std::vector<float> target_probabilities(const M& model, const Batch& images, const std::vector<std::size_t>& targets,
                                        const std::vector<const AnyTargetFunction*>& functions,
                                        std::size_t batch_size, std::size_t threads, const char* where) {
    const std::size_t n = images.shape(0), image_size = images.size() / std::max<std::size_t>(n, 1);
    const std::size_t chunks = detail::ceil_div(n, batch_size);
    std::vector<float> out(n);
    parallel_for(chunks, threads, [&](std::size_t c) {
        const std::size_t first = c * batch_size, count = std::min(batch_size, n - first);
        Batch chunk = Batch::from_shape({count, images.shape(1), images.shape(2), images.shape(3)});
        std::copy(images.data() + first * image_size, images.data() + (first + count) * image_size, chunk.data());
        const Scores logits = checked_forward(model, chunk, where);
        const Scores p = softmax(logits);
        for (std::size_t i = 0; i < count; ++i)
            out[first + i] = metric_score(p, logits, i, functions.empty() ? nullptr : functions[first + i], targets[first + i]);
    });
    return out;
}

inline void require_batch_size(std::size_t batch_size, const char* where) {
    require(batch_size > 0, where, ": batch_size is 0, expected at least 1 image per forward pass");
}

}  // namespace detail
}  // namespace xai
