#pragma once
// The deletion and insertion metrics (causal metrics) of Petsiuk, Das and Saenko, "RISE:
// Randomized Input Sampling for Explanation of Black-box Models", BMVC 2018, §4.1; conventions
// of the authors' code (github.com/eclique/RISE, evaluation.py, class CausalMetric).
//
// The pixels of an image are ranked by decreasing saliency. Starting from `start`, the top
// k pixels, then the top 2k, … are replaced by the corresponding pixels of `finish` (all
// channels of a pixel at once), until every pixel is replaced:
//   deletion   start = the image,                    finish = the deletion baseline (0: "removed
//              pixels set to zero", the paper and the reference's torch.zeros_like)
//   insertion  start = the insertion baseline (the image blurred with the reference's
//              gkern(klen = 11, nsig = 5), image/blur.hpp), finish = the image
// (image/baseline.hpp: any Baseline but segment_mean, which needs superpixels)
// After each of the S = ⌈H·W / k⌉ steps, and before the first, the score is the softmax
// probability of the target class (the reference's model ends in a softmax; a target function,
// Target::function, is scored by its value instead, and an explainer asked to explain it),
// giving the curve
//   y_s = p_c(image after s steps),   x_s = min(s·k, H·W) / (H·W),   s = 0 … S,
// and the area under it by the trapezoid rule,
//   AUC = Σ_{s=1…S} (x_s − x_{s−1}) · (y_s + y_{s−1}) / 2   ∈ [0, 1].
// When k divides H·W the x_s are evenly spaced and this is exactly the reference's
// auc(arr) = (Σ arr − arr₀/2 − arr_S/2) / S; otherwise the last, shorter step gets its true
// width here (the reference spaces all steps evenly). The default k is the image width, which
// is the reference's step = 224 at 224×224 and gives H steps at any size.
//
// Deletion rewards maps whose top pixels the model needs (a sharp drop: low AUC is good);
// insertion rewards maps whose top pixels suffice (a sharp rise: high AUC is good).
//
// Ties and order. Pixels with equal saliency are taken in raster order (a stable sort); the
// reference's np.argsort is not stable, so its order among ties is unspecified. The target is
// the class the model predicts on the unperturbed image unless given (the reference takes the
// arg-max of the unperturbed prediction).
//
// Cost: N·(S+1) forward passes, batched `batch_size` perturbed images at a time, with the
// batches spread over `threads` threads; the results do not depend on either.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/blur.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Which causal metric (Petsiuk et al., RISE, BMVC 2018, §4.1): deletion removes the most
/// salient pixels first, insertion reveals them first.
enum class CausalMode { deletion, insertion };

/// The mode's name: "deletion" or "insertion".
inline std::string_view to_string(CausalMode mode) { return mode == CausalMode::deletion ? "deletion" : "insertion"; }

/// Options of deletion() and insertion(); the defaults are the paper's and the reference's.
struct CausalMetricOptions {
    /// k, pixels replaced per step; unset = the image width (the reference's 224 at 224×224).
    /// Must be ≥ 1 when set.
    std::optional<std::size_t> pixels_per_step{};
    /// What deleted pixels become: zeros (the paper).
    Baseline deletion_baseline = Baseline::constant(0.0f);
    /// What insertion starts from: the image blurred by gkern(11, 5) with zero padding (the reference).
    Baseline insertion_baseline = Baseline::blurred();
    std::size_t batch_size = 64;  ///< perturbed images per forward pass, ≥ 1
    std::size_t threads = 0;      ///< threads running forward batches; 0 = all
};

/// The curves of a batch of images.
struct CausalCurves {
    CausalMode mode = CausalMode::deletion;  ///< deletion or insertion
    std::vector<double> fractions;  ///< x_s, the fraction of pixels replaced after s steps (S+1 values)
    xt::xtensor<float, 2> scores;   ///< N×(S+1): y_s, the target's probability (or target function's value) after s steps
    std::vector<double> auc;        ///< N: the area under each image's curve
    double mean_auc = 0.0;          ///< the mean of auc
    std::vector<std::size_t> targets;  ///< the class scored for each image
};

