#pragma once
// What the Shapley methods (KernelSHAP, explain/shapley/kernel_shap.hpp; Shapley value sampling,
// explain/shapley/shapley_sampling.hpp) share: the result type and the driver that segments each
// image, renders and scores the coalitions of superpixels an estimator asks for (LIME's
// rendering, explain/masking.hpp: score_coalitions) and fills the Explanation core.
//
// The players are the d superpixels of the image (a segmentation policy, as LIME's); the value of
// a coalition S is v(S) = f_c(x_S), the score of class c of the image whose superpixels outside S
// show the baseline (Baseline: each superpixel's mean colour by default, LIME's hide_color=None).
// The Shapley value of superpixel i (Shapley 1953) is
//   φ_i = Σ_{S ⊆ N∖{i}} |S|! (d − |S| − 1)! / d! · (v(S ∪ {i}) − v(S)),
// and efficiency Σ_i φ_i = v(N) − v(∅) = f_c(x) − f_c(baseline) holds for both estimators
// exactly (KernelSHAP enforces it as a constraint, permutation sampling telescopes).
//
// Result: raw is φ of each pixel's superpixel (N×H×W), maps its positive part min-max normalized
// (explain/masking.hpp: positive_display_maps), and per image the superpixels, φ, v(∅), Σφ and
// the efficiency error |Σφ − (v(N) − v(∅))|.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// The result of KernelShap and ShapleySampling: the Explanation core (raw = each pixel's
/// superpixel's φ) and, per image, the game and its Shapley values.
struct ShapleyExplanation : Explanation {
    std::vector<Segmentation> segmentations;  ///< the players of each image (its superpixels)
    std::vector<std::vector<double>> values;  ///< φ per superpixel, per image
    std::vector<double> baseline_scores;      ///< v(∅): every superpixel showing the baseline
    std::vector<double> value_sums;           ///< Σ φ per image
    std::vector<double> efficiency_error;     ///< |Σ φ − (v(N) − v(∅))| per image
    std::vector<std::size_t> evaluations;     ///< model evaluations (coalitions scored) per image
};

namespace detail {

/// The coalitions an estimator asks for, n rows of d bytes (row 0 all on, row 1 all off), and
/// how φ follows from their values.
struct ShapleyPlan {
    std::vector<std::uint8_t> on;  ///< n × d, 1 = the superpixel shows the image
    std::size_t rows = 0;          ///< n
};

/// Explains every image: segmentation (segment(image)), plan = estimator.plan(d), the plan's
/// coalitions scored, φ = estimator.values(d, plan, v) with v the n values of the target's score;
/// then the core. `progress` is told after each image (stage "images").
template <Classifier M, class Segment, class Estimator>
ShapleyExplanation shapley_explain(const M& model, const Batch& images, const Targets& targets, const Segment& segment,
                                   const Baseline& baseline, ScoreKind kind, std::size_t batch_size, std::size_t threads,
                                   const Estimator& estimator, const Progress& progress, const char* where) {
    require_explainable(model, images, where);
    ShapleyExplanation out;
    out.logits = checked_forward(model, images, where);
    out.targets = resolve_targets(targets, out.logits, where);
    out.score_kind = kind;
    const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
    out.raw = Maps::from_shape({n, h, w});
    const Scores scores = scores_of_kind(out.logits, kind);
    for (std::size_t i = 0; i < n; ++i) {
        const Image image = image_at(images, i);
        Segmentation segmentation = segment(image);
        require_segmentation(segmentation, h, w, where);
        const std::size_t d = segmentation.count;
        const ShapleyPlan plan = estimator.plan(d);
        const Image fudged = baseline.for_image(image, where, &segmentation);
        const Scores all = score_coalitions(model, image, fudged, segmentation, plan.on, plan.rows, kind, batch_size,
                                            threads, {}, 0, plan.rows, where);
        std::vector<double> v(plan.rows);
        for (std::size_t r = 0; r < plan.rows; ++r) v[r] = all(r, out.targets[i]);
        if (!std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }))
            throw model_error(message(where, ": the model's scores of the coalitions are not finite"));
        std::vector<double> phi = estimator.values(d, plan, v);
        double sum = 0.0;
        for (double p : phi) sum += p;
        out.scores.push_back(scores(i, out.targets[i]));
        out.baseline_scores.push_back(v[1]);
        out.value_sums.push_back(sum);
        out.efficiency_error.push_back(std::abs(sum - (v[0] - v[1])));
        out.evaluations.push_back(plan.rows);
        const std::int32_t* labels = segmentation.labels.data();
        for (std::size_t p = 0; p < h * w; ++p)
            out.raw.data()[i * h * w + p] = static_cast<float>(phi[static_cast<std::size_t>(labels[p])]);
        out.values.push_back(std::move(phi));
        out.segmentations.push_back(std::move(segmentation));
        report(progress, i + 1, n, "images");
    }
    out.maps = positive_display_maps(out.raw);
    return out;
}

}  // namespace detail
}  // namespace xai
