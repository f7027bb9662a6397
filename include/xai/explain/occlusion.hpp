#pragma once
// Occlusion: the sliding-window sensitivity map of Zeiler and Fergus ("Visualizing and
// Understanding Convolutional Networks", ECCV 2014, §4.2): cover part of the image with a
// patch, see how much the score of the class drops.
//
// For a square window of `window` pixels moved by `stride` over the image, with window j
// covering the pixel set W_j and replaced by the baseline B (the image stays I elsewhere),
//     drop_j = f_c(I) − f_c(I with W_j replaced by B),
//     A_c(p) = (1 / |{j : p ∈ W_j}|) · Σ_{j : p ∈ W_j} drop_j,
// i.e. each pixel gets the score drop averaged over the windows that cover it. The window
// positions follow Captum's Occlusion (captum/attr/_core/occlusion.py): along an axis of length
// D the windows start at 0, stride, 2·stride, …, ⌈(D − window)/stride⌉ · stride, so the last one
// may be cut off by the border; the stride may not exceed the window (unless the window spans
// the whole axis), so every pixel is covered. f_c is the probability of class c by default
// (Zeiler and Fergus plot the probability of the correct class; ScoreKind option). The baseline
// is 0 by default (Captum's default; in the paper, a grey square).
//
// Defaults window = 15, stride = 8 are Captum's tutorials' for 224×224 ImageNet inputs (the
// paper does not fix them); choose a window about the size of the parts that should be
// resolvable, e.g. 5 and stride 2 or 3 for 28×28 inputs. Cost: one forward pass per window,
// ⌈(H−w)/s + 1⌉ · ⌈(W−w)/s + 1⌉ per image (729 at the defaults on 224×224), batched.
//
// Coarse to fine (OcclusionOptions::coarse_levels = L > 0). Window positions form a lattice
// (rows × cols of starts). Level ℓ's lattice is every 2^ℓ-th position along each axis plus the
// last one. The windows of level L are evaluated; then for ℓ = L−1 down to 0 each position new
// at level ℓ lies between the positions of level ℓ+1 around it (up to four, themselves
// evaluated or interpolated): if their drops differ by more than refine_threshold × the largest
// |drop| of level L, the window is evaluated, otherwise its drop is their bilinear interpolation
// (in position units). The map is then made from all drops as above. Where the coarse map is
// flat — the background — the windows are interpolated; where it changes — the object's edges
// and inside — they are evaluated. The drops of evaluated windows are exact; windows_evaluated
// reports the forward passes. Decisions depend on the drops alone and windows are evaluated in
// index order, so the result is identical for any batch size and thread count.
//
// The result (OcclusionExplanation) is the Explanation core — raw = A_c, maps = A_c ReLU'd and
// min-max normalized per image (the regions whose hiding lowers the score), scores = f_c(I) —
// with the number of windows beside it.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <utility>
#include <span>
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
#include "xai/image/baseline.hpp"

namespace xai {

/// Options of Occlusion. An aggregate: `xai::Occlusion occ(model, {.window = 5, .stride = 2});`
struct OcclusionOptions {
    std::size_t window = 15;      ///< side of the square patch, 1 ≤ window ≤ min(H, W)
    std::size_t stride = 8;       ///< step between windows, 1 ≤ stride ≤ window (unless window spans the axis)
    ScoreKind score = ScoreKind::probability;  ///< f_c: the probability, as Zeiler and Fergus plot
    Baseline baseline{};          ///< what the patch shows: 0 by default; not segment_mean()
    std::size_t batch_size = 32;  ///< occluded images per forward pass
    std::size_t threads = 0;      ///< threads building occluded images; 0 = all
    /// Coarse-to-fine: 0 (default) evaluates every window; L > 0 evaluates first the windows
    /// 2^L positions apart, then only those between evaluated windows whose drops differ by more
    /// than refine_threshold × the largest coarse drop, interpolating the others (header).
    std::size_t coarse_levels = 0;
    double refine_threshold = 0.1;  ///< the refinement criterion's share of the largest |drop| of the coarse pass, ≥ 0
};

/// Occlusion maps of a batch, one target class per image: the Explanation core (raw = the mean
/// score drop of the windows covering each pixel, maps = its display maps, targets, scores =
/// f_c(I) of each unoccluded image, logits) and the number of windows.
struct OcclusionExplanation : Explanation {
    std::size_t windows = 0;  ///< window positions per image (each with a drop, evaluated or interpolated)
    /// Per image: the windows evaluated, i.e. forward passes beside the image's own (= windows
    /// unless coarse-to-fine skipped some).
    std::vector<std::size_t> windows_evaluated;
};

namespace detail {

/// The window starts along an axis of length `length` (Captum's convention, see above).
inline std::vector<std::size_t> window_starts(std::size_t length, std::size_t window, std::size_t stride) {
    const std::size_t steps = (length - window + stride - 1) / stride;  // ⌈(D − w)/s⌉
    std::vector<std::size_t> starts(steps + 1);
    for (std::size_t k = 0; k <= steps; ++k) starts[k] = k * stride;
    return starts;
}

}  // namespace detail

/// Occlusion on any black-box classifier. Holds a pointer to the model, which must outlive
/// the explainer. explain() is const and may run concurrently.
template <Classifier Model>
class Occlusion {
public:
    /// A temporary model would dangle: the explainer keeps a pointer to the model.
    Occlusion(const Model&&, OcclusionOptions = {}) = delete;

