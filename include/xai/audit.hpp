#pragma once
// The bias-audit family: does a model's evidence rest on the object, or on a spurious cue or the
// background? (docs/bias.md)
//
//   label_regions(), region_shares()          per image, the share of positive attribution in each
//                                             region (object, cue, background…)   audit/region_shares.hpp
//   audit_attribution()                       per class and overall, the mean share with a bootstrap
//                                             interval; most_reliant()            audit/attribution_audit.hpp
//   separation_auc()                          how clearly a method tells a biased model from a clean
//                                             one by a region's share             audit/separation.hpp
//
// The scenes generator plants such a cue on request (SpuriousCue in data/scenes.hpp), and the
// built-in "scenes_biased" model was trained on it (docs/models.md).

#include "xai/audit/attribution_audit.hpp"
#include "xai/audit/region_shares.hpp"
#include "xai/audit/separation.hpp"
