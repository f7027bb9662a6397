#pragma once
// A regular grid of rectangular segments: the colour-blind baseline segmentation (and what
// occlusion-style explanations use). Row band i holds the pixels with ⌊y·rows/H⌋ = i, column
// band j those with ⌊x·cols/W⌋ = j, and the segment label is i·cols + j, so bands differ in
// size by at most one pixel.
//
// With rows = cols = 0 the grid is chosen from n_segments: cells as square as possible,
//   s = √(H·W / n_segments),  rows = clamp(round(H/s), 1, H),  cols = clamp(round(W/s), 1, W),
// so the count rows·cols is within a factor (1 ± 1/(2·rows))(1 ± 1/(2·cols)) of n_segments
// when n_segments <= H·W (and H·W when n_segments is larger).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// Parameters of grid_segments().
struct GridOptions {
    std::size_t n_segments = 64;  ///< approximate number of cells when rows and cols are 0
    std::size_t rows = 0;         ///< explicit number of row bands (0: from n_segments)
    std::size_t cols = 0;         ///< explicit number of column bands (0: from n_segments)
};

/// A rows×cols grid segmentation of an H×W image.
inline Segmentation grid_segments(std::size_t height, std::size_t width, const GridOptions& options = {}) {
    constexpr const char* where = "xai::grid_segments()";
    detail::require<shape_error>(height > 0 && width > 0, where, ": the image is ", height, "x", width,
                                 ", expected H, W > 0");
    detail::require((options.rows == 0) == (options.cols == 0), where, ": rows is ", options.rows, " and cols is ",
                    options.cols, ", expected both 0 (use n_segments) or both > 0");
    detail::require(options.rows > 0 || options.n_segments > 0, where, ": n_segments is 0, expected at least 1");
    std::size_t rows = options.rows, cols = options.cols;
    if (rows == 0) {
        const double side = std::sqrt(static_cast<double>(height * width) / static_cast<double>(options.n_segments));
        rows = static_cast<std::size_t>(std::clamp(std::round(static_cast<double>(height) / side), 1.0, static_cast<double>(height)));
        cols = static_cast<std::size_t>(std::clamp(std::round(static_cast<double>(width) / side), 1.0, static_cast<double>(width)));
    }
    detail::require(rows <= height && cols <= width, where, ": a ", rows, "x", cols, " grid does not fit a ", height,
                    "x", width, " image, expected rows <= H and cols <= W");
    Segmentation out;
    out.labels = SegmentLabels::from_shape({height, width});
    for (std::size_t y = 0; y < height; ++y) {
        const std::size_t band = y * rows / height;
        for (std::size_t x = 0; x < width; ++x)
            out.labels(y, x) = static_cast<std::int32_t>(band * cols + x * cols / width);
    }
    out.count = rows * cols;
    return out;
}

/// The grid of an image's spatial extent.
inline Segmentation grid_segments(const Image& image, const GridOptions& options = {}) {
    detail::require_rank(image, 3, "xai::grid_segments(): image", "C×H×W");
    return grid_segments(image.shape(1), image.shape(2), options);
}

/// The grid as a segmentation policy (for Lime<Model, GridSegmenter>).
struct GridSegmenter {
    GridOptions options;  ///< passed to grid_segments()
    /// grid_segments(image, options).
    Segmentation operator()(const Image& image) const { return grid_segments(image, options); }
};

}  // namespace xai
