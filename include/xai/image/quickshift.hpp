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
// Ties between equal densities (QuickshiftOptions::ties). skimage adds Gaussian noise of
// σ = 1e-5 to every density before linking, drawn from numpy.random.default_rng(random_seed)
// (random_seed = 42 by default; skimage 0.19, _quickshift_cy.pyx), so on flat regions — where
// many pixels have exactly the same density — the links, and so the segments, follow that
// noise. This library's default, QuickshiftTies::pixel_index, breaks an exact tie by the flat
// pixel index instead (the higher index counts as denser): deterministic and without
// randomness, but on large flat areas the segments differ from skimage's (full-size astronaut
// photo: ARI 0.76, 167 against 182 segments; docs/superpixels.md has a picture).
// QuickshiftTies::seeded_noise does what skimage does: densities in double with std::exp, the
// exact CIELAB conversion, and NumPy's normal draws for `tie_seed` (image/detail/numpy_random.hpp),
// for users who need skimage's segments (about 6× slower than the default). Among equally near
// denser pixels the one first in raster order wins, under either rule, as in skimage.
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
#include "xai/image/detail/numpy_random.hpp"
#include "xai/image/fast_math.hpp"
#include "xai/image/gaussian_filter.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// How quickshift() breaks ties between equal densities (see the header).
enum class QuickshiftTies {
    pixel_index,   ///< the higher flat pixel index counts as denser (deterministic, float, fast)
    seeded_noise,  ///< skimage's rule: N(0, 1e-5²) noise from numpy.random.default_rng(tie_seed), in double
};

/// Parameters of quickshift(); the defaults are the ones lime passes (scikit-image's own
/// defaults are ratio=1, kernel_size=5, max_dist=10).
struct QuickshiftOptions {
    double ratio = 0.2;          ///< weight of colour against position (lime: 0.2)
    double kernel_size = 4.0;    ///< σ of the Parzen window in pixels (lime: 4)
    double max_dist = 200.0;     ///< links longer than this are cut (lime: 200)
    double sigma = 0.0;          ///< Gaussian pre-smoothing in pixels (skimage: 0)
    bool convert_to_lab = true;  ///< segment in CIELAB (skimage: True)
    /// How exact ties between densities are broken (see the header): by pixel index (default,
    /// deterministic) or by skimage's seeded noise, which reproduces skimage's segments.
    QuickshiftTies ties = QuickshiftTies::pixel_index;
    std::uint64_t tie_seed = 42;  ///< the seeded_noise rule's seed: skimage's random_seed (default 42)
};


