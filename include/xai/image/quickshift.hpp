#pragma once
// Quick shift superpixels: Vedaldi and Soatto, "Quick Shift and Kernel Methods for Mode
// Seeking", ECCV 2008.
//
// Each pixel is a point z = (ratio·colour, y, x). Quick shift estimates the Parzen density
//   P(z_i) = Σ_j exp(−‖z_i − z_j‖² / (2σ²)),   σ = kernel_size,
// over the pixels j within ⌈3σ⌉ rows and columns of i (the window scikit-image uses), links each
// pixel to the nearest pixel of higher density in that window,
//   parent(i) = argmin_{j : P(z_j) > P(z_i)} ‖z_i − z_j‖,
// cuts links longer than max_dist, and labels each resulting tree. Semantics are those of
// scikit-image's segmentation.quickshift (read from _quickshift.py and _quickshift_cy.pyx), which
// lime's LimeImageExplainer calls by default with kernel_size=4, max_dist=200, ratio=0.2 — the
// defaults of QuickshiftOptions. Colour is CIELAB (image/color.hpp); a grey image is converted
// as gray2rgb would, as lime does. Labels are numbered in increasing order of the flat index of
// each tree's root, as skimage's np.unique(..., return_inverse=True).
//
// One deliberate difference: skimage breaks ties between equal densities by adding Gaussian
// noise of σ = 1e-5 from a seeded NumPy generator; here a tie is broken by the flat pixel
// index (the higher index counts as denser), which keeps the result deterministic without
// randomness. Among equally near denser pixels the one first in raster order wins, as in skimage.
//
// Speed (skimage with lime's defaults: 234 ms at 224×224 on this class of machine; see
// benchmarks/bench_lime.cpp): the Gaussian is symmetric, so each pair of pixels is evaluated
// once and added to both densities; the inner loop runs over x with a branch-free polynomial
// exp that the compiler vectorises; the parent search visits window offsets in increasing
// spatial distance and stops as soon as the spatial distance alone exceeds the best distance
// found, so it usually looks at a handful of neighbours instead of (2·⌈3σ⌉+1)².

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/color.hpp"
#include "xai/image/fast_math.hpp"
#include "xai/image/gaussian_filter.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// Parameters of quickshift(); the defaults are the ones lime passes (scikit-image's own
/// defaults are ratio=1, kernel_size=5, max_dist=10).
struct QuickshiftOptions {
    double ratio = 0.2;          ///< weight of colour against position (lime: 0.2)
    double kernel_size = 4.0;    ///< σ of the Parzen window in pixels (lime: 4)
    double max_dist = 200.0;     ///< links longer than this are cut (lime: 200)
    double sigma = 0.0;          ///< Gaussian pre-smoothing in pixels (skimage: 0)
    bool convert_to_lab = true;  ///< segment in CIELAB (skimage: True)
};


