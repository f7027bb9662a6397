#pragma once
// Weakly supervised object localization metrics as Choe, Oh, Lee, Chun, Akata and Shim define
// them ("Evaluating Weakly Supervised Object Localization Methods Right", CVPR 2020, §4; the
// TPAMI 2022 version, "Evaluation for Weakly Supervised Object Localization: Protocol, Metrics,
// and Datasets", §4; reference implementation clovaai/wsolevaluation, evaluation.py).
//
// Maps are first min-max normalised to s ∈ [0, 1] (normalize_scoremap). With the threshold grid
// τ_k = k / K, k = 0 … K − 1 (K = 1000: wsolevaluation's cam_curve_interval 0.001):
//
//   box(s, τ)        the tight box around the largest connected component of {p : s(p) ≥ τ}
//   BoxAcc(τ, δ)     = (1/N) Σ_n 1[ IoU(box(s_n, τ), B_n) ≥ δ ]           (B_n: the image's boxes, best match)
//   MaxBoxAcc(δ)     = max_τ BoxAcc(τ, δ),  δ = 0.5
//   MaxBoxAccV2      = (1/3) Σ_{δ ∈ {0.3, 0.5, 0.7}} max_τ BoxAccV2(τ, δ), where BoxAccV2 uses the
//                      best match between every component's box and every ground-truth box
//                      (wsolevaluation's multi_contour_eval) instead of the largest component only
//   PxPrec(τ)        = |{s ≥ τ} ∩ {T = 1}| / |{s ≥ τ}|,  PxRec(τ) = |{s ≥ τ} ∩ {T = 1}| / |{T = 1}|
//                      over all pixels of all images (T: the ground-truth masks)
//   PxAP             = Σ_l PxPrec(τ_l) (PxRec(τ_l) − PxRec(τ_{l−1})) over τ = 1, (K−1)/K, …, 0 in
//                      decreasing order, PxRec = 0 before the first (wsolevaluation's MaskEvaluator:
//                      its extra bins [1, 2) and [2, 3] are the thresholds 1 and "nothing");
//                      thresholds that predict no pixel are left out
//   GT-known Loc     = BoxAcc(τ*, 0.5) with the map of the ground-truth class
//   Top-1 Loc        = (1/N) Σ_n 1[ŷ_n = y_n] · 1[ IoU(box(s_n, τ*), B_n) ≥ 0.5 ]
//
// The protocol (§4.2): τ*, the operating threshold of the threshold-dependent metrics (top-1 and
// GT-known localization), is the τ that maximises BoxAcc(τ, 0.5) on a **validation** split with
// full supervision, and the numbers are reported on a disjoint **test** split; MaxBoxAcc,
// MaxBoxAccV2 and PxAP are threshold-free by definition (the maximum over τ, or an average over
// all τ) and are computed on the test split. Ties in the maximum pick the lowest τ (np.argmax).
//
// Where wsolevaluation's code departs from the paper's definitions, this follows the paper:
// s ≥ τ on the float map (the code quantises to 8 bits and keeps pixels > ⌊τ·max⌋), the largest
// component by pixel count (the code takes the contour of largest polygon area, which is 0 for a
// one-pixel-wide line), exact half-open boxes (the code's boxes are one pixel too large,
// localization/box_iou.hpp), components in MaxBoxAccV2 rather than every contour including the
// borders of holes. A map without a positive value after normalisation (a constant map) has no
// foreground at any threshold: IoU 0 (the code returns a degenerate 1-pixel box there).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numeric>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/localization/box_iou.hpp"
#include "xai/localization/components.hpp"
#include "xai/localization/detail/box_sweep.hpp"
#include "xai/localization/threshold.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of the WSOL metrics; defaults are wsolevaluation's (config.py).
struct WsolOptions {
    std::size_t thresholds = 1000;  ///< K: the grid τ_k = k/K (cam_curve_interval = 1/K = 0.001)
    double iou_threshold = 0.5;     ///< δ of MaxBoxAcc, GT-known and top-1 localization
    std::vector<double> iou_thresholds = {0.3, 0.5, 0.7};  ///< the δ averaged by MaxBoxAccV2 (iou_threshold_list)
    Connectivity connectivity = Connectivity::eight;      ///< of the thresholded foreground's components
    bool normalize = true;          ///< min-max normalise each map (else maps must already lie in [0, 1])
    std::size_t threads = 1;        ///< over images (0 = all cores); results do not depend on it
};

