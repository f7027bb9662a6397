#pragma once
// Where a map's evidence lies: the share of its positive attribution in each region of an image
// (object, spurious cue, background, or any regions a user annotates).
//
// For image i with map m and regions r = 0 … R−1 (each pixel in exactly one region),
//     share_r(i) = Σ_{p ∈ r} max(m(p), 0) / Σ_p max(m(p), 0),
// so the shares of an image sum to 1. This is the energy-based pointing game of Wang et al.
// (Score-CAM, CVPR Workshops 2020, §5.2; metrics/pointing_game.hpp) applied to every region of a
// partition instead of one box: evidence against the class (negative values) carries no share.
// A map without positive mass points nowhere: its shares are all 0 and it is flagged, and the
// audit (audit/attribution_audit.hpp) leaves it out of its means. A map that is uniform over the
// image gives each region its area fraction, the floor against which a share means something.
//
// Regions are given as labels (RegionLabels, N×H×W, one small integer per pixel), or built from
// binary masks by label_regions(): pixels in masks[k] get region k + 1, the rest region 0
// ("background").

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// N×H×W: the region of every pixel, 0 … R−1.
using RegionLabels = xt::xtensor<std::uint8_t, 3>;

/// The share of each image's positive attribution in each region.
struct RegionShares {
    xt::xtensor<double, 2> shares;  ///< N×R, each row sums to 1 (all 0 for an image without positive mass)
    std::vector<double> mass;       ///< Σ_p max(m(p), 0) of each image
    std::vector<std::uint8_t> attributed;  ///< 1 when the image's map has positive mass, 0 otherwise
    xt::xtensor<double, 2> area;    ///< N×R: each region's fraction of the image's pixels

    /// Number of images N.
    std::size_t images() const { return shares.shape(0); }
    /// Number of regions R.
    std::size_t regions() const { return shares.shape(1); }
};

/// Region labels from binary masks (each N×H×W): a pixel in masks[k] is region k + 1, a pixel in
/// none of them region 0. invalid_argument when a pixel lies in two masks or there are more than
/// 254 masks; shape_error when the masks' shapes differ.
inline RegionLabels label_regions(const std::vector<RegionMasks>& masks) {
    constexpr const char* where = "xai::label_regions()";
    detail::require(!masks.empty() && masks.size() < 255, where, ": ", masks.size(),
                    " masks, expected between 1 and 254 (region 0 is what no mask covers)");
    for (std::size_t k = 0; k < masks.size(); ++k)
        detail::require<shape_error>(masks[k].dimension() == 3 && masks[k].shape() == masks[0].shape() && masks[k].size() > 0,
                                     where, ": masks[", k, "] has shape ", shape_string(masks[k].shape()),
                                     ", expected N×H×W like masks[0] ", shape_string(masks[0].shape()));
    RegionLabels out = xt::zeros<std::uint8_t>(masks[0].shape());
    const std::size_t plane = masks[0].shape(1) * masks[0].shape(2);
    for (std::size_t k = 0; k < masks.size(); ++k)
        for (std::size_t p = 0; p < out.size(); ++p) {
            if (!masks[k].data()[p]) continue;
            detail::require(out.data()[p] == 0, where, ": pixel ", p % plane, " of image ", p / plane, " lies in masks[",
                            out.data()[p] - 1, "] and masks[", k, "], expected regions that do not overlap");
            out.data()[p] = static_cast<std::uint8_t>(k + 1);
        }
    return out;
}

/// The share of each map's positive attribution in each of `region_count` regions (maps and
/// regions both N×H×W; see the header comment).
inline RegionShares region_shares(const Maps& maps, const RegionLabels& regions, std::size_t region_count) {
    constexpr const char* where = "xai::region_shares()";
    detail::require<shape_error>(maps.dimension() == 3 && maps.size() > 0, where, ": maps has shape ",
                                 shape_string(maps.shape()), ", expected N×H×W with N, H, W > 0");
    if (!all_finite(maps.data(), maps.size()))
        throw invalid_argument(detail::message(where, ": maps contains NaN or Inf, expected finite saliency values"));
    detail::require<shape_error>(regions.shape() == maps.shape(), where, ": regions has shape ", shape_string(regions.shape()),
                                 ", expected the maps' shape ", shape_string(maps.shape()));
    detail::require(region_count >= 1 && region_count <= 255, where, ": region_count is ", region_count,
                    ", expected between 1 and 255");
    const auto top = *std::max_element(regions.begin(), regions.end());
    detail::require(top < region_count, where, ": regions holds label ", static_cast<int>(top), ", expected labels below ",
                    region_count);
    const std::size_t n = maps.shape(0), plane = maps.shape(1) * maps.shape(2);
    RegionShares out{xt::zeros<double>({n, region_count}), std::vector<double>(n, 0.0), std::vector<std::uint8_t>(n, 0),
                     xt::zeros<double>({n, region_count})};
    for (std::size_t i = 0; i < n; ++i) {
        const float* m = maps.data() + i * plane;
        const std::uint8_t* r = regions.data() + i * plane;
        double total = 0.0;
        for (std::size_t p = 0; p < plane; ++p) {
            const double v = m[p] > 0.0f ? static_cast<double>(m[p]) : 0.0;
            out.shares(i, r[p]) += v;
            out.area(i, r[p]) += 1.0;
            total += v;
        }
        for (std::size_t k = 0; k < region_count; ++k) {
            out.shares(i, k) = total > 0.0 ? out.shares(i, k) / total : 0.0;
            out.area(i, k) /= static_cast<double>(plane);
        }
        out.mass[i] = total;
        out.attributed[i] = total > 0.0 ? 1 : 0;
    }
    return out;
}

}  // namespace xai
