#pragma once
// Felzenszwalb–Huttenlocher graph segmentation: "Efficient Graph-Based Image Segmentation",
// IJCV 59(2), 2004.
//
// Pixels are nodes of an 8-connected grid graph whose edge weights are the Euclidean colour
// distances between neighbours. Edges are visited in increasing weight; two components C1, C2
// joined by an edge of weight w merge when
//   w < MInt(C1, C2) = min(Int(C1) + τ(C1), Int(C2) + τ(C2)),   τ(C) = k / |C|,
// where Int(C) is the largest edge weight of C's minimum spanning tree (the weight of the edge
// that last merged it). A second pass over the sorted edges merges components smaller than
// min_size with a neighbour. Semantics are scikit-image's segmentation.felzenszwalb (read from
// _felzenszwalb_cy.pyx): the image (raw RGB or grey in [0,1], not CIELAB) is smoothed with a
// Gaussian of `sigma` (scipy reflect mode, truncate 4; image/gaussian_filter.hpp); k = scale/255
// so that `scale` means what the paper's k means for 8-bit images; the merge test is strict (<);
// union–find keeps the smallest pixel index as root, so labels are numbered 0..n−1 in raster
// order of each segment's first pixel. Equal weights are visited in the order skimage lists the
// edges (right, down, down-right, up-right; each in raster order) by a stable sort, where
// numpy's argsort does not promise an order.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/gaussian_filter.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// Parameters of felzenszwalb(); the defaults are scikit-image's.
struct FelzenszwalbOptions {
    double scale = 1.0;         ///< the paper's k (for 8-bit values): higher gives larger segments (skimage: 1)
    double sigma = 0.8;         ///< Gaussian pre-smoothing in pixels (skimage: 0.8)
    std::size_t min_size = 20;  ///< smaller segments are merged into a neighbour (skimage: 20)
};

namespace detail {

/// Union–find over pixel indices whose root is always the smallest index of the set (skimage's ccomp).
class MinRootForest {
public:
    explicit MinRootForest(std::size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), std::size_t{0}); }

    std::size_t find(std::size_t n) {
        std::size_t root = n;
        while (parent_[root] < root) root = parent_[root];
        while (parent_[n] < n) {  // path compression
            const std::size_t next = parent_[n];
            parent_[n] = root;
            n = next;
        }
        return root;
    }

    /// Joins the sets of two roots; returns the new root (the smaller).
    std::size_t join(std::size_t a, std::size_t b) {
        const std::size_t root = std::min(a, b);
        parent_[a] = parent_[b] = root;
        return root;
    }

private:
    std::vector<std::size_t> parent_;
};

}  // namespace detail

/// Felzenszwalb–Huttenlocher segmentation of a C×H×W image (C = 1 or 3); see the header.
inline Segmentation felzenszwalb(const Image& image, const FelzenszwalbOptions& options = {}) {
    constexpr const char* where = "xai::felzenszwalb()";
    detail::require_segmentable_image(image, where);
    detail::require(std::isfinite(options.scale) && options.scale >= 0.0, where, ": scale is ", options.scale,
                    ", expected a finite value >= 0");
    detail::require(std::isfinite(options.sigma) && options.sigma >= 0.0, where, ": sigma is ", options.sigma,
                    ", expected a finite value >= 0");

    const Image smooth = gaussian_filter(image, options.sigma);
    const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), n = h * w;
    auto cost = [&](std::size_t p, std::size_t q) {
        double sum = 0.0;
        for (std::size_t c = 0; c < channels; ++c) {
            const double d = static_cast<double>(smooth.data()[c * n + p]) - smooth.data()[c * n + q];
            sum += d * d;
        }
        return std::sqrt(sum);
    };
    struct Edge {
        double cost;
        std::size_t a, b;
    };
    std::vector<Edge> edges;
    edges.reserve(4 * n);
    for (std::size_t y = 0; y < h; ++y)  // right
        for (std::size_t x = 0; x + 1 < w; ++x) edges.push_back({cost(y * w + x + 1, y * w + x), y * w + x + 1, y * w + x});
    for (std::size_t y = 0; y + 1 < h; ++y)  // down
        for (std::size_t x = 0; x < w; ++x) edges.push_back({cost((y + 1) * w + x, y * w + x), (y + 1) * w + x, y * w + x});
    for (std::size_t y = 0; y + 1 < h; ++y)  // down-right
        for (std::size_t x = 0; x + 1 < w; ++x)
            edges.push_back({cost((y + 1) * w + x + 1, y * w + x), (y + 1) * w + x + 1, y * w + x});
    for (std::size_t y = 0; y + 1 < h; ++y)  // up-right: (y, x+1) with (y+1, x)
        for (std::size_t x = 0; x + 1 < w; ++x)
            edges.push_back({cost(y * w + x + 1, (y + 1) * w + x), y * w + x + 1, (y + 1) * w + x});
    std::stable_sort(edges.begin(), edges.end(), [](const Edge& l, const Edge& r) { return l.cost < r.cost; });

    const double k = options.scale / 255.0;
    detail::MinRootForest forest(n);
    std::vector<std::size_t> size(n, 1);
    std::vector<double> internal(n, 0.0);
    for (const Edge& e : edges) {
        const std::size_t a = forest.find(e.a), b = forest.find(e.b);
        if (a == b) continue;
        const double threshold = std::min(internal[a] + k / static_cast<double>(size[a]),
                                          internal[b] + k / static_cast<double>(size[b]));
        if (e.cost < threshold) {
            const std::size_t root = forest.join(a, b);
            size[root] = size[a] + size[b];
            internal[root] = e.cost;
        }
    }
    for (const Edge& e : edges) {
        const std::size_t a = forest.find(e.a), b = forest.find(e.b);
        if (a == b) continue;
        if (size[a] < options.min_size || size[b] < options.min_size) {
            const std::size_t root = forest.join(a, b);
            size[root] = size[a] + size[b];
        }
    }
    std::vector<std::size_t> roots(n);
    for (std::size_t p = 0; p < n; ++p) roots[p] = forest.find(p);
    return detail::labels_from_ids(roots, h, w, n);
}

/// Felzenszwalb–Huttenlocher as a segmentation policy (for Lime<Model, Felzenszwalb>).
struct Felzenszwalb {
    FelzenszwalbOptions options;  ///< passed to felzenszwalb()
    /// felzenszwalb(image, options).
    Segmentation operator()(const Image& image) const { return felzenszwalb(image, options); }
};

}  // namespace xai
