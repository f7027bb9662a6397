#pragma once
// Gaussian smoothing of each channel of a C×H×W image, as scipy.ndimage.gaussian_filter with
// mode="reflect" and truncate=4.0 (what scikit-image's segmentation functions call for their
// `sigma` pre-smoothing):
//   taps  w_k = exp(−k² / (2σ²)) / Σ_j exp(−j² / (2σ²)),  k = −r..r,  r = ⌊4σ + 0.5⌋
//   edge  "reflect" repeats the edge pixel: (d c b a | a b c d | d c b a)
// The filter is separable: rows, then columns; sums are accumulated in double.

#include <cmath>
#include <cstddef>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// The largest σ accepted by gaussian_filter() and by the Gaussian blur of image/blur.hpp:
/// 1000 pixels (8001 taps), far beyond any useful smoothing. The bound keeps the taps' memory
/// finite and the radius ⌊4σ + 0.5⌋ representable, which a huge σ would overflow.
inline constexpr double max_gaussian_sigma = 1000.0;

namespace detail {

/// scipy's "reflect" index for any integer i on an axis of n samples.
inline std::size_t scipy_reflect_index(std::ptrdiff_t i, std::ptrdiff_t n) {
    const std::ptrdiff_t period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return static_cast<std::size_t>(i < n ? i : period - 1 - i);
}

inline std::vector<double> gaussian_taps(double sigma) {
    const auto radius = static_cast<std::ptrdiff_t>(4.0 * sigma + 0.5);
    std::vector<double> taps(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0.0;
    for (std::ptrdiff_t k = -radius; k <= radius; ++k)
        sum += taps[static_cast<std::size_t>(k + radius)] = std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma));
    for (double& t : taps) t /= sum;
    return taps;
}

/// Filters n samples spaced by `stride` in place (src copied to a line buffer first).
inline void gaussian_filter_line(float* data, std::size_t n, std::size_t stride, const std::vector<double>& taps,
                                 std::vector<double>& line) {
    const auto radius = static_cast<std::ptrdiff_t>(taps.size() / 2);
    const auto len = static_cast<std::ptrdiff_t>(n);
    line.resize(n);
    for (std::size_t i = 0; i < n; ++i) line[i] = data[i * stride];
    for (std::ptrdiff_t i = 0; i < len; ++i) {
        double acc = 0.0;
        for (std::ptrdiff_t k = -radius; k <= radius; ++k)
            acc += taps[static_cast<std::size_t>(k + radius)] * line[scipy_reflect_index(i + k, len)];
        data[static_cast<std::size_t>(i) * stride] = static_cast<float>(acc);
    }
}

}  // namespace detail

/// Each channel of a C×H×W image smoothed with a Gaussian of standard deviation `sigma` pixels
/// along both spatial axes (sigma = 0 returns a copy).
inline Image gaussian_filter(const Image& image, double sigma) {
    detail::require(sigma >= 0.0 && sigma <= max_gaussian_sigma, "xai::gaussian_filter(): sigma is ", sigma,
                    ", expected a value in [0, ", max_gaussian_sigma, "] (max_gaussian_sigma)");
    Image out = image;
    if (sigma == 0.0) return out;
    const std::vector<double> taps = detail::gaussian_taps(sigma);
    const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2);
    std::vector<double> line;
    for (std::size_t c = 0; c < channels; ++c) {
        float* plane = out.data() + c * h * w;
        for (std::size_t x = 0; x < w; ++x) detail::gaussian_filter_line(plane + x, h, w, taps, line);
        for (std::size_t y = 0; y < h; ++y) detail::gaussian_filter_line(plane + y * w, w, 1, taps, line);
    }
    return out;
}

}  // namespace xai
