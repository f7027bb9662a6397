#pragma once
// sRGB → CIE L*a*b* (illuminant D65, 2° observer), exactly as scikit-image's rgb2lab, which
// SLIC and quickshift (and so the Python lime package) segment in.
//
//   linearise   c' = ((c + 0.055) / 1.055)^2.4   if c > 0.04045,   c / 12.92 otherwise
//   XYZ         [X Y Z]ᵀ = M [R' G' B']ᵀ,  M = [[0.412453 0.357580 0.180423]
//                                               [0.212671 0.715160 0.072169]
//                                               [0.019334 0.119193 0.950227]]
//   normalise   x = X / 0.95047,  y = Y / 1.0,  z = Z / 1.08883         (D65 white, skimage's values)
//   f(t)        = t^(1/3) if t > 0.008856, 7.787 t + 16/116 otherwise   (skimage's constants)
//   L* = 116 f(y) − 16,   a* = 500 (f(x) − f(y)),   b* = 200 (f(y) − f(z))
//
// Input is C×H×W float RGB in [0,1] (values outside are converted by the same formulas, as
// skimage does). The arithmetic is double; the result is stored as float. A grey image
// (1 channel) is converted as the RGB image with three equal channels (skimage's gray2rgb,
// which lime applies to grey inputs), which gives a* = b* = 0 up to rounding.

#include <cmath>
#include <cstddef>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

namespace detail {

inline double srgb_to_linear(double c) { return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92; }

inline double lab_f(double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; }

/// Converts n pixels given as three planes to three L*, a*, b* planes (may not alias the input).
inline void rgb_planes_to_lab(const float* r, const float* g, const float* b, std::size_t n, float* L, float* A,
                              float* B) {
    for (std::size_t i = 0; i < n; ++i) {
        const double rl = srgb_to_linear(r[i]), gl = srgb_to_linear(g[i]), bl = srgb_to_linear(b[i]);
        const double x = (0.412453 * rl + 0.357580 * gl + 0.180423 * bl) / 0.95047;
        const double y = 0.212671 * rl + 0.715160 * gl + 0.072169 * bl;
        const double z = (0.019334 * rl + 0.119193 * gl + 0.950227 * bl) / 1.08883;
        const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
        L[i] = static_cast<float>(116.0 * fy - 16.0);
        A[i] = static_cast<float>(500.0 * (fx - fy));
        B[i] = static_cast<float>(200.0 * (fy - fz));
    }
}

}  // namespace detail

/// CIE L*a*b* (D65) of an RGB or grey C×H×W image, as a 3×H×W image (L* in [0,100] for inputs in [0,1]).
inline Image rgb_to_lab(const Image& image) {
    detail::require<shape_error>(image.shape(0) == 1 || image.shape(0) == 3, "xai::rgb_to_lab(): image has ",
                                 image.shape(0), " channels, expected 3 (RGB) or 1 (grey) in a C×H×W image");
    const std::size_t n = image.shape(1) * image.shape(2);
    Image lab = Image::from_shape({3, image.shape(1), image.shape(2)});
    const float* r = image.data();
    const float* g = image.shape(0) == 3 ? r + n : r;
    const float* b = image.shape(0) == 3 ? r + 2 * n : r;
    detail::rgb_planes_to_lab(r, g, b, n, lab.data(), lab.data() + n, lab.data() + 2 * n);
    return lab;
}

}  // namespace xai
