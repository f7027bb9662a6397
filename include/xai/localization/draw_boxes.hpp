#pragma once
// Boxes drawn on a picture: the outline of each box, `thickness` pixels wide, inside the box
// (so a box touching the border stays visible), in one colour.
//
//   xai::Image picture = xai::overlay(image, explanation.map(0));
//   xai::draw_boxes(picture, {truth}, {0.f, 1.f, 0.f});                   // green: ground truth
//   xai::draw_boxes(picture, xai::extract_regions(explanation.map(0)).boxes, {1.f, 0.f, 0.f});
//
// A picture drawn at a larger scale than the map (for visibility) takes the boxes scaled by
// scale_box().

#include <algorithm>
#include <cstddef>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/colormap.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// The box in a picture `factor` times larger: every edge multiplied by factor.
inline Box scale_box(const Box& box, std::size_t factor) {
    return {box.top * factor, box.left * factor, box.bottom * factor, box.right * factor};
}

/// Draws the outline of every box on `picture` (3×H×W RGB in [0, 1]) in `colour`. Boxes must lie
/// inside the picture; empty boxes are skipped.
inline void draw_boxes(Image& picture, const std::vector<Box>& boxes, const Rgb& colour, std::size_t thickness = 1) {
    constexpr const char* where = "xai::draw_boxes()";
    detail::require<shape_error>(picture.shape(0) == 3 && picture.shape(1) > 0 && picture.shape(2) > 0, where,
                                 ": picture has shape ", shape_string(picture.shape()), ", expected a 3×H×W RGB image");
    detail::require(thickness >= 1, where, ": thickness is 0, expected at least 1 pixel");
    const std::size_t h = picture.shape(1), w = picture.shape(2);
    for (const Box& b : boxes) {
        detail::require(b.top <= b.bottom && b.left <= b.right && b.bottom <= h && b.right <= w, where, ": a box of rows [",
                        b.top, ", ", b.bottom, ") × columns [", b.left, ", ", b.right, ") leaves the ", h, "×", w,
                        " picture");
        if (b.top == b.bottom || b.left == b.right) continue;
        for (std::size_t y = b.top; y < b.bottom; ++y)
            for (std::size_t x = b.left; x < b.right; ++x) {
                const bool edge = y < b.top + thickness || y + thickness >= b.bottom || x < b.left + thickness ||
                                  x + thickness >= b.right;
                if (!edge) continue;
                for (std::size_t c = 0; c < 3; ++c) picture(c, y, x) = colour[c];
            }
    }
}

}  // namespace xai
