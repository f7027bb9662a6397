#pragma once
// The gradient attribution family (docs/methods/gradients.md): methods that explain a class
// score with its gradient with respect to the input pixels, on any InputGradientModel.
//
//   Saliency, GradientTimesInput           explain/gradients/saliency.hpp
//   IntegratedGradients (+ IntegrationRule, uniform_noise_baseline)
//                                          explain/gradients/integrated_gradients.hpp
//   NoiseTunnel (SmoothGrad, SmoothGrad², VarGrad around any of them)
//                                          explain/gradients/noise_tunnel.hpp
//   GradientShap (expected gradients)      explain/gradients/gradient_shap.hpp
//   GuidedBackprop, Deconvolution, GuidedGradCam (on a ReluBackwardModel)
//                                          explain/gradients/guided_backprop.hpp
//   reduce_channels, normalize_attribution, blended_heat_map   image/attribution_*.hpp
//
//   const xai::IntegratedGradients ig(model, {.steps = 50});
//   const xai::IntegratedGradientsExplanation e = ig.explain(image);   // the predicted class
//   e.map(); e.completeness_error[0];                                  // its map, |Σ IG − (F(x) − F(x′))|

#include "xai/explain/gradients/baselines.hpp"
#include "xai/explain/gradients/gradient_attribution.hpp"
#include "xai/explain/gradients/gradient_shap.hpp"
#include "xai/explain/gradients/guided_backprop.hpp"
#include "xai/explain/gradients/integrated_gradients.hpp"
#include "xai/explain/gradients/integration.hpp"
#include "xai/explain/gradients/noise_tunnel.hpp"
#include "xai/explain/gradients/options.hpp"
#include "xai/explain/gradients/saliency.hpp"
#include "xai/image/attribution_colormap.hpp"
#include "xai/image/attribution_map.hpp"
