#pragma once
// Ablation-CAM: channel weights from the drop of the target score when the channel is removed.
//
// Desai & Ramaswamy, "Ablation-CAM: Visual Explanations for Deep Convolutional Network via
// Gradient-free Localization", WACV 2020, eq. 3–4:
//   w_k = (y^c − y^c_k) / y^c     y^c_k: the score with channel k of the layer set to zero
//   raw = Σ_k w_k A_k
// y^c is the explained score (CamOptions::score; the logit by default, as the paper's class
// score and pytorch-grad-cam's ClassifierOutputTarget). y^c_k comes from forward_from(layer,
// activations with channel k zeroed), so the layers below are not run again; the ablated
// copies are batched (batch_size per call, 32 as in pytorch-grad-cam ablation_cam.py).
//
// Where this differs from pytorch-grad-cam (ablation_layer.py): the channel is always set to
// zero, as in the paper; pytorch-grad-cam sets it to min(A) − 1e7 when the layer has negative
// values. For token-shaped activations (N×T×D) channel d is zeroed in every token, the
// prefix tokens included, as pytorch-grad-cam's AblationLayerVit does.
// Two guards the formula needs: a channel that is already all zero cannot change the score,
// so it gets w_k = 0 without a forward pass; and when y^c = 0 the relative drop is undefined,
// so every weight of that image is 0 (an all-zero map, never a division by zero). A negative
// y^c flips the sign of every weight (the formula's, kept as published).
//
// Needs a LayerForwardModel: one forward pass for the activations, then about C/batch_size
// forward_from calls per image.

#include <algorithm>
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
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/options.hpp"

namespace xai {

/// Options of AblationCam: the common CamOptions (`cam`; its score defaults to the logit, the
/// paper's class score) plus the batching of the ablated copies. An aggregate:
/// `{.cam = {.layer = "relu4"}, .batch_size = 64}`.
struct AblationCamOptions {
    /// Layer, score (empty: logit), display, tokens and threads, as for every CAM method.
    CamOptions cam{};
    /// Ablated copies per forward_from call (pytorch-grad-cam: 32). Results do not depend on it.
    std::size_t batch_size = 32;
};

/// Ablation-CAM on a LayerForwardModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerForwardModel Model>
class AblationCam {
public:
    /// The explainer's name in error messages ("xai::AblationCam::explain(): ...").
    static constexpr std::string_view name = "AblationCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    AblationCam(const Model&&, AblationCamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.cam.layer (empty: the
    /// model's default_layer()). Throws invalid_argument when options.batch_size is 0, or the
    /// layer is not one of model.layer_names(), or is empty and the model names no feature layer.
    explicit AblationCam(const Model& model, AblationCamOptions options = {})
        : model_(&model), options_(std::move(options)) {
        const std::string where = prefix(name);
        detail::require(options_.batch_size > 0, where, ": options.batch_size is 0, expected at least 1");
        options_.cam.layer = detail::resolve_layer(model, options_.cam.layer, where.c_str());
        if (!options_.cam.score) options_.cam.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const AblationCamOptions& options() const { return options_; }

    /// Explains each image for its target (empty = the predicted class of every image, one
    /// entry = the same for all, else one per image) at options().cam.layer. `progress` is
    /// called after each wave of batched forward passes (unit: channels).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        return detail::smoothed_explanation(batch, targets, options_.cam, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, options_.cam.layer, progress, where.c_str());
        });
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
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
    /// "xai::AblationCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// The explanation at `layer`, one of the model's layers; `where` prefixes the errors.
    CamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer, const Progress& progress,
                         const char* where) const {
        const CamOptions& cam = options_.cam;
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const Activations& native = in.output.activations;
        const detail::ChannelMaps a(native, cam.tokens, where);
        const detail::ChannelLayout layout = detail::channel_layout(native);

        CamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        const std::vector<float> original = detail::target_scores(result.logits, result.targets, *cam.score);
        result.weights = xt::zeros<float>({a.images(), a.channels()});
        detail::for_channel_batches(a.images(), a.channels(), options_.batch_size, cam.threads, progress,
                                    [&](std::size_t i, std::size_t begin, std::size_t end) {
                                        if (original[i] == 0.0f) return;
                                        ablate_channels(native, layout, layer, i, begin, end, result.targets[i],
                                                        original[i], result.weights.data() + i * a.channels(), where);
                                    });
        result.raw = detail::weighted_maps(a, result.weights, cam.threads, cam.eigen_smooth);
        detail::finish_result(result, batch, cam, *cam.score, where);
        return result;
    }

    /// w_k for channels [begin, end) of image i: one forward_from call over the ablated copies.
    void ablate_channels(const Activations& native, const detail::ChannelLayout& layout, const std::string& layer,
                         std::size_t i, std::size_t begin, std::size_t end, std::size_t target, float original,
                         float* weights, const char* where) const {
        const float* image = native.data() + i * layout.image_size;
        std::vector<std::size_t> ablated;  // channels that are not already zero
        for (std::size_t k = begin; k < end; ++k)
            if (!detail::channel_is_zero(image, layout, k)) ablated.push_back(k);
        if (ablated.empty()) return;
        std::vector<std::size_t> shape(native.shape().begin(), native.shape().end());
        shape[0] = ablated.size();
        Activations copies = Activations::from_shape(shape);
        for (std::size_t m = 0; m < ablated.size(); ++m) {
            float* dst = copies.data() + m * layout.image_size;
            std::copy_n(image, layout.image_size, dst);
            detail::fill_channel(dst, layout, ablated[m], 0.0f);
        }
        const Scores logits = model_->forward_from(layer, copies);
        detail::require_model_scores(logits, ablated.size(), model_->num_classes(), where);
        const Scores scores = scores_of_kind(logits, *options_.cam.score);
        const std::size_t classes = scores.shape(1);
        for (std::size_t m = 0; m < ablated.size(); ++m)
            weights[ablated[m]] = (original - scores.data()[m * classes + target]) / original;
    }

    const Model* model_;
    AblationCamOptions options_;
};

}  // namespace xai
