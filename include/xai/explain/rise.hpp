#pragma once
// RISE: Randomized Input Sampling for Explanation (Petsiuk, Das and Saenko, BMVC 2018,
// arXiv:1806.07421), with streaming masks and convergence control.
//
// The saliency of pixel p for class c is the expected score of the masked image given that p
// is kept, estimated by Monte Carlo over N random masks M_i (paper, §3):
//     S_c(p) = 1 / (N · p1) · Σ_i f_c(I ⊙ M_i) · M_i(p).
// f_c is the probability of class c (the softmax of the model's logits, as the reference code's
// softmax-ended model; ScoreKind option). Masks follow the paper's Algorithm and the authors'
// generate_masks (explain/rise_masks.hpp: an s×s grid of Bernoulli(p1) bits, upsampled
// bilinearly with one extra cell and cropped at a random shift). Defaults N = 4000, s = 7,
// p1 = 0.5 are the paper's (ImageNet, 224×224).
//
// The result (RiseExplanation) is the Explanation core — raw = S_c, maps = S_c ReLU'd and
// min-max normalized per image — with the standard error and the convergence report beside it.
//
// Unlike the reference, which stores all N masks (N·H·W floats: 800 MB at 224×224 with
// N = 4000), masks are generated per forward batch from Rng::stream(seed, mask index), applied,
// scored and folded into running per-pixel sums (detail::MaskMoments), so extra memory is
// O(batch · C·H·W) and the result is identical bit for bit for any batch size and thread count.
//
// Convergence. The masks are i.i.d., so S_c(p) is the sample mean of X_i(p) = f_c(I⊙M_i) M_i(p)/p1
// and its standard error is estimated as
//     SE_c(p) = sqrt( s²(p) / n ),  s²(p) = (Σ X_i² − n · S_c(p)²) / (n − 1),
// from sums of X and X² kept in double. The map's mean relative standard error is
// Σ_p SE_c(p) / Σ_p |S_c(p)|. With a tolerance > 0, the explainer checks it after every block of
// `check_every` masks (blocks are counted in masks, independent of the batch size) and stops
// as soon as it is at or below the tolerance for every explained class; num_masks is then the
// ceiling. The masks used, the final relative error and the standard-error map are returned.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/masking.hpp"
#include "xai/explain/rise_masks.hpp"
#include "xai/image/baseline.hpp"

namespace xai {

/// Options of Rise; defaults are the paper's and the reference code's. An aggregate:
/// `xai::Rise rise(model, {.num_masks = 500, .grid_size = 5});`
struct RiseOptions {
    std::size_t num_masks = 4000;    ///< N, the number of masks (the ceiling when early stopping); ≥ 2
    std::size_t grid_size = 7;       ///< s: masks start as s×s grids; 1 ≤ s ≤ min(H, W)
    double keep_probability = 0.5;   ///< p1 = P(grid cell = 1), in (0, 1]
    ScoreKind score = ScoreKind::probability;  ///< f_c: the reference explains softmax probabilities
    Baseline baseline{};             ///< value of masked-out pixels: 0 (the paper) by default; not segment_mean()
    double tolerance = 0.0;          ///< early stopping on the mean relative standard error; 0 = off
    std::size_t check_every = 500;   ///< masks per convergence check (a block), ≥ 1
    std::size_t batch_size = 32;     ///< masked images per forward pass (the reference: 100 on a GPU)
    std::uint64_t seed = 0;          ///< masks come from Rng::stream(seed, mask index)
    std::size_t threads = 0;         ///< threads for mask generation and accumulation; 0 = all
};

/// RISE maps of several classes of one image from the same masks (Rise::explain_classes).
struct RiseClassMaps {
    Maps raw;                           ///< K'×H×W: S_c for each requested class
    Maps maps;                          ///< K'×H×W: each S_c ReLU'd and min-max normalized (display)
    Maps standard_error;                ///< K'×H×W: SE_c, the standard error of each pixel of S_c
    std::vector<std::size_t> targets;   ///< the class of each map
    std::size_t masks_used = 0;         ///< n: the masks evaluated (≤ num_masks)
    double relative_standard_error = 0; ///< max over the classes of Σ SE / Σ |S| at the end
    bool converged = false;             ///< true when the tolerance stopped it (false if off)
};

/// RISE maps of a batch, one target class per image (Rise::explain): the Explanation core
/// (raw = S_c, maps = its display maps, targets, scores = f_c of each unmasked image, logits)
/// and the convergence report.
struct RiseExplanation : Explanation {
    Maps standard_error;                         ///< N×H×W: the per-pixel standard error of raw
    std::vector<std::size_t> masks_used;         ///< masks evaluated per image
    std::vector<double> relative_standard_error; ///< Σ SE / Σ |S| per image at the end
    std::vector<bool> converged;                 ///< per image: stopped by the tolerance
};

/// RISE on any black-box classifier (forward passes only). Holds a pointer to the model,
/// which must outlive the explainer. explain() is const and may run concurrently.
template <Classifier Model>
class Rise {
public:
    /// A temporary model would dangle: the explainer keeps a pointer to the model.
    Rise(const Model&&, RiseOptions = {}) = delete;

