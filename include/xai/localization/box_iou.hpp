#pragma once
// Intersection over union of two pixel boxes.
//
// Boxes are half-open, rows [top, bottom) × columns [left, right) (xai::Box,
// metrics/metric_inputs.hpp), so a box's area is its exact pixel count and
//     IoU(A, B) = |A ∩ B| / |A ∪ B| = |A ∩ B| / (|A| + |B| − |A ∩ B|),
// the overlap measure of PASCAL VOC (Everingham et al. 2010) that Choe et al. 2020 threshold at
// δ. Two empty boxes have IoU 0 (nothing was found). wsolevaluation stores inclusive corners
// (x0, y0, x1, y1) and adds 1 to each side, but fills them with OpenCV's x + w, i.e. one past the
// last pixel, so its boxes are one pixel too wide and tall; the half-open convention here has no
// such off-by-one (docs/localization.md).

#include <algorithm>
#include <cstddef>

#include "xai/core/error.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// IoU of two half-open boxes, in [0, 1]; 0 when both are empty. invalid_argument for an
/// inverted box (bottom < top or right < left).
inline double box_iou(const Box& a, const Box& b) {
    detail::require(a.top <= a.bottom && a.left <= a.right && b.top <= b.bottom && b.left <= b.right,
                    "xai::box_iou(): a box is inverted, expected top <= bottom and left <= right");
    const std::size_t top = std::max(a.top, b.top), bottom = std::min(a.bottom, b.bottom);
    const std::size_t left = std::max(a.left, b.left), right = std::min(a.right, b.right);
    const std::size_t overlap = (bottom > top && right > left) ? (bottom - top) * (right - left) : 0;
    const std::size_t joint = a.area() + b.area() - overlap;
    return joint == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(joint);
}

}  // namespace xai
