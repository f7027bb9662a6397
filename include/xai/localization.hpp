#pragma once
// The localization family: what a saliency map localizes, and how well (docs/localization.md).
//
//   threshold_map(), normalize_scoremap(), otsu_threshold()   localization/threshold.hpp
//       the CAM paper's 20% of max (Zhou et al. 2016), Otsu (1979), mean, fixed
//   connected_components()                                  localization/components.hpp
//   extract_regions()     boxes and masks from any map: the largest component's box or every box
//                                                           localization/extract.hpp
//   box_iou()                                               localization/box_iou.hpp
//   box_iou_curves(), max_box_accuracy(), max_box_accuracy_v2(), gt_known_localization(),
//   top1_localization(), pixel_average_precision(), evaluate_wsol()
//       the WSOL metrics and protocol of Choe et al. (CVPR 2020)   localization/wsol.hpp
//   CentreBox             the centre-box baseline               localization/centre_box.hpp
//   draw_boxes(), scale_box()                               localization/draw_boxes.hpp

#include "xai/localization/box_iou.hpp"
#include "xai/localization/centre_box.hpp"
#include "xai/localization/components.hpp"
#include "xai/localization/draw_boxes.hpp"
#include "xai/localization/extract.hpp"
#include "xai/localization/threshold.hpp"
#include "xai/localization/wsol.hpp"
