#pragma once
// Pictures of a LIME explanation (explain/lime/lime.hpp), for one fitted class of one image of
// the explanation (image_index, 0 by default):
//
//   lime_image_and_mask   lime's ImageExplanation.get_image_and_mask: the top superpixels of a
//                         class, by WeightSign: positive only (lime's default), negative only, or
//                         both signs (mask +1 / −1), at most num_features of them with |β| above
//                         min_weight, taken in decreasing |β|; hide_rest blanks everything else
//                         (to 0, as lime). With both signs lime paints the chosen superpixels by
//                         setting the green (β > 0) or red (β < 0) channel to the image maximum;
//                         the same is done here for RGB images.
//   lime_overlay          the picture users want: positive superpixels tinted green, negative
//                         red, blended with the image, and the boundaries of the chosen
//                         superpixels drawn (lime's examples: mark_boundaries in yellow).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/lime/explanation.hpp"
#include "xai/explain/lime/options.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// Which superpixels lime_image_and_mask and lime_overlay show.
struct LimeMaskOptions {
    std::size_t num_features = 5;            ///< at most this many superpixels (lime: 5)
    WeightSign sign = WeightSign::positive;  ///< β > 0 only (lime: positive_only=True), β < 0 only, or both
    double min_weight = 0.0;                 ///< only |β| above this (lime: 0)
    bool hide_rest = false;        ///< blank the other superpixels to 0 (lime: False)
};

/// An image and an H×W mask: +1 for a shown superpixel with β > 0, −1 for β < 0, 0 elsewhere.
struct LimeImageAndMask {
    /// C×H×W: the input, 0 outside the mask when hide_rest; with both signs on RGB, the green
    /// (β > 0) or red (β < 0) channel of shown pixels set to the image maximum, as lime.
    Image image;
    xt::xtensor<std::int8_t, 2> mask;  ///< H×W: +1, −1 or 0 per pixel
};

namespace detail {

/// The superpixels shown and the sign of each, by lime's rules.
inline std::vector<std::pair<std::size_t, int>> lime_shown_superpixels(const LimeSurrogate& e,
                                                                      const LimeMaskOptions& options, const char* where) {
    const WeightSign sign = options.sign;
    require(sign == WeightSign::positive || sign == WeightSign::negative || sign == WeightSign::both, where,
            ": sign is ", static_cast<int>(sign), ", expected WeightSign::positive, negative or both");
    std::vector<std::pair<std::size_t, int>> shown;
    if (sign != WeightSign::both) {
        for (std::size_t f : e.features) {
            if (shown.size() == options.num_features) break;
            const double w = e.weights[f];
            if (sign == WeightSign::positive && w > 0.0 && w > options.min_weight) shown.push_back({f, 1});
            if (sign == WeightSign::negative && w < 0.0 && std::abs(w) > options.min_weight) shown.push_back({f, -1});
        }
        return shown;
    }
    for (std::size_t i = 0; i < std::min(options.num_features, e.features.size()); ++i) {
        const std::size_t f = e.features[i];
        const double w = e.weights[f];
        if (std::abs(w) < options.min_weight) continue;
        shown.push_back({f, w < 0.0 ? -1 : 1});
    }
    return shown;
}

/// The segmentation of image `image_index` of `explanation`, checked against `image`.
inline const Segmentation& explained_segmentation(const Image& image, const LimeExplanation& explanation,
                                                  std::size_t image_index, const char* where) {
    require_rank(image, 3, where, "C×H×W");
    require<shape_error>(image_index < explanation.segmentations.size(), where, ": image_index is ", image_index,
                         ", expected an image index below ", explanation.segmentations.size());
    const Segmentation& segmentation = explanation.segmentations[image_index];
    require<shape_error>(image.shape(1) == segmentation.height() && image.shape(2) == segmentation.width(), where,
                         ": image is ", shape_string(image.shape()), ", the explanation's segmentation is ",
                         segmentation.height(), "x", segmentation.width());
    return segmentation;
}

}  // namespace detail

