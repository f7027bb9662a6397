#pragma once
// The gradient-weighted CAM family: Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM and LayerCAM.
//
// All five take, from one forward and one backward pass of a LayerGradientModel, the
// activations A (C channels, h×w each) of a named layer and the gradient G = ∂y^c/∂A of the
// explained score y^c (CamOptions::score, the logit by default as in every one of these
// papers), and differ only in how they combine them. With Z = h·w:
//
//   Grad-CAM    Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
//               Gradient-based Localization", ICCV 2017, eq. 1–2:
//                 α_k = (1/Z) Σ_ij G_k^ij                       raw = Σ_k α_k A_k
//   Grad-CAM++  Chattopadhay et al., "Grad-CAM++: Generalized Gradient-based Visual
//               Explanations for Deep Convolutional Networks", WACV 2018, eq. 19 with
//               Y^c = exp(y^c), the closed form pytorch-grad-cam uses (grad_cam_plusplus.py):
//                 a_k^ij = (G_k^ij)² / (2 (G_k^ij)² + (Σ_ab A_k^ab) (G_k^ij)³ + ε),  ε = 1e-6,
//                 a_k^ij = 0 where G_k^ij = 0 or the denominator is 0,
//                 w_k = Σ_ij a_k^ij · ReLU(G_k^ij)               raw = Σ_k w_k A_k
//   XGrad-CAM   Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and
//               Explanation of CNNs", BMVC 2020, eq. 9 (pytorch-grad-cam xgrad_cam.py):
//                 α_k = Σ_ij G_k^ij A_k^ij / (Σ_ij A_k^ij + ε),  ε = 1e-7
//                 raw = Σ_k α_k A_k
//               (a channel whose sum is so close to −ε that the denominator vanishes gets 0)
//   HiResCAM    Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations
//               of convolutional neural networks", 2020, eq. 4 — element-wise, no averaging:
//                 raw = Σ_k G_k ⊙ A_k
//   LayerCAM    Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
//               Localization", IEEE TIP 2021, eq. 5–6 — element-wise with positive gradients,
//               meant for earlier, finer layers (fuse several with explain_fused):
//                 raw = Σ_k ReLU(G_k) ⊙ A_k
//
// The display map is normalize(upsample(ReLU(raw))) (cam_options.hpp). Identities the tests
// check: on a GAP + linear head with the logit explained, G_k = W_ck / Z everywhere, so
// Grad-CAM's raw map = CAM / Z and HiResCAM's raw map = CAM / Z.
//
// Cost: the model's own forward + backward pass (stopped at the layer), plus O(N·C·h·w) here;
// N×C×h×w activations are read in place (token-shaped ones are folded once, see TokenGrid).

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam_common.hpp"
#include "xai/explain/cam_layout.hpp"
#include "xai/explain/cam_options.hpp"

