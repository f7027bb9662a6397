#pragma once
// The trivial baselines every evaluation of CAM maps needs: a map that knows nothing of the
// model (a metric that does not rank a real method above them does not measure anything).
//
//   RandomCam   pytorch-grad-cam random_cam.py: channel weights drawn uniformly from [−1, 1],
//                 w_k ~ U(−1, 1),   raw = Σ_k w_k A_k
//               (the layer's own structure, no class information). The reference draws new
//               weights per image and per call; here they are drawn once from
//               Rng::stream(seed, 0) and shared by every image, so that an image's map does not
//               depend on the batch it arrives in (the library's rule) nor on the thread count.
//   SobelCam    pytorch-grad-cam sobel_cam.py: the edge map of the input image,
//                 raw = ½ |S_x * g| + ½ |S_y * g|,
//               S_x = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] (correlation; S_y its transpose),
//               g the grey image (0.299 R + 0.587 G + 0.114 B for 3 channels, OpenCV's
//               COLOR_RGB2GRAY; the mean over channels otherwise), borders reflected without
//               repeating the edge (OpenCV's default BORDER_REFLECT_101). The reference works on
//               8-bit images and rounds |S * g| to bytes (convertScaleAbs); here the values stay
//               in float. Needs only forward() (for the targets and scores it reports).
//
// Both return CamResult like every CAM method; SobelCam's raw is at the input's resolution.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/options.hpp"

namespace xai {

/// Options of RandomCam: the common CamOptions and the seed of the channel weights.
struct RandomCamOptions {
    CamOptions cam{};        ///< layer, score, display, smoothing, tokens and threads
    std::uint64_t seed = 0;  ///< the weights are drawn from Rng::stream(seed, 0), the same for every image
};

/// RandomCam on a LayerActivationModel: random channel weights (see the header comment). Holds
/// a reference to the model, which must outlive it; explain() is const and thread-safe.
template <LayerActivationModel Model>
class RandomCam {
public:
    /// The explainer's name in error messages ("xai::RandomCam::explain(): ...").
    static constexpr std::string_view name = "RandomCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    RandomCam(const Model&&, RandomCamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.cam.layer (empty: the
    /// model's default_layer()); invalid_argument when the layer is not one of its layers.
    explicit RandomCam(const Model& model, RandomCamOptions options = {}) : model_(&model), options_(std::move(options)) {
        options_.cam.layer = detail::resolve_layer(model, options_.cam.layer, prefix(name).c_str());
        if (!options_.cam.score) options_.cam.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const RandomCamOptions& options() const { return options_; }

    /// Explains each image with random channel weights (result.weights). The targets (empty =
    /// the predicted class, one entry = the same for all, else one per image) only select the
    /// reported scores. `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        CamResult result = detail::smoothed_explanation(batch, targets, options_.cam, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, where.c_str());
        });
        detail::report(progress, batch.shape(0), batch.shape(0), "images");
        return result;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

    /// Explains the batch at each of `layers` and fuses them (FusedCamResult), each layer with
    /// its own draw of C weights; options().cam.layer is not used. `progress` is called after
    /// each layer (unit: layers).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const std::string where = prefix("explain_fused");
        return detail::fuse_layers(*model_, batch, targets, layers, options_.cam, progress, where.c_str(),
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_at(batch, t, layer, where.c_str());
                                   });
    }

private:
    /// "xai::RandomCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    CamResult explain_at(const Batch& batch, const Targets& targets, const char* where) const {
        return explain_at(batch, targets, options_.cam.layer, where);
    }

    CamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer, const char* where) const {
        const CamOptions& cam = options_.cam;
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const detail::ChannelMaps a(in.output.activations, cam.tokens, where);
        CamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        result.weights = xt::xtensor<float, 2>::from_shape({a.images(), a.channels()});
        Rng rng = Rng::stream(options_.seed, 0);
        for (std::size_t k = 0; k < a.channels(); ++k) result.weights(0, k) = static_cast<float>(rng.uniform(-1.0, 1.0));
        for (std::size_t i = 1; i < a.images(); ++i)
            std::copy_n(result.weights.data(), a.channels(), result.weights.data() + i * a.channels());
        result.raw = detail::weighted_maps(a, result.weights, cam.threads, cam.eigen_smooth);
        detail::finish_result(result, batch, cam, *cam.score, where);
        return result;
    }

    const Model* model_;
    RandomCamOptions options_;
};

