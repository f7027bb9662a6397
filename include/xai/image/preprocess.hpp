#pragma once
// The input pipeline of a torchvision-style classifier, from xai images (C×H×W floats in [0, 1]):
//
//   resize     the photo brought to height×width, one of two ways (Fit):
//              squash       the whole photo resized to height×width, its aspect lost: cv2.resize
//                           in pytorch-grad-cam's examples (bilinear, no antialiasing). The default.
//              center_crop  torchvision's evaluation transform (transforms/_presets.py,
//                           ImageClassification): Resize(⌊height / crop_fraction⌋) on the short
//                           side, keeping the aspect, then CenterCrop(height, width); crop_fraction
//                           0.875 gives torchvision's Resize(256) + CenterCrop(224). Antialiased
//                           like torchvision's Resize on a PIL image (image/antialias.hpp).
//              framing() says where the input lies in the photo (image/framing.hpp), so a map
//              can be drawn back on the photo at its own size (image/map_back.hpp).
//   normalize  x'_c = (x_c − mean_c) / std_c per channel, with ImageNet's statistics by default:
//              mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) (torchvision's pretrained
//              models; pytorch-grad-cam's preprocess_image defaults); denormalize() inverts it
//   batch      images stacked into an N×C×H×W Batch, which as_torch() (models/torch/tensor.hpp) views
//              as a torch::Tensor without copying
//
// The explainers see the normalized image: every method that hides pixels (RISE, occlusion,
// Score-CAM, the metrics) hides them with 0 in that space, the mean colour, as the reference
// implementations do on their normalized tensors. Overlays are drawn on the photo (or on the
// result of resize()), never on the normalized tensor.
//
// Needs no LibTorch: only xai's image code.

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/antialias.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// How Preprocessing brings a photo to the model's input size.
enum class Fit {
    squash,       ///< the whole photo resized to height×width, its aspect lost (cv2.resize)
    center_crop,  ///< torchvision's Resize(⌊height / crop_fraction⌋) + CenterCrop(height, width)
};

/// The fit's name: "squash" or "center_crop".
inline std::string_view to_string(Fit fit) { return fit == Fit::squash ? "squash" : "center_crop"; }

/// The input pipeline of a torchvision-style classifier: bring the photo to height×width
/// (squash, or torchvision's resize-and-centre-crop), then normalize per channel. Defaults are
/// torchvision's ImageNet models (224×224, ImageNet mean and standard deviation), squashed as
/// pytorch-grad-cam's examples do; `.fit = Fit::center_crop` is torchvision's evaluation transform.
struct Preprocessing {
    /// The input size the network expects (224×224 for the ImageNet classifiers).
    std::size_t height = 224;
    std::size_t width = 224;  ///< the input width the network expects
    /// How resize() resamples (bilinear, align_corners=False, no antialiasing, as cv2.resize).
    Interpolation interpolation = Interpolation::bilinear;
    /// Per-channel mean and standard deviation (one entry per channel, or one for all).
    std::vector<float> mean{0.485f, 0.456f, 0.406f};
    std::vector<float> std{0.229f, 0.224f, 0.225f};  ///< per-channel standard deviation (ImageNet's by default)
    /// Squash the photo to height×width, or resize its short side and take the centre.
    Fit fit = Fit::squash;
    /// center_crop: the crop's share of the resized photo's side, in (0, 1]; the short side is
    /// resized to ⌊height / crop_fraction⌋. 0.875 is torchvision's 224 / 256 (and timm's crop_pct).
    double crop_fraction = 0.875;
    /// Antialias when shrinking (image/antialias.hpp; bilinear interpolation only). Unset: on for
    /// center_crop (torchvision's Resize on a PIL image), off for squash (cv2.resize).
    std::optional<bool> antialias{};

    /// Where the model's input lies in a photo of photo_height × photo_width (image/framing.hpp).
    Framing framing(std::size_t photo_height, std::size_t photo_width) const {
        return fit == Fit::squash ? squash_framing(photo_height, photo_width, height, width)
                                  : center_crop_framing(photo_height, photo_width, height, width, crop_fraction);
    }

