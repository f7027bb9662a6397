#pragma once
// Min-max normalization of saliency maps to [0, 1].
//
// A flat map (max − min ≤ `flat_tolerance` · max(|max|, |min|, 1)) has no ordering to show and
// becomes all zeros instead of 0/0 = NaN. A map with NaN or Inf is refused: it means an
// upstream bug, and normalizing would hide it.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

namespace detail {
inline void normalize_plane_min_max(float* values, std::size_t n, float flat_tolerance) {
    const auto [lo_it, hi_it] = std::minmax_element(values, values + n);
    const float lo = *lo_it, hi = *hi_it;
    const float range = hi - lo;
    const float magnitude = std::max({std::abs(lo), std::abs(hi), 1.0f});
    if (!(range > flat_tolerance * magnitude)) {
        std::fill(values, values + n, 0.0f);
        return;
    }
    const float inv = 1.0f / range;
    for (std::size_t i = 0; i < n; ++i) values[i] = (values[i] - lo) * inv;
}
}  // namespace detail

/// (map − min) / (max − min); all zeros for a flat map.
inline Map normalize_min_max(const Map& map, float flat_tolerance = 1e-7f) {
    detail::require_nonempty(map, "xai::normalize_min_max(): map");
    detail::require_finite(map, "xai::normalize_min_max(): map");
    Map out = map;
    detail::normalize_plane_min_max(out.data(), out.size(), flat_tolerance);
    return out;
}

/// Each map of an N×H×W stack normalized on its own.
inline Maps normalize_min_max(const Maps& maps, float flat_tolerance = 1e-7f) {
    detail::require_nonempty(maps, "xai::normalize_min_max(): maps");
    detail::require_finite(maps, "xai::normalize_min_max(): maps");
    Maps out = maps;
    const std::size_t plane = maps.shape(1) * maps.shape(2);
    for (std::size_t i = 0; i < maps.shape(0); ++i)
        detail::normalize_plane_min_max(out.data() + i * plane, plane, flat_tolerance);
    return out;
}

}  // namespace xai
