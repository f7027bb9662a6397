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
// scored and folded into running per-pixel sums (explain/detail/rise_estimator.hpp), so extra
// memory is O(batch · C·H·W) and the result is identical bit for bit for any batch size and
// thread count.
//
// Variance reduction (options; each keeps the expectation of the map equal to the paper's, the
// proofs in docs/methods/rise.md): `sampling` = antithetic pairs (a mask and the mask that keeps
// exactly what it hides, same shift) or quasi-random masks (the grid bits and the shift from an
// Owen-scrambled Sobol' sequence, explain/detail/sobol_sequence.hpp); `control_variate` =
// subtract a score c from every score and add c back: S = (1/N) Σ (f_i − c) M_i / p1 + c, with
// c the unmasked image's score, the fully masked image's, or the mean score of the other masks
// (leave-one-out, so c never depends on the mask it corrects).
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
#include <optional>
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
#include "xai/explain/detail/rise_estimator.hpp"
#include "xai/explain/detail/sobol_sequence.hpp"
#include "xai/explain/masking.hpp"
#include "xai/explain/rise_masks.hpp"
#include "xai/image/baseline.hpp"

namespace xai {

/// How RISE draws its masks (docs/methods/rise.md, *Variance reduction*). Every choice gives
/// each mask the distribution of the paper's, so the map's expectation is the paper's.
enum class RiseSampling {
    independent,   ///< the paper's: i.i.d. masks, mask i from Rng::stream(seed, i)
    antithetic,    ///< pairs: mask 2k as mask k of `independent`, mask 2k+1 keeps the cells it hides (p1 = ½)
    quasi_random,  ///< grids and shifts from an Owen-scrambled Sobol' sequence (seeded), point i for mask i
};

/// The control variate RISE subtracts from each score and adds back in expectation
/// (docs/methods/rise.md, *Variance reduction*): S = mean of (f − c)·M/p1 + c.
enum class RiseControlVariate {
    none,            ///< the paper's estimator
    unmasked_score,  ///< c = f_c(I), the score of the image itself (no extra forward pass)
    masked_score,    ///< c = f_c(B), the score of the fully masked image (one extra forward pass)
    mean_score,      ///< c = the mean score of the other masks (leave one out; not with quasi_random)
};

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
    std::uint64_t seed = 0;          ///< masks come from Rng::stream(seed, mask index) (or the seeded Sobol' sequence)
    std::size_t threads = 0;         ///< threads for mask generation and accumulation; 0 = all
    /// How masks are drawn; antithetic needs even num_masks and check_every, quasi_random a grid
    /// of at most 31×31.
    RiseSampling sampling = RiseSampling::independent;
    RiseControlVariate control_variate = RiseControlVariate::none;  ///< the paper's estimator by default
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
    /// tolerance, check_every or batch_size 0, a segment_mean() baseline, an unknown sampling
    /// or control variate, an odd num_masks or check_every with antithetic sampling, a grid
    /// above 31×31 with quasi_random sampling, or the mean score with quasi_random sampling.
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
        const RiseSampling sampling = options_.sampling;
        detail::require(sampling == RiseSampling::independent || sampling == RiseSampling::antithetic ||
                            sampling == RiseSampling::quasi_random,
                        where, ": sampling is ", static_cast<int>(sampling),
                        ", expected RiseSampling::independent, antithetic or quasi_random");
        const RiseControlVariate cv = options_.control_variate;
        detail::require(cv == RiseControlVariate::none || cv == RiseControlVariate::unmasked_score ||
                            cv == RiseControlVariate::masked_score || cv == RiseControlVariate::mean_score,
                        where, ": control_variate is ", static_cast<int>(cv),
                        ", expected RiseControlVariate::none, unmasked_score, masked_score or mean_score");
        if (sampling == RiseSampling::antithetic) {
            detail::require(options_.num_masks % 2 == 0, where, ": num_masks is ", options_.num_masks,
                            ", expected an even number with antithetic sampling (masks come in pairs)");
            detail::require(options_.check_every % 2 == 0, where, ": check_every is ", options_.check_every,
                            ", expected an even number with antithetic sampling (a check never splits a pair)");
        }
        if (sampling == RiseSampling::quasi_random) {
            detail::require(options_.grid_size * options_.grid_size + 2 <= detail::max_sobol_dimensions, where,
                            ": grid_size is ", options_.grid_size,
                            ", expected at most 31 with quasi_random sampling (one Sobol' dimension per cell)");
            detail::require(cv != RiseControlVariate::mean_score, where,
                            ": control_variate is mean_score with quasi_random sampling, whose masks are not "
                            "independent (the mean of the others would bias the map); expected none, unmasked_score "
                            "or masked_score (a scrambled net already balances the mean)");
        }
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
            const std::size_t k = logits.shape(1);
            // f_c(I): the class score or the target function's value on the image's own logits.
            const float score =
                functions[i] ? static_cast<float>(functions[i]->score(std::span<const float>(logits.data() + i * k, k)))
                             : scores(i, resolved[i]);
            const double unmasked[1] = {score};
            const RiseClassMaps maps = run(image_at(images, i), cls, unmasked, i, n, progress, where, functions[i]);
            std::copy(maps.raw.begin(), maps.raw.end(), out.raw.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            std::copy(maps.standard_error.begin(), maps.standard_error.end(),
                      out.standard_error.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            out.scores.push_back(score);
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
        std::vector<double> unmasked;
        if (options_.control_variate == RiseControlVariate::unmasked_score)
            unmasked = control_scores(detail::single_image_batch(image, where), targets, where);
        RiseClassMaps out = run(image, targets, unmasked, 0, 1, progress, where);
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

    /// The scores of kind options_.score of `classes` (or the target function's value) on the one
    /// image of `batch`.
    std::vector<double> control_scores(const Batch& batch, std::span<const std::size_t> classes, const char* where,
                                       const detail::AnyTargetFunction* function = nullptr) const {
        const Scores s = detail::forward_class_scores(*model_, batch, options_.score, classes, where, function);
        return {s.begin(), s.end()};
    }

    /// RISE for one image and a set of classes (raw, standard error and the convergence report;
    /// maps left empty); `unmasked` holds the image's scores of the classes (needed by the
    /// unmasked-score control variate); `image_index`/`images` place it in the progress count;
    /// `function`, when not null, is scored instead of the class (one class then).
    RiseClassMaps run(const Image& image, std::span<const std::size_t> classes, std::span<const double> unmasked,
                      std::size_t image_index, std::size_t images, const Progress& progress, const char* where,
                      const detail::AnyTargetFunction* function = nullptr) const {
        const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), pixels = h * w;
        const RiseMaskGenerator generator(h, w, options_.grid_size, options_.keep_probability);
        const bool constant = options_.baseline.is_constant();
        const Image baseline = constant ? Image() : options_.baseline.for_image(image, where);
        const std::size_t ceiling = options_.num_masks;
        const std::size_t total = ceiling * images;

        // The control variate: its kind and, for a constant one, its value per class.
        detail::RiseControl control;
        switch (options_.control_variate) {
            case RiseControlVariate::none: break;
            case RiseControlVariate::unmasked_score:
                control.kind = detail::RiseControl::Kind::constant;
                control.constant.assign(unmasked.begin(), unmasked.end());
                break;
            case RiseControlVariate::masked_score: {
                control.kind = detail::RiseControl::Kind::constant;
                const Image hidden = constant ? options_.baseline.for_image(image, where) : baseline;
                control.constant = control_scores(detail::single_image_batch(hidden, where), classes, where, function);
                break;
            }
            case RiseControlVariate::mean_score: control.kind = detail::RiseControl::Kind::leave_one_out; break;
        }
        const bool antithetic = options_.sampling == RiseSampling::antithetic;
        const std::size_t unit = antithetic ? 2 : 1;
        std::optional<detail::SobolSequence> sequence;
        if (options_.sampling == RiseSampling::quasi_random)
            sequence.emplace(generator.uniforms_per_draw(), true, options_.seed);
        auto draw = [&](std::size_t index) {
            if (antithetic) return generator.draw_antithetic(options_.seed, index / 2, static_cast<unsigned>(index % 2));
            if (sequence) return generator.draw_from([&](std::size_t d) { return sequence->uniform(index, d); });
            return generator.draw(options_.seed, index);
        };

        detail::RiseMoments moments(classes.size(), pixels, unit, control.kind != detail::RiseControl::Kind::none);
        // Whole units per forward batch (a pair never spans two batches).
        std::size_t batch_size = detail::batch_within_memory(options_.batch_size, {channels, h, w}, pixels);
        batch_size = std::max(unit, batch_size / unit * unit);
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
                    generator.render(draw(done + i), mask);
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
                if (relative_standard_error(moments, control) <= options_.tolerance) {
                    result.converged = true;
                    break;
                }
            }
        }
        if (options_.tolerance > 0.0 && !result.converged)
            result.converged = relative_standard_error(moments, control) <= options_.tolerance;
        finish(moments, control, h, w, result);
        return result;
    }

    /// max over classes of Σ_p SE(p) / Σ_p |S(p)|; 0 for an all-zero map with zero error,
    /// +∞ for an all-zero map with a non-zero error (never converged).
    double relative_standard_error(const detail::RiseMoments& m, const detail::RiseControl& control) const {
        double worst = 0.0;
        for (std::size_t c = 0; c < m.classes(); ++c) {
            double error = 0.0, magnitude = 0.0;
            for (std::size_t p = 0; p < m.pixels(); ++p) {
                const detail::RiseEstimate e = detail::rise_estimate(m, c, p, options_.keep_probability, control);
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

    void finish(const detail::RiseMoments& m, const detail::RiseControl& control, std::size_t h, std::size_t w,
                RiseClassMaps& result) const {
        const std::size_t k = m.classes(), pixels = h * w;
        result.raw = Maps::from_shape({k, h, w});
        result.standard_error = Maps::from_shape({k, h, w});
        for (std::size_t c = 0; c < k; ++c)
            for (std::size_t p = 0; p < pixels; ++p) {
                const detail::RiseEstimate e = detail::rise_estimate(m, c, p, options_.keep_probability, control);
                result.raw.data()[c * pixels + p] = static_cast<float>(e.mean);
                result.standard_error.data()[c * pixels + p] = static_cast<float>(e.standard_error);
            }
        result.masks_used = m.count();
        result.relative_standard_error = relative_standard_error(m, control);
    }

    const Model* model_;
    RiseOptions options_;
};

}  // namespace xai