namespace xai {

/// How a gradient-weighted method combines activations and gradients: either a per-channel
/// weight (the map is Σ_k w_k A_k) or a per-element term (the map is Σ_k term(A_k, G_k)).
template <class Rule>
concept ChannelWeightRule = requires(const float* a, const float* g, std::size_t pixels) {
    { Rule::channel_weight(a, g, pixels) } -> std::convertible_to<float>;
};
template <class Rule>
concept ElementwiseRule = requires(float a, float g) {
    { Rule::element(a, g) } -> std::convertible_to<float>;
};

/// Grad-CAM: the mean gradient of each channel.
struct GradCamRule {
    static constexpr const char* where = "GradCam::explain()";         ///< names explain() in error messages
    static constexpr const char* constructor = "GradCam::GradCam()";   ///< names the constructor in error messages
    /// α_k = (1/Z) Σ_ij G_k^ij for one channel: `g` points at its `pixels` gradient values.
    static float channel_weight(const float* /*a*/, const float* g, std::size_t pixels) {
        return static_cast<float>(detail::lane_sum(g, pixels) / static_cast<double>(pixels));
    }
};

/// Grad-CAM++: positive gradients weighted by the closed-form a_k^ij (second and third powers
/// of the gradient and the channel's activation sum).
struct GradCamPlusPlusRule {
    static constexpr const char* where = "GradCamPlusPlus::explain()";  ///< names explain() in error messages
    /// Names the constructor in error messages.
    static constexpr const char* constructor = "GradCamPlusPlus::GradCamPlusPlus()";
    static constexpr double epsilon = 1e-6;  ///< ε of the denominator (pytorch-grad-cam grad_cam_plusplus.py)
    /// w_k = Σ_ij a_k^ij · ReLU(G_k^ij) for one channel: `a` and `g` point at its `pixels`
    /// activations and gradients.
    static float channel_weight(const float* a, const float* g, std::size_t pixels) {
        const double activation_sum = detail::lane_sum(a, pixels);
        double weight = 0.0;
        for (std::size_t p = 0; p < pixels; ++p) {
            // ReLU(G) is zero for G ≤ 0, so only positive gradients contribute.
            if (!(g[p] > 0.0f)) continue;
            const double g1 = g[p], g2 = g1 * g1, g3 = g2 * g1;
            const double denominator = 2.0 * g2 + activation_sum * g3 + epsilon;
            if (denominator != 0.0) weight += g1 * (g2 / denominator);
        }
        return static_cast<float>(weight);
    }
};

/// XGrad-CAM: the gradient averaged with the activations as weights.
struct XGradCamRule {
    static constexpr const char* where = "XGradCam::explain()";        ///< names explain() in error messages
    static constexpr const char* constructor = "XGradCam::XGradCam()";  ///< names the constructor in error messages
    static constexpr double epsilon = 1e-7;  ///< ε of the denominator (pytorch-grad-cam xgrad_cam.py)
    /// α_k = Σ_ij G_k^ij A_k^ij / (Σ_ij A_k^ij + ε) for one channel (0 when the denominator
    /// vanishes): `a` and `g` point at its `pixels` activations and gradients.
    static float channel_weight(const float* a, const float* g, std::size_t pixels) {
        const double denominator = detail::lane_sum(a, pixels) + epsilon;
        return std::abs(denominator) > epsilon / 2 ? static_cast<float>(detail::lane_dot(a, g, pixels) / denominator)
                                                   : 0.0f;
    }
};

/// HiResCAM: gradient × activation, element-wise.
struct HiResCamRule {
    static constexpr const char* where = "HiResCam::explain()";        ///< names explain() in error messages
    static constexpr const char* constructor = "HiResCam::HiResCam()";  ///< names the constructor in error messages
    /// The term G ⊙ A of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return a * g; }
};

/// LayerCAM: ReLU(gradient) × activation, element-wise.
struct LayerCamRule {
    static constexpr const char* where = "LayerCam::explain()";        ///< names explain() in error messages
    static constexpr const char* constructor = "LayerCam::LayerCam()";  ///< names the constructor in error messages
    /// The term ReLU(G) ⊙ A of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return g > 0.0f ? a * g : 0.0f; }
};

/// A gradient-weighted CAM explainer; use the aliases GradCam, GradCamPlusPlus, XGradCam,
/// HiResCam and LayerCam. Holds a reference to the model, which must outlive it.
/// explain() is const and safe to call from several threads at once.
template <LayerGradientModel Model, class Rule>
    requires ChannelWeightRule<Rule> || ElementwiseRule<Rule>
class GradientCam {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    GradientCam(const Model&&, CamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer. Throws invalid_argument when
    /// options.layer is set but not one of model.layer_names().
    explicit GradientCam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        if (!options_.layer.empty()) detail::require_layer(model, options_.layer, Rule::constructor);
    }

    /// The options the explainer was built with.
    const CamOptions& options() const { return options_; }

    /// Explains each image of the batch for its target at options().layer. Targets: empty =
    /// the predicted class of every image, one entry = the same for all, else one per image.
    CamResult explain(const Batch& batch, const Targets& targets = {}) const {
        return explain_layer(batch, targets, options_.layer);
    }

