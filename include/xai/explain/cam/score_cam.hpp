#pragma once
// Score-CAM: channel weights from the model's confidence on the input masked by each channel.
//
// Wang, Wang, Du, Yang, Zhang, Ding, Mardziel, Hu, "Score-CAM: Score-Weighted Visual
// Explanations for Convolutional Neural Networks", CVPR Workshops 2020, eq. 4–8 and
// Algorithm 1, as the authors' code does it (haofanwang/Score-CAM, cam/scorecam.py):
//   H_k   = normalize_min_max(upsample(A_k))      each channel at the input's resolution
//   w_k   = softmax(f(X ∘ H_k))_c                 the target's probability on the masked input
//                                                 (X ∘ H_k multiplies every input channel by H_k)
//   raw   = Σ_k w_k A_k
// A channel whose upsampled map is flat carries no mask and gets w_k = 0 (the authors' code
// skips it). Upsampling is linear, so Σ_k w_k upsample(A_k) = upsample(raw): the raw map is
// returned at the layer's resolution like the other methods, and the display map is
// normalize(upsample(ReLU(raw))) as in the authors' code.
//
// Defaults and where they differ from pytorch-grad-cam (score_cam.py):
//   score = probability (the paper's softmax of the target class over the classes).
//   batch_size = 16 masked images per forward pass (pytorch-grad-cam's BATCH_SIZE).
//   A flat channel gets weight 0 (the authors); pytorch-grad-cam masks with an all-zero H_k.
// pytorch-grad-cam computes other weights, and `convention = ScoreCamConvention::pytorch_grad_cam`
// reproduces them (users moving from it get their maps back):
//   H_k = (U_k − min U_k) / (max U_k − min U_k + 1e-8),  U_k = upsample(A_k) with
//         torch.nn.UpsamplingBilinear2d, i.e. bilinear with align_corners=True (source
//         coordinate o·(in − 1)/(out − 1)), not the align_corners=False of the rest of the library
//   s_k = the target's score of f(X ∘ H_k) (its ClassifierOutputTarget: the logit; the score
//         option, logit by default in this convention), a flat channel included (H_k = 0)
//   w_k = softmax_k(s_1 … s_C)   across the channels of the image, not across the classes
// Taking score = logit in the authors' convention gives neither: the weights are the raw
// logits s_k, without that softmax, and the masks differ by the upsampling.
// The paper's "increase of confidence" f(X ∘ H_k) − f(X_b) subtracts a constant baseline from
// every weight; the authors' code and pytorch-grad-cam leave it out, and so does this.
//
// Needs only a LayerActivationModel: one pass for the activations, then N·C forward passes
// (batched over channels), so it costs about C forward passes per image.
//
// Fewer forwards (ScoreCamOptions::mass_tolerance = ε > 0): a channel's contribution to the map
// is w_k A_k, and w_k is a score, bounded (a probability: 0 ≤ w_k ≤ 1). Channels are ranked by
// their activation mass m_k = Σ_p |A_k(p)| and only the smallest prefix holding at least
// (1 − ε) of the total mass Σ_k m_k is scored; the others get w_k = 0 without a forward pass.
// The raw map then differs from full Score-CAM's by Σ_{skipped} w_k A_k, so
//     ‖raw − raw_full‖₁ ≤ max_k |w_k| · ε · Σ_k m_k      (≤ ε Σ_k m_k for probabilities),
// a bound stated before any forward pass is made. On a ReLU layer most channels are nearly silent
// for a given image, so a small ε skips many of them (measured in docs/methods/efficiency.md).
// ScoreCamResult::channels_scored reports the forward passes per image.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/resize_align_corners.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/options.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// Whose Score-CAM weights (see the header comment of explain/cam/score_cam.hpp).
enum class ScoreCamConvention {
    authors,          ///< the paper and the authors' code: w_k = softmax over classes of f(X ∘ H_k), at c
    pytorch_grad_cam  ///< pytorch-grad-cam: align_corners=True masks, w = softmax over channels of the target's logits
};

/// Options of ScoreCam: the common CamOptions (`cam`; its score defaults to
/// ScoreKind::probability here, the paper's softmax of the target class; logit under the
/// pytorch-grad-cam convention) plus the batching of the masked images and the convention. An
/// aggregate: `{.cam = {.layer = "relu4"}, .batch_size = 8}`.
struct ScoreCamOptions {
    /// Layer, score (empty: the convention's default), display, tokens and threads, as for
    /// every CAM method.
    CamOptions cam{};
    /// Masked images per forward pass (pytorch-grad-cam: 16). Results do not depend on it.
    std::size_t batch_size = 16;
    /// The authors' weights (default) or pytorch-grad-cam's.
    ScoreCamConvention convention = ScoreCamConvention::authors;
    /// ε: score only the channels holding the first (1 − ε) of the activation mass, the others
    /// get weight 0 (header; 0 = every channel, the paper's Score-CAM), in [0, 1).
    double mass_tolerance = 0.0;
};

