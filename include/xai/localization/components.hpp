#pragma once
// Connected components of a binary mask, with each component's size and tight box.
//
// Two foreground pixels are connected when they touch by an edge (4-connectivity) or by an edge
// or a corner (8-connectivity, the default: the connectivity of the outer borders OpenCV's
// findContours traces, Suzuki & Abe 1985, which wsolevaluation and the CAM code use to draw
// boxes). Components are numbered in raster order of their first pixel; "the largest" is the one
// with the most pixels, the first in that order among equals.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Which neighbours touch: 4 (edges) or 8 (edges and corners).
enum class Connectivity { four = 4, eight = 8 };

/// One connected component of a mask.
struct Component {
    std::size_t pixels = 0;  ///< number of pixels
    Box box;                 ///< tight half-open box of its pixels
    std::size_t first = 0;   ///< raster index (y·W + x) of its first pixel
};

/// The connected components of a mask.
struct Components {
    /// H×W: 0 for background, k + 1 for a pixel of components[k].
    xt::xtensor<std::uint32_t, 2> labels;
    /// In raster order of their first pixel.
    std::vector<Component> components;

    /// Index of the largest component (most pixels, the first among equals); components.size()
    /// when there is none.
    std::size_t largest() const {
        std::size_t best = components.size();
        for (std::size_t k = 0; k < components.size(); ++k)
            if (best == components.size() || components[k].pixels > components[best].pixels) best = k;
        return best;
    }

    /// The H×W mask of components[k].
    RegionMask mask(std::size_t k) const {
        detail::require(k < components.size(), "xai::Components::mask(): component ", k, " is out of range, expected below ",
                        components.size());
        RegionMask out = xt::zeros<bool>(labels.shape());
        const auto label = static_cast<std::uint32_t>(k + 1);
        auto o = out.begin();
        for (std::uint32_t l : labels) *o++ = l == label;
        return out;
    }
};

/// The connected components of `mask` (H×W), labelled by a breadth-first flood fill from each
/// unlabelled foreground pixel in raster order.
inline Components connected_components(const RegionMask& mask, Connectivity connectivity = Connectivity::eight) {
    detail::require_nonempty(mask, "xai::connected_components(): mask");
    const std::size_t h = mask.shape(0), w = mask.shape(1);
    Components out{xt::zeros<std::uint32_t>({h, w}), {}};
    std::vector<std::size_t> queue;
    const bool corners = connectivity == Connectivity::eight;
    for (std::size_t start = 0; start < h * w; ++start) {
        if (!mask.data()[start] || out.labels.data()[start] != 0) continue;
        const auto label = static_cast<std::uint32_t>(out.components.size() + 1);
        Component c{0, {start / w, start % w, start / w + 1, start % w + 1}, start};
        queue.assign(1, start);
        out.labels.data()[start] = label;
        for (std::size_t head = 0; head < queue.size(); ++head) {
            const std::size_t p = queue[head], y = p / w, x = p % w;
            ++c.pixels;
            c.box.top = std::min(c.box.top, y);
            c.box.left = std::min(c.box.left, x);
            c.box.bottom = std::max(c.box.bottom, y + 1);
            c.box.right = std::max(c.box.right, x + 1);
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    if ((dy == 0 && dx == 0) || (!corners && dy != 0 && dx != 0)) continue;
                    if ((dy < 0 && y == 0) || (dy > 0 && y + 1 == h) || (dx < 0 && x == 0) || (dx > 0 && x + 1 == w)) continue;
                    const auto ny = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(y) + dy);
                    const auto nx = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(x) + dx);
                    const std::size_t q = ny * w + nx;
                    if (mask.data()[q] && out.labels.data()[q] == 0) {
                        out.labels.data()[q] = label;
                        queue.push_back(q);
                    }
                }
        }
        out.components.push_back(c);
    }
    return out;
}

}  // namespace xai
