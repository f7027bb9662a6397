#pragma once
// Where a model's input comes from in the user's photo: the geometry of "resize, then crop"
// (Framing), the two ways of computing it, and the crop itself.
//
//   center_crop_framing   torchvision's evaluation transform, Resize(s) then CenterCrop(h, w)
//                         (torchvision/transforms/_presets.py, ImageClassification: s = 256 for
//                         224×224 crops), with s = ⌊h / crop_fraction⌋ (timm's crop_pct; 0.875
//                         gives 256 for 224): the photo keeps its aspect, its short side becomes
//                         s, and the centre h×w is what the model sees
//   squash_framing        the whole photo resized to h×w, aspect lost (cv2.resize in
//                         pytorch-grad-cam's examples)
//
// Resize(s) (torchvision.transforms.functional._compute_resized_output_size): the short side
// becomes s, the long side int(s · long / short), truncated, computed in double as Python does.
// For an h×w crop that is not square the target box is ⌊h/f⌋×⌊w/f⌋ and the side that binds
// (the larger of ⌊h/f⌋/H and ⌊w/f⌋/W) is set exactly, the other truncated the same way; for a
// square crop this is torchvision's rule. CenterCrop (functional.center_crop): the corner is
// top = int(round((H' − h) / 2.0)), left likewise, with Python's round (half to even: a
// difference of 33 gives 16, of 35 gives 18).
//
// Coordinates. Pixel i covers [i, i + 1) and its centre is i + 0.5 (align_corners=False), so a
// photo coordinate u maps to u · H'/H in the resized image and to u · H'/H − top in the model's
// input; the photo's pixels whose centres land in [0, h) × [0, w) are the ones the model saw
// (rows(), columns()). map_back.hpp draws a map over the photo with this mapping.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// A half-open range of pixel indices [begin, end).
struct PixelSpan {
    std::size_t begin = 0;  ///< the first index
    std::size_t end = 0;    ///< one past the last index
    /// end − begin.
    std::size_t size() const { return end - begin; }
    /// Whether both ends are equal.
    bool operator==(const PixelSpan&) const = default;
};

/// How a model's input was cut from a photo: the photo (photo_height × photo_width) resized to
/// resized_height × resized_width, then the height × width window at (top, left) taken from it.
struct Framing {
    std::size_t photo_height = 0;    ///< the photo as given
    std::size_t photo_width = 0;     ///< the photo's width
    std::size_t resized_height = 0;  ///< the photo after the resize step
    std::size_t resized_width = 0;   ///< the resized photo's width
    std::size_t top = 0;             ///< the window's first row in the resized photo
    std::size_t left = 0;            ///< the window's first column in the resized photo
    std::size_t height = 0;          ///< the window = the model's input height
    std::size_t width = 0;           ///< the model's input width

    /// The photo's rows whose pixel centres fall inside the window (the rows the model saw).
    PixelSpan rows() const { return span(photo_height, resized_height, top, height); }
    /// The photo's columns whose pixel centres fall inside the window.
    PixelSpan columns() const { return span(photo_width, resized_width, left, width); }
    /// True when the model saw every pixel of the photo (a squash, or a crop that lost nothing).
    bool covers_photo() const {
        return rows() == PixelSpan{0, photo_height} && columns() == PixelSpan{0, photo_width};
    }
    /// The same framing for the photo enlarged by an integer factor (a display copy).
    Framing enlarged(std::size_t factor) const {
        Framing f = *this;
        f.photo_height *= factor;
        f.photo_width *= factor;
        return f;
    }

private:
    // Pixel p of an axis of `photo` pixels is inside iff first ≤ (p + 0.5)·resized/photo < first + size,
    // tested exactly in integers: 2·first·photo ≤ (2p + 1)·resized < 2·(first + size)·photo.
    static PixelSpan span(std::size_t photo, std::size_t resized, std::size_t first, std::size_t size) {
        PixelSpan s{photo, photo};
        for (std::size_t p = 0; p < photo; ++p) {
            const std::size_t centre = (2 * p + 1) * resized;
            const bool inside = centre >= 2 * first * photo && centre < 2 * (first + size) * photo;
            if (inside && s.begin == photo) s.begin = p;
            if (inside) s.end = p + 1;
        }
        if (s.begin == photo) s.end = photo;
        return s;
    }
};

