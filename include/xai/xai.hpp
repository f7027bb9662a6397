#pragma once
// Umbrella header: the sum of the family headers, i.e. everything in xai except the optional
// backends (xai/torch.hpp) and the run-time method table (xai/runtime.hpp). Include only the
// families you use for the shortest compile (scripts/compile_cost.sh, docs/performance.md):
//
//   xai/cam.hpp         CAM, Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Score-CAM, Eigen-CAM, Ablation-CAM
//   xai/gradients.hpp   Saliency, gradient × input, Integrated Gradients, guided backprop, deconvnet, Guided Grad-CAM
//   xai/lime.hpp        LIME, the superpixel algorithms, LIME's pictures
//   xai/rise.hpp        RISE
//   xai/occlusion.hpp   occlusion
//   xai/shapley.hpp     KernelSHAP and Shapley value sampling over superpixels
//   xai/influence.hpp   influence functions and their inverse-Hessian solvers
//   xai/metrics.hpp     deletion/insertion, confidence change, pointing game, sanity check
//   xai/localization.hpp  boxes and masks from any map; WSOL metrics (MaxBoxAcc, PxAP, …) of Choe et al.
//   xai/audit.hpp       bias audit: attribution shares per region and class, separation AUC
//   xai/image.hpp       image files, resizing, preprocessing, baselines, colormaps, overlays
//   xai/models.hpp      the built-in CNN and logistic regression, training, the gradient checker
//   xai/data.hpp        Fashion-MNIST, the scenes generator, data_directory()
//
// Image file I/O needs stb's implementation at link time only when it is called; the xai::xai
// CMake target links Debian's libstb for that.

#include "xai/audit.hpp"
#include "xai/cam.hpp"
#include "xai/data.hpp"
#include "xai/gradients.hpp"
#include "xai/image.hpp"
#include "xai/influence.hpp"
#include "xai/lime.hpp"
#include "xai/localization.hpp"
#include "xai/metrics.hpp"
#include "xai/models.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"
#include "xai/shapley.hpp"
