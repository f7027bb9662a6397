#pragma once
// The RISE family (Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for Explanation of
// Black-box Models", BMVC 2018): the explainer xai::Rise with its options, result, convergence
// control and variance reduction (explain/rise.hpp), and its mask generator
// (explain/rise_masks.hpp); and its random-mask relative, the Sobol attribution method (Fel et
// al., NeurIPS 2021; explain/sobol.hpp). docs/methods/rise.md.
//
//   const xai::Rise rise(model, {.num_masks = 2000, .tolerance = 0.02});
//   const xai::RiseExplanation e = rise.explain(image);   // the predicted class
//   e.map();                                               // its display map; e.standard_error, e.masks_used
//   const xai::SobolAttribution sobol(model);              // total Sobol indices of an 8×8 grid
//   const xai::SobolExplanation s = sobol.explain(image);

#include "xai/core/targets.hpp"
#include "xai/explain/rise.hpp"
#include "xai/explain/rise_masks.hpp"
#include "xai/explain/sobol.hpp"
