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
// skimage does). rgb_to_lab computes in double and stores float. The segmentation algorithms
// use detail::rgb_planes_to_lab_fast instead: the same formulas in float with the vectorisable
// pow and cube root of image/fast_math.hpp, within 2e-4 of rgb_to_lab in L*, a* and b* for RGB
// in [0,1] (tests/test_superpixels.cpp checks it on a 33³ grid of colours); skimage itself
// computes in float32 for float32 images. A grey image
// (1 channel) is converted as the RGB image with three equal channels (skimage's gray2rgb,
// which lime applies to grey inputs), which gives a* = b* = 0 up to rounding.

#include <cmath>
#include <cstddef>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/fast_math.hpp"

namespace xai {

namespace detail {

inline double srgb_to_linear(double c) { return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92; }

inline double lab_f(double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; }

/// Converts n pixels given as three planes (float or double) to three L*, a*, b* planes (float
/// or double; may not alias the input), computing in double.
template <class In, class Out>
void rgb_planes_to_lab(const In* r, const In* g, const In* b, std::size_t n, Out* L, Out* A, Out* B) {
    for (std::size_t i = 0; i < n; ++i) {
        const double rl = srgb_to_linear(r[i]), gl = srgb_to_linear(g[i]), bl = srgb_to_linear(b[i]);
        const double x = (0.412453 * rl + 0.357580 * gl + 0.180423 * bl) / 0.95047;
        const double y = 0.212671 * rl + 0.715160 * gl + 0.072169 * bl;
        const double z = (0.019334 * rl + 0.119193 * gl + 0.950227 * bl) / 1.08883;
        const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
        L[i] = static_cast<Out>(116.0 * fy - 16.0);
        A[i] = static_cast<Out>(500.0 * (fx - fy));
        B[i] = static_cast<Out>(200.0 * (fy - fz));
    }
}

/// rgb_planes_to_lab in float with fast_math's exp2/log2: x^2.4 = 2^(2.4·log2 x),
/// t^(1/3) = 2^(log2(t)/3). Both branches are computed and one selected, so the loop vectorises.
inline void rgb_planes_to_lab_fast(const float* r, const float* g, const float* b, std::size_t n, float* __restrict L,
                                   float* __restrict A, float* __restrict B) {
    auto linear = [](float c) {
        const float curve = exp2_approx(2.4f * log2_approx((c + 0.055f) * (1.0f / 1.055f)));
        return select(c > 0.04045f, curve, c * (1.0f / 12.92f));
    };
    auto f = [](float t) {
        const float root = exp2_approx(log2_approx(t) * (1.0f / 3.0f));
        return select(t > 0.008856f, root, 7.787f * t + 16.0f / 116.0f);
    };
    for (std::size_t i = 0; i < n; ++i) {
        const float rl = linear(r[i]), gl = linear(g[i]), bl = linear(b[i]);
        const float fx = f((0.412453f * rl + 0.357580f * gl + 0.180423f * bl) * (1.0f / 0.95047f));
        const float fy = f(0.212671f * rl + 0.715160f * gl + 0.072169f * bl);
        const float fz = f((0.019334f * rl + 0.119193f * gl + 0.950227f * bl) * (1.0f / 1.08883f));
        L[i] = 116.0f * fy - 16.0f;
        A[i] = 500.0f * (fx - fy);
        B[i] = 200.0f * (fy - fz);
    }
}

/// CIELAB planes of a 1- or 3-channel C×H×W image with the fast conversion (3×H×W).
inline Image rgb_to_lab_fast(const Image& image) {
    const std::size_t n = image.shape(1) * image.shape(2);
    Image lab = Image::from_shape({3, image.shape(1), image.shape(2)});
    const float* r = image.data();
    const float* g = image.shape(0) == 3 ? r + n : r;
    const float* b = image.shape(0) == 3 ? r + 2 * n : r;
    rgb_planes_to_lab_fast(r, g, b, n, lab.data(), lab.data() + n, lab.data() + 2 * n);
    return lab;
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
