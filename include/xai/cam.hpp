#pragma once
// The CAM family: CAM, Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Grad-CAM
// element-wise, Eigen-Grad-CAM, Score-CAM, Eigen-CAM, KPCA-CAM, Ablation-CAM, FullGrad, Deep Feature Factorization and the random and
// Sobel baselines (docs/methods/cam.md), with what a program needs beside them:
// the model concepts they ask for, the Explainer concept and the result core, targets (class
// indices and the target functions of core/targets.hpp) and
// progress, and the display helpers' interpolation and normalization.
//
//   #include <xai/cam.hpp>
//   const xai::GradCam cam(model, {.layer = "relu4"});   // empty layer: xai::default_layer(model)
//   const xai::CamResult r = cam.explain(image);          // the predicted class
//   r.map()  (H×W display map in [0, 1])   r.raw_map()  (h×w signed map at the layer)
//
// Costs about the floor of the Eigen and xtensor headers it needs (docs/performance.md):
// the only heavy code, Eigen-CAM's eigen-solver, is a template instantiated where it is used.

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/targets.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/ablation_cam.hpp"
#include "xai/explain/cam/baselines.hpp"
#include "xai/explain/cam/cam.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/dff.hpp"
#include "xai/explain/cam/eigen_cam.hpp"
#include "xai/explain/cam/full_grad.hpp"
#include "xai/explain/cam/grad_cam.hpp"
#include "xai/explain/cam/kpca_cam.hpp"
#include "xai/explain/cam/options.hpp"
#include "xai/explain/cam/rules.hpp"
#include "xai/explain/cam/score_cam.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/resize.hpp"
