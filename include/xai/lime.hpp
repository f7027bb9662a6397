#pragma once
// The LIME family (Ribeiro, Singh, Guestrin, "'Why Should I Trust You?': Explaining the
// Predictions of Any Classifier", KDD 2016): the explainer xai::Lime with its options and
// result (explain/lime/), the superpixel policies it takes (image/superpixels.hpp: Quickshift,
// lime's default; Slic, Felzenszwalb, GridSegmenter) and the pictures of an explanation
// (explain/lime/visualize.hpp: lime_image_and_mask, lime_overlay). docs/methods/lime.md.
//
//   const xai::Lime lime(model, {.num_samples = 1000});
//   const xai::LimeExplanation e = lime.explain(image);   // the predicted class
//   e.map();                                               // its display map; e.surrogate(e.targets[0]).r2

#include "xai/explain/lime/explanation.hpp"
#include "xai/explain/lime/lime.hpp"
#include "xai/explain/lime/options.hpp"
#include "xai/explain/lime/visualize.hpp"
#include "xai/image/superpixels.hpp"