/// lime's get_image_and_mask for class `target` of image `image_index` of `explanation`, drawn
/// over `image` (that image, C×H×W; see the header).
inline LimeImageAndMask lime_image_and_mask(const Image& image, const LimeExplanation& explanation, std::size_t target,
                                            const LimeMaskOptions& options = {}, std::size_t image_index = 0) {
    constexpr const char* where = "xai::lime_image_and_mask()";
    const Segmentation& segmentation = detail::explained_segmentation(image, explanation, image_index, where);
    const LimeSurrogate& e = explanation.surrogate(target, image_index);
    const auto shown = detail::lime_shown_superpixels(e, options, where);
    const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
    LimeImageAndMask out;
    out.image = options.hide_rest ? Image(xt::zeros<float>(image.shape())) : image;
    out.mask = xt::zeros<std::int8_t>({image.shape(1), image.shape(2)});
    std::vector<int> sign(segmentation.count, 0);
    for (const auto& [f, s] : shown) sign[f] = s;
    const bool both = options.sign == WeightSign::both;
    const float top = *std::max_element(image.begin(), image.end());
    const std::int32_t* labels = segmentation.labels.data();
    for (std::size_t p = 0; p < pixels; ++p) {
        const int s = sign[static_cast<std::size_t>(labels[p])];
        if (s == 0) continue;
        out.mask.data()[p] = static_cast<std::int8_t>(s);
        for (std::size_t c = 0; c < channels; ++c) out.image.data()[c * pixels + p] = image.data()[c * pixels + p];
        if (both && channels == 3) out.image.data()[(s < 0 ? 0 : 1) * pixels + p] = top;
    }
    return out;
}

/// Colours and blending of lime_overlay.
struct LimeOverlayOptions {
    LimeMaskOptions mask{.num_features = 5, .sign = WeightSign::both};  ///< both signs by default
    float alpha = 0.45f;                                ///< weight of the tint
    std::vector<float> positive_color{0.0f, 0.85f, 0.0f};  ///< RGB tint of superpixels with β > 0 (green)
    std::vector<float> negative_color{0.9f, 0.0f, 0.0f};   ///< RGB tint of superpixels with β < 0 (red)
    std::vector<float> boundary_color{1.0f, 1.0f, 0.0f};   ///< RGB outline of the chosen superpixels (yellow)
    bool draw_all_boundaries = false;  ///< also draw every superpixel's boundary (thin grey)
};

/// A 3×H×W picture of class `target` of image `image_index` of `explanation`, drawn over
/// `image`: the chosen superpixels tinted (positive / negative colour) and outlined. Grey images
/// are shown as RGB.
inline Image lime_overlay(const Image& image, const LimeExplanation& explanation, std::size_t target,
                          const LimeOverlayOptions& options = {}, std::size_t image_index = 0) {
    constexpr const char* where = "xai::lime_overlay()";
    const Segmentation& segmentation = detail::explained_segmentation(image, explanation, image_index, where);
    detail::require(image.shape(0) == 1 || image.shape(0) == 3, where, ": image has ", image.shape(0),
                    " channels, expected 1 or 3");
    detail::require(options.alpha >= 0.0f && options.alpha <= 1.0f, where, ": alpha is ", options.alpha,
                    ", expected a value in [0, 1]");
    for (const auto* color : {&options.positive_color, &options.negative_color, &options.boundary_color})
        detail::require(color->size() == 3, where, ": colours need 3 values (RGB), got ", color->size());
    const LimeSurrogate& e = explanation.surrogate(target, image_index);
    const auto shown = detail::lime_shown_superpixels(e, options.mask, where);
    const std::size_t h = image.shape(1), w = image.shape(2), pixels = h * w;
    Image out = Image::from_shape({3, h, w});
    for (std::size_t c = 0; c < 3; ++c)
        std::copy_n(image.data() + (image.shape(0) == 3 ? c : 0) * pixels, pixels, out.data() + c * pixels);
    if (options.draw_all_boundaries) out = mark_boundaries(out, segmentation, {0.6f, 0.6f, 0.6f});

    std::vector<int> sign(segmentation.count, 0);
    for (const auto& [f, s] : shown) sign[f] = s;
    const std::int32_t* labels = segmentation.labels.data();
    for (std::size_t p = 0; p < pixels; ++p) {
        const int s = sign[static_cast<std::size_t>(labels[p])];
        if (s == 0) continue;
        const std::vector<float>& tint = s > 0 ? options.positive_color : options.negative_color;
        for (std::size_t c = 0; c < 3; ++c) {
            float& v = out.data()[c * pixels + p];
            v = (1.0f - options.alpha) * v + options.alpha * tint[c];
        }
    }
    // Outline each shown superpixel: its pixels that touch a pixel of another superpixel.
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const std::size_t p = y * w + x;
            if (sign[static_cast<std::size_t>(labels[p])] == 0) continue;
            const bool edge = (x + 1 < w && labels[p + 1] != labels[p]) || (x > 0 && labels[p - 1] != labels[p]) ||
                              (y + 1 < h && labels[p + w] != labels[p]) || (y > 0 && labels[p - w] != labels[p]);
            if (edge)
                for (std::size_t c = 0; c < 3; ++c) out.data()[c * pixels + p] = options.boundary_color[c];
        }
    return out;
}

}  // namespace xai
