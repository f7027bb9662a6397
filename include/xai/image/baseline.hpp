#pragma once
// What hidden pixels become: one type for every method that hides part of an image — LIME's
// "off" superpixels, RISE's and occlusion's masked-out pixels, Integrated Gradients' starting
// point, and the pixels deletion removes or insertion has not yet revealed.
//
// A mask M (H×W, values in [0, 1], 1 = keep) turns an image I into I ⊙ M + B ⊙ (1 − M), where B
// is the baseline image for I, one of:
//
//   constant(v)       every channel of every hidden pixel is v (0: the RISE paper, Captum's
//                     occlusion, the deletion metric's "removed pixels set to zero")
//   color({r, g, b})  a fixed colour, one value per channel (or one value for every channel:
//                     lime's hide_color = v)
//   segment_mean()    each superpixel's own mean colour (lime's hide_color = None); needs a
//                     segmentation, so only LIME (and methods on superpixels) accept it
//   image_mean()      each channel's mean over the whole image
//   blurred(options)  a Gaussian-blurred copy of the image (the RISE paper's insertion metric:
//                     σ = 5, 11 taps)
//   image(B)          a fixed image of the explained image's shape
//   from_function(f)  B = f(I), any function of the image
//
// Default-constructed: constant(0). Every value is checked when the baseline is made (finite
// values, a non-empty image, a non-empty function) and again when it is applied (the shape of
// the image it is applied to, and finite results of a function).

#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/blur.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// What hidden pixels become (see the header comment). Default: the constant 0.
class Baseline {
public:
    /// The kinds of baseline.
    enum class Kind { constant, color, segment_mean, image_mean, blurred, image, function };

    Baseline() = default;

    /// Every hidden value (every channel) becomes `value`.
    static Baseline constant(float value) {
        detail::require(std::isfinite(value), "xai::Baseline::constant(): value is ", value, ", expected a finite value");
        Baseline b;
        b.value_ = value;
        return b;
    }

    /// A fixed colour: one value per channel of the explained image, or one for every channel.
    static Baseline color(std::vector<float> per_channel) {
        detail::require(!per_channel.empty(), "xai::Baseline::color(): per_channel is empty, expected one value per "
                                              "channel (or one for every channel)");
        for (std::size_t c = 0; c < per_channel.size(); ++c)
            detail::require(std::isfinite(per_channel[c]), "xai::Baseline::color(): per_channel[", c, "] is ",
                            per_channel[c], ", expected a finite value");
        Baseline b;
        b.kind_ = Kind::color;
        b.color_ = std::move(per_channel);
        return b;
    }

    /// Each superpixel's own mean colour (lime's hide_color = None); needs a segmentation.
    static Baseline segment_mean() {
        Baseline b;
        b.kind_ = Kind::segment_mean;
        return b;
    }

    /// Each channel's mean over the explained image.
    static Baseline image_mean() {
        Baseline b;
        b.kind_ = Kind::image_mean;
        return b;
    }

    /// A Gaussian-blurred copy of the explained image (image/blur.hpp; the defaults are the RISE
    /// reference's σ = 5, 11 taps, zero padding).
    static Baseline blurred(GaussianBlurOptions options = {}) {
        detail::require_blur_options(options, "xai::Baseline::blurred()");
        Baseline b;
        b.kind_ = Kind::blurred;
        b.blur_ = options;
        return b;
    }

    /// A fixed image of the same C×H×W shape as the images explained (checked when used).
    static Baseline image(Image baseline) {
        detail::require_nonempty(baseline, "xai::Baseline::image(): baseline");
        detail::require_finite(baseline, "xai::Baseline::image(): baseline");
        Baseline b;
        b.kind_ = Kind::image;
        b.image_ = std::move(baseline);
        return b;
    }

    /// Any function of the explained image; its result must have the image's shape and finite values.
    static Baseline from_function(std::function<Image(const Image&)> make) {
        detail::require(static_cast<bool>(make), "xai::Baseline::from_function(): make is empty, expected a function");
        Baseline b;
        b.kind_ = Kind::function;
        b.function_ = std::move(make);
        return b;
    }

