#pragma once
// The metrics family: how good a map is (docs/metrics.md). Each metric takes any Explainer as it
// is, precomputed maps, or an explanation function (metrics/metric_inputs.hpp).
//
//   deletion(), insertion()         causal metrics, Petsiuk et al. 2018     metrics/deletion_insertion.hpp
//   confidence_change()             average drop / increase in confidence, Chattopadhay et al. 2018
//   pointing_game(), energy_pointing_game()   Zhang et al. 2018; Wang et al. 2020
//   model_randomization_test()      sanity check by cascading randomization, Adebayo et al. 2018
//   spearman_correlation()          rank correlation with averaged ties
//   infidelity(), max_sensitivity() robustness under small input noise, Yeh et al. 2019 (as Captum)
//   sparseness(), complexity()      Gini index and entropy of a map, Chalasani et al. 2020; Bhatt et al. 2020
//   road(), noisy_linear_imputation()  ROAD, remove and debias, Rong et al. 2022 (as pytorch-grad-cam) metrics/road.hpp
//   RandomMap, CentreGaussian       reference maps, the floors of every metric  explain/reference_maps.hpp

#include "xai/metrics/confidence.hpp"
#include "xai/metrics/deletion_insertion.hpp"
#include "xai/metrics/metric_inputs.hpp"
#include "xai/metrics/pointing_game.hpp"
#include "xai/metrics/rank_correlation.hpp"
#include "xai/metrics/road.hpp"
#include "xai/metrics/robustness.hpp"
#include "xai/explain/reference_maps.hpp"
#include "xai/metrics/sanity_check.hpp"
#include "xai/metrics/sparseness.hpp"