    /// Explains `model`, which must outlive the explainer. Throws invalid_argument for fewer
    /// than 2 masks, a grid larger than the input, keep_probability outside (0, 1], a negative
    /// tolerance, check_every or batch_size 0, or a segment_mean() baseline.
    explicit Rise(const Model& model, RiseOptions options = {}) : model_(&model), options_(std::move(options)) {
        const char* where = Where::constructor;
        detail::require(options_.num_masks >= 2, where, ": num_masks is ", options_.num_masks,
                        ", expected at least 2 (the standard error needs two masks)");
        detail::require(options_.grid_size >= 1, where, ": grid_size is 0, expected at least 1");
        detail::require(options_.keep_probability > 0.0 && options_.keep_probability <= 1.0, where,
                        ": keep_probability is ", options_.keep_probability, ", expected a value in (0, 1]");
        detail::require(std::isfinite(options_.tolerance) && options_.tolerance >= 0.0, where, ": tolerance is ",
                        options_.tolerance, ", expected a finite value ≥ 0 (0 turns early stopping off)");
        detail::require(options_.check_every >= 1, where, ": check_every is 0, expected at least 1 mask per block");
        detail::require(options_.batch_size >= 1, where, ": batch_size is 0, expected at least 1");
        detail::require_baseline_without_superpixels(options_.baseline, where);
        const ImageShape shape = model_->input_shape();
        detail::require(options_.grid_size <= shape.height && options_.grid_size <= shape.width, where,
                        ": grid_size is ", options_.grid_size, ", larger than the model's input (", shape.height, "x",
                        shape.width, "); expected at most ", std::min(shape.height, shape.width));
    }

    /// The options the explainer was built with.
    const RiseOptions& options() const { return options_; }

    /// One map per image, for its target class (empty targets: the predicted class; one: the
    /// same for every image); a target may be a target function (Target::function,
    /// core/targets.hpp), whose value replaces the class score. `progress` counts masks over the
    /// batch (the ceiling per image).
    template <std::same_as<Batch> B>
    RiseExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_explainable(*model_, images, where);
        const Scores logits = detail::checked_forward(*model_, images, where);
        const std::vector<std::size_t> resolved = resolve_targets(targets, logits, where, true);
        const Scores scores = scores_of_kind(logits, options_.score);
        const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, images.shape(0));
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        RiseExplanation out;
        out.raw = Maps::from_shape({n, h, w});
        out.standard_error = Maps::from_shape({n, h, w});
        out.targets = resolved;
        out.score_kind = options_.score;
        out.logits = logits;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t cls[1] = {resolved[i]};
            const RiseClassMaps maps = run(image_at(images, i), cls, i, n, progress, where, functions[i]);
            std::copy(maps.raw.begin(), maps.raw.end(), out.raw.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            std::copy(maps.standard_error.begin(), maps.standard_error.end(),
                      out.standard_error.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            const std::size_t k = logits.shape(1);
            out.scores.push_back(
                functions[i] ? static_cast<float>(functions[i]->score(std::span<const float>(logits.data() + i * k, k)))
                             : scores(i, resolved[i]));
            out.masks_used.push_back(maps.masks_used);
            out.relative_standard_error.push_back(maps.relative_standard_error);
            out.converged.push_back(maps.converged);
        }
        out.maps = detail::positive_display_maps(out.raw);
        return out;
    }

    /// One image (C×H×W): explain() on a batch of one.
    template <std::same_as<Image> I>
    RiseExplanation explain(const I& image, Target target = Target::predicted(),
                            const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }


    /// Maps of several classes of one image from the same masks; empty `targets` = every class.
    /// Memory: 16 bytes per class and pixel of running sums, on top of the returned maps.
    RiseClassMaps explain_classes(const Image& image, std::vector<std::size_t> targets = {},
                                  const Progress& progress = {}) const {
        const char* where = Where::explain_classes;
        detail::require_explainable(*model_, detail::single_image_batch(image, where), where);
        const std::size_t k = model_->num_classes();
        if (targets.empty())
            for (std::size_t c = 0; c < k; ++c) targets.push_back(c);
        for (std::size_t c : targets)
            detail::require(c < k, where, ": target class ", c, " is out of range, expected a class index below ", k);
        RiseClassMaps out = run(image, targets, 0, 1, progress, where);
        out.maps = detail::positive_display_maps(out.raw);
        return out;
    }

private:
    /// The prefix of every error message of the class, one per entry point.
    struct Where {
        static constexpr const char* constructor = "xai::Rise::Rise()";
        static constexpr const char* explain = "xai::Rise::explain()";
        static constexpr const char* explain_classes = "xai::Rise::explain_classes()";
    };

