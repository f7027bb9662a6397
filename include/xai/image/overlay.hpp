#pragma once
// A saliency map drawn over its image: the picture users know from pytorch-grad-cam.
//
// Reproduces pytorch-grad-cam's show_cam_on_image(img, mask, use_rgb=True, colormap,
// image_weight) (pytorch_grad_cam/utils/image.py), in float32 like numpy:
//   heatmap = colormap[⌊255 · mask⌋] / 255          (cv2.applyColorMap(np.uint8(255 * mask)))
//   cam     = (1 − w) · heatmap + w · img           w = image_weight, default 0.5
//   cam     = cam / max(cam)                        the maximum over all pixels and channels
// and returns cam as a 3×H×W float image. show_cam_on_image then returns np.uint8(255 · cam),
// which truncates: to_hwc_u8(cam, Rounding::truncate) gives exactly those bytes, while
// save_image rounds to the nearest byte.
//
// Differences, each deliberate:
//   - mask values outside [0, 1] are clamped (numpy would wrap them around 256); NaN/Inf refused;
//   - an image value below 0 is refused as well as one above 1 (pytorch-grad-cam checks only > 1);
//   - if max(cam) is 0 (a black image with image_weight = 1) the result is all zeros, not NaN;
//   - a grey (1-channel) image is replicated to RGB; an RGB image is used as is;
//   - with resize_map (default on) a map of another size is first resized to the image's H×W with
//     bilinear interpolation (PyTorch align_corners=False = OpenCV INTER_LINEAR, which
//     pytorch-grad-cam's scale_cam_image uses); with it off, the sizes must agree.
// The weights are (float)(1 − w) and (float)w with w a double, as numpy computes them, so the
// result is bit-identical to show_cam_on_image for the default w = 0.5 (every product is then
// exact). For other weights a compiler that fuses multiply-adds (GCC's default in GNU mode on
// FMA hardware) may change the last bit of a blended value.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include "xai/core/compiled.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/resize.hpp"

namespace xai {

namespace detail {

/// How many of the n values are NaN or ±Inf, in a loop the compiler vectorizes.
inline std::size_t count_non_finite(const float* values, std::size_t n) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i)
        count += static_cast<std::size_t>(!(std::abs(values[i]) <= std::numeric_limits<float>::max()));
    return count;
}

/// Throws invalid_argument unless every value of the image is in [0, 1] (so finite too).
inline void require_image_in_unit_range(const Image& image, const char* where) {
    const float* values = image.data();
    std::size_t outside = 0;  // a count rather than a flag: the compiler vectorizes it
    for (std::size_t i = 0; i < image.size(); ++i)
        outside += static_cast<std::size_t>(!((values[i] >= 0.0f) & (values[i] <= 1.0f)));
    if (outside == 0) return;
    require_finite(image, "xai::overlay(): image");
    const auto [lo, hi] = std::minmax_element(values, values + image.size());
    throw invalid_argument(message(where, ": image values span [", *lo, ", ", *hi, "], expected values in [0, 1]"));
}

/// The largest of n finite values (n ≥ 1), in eight independent lanes so that the compiler
/// vectorizes it; the maximum does not depend on the order of comparisons.
inline float max_value(const float* values, std::size_t n) {
    constexpr std::size_t lanes = 8;
    std::array<float, lanes> partial;
    partial.fill(values[0]);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
        for (std::size_t j = 0; j < lanes; ++j) partial[j] = std::max(partial[j], values[i + j]);
    for (; i < n; ++i) partial[0] = std::max(partial[0], values[i]);
    return *std::max_element(partial.begin(), partial.end());
}

}  // namespace detail

/// Options of overlay(); the defaults are pytorch-grad-cam's show_cam_on_image.
struct OverlayOptions {
    /// The heatmap's colormap; pytorch-grad-cam's default is cv2.COLORMAP_JET.
    Colormap colormap = Colormap::jet;
    /// Weight of the image in the blend, in [0, 1]; pytorch-grad-cam's default 0.5.
    double image_weight = 0.5;
    /// Resize a map of another size to the image's H×W (bilinear) instead of refusing it.
    bool resize_map = true;
};

/// The map (H×W, values in [0, 1]; normalize it first) blended over the image (1 or 3 channels,
/// values in [0, 1]) as a 3×H×W RGB image in [0, 1]; see the header comment for the formula.
XAI_LIB_INLINE Image overlay(const Image& image, const Map& map, const OverlayOptions& options = {});

// Defined here in header-only mode, in src/compiled.cpp in compiled mode (core/compiled.hpp).
#if XAI_LIB_DEFINITIONS
XAI_LIB_INLINE Image overlay(const Image& image, const Map& map, const OverlayOptions& options) {
    const char* where = "xai::overlay()";
    detail::require_nonempty(image, "xai::overlay(): image");
    detail::require_nonempty(map, "xai::overlay(): map");
    detail::require<shape_error>(image.shape(0) == 1 || image.shape(0) == 3, where, ": image has ", image.shape(0),
                                 " channels (shape ", shape_string(image.shape()), "), expected 1 (grey) or 3 (RGB)");
    detail::require_image_in_unit_range(image, where);
    detail::require(detail::count_non_finite(map.data(), map.size()) == 0,
                    "xai::overlay(): map contains NaN or Inf, expected finite values");
    detail::require(std::isfinite(options.image_weight) && options.image_weight >= 0.0 && options.image_weight <= 1.0,
                    where, ": image_weight is ", options.image_weight, ", expected a value in [0, 1]");

    const std::size_t height = image.shape(1), width = image.shape(2);
    const bool same_size = map.shape(0) == height && map.shape(1) == width;
    detail::require<shape_error>(same_size || options.resize_map, where, ": map is ", map.shape(0), "x", map.shape(1),
                                 " but the image is ", height, "x", width,
                                 "; resize it or set OverlayOptions::resize_map");
    // The heatmap is built in the output buffer and blended in place: one allocation per call
    // (three 224×224×3 temporaries made glibc return and re-fault pages on every call).
    Image cam = same_size ? apply_colormap(map, options.colormap)
                          : apply_colormap(resize(map, height, width, Interpolation::bilinear), options.colormap);

    const auto heat_weight = static_cast<float>(1.0 - options.image_weight);
    const auto image_weight = static_cast<float>(options.image_weight);
    const std::size_t plane = height * width;
    float* out = cam.data();
    for (std::size_t c = 0; c < 3; ++c) {
        // A grey image contributes its only plane to every channel.
        const float* img = image.data() + (image.shape(0) == 1 ? 0 : c * plane);
        float* oc = out + c * plane;
        for (std::size_t i = 0; i < plane; ++i) oc[i] = heat_weight * oc[i] + image_weight * img[i];
    }
    const float peak = detail::max_value(out, cam.size());
    if (peak <= 0.0f) {
        std::fill(cam.begin(), cam.end(), 0.0f);
        return cam;
    }
    for (std::size_t i = 0; i < cam.size(); ++i) out[i] /= peak;
    return cam;
}
#endif

}  // namespace xai
