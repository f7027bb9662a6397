#pragma once
// Boxes and masks from any saliency map: threshold (localization/threshold.hpp), connected
// components (localization/components.hpp), the tight box of each component.
//
//   xai::ExtractedRegions r = xai::extract_regions(explanation.map(0));          // CAM's 20% of max
//   r.largest_box()   the box of the largest component (Zhou et al. 2016, Choe et al. 2020)
//   r.boxes           every component's box, largest first
//   r.mask            the thresholded foreground at the map's size
//   r.components.mask(k)   one component's pixels
//
// The explainers' display maps are at the input's size already; a map at another size (a CAM
// layer's raw h×w map) is upsampled bilinearly first by the overload that takes the input's
// height and width, so boxes and masks are always in input pixels.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/resize.hpp"
#include "xai/localization/components.hpp"
#include "xai/localization/threshold.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of extract_regions().
struct ExtractionOptions {
    ThresholdOptions threshold = {};                    ///< the rule (default: 20% of the maximum, Zhou et al. 2016)
    Connectivity connectivity = Connectivity::eight;    ///< how pixels of a component touch
};

/// What a map localizes: the thresholded foreground, its components and their boxes.
struct ExtractedRegions {
    double threshold = 0.0;    ///< τ on the (normalised) map
    bool strict = false;       ///< foreground is s > τ (Otsu) rather than s ≥ τ
    RegionMask mask;           ///< H×W foreground
    Components components;     ///< its connected components (raster order)
    std::vector<Box> boxes;    ///< every component's box, largest first (most pixels; raster order among equals)
    std::vector<std::size_t> pixels;  ///< pixels of each box's component, in the order of `boxes`

    /// The largest component's box; an empty Box{} when the foreground is empty.
    Box largest_box() const { return boxes.empty() ? Box{} : boxes.front(); }

    /// The largest component's pixels (H×W); all false when the foreground is empty.
    RegionMask largest_mask() const {
        const std::size_t k = components.largest();
        return k < components.components.size() ? components.mask(k) : RegionMask(xt::zeros<bool>(mask.shape()));
    }
};

/// Thresholds `map` (H×W), finds its connected components and their boxes.
inline ExtractedRegions extract_regions(const Map& map, const ExtractionOptions& options = {}) {
    ThresholdedMap t = threshold_map(map, options.threshold);
    ExtractedRegions out{t.threshold, t.strict, std::move(t.mask), {}, {}, {}};
    out.components = connected_components(out.mask, options.connectivity);
    const auto& c = out.components.components;
    std::vector<std::size_t> order(c.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c[a].pixels > c[b].pixels; });
    for (std::size_t k : order) {
        out.boxes.push_back(c[k].box);
        out.pixels.push_back(c[k].pixels);
    }
    return out;
}

/// extract_regions() at the input's size: `map` (h×w, e.g. a CAM layer's raw map) is first
/// upsampled bilinearly to height × width (image/resize.hpp), so boxes and masks are in input pixels.
inline ExtractedRegions extract_regions(const Map& map, std::size_t height, std::size_t width,
                                        const ExtractionOptions& options = {}) {
    detail::require_nonempty(map, "xai::extract_regions(): map");
    detail::require(height > 0 && width > 0, "xai::extract_regions(): the input size is ", height, "×", width,
                    ", expected positive extents");
    if (map.shape(0) == height && map.shape(1) == width) return extract_regions(map, options);
    return extract_regions(resize(map, height, width, Interpolation::bilinear), options);
}

/// extract_regions() of every map of a batch (N×H×W).
inline std::vector<ExtractedRegions> extract_regions(const Maps& maps, const ExtractionOptions& options = {}) {
    detail::require_nonempty(maps, "xai::extract_regions(): maps");
    const std::size_t n = maps.shape(0), h = maps.shape(1), w = maps.shape(2);
    std::vector<ExtractedRegions> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        Map m = Map::from_shape({h, w});
        std::copy(maps.data() + i * h * w, maps.data() + (i + 1) * h * w, m.data());
        out.push_back(extract_regions(m, options));
    }
    return out;
}

}  // namespace xai
