#pragma once
// Attribution maps as pictures, the way Captum draws them (captum/attr/_utils/visualization.py,
// visualize_image_attr): a colormap chosen by the sign mode, the "heat_map" style and the
// "blended_heat_map" style.
//
//   sign mode   colormap (Captum's default)                   values
//   all         RdWhGn: red → white → green, diverging         [−1, 1], 0 is white
//   positive    matplotlib's Greens                            [0, 1]
//   negative    matplotlib's Reds                              [0, 1]
//   absolute    matplotlib's Blues                             [0, 1]
//
// The tables are matplotlib's: LinearSegmentedColormap.from_list over the anchor colours with
// 256 entries (linear interpolation at i/255), indexed by min(255, ⌊256·t⌋) with
// t = (v − vmin)/(vmax − vmin) clamped to [0, 1] — Colormap.__call__'s rule. RdWhGn's anchors
// are matplotlib's named colours red (1, 0, 0), white and green (0, 128/255, 0); Greens, Reds
// and Blues are ColorBrewer's nine-class sequential schemes (Brewer, colorbrewer2.org), which
// matplotlib's _cm.py stores as those bytes / 255.
//
// blended_heat_map(image, map, sign, alpha) is Captum's "blended_heat_map": the image's mean over
// its channels drawn with matplotlib's "gray" colormap (autoscaled to the grey image's own
// minimum and maximum, as imshow does; a flat image is black), and the heat map drawn over it
// with opacity alpha (0.5 by default):  out = alpha · heat + (1 − alpha) · grey.
// The map must already be normalized (image/attribution_map.hpp: normalize_attribution).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/attribution_map.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/resize.hpp"

