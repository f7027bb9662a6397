#pragma once
// The Shapley family over superpixels (docs/methods/shapley.md), black-box like LIME and on its
// segmentation and rendering: KernelShap (Lundberg & Lee, NeurIPS 2017: the Shapley kernel with
// the efficiency constraint; exact when every coalition fits the budget) and ShapleySampling
// (Castro et al. 2009: random orders), with one result type, ShapleyExplanation.
//
//   const xai::KernelShap<Net, xai::Slic> shap(net, {.num_samples = 1000});
//   const xai::ShapleyExplanation e = shap.explain(image);   // the predicted class
//   e.values[0];                                            // φ of each superpixel; e.map(), e.efficiency_error

#include "xai/explain/shapley/explanation.hpp"
#include "xai/explain/shapley/kernel_shap.hpp"
#include "xai/explain/shapley/shapley_sampling.hpp"