/// Score-CAM's result: the CAM result (weights per channel, the layer, the core) and the forward
/// passes made per image.
struct ScoreCamResult : CamResult {
    /// Per image: channels scored (forwards beside the activations' pass; with CamOptions::aug_smooth,
    /// those of the unaugmented pass, one of six).
    std::vector<std::size_t> channels_scored;
};

namespace detail {

/// values ← softmax(values), in double, stably.
inline void softmax_in_place(float* values, std::size_t n) {
    if (n == 0) return;
    const double top = *std::max_element(values, values + n);
    double sum = 0.0;
    std::vector<double> e(n);
    for (std::size_t j = 0; j < n; ++j) sum += e[j] = std::exp(static_cast<double>(values[j]) - top);
    for (std::size_t j = 0; j < n; ++j) values[j] = static_cast<float>(e[j] / sum);
}

}  // namespace detail

/// Score-CAM on a LayerActivationModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerActivationModel Model>
class ScoreCam {
public:
    /// The explainer's name in error messages ("xai::ScoreCam::explain(): ...").
    static constexpr std::string_view name = "ScoreCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    ScoreCam(const Model&&, ScoreCamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.cam.layer (empty: the
    /// model's default_layer()). Throws invalid_argument when options.batch_size is 0, or the
    /// layer is not one of model.layer_names(), or is empty and the model names no feature layer.
    explicit ScoreCam(const Model& model, ScoreCamOptions options = {}) : model_(&model), options_(std::move(options)) {
        const std::string where = prefix(name);
        detail::require(options_.batch_size > 0, where, ": options.batch_size is 0, expected at least 1");
        detail::require(options_.mass_tolerance >= 0.0 && options_.mass_tolerance < 1.0, where,
                        ": options.mass_tolerance is ", options_.mass_tolerance, ", expected a value in [0, 1)");
        // Unscored channels get weight 0, which pytorch-grad-cam's softmax would turn into exp(0).
        detail::require(options_.mass_tolerance == 0.0 || options_.convention == ScoreCamConvention::authors, where,
                        ": options.mass_tolerance is ", options_.mass_tolerance,
                        " with the pytorch_grad_cam convention, expected 0 (channel pruning is defined for the authors' weights)");
        options_.cam.layer = detail::resolve_layer(model, options_.cam.layer, where.c_str());
        if (!options_.cam.score)
            options_.cam.score =
                options_.convention == ScoreCamConvention::authors ? ScoreKind::probability : ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const ScoreCamOptions& options() const { return options_; }

    /// Explains each image for its target (empty = the predicted class of every image, one
    /// entry = the same for all, else one per image) at options().cam.layer. `progress` is
    /// called after each wave of batched forward passes (unit: channels).
    template <std::same_as<Batch> B>
    ScoreCamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        return detail::smoothed_explanation(batch, targets, options_.cam, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, options_.cam.layer, progress, where.c_str());
        });
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    ScoreCamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

    /// Explains the batch at each of `layers` (names of model.layer_names()) and fuses them
    /// (FusedCamResult); options().cam.layer is not used. `progress` reports the channels of
    /// each layer as explain() does (restarting at each layer), and after each layer the layers
    /// done (unit: layers).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const std::string where = prefix("explain_fused");
        return detail::fuse_layers(*model_, batch, targets, layers, options_.cam, progress, where.c_str(),
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_at(batch, t, layer, progress, where.c_str());
                                   });
    }