namespace detail {

/// OpenCV's BORDER_REFLECT_101 index of i in [0, n): −1 → 1, n → n − 2 (n = 1: 0).
inline std::size_t reflect_101(std::ptrdiff_t i, std::size_t n) {
    const auto last = static_cast<std::ptrdiff_t>(n) - 1;
    if (i < 0) i = -i;
    if (i > last) i = 2 * last - i;
    return static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(i, 0, last));
}

/// ½|S_x * g| + ½|S_y * g| of one C×H×W image (see the header comment), written to `map` (H×W).
inline void sobel_map(const float* image, std::size_t channels, std::size_t height, std::size_t width, float* map) {
    const std::size_t plane = height * width;
    std::vector<double> grey(plane, 0.0);
    const double luma[3] = {0.299, 0.587, 0.114};
    for (std::size_t c = 0; c < channels; ++c) {
        const double weight = channels == 3 ? luma[c] : 1.0 / static_cast<double>(channels);
        for (std::size_t p = 0; p < plane; ++p) grey[p] += weight * image[c * plane + p];
    }
    const auto at = [&](std::ptrdiff_t y, std::ptrdiff_t x) {
        return grey[reflect_101(y, height) * width + reflect_101(x, width)];
    };
    for (std::size_t y = 0; y < height; ++y)
        for (std::size_t x = 0; x < width; ++x) {
            const auto yy = static_cast<std::ptrdiff_t>(y), xx = static_cast<std::ptrdiff_t>(x);
            const double gx = (at(yy - 1, xx + 1) + 2 * at(yy, xx + 1) + at(yy + 1, xx + 1)) -
                              (at(yy - 1, xx - 1) + 2 * at(yy, xx - 1) + at(yy + 1, xx - 1));
            const double gy = (at(yy + 1, xx - 1) + 2 * at(yy + 1, xx) + at(yy + 1, xx + 1)) -
                              (at(yy - 1, xx - 1) + 2 * at(yy - 1, xx) + at(yy - 1, xx + 1));
            map[y * width + x] = static_cast<float>(0.5 * std::abs(gx) + 0.5 * std::abs(gy));
        }
}

}  // namespace detail

/// SobelCam on any Classifier: the edge map of the input (see the header comment). Holds a
/// reference to the model, which must outlive it; explain() is const and thread-safe.
template <Classifier Model>
class SobelCam {
public:
    /// The explainer's name in error messages ("xai::SobelCam::explain(): ...").
    static constexpr std::string_view name = "SobelCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    SobelCam(const Model&&, CamOptions = {}) = delete;
    /// Explains with `model`, which must outlive the explainer. The map reads no layer:
    /// invalid_argument when options.layer is set (rather than ignore it).
    explicit SobelCam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        detail::require(options_.layer.empty(), prefix(name), ": options.layer is '", options_.layer,
                        "', expected empty (the Sobel map reads the input image, no layer)");
        if (!options_.score) options_.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the score resolved.
    const CamOptions& options() const { return options_; }

    /// The edge map of each image; the targets (empty = the predicted class, one entry = the
    /// same for all, else one per image) only select the reported scores. One forward pass.
    /// `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        CamResult result = detail::smoothed_explanation(batch, targets, options_, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, where.c_str());
        });
        detail::report(progress, batch.shape(0), batch.shape(0), "images");
        return result;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

private:
    /// "xai::SobelCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    CamResult explain_at(const Batch& batch, const Targets& targets, const char* where) const {
        detail::require_model_input(*model_, batch, where);
        const std::size_t n = batch.shape(0), c = batch.shape(1), h = batch.shape(2), w = batch.shape(3);
        detail::require_targets(targets, n, model_->num_classes(), where);
        CamResult result;
        result.logits = detail::checked_forward(*model_, batch, where);
        result.targets = resolve_targets(targets, result.logits, where);
        result.weights = xt::xtensor<float, 2>::from_shape({n, std::size_t{0}});
        result.raw = Maps::from_shape({n, h, w});
        parallel_for(n, options_.threads, [&](std::size_t i) {
            detail::sobel_map(batch.data() + i * c * h * w, c, h, w, result.raw.data() + i * h * w);
        });
        detail::finish_result(result, batch, options_, *options_.score, where);
        return result;
    }

    const Model* model_;
    CamOptions options_;
};

}  // namespace xai