    /// Explains `model`, which must outlive the explainer. Throws invalid_argument when window,
    /// stride or batch_size is 0, the window exceeds the model's input, the stride exceeds the
    /// window (some pixels would never be occluded), the baseline is segment_mean(), or
    /// refine_threshold is negative or not finite.
    explicit Occlusion(const Model& model, OcclusionOptions options = {}) : model_(&model), options_(std::move(options)) {
        const char* where = Where::constructor;
        detail::require(options_.window >= 1, where, ": window is 0, expected at least 1 pixel");
        detail::require(options_.stride >= 1, where, ": stride is 0, expected at least 1 pixel");
        detail::require(options_.batch_size >= 1, where, ": batch_size is 0, expected at least 1");
        detail::require_baseline_without_superpixels(options_.baseline, where);
        detail::require(std::isfinite(options_.refine_threshold) && options_.refine_threshold >= 0.0, where,
                        ": refine_threshold is ", options_.refine_threshold, ", expected a finite value >= 0");
        const ImageShape shape = model_->input_shape();
        for (const std::size_t length : {shape.height, shape.width}) {
            detail::require(options_.window <= length, where, ": window is ", options_.window,
                            ", larger than the model's input (", shape.height, "x", shape.width, ")");
            detail::require(options_.stride <= options_.window || options_.window == length, where, ": stride is ",
                            options_.stride, ", larger than the window (", options_.window,
                            "); some pixels would never be occluded");
        }
    }

    /// The options the explainer was built with.
    const OcclusionOptions& options() const { return options_; }

    /// One map per image, for its target class (empty targets: the predicted class; one: the
    /// same for every image); a target may be a target function (Target::function,
    /// core/targets.hpp), whose value replaces the class score. `progress` counts windows over
    /// the batch.
    template <std::same_as<Batch> B>
    OcclusionExplanation explain(const B& images, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_explainable(*model_, images, where);
        const Scores logits = detail::checked_forward(*model_, images, where);
        const std::vector<std::size_t> resolved = resolve_targets(targets, logits, where, true);
        const Scores scores = scores_of_kind(logits, options_.score);
        const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, images.shape(0));
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        const std::vector<std::size_t> rows = detail::window_starts(h, options_.window, options_.stride);
        const std::vector<std::size_t> cols = detail::window_starts(w, options_.window, options_.stride);

        OcclusionExplanation out;
        out.raw = Maps::from_shape({n, h, w});
        out.targets = resolved;
        out.score_kind = options_.score;
        out.logits = logits;
        out.windows = rows.size() * cols.size();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = logits.shape(1);
            const float unoccluded =
                functions[i] ? static_cast<float>(functions[i]->score(std::span<const float>(logits.data() + i * k, k)))
                             : scores(i, resolved[i]);
            out.scores.push_back(unoccluded);
            std::size_t evaluated = 0;
            const Map map = explain_one(image_at(images, i), resolved[i], unoccluded, rows, cols, i, n, progress,
                                        evaluated, where, functions[i]);
            out.windows_evaluated.push_back(evaluated);
            std::copy(map.begin(), map.end(), out.raw.begin() + static_cast<std::ptrdiff_t>(i * h * w));
        }
        out.maps = detail::positive_display_maps(out.raw);
        return out;
    }

    /// One image (C×H×W): explain() on a batch of one.
    template <std::same_as<Image> I>
    OcclusionExplanation explain(const I& image, Target target = Target::predicted(),
                                 const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }


private:
    /// The prefix of every error message of the class, one per entry point.
    struct Where {
        static constexpr const char* constructor = "xai::Occlusion::Occlusion()";
        static constexpr const char* explain = "xai::Occlusion::explain()";
    };

    /// The score drops of the windows `which` (indices row-major over rows × cols), in order,
    /// one forward batch after another; `done_before`/`total` place them in the progress count.
    std::vector<double> drops_of(const Image& image, const Image& baseline, std::size_t cls, float unoccluded,
                                 const std::vector<std::size_t>& rows, const std::vector<std::size_t>& cols,
                                 const std::vector<std::size_t>& which, const Progress& progress, std::size_t done_before,
                                 std::size_t total, const char* where, const detail::AnyTargetFunction* function) const {
        const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), pixels = h * w;
        const std::size_t win = options_.window, classes[1] = {cls};
        std::vector<double> drops(which.size());
        Batch occluded;
        const std::size_t batch_size = detail::batch_within_memory(options_.batch_size, {channels, h, w});
        for (std::size_t first = 0; first < which.size(); first += batch_size) {
            const std::size_t count = std::min(batch_size, which.size() - first);
            detail::reshape_batch(occluded, count, {channels, h, w});
            parallel_for(count, options_.threads, [&](std::size_t b) {
                const std::size_t j = which[first + b];
                const std::size_t y0 = rows[j / cols.size()], x0 = cols[j % cols.size()];
                const std::size_t y1 = std::min(h, y0 + win), x1 = std::min(w, x0 + win);
                float* dst = occluded.data() + b * channels * pixels;
                std::copy(image.begin(), image.end(), dst);
                for (std::size_t c = 0; c < channels; ++c)
                    for (std::size_t y = y0; y < y1; ++y) {
                        const std::size_t offset = c * pixels + y * w;
                        std::copy(baseline.data() + offset + x0, baseline.data() + offset + x1, dst + offset + x0);
                    }
            });
            const Scores s = detail::forward_class_scores(*model_, occluded, options_.score, classes, where, function);
            for (std::size_t b = 0; b < count; ++b)
                drops[first + b] = static_cast<double>(unoccluded) - static_cast<double>(s(b, 0));
            detail::report(progress, done_before + first + count, total, "windows");
        }
        return drops;
    }

    /// The drop of every window: all evaluated, or coarse to fine (see the header). Returns the
    /// drops (row-major over rows × cols) and sets `evaluated`.
    std::vector<double> window_drops(const Image& image, const Image& baseline, std::size_t cls, float unoccluded,
                                     const std::vector<std::size_t>& rows, const std::vector<std::size_t>& cols,
                                     std::size_t image_index, std::size_t images, const Progress& progress,
                                     std::size_t& evaluated, const char* where,
                                     const detail::AnyTargetFunction* function) const {
        const std::size_t nr = rows.size(), nc = cols.size(), total = nr * nc;
        const std::size_t before = image_index * total, all = images * total;
        std::vector<double> drop(total, 0.0);
        if (options_.coarse_levels == 0) {
            std::vector<std::size_t> every(total);
            for (std::size_t j = 0; j < total; ++j) every[j] = j;
            drop = drops_of(image, baseline, cls, unoccluded, rows, cols, every, progress, before, all, where, function);
            evaluated = total;
            return drop;
        }
        // Lattice of level ℓ along an axis of n positions: multiples of 2^ℓ, and the last one.
        auto on_lattice = [](std::size_t i, std::size_t n, std::size_t level) {
            return i + 1 == n || (i & ((std::size_t{1} << level) - 1)) == 0;
        };
        // The neighbours of i on the lattice of `level` (i itself when on it).
        auto bracket = [&](std::size_t i, std::size_t n, std::size_t level) {
            std::size_t lo = i, hi = i;
            while (!on_lattice(lo, n, level)) --lo;
            while (!on_lattice(hi, n, level)) ++hi;
            return std::pair<std::size_t, std::size_t>{lo, hi};
        };
        const std::size_t top = std::min<std::size_t>(options_.coarse_levels, 30);
        std::vector<char> known(total, 0);
        std::vector<std::size_t> which;
        for (std::size_t r = 0; r < nr; ++r)
            for (std::size_t c = 0; c < nc; ++c)
                if (on_lattice(r, nr, top) && on_lattice(c, nc, top)) which.push_back(r * nc + c);
        std::vector<double> d = drops_of(image, baseline, cls, unoccluded, rows, cols, which, progress, before, all, where, function);
        evaluated = which.size();
        double scale = 0.0;
        for (std::size_t k = 0; k < which.size(); ++k) {
            drop[which[k]] = d[k];
            known[which[k]] = 1;
            scale = std::max(scale, std::abs(d[k]));
        }
        const double threshold = options_.refine_threshold * scale;
        for (std::size_t level = top; level-- > 0;) {
            which.clear();
            std::vector<std::pair<std::size_t, double>> interpolated;
            for (std::size_t r = 0; r < nr; ++r)
                for (std::size_t c = 0; c < nc; ++c) {
                    const std::size_t j = r * nc + c;
                    if (known[j] || !on_lattice(r, nr, level) || !on_lattice(c, nc, level)) continue;
                    const auto [r0, r1] = bracket(r, nr, level + 1);
                    const auto [c0, c1] = bracket(c, nc, level + 1);
                    const double v00 = drop[r0 * nc + c0], v01 = drop[r0 * nc + c1];
                    const double v10 = drop[r1 * nc + c0], v11 = drop[r1 * nc + c1];
                    const double high = std::max({v00, v01, v10, v11}), low = std::min({v00, v01, v10, v11});
                    if (high - low > threshold) {
                        which.push_back(j);
                    } else {
                        const double ty = r1 == r0 ? 0.0 : static_cast<double>(r - r0) / static_cast<double>(r1 - r0);
                        const double tx = c1 == c0 ? 0.0 : static_cast<double>(c - c0) / static_cast<double>(c1 - c0);
                        interpolated.emplace_back(j, (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11));
                    }
                }
            d = drops_of(image, baseline, cls, unoccluded, rows, cols, which, progress, before + evaluated, all, where, function);
            for (std::size_t k = 0; k < which.size(); ++k) {
                drop[which[k]] = d[k];
                known[which[k]] = 1;
            }
            for (const auto& [j, v] : interpolated) {
                drop[j] = v;
                known[j] = 1;
            }
            evaluated += which.size();
        }
        detail::report(progress, before + total, all, "windows");
        return drop;
    }

    Map explain_one(const Image& image, std::size_t cls, float unoccluded, const std::vector<std::size_t>& rows,
                    const std::vector<std::size_t>& cols, std::size_t image_index, std::size_t images,
                    const Progress& progress, std::size_t& evaluated, const char* where,
                    const detail::AnyTargetFunction* function) const {
        const std::size_t h = image.shape(1), w = image.shape(2), pixels = h * w;
        const std::size_t win = options_.window;
        const Image baseline = options_.baseline.for_image(image, where);
        const std::vector<double> drop =
            window_drops(image, baseline, cls, unoccluded, rows, cols, image_index, images, progress, evaluated, where, function);
        // Sums in window order (one thread: at most window² additions per window, negligible
        // beside its forward pass), so the map does not depend on the batch size.
        std::vector<double> sum(pixels, 0.0);
        std::vector<unsigned> covered(pixels, 0);
        for (std::size_t j = 0; j < drop.size(); ++j) {
            const std::size_t y0 = rows[j / cols.size()], x0 = cols[j % cols.size()];
            const std::size_t y1 = std::min(h, y0 + win), x1 = std::min(w, x0 + win);
            for (std::size_t y = y0; y < y1; ++y)
                for (std::size_t x = x0; x < x1; ++x) {
                    sum[y * w + x] += drop[j];
                    ++covered[y * w + x];
                }
        }
        Map map = Map::from_shape({h, w});
        for (std::size_t p = 0; p < pixels; ++p) map.data()[p] = static_cast<float>(sum[p] / covered[p]);
        return map;
    }

    const Model* model_;
    OcclusionOptions options_;
};

}  // namespace xai
