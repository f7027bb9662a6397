#pragma once
// The occlusion family (Zeiler and Fergus, "Visualizing and Understanding Convolutional
// Networks", ECCV 2014, §4.2, with Captum's window conventions): the explainer xai::Occlusion
// with its options and result (explain/occlusion.hpp). docs/methods/occlusion.md.
//
//   const xai::Occlusion occlusion(model, {.window = 9, .stride = 3});
//   const xai::OcclusionExplanation e = occlusion.explain(image);   // the predicted class
//   e.map();                                                         // its display map; e.raw_map() the score drops

#include "xai/core/targets.hpp"
#include "xai/explain/occlusion.hpp"