/// Area under y(x) by the trapezoid rule; x non-decreasing, both of the same length ≥ 2.
inline double trapezoid_auc(std::span<const double> x, std::span<const float> y) {
    detail::require<shape_error>(x.size() == y.size() && x.size() >= 2, "xai::trapezoid_auc(): x has ", x.size(),
                                 " values and y ", y.size(), ", expected the same number, at least 2");
    double area = 0.0;
    for (std::size_t s = 1; s < x.size(); ++s) {
        detail::require(x[s] >= x[s - 1], "xai::trapezoid_auc(): x[", s, "] = ", x[s], " < x[", s - 1, "] = ", x[s - 1],
                        ", expected non-decreasing x");
        area += (x[s] - x[s - 1]) * (static_cast<double>(y[s]) + static_cast<double>(y[s - 1])) / 2.0;
    }
    return area;
}

namespace detail {

/// Pixel indices in order of decreasing saliency, ties in raster order.
inline std::vector<std::size_t> saliency_order(const float* map, std::size_t pixels) {
    std::vector<std::size_t> order(pixels);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [map](std::size_t a, std::size_t b) { return map[a] > map[b]; });
    return order;
}

/// One image ready to be perturbed: rank[p] is pixel p's position in the saliency order (it
/// is replaced after step s iff rank[p] < s·k); start and finish as in the reference.
struct CausalImage {
    std::vector<std::uint32_t> rank;
    Image start, finish;
};

inline CausalImage prepare_causal_image(const Batch& images, const Maps& maps, std::size_t i, CausalMode mode,
                                        const Baseline& baseline, const char* where) {
    const std::size_t pixels = maps.shape(1) * maps.shape(2);
    CausalImage out;
    const std::vector<std::size_t> order = saliency_order(maps.data() + i * pixels, pixels);
    out.rank.resize(pixels);
    for (std::size_t r = 0; r < pixels; ++r) out.rank[order[r]] = static_cast<std::uint32_t>(r);
    Image image = image_at(images, i);
    Image replacement = baseline.for_image(image, where);
    out.start = mode == CausalMode::deletion ? std::move(image) : replacement;
    out.finish = mode == CausalMode::deletion ? std::move(replacement) : std::move(image);
    return out;
}

inline void require_causal_options(const CausalMetricOptions& options, const char* where) {
    require(!options.pixels_per_step || *options.pixels_per_step > 0, where,
            ": pixels_per_step is 0, expected at least 1 pixel per step (or unset for the image width)");
    require_batch_size(options.batch_size, where);
    for (const Baseline* b : {&options.deletion_baseline, &options.insertion_baseline})
        require(!b->needs_segmentation(), where, ": a baseline is Baseline::segment_mean(), which needs superpixels; "
                "expected constant, color, image_mean, blurred, image or from_function");
}