namespace detail {

/// Quick shift on planes already converted and scaled (three planes; a grey image passes its one
/// plane three times with channel_scale 0). Densities and distances in Scalar, the Gaussian
/// from `exp` (x ≤ 0). `noise` (H·W values, or empty) is added to the densities and then
/// decides ties, as skimage; without it a tie goes to the higher pixel index.
template <class Scalar, class Exp>
Segmentation quickshift_planes(const Scalar* plane0, const Scalar* plane1, const Scalar* plane2, Scalar channel_scale,
                               std::size_t h, std::size_t w, double kernel_size, double max_dist,
                               const std::vector<double>& noise, Exp exp) {
    const std::size_t n = h * w;
    // skimage's window of ⌈3σ⌉ pixels, clipped to the image: beyond its extent the window holds no
    // pixel, so the result is the same, and a huge kernel_size cannot overflow the radius.
    const auto radius = static_cast<std::ptrdiff_t>(std::min(std::ceil(3.0 * kernel_size), static_cast<double>(std::max(h, w))));
    const auto neg_inv_two_sigma2 = static_cast<Scalar>(-0.5 / (kernel_size * kernel_size));

    // Parzen densities: each unordered pair once, added to both pixels; the pixel itself adds 1.
    std::vector<Scalar> density(n, Scalar(1));
    std::vector<Scalar> weight(w);
    const auto iw = static_cast<std::ptrdiff_t>(w), ih = static_cast<std::ptrdiff_t>(h);
    for (std::ptrdiff_t y = 0; y < ih; ++y) {
        for (std::ptrdiff_t dy = 0; dy <= radius && y + dy < ih; ++dy) {
            for (std::ptrdiff_t dx = dy == 0 ? 1 : -radius; dx <= radius; ++dx) {
                const std::ptrdiff_t x0 = std::max<std::ptrdiff_t>(0, -dx), x1 = std::min(iw, iw - dx);
                if (x0 >= x1) continue;
                const auto spatial = static_cast<Scalar>(dy * dy + dx * dx);
                const std::size_t row = static_cast<std::size_t>(y) * w;
                const std::size_t other = static_cast<std::size_t>(y + dy) * w;
                const Scalar* a0 = plane0 + row;
                const Scalar* a1 = plane1 + row;
                const Scalar* a2 = plane2 + row;
                const Scalar* b0 = plane0 + other + dx;
                const Scalar* b1 = plane1 + other + dx;
                const Scalar* b2 = plane2 + other + dx;
                Scalar* wt = weight.data();
                for (std::ptrdiff_t x = x0; x < x1; ++x) {
                    const Scalar t0 = a0[x] - b0[x], t1 = a1[x] - b1[x], t2 = a2[x] - b2[x];
                    const Scalar d = t0 * t0 + channel_scale * (t1 * t1 + t2 * t2) + spatial;
                    wt[x] = exp(d * neg_inv_two_sigma2);
                }
                Scalar* da = density.data() + row;
                for (std::ptrdiff_t x = x0; x < x1; ++x) da[x] += wt[x];
                Scalar* db = density.data() + other + dx;
                for (std::ptrdiff_t x = x0; x < x1; ++x) db[x] += wt[x];
            }
        }
    }
    const bool noisy = !noise.empty();
    if (noisy)
        for (std::size_t p = 0; p < n; ++p) density[p] += static_cast<Scalar>(noise[p]);

    // Window offsets sorted by spatial distance, so the search can stop early.
    struct Offset {
        std::ptrdiff_t dy, dx;
        Scalar spatial;
    };
    std::vector<Offset> offsets;
    for (std::ptrdiff_t dy = -radius; dy <= radius; ++dy)
        for (std::ptrdiff_t dx = -radius; dx <= radius; ++dx)
            if (dy != 0 || dx != 0) offsets.push_back({dy, dx, static_cast<Scalar>(dy * dy + dx * dx)});
    std::stable_sort(offsets.begin(), offsets.end(), [](const Offset& a, const Offset& b) { return a.spatial < b.spatial; });

    // Parent: the nearest denser pixel (without noise, density ties: higher index is denser), if within max_dist.
    const double max_dist2 = max_dist * max_dist;
    std::vector<std::size_t> parent(n);
    for (std::ptrdiff_t y = 0; y < ih; ++y) {
        for (std::ptrdiff_t x = 0; x < iw; ++x) {
            const auto p = static_cast<std::size_t>(y * iw + x);
            const Scalar own = density[p];
            Scalar best = std::numeric_limits<Scalar>::infinity();
            std::size_t best_q = p;
            for (const Offset& o : offsets) {
                if (o.spatial > best) break;
                const std::ptrdiff_t qy = y + o.dy, qx = x + o.dx;
                if (qy < 0 || qy >= ih || qx < 0 || qx >= iw) continue;
                const auto q = static_cast<std::size_t>(qy * iw + qx);
                if (!(density[q] > own || (!noisy && density[q] == own && q > p))) continue;
                const Scalar t0 = plane0[p] - plane0[q], t1 = plane1[p] - plane1[q], t2 = plane2[p] - plane2[q];
                const Scalar d = t0 * t0 + channel_scale * (t1 * t1 + t2 * t2) + o.spatial;
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
    return labels_from_ids(root, h, w, n);
}

/// skimage's tie-breaking noise: numpy.random.default_rng(seed).normal(scale=1e-5, size=(H, W)),
/// row-major.
inline std::vector<double> quickshift_tie_noise(std::size_t h, std::size_t w, std::uint64_t seed) {
    NumpyNormal normal(seed);
    std::vector<double> noise(h * w);
    for (double& v : noise) v = 1e-5 * normal();
    return noise;
}

}  // namespace detail

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
    detail::require(options.ties == QuickshiftTies::pixel_index || options.ties == QuickshiftTies::seeded_noise,
                    where, ": ties is ", static_cast<int>(options.ties),
                    ", expected QuickshiftTies::pixel_index or seeded_noise");
    const std::size_t h = image.shape(1), w = image.shape(2), n = h * w;
    const bool grey = !options.convert_to_lab && image.shape(0) == 1;

    if (options.ties == QuickshiftTies::pixel_index) {
        Image work = options.convert_to_lab ? detail::rgb_to_lab_fast(image) : image;
        if (options.sigma > 0.0) work = gaussian_filter(work, options.sigma);
        for (float& v : work) v *= static_cast<float>(options.ratio);
        const float* plane0 = work.data();
        const float* plane1 = grey ? plane0 : plane0 + n;
        const float* plane2 = grey ? plane0 : plane0 + 2 * n;
        // grey: planes 1, 2 alias plane 0, weigh them 0
        return detail::quickshift_planes<float>(plane0, plane1, plane2, grey ? 0.0f : 1.0f, h, w, options.kernel_size,
                                                options.max_dist, {},
                                                [](float x) { return detail::exp_nonpositive(x); });
    }

    // skimage's precision for a float64 image: CIELAB, densities and distances in double.
    std::vector<double> work(3 * n);
    const std::size_t planes = grey ? 1 : 3;
    if (options.convert_to_lab) {
        const float* r = image.data();
        const float* g = image.shape(0) == 3 ? r + n : r;
        const float* b = image.shape(0) == 3 ? r + 2 * n : r;
        detail::rgb_planes_to_lab(r, g, b, n, work.data(), work.data() + n, work.data() + 2 * n);
    } else {
        std::copy(image.begin(), image.end(), work.begin());
    }
    if (options.sigma > 0.0) {
        // scipy's gaussian_filter in this library's float implementation (the only float step)
        Image planes_image = Image::from_shape({planes, h, w});
        std::copy(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(planes * n), planes_image.begin());
        planes_image = gaussian_filter(planes_image, options.sigma);
        std::copy(planes_image.begin(), planes_image.end(), work.begin());
    }
    for (double& v : work) v *= options.ratio;
    const double* plane0 = work.data();
    const double* plane1 = grey ? plane0 : plane0 + n;
    const double* plane2 = grey ? plane0 : plane0 + 2 * n;
    return detail::quickshift_planes<double>(plane0, plane1, plane2, grey ? 0.0 : 1.0, h, w, options.kernel_size,
                                             options.max_dist, detail::quickshift_tie_noise(h, w, options.tie_seed),
                                             [](double x) { return std::exp(x); });
}

/// Quick shift as a segmentation policy (for Lime<Model, Quickshift>; lime's default).
struct Quickshift {
    QuickshiftOptions options;  ///< passed to quickshift()
    /// quickshift(image, options).
    Segmentation operator()(const Image& image) const { return quickshift(image, options); }
};

}  // namespace xai
