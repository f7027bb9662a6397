#pragma once
// The CAM family's entries in the run-time method table (runtime/methods.hpp): their names,
// papers and concepts, how make_explainer() builds them from ExplainerSettings, and how their
// results are described (AnyExplanation::layer; Score-CAM also "channels_scored").
//
// ExplainerSettings::layers gives the layer(s): empty = the model's default feature layer
// (xai::default_layer), one layer = that layer, several = their fused map (explain_fused, the
// layers joined by commas in AnyExplanation::layer). CAM always explains the final feature maps
// and the Sobel map the input; both ignore the layers, as FullGrad does (it sums every
// convolution's bias-gradients).

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/cam.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/settings.hpp"

namespace xai {

/// The CAM family's methods, in the order a gallery shows them.
inline constexpr std::array<MethodInfo, 16> cam_methods = {{
    {"cam", "CAM", "Zhou et al., CVPR 2016", "FeatureModel", false, false},
    {"gradcam", "Grad-CAM", "Selvaraju et al., ICCV 2017", "LayerGradientModel", true, false},
    {"gradcam++", "Grad-CAM++", "Chattopadhay et al., WACV 2018", "LayerGradientModel", true, false},
    {"xgradcam", "XGrad-CAM", "Fu et al., BMVC 2020", "LayerGradientModel", true, false},
    {"hirescam", "HiResCAM", "Draelos & Carin, 2020", "LayerGradientModel", true, false},
    {"layercam", "LayerCAM", "Jiang et al., IEEE TIP 2021", "LayerGradientModel", true, false},
    {"scorecam", "Score-CAM", "Wang et al., CVPR Workshops 2020", "LayerActivationModel", true, true},
    {"eigencam", "Eigen-CAM", "Muhammad & Yeasin, IJCNN 2020", "LayerActivationModel", true, false},
    {"ablationcam", "Ablation-CAM", "Desai & Ramaswamy, WACV 2020", "LayerForwardModel", true, true},
    {"gradcam-elementwise", "Grad-CAM element-wise", "pytorch-grad-cam", "LayerGradientModel", true, false},
    {"eigengradcam", "Eigen-Grad-CAM", "pytorch-grad-cam (Eigen-CAM of G⊙A)", "LayerGradientModel", true, false},
    {"kpcacam", "KPCA-CAM", "Karmani et al., arXiv 2024", "LayerActivationModel", true, false},
    {"randomcam", "Random CAM", "baseline (pytorch-grad-cam)", "LayerActivationModel", true, false},
    {"sobelcam", "Sobel map", "baseline (pytorch-grad-cam)", "Classifier", false, false},
    {"fullgrad", "FullGrad", "Srinivas & Fleuret, NeurIPS 2019", "BiasGradientModel", false, false},
    {"dff", "Deep Feature Factorization", "Collins et al., ECCV 2018", "LayerForwardModel", true, false},
}};

namespace detail {

/// "a,b,c".
inline std::string join_layers(const std::vector<std::string>& layers) {
    std::string out;
    for (const std::string& l : layers) out += (out.empty() ? "" : ",") + l;
    return out;
}

/// A CAM-family explainer explaining several layers fused, behind the batch entry point.
template <class Inner>
struct FusedCamExplainer {
    Inner inner;                      ///< built at the first layer
    std::vector<std::string> layers;  ///< the layers to fuse, in order
    FusedCamResult explain(const Batch& images, const Targets& targets, const Progress& progress) const {
        return inner.explain_fused(images, layers, targets, progress);
    }
};

inline AnyExplanation describe_cam(std::string_view method, const CamResult& r) {
    AnyExplanation out = describe_core(method, r);
    out.layer = r.layer;
    return out;
}

/// FullGrad's result: the core, and the convolutions summed into the map as its layer(s).
inline AnyExplanation describe_full_grad(std::string_view method, const FullGradResult& r) {
    AnyExplanation out = describe_core(method, r);
    out.layer = join_layers(r.layers);
    return out;
}

/// Deep Feature Factorization's result: the core (the target's concept), the layer, each
/// concept's map as "concept_<j>", the strongest concept per pixel as "assignment", and each
/// concept's top class as the statistic "concept_<j>_class".
inline AnyExplanation describe_dff(std::string_view method, const DffResult& r) {
    AnyExplanation out = describe_core(method, r);
    out.layer = r.layer;
    const std::size_t n = r.concept_maps.shape(0), k = r.concept_maps.shape(1), plane = r.concept_maps.shape(2) * r.concept_maps.shape(3);
    for (std::size_t j = 0; j < k; ++j) {
        Maps m = Maps::from_shape({n, r.concept_maps.shape(2), r.concept_maps.shape(3)});
        std::vector<double> classes(n);
        for (std::size_t i = 0; i < n; ++i) {
            std::copy_n(r.concept_maps.data() + (i * k + j) * plane, plane, m.data() + i * plane);
            classes[i] = static_cast<double>(r.concept_classes[i][j]);
        }
        out.extra_maps.emplace_back("concept_" + std::to_string(j), std::move(m));
        out.statistics.emplace_back("concept_" + std::to_string(j) + "_class", std::move(classes));
    }
    out.extra_maps.emplace_back("assignment", xt::cast<float>(r.assignment));
    return out;
}

/// Score-CAM's result: also "channels_scored", its forward passes per image (fewer than the
/// layer's channels with ScoreCamOptions::mass_tolerance).
inline AnyExplanation describe_score_cam(std::string_view method, const ScoreCamResult& r) {
    AnyExplanation out = describe_cam(method, r);
    out.statistics.emplace_back("channels_scored", std::vector<double>(r.channels_scored.begin(), r.channels_scored.end()));
    return out;
}

/// Options of type O (CamOptions, or ScoreCam/AblationCam options holding one as `cam`) at `layer`.
template <class O>
O at_layer(O options, const std::string& layer) {
    if constexpr (requires { options.cam.layer; }) options.cam.layer = layer;
    else options.layer = layer;
    return options;
}

/// The AnyExplainer of explainer type E at the settings' layer(s).
template <class E, class Model, class O>
AnyExplainer cam_layer_explainer(const MethodInfo& info, const Model& model, const O& options,
                                 const std::vector<std::string>& layers) {
    if (layers.size() <= 1) {
        E explainer(model, at_layer(options, layers.empty() ? std::string() : layers.front()));
        return AnyExplainer(info, std::move(explainer),
                            [](std::string_view method, const auto& r) {
                                if constexpr (std::is_same_v<std::decay_t<decltype(r)>, ScoreCamResult>)
                                    return describe_score_cam(method, r);
                                else
                                    return describe_cam(method, r);
                            });
    }
    for (const std::string& layer : layers) require_layer(model, layer, "xai::make_explainer()");
    FusedCamExplainer<E> fused{E(model, at_layer(options, layers.front())), layers};
    const std::string joined = join_layers(layers);
    return AnyExplainer(info, std::move(fused), [joined](std::string_view method, const FusedCamResult& r) {
        AnyExplanation out = describe_core(method, r);
        out.layer = joined;
        return out;
    });
}

}  // namespace detail

/// The CAM-family explainer `info` on `model` (which must outlive it), or nullopt when `info` is
/// not a CAM-family method or the model type lacks the concept it needs (make_explainer() then
/// says so). The explainer's constructor checks the options and the layer here.
template <Classifier Model>
std::optional<AnyExplainer> make_cam_explainer(const MethodInfo& info, const Model& model,
                                               const ExplainerSettings& settings) {
    const std::string_view n = info.name;
    if (n == "cam") {
        if constexpr (FeatureModel<Model>) {
            CamOptions options = settings.cam;  // settings.layers are for the others: CAM has one map, the final features
            options.layer.clear();
            return AnyExplainer(info, Cam<Model>(model, options), detail::describe_cam);
        }
        return std::nullopt;
    }
    if (n == "sobelcam") {
        CamOptions options = settings.cam;  // the edges of the input: no layer
        options.layer.clear();
        return AnyExplainer(info, SobelCam<Model>(model, options), detail::describe_cam);
    }
    if (n == "fullgrad") {  // every convolution's bias-gradients: no layer to choose
        if constexpr (BiasGradientModel<Model>)
            return AnyExplainer(info, FullGrad<Model>(model, settings.full_grad), detail::describe_full_grad);
        return std::nullopt;
    }
    const auto& layers = settings.layers;
    if constexpr (LayerGradientModel<Model>) {
        using detail::cam_layer_explainer;
        if (n == "gradcam") return cam_layer_explainer<GradCam<Model>>(info, model, settings.cam, layers);
        if (n == "gradcam++") return cam_layer_explainer<GradCamPlusPlus<Model>>(info, model, settings.cam, layers);
        if (n == "xgradcam") return cam_layer_explainer<XGradCam<Model>>(info, model, settings.cam, layers);
        if (n == "hirescam") return cam_layer_explainer<HiResCam<Model>>(info, model, settings.cam, layers);
        if (n == "layercam") return cam_layer_explainer<LayerCam<Model>>(info, model, settings.cam, layers);
        if (n == "gradcam-elementwise")
            return cam_layer_explainer<GradCamElementWise<Model>>(info, model, settings.cam, layers);
        if (n == "eigengradcam") return cam_layer_explainer<EigenGradCam<Model>>(info, model, settings.cam, layers);
    }
    if constexpr (LayerActivationModel<Model>) {
        if (n == "scorecam") return detail::cam_layer_explainer<ScoreCam<Model>>(info, model, settings.score_cam, layers);
        if (n == "eigencam") return detail::cam_layer_explainer<EigenCam<Model>>(info, model, settings.cam, layers);
        if (n == "kpcacam") return detail::cam_layer_explainer<KpcaCam<Model>>(info, model, settings.kpca_cam, layers);
        if (n == "randomcam")
            return detail::cam_layer_explainer<RandomCam<Model>>(info, model, settings.random_cam, layers);
    }
    if constexpr (LayerForwardModel<Model>) {
        if (n == "dff") {  // one layer: the concepts of several layers are not fused
            detail::require(layers.size() <= 1, "xai::make_explainer(): dff factorizes one layer, got ", layers.size(),
                            " layers");
            DffOptions options = settings.dff;
            options.layer = layers.empty() ? std::string() : layers.front();
            return AnyExplainer(info, DeepFeatureFactorization<Model>(model, options), detail::describe_dff);
        }
        if (n == "ablationcam")
            return detail::cam_layer_explainer<AblationCam<Model>>(info, model, settings.ablation_cam, layers);
    }
    return std::nullopt;
}

}  // namespace xai
