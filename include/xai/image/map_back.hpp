#pragma once
// A saliency map computed on a model's input, drawn back on the user's photo at the photo's own
// size and aspect (image/framing.hpp says where the input came from):
//
//   map_to_photo(map, framing)               the map on the photo's pixel grid; 0 where the model
//                                            saw nothing (framing.rows() × framing.columns() is
//                                            the part it saw)
//   mark_unexplained(photo, framing)         the photo with the part the model did not see greyed
//                                            and hatched
//   overlay_on_photo(photo, map, framing)    xai::overlay (pytorch-grad-cam's show_cam_on_image)
//                                            inside the part the model saw; outside it the photo
//                                            is shown greyed and hatched: not explained
//
// Sampling. A photo pixel's centre u = p + 0.5 lands at v = u · H'/H − top in the model's input
// (framing.hpp); a map of h×w over an input of height×width is sampled bilinearly at index
// v · h/height − 0.5, clamped to the map (PyTorch's align_corners=False). This is one
// interpolation from the map's grid straight to the photo's, so a 7×7 CAM map is not first
// upsampled to 224×224 and then resampled again. For a squash framing the map is stretched
// back to the photo's aspect.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/overlay.hpp"

namespace xai {

namespace detail {

/// The two taps of a bilinear sample along one axis.
struct LinearTap {
    std::size_t i0 = 0, i1 = 0;
    float w1 = 0.0f;  ///< the weight of i1; i0 gets 1 − w1
};

/// Taps of the photo pixels [span.begin, span.end) of an axis: photo → resized (scale resized /
/// photo), minus the window's first index, onto a map of `extent` cells over `window` input pixels.
inline std::vector<LinearTap> map_back_taps(const PixelSpan& span, std::size_t photo, std::size_t resized,
                                            std::size_t first, std::size_t window, std::size_t extent) {
    std::vector<LinearTap> taps(span.size());
    const double to_input = static_cast<double>(resized) / static_cast<double>(photo);
    const double to_map = static_cast<double>(extent) / static_cast<double>(window);
    for (std::size_t p = span.begin; p < span.end; ++p) {
        const double v = (static_cast<double>(p) + 0.5) * to_input - static_cast<double>(first);
        const double s = std::clamp(v * to_map - 0.5, 0.0, static_cast<double>(extent - 1));
        LinearTap& t = taps[p - span.begin];
        t.i0 = static_cast<std::size_t>(s);
        t.i1 = std::min(t.i0 + 1, extent - 1);
        t.w1 = static_cast<float>(s - static_cast<double>(t.i0));
    }
    return taps;
}

inline void require_framed_map(const Map& map, const Framing& framing, const char* where) {
    require_nonempty(map, (std::string(where) + ": map").c_str());
    require(count_non_finite(map.data(), map.size()) == 0, where, ": map contains NaN or Inf, expected finite values");
    require<shape_error>(framing.photo_height > 0 && framing.photo_width > 0 && framing.height > 0 &&
                             framing.width > 0 && framing.resized_height >= framing.top + framing.height &&
                             framing.resized_width >= framing.left + framing.width,
                         where, ": the framing (photo ", framing.photo_height, "x", framing.photo_width, ", resized ",
                         framing.resized_height, "x", framing.resized_width, ", window ", framing.height, "x",
                         framing.width, " at (", framing.top, ", ", framing.left,
                         ")) does not describe a window inside the resized photo");
}

}  // namespace detail

/// The map (any h×w over the model's input, e.g. an explanation's display map) on the photo's
/// grid, photo_height × photo_width: bilinear inside the part of the photo the model saw, 0
/// outside it (see the header comment).
inline Map map_to_photo(const Map& map, const Framing& framing) {
    constexpr const char* where = "xai::map_to_photo()";
    detail::require_framed_map(map, framing, where);
    const PixelSpan rows = framing.rows(), cols = framing.columns();
    const std::size_t mh = map.shape(0), mw = map.shape(1);
    const std::vector<detail::LinearTap> ty =
        detail::map_back_taps(rows, framing.photo_height, framing.resized_height, framing.top, framing.height, mh);
    const std::vector<detail::LinearTap> tx =
        detail::map_back_taps(cols, framing.photo_width, framing.resized_width, framing.left, framing.width, mw);
    Map out = xt::zeros<float>({framing.photo_height, framing.photo_width});
    for (std::size_t y = rows.begin; y < rows.end; ++y) {
        const detail::LinearTap& a = ty[y - rows.begin];
        const float* r0 = map.data() + a.i0 * mw;
        const float* r1 = map.data() + a.i1 * mw;
        float* dst = out.data() + y * framing.photo_width;
        for (std::size_t x = cols.begin; x < cols.end; ++x) {
            const detail::LinearTap& b = tx[x - cols.begin];
            const float top = r0[b.i0] + b.w1 * (r0[b.i1] - r0[b.i0]);
            const float bottom = r1[b.i0] + b.w1 * (r1[b.i1] - r1[b.i0]);
            dst[x] = top + a.w1 * (bottom - top);
        }
    }
    return out;
}

/// Options of overlay_on_photo().
struct PhotoOverlayOptions {
    OverlayOptions overlay{};  ///< the blend inside the part the model saw (pytorch-grad-cam's defaults)
    /// Grey and hatch the part of the photo the model did not see (it is not explained); false
    /// leaves it as it is.
    bool mark_unexplained = true;
    std::size_t hatch_spacing = 8;  ///< pixels between the diagonal hatch lines, ≥ 2
};

namespace detail {

inline void require_photo_for(const Image& photo, const Framing& framing, const PhotoOverlayOptions& options,
                              const char* where) {
    require_nonempty(photo, (std::string(where) + ": photo").c_str());
    require<shape_error>(photo.shape(1) == framing.photo_height && photo.shape(2) == framing.photo_width, where,
                         ": the photo is ", shape_string(photo.shape()), " but the framing is for a ",
                         framing.photo_height, "x", framing.photo_width, " photo");
    require(options.hatch_spacing >= 2, where, ": hatch_spacing is ", options.hatch_spacing, ", expected at least 2");
}

/// Greys and hatches the pixels of a 3×H×W picture outside rows × cols.
inline void hatch_outside(Image& rgb, const PixelSpan& rows, const PixelSpan& cols, std::size_t spacing) {
    const std::size_t h = rgb.shape(1), w = rgb.shape(2), plane = h * w;
    float* data = rgb.data();
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            if (y >= rows.begin && y < rows.end && x >= cols.begin && x < cols.end) continue;
            const std::size_t i = y * w + x;
            // Rec. 601 luma, lifted and flattened towards mid-grey, crossed by dark diagonal lines.
            const float luma = 0.299f * data[i] + 0.587f * data[plane + i] + 0.114f * data[2 * plane + i];
            const float v = (x + y) % spacing == 0 ? 0.25f : 0.45f + 0.35f * luma;
            for (std::size_t c = 0; c < 3; ++c) data[c * plane + i] = v;
        }
}

/// Greys and hatches the pixels of a 3×H×W picture outside framing.rows() × framing.columns().
inline void hatch_outside(Image& rgb, const Framing& framing, std::size_t spacing) {
    hatch_outside(rgb, framing.rows(), framing.columns(), spacing);
}

}  // namespace detail

