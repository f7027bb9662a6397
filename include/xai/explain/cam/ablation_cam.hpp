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
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam_common.hpp"
#include "xai/explain/cam_layout.hpp"
#include "xai/explain/cam_options.hpp"

namespace xai {

/// Options of AblationCam: the common CamOptions (score = logit by default, as the paper's
/// class score) plus the batching of the ablated copies.
struct AblationCamOptions : CamOptions {
    /// Ablated copies per forward_from call (pytorch-grad-cam: 32). Results do not depend on it.
    std::size_t batch_size = 32;
};

namespace detail {

/// Where channel k lives in one image's activations: `count` runs of `run` floats, `stride`
/// apart, starting at `offset`. N×C×h×w: one run (the plane). N×T×D: one value per token.
struct ChannelLayout {
    std::size_t image_size = 0, channels = 0, run = 0, stride = 0, count = 0;
    std::size_t offset(std::size_t k) const { return k * run; }
};

inline ChannelLayout channel_layout(const Activations& a) {
    ChannelLayout l;
    l.image_size = a.size() / a.shape(0);
    if (a.dimension() == 4) {
        l.channels = a.shape(1);
        l.run = a.shape(2) * a.shape(3);
        l.stride = l.image_size;
        l.count = 1;
    } else {
        l.channels = a.shape(2);
        l.run = 1;
        l.stride = l.channels;
        l.count = a.shape(1);
    }
    return l;
}

inline void fill_channel(float* image, const ChannelLayout& l, std::size_t k, float value) {
    for (std::size_t r = 0; r < l.count; ++r) std::fill_n(image + l.offset(k) + r * l.stride, l.run, value);
}

inline bool channel_is_zero(const float* image, const ChannelLayout& l, std::size_t k) {
    for (std::size_t r = 0; r < l.count; ++r) {
        const float* run = image + l.offset(k) + r * l.stride;
        if (std::any_of(run, run + l.run, [](float v) { return v != 0.0f; })) return false;
    }
    return true;
}

}  // namespace detail

/// Ablation-CAM on a LayerForwardModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerForwardModel Model>
class AblationCam {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    AblationCam(const Model&&, AblationCamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer. Throws invalid_argument when
    /// options.batch_size is 0 or options.layer is set but not one of model.layer_names().
    explicit AblationCam(const Model& model, AblationCamOptions options = {}) : model_(&model), options_(std::move(options)) {
        detail::require(options_.batch_size > 0, "AblationCam::AblationCam(): options.batch_size is 0, expected at least 1");
        if (!options_.layer.empty()) detail::require_layer(model, options_.layer, "AblationCam::AblationCam()");
    }

    /// The options the explainer was built with.
    const AblationCamOptions& options() const { return options_; }

    /// Explains each image for its target (empty = the predicted class) at options().layer.
    /// `progress` is called after each wave of batched forward passes (unit: channels).
    CamResult explain(const Batch& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        return explain_layer(batch, targets, options_.layer, progress);
    }

    /// The same as explain() at any named layer (one of model.layer_names()), ignoring
    /// options().layer.
    CamResult explain_layer(const Batch& batch, const Targets& targets, const std::string& layer,
                            const Progress& progress = {}) const {
        constexpr const char* where = "AblationCam::explain()";
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const Activations& native = in.output.activations;
        const detail::ChannelMaps a(native, options_.tokens, where);
        const detail::ChannelLayout layout = detail::channel_layout(native);

        CamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        const std::vector<float> original = detail::target_scores(result.logits, result.targets, options_.score);
        result.weights = xt::zeros<float>({a.images(), a.channels()});
        detail::for_channel_batches(a.images(), a.channels(), options_.batch_size, options_.threads, progress,
                                    [&](std::size_t i, std::size_t begin, std::size_t end) {
                                        if (original[i] == 0.0f) return;
                                        ablate_channels(native, layout, layer, i, begin, end, result.targets[i],
                                                        original[i], result.weights.data() + i * a.channels());
                                    });
        result.raw = detail::weighted_maps(a, result.weights, options_.threads);
        detail::finish_result(result, batch, options_, where);
        return result;
    }

    /// Explains the batch at several layers and fuses them (FusedCamResult).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        return detail::fuse_layers(batch, targets, layers, options_, "AblationCam::explain_fused()",
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_layer(batch, t, layer, progress);
                                   });
    }

private:
    /// w_k for channels [begin, end) of image i: one forward_from call over the ablated copies.
    void ablate_channels(const Activations& native, const detail::ChannelLayout& layout, const std::string& layer,
                         std::size_t i, std::size_t begin, std::size_t end, std::size_t target, float original,
                         float* weights) const {
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
        constexpr const char* where = "AblationCam::explain()";
        const Scores logits = model_->forward_from(layer, copies);
        detail::require_model_scores(logits, ablated.size(), model_->num_classes(), where);
        const Scores scores = scores_of_kind(logits, options_.score);
        const std::size_t classes = scores.shape(1);
        for (std::size_t m = 0; m < ablated.size(); ++m)
            weights[ablated[m]] = (original - scores.data()[m * classes + target]) / original;
    }

    const Model* model_;
    AblationCamOptions options_;
};

}  // namespace xai
