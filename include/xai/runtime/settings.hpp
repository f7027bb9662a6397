#pragma once
// The options of every method that make_explainer() (runtime/methods.hpp) can build, with the
// library's defaults in one place: a command-line tool that fills ExplainerSettings from its
// flags never restates a default.

#include <functional>
#include <string>
#include <vector>

#include "xai/explain/cam/options.hpp"
#include "xai/explain/cam/ablation_cam.hpp"
#include "xai/explain/cam/baselines.hpp"
#include "xai/explain/cam/dff.hpp"
#include "xai/explain/cam/full_grad.hpp"
#include "xai/explain/cam/kpca_cam.hpp"
#include "xai/explain/cam/score_cam.hpp"
#include "xai/explain/gradients/gradient_shap.hpp"
#include "xai/explain/gradients/guided_backprop.hpp"
#include "xai/explain/gradients/integrated_gradients.hpp"
#include "xai/explain/gradients/noise_tunnel.hpp"
#include "xai/explain/gradients/saliency.hpp"
#include "xai/explain/lime/options.hpp"
#include "xai/explain/occlusion.hpp"
#include "xai/explain/rise.hpp"
#include "xai/explain/shapley/kernel_shap.hpp"
#include "xai/explain/shapley/shapley_sampling.hpp"
#include "xai/explain/sobol.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// The options of every method, with the library's defaults.
struct ExplainerSettings {
    /// The layer(s) the layer-based methods explain: one, or several whose maps are fused
    /// (FusedCamResult). Empty: the model's default feature layer (xai::default_layer). Replaces
    /// the `layer` of the CAM option structs below.
    std::vector<std::string> layers{};
    CamOptions cam{};                   ///< CAM, Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Eigen-CAM, Grad-CAM element-wise, Eigen-Grad-CAM, the Sobel map
    ScoreCamOptions score_cam{};        ///< Score-CAM
    AblationCamOptions ablation_cam{};  ///< Ablation-CAM
    KpcaCamOptions kpca_cam{};          ///< KPCA-CAM
    RandomCamOptions random_cam{};      ///< the random CAM baseline
    FullGradOptions full_grad{};        ///< FullGrad
    DffOptions dff{};                   ///< Deep Feature Factorization (its layer comes from `layers`)
    LimeOptions lime{};                 ///< LIME
    /// LIME's superpixels: any SegmentationAlgorithm (Slic{…}, Felzenszwalb{…}, GridSegmenter{…},
    /// a lambda); by default lime's quick shift, as Lime's own default policy.
    std::function<Segmentation(const Image&)> lime_segmentation = Quickshift{};
    /// LIME's stability report (Lime::stability): off unless repeats ≥ 2 (each repeat is a whole
    /// further explanation; lime itself has none).
    LimeStabilityOptions lime_stability{.repeats = 0};
    RiseOptions rise{};                 ///< RISE
    OcclusionOptions occlusion{};       ///< occlusion
    SaliencyOptions saliency{};                          ///< Saliency, and the method inside SmoothGrad/SmoothGrad²/VarGrad
    GradientTimesInputOptions gradient_x_input{};        ///< gradient × input
    IntegratedGradientsOptions integrated_gradients{};   ///< Integrated Gradients
    NoiseSampling noise_tunnel{};                        ///< SmoothGrad's noise (its type comes from the method's name)
    GradientShapOptions gradient_shap{};                 ///< GradientSHAP
    GuidedBackpropOptions guided_backprop{};             ///< guided backprop and the deconvnet
    GuidedGradCamOptions guided_gradcam{};               ///< Guided Grad-CAM (its layer: `layers` above)
    KernelShapOptions kernel_shap{};                     ///< KernelSHAP (superpixels: lime_segmentation)
    ShapleySamplingOptions shapley_sampling{};           ///< Shapley value sampling (superpixels: lime_segmentation)
    SobolOptions sobol{};               ///< the Sobol attribution method
};

}  // namespace xai
