#pragma once
// Shared machinery of the perturbation explainers (RISE, occlusion): what a masked-out pixel
// becomes, applying a mask, batched black-box forward passes that return the explained scores,
// and streaming per-pixel moments that never hold more than one batch of masks.
//
// A mask M (H×W, values in [0, 1], 1 = keep) turns an image I into
//     I ⊙ M + B ⊙ (1 − M)
// where B is the baseline: a constant (0 in the RISE paper and Captum's occlusion), a fixed
// image, or an image computed from I (a blurred copy, as the RISE paper's insertion metric
// uses). Written this way a pixel with M = 1 is exactly I and one with M = 0 exactly B.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/blur.hpp"

namespace xai {

/// What masked-out pixels become. Default-constructed: the constant 0.
class Baseline {
public:
    Baseline() = default;

    /// Every masked-out value (every channel) becomes `value`.
    static Baseline constant(float value) {
        detail::require(std::isfinite(value), "xai::Baseline::constant(): value is ", value,
                        ", expected a finite value");
        Baseline b;
        b.value_ = value;
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

    /// A Gaussian-blurred copy of each explained image (image/blur.hpp; the defaults are the
    /// RISE reference's σ = 5, 11 taps; BlurBorder::reflect keeps the border's brightness).
    static Baseline blurred(GaussianBlurOptions options = {}) {
        detail::require_blur_options(options, "xai::Baseline::blurred()");
        return from_function([options](const Image& image) { return gaussian_blur(image, options); });
    }

    /// Any function of the explained image; its result must have the image's shape.
    static Baseline from_function(std::function<Image(const Image&)> make) {
        detail::require(static_cast<bool>(make), "xai::Baseline::from_function(): make is empty, expected a function");
        Baseline b;
        b.kind_ = Kind::function;
        b.function_ = std::move(make);
        return b;
    }

    /// True for a constant baseline (every pixel of every channel the same value).
    bool is_constant() const { return kind_ == Kind::constant; }
    /// The constant; meaningful when is_constant().
    float value() const { return value_; }

    /// The baseline image for `image` (C×H×W), checked: same shape, finite values.
    Image for_image(const Image& image, const char* where) const {
        Image b;
        switch (kind_) {
            case Kind::constant: b = Image::from_shape(image.shape()); b.fill(value_); return b;
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
    enum class Kind { constant, image, function };
    Kind kind_ = Kind::constant;
    float value_ = 0.0f;
    Image image_;
    std::function<Image(const Image&)> function_;
};

namespace detail {

/// out[c][p] = image[c][p] · mask[p] + baseline[c][p] · (1 − mask[p]) for every channel c.
inline void apply_mask(const float* image, const float* baseline, std::size_t channels, std::size_t pixels,
                       const float* mask, float* out) {
    for (std::size_t c = 0; c < channels; ++c) {
        const float* in = image + c * pixels;
        const float* base = baseline + c * pixels;
        float* dst = out + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p) dst[p] = in[p] * mask[p] + base[p] * (1.0f - mask[p]);
    }
}

/// The same with a constant baseline value: out[c][p] = image[c][p] · mask[p] + value · (1 − mask[p]).
/// Saves reading a baseline image (the masked images are memory-bound at 224×224).
inline void apply_mask(const float* image, float value, std::size_t channels, std::size_t pixels, const float* mask,
                       float* out) {
    for (std::size_t c = 0; c < channels; ++c) {
        const float* in = image + c * pixels;
        float* dst = out + c * pixels;
        for (std::size_t p = 0; p < pixels; ++p) dst[p] = in[p] * mask[p] + value * (1.0f - mask[p]);
    }
}

/// Makes `batch` a count×C×H×W buffer, reallocating only when the count changes (the last
/// batch of a run, or of a block, is shorter). The old buffer is released before the new one is
/// allocated, so the peak memory stays at one batch.
inline void reshape_batch(Batch& batch, std::size_t count, const ImageShape& shape) {
    if (batch.shape(0) == count && image_shape(batch) == shape) return;
    batch = Batch();
    batch = Batch::from_shape({count, shape.channels, shape.height, shape.width});
}

/// The most bytes of perturbed images (and their masks) that RISE, occlusion or LIME builds for
/// one forward pass: 1 GiB. A batch_size that would need more is lowered to fit, down to one
/// image; their results do not depend on the batch size, so this bounds memory without
/// changing a result. At 224×224 RGB it never binds (the defaults need at most 60 MB); at
/// 4096×4096 RGB it allows 4–5 images per forward pass instead of the default 32 or 100
/// (docs/limits.md).
inline constexpr std::size_t max_batch_bytes = std::size_t{1} << 30;

/// `batch_size` lowered so that `batches_in_flight` batches of that many images of `shape` (one
/// per thread, built at the same time), each image with `extra_floats` more floats (e.g. its
/// mask), take at most max_batch_bytes together; never below 1.
inline std::size_t batch_within_memory(std::size_t batch_size, const ImageShape& shape, std::size_t extra_floats = 0,
                                       std::size_t batches_in_flight = 1) {
    const std::size_t per_image = (shape.size() + extra_floats) * sizeof(float);
    const std::size_t fitting = per_image == 0 ? batch_size : max_batch_bytes / per_image / std::max<std::size_t>(1, batches_in_flight);
    return std::max<std::size_t>(1, std::min(batch_size, fitting));
}

/// Checks the images an explainer is asked to explain and the model's input shape.
template <Classifier M>
void require_explainable(const M& model, const Batch& images, const char* where) {
    require<shape_error>(images.shape(0) > 0 && images.size() > 0, where, ": images is empty (shape ",
                         shape_string(images.shape()), "), expected at least one C×H×W image");
    require_model_input(model, images, where);
}

/// One forward pass of `batch`; returns, per image, the scores of the given kind of the
/// requested classes (rows × classes.size()). Non-finite or misshapen model output is a
/// model_error.
template <Classifier M>
Scores forward_class_scores(const M& model, const Batch& batch, ScoreKind kind, std::span<const std::size_t> classes,
                            const char* where) {
    const Scores all = scores_of_kind(checked_forward(model, batch, where), kind);
    const std::size_t n = all.shape(0), k = all.shape(1);
    Scores picked = Scores::from_shape({n, classes.size()});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < classes.size(); ++j) picked(i, j) = all.data()[i * k + classes[j]];
    if (!all_finite(picked))
        throw model_error(message(where, ": the ", to_string(kind), " scores of the masked images are not finite"));
    return picked;
}

/// Streaming weighted moments of masks, per class and pixel:
///     sum[c][p]    = Σ_i y_ic(p),   sum_sq[c][p] = Σ_i y_ic(p)²,   y_ic(p) = w_ic · m_i(p),
/// in double. Masks are added in the order of their index, whatever the batch they come in
/// and however many threads add them (threads split the pixels, never the masks), so the sums
/// are identical bit for bit for any batch size and thread count. Memory: 2 · classes · pixels
/// doubles, independent of the number of masks.
class MaskMoments {
public:
    MaskMoments(std::size_t classes, std::size_t pixels)
        : classes_(classes), pixels_(pixels), sum_(classes * pixels, 0.0), sum_sq_(classes * pixels, 0.0) {}

    /// Adds `count` masks (count × pixels floats, the next masks in index order) with their
    /// weights (count × classes).
    void add(const float* masks, std::size_t count, const Scores& weights, std::size_t threads) {
        // Tiles of pixels keep a tile's accumulators in cache while every mask passes over it.
        constexpr std::size_t tile = 1024;
        const std::size_t tiles = detail::ceil_div(pixels_, tile);
        parallel_for(tiles, threads, [&](std::size_t t) {
            const std::size_t begin = t * tile, end = std::min(pixels_, begin + tile);
            for (std::size_t c = 0; c < classes_; ++c) {
                double* sum = sum_.data() + c * pixels_;
                double* sum_sq = sum_sq_.data() + c * pixels_;
                for (std::size_t i = 0; i < count; ++i) {
                    const double w = weights.data()[i * classes_ + c];
                    const float* m = masks + i * pixels_;
                    for (std::size_t p = begin; p < end; ++p) {
                        const double y = w * static_cast<double>(m[p]);
                        sum[p] += y;
                        sum_sq[p] += y * y;
                    }
                }
            }
        });
        count_ += count;
    }

    std::size_t count() const { return count_; }
    std::size_t classes() const { return classes_; }
    std::size_t pixels() const { return pixels_; }
    const std::vector<double>& sum() const { return sum_; }
    const std::vector<double>& sum_sq() const { return sum_sq_; }

private:
    std::size_t classes_, pixels_;
    std::size_t count_ = 0;
    std::vector<double> sum_, sum_sq_;
};

}  // namespace detail
}  // namespace xai
