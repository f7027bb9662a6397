#pragma once
// The gradient attribution methods' entries in the run-time method table (runtime/methods.hpp),
// how make_explainer() builds them from ExplainerSettings, and how their results are described:
//   saliency, gradient_x_input, guided_backprop, deconvolution   the core only
//   ig               statistics "baseline_score" (F(x′)), "attribution_sum" (Σ IG),
//                    "completeness_error" (|Σ IG − (F(x) − F(x′))|), "steps", "converged" (0 or 1)
//   gradientshap     statistics "baseline_score" (E F(x′)), "attribution_sum", "completeness_error"
//   smoothgrad, smoothgrad_sq, vargrad   the noise tunnel around Saliency (settings.saliency, the
//                    tunnel's noise from settings.noise_tunnel, its type from the name); statistic "sigma"
//   guided_gradcam   explains ExplainerSettings::layers (one layer: empty = the default feature
//                    layer); extra map "grad_cam" (Grad-CAM's raw map upsampled to the input)

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/explain/gradients/gradient_shap.hpp"
#include "xai/explain/gradients/guided_backprop.hpp"
#include "xai/explain/gradients/integrated_gradients.hpp"
#include "xai/explain/gradients/noise_tunnel.hpp"
#include "xai/explain/gradients/saliency.hpp"
#include "xai/image/resize.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/settings.hpp"

namespace xai {

/// The gradient attribution methods, in the order a gallery shows them.
inline constexpr std::array<MethodInfo, 10> gradient_methods = {{
    {"saliency", "Saliency", "Simonyan et al., ICLR-W 2014", "InputGradientModel", false, false},
    {"gradient_x_input", "Gradient × input", "Shrikumar et al., 2016", "InputGradientModel", false, false},
    {"ig", "Integrated Gradients", "Sundararajan et al., ICML 2017", "InputGradientModel", false, true},
    {"smoothgrad", "SmoothGrad", "Smilkov et al., 2017", "InputGradientModel", false, true},
    {"smoothgrad_sq", "SmoothGrad²", "Hooker et al., NeurIPS 2019", "InputGradientModel", false, true},
    {"vargrad", "VarGrad", "Adebayo et al., ICLR-W 2018", "InputGradientModel", false, true},
    {"gradientshap", "GradientSHAP", "Lundberg & Lee, NeurIPS 2017; Erion et al., 2021", "InputGradientModel", false, true},
    {"guided_backprop", "Guided Backprop", "Springenberg et al., ICLR-W 2015", "ReluBackwardModel", false, false},
    {"deconvolution", "Deconvnet", "Zeiler & Fergus, ECCV 2014", "ReluBackwardModel", false, false},
    {"guided_gradcam", "Guided Grad-CAM", "Selvaraju et al., ICCV 2017", "ReluBackwardModel", true, false},
}};

namespace detail {

/// Per-image numbers as doubles.
template <class T>
std::vector<double> as_doubles(const std::vector<T>& values) {
    return std::vector<double>(values.begin(), values.end());
}

inline AnyExplanation describe_integrated_gradients(std::string_view method, const IntegratedGradientsExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.insert(out.statistics.end(), {{"baseline_score", r.baseline_scores},
                                                 {"attribution_sum", r.attribution_sums},
                                                 {"completeness_error", r.completeness_error},
                                                 {"steps", as_doubles(r.steps)},
                                                 {"converged", as_doubles(r.converged)}});
    return out;
}

inline AnyExplanation describe_gradient_shap(std::string_view method, const GradientShapExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.insert(out.statistics.end(), {{"baseline_score", r.baseline_scores},
                                                 {"attribution_sum", r.attribution_sums},
                                                 {"completeness_error", r.completeness_error}});
    return out;
}

inline AnyExplanation describe_noise_tunnel(std::string_view method, const NoiseTunnelExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.emplace_back("sigma", r.sigma);
    return out;
}

inline AnyExplanation describe_guided_grad_cam(std::string_view method, const GuidedGradCamExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.layer = r.layer;
    out.extra_maps.emplace_back("grad_cam", resize(r.grad_cam, r.maps.shape(1), r.maps.shape(2)));
    return out;
}

}  // namespace detail

/// The gradient explainer `info` on `model` (which must outlive it), or nullopt when `info` is
/// not one of gradient_methods or the model type lacks the capability it needs (make_explainer
/// then names the concept). The explainer's constructor checks the options here.
template <Classifier Model>
std::optional<AnyExplainer> make_gradient_explainer(const MethodInfo& info, const Model& model,
                                                    const ExplainerSettings& settings) {
    [[maybe_unused]] const std::string_view n = info.name;
    if constexpr (InputGradientModel<Model>) {
        if (n == "saliency") return AnyExplainer(info, Saliency<Model>(model, settings.saliency));
        if (n == "gradient_x_input") return AnyExplainer(info, GradientTimesInput<Model>(model, settings.gradient_x_input));
        if (n == "ig")
            return AnyExplainer(info, IntegratedGradients<Model>(model, settings.integrated_gradients),
                                detail::describe_integrated_gradients);
        if (n == "gradientshap")
            return AnyExplainer(info, GradientShap<Model>(model, settings.gradient_shap), detail::describe_gradient_shap);
        if (n == "smoothgrad" || n == "smoothgrad_sq" || n == "vargrad") {
            NoiseTunnelOptions<Saliency<Model>> o{.method = settings.saliency, .noise = settings.noise_tunnel,
                                                  .display = settings.saliency.display};
            o.noise.type = n == "smoothgrad"      ? NoiseTunnelType::smoothgrad
                           : n == "smoothgrad_sq" ? NoiseTunnelType::smoothgrad_squared
                                                  : NoiseTunnelType::vargrad;
            return AnyExplainer(info, NoiseTunnel<Saliency<Model>>(model, o), detail::describe_noise_tunnel);
        }
    }
    if constexpr (ReluBackwardModel<Model>) {
        if (n == "guided_backprop") return AnyExplainer(info, GuidedBackprop<Model>(model, settings.guided_backprop));
        if (n == "deconvolution") return AnyExplainer(info, Deconvolution<Model>(model, settings.guided_backprop));
    }
    if constexpr (ReluBackwardModel<Model> && LayerGradientModel<Model>) {
        if (n == "guided_gradcam") {
            detail::require(settings.layers.size() <= 1, "xai::make_explainer(): settings.layers has ", settings.layers.size(),
                    " layers, expected at most one for guided_gradcam (its Grad-CAM part explains one layer)");
            GuidedGradCamOptions o = settings.guided_gradcam;
            if (!settings.layers.empty()) o.cam.layer = settings.layers.front();
            return AnyExplainer(info, GuidedGradCam<Model>(model, o), detail::describe_guided_grad_cam);
        }
    }
    return std::nullopt;
}

}  // namespace xai