    /// The kind of baseline.
    Kind kind() const { return kind_; }
    /// True for a constant baseline (every pixel of every channel the same value).
    bool is_constant() const { return kind_ == Kind::constant; }
    /// The constant; meaningful when is_constant().
    float value() const { return value_; }
    /// The colour of a color() baseline.
    const std::vector<float>& color_values() const { return color_; }
    /// The blur of a blurred() baseline.
    const GaussianBlurOptions& blur_options() const { return blur_; }
    /// True when the baseline needs the image's superpixels (segment_mean()).
    bool needs_segmentation() const { return kind_ == Kind::segment_mean; }

    /// The baseline image for `image` (C×H×W), checked: same shape, finite values. `segmentation`
    /// is required by segment_mean() (invalid_argument naming `where` without one) and ignored
    /// otherwise.
    Image for_image(const Image& image, const char* where, const Segmentation* segmentation = nullptr) const {
        const std::size_t channels = image.shape(0), pixels = image.shape(1) * image.shape(2);
        Image b;
        switch (kind_) {
            case Kind::constant:
                b = Image::from_shape(image.shape());
                b.fill(value_);
                return b;
            case Kind::color:
                detail::require(color_.size() == 1 || color_.size() == channels, where, ": the baseline colour has ",
                                color_.size(), " values, expected 1 or the image's ", channels, " channels");
                b = Image::from_shape(image.shape());
                for (std::size_t c = 0; c < channels; ++c)
                    std::fill_n(b.data() + c * pixels, pixels, color_.size() == 1 ? color_[0] : color_[c]);
                return b;
            case Kind::segment_mean: {
                detail::require(segmentation != nullptr, where,
                                ": Baseline::segment_mean() needs superpixels, and this method has none; expected "
                                "another baseline (constant, color, image_mean, blurred, image or from_function)");
                require_segmentation(*segmentation, image.shape(1), image.shape(2), where);
                const auto mean = segment_mean_colors(image, *segmentation);
                const std::int32_t* labels = segmentation->labels.data();
                b = Image::from_shape(image.shape());
                for (std::size_t c = 0; c < channels; ++c)
                    for (std::size_t p = 0; p < pixels; ++p)
                        b.data()[c * pixels + p] = static_cast<float>(mean[static_cast<std::size_t>(labels[p])][c]);
                return b;
            }
            case Kind::image_mean:
                b = Image::from_shape(image.shape());
                for (std::size_t c = 0; c < channels; ++c) {
                    double sum = 0.0;
                    for (std::size_t p = 0; p < pixels; ++p) sum += image.data()[c * pixels + p];
                    std::fill_n(b.data() + c * pixels, pixels, static_cast<float>(sum / static_cast<double>(pixels)));
                }
                return b;
            case Kind::blurred: b = gaussian_blur(image, blur_); return b;
            case Kind::image: b = image_; break;
            case Kind::function: b = function_(image); break;
        }
        detail::require<shape_error>(b.dimension() == 3 && image_shape(b) == image_shape(image), where,
                                     ": the baseline image has shape ", shape_string(b.shape()),
                                     ", expected the explained image's ", shape_string(image.shape()));
        detail::require_finite(b, (std::string(where) + ": the baseline image").c_str());
        return b;
    }

private:
    Kind kind_ = Kind::constant;
    float value_ = 0.0f;
    std::vector<float> color_;
    GaussianBlurOptions blur_{};
    Image image_;
    std::function<Image(const Image&)> function_;
};

/// The kind's name: "constant", "color", "segment_mean", "image_mean", "blurred", "image" or "function".
inline std::string_view to_string(Baseline::Kind kind) {
    switch (kind) {
        case Baseline::Kind::constant: return "constant";
        case Baseline::Kind::color: return "color";
        case Baseline::Kind::segment_mean: return "segment_mean";
        case Baseline::Kind::image_mean: return "image_mean";
        case Baseline::Kind::blurred: return "blurred";
        case Baseline::Kind::image: return "image";
        case Baseline::Kind::function: return "function";
    }
    return "unknown";
}

}  // namespace xai
