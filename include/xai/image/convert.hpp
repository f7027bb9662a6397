#pragma once
// Conversions between interleaved 8-bit pixels and xai's C×H×W float images in [0, 1].
//
//   H×W×C uint8 (what files, cameras and frameworks hand over)  →  C×H×W float, v / 255
//   C×H×W float                                                 →  H×W×C uint8, round(255 · v)
//
// The float → uint8 direction clamps to [0, 1] first (a blend or an interpolation may overshoot
// by a rounding error) and refuses NaN and Inf, which would otherwise become arbitrary bytes.
// Rounding::truncate reproduces numpy's np.uint8(255 * x), which pytorch-grad-cam uses.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// Interleaved 8-bit pixels, H×W×C (row-major, channels fastest): the layout of stb, OpenCV,
/// numpy images and most camera buffers.
using PixelsU8 = xt::xtensor<std::uint8_t, 3>;

/// How a value in [0, 1] becomes a byte.
enum class Rounding {
    nearest,   ///< ⌊255·v + 0.5⌋: the closest byte (what save_image uses)
    truncate,  ///< ⌊255·v⌋: numpy's np.uint8(255 * v), as pytorch-grad-cam's show_cam_on_image
};

namespace detail {

inline void require_pixel_extents(std::size_t height, std::size_t width, std::size_t channels, const char* where) {
    require<shape_error>(height > 0 && width > 0, where, ": the image is ", height, "x", width,
                         ", expected a height and width of at least 1");
    require<shape_error>(channels >= 1 && channels <= 4, where, ": the image has ", channels,
                         " channels, expected 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)");
}

/// Interleaved samples of `max_value` full scale → C×H×W float in [0, 1].
template <class Sample>
Image planar_from_interleaved(const Sample* pixels, std::size_t height, std::size_t width, std::size_t channels,
                              float max_value) {
    Image image = Image::from_shape({channels, height, width});
    const std::size_t plane = height * width;
    float* out = image.data();
    // v / max exactly (not v · (1/max), which differs in the last bit), so that a byte k always
    // becomes the same float k/255 and a save/load round trip is exact.
    for (std::size_t i = 0; i < plane; ++i)
        for (std::size_t c = 0; c < channels; ++c) out[c * plane + i] = static_cast<float>(pixels[i * channels + c]) / max_value;
    return image;
}

inline std::uint8_t to_byte(float v, Rounding rounding) {
    const float scaled = 255.0f * std::clamp(v, 0.0f, 1.0f);
    return static_cast<std::uint8_t>(rounding == Rounding::nearest ? std::floor(scaled + 0.5f) : std::floor(scaled));
}

}  // namespace detail

/// H×W×C bytes (channels 1–4) from a raw interleaved buffer → C×H×W float in [0, 1].
inline Image from_hwc_u8(const std::uint8_t* pixels, std::size_t height, std::size_t width,
                                 std::size_t channels) {
    detail::require(pixels != nullptr, "xai::from_hwc_u8(): pixels is null");
    detail::require_pixel_extents(height, width, channels, "xai::from_hwc_u8()");
    return detail::planar_from_interleaved(pixels, height, width, channels, 255.0f);
}

/// H×W×C bytes (channels 1–4) → C×H×W float in [0, 1].
inline Image from_hwc_u8(const PixelsU8& pixels) {
    detail::require_pixel_extents(pixels.shape(0), pixels.shape(1), pixels.shape(2), "xai::from_hwc_u8()");
    return detail::planar_from_interleaved(pixels.data(), pixels.shape(0), pixels.shape(1), pixels.shape(2), 255.0f);
}

/// C×H×W float (channels 1–4) → H×W×C bytes; values are clamped to [0, 1]; NaN/Inf refused.
inline PixelsU8 to_hwc_u8(const Image& image, Rounding rounding = Rounding::nearest) {
    detail::require_pixel_extents(image.shape(1), image.shape(2), image.shape(0), "xai::to_hwc_u8()");
    detail::require_finite(image, "xai::to_hwc_u8(): image");
    const std::size_t channels = image.shape(0), plane = image.shape(1) * image.shape(2);
    PixelsU8 pixels = PixelsU8::from_shape({image.shape(1), image.shape(2), channels});
    const float* in = image.data();
    std::uint8_t* out = pixels.data();
    for (std::size_t i = 0; i < plane; ++i)
        for (std::size_t c = 0; c < channels; ++c) out[i * channels + c] = detail::to_byte(in[c * plane + i], rounding);
    return pixels;
}

/// A 1×H×W grey image as 3×H×W RGB (the grey plane copied into each channel).
inline Image grey_to_rgb(const Image& grey) {
    detail::require_nonempty(grey, "xai::grey_to_rgb(): grey");
    detail::require<shape_error>(grey.shape(0) == 1, "xai::grey_to_rgb(): grey has ", grey.shape(0),
                                 " channels (shape ", shape_string(grey.shape()), "), expected 1");
    Image rgb = Image::from_shape({3, grey.shape(1), grey.shape(2)});
    const std::size_t plane = grey.shape(1) * grey.shape(2);
    for (std::size_t c = 0; c < 3; ++c) std::copy(grey.data(), grey.data() + plane, rgb.data() + c * plane);
    return rgb;
}

/// The image as 3×H×W RGB: grey is replicated, RGB is returned as is; alpha channels are refused
/// (compositing over a background is a choice this function will not make for the caller).
inline Image as_rgb(const Image& image) {
    detail::require_nonempty(image, "xai::as_rgb(): image");
    detail::require<shape_error>(image.shape(0) == 1 || image.shape(0) == 3, "xai::as_rgb(): image has ",
                                 image.shape(0), " channels (shape ", shape_string(image.shape()),
                                 "), expected 1 (grey) or 3 (RGB)");
    return image.shape(0) == 1 ? grey_to_rgb(image) : image;
}

}  // namespace xai