/// Quick shift superpixels of a C×H×W image (C = 1 or 3); see the header for the semantics.
inline Segmentation quickshift(const Image& image, const QuickshiftOptions& options = {}) {
    constexpr const char* where = "xai::quickshift()";
    detail::require_segmentable_image(image, where);
    detail::require(std::isfinite(options.kernel_size) && options.kernel_size >= 1.0, where, ": kernel_size is ",
                    options.kernel_size, ", expected a finite value >= 1 (as skimage)");
    detail::require(std::isfinite(options.ratio) && options.ratio >= 0.0, where, ": ratio is ", options.ratio,
                    ", expected a finite value >= 0");
    detail::require(!std::isnan(options.max_dist) && options.max_dist >= 0.0, where, ": max_dist is ",
                    options.max_dist, ", expected a value >= 0");
    detail::require(std::isfinite(options.sigma) && options.sigma >= 0.0, where, ": sigma is ", options.sigma,
                    ", expected a finite value >= 0");

    Image work = options.convert_to_lab ? detail::rgb_to_lab_fast(image) : image;
    if (options.sigma > 0.0) work = gaussian_filter(work, options.sigma);
    for (float& v : work) v *= static_cast<float>(options.ratio);
    const std::size_t channels = work.shape(0), h = work.shape(1), w = work.shape(2), n = h * w;
    // skimage's window of ⌈3σ⌉ pixels, clipped to the image: beyond its extent the window holds no
    // pixel, so the result is the same, and a huge kernel_size cannot overflow the radius.
    const auto radius = static_cast<std::ptrdiff_t>(
        std::min(std::ceil(3.0 * options.kernel_size), static_cast<double>(std::max(h, w))));
    const auto neg_inv_two_sigma2 = static_cast<float>(-0.5 / (options.kernel_size * options.kernel_size));
    const float* plane0 = work.data();
    const float* plane1 = channels == 3 ? plane0 + n : plane0;
    const float* plane2 = channels == 3 ? plane0 + 2 * n : plane0;
    const float channel_scale = channels == 3 ? 1.0f : 0.0f;  // grey: planes 1, 2 alias plane 0, weigh them 0

    // Parzen densities: each unordered pair once, added to both pixels; the pixel itself adds 1.
    std::vector<float> density(n, 1.0f);
    std::vector<float> weight(w);
    const auto iw = static_cast<std::ptrdiff_t>(w), ih = static_cast<std::ptrdiff_t>(h);
    for (std::ptrdiff_t y = 0; y < ih; ++y) {
        for (std::ptrdiff_t dy = 0; dy <= radius && y + dy < ih; ++dy) {
            for (std::ptrdiff_t dx = dy == 0 ? 1 : -radius; dx <= radius; ++dx) {
                const std::ptrdiff_t x0 = std::max<std::ptrdiff_t>(0, -dx), x1 = std::min(iw, iw - dx);
                if (x0 >= x1) continue;
                const auto spatial = static_cast<float>(dy * dy + dx * dx);
                const std::size_t row = static_cast<std::size_t>(y) * w;
                const std::size_t other = static_cast<std::size_t>(y + dy) * w;
                const float* a0 = plane0 + row;
                const float* a1 = plane1 + row;
                const float* a2 = plane2 + row;
                const float* b0 = plane0 + other + dx;
                const float* b1 = plane1 + other + dx;
                const float* b2 = plane2 + other + dx;
                float* wt = weight.data();
                for (std::ptrdiff_t x = x0; x < x1; ++x) {
                    const float t0 = a0[x] - b0[x], t1 = a1[x] - b1[x], t2 = a2[x] - b2[x];
                    const float d = t0 * t0 + channel_scale * (t1 * t1 + t2 * t2) + spatial;
                    wt[x] = detail::exp_nonpositive(d * neg_inv_two_sigma2);
                }
                float* da = density.data() + row;
                for (std::ptrdiff_t x = x0; x < x1; ++x) da[x] += wt[x];
                float* db = density.data() + other + dx;
                for (std::ptrdiff_t x = x0; x < x1; ++x) db[x] += wt[x];
            }
        }
    }

    // Window offsets sorted by spatial distance, so the search can stop early.
    struct Offset {
        std::ptrdiff_t dy, dx;
        float spatial;
    };
    std::vector<Offset> offsets;
    for (std::ptrdiff_t dy = -radius; dy <= radius; ++dy)
        for (std::ptrdiff_t dx = -radius; dx <= radius; ++dx)
            if (dy != 0 || dx != 0) offsets.push_back({dy, dx, static_cast<float>(dy * dy + dx * dx)});
    std::stable_sort(offsets.begin(), offsets.end(), [](const Offset& a, const Offset& b) { return a.spatial < b.spatial; });

    // Parent: the nearest denser pixel (density ties: higher index is denser), if within max_dist.
    const double max_dist2 = options.max_dist * options.max_dist;
    std::vector<std::size_t> parent(n);
    for (std::ptrdiff_t y = 0; y < ih; ++y) {
        for (std::ptrdiff_t x = 0; x < iw; ++x) {
            const auto p = static_cast<std::size_t>(y * iw + x);
            const float own = density[p];
            float best = std::numeric_limits<float>::infinity();
            std::size_t best_q = p;
            for (const Offset& o : offsets) {
                if (o.spatial > best) break;
                const std::ptrdiff_t qy = y + o.dy, qx = x + o.dx;
                if (qy < 0 || qy >= ih || qx < 0 || qx >= iw) continue;
                const auto q = static_cast<std::size_t>(qy * iw + qx);
                if (!(density[q] > own || (density[q] == own && q > p))) continue;
                const float t0 = plane0[p] - plane0[q], t1 = plane1[p] - plane1[q], t2 = plane2[p] - plane2[q];
                const float d = t0 * t0 + channel_scale * (t1 * t1 + t2 * t2) + o.spatial;
                if (d < best || (d == best && q < best_q)) {
                    best = d;
                    best_q = q;
                }
            }
            parent[p] = static_cast<double>(best) > max_dist2 ? p : best_q;
        }
    }

    // Roots: follow parents (density strictly increases along a path, so there are no cycles).
    std::vector<std::size_t> root(n);
    std::vector<std::size_t> path;
    std::vector<char> done(n, 0);
    for (std::size_t p = 0; p < n; ++p) {
        std::size_t r = p;
        path.clear();
        while (done[r] == 0 && parent[r] != r) {
            path.push_back(r);
            r = parent[r];
        }
        const std::size_t top = done[r] != 0 ? root[r] : r;
        root[r] = top;
        done[r] = 1;
        for (std::size_t q : path) {
            root[q] = top;
            done[q] = 1;
        }
    }
    return detail::labels_from_ids(root, h, w, n);
}

/// Quick shift as a segmentation policy (for Lime<Model, Quickshift>; lime's default).
struct Quickshift {
    QuickshiftOptions options;  ///< passed to quickshift()
    /// quickshift(image, options).
    Segmentation operator()(const Image& image) const { return quickshift(image, options); }
};

}  // namespace xai
