#pragma once
// The result type shared by every superpixel algorithm, its checks, and what is derived from it
// (segment sizes, mean colours, boundaries).
//
// A segmentation is an H×W image of std::int32_t labels, contiguous from 0 to count − 1, so a
// label indexes a std::vector directly. Every algorithm in image/ (slic.hpp, quickshift.hpp,
// felzenszwalb.hpp, grid_segments.hpp) returns one; explainers such as LIME accept any
// segmentation that passes require_segmentation().

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// H×W superpixel labels.
using SegmentLabels = xt::xtensor<std::int32_t, 2>;

/// An H×W label image with labels 0..count−1, each used by at least one pixel.
struct Segmentation {
    SegmentLabels labels;    ///< H×W, the superpixel of each pixel, in 0..count−1
    std::size_t count = 0;   ///< number of superpixels

    std::size_t height() const { return labels.shape(0); }  ///< H
    std::size_t width() const { return labels.shape(1); }   ///< W
};

namespace detail {

/// The image a segmentation algorithm accepts: C×H×W with C = 1 (grey) or 3 (RGB), H, W > 0, finite.
inline void require_segmentable_image(const Image& image, const char* where) {
    require<shape_error>(image.shape(0) == 1 || image.shape(0) == 3, where, ": image has ", image.shape(0),
                         " channels, expected 1 (grey) or 3 (RGB) in a C×H×W image");
    require<shape_error>(image.shape(1) > 0 && image.shape(2) > 0, where, ": image is empty (",
                         shape_string(image.shape()), "), expected H, W > 0");
    if (!all_finite(image)) throw invalid_argument(message(where, ": image contains NaN or Inf, expected finite values"));
}

/// Renumbers arbitrary non-negative ids (e.g. the root pixel of each tree) to 0..n−1 in increasing
/// order of the id, as numpy's unique(..., return_inverse=True) does. `id_bound` > every id.
inline Segmentation labels_from_ids(const std::vector<std::size_t>& ids, std::size_t height, std::size_t width,
                                    std::size_t id_bound) {
    std::vector<std::int32_t> rank(id_bound, -1);
    for (std::size_t id : ids) rank[id] = 0;
    std::int32_t next = 0;
    for (auto& r : rank)
        if (r == 0) r = next++;
    Segmentation out;
    out.labels = SegmentLabels::from_shape({height, width});
    std::int32_t* dst = out.labels.data();
    for (std::size_t i = 0; i < ids.size(); ++i) dst[i] = rank[ids[i]];
    out.count = static_cast<std::size_t>(next);
    return out;
}

}  // namespace detail

/// Checks that `segmentation` labels an H×W image with contiguous labels 0..count−1 (each used);
/// throws shape_error or invalid_argument naming `where` otherwise.
inline void require_segmentation(const Segmentation& segmentation, std::size_t height, std::size_t width,
                                 const char* where) {
    detail::require<shape_error>(segmentation.height() == height && segmentation.width() == width, where,
                                 ": segmentation is ", segmentation.height(), "x", segmentation.width(),
                                 ", expected the image's ", height, "x", width);
    detail::require(segmentation.count > 0, where, ": segmentation has no segments, expected count >= 1");
    std::vector<char> used(segmentation.count, 0);
    for (std::int32_t label : segmentation.labels) {
        detail::require(label >= 0 && static_cast<std::size_t>(label) < segmentation.count, where,
                        ": segmentation label ", label, " is outside 0..", segmentation.count - 1);
        used[static_cast<std::size_t>(label)] = 1;
    }
    detail::require(std::all_of(used.begin(), used.end(), [](char u) { return u != 0; }), where,
                    ": segmentation labels are not contiguous, expected every label in 0..", segmentation.count - 1,
                    " to be used");
}

/// Number of pixels of each segment.
inline std::vector<std::size_t> segment_sizes(const Segmentation& segmentation) {
    std::vector<std::size_t> sizes(segmentation.count, 0);
    for (std::int32_t label : segmentation.labels) ++sizes[static_cast<std::size_t>(label)];
    return sizes;
}

/// count×C mean colour of each segment of a C×H×W image (row s = segment s), in double.
inline std::vector<std::vector<double>> segment_mean_colors(const Image& image, const Segmentation& segmentation) {
    const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
    detail::require<shape_error>(image.shape(1) == segmentation.height() && image.shape(2) == segmentation.width(),
                                 "xai::segment_mean_colors(): image is ", shape_string(image.shape()),
                                 ", segmentation is ", segmentation.height(), "x", segmentation.width());
    std::vector<std::vector<double>> mean(segmentation.count, std::vector<double>(channels, 0.0));
    const std::vector<std::size_t> sizes = segment_sizes(segmentation);
    const std::int32_t* labels = segmentation.labels.data();
    for (std::size_t c = 0; c < channels; ++c) {
        const float* plane = image.data() + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p) mean[static_cast<std::size_t>(labels[p])][c] += plane[p];
    }
    for (std::size_t s = 0; s < segmentation.count; ++s)
        for (double& v : mean[s]) v /= static_cast<double>(sizes[s]);
    return mean;
}

/// The pixel indices (y·W + x) of each segment, in raster order.
inline std::vector<std::vector<std::size_t>> segment_pixels(const Segmentation& segmentation) {
    std::vector<std::vector<std::size_t>> pixels(segmentation.count);
    const std::vector<std::size_t> sizes = segment_sizes(segmentation);
    for (std::size_t s = 0; s < segmentation.count; ++s) pixels[s].reserve(sizes[s]);
    const std::int32_t* labels = segmentation.labels.data();
    for (std::size_t p = 0; p < segmentation.labels.size(); ++p) pixels[static_cast<std::size_t>(labels[p])].push_back(p);
    return pixels;
}

/// H×W mask, 1 where a pixel's right or lower 4-neighbour has another label, or its left or
/// upper one does (skimage's find_boundaries(mode="thick")): both sides of every border.
inline xt::xtensor<std::uint8_t, 2> segment_boundaries(const Segmentation& segmentation) {
    const std::size_t h = segmentation.height(), w = segmentation.width();
    xt::xtensor<std::uint8_t, 2> edge = xt::zeros<std::uint8_t>({h, w});
    const std::int32_t* l = segmentation.labels.data();
    std::uint8_t* e = edge.data();
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const std::size_t p = y * w + x;
            if (x + 1 < w && l[p] != l[p + 1]) e[p] = e[p + 1] = 1;
            if (y + 1 < h && l[p] != l[p + w]) e[p] = e[p + w] = 1;
        }
    return edge;
}

/// A copy of a C×H×W image with the boundaries of `segmentation` painted in `color` (one value
/// per channel; a single value is used for every channel), like skimage's mark_boundaries.
inline Image mark_boundaries(const Image& image, const Segmentation& segmentation, const std::vector<float>& color) {
    const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
    detail::require<shape_error>(image.shape(1) == segmentation.height() && image.shape(2) == segmentation.width(),
                                 "xai::mark_boundaries(): image is ", shape_string(image.shape()), ", segmentation is ",
                                 segmentation.height(), "x", segmentation.width());
    detail::require(color.size() == 1 || color.size() == channels, "xai::mark_boundaries(): color has ", color.size(),
                    " values, expected 1 or ", channels);
    Image out = image;
    const xt::xtensor<std::uint8_t, 2> edge = segment_boundaries(segmentation);
    for (std::size_t c = 0; c < channels; ++c) {
        const float value = color.size() == 1 ? color[0] : color[c];
        float* plane = out.data() + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p)
            if (edge.data()[p] != 0) plane[p] = value;
    }
    return out;
}

}  // namespace xai
