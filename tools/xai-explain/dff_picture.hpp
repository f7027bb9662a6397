#pragma once
// --method dff's picture, <stem>_dff_concepts.png: xai::factorization_picture (pytorch-grad-cam's
// show_factorization_on_image: each pixel in the colour of its strongest concept, scaled by that
// concept's map, over the model's input) with a legend below it, one line per concept: its
// colour and its top class (the head's softmax on the concept, DffResult::concept_classes).
// Drawn from the run-time explanation's extras (runtime/cam_methods.hpp, describe_dff):
// "concept_<j>" maps, "assignment", and the statistics "concept_<j>_class".

#include <algorithm>
#include <cstddef>
#include <string>

#include "gallery.hpp"
#include "models.hpp"
#include "xai/explain/cam/dff.hpp"
#include "xai/runtime/any_explainer.hpp"

namespace xai_explain {

/// The model's input of one image as a picture in [0, 1]: `input` with the normalization undone.
inline xai::Image input_picture(const xai::Image& input, const ModelInfo& info) {
    xai::Image out = input;
    if (!info.normalize) return xt::clip(out, 0.0f, 1.0f);
    const xai::Preprocessing& p = info.preprocessing;
    const std::size_t c = out.shape(0), plane = out.shape(1) * out.shape(2);
    for (std::size_t ch = 0; ch < c; ++ch) {
        const float mean = p.mean[p.mean.size() == 1 ? 0 : ch], std = p.std[p.std.size() == 1 ? 0 : ch];
        for (std::size_t q = 0; q < plane; ++q) out.data()[ch * plane + q] = std::clamp(out.data()[ch * plane + q] * std + mean, 0.0f, 1.0f);
    }
    return out;
}

/// The DFF picture of image `i` of `x` (see the header comment) on `input` (the model's C×H×W input).
inline xai::Image dff_picture(const xai::AnyExplanation& x, std::size_t i, const xai::Image& input, const ModelInfo& info) {
    xai::DffResult r;
    std::size_t k = 0;
    for (const auto& [name, maps] : x.extra_maps) k += name.starts_with("concept_") ? 1 : 0;
    const xai::Map assignment = x.extra_map("assignment", i);
    const std::size_t h = assignment.shape(0), w = assignment.shape(1);
    r.concept_maps = xt::xtensor<float, 4>::from_shape({1, k, h, w});
    r.assignment = xt::cast<std::int32_t>(xt::reshape_view(assignment, {std::size_t{1}, h, w}));
    for (std::size_t j = 0; j < k; ++j) {
        const xai::Map m = x.extra_map("concept_" + std::to_string(j), i);
        std::copy(m.begin(), m.end(), r.concept_maps.data() + j * h * w);
    }
    const xai::Image picture = xai::factorization_picture(input_picture(input, info), r, 0);
    // The legend: one line per concept, its colour and its top class.
    const std::size_t scale = 1, line = line_height(scale) + 2, ph = picture.shape(1);
    xai::Image out = xt::ones<float>({std::size_t{3}, ph + k * line + 2, w});
    xt::view(out, xt::all(), xt::range(0, ph), xt::all()) = picture;
    for (std::size_t j = 0; j < k; ++j) {
        float rgb[3];
        xai::detail::concept_colour(j, k, rgb);
        const std::size_t top = ph + 2 + j * line;
        for (std::size_t y = top; y < top + line - 3; ++y)
            for (std::size_t px = 2; px < std::min<std::size_t>(w, 12); ++px)
                for (std::size_t c = 0; c < 3; ++c) out(c, y, px) = rgb[c];
        const auto cls = static_cast<std::size_t>(x.statistic("concept_" + std::to_string(j) + "_class", i));
        draw_text(out, 16, top, fit_text(std::to_string(j) + ": " + class_name(info, cls), w > 18 ? w - 18 : 0, scale), scale,
                  xai::Rgb{0.0f, 0.0f, 0.0f});
    }
    return out;
}

}  // namespace xai_explain