/// Ground-truth boxes of each image (every box of the image's class; the best match counts).
using GroundTruthBoxes = std::vector<std::vector<Box>>;

/// Per image and per threshold τ_k: the best IoU of the largest component's box, and of any
/// component's box, with the image's ground-truth boxes (box_iou_curves()).
struct BoxIouCurves {
    std::vector<double> thresholds;  ///< τ_k = k/K, k = 0 … K−1
    xt::xtensor<double, 2> largest;  ///< N×K: box of the largest component (MaxBoxAcc)
    xt::xtensor<double, 2> any;      ///< N×K: best over every component (MaxBoxAccV2)

    /// Number of images N.
    std::size_t images() const { return largest.shape(0); }
};

/// A maximum over thresholds of BoxAcc: its value and where it is reached.
struct MaxBoxAccuracy {
    double value = 0.0;              ///< max_τ BoxAcc(τ, δ), in [0, 1]
    double iou_threshold = 0.5;      ///< δ
    std::size_t threshold_index = 0; ///< k of the first maximising τ_k
    double threshold = 0.0;          ///< τ_k
};

/// MaxBoxAccV2: the mean over δ of the best BoxAccV2.
struct MaxBoxAccuracyV2 {
    double value = 0.0;                   ///< (1/|δ|) Σ_δ max_τ BoxAccV2(τ, δ)
    std::vector<MaxBoxAccuracy> per_iou;  ///< one per δ of WsolOptions::iou_thresholds
};

/// The pixel precision–recall curve and its average precision (PxAP).
struct PixelPrecisionRecall {
    std::vector<double> thresholds;  ///< τ = 1, (K−1)/K, …, 0 (decreasing)
    std::vector<double> precision;   ///< PxPrec(τ) (0 where nothing is predicted)
    std::vector<double> recall;      ///< PxRec(τ)
    double average_precision = 0.0;  ///< PxAP, in [0, 1]
};