    /// The photo brought to height×width by `fit`, values unchanged (what overlays of the
    /// input are drawn on; map_back.hpp draws on the photo itself).
    Image resize(const Image& image) const {
        constexpr const char* where = "xai::Preprocessing::resize()";
        check(image, where);
        const bool smooth = antialias.value_or(fit == Fit::center_crop);
        xai::detail::require(!(antialias.value_or(false) && interpolation != Interpolation::bilinear), where,
                             ": antialias is set with ", to_string(interpolation),
                             " interpolation, expected bilinear (the antialiased filter is the stretched triangle)");
        const Framing f = framing(image.shape(1), image.shape(2));
        Image resized = image;
        if (f.resized_height != image.shape(1) || f.resized_width != image.shape(2))
            resized = smooth && interpolation == Interpolation::bilinear
                          ? resize_antialiased(image, f.resized_height, f.resized_width)
                          : xai::resize(image, f.resized_height, f.resized_width, interpolation);
        if (f.top == 0 && f.left == 0 && f.height == f.resized_height && f.width == f.resized_width) return resized;
        return crop(resized, f.top, f.left, f.height, f.width);
    }

    /// (x − mean) / std per channel, at the image's own size.
    Image normalize(const Image& image) const {
        return per_channel(image, "xai::Preprocessing::normalize()", [](float m, float s) {
            const float inv = 1.0f / s;
            return [m, inv](float x) { return (x - m) * inv; };
        });
    }

    /// x · std_c + mean_c per channel: the inverse of normalize() (a normalized image back in
    /// the picture's space, e.g. for superpixels or a display).
    Image denormalize(const Image& image) const {
        return per_channel(image, "xai::Preprocessing::denormalize()",
                           [](float m, float s) { return [m, s](float x) { return x * s + m; }; });
    }

    /// resize, then normalize.
    Image operator()(const Image& image) const { return normalize(resize(image)); }

    /// Every image resized and normalized, stacked into one N×C×height×width batch.
    Batch batch(const std::vector<Image>& images) const {
        xai::detail::require<shape_error>(!images.empty(), "xai::Preprocessing::batch(): images is empty, expected at least one image");
        std::vector<Image> prepared;
        prepared.reserve(images.size());
        for (const Image& image : images) prepared.push_back((*this)(image));
        return stack(prepared);
    }

private:
    // `make(mean_c, std_c)` gives the function applied to every value of channel c.
    template <class Make>
    Image per_channel(const Image& image, const char* where, Make make) const {
        check(image, where);
        const std::size_t channels = image.shape(0);
        check_statistics(channels, where);
        Image out = Image::from_shape(image.shape());
        const std::size_t plane = image.shape(1) * image.shape(2);
        for (std::size_t c = 0; c < channels; ++c) {
            const auto f = make(mean.size() == 1 ? mean[0] : mean[c], std.size() == 1 ? std[0] : std[c]);
            const float* src = image.data() + c * plane;
            float* dst = out.data() + c * plane;
            for (std::size_t p = 0; p < plane; ++p) dst[p] = f(src[p]);
        }
        return out;
    }

    void check_statistics(std::size_t channels, const char* where) const {
        xai::detail::require<shape_error>(mean.size() == 1 || mean.size() == channels, where, ": mean has ",
                                          mean.size(), " entries, expected 1 or the image's ", channels, " channels");
        xai::detail::require<shape_error>(std.size() == 1 || std.size() == channels, where, ": std has ", std.size(),
                                          " entries, expected 1 or the image's ", channels, " channels");
        for (std::size_t c = 0; c < channels; ++c) {
            const float m = mean.size() == 1 ? mean[0] : mean[c];
            const float s = std.size() == 1 ? std[0] : std[c];
            xai::detail::require(std::isfinite(m) && std::isfinite(s) && s > 0.0f, where, ": channel ", c,
                                 " has mean ", m, " and std ", s, ", expected a finite mean and a std > 0");
        }
    }

    void check(const Image& image, const char* where) const {
        xai::detail::require(height > 0 && width > 0, where, ": the output size is ", height, "x", width,
                             ", expected a height and width of at least 1");
        const std::string what = std::string(where) + ": image";
        xai::detail::require_nonempty(image, what.c_str());
        xai::detail::require_finite(image, what.c_str());
    }
};

}  // namespace xai