    /// RISE for one image and a set of classes (raw, standard error and the convergence report;
    /// maps left empty); `image_index`/`images` place it in the progress count.
    RiseClassMaps run(const Image& image, std::span<const std::size_t> classes, std::size_t image_index,
                      std::size_t images, const Progress& progress, const char* where,
                      const detail::AnyTargetFunction* function = nullptr) const {
        const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), pixels = h * w;
        const RiseMaskGenerator generator(h, w, options_.grid_size, options_.keep_probability);
        const bool constant = options_.baseline.is_constant();
        const Image baseline = constant ? Image() : options_.baseline.for_image(image, where);
        const std::size_t ceiling = options_.num_masks;
        const std::size_t total = ceiling * images;

        detail::MaskMoments moments(classes.size(), pixels);
        const std::size_t batch_size = detail::batch_within_memory(options_.batch_size, {channels, h, w}, pixels);
        std::vector<float> masks(std::min(batch_size, ceiling) * pixels);
        Batch masked;
        RiseClassMaps result;
        result.targets.assign(classes.begin(), classes.end());
        std::size_t done = 0;
        while (done < ceiling) {
            const std::size_t block_end = std::min(ceiling, (done / options_.check_every + 1) * options_.check_every);
            while (done < block_end) {
                const std::size_t count = std::min(batch_size, block_end - done);
                detail::reshape_batch(masked, count, {channels, h, w});
                parallel_for(count, options_.threads, [&](std::size_t i) {
                    float* mask = masks.data() + i * pixels;
                    generator.render(generator.draw(options_.seed, done + i), mask);
                    float* out = masked.data() + i * channels * pixels;
                    if (constant)
                        detail::apply_mask(image.data(), options_.baseline.value(), channels, pixels, mask, out);
                    else
                        detail::apply_mask(image.data(), baseline.data(), channels, pixels, mask, out);
                });
                const Scores scores =
                    detail::forward_class_scores(*model_, masked, options_.score, classes, where, function);
                moments.add(masks.data(), count, scores, options_.threads);
                done += count;
                detail::report(progress, image_index * ceiling + done, total, "masks");
            }
            if (options_.tolerance > 0.0 && done < ceiling) {
                if (relative_standard_error(moments) <= options_.tolerance) {
                    result.converged = true;
                    break;
                }
            }
        }
        if (options_.tolerance > 0.0 && !result.converged)
            result.converged = relative_standard_error(moments) <= options_.tolerance;
        finish(moments, h, w, result);
        return result;
    }

    /// Per-pixel saliency and standard error of class row c (see the top of this file).
    struct PixelEstimate {
        double mean, standard_error;
    };
    PixelEstimate estimate(const detail::MaskMoments& m, std::size_t index) const {
        const auto n = static_cast<double>(m.count());
        const double p1 = options_.keep_probability;
        const double sum = m.sum()[index] / p1, sum_sq = m.sum_sq()[index] / (p1 * p1);
        const double mean = sum / n;
        const double variance = std::max(0.0, (sum_sq - n * mean * mean) / (n - 1.0));
        return {mean, std::sqrt(variance / n)};
    }

    /// max over classes of Σ_p SE(p) / Σ_p |S(p)|; 0 for an all-zero map with zero error,
    /// +∞ for an all-zero map with a non-zero error (never converged).
    double relative_standard_error(const detail::MaskMoments& m) const {
        double worst = 0.0;
        for (std::size_t c = 0; c < m.classes(); ++c) {
            double error = 0.0, magnitude = 0.0;
            for (std::size_t p = 0; p < m.pixels(); ++p) {
                const PixelEstimate e = estimate(m, c * m.pixels() + p);
                error += e.standard_error;
                magnitude += std::abs(e.mean);
            }
            const double relative = magnitude > 0.0 ? error / magnitude
                                    : error > 0.0   ? std::numeric_limits<double>::infinity()
                                                    : 0.0;
            worst = std::max(worst, relative);
        }
        return worst;
    }

    void finish(const detail::MaskMoments& m, std::size_t h, std::size_t w, RiseClassMaps& result) const {
        const std::size_t k = m.classes();
        result.raw = Maps::from_shape({k, h, w});
        result.standard_error = Maps::from_shape({k, h, w});
        for (std::size_t i = 0; i < k * h * w; ++i) {
            const PixelEstimate e = estimate(m, i);
            result.raw.data()[i] = static_cast<float>(e.mean);
            result.standard_error.data()[i] = static_cast<float>(e.standard_error);
        }
        result.masks_used = m.count();
        result.relative_standard_error = relative_standard_error(m);
    }

    const Model* model_;
    RiseOptions options_;
};

}  // namespace xai
