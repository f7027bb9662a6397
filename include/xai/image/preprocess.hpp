#pragma once
// The input pipeline of a torchvision-style classifier, from xai images (C×H×W floats in [0, 1]):
//
//   resize     to height×width with xai::resize (bilinear by default, PyTorch's
//              align_corners=False convention, no antialiasing)
//   normalize  x'_c = (x_c − mean_c) / std_c per channel, with ImageNet's statistics by default:
//              mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) (torchvision's pretrained
//              models; pytorch-grad-cam's preprocess_image defaults)
//   batch      images stacked into an N×C×H×W Batch, which as_torch() (models/torch/tensor.hpp) views
//              as a torch::Tensor without copying
//
// This is pytorch-grad-cam's pipeline (cv2.resize to 224×224, INTER_LINEAR without
// antialiasing, then preprocess_image). torchvision's transforms.Resize on a PIL image
// antialiases when it shrinks; for a large photo, resize it yourself with antialiasing (or blur
// first) if you need to match it exactly. The explainers need the resized but not normalized
// image for overlays: keep the result of resize().
//
// Needs no LibTorch: only xai's image code.

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// The input pipeline of a torchvision-style classifier: resize to height×width, then
/// normalize per channel. Defaults are torchvision's ImageNet models (224×224, ImageNet mean
/// and standard deviation), as pytorch-grad-cam's preprocess_image.
struct Preprocessing {
    /// The input size the network expects (224×224 for the ImageNet classifiers).
    std::size_t height = 224;
    std::size_t width = 224;  ///< the input width the network expects
    /// How resize() resamples (bilinear, align_corners=False, no antialiasing, as cv2.resize).
    Interpolation interpolation = Interpolation::bilinear;
    /// Per-channel mean and standard deviation (one entry per channel, or one for all).
    std::vector<float> mean{0.485f, 0.456f, 0.406f};
    std::vector<float> std{0.229f, 0.224f, 0.225f};  ///< per-channel standard deviation (ImageNet's by default)

    /// The image at height×width (what overlays are drawn on).
    Image resize(const Image& image) const {
        check(image, "xai::Preprocessing::resize()");
        if (image.shape(1) == height && image.shape(2) == width) return image;
        return xai::resize(image, height, width, interpolation);
    }

    /// (x − mean) / std per channel, at the image's own size.
    Image normalize(const Image& image) const {
        constexpr const char* where = "xai::Preprocessing::normalize()";
        check(image, where);
        const std::size_t channels = image.shape(0);
        xai::detail::require<shape_error>(mean.size() == 1 || mean.size() == channels, where, ": mean has ",
                                          mean.size(), " entries, expected 1 or the image's ", channels, " channels");
        xai::detail::require<shape_error>(std.size() == 1 || std.size() == channels, where, ": std has ", std.size(),
                                          " entries, expected 1 or the image's ", channels, " channels");
        Image out = Image::from_shape(image.shape());
        const std::size_t plane = image.shape(1) * image.shape(2);
        for (std::size_t c = 0; c < channels; ++c) {
            const float m = mean.size() == 1 ? mean[0] : mean[c];
            const float s = std.size() == 1 ? std[0] : std[c];
            xai::detail::require(std::isfinite(m) && std::isfinite(s) && s > 0.0f, where, ": channel ", c,
                                 " has mean ", m, " and std ", s, ", expected a finite mean and a std > 0");
            const float inv = 1.0f / s;
            const float* src = image.data() + c * plane;
            float* dst = out.data() + c * plane;
            for (std::size_t p = 0; p < plane; ++p) dst[p] = (src[p] - m) * inv;
        }
        return out;
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
    void check(const Image& image, const char* where) const {
        xai::detail::require(height > 0 && width > 0, where, ": the output size is ", height, "x", width,
                             ", expected a height and width of at least 1");
        const std::string what = std::string(where) + ": image";
        xai::detail::require_nonempty(image, what.c_str());
        xai::detail::require_finite(image, what.c_str());
    }
};

}  // namespace xai