namespace detail {

inline void require_wsol_options(const WsolOptions& o, const char* where) {
    require(o.thresholds >= 1, where, ": thresholds is 0, expected at least 1 point of the threshold grid");
    require(std::isfinite(o.iou_threshold) && o.iou_threshold > 0.0 && o.iou_threshold <= 1.0, where,
            ": iou_threshold is ", o.iou_threshold, ", expected δ in (0, 1]");
    require(!o.iou_thresholds.empty(), where, ": iou_thresholds is empty, expected at least one δ");
    for (double d : o.iou_thresholds)
        require(std::isfinite(d) && d > 0.0 && d <= 1.0, where, ": iou_thresholds holds ", d, ", expected δ in (0, 1]");
}

/// The maps normalised (or checked to lie in [0, 1]) as the WSOL metrics use them.
inline Maps wsol_scoremaps(const Maps& maps, bool normalize, const char* where) {
    require<shape_error>(maps.dimension() == 3 && maps.size() > 0, where, ": maps has shape ", shape_string(maps.shape()),
                         ", expected N×H×W with N, H, W > 0");
    if (!all_finite(maps.data(), maps.size()))
        throw invalid_argument(message(where, ": maps contains NaN or Inf, expected finite saliency values"));
    const std::size_t n = maps.shape(0), plane = maps.shape(1) * maps.shape(2);
    Maps out = maps;
    if (!normalize) {
        const auto [lo, hi] = std::minmax_element(maps.begin(), maps.end());
        require(*lo >= 0.0f && *hi <= 1.0f, where, ": maps span [", *lo, ", ", *hi,
                "], expected values in [0, 1] when normalize is false");
        return out;
    }
    for (std::size_t i = 0; i < n; ++i) {
        float* m = out.data() + i * plane;
        const auto [lo, hi] = std::minmax_element(m, m + plane);
        const double low = *lo, range = static_cast<double>(*hi) - low;
        for (std::size_t p = 0; p < plane; ++p)
            m[p] = range > 0.0 ? static_cast<float>((static_cast<double>(m[p]) - low) / range) : 0.0f;
    }
    return out;
}

/// Index in [0, K] of the highest threshold τ_l = l/K with τ_l ≤ v (v in [0, 1]).
inline std::size_t threshold_level(float v, std::size_t K) {
    const double x = v, k = static_cast<double>(K);
    auto l = static_cast<std::size_t>(std::min(k, std::floor(x * k)));
    while (l > 0 && static_cast<double>(l) / k > x) --l;
    while (l < K && static_cast<double>(l + 1) / k <= x) ++l;
    return l;
}

/// Index of the first maximum.
inline std::size_t first_maximum(const std::vector<double>& v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace detail

/// The IoU curves of N maps (N×H×W) against their ground-truth boxes (N lists, each non-empty,
/// in the maps' pixels): the one pass every box metric reads.
inline BoxIouCurves box_iou_curves(const Maps& maps, const GroundTruthBoxes& boxes, const WsolOptions& options = {}) {
    constexpr const char* where = "xai::box_iou_curves()";
    detail::require_wsol_options(options, where);
    const Maps s = detail::wsol_scoremaps(maps, options.normalize, where);
    const std::size_t n = s.shape(0), h = s.shape(1), w = s.shape(2), K = options.thresholds;
    detail::require<shape_error>(boxes.size() == n, where, ": boxes has ", boxes.size(), " entries, expected one list per map (",
                                 n, ")");
    for (std::size_t i = 0; i < n; ++i) {
        detail::require(!boxes[i].empty(), where, ": boxes[", i, "] is empty, expected at least one ground-truth box");
        for (const Box& b : boxes[i])
            detail::require(b.top < b.bottom && b.left < b.right && b.bottom <= h && b.right <= w, where, ": boxes[", i,
                            "] holds rows [", b.top, ", ", b.bottom, ") × columns [", b.left, ", ", b.right,
                            "], expected a non-empty box inside the ", h, "×", w, " map");
    }
    BoxIouCurves out{std::vector<double>(K), xt::xtensor<double, 2>::from_shape({n, K}),
                     xt::xtensor<double, 2>::from_shape({n, K})};
    for (std::size_t k = 0; k < K; ++k) out.thresholds[k] = static_cast<double>(k) / static_cast<double>(K);
    parallel_for(n, options.threads, [&](std::size_t i) {
        detail::box_iou_sweep(s.data() + i * h * w, h, w, boxes[i], K, options.connectivity, out.largest.data() + i * K,
                              out.any.data() + i * K);
    });
    return out;
}

/// BoxAcc(τ_k, δ) for every k: the share of images whose box (the largest component's, or with
/// `any_component` the best of every component's: BoxAccV2) has IoU ≥ δ.
inline std::vector<double> box_accuracy(const BoxIouCurves& curves, double delta, bool any_component = false) {
    detail::require(std::isfinite(delta) && delta > 0.0 && delta <= 1.0, "xai::box_accuracy(): delta is ", delta,
                    ", expected δ in (0, 1]");
    const std::size_t n = curves.images(), K = curves.thresholds.size();
    detail::require<shape_error>(n > 0, "xai::box_accuracy(): the curves hold no image");
    const xt::xtensor<double, 2>& iou = any_component ? curves.any : curves.largest;
    std::vector<double> out(K, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < K; ++k) out[k] += iou(i, k) >= delta ? 1.0 : 0.0;
    for (double& v : out) v /= static_cast<double>(n);
    return out;
}

/// MaxBoxAcc(δ) = max_τ BoxAcc(τ, δ) with the largest component's box (Choe et al. 2020).
inline MaxBoxAccuracy max_box_accuracy(const BoxIouCurves& curves, double delta = 0.5) {
    const std::vector<double> acc = box_accuracy(curves, delta);
    const std::size_t k = detail::first_maximum(acc);
    return {acc[k], delta, k, curves.thresholds[k]};
}

/// MaxBoxAccV2: the mean over `deltas` (default 0.3, 0.5, 0.7) of max_τ BoxAccV2(τ, δ), every
/// component's box matched with every ground-truth box (Choe et al. 2022, §4.1).
inline MaxBoxAccuracyV2 max_box_accuracy_v2(const BoxIouCurves& curves, const std::vector<double>& deltas = {0.3, 0.5, 0.7}) {
    detail::require(!deltas.empty(), "xai::max_box_accuracy_v2(): deltas is empty, expected at least one δ");
    MaxBoxAccuracyV2 out;
    for (double delta : deltas) {
        const std::vector<double> acc = box_accuracy(curves, delta, true);
        const std::size_t k = detail::first_maximum(acc);
        out.per_iou.push_back({acc[k], delta, k, curves.thresholds[k]});
        out.value += acc[k];
    }
    out.value /= static_cast<double>(deltas.size());
    return out;
}

/// GT-known localization: BoxAcc(τ_k, δ) at the operating threshold index k (maps of the
/// ground-truth class; k chosen on a validation split, see evaluate_wsol()).
inline double gt_known_localization(const BoxIouCurves& curves, std::size_t k, double delta = 0.5) {
    detail::require(k < curves.thresholds.size(), "xai::gt_known_localization(): threshold index ", k,
                    " is out of range, expected below ", curves.thresholds.size());
    return box_accuracy(curves, delta)[k];
}

/// Top-1 localization: the share of images classified correctly (predicted[i] == labels[i]) whose
/// box at threshold index k has IoU ≥ δ.
inline double top1_localization(const BoxIouCurves& curves, std::size_t k, const std::vector<std::size_t>& predicted,
                                const Labels& labels, double delta = 0.5) {
    constexpr const char* where = "xai::top1_localization()";
    const std::size_t n = curves.images();
    detail::require(k < curves.thresholds.size(), where, ": threshold index ", k, " is out of range, expected below ",
                    curves.thresholds.size());
    detail::require<shape_error>(predicted.size() == n && labels.size() == n, where, ": ", predicted.size(),
                                 " predictions and ", labels.size(), " labels, expected one of each per image (", n, ")");
    detail::require(std::isfinite(delta) && delta > 0.0 && delta <= 1.0, where, ": delta is ", delta, ", expected δ in (0, 1]");
    std::size_t hits = 0;
    for (std::size_t i = 0; i < n; ++i) hits += (predicted[i] == labels[i] && curves.largest(i, k) >= delta) ? 1 : 0;
    return static_cast<double>(hits) / static_cast<double>(n);
}

/// PxAP of N maps against their ground-truth masks (both N×H×W), pooled over every pixel of
/// every image (Choe et al. 2020, §4.1).
inline PixelPrecisionRecall pixel_average_precision(const Maps& maps, const RegionMasks& masks, const WsolOptions& options = {}) {
    constexpr const char* where = "xai::pixel_average_precision()";
    detail::require_wsol_options(options, where);
    const Maps s = detail::wsol_scoremaps(maps, options.normalize, where);
    detail::require<shape_error>(masks.shape() == s.shape(), where, ": masks has shape ", shape_string(masks.shape()),
                                 ", expected the maps' shape ", shape_string(s.shape()));
    const std::size_t K = options.thresholds;
    std::vector<double> inside(K + 1, 0.0), outside(K + 1, 0.0);
    for (std::size_t p = 0; p < s.size(); ++p) {
        const std::size_t level = detail::threshold_level(s.data()[p], K);
        (masks.data()[p] ? inside : outside)[level] += 1.0;
    }
    const double positives = std::accumulate(inside.begin(), inside.end(), 0.0);
    detail::require(positives > 0.0, where, ": masks has no pixel inside the ground truth, expected at least one");
    PixelPrecisionRecall out;
    double tp = 0.0, fp = 0.0, previous_recall = 0.0;
    for (std::size_t l = K + 1; l-- > 0;) {  // τ_l = l/K from 1 down to 0
        tp += inside[l];
        fp += outside[l];
        const double recall = tp / positives, precision = tp + fp > 0.0 ? tp / (tp + fp) : 0.0;
        out.thresholds.push_back(static_cast<double>(l) / static_cast<double>(K));
        out.precision.push_back(precision);
        out.recall.push_back(recall);
        if (tp + fp > 0.0) out.average_precision += precision * (recall - previous_recall);
        previous_recall = recall;
    }
    return out;
}

/// One split of a localization benchmark: the maps of the ground-truth class of each image, its
/// boxes, optionally its masks (for PxAP), and the predicted and true classes (for top-1).
struct LocalizationSplit {
    Maps maps;                             ///< N×H×W maps of the ground-truth class
    GroundTruthBoxes boxes;                ///< each image's ground-truth boxes
    RegionMasks masks = {};                ///< N×H×W ground-truth masks, or empty (no PxAP)
    std::vector<std::size_t> predicted = {};  ///< the model's class per image (top-1), or empty
    Labels labels = {};                    ///< the true class per image (top-1), or empty
};

/// Choe et al.'s protocol on a validation and a test split (see the header comment).
struct WsolReport {
    std::size_t threshold_index = 0;  ///< k* maximising BoxAcc(τ, δ) on the validation split
    double threshold = 0.0;           ///< τ* = k*/K
    double validation_box_accuracy = 0.0;  ///< BoxAcc(τ*, δ) on the validation split (= its MaxBoxAcc)
    double gt_known = 0.0;            ///< GT-known Loc on test at τ*
    double top1 = 0.0;                ///< Top-1 Loc on test at τ* (0 when predictions are absent)
    bool has_top1 = false;            ///< whether the test split had predictions and labels
    MaxBoxAccuracy max_box_accuracy;  ///< MaxBoxAcc(δ) on test (its own best τ)
    MaxBoxAccuracyV2 max_box_accuracy_v2;  ///< MaxBoxAccV2 on test
    double pxap = 0.0;                ///< PxAP on test (0 when it has no masks)
    bool has_pxap = false;            ///< whether the test split had masks
};

/// Evaluates one method's maps by Choe et al.'s protocol: τ* chosen on `validation`, every
/// number reported on `test`.
inline WsolReport evaluate_wsol(const LocalizationSplit& validation, const LocalizationSplit& test,
                                const WsolOptions& options = {}) {
    constexpr const char* where = "xai::evaluate_wsol()";
    detail::require_wsol_options(options, where);
    WsolReport out;
    const BoxIouCurves val = box_iou_curves(validation.maps, validation.boxes, options);
    const MaxBoxAccuracy chosen = max_box_accuracy(val, options.iou_threshold);
    out.threshold_index = chosen.threshold_index;
    out.threshold = chosen.threshold;
    out.validation_box_accuracy = chosen.value;

    const BoxIouCurves curves = box_iou_curves(test.maps, test.boxes, options);
    out.gt_known = gt_known_localization(curves, out.threshold_index, options.iou_threshold);
    out.has_top1 = !test.predicted.empty() || !test.labels.empty();
    if (out.has_top1) out.top1 = top1_localization(curves, out.threshold_index, test.predicted, test.labels, options.iou_threshold);
    out.max_box_accuracy = max_box_accuracy(curves, options.iou_threshold);
    out.max_box_accuracy_v2 = max_box_accuracy_v2(curves, options.iou_thresholds);
    out.has_pxap = test.masks.size() > 0;
    if (out.has_pxap) out.pxap = pixel_average_precision(test.maps, test.masks, options).average_precision;
    return out;
}

/// The images of a split with their ground truth, for evaluate_wsol() with an explainer.
struct LocalizationImages {
    Batch images;             ///< N×C×H×W, the model's input
    Labels labels;            ///< the true class of each image: its maps are explained for it
    GroundTruthBoxes boxes;   ///< each image's ground-truth boxes
    RegionMasks masks = {};   ///< N×H×W masks, or empty (no PxAP)
};

/// evaluate_wsol() with the maps of an explainer (or an explanation function,
/// metrics/metric_inputs.hpp) for the ground-truth classes, and the model's predictions for top-1.
template <Classifier M, MapSource S>
    requires(!std::same_as<S, Maps>)
WsolReport evaluate_wsol(const M& model, const S& explainer, const LocalizationImages& validation,
                         const LocalizationImages& test, const WsolOptions& options = {}) {
    constexpr const char* where = "xai::evaluate_wsol()";
    auto split = [&](const LocalizationImages& set) {
        detail::require_metric_images(model, set.images, where);
        detail::require<shape_error>(set.labels.size() == set.images.shape(0), where, ": ", set.labels.size(),
                                     " labels for ", set.images.shape(0), " images, expected one per image");
        const std::vector<std::size_t> predicted = argmax_rows(detail::checked_forward(model, set.images, where));
        Maps maps = detail::obtain_maps(explainer, set.images, set.labels, where);
        return LocalizationSplit{std::move(maps), set.boxes, set.masks, predicted, set.labels};
    };
    return evaluate_wsol(split(validation), split(test), options);
}

}  // namespace xai
