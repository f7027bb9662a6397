#pragma once
// The gradient-weighted CAM family: Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM,
// Grad-CAM element-wise and Eigen-Grad-CAM.
//
// All seven take, from one forward and one backward pass of a LayerGradientModel, the
// activations A (C channels, h×w each) of a named layer and the gradient G = ∂y^c/∂A of the
// explained score y^c (CamOptions::score, the logit by default as in every one of these
// papers), and differ only in how they combine them: the rule (rules.hpp, with each paper's
// formula). GradientCam<Model, Rule> is the explainer; GradCam, GradCamPlusPlus, XGradCam,
// HiResCam, LayerCam, GradCamElementWise and EigenGradCam are its aliases for the seven rules, and a user's own rule
// (a ChannelWeightRule or an ElementwiseRule) plugs in the same way.
//
// The display map is normalize(upsample(ReLU(raw))) (explain/cam/options.hpp). Identities the
// tests check: on a GAP + linear head with the logit explained, G_k = W_ck / Z everywhere, so
// Grad-CAM's raw map = CAM / Z and HiResCAM's raw map = CAM / Z.
//
// Cost: the model's own forward + backward pass (stopped at the layer), plus O(N·C·h·w) here;
// N×C×h×w activations are read in place (token-shaped ones are folded once, see TokenGrid).

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/options.hpp"
#include "xai/explain/cam/rules.hpp"

namespace xai {

/// A gradient-weighted CAM explainer; use the aliases GradCam, GradCamPlusPlus, XGradCam,
/// HiResCam and LayerCam, or a rule of your own (CamRule). Holds a reference to the model,
/// which must outlive it. explain() is const and safe to call from several threads at once.
template <LayerGradientModel Model, CamRule Rule>
class GradientCam {
public:
    /// The explainer's name in error messages ("xai::<name>::explain(): ..."): the rule's.
    static constexpr std::string_view name = Rule::name;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    GradientCam(const Model&&, CamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.layer (empty: the
    /// model's default_layer()). Throws invalid_argument when the layer is not one of
    /// model.layer_names(), or is empty and the model names no feature layer.
    explicit GradientCam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        options_.layer = detail::resolve_layer(model, options_.layer, prefix(name).c_str());
        if (!options_.score) options_.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const CamOptions& options() const { return options_; }

    /// Explains each image of the batch for its target at options().layer. Targets: empty =
    /// the predicted class of every image, one entry = the same for all, else one per image;
    /// a target may be a target function (Target::function, core/targets.hpp): its gradient
    /// seeds the backward pass, result.scores holds its value and result.targets its class
    /// (the predicted class when it names none).
    /// `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const;

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const;

    /// Explains the batch at each of `layers` (names of model.layer_names()) and fuses them
    /// (FusedCamResult); options().layer is not used. The targets are resolved at the first
    /// layer. One forward + backward pass per layer; `progress` is called after each layer
    /// (unit: layers).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const std::string w = prefix("explain_fused");
        return detail::fuse_layers(*model_, batch, targets, layers, options_, progress, w.c_str(),
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_at(batch, t, layer, w.c_str());
                                   });
    }

private:
    /// "xai::<name>::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// The explanation at `layer`, one of the model's layers; `where` prefixes the errors.
    CamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer, const char* where) const {
        detail::require_model_input(*model_, batch, where);
        const std::size_t n = batch.shape(0), k = model_->num_classes();
        detail::require_targets(targets, n, k, where);

        // The targets are resolved from the logits of the same forward pass that the gradient
        // comes from; the seed runs inside the model's call, on this call's locals.
        // A target function (core/target_function.hpp) seeds its image's row with its own
        // gradient instead of the score kind's.
        std::vector<std::size_t> resolved;
        bool seeded = false;
        const ScoreKind kind = *options_.score;
        const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, n);
        const ScoreSeed seed = detail::target_seed(targets, functions, n, k, kind, resolved, seeded, where);
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
        detail::finish_result(result, batch, options_, kind, where);
        detail::replace_function_scores(result.scores, result.logits, functions);
        return result;
    }

    Maps raw_maps(const detail::ChannelMaps& a, const detail::ChannelMaps& g, xt::xtensor<float, 2>& weights) const {
        const std::size_t n = a.images(), c = a.channels(), pixels = a.pixels();
        if constexpr (ChannelWeightRule<Rule>) {
            weights = xt::xtensor<float, 2>::from_shape({n, c});
            parallel_for(n, options_.threads, [&](std::size_t i) {
                float* w = weights.data() + i * c;
                for (std::size_t ch = 0; ch < c; ++ch)
                    w[ch] = static_cast<float>(
                        Rule::channel_weight(a.image(i) + ch * pixels, g.image(i) + ch * pixels, pixels));
            });
            return detail::weighted_maps(a, weights, options_.threads, options_.eigen_smooth);
        } else {
            weights = xt::xtensor<float, 2>::from_shape({n, std::size_t{0}});
            Maps raw = xt::zeros<float>({n, a.height(), a.width()});
            const bool project = projects_terms<Rule> || options_.eigen_smooth;
            parallel_for(n, options_.threads, [&](std::size_t i) {
                float* map = raw.data() + i * pixels;
                std::vector<float> terms(project ? c * pixels : 0);
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const float* ak = a.image(i) + ch * pixels;
                    const float* gk = g.image(i) + ch * pixels;
                    if (project)
                        for (std::size_t p = 0; p < pixels; ++p)
                            terms[ch * pixels + p] = static_cast<float>(Rule::element(ak[p], gk[p]));
                    else
                        for (std::size_t p = 0; p < pixels; ++p) map[p] += static_cast<float>(Rule::element(ak[p], gk[p]));
                }
                if (project) detail::eigen_cam_projection(terms.data(), c, pixels, map);
            });
            return raw;
        }
    }

    const Model* model_;
    CamOptions options_;
};

// The two explain() are defined out of the class so that they are not inline: an explicit
// instantiation declaration (compiled mode, core/compiled.hpp) then keeps a program from
// compiling them at all, where GCC still instantiates inline members for inlining.
template <LayerGradientModel Model, CamRule Rule>
template <std::same_as<Batch> B>
CamResult GradientCam<Model, Rule>::explain(const B& batch, const Targets& targets, const Progress& progress) const {
    const std::string where = prefix("explain");
    CamResult result = detail::smoothed_explanation(batch, targets, options_, [&](const Batch& b, const Targets& t) {
        return explain_at(b, t, options_.layer, where.c_str());
    });
    detail::report(progress, batch.shape(0), batch.shape(0), "images");
    return result;
}

template <LayerGradientModel Model, CamRule Rule>
template <std::same_as<Image> I>
CamResult GradientCam<Model, Rule>::explain(const I& image, Target target, const Progress& progress) const {
    return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
}

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

/// Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise).
template <LayerGradientModel Model>
using GradCamElementWise = GradientCam<Model, GradCamElementWiseRule>;
/// Eigen-Grad-CAM (pytorch-grad-cam's EigenGradCAM).
template <LayerGradientModel Model>
using EigenGradCam = GradientCam<Model, EigenGradCamRule>;

}  // namespace xai

// Compiled mode: the explicit instantiation declarations for the built-in model's Grad-CAM,
// once both headers are in (core/compiled_instances.hpp).
#define XAI_GRAD_CAM_HPP_INCLUDED 1
#if defined(XAI_COMPILED_LIB) && !defined(XAI_COMPILED_LIB_SOURCE) && defined(XAI_SEQUENTIAL_HPP_INCLUDED)
#include "xai/core/compiled_instances.hpp"
#endif