template <Classifier M>
CausalCurves causal_curves(const M& model, const Batch& images, const Maps& maps, std::vector<std::size_t> targets,
                           const std::vector<const AnyTargetFunction*>& functions, CausalMode mode, const CausalMetricOptions& options, const Progress& progress,
                           const char* where) {
    const std::size_t n = images.shape(0), channels = images.shape(1), height = images.shape(2),
                      width = images.shape(3);
    const std::size_t pixels = height * width, image_size = channels * pixels;
    const std::size_t per_step = std::min(options.pixels_per_step.value_or(width), pixels);
    const std::size_t steps = detail::ceil_div(pixels, per_step);

    CausalCurves out;
    out.mode = mode;
    out.targets = std::move(targets);
    out.fractions.resize(steps + 1);
    for (std::size_t s = 0; s <= steps; ++s)
        out.fractions[s] = static_cast<double>(std::min(s * per_step, pixels)) / static_cast<double>(pixels);

    // Units (image i, step s) in order u = i·(S+1) + s, scored batch_size at a time. A batch
    // prepares each image it touches (saliency ranks, start and finish) when it first meets
    // it, so memory stays O(batch_size) images whatever N.
    const std::size_t units = n * (steps + 1), batch = options.batch_size;
    const std::size_t chunks = detail::ceil_div(units, batch);
    const std::size_t workers = std::max<std::size_t>(1, std::min(resolve_threads(options.threads), chunks));
    const Baseline& baseline = mode == CausalMode::deletion ? options.deletion_baseline : options.insertion_baseline;
    out.scores = xt::xtensor<float, 2>::from_shape({n, steps + 1});
    for (std::size_t round = 0; round < chunks; round += workers) {
        const std::size_t round_chunks = std::min(workers, chunks - round);
        parallel_for(round_chunks, workers, [&](std::size_t c) {
            const std::size_t first = (round + c) * batch, count = std::min(batch, units - first);
            Batch perturbed = Batch::from_shape({count, channels, height, width});
            CausalImage prepared;
            for (std::size_t j = 0; j < count; ++j) {
                const std::size_t i = (first + j) / (steps + 1), s = (first + j) % (steps + 1);
                if (j == 0 || s == 0) prepared = prepare_causal_image(images, maps, i, mode, baseline, where);
                const auto replaced = static_cast<std::uint32_t>(std::min(s * per_step, pixels));
                const std::uint32_t* r = prepared.rank.data();
                for (std::size_t ch = 0; ch < channels; ++ch) {
                    const float* a = prepared.start.data() + ch * pixels;
                    const float* b = prepared.finish.data() + ch * pixels;
                    float* dst = perturbed.data() + j * image_size + ch * pixels;
                    for (std::size_t p = 0; p < pixels; ++p) dst[p] = r[p] < replaced ? b[p] : a[p];
                }
            }
            const Scores logits = checked_forward(model, perturbed, where);
            const Scores p = softmax(logits);
            for (std::size_t j = 0; j < count; ++j) {
                const std::size_t i = (first + j) / (steps + 1), s = (first + j) % (steps + 1);
                out.scores(i, s) = metric_score(p, logits, j, functions[i], out.targets[i]);
            }
        });
        report(progress, std::min(units, (round + round_chunks) * batch), units, "perturbed images");
    }

    out.auc.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        out.auc[i] = trapezoid_auc(out.fractions, std::span<const float>(out.scores.data() + i * (steps + 1), steps + 1));
    out.mean_auc = std::accumulate(out.auc.begin(), out.auc.end(), 0.0) / static_cast<double>(n);
    return out;
}

template <Classifier M, MapSource S>
CausalCurves causal_metric(const M& model, const Batch& images, const S& source, const Targets& targets,
                           CausalMode mode, const CausalMetricOptions& options, const Progress& progress,
                           const char* where) {
    require_causal_options(options, where);
    require_metric_images(model, images, where);
    if constexpr (std::same_as<S, Maps>) require_maps_for(images, source, where);  // before any forward pass
    std::vector<std::size_t> resolved = resolve_metric_targets(model, images, targets, where, true);
    const Maps maps = obtain_maps(source, images, resolved, where, &targets);
    return causal_curves(model, images, maps, std::move(resolved), target_functions(targets, images.shape(0)), mode,
                         options, progress, where);
}

}  // namespace detail

/// Deletion curves and AUCs (lower is better) of an explainer's maps, precomputed maps (N×H×W,
/// at the images' size) or an explanation function's (see metric_inputs.hpp). `progress` is
/// called after every round of batches with the perturbed images scored out of N·(S+1).
template <Classifier M, MapSource S>
CausalCurves deletion(const M& model, const Batch& images, const S& maps, const Targets& targets = {},
                      const CausalMetricOptions& options = {}, const Progress& progress = {}) {
    return detail::causal_metric(model, images, maps, targets, CausalMode::deletion, options, progress,
                                 "xai::deletion()");
}

/// Insertion curves and AUCs (higher is better), from an explainer, maps or a function.
template <Classifier M, MapSource S>
CausalCurves insertion(const M& model, const Batch& images, const S& maps, const Targets& targets = {},
                       const CausalMetricOptions& options = {}, const Progress& progress = {}) {
    return detail::causal_metric(model, images, maps, targets, CausalMode::insertion, options, progress,
                                 "xai::insertion()");
}

}  // namespace xai