    /// The same at any named layer.
    CamResult explain_layer(const Batch& batch, const Targets& targets, const std::string& layer) const {
        const char* where = Rule::where;
        detail::require_model_input(*model_, batch, where);
        detail::require_layer(*model_, layer, where);
        const std::size_t n = batch.shape(0), k = model_->num_classes();
        detail::require_targets(targets, n, k, where);

        // The targets are resolved from the logits of the same forward pass that the gradient
        // comes from; the seed runs inside the model's call, on this call's locals.
        std::vector<std::size_t> resolved;
        bool seeded = false;
        const ScoreSeed seed = [&](const Scores& logits) {
            detail::require_model_scores(logits, n, k, where);
            resolved = resolve_targets(targets, logits, where);
            seeded = true;
            return target_score_gradient(logits, resolved, options_.score);
        };
        LayerGradients out = model_->layer_gradients(batch, layer, seed);
        if (!seeded) throw model_error(detail::message(where, ": the model returned without calling the score seed"));
        detail::require_model_scores(out.scores, n, k, where);
        detail::require_layer_values(out.activations, n, layer, where, "activations");
        detail::require_layer_values(out.gradients, n, layer, where, "gradients");
        if (out.gradients.shape() != out.activations.shape())
            throw model_error(detail::message(where, ": the model returned gradients of shape ",
                                              shape_string(out.gradients.shape()), " for activations of shape ",
                                              shape_string(out.activations.shape()), ", expected the same shape"));

        const detail::ChannelMaps a(out.activations, options_.tokens, where);
        const detail::ChannelMaps g(out.gradients, options_.tokens, where);
        CamResult result;
        result.layer = layer;
        result.targets = std::move(resolved);
        result.logits = std::move(out.scores);
        result.raw = raw_maps(a, g, result.weights);
        detail::finish_result(result, batch, options_, where);
        return result;
    }

    /// Explains the batch at several layers and fuses them (FusedCamResult); the targets are
    /// resolved at the first layer. One forward + backward pass per layer.
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers,
                                 const Targets& targets = {}) const {
        return detail::fuse_layers(batch, targets, layers, options_, Rule::where,
                                   [&](const Targets& t, const std::string& layer) { return explain_layer(batch, t, layer); });
    }

private:
    Maps raw_maps(const detail::ChannelMaps& a, const detail::ChannelMaps& g, xt::xtensor<float, 2>& weights) const {
        const std::size_t n = a.images(), c = a.channels(), pixels = a.pixels();
        if constexpr (ChannelWeightRule<Rule>) {
            weights = xt::xtensor<float, 2>::from_shape({n, c});
            parallel_for(n, options_.threads, [&](std::size_t i) {
                float* w = weights.data() + i * c;
                for (std::size_t ch = 0; ch < c; ++ch)
                    w[ch] = Rule::channel_weight(a.image(i) + ch * pixels, g.image(i) + ch * pixels, pixels);
            });
            return detail::weighted_maps(a, weights, options_.threads);
        } else {
            weights = xt::xtensor<float, 2>::from_shape({n, std::size_t{0}});
            Maps raw = xt::zeros<float>({n, a.height(), a.width()});
            parallel_for(n, options_.threads, [&](std::size_t i) {
                float* map = raw.data() + i * pixels;
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const float* ak = a.image(i) + ch * pixels;
                    const float* gk = g.image(i) + ch * pixels;
                    for (std::size_t p = 0; p < pixels; ++p) map[p] += Rule::element(ak[p], gk[p]);
                }
            });
            return raw;
        }
    }

    const Model* model_;
    CamOptions options_;
};

/// Grad-CAM (Selvaraju et al., ICCV 2017).
template <LayerGradientModel Model>
using GradCam = GradientCam<Model, GradCamRule>;
/// Grad-CAM++ (Chattopadhay et al., WACV 2018).
template <LayerGradientModel Model>
using GradCamPlusPlus = GradientCam<Model, GradCamPlusPlusRule>;
/// XGrad-CAM (Fu et al., BMVC 2020).
template <LayerGradientModel Model>
using XGradCam = GradientCam<Model, XGradCamRule>;
/// HiResCAM (Draelos & Carin, 2020).
template <LayerGradientModel Model>
using HiResCam = GradientCam<Model, HiResCamRule>;
/// LayerCAM (Jiang et al., IEEE TIP 2021).
template <LayerGradientModel Model>
using LayerCam = GradientCam<Model, LayerCamRule>;

}  // namespace xai