private:
    /// "xai::ScoreCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// The explanation at `layer`, one of the model's layers; `where` prefixes the errors.
    ScoreCamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer,
                              const Progress& progress, const char* where) const {
        const CamOptions& cam = options_.cam;
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const detail::ChannelMaps a(in.output.activations, cam.tokens, where);

        ScoreCamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        result.weights = xt::zeros<float>({a.images(), a.channels()});
        const std::vector<char> selected = selected_channels(a);
        std::vector<std::size_t> scored(a.images() * a.channels(), 0);
        detail::for_channel_batches(a.images(), a.channels(), options_.batch_size, cam.threads, progress,
                                    [&](std::size_t i, std::size_t begin, std::size_t end) {
                                        score_channels(batch, a, i, begin, end, result.targets[i],
                                                       selected.data() + i * a.channels(),
                                                       result.weights.data() + i * a.channels(),
                                                       scored.data() + i * a.channels(), where);
                                    });
        if (options_.convention == ScoreCamConvention::pytorch_grad_cam)
            for (std::size_t i = 0; i < a.images(); ++i) detail::softmax_in_place(result.weights.data() + i * a.channels(), a.channels());
        for (std::size_t i = 0; i < a.images(); ++i)
            result.channels_scored.push_back(static_cast<std::size_t>(
                std::count(scored.begin() + static_cast<std::ptrdiff_t>(i * a.channels()),
                           scored.begin() + static_cast<std::ptrdiff_t>((i + 1) * a.channels()), std::size_t{1})));
        result.raw = detail::weighted_maps(a, result.weights, cam.threads, cam.eigen_smooth);
        detail::finish_result(result, batch, cam, *cam.score, where);
        return result;
    }

    /// Per image and channel, 1 when the channel is to be scored: every channel, or with a mass
    /// tolerance ε the channels of largest mass Σ_p |A_k(p)| (ties in channel order) up to the
    /// first prefix holding (1 − ε) of the image's total mass.
    std::vector<char> selected_channels(const detail::ChannelMaps& a) const {
        std::vector<char> selected(a.images() * a.channels(), 1);
        if (options_.mass_tolerance <= 0.0) return selected;
        for (std::size_t i = 0; i < a.images(); ++i) {
            std::vector<double> mass(a.channels(), 0.0);
            double total = 0.0;
            for (std::size_t k = 0; k < a.channels(); ++k) {
                const float* plane = a.image(i) + k * a.pixels();
                for (std::size_t p = 0; p < a.pixels(); ++p) mass[k] += std::abs(static_cast<double>(plane[p]));
                total += mass[k];
            }
            std::vector<std::size_t> order(a.channels());
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return mass[x] > mass[y]; });
            char* keep = selected.data() + i * a.channels();
            std::fill(keep, keep + a.channels(), 0);
            const double needed = (1.0 - options_.mass_tolerance) * total;
            double held = 0.0;
            for (std::size_t k : order) {
                if (held >= needed && held > 0.0) break;
                keep[k] = 1;
                held += mass[k];
            }
        }
        return selected;
    }

    /// w_k for channels [begin, end) of image i: one forward pass over the masked inputs of the
    /// selected, non-flat ones; `scored[k]` = 1 for each channel scored.
    void score_channels(const Batch& batch, const detail::ChannelMaps& a, std::size_t i, std::size_t begin,
                        std::size_t end, std::size_t target, const char* selected, float* weights, std::size_t* scored,
                        const char* where) const {
        const std::size_t in_channels = batch.shape(1), height = batch.shape(2), width = batch.shape(3);
        const std::size_t plane = height * width, image_size = in_channels * plane;
        // Masks H_k for the chunk, at the input's resolution.
        std::vector<float> masks((end - begin) * plane);
        const bool reference = options_.convention == ScoreCamConvention::pytorch_grad_cam;
        if (reference)
            detail::resize_planes_align_corners(a.image(i) + begin * a.pixels(), end - begin, a.height(), a.width(),
                                                masks.data(), height, width);
        else
            detail::resize_planes(a.image(i) + begin * a.pixels(), end - begin, a.height(), a.width(), masks.data(),
                                  height, width, options_.cam.upsampling);
        std::vector<std::size_t> kept;  // selected channels with a non-flat mask (every selected one for pytorch-grad-cam)
        for (std::size_t k = begin; k < end; ++k) {
            if (selected[k] == 0) continue;
            float* mask = masks.data() + (k - begin) * plane;
            if (reference) {
                // (U − min)/(max − min + 1e-8): a flat channel becomes zeros and is still scored.
                const auto [lo, hi] = std::minmax_element(mask, mask + plane);
                const float low = *lo, range = *hi - *lo + 1e-8f;
                for (std::size_t p = 0; p < plane; ++p) mask[p] = (mask[p] - low) / range;
                kept.push_back(k);
                continue;
            }
            // A flat map normalizes to all zeros; any other has its maximum at 1.
            detail::normalize_plane_min_max(mask, plane, 1e-7f);
            if (*std::max_element(mask, mask + plane) > 0.0f) kept.push_back(k);
        }
        if (kept.empty()) return;
        Batch masked = Batch::from_shape({kept.size(), in_channels, height, width});
        const float* image = batch.data() + i * image_size;
        for (std::size_t m = 0; m < kept.size(); ++m) {
            const float* mask = masks.data() + (kept[m] - begin) * plane;
            float* dst = masked.data() + m * image_size;
            for (std::size_t ch = 0; ch < in_channels; ++ch)
                for (std::size_t p = 0; p < plane; ++p) dst[ch * plane + p] = image[ch * plane + p] * mask[p];
        }
        const Scores logits = detail::checked_forward(*model_, masked, where);
        const Scores scores = scores_of_kind(logits, *options_.cam.score);
        const std::size_t classes = scores.shape(1);
        for (std::size_t m = 0; m < kept.size(); ++m) {
            weights[kept[m]] = scores.data()[m * classes + target];
            scored[kept[m]] = 1;
        }
    }

    const Model* model_;
    ScoreCamOptions options_;
};

}  // namespace xai