namespace xai {

namespace detail {

/// A 256-entry table interpolated linearly between equally spaced anchor colours (bytes),
/// as matplotlib's LinearSegmentedColormap.from_list(name, colours, N = 256).
template <std::size_t Anchors>
ColormapTable interpolated_table(const std::array<std::array<std::uint8_t, 3>, Anchors>& anchors) {
    static_assert(Anchors >= 2);
    ColormapTable table{};
    for (std::size_t i = 0; i < 256; ++i) {
        const double x = static_cast<double>(i) / 255.0 * static_cast<double>(Anchors - 1);
        const std::size_t k = std::min<std::size_t>(Anchors - 2, static_cast<std::size_t>(x));
        const double t = x - static_cast<double>(k);
        for (std::size_t c = 0; c < 3; ++c) {
            const double lo = anchors[k][c] / 255.0, hi = anchors[k + 1][c] / 255.0;
            table[i][c] = static_cast<float>(lo + t * (hi - lo));
        }
    }
    return table;
}

/// matplotlib's Colormap.__call__ index of t ∈ [0, 1]: min(255, ⌊256·t⌋) (t clamped first).
inline std::size_t matplotlib_index(double t) {
    const double clamped = std::clamp(t, 0.0, 1.0);
    return std::min<std::size_t>(255, static_cast<std::size_t>(256.0 * clamped));
}

}  // namespace detail

/// The colour table Captum uses for a sign mode (see the header comment): RdWhGn for all,
/// Greens for positive, Reds for negative, Blues for absolute.
inline const ColormapTable& attribution_colormap_table(SignMode sign) {
    using Anchors3 = std::array<std::array<std::uint8_t, 3>, 3>;
    using Anchors9 = std::array<std::array<std::uint8_t, 3>, 9>;
    static const ColormapTable diverging = detail::interpolated_table(Anchors3{{{255, 0, 0}, {255, 255, 255}, {0, 128, 0}}});
    static const ColormapTable greens = detail::interpolated_table(Anchors9{{{247, 252, 245}, {229, 245, 224},
        {199, 233, 192}, {161, 217, 155}, {116, 196, 118}, {65, 171, 93}, {35, 139, 69}, {0, 109, 44}, {0, 68, 27}}});
    static const ColormapTable reds = detail::interpolated_table(Anchors9{{{255, 245, 240}, {254, 224, 210},
        {252, 187, 161}, {252, 146, 114}, {251, 106, 74}, {239, 59, 44}, {203, 24, 29}, {165, 15, 21}, {103, 0, 13}}});
    static const ColormapTable blues = detail::interpolated_table(Anchors9{{{247, 251, 255}, {222, 235, 247},
        {198, 219, 239}, {158, 202, 225}, {107, 174, 214}, {66, 146, 198}, {33, 113, 181}, {8, 81, 156}, {8, 48, 107}}});
    switch (sign) {
        case SignMode::all: return diverging;
        case SignMode::positive: return greens;
        case SignMode::negative: return reds;
        case SignMode::absolute: break;
    }
    return blues;
}

/// The colour of a normalized attribution value: v ∈ [−1, 1] for SignMode::all (−1 red, 0 white,
/// 1 green), v ∈ [0, 1] otherwise; values outside are clamped, NaN/Inf refused.
inline Rgb attribution_color(float value, SignMode sign) {
    detail::require(std::isfinite(value), "xai::attribution_color(): value is ", value, ", expected a finite number");
    const double t = sign == SignMode::all ? (static_cast<double>(value) + 1.0) / 2.0 : static_cast<double>(value);
    return attribution_colormap_table(sign)[detail::matplotlib_index(t)];
}

/// A normalized attribution map (H×W; normalize_attribution) as a 3×H×W RGB picture in Captum's
/// colours for the sign mode ("heat_map").
inline Image attribution_heat_map(const Map& map, SignMode sign) {
    detail::require_nonempty(map, "xai::attribution_heat_map(): map");
    detail::require_finite(map, "xai::attribution_heat_map(): map");
    const ColormapTable& table = attribution_colormap_table(sign);
    const std::size_t plane = map.size();
    Image rgb = Image::from_shape({3, map.shape(0), map.shape(1)});
    for (std::size_t p = 0; p < plane; ++p) {
        const double v = map.data()[p];
        const Rgb& c = table[detail::matplotlib_index(sign == SignMode::all ? (v + 1.0) / 2.0 : v)];
        for (std::size_t ch = 0; ch < 3; ++ch) rgb.data()[ch * plane + p] = c[ch];
    }
    return rgb;
}

/// Captum's "blended_heat_map": the heat map of a normalized attribution map over the image's
/// grey version, with opacity `alpha` (see the header comment). The image is 1 or 3 channels in
/// [0, 1]; a map of another size is resized to it bilinearly.
inline Image blended_heat_map(const Image& image, const Map& map, SignMode sign, double alpha = 0.5) {
    constexpr const char* where = "xai::blended_heat_map()";
    detail::require_nonempty(image, "xai::blended_heat_map(): image");
    detail::require_finite(image, "xai::blended_heat_map(): image");
    detail::require<shape_error>(image.shape(0) == 1 || image.shape(0) == 3, where, ": image has ", image.shape(0),
                                 " channels (shape ", shape_string(image.shape()), "), expected 1 (grey) or 3 (RGB)");
    detail::require(std::isfinite(alpha) && alpha >= 0.0 && alpha <= 1.0, where, ": alpha is ", alpha,
                    ", expected a value in [0, 1]");
    const std::size_t height = image.shape(1), width = image.shape(2), plane = height * width;
    const Image heat = attribution_heat_map(
        map.shape(0) == height && map.shape(1) == width ? map : resize(map, height, width, Interpolation::bilinear), sign);
    std::vector<double> grey(plane, 0.0);
    for (std::size_t c = 0; c < image.shape(0); ++c)
        for (std::size_t p = 0; p < plane; ++p) grey[p] += image.data()[c * plane + p];
    for (double& g : grey) g /= static_cast<double>(image.shape(0));
    const auto [lo, hi] = std::minmax_element(grey.begin(), grey.end());
    const double low = *lo, range = *hi - *lo;
    Image out = Image::from_shape({3, height, width});
    for (std::size_t p = 0; p < plane; ++p) {
        // matplotlib's "gray": entry i is i/255, indexed like every colormap.
        const double t = range > 0.0 ? (grey[p] - low) / range : 0.0;
        const double g = static_cast<double>(detail::matplotlib_index(t)) / 255.0;
        for (std::size_t c = 0; c < 3; ++c)
            out.data()[c * plane + p] = static_cast<float>(alpha * heat.data()[c * plane + p] + (1.0 - alpha) * g);
    }
    return out;
}

}  // namespace xai