namespace detail {

inline void require_framing_sizes(std::size_t photo_height, std::size_t photo_width, std::size_t height,
                                  std::size_t width, const char* where) {
    require<shape_error>(photo_height > 0 && photo_width > 0, where, ": the photo is ", photo_height, "x", photo_width,
                         ", expected at least 1x1");
    require(height > 0 && width > 0, where, ": the input size is ", height, "x", width, ", expected at least 1x1");
}

/// Python's round() of d / 2 for an integer d ≥ 0: halves go to the even neighbour.
inline std::size_t half_round_even(std::size_t d) {
    const std::size_t q = d / 2;
    return d % 2 == 0 || q % 2 == 0 ? q : q + 1;
}

}  // namespace detail

/// The whole photo resized to height×width (its aspect is lost).
inline Framing squash_framing(std::size_t photo_height, std::size_t photo_width, std::size_t height, std::size_t width) {
    detail::require_framing_sizes(photo_height, photo_width, height, width, "xai::squash_framing()");
    return Framing{photo_height, photo_width, height, width, 0, 0, height, width};
}

/// torchvision's Resize(⌊height / crop_fraction⌋) then CenterCrop(height, width) (see the header
/// comment); crop_fraction in (0, 1], 0.875 for torchvision's ImageNet models (256 → 224).
inline Framing center_crop_framing(std::size_t photo_height, std::size_t photo_width, std::size_t height,
                                   std::size_t width, double crop_fraction) {
    constexpr const char* where = "xai::center_crop_framing()";
    detail::require_framing_sizes(photo_height, photo_width, height, width, where);
    detail::require(std::isfinite(crop_fraction) && crop_fraction > 0.0 && crop_fraction <= 1.0, where,
                    ": crop_fraction is ", crop_fraction, ", expected a value in (0, 1]");
    const auto box = [&](std::size_t side) {
        return std::max(side, static_cast<std::size_t>(std::floor(static_cast<double>(side) / crop_fraction)));
    };
    const std::size_t box_h = box(height), box_w = box(width);
    // Python: int(requested * long / short), the product exact, the division in double.
    const auto scaled = [](std::size_t requested, std::size_t other, std::size_t side) {
        return static_cast<std::size_t>(static_cast<double>(requested * other) / static_cast<double>(side));
    };
    Framing f{photo_height, photo_width, 0, 0, 0, 0, height, width};
    if (box_h * photo_width >= box_w * photo_height) {  // the height binds (for a square crop: the short side is the height)
        f.resized_height = box_h;
        f.resized_width = std::max(box_w, scaled(box_h, photo_width, photo_height));
    } else {
        f.resized_width = box_w;
        f.resized_height = std::max(box_h, scaled(box_w, photo_height, photo_width));
    }
    f.top = detail::half_round_even(f.resized_height - height);
    f.left = detail::half_round_even(f.resized_width - width);
    return f;
}

/// The height×width window of a C×H×W image whose corner is (top, left).
inline Image crop(const Image& image, std::size_t top, std::size_t left, std::size_t height, std::size_t width) {
    constexpr const char* where = "xai::crop()";
    detail::require_nonempty(image, "xai::crop(): image");
    const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2);
    detail::require<shape_error>(height > 0 && width > 0 && top <= h && left <= w && height <= h - top &&
                                     width <= w - left,
                                 where, ": the window ", height, "x", width, " at (", top, ", ", left,
                                 ") does not fit in the ", h, "x", w, " image, expected a non-empty window inside it");
    Image out = Image::from_shape({channels, height, width});
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = 0; y < height; ++y) {
            const float* src = image.data() + (c * h + top + y) * w + left;
            std::copy(src, src + width, out.data() + (c * height + y) * width);
        }
    return out;
}

}  // namespace xai