/// The photo (1 or 3 channels, values in [0, 1]) as a 3×H×W RGB picture with the part the model
/// did not see greyed and hatched (options.mark_unexplained), the rest unchanged.
inline Image mark_unexplained(const Image& photo, const Framing& framing, const PhotoOverlayOptions& options = {}) {
    constexpr const char* where = "xai::mark_unexplained()";
    detail::require_photo_for(photo, framing, options, where);
    detail::require_image_in_unit_range(photo, where);
    Image rgb = as_rgb(photo);
    if (options.mark_unexplained) detail::hatch_outside(rgb, framing, options.hatch_spacing);
    return rgb;
}

/// The map blended over the photo (1 or 3 channels, values in [0, 1], photo_height ×
/// photo_width) inside the part the model saw, and that part's outside greyed and hatched
/// (see the header comment); a 3×H×W RGB image.
inline Image overlay_on_photo(const Image& photo, const Map& map, const Framing& framing,
                              const PhotoOverlayOptions& options = {}) {
    constexpr const char* where = "xai::overlay_on_photo()";
    detail::require_photo_for(photo, framing, options, where);
    const Map full = map_to_photo(map, framing);
    Image out = mark_unexplained(photo, framing, options);
    const PixelSpan rows = framing.rows(), cols = framing.columns();
    if (rows.size() == 0 || cols.size() == 0) return out;
    const std::size_t w = framing.photo_width, plane = framing.photo_height * w;
    const Image seen = crop(out, rows.begin, cols.begin, rows.size(), cols.size());
    Map part = Map::from_shape({rows.size(), cols.size()});
    for (std::size_t y = 0; y < rows.size(); ++y)
        std::copy_n(full.data() + (rows.begin + y) * w + cols.begin, cols.size(), part.data() + y * cols.size());
    OverlayOptions blend = options.overlay;
    blend.resize_map = false;
    const Image blended = overlay(seen, part, blend);
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t y = 0; y < rows.size(); ++y)
            std::copy_n(blended.data() + (c * rows.size() + y) * cols.size(), cols.size(),
                        out.data() + c * plane + (rows.begin + y) * w + cols.begin);
    return out;
}

}  // namespace xai
