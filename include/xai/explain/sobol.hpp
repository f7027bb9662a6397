#pragma once
// The Sobol attribution method: Fel, Cadène, Chalvidal, Cord, Vigouroux and Serre, "Look at the
// Variance! Efficient Black-box Explanations with Sobol-based Sensitivity Analysis", NeurIPS
// 2021 (arXiv:2111.04138), as the authors' code does it (github.com/fel-thomas/Sobol-Attribution-
// Method: torch_explainer.py, estimators.py, sampling.py, torch_perturbations.py; the same in
// deel-ai/xplique's SobolAttributionMethod).
//
// The image is cut into a g×g grid; a real mask value m_i ∈ [0, 1] per cell makes a g×g mask,
// upsampled to H×W by nearest neighbour (PyTorch's interpolate default, xplique's "nearest"), and
// a perturbation function τ(x, M) turns the image into a perturbed one. The attribution of cell i
// is its total-order Sobol index
//     ST_i = E_{m~i}[ Var_{m_i}( f(τ(x, M)) | m~i ) ] / Var( f(τ(x, M)) ),
// the share of the score's variance that involves m_i, alone or with other cells, for m uniform
// on [0, 1]^(g²). Estimated by Jansen's (1999) pick-freeze estimator on N designs: two
// quasi-Monte-Carlo matrices A and B (the first and last g² coordinates of N points of a
// 2g²-dimensional Sobol' sequence) and, per cell i, C_i = A with column i taken from B:
//     f₀ = mean_j f(A_j),   V = Σ_j (f(A_j) − f₀)² / (N − 1),
//     ST_i = Σ_j (f(A_j) − f(C_ij))² / (2 N V).
// Forward passes: N(g² + 1) — the reference also scores B (N(g² + 2)), which Jansen's total-order
// estimator never reads; it is left out here. A model whose score does not vary gets V = 0 and
// all-zero indices.
//
// Perturbation functions (SobolPerturbation), as the authors' code defines them:
//   inpainting  τ = x ⊙ M + (1 − M) ⊙ µ, µ the baseline (the reference: 0)
//   blurring    τ = x ⊙ M + (1 − M) ⊙ blur(x), blur = OpenCV's cv2.blur(x, (σ, σ)): a σ×σ box
//               filter (anchor at its centre, rows and columns [−⌊σ/2⌋, ⌈σ/2⌉ − 1]) with
//               OpenCV's default border, reflect-101; σ = 10 (the reference)
//   amplitude   τ = x ⊙ (M − ½) · σ, σ = 1 (the reference's code; its docstring says
//               x + (M − ½)σ, the code computes the product)
//
// Defaults: g = 8, N = 32 (xplique's; the authors' PyTorch class has 64), Sobol' points without
// the reference's unscrambled sequence: the points are Owen-scrambled with `seed` (explain/
// detail/sobol_sequence.hpp — the reference's scipy Sobol' sequence uses Joe and Kuo's
// direction numbers, which this library does not ship, so its exact design cannot be
// reproduced anyway; scrambling makes every point uniform, so each pick-freeze expectation is
// estimated without bias, and the seed varies the design). The score is the logit
// (ScoreKind::logit): the reference scores the model's raw output, the logit of its torchvision
// example's model.
//
// Result (SobolExplanation): `indices` = the g×g total indices; raw = the reference's explanation,
// the indices upsampled bicubically to H×W (cv2.resize INTER_CUBIC, which image/resize.hpp's
// bicubic equals; its overshoot can dip slightly below 0 between cells); maps = raw ReLU'd and
// min-max normalized; beside them the score variance V and the forwards used. Deterministic: the
// design depends on (seed, point index) only, scores land by index, the estimator sums in index
// order, so results are identical for any batch size and thread count.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
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
#include "xai/explain/detail/sobol_sequence.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// The perturbation functions of the Sobol attribution method (see the header).
enum class SobolPerturbation {
    inpainting,  ///< x ⊙ M + (1 − M) ⊙ µ (the reference's default; µ = SobolOptions::baseline)
    blurring,    ///< x ⊙ M + (1 − M) ⊙ box-blurred x (cv2.blur, SobolOptions::blur_size)
    amplitude,   ///< x ⊙ (M − ½) · σ (SobolOptions::amplitude)
};

/// Options of SobolAttribution; defaults from the authors' code and xplique (see the header). An
/// aggregate: `xai::SobolAttribution sobol(model, {.grid_size = 11, .designs = 64});`
struct SobolOptions {
    std::size_t grid_size = 8;   ///< g: the mask grid, one index per cell; 1 ≤ g ≤ min(H, W, 22)
    std::size_t designs = 32;    ///< N: points of the design, a power of two; forwards N(g² + 1)
    SobolPerturbation perturbation = SobolPerturbation::inpainting;  ///< τ, the reference's default
    Baseline baseline{};         ///< inpainting's µ: 0 (the reference) by default; not segment_mean()
    std::size_t blur_size = 10;  ///< blurring's box size σ (the reference: 10), ≥ 1
    double amplitude = 1.0;      ///< amplitude's σ (the reference: 1), finite
    bool scramble = true;        ///< Owen-scrambled Sobol' points (seeded); false: plain points from 0
    ScoreKind score = ScoreKind::logit;  ///< the reference scores the model's raw output (logits)
    std::size_t batch_size = 256;  ///< perturbed images per forward pass (the reference: 256)
    std::uint64_t seed = 0;        ///< the scrambling's seed
    std::size_t threads = 0;       ///< threads building perturbed images; 0 = all
};

/// Sobol attribution maps of a batch: the Explanation core (raw = the total-order indices
/// upsampled bicubically to H×W, as the reference returns them; maps = their display maps;
/// targets, scores, logits), the g×g indices themselves, and per image the variance of the score
/// over the design and the forward passes used.
struct SobolExplanation : Explanation {
    Maps indices;                  ///< N×g×g: ST_i of each grid cell, row-major
    std::vector<double> variance;  ///< V, the sample variance of f over the design's A points, per image
    std::size_t forwards = 0;      ///< forward passes per image besides the unperturbed one: N(g² + 1)
};

namespace detail {

/// OpenCV's cv2.blur(x, (size, size)) of every channel: the mean over a size×size window whose
/// rows (and columns) run from −⌊size/2⌋ to size − 1 − ⌊size/2⌋ around the pixel, reflect-101
/// border (… c b | a b c … z | y x …).
inline Image box_blur(const Image& image, std::size_t size) {
    const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2);
    const auto before = static_cast<std::ptrdiff_t>(size / 2), after = static_cast<std::ptrdiff_t>(size) - 1 - before;
    auto reflect = [](std::ptrdiff_t i, std::ptrdiff_t n) {
        if (n == 1) return std::ptrdiff_t{0};
        const std::ptrdiff_t period = 2 * (n - 1);
        i = ((i % period) + period) % period;
        return i < n ? i : period - i;
    };
    Image rows = Image::from_shape(image.shape()), out = Image::from_shape(image.shape());
    const auto ih = static_cast<std::ptrdiff_t>(h), iw = static_cast<std::ptrdiff_t>(w);
    for (std::size_t c = 0; c < channels; ++c)
        for (std::ptrdiff_t y = 0; y < ih; ++y)
            for (std::ptrdiff_t x = 0; x < iw; ++x) {
                double sum = 0.0;
                for (std::ptrdiff_t k = -before; k <= after; ++k)
                    sum += image(c, static_cast<std::size_t>(y), static_cast<std::size_t>(reflect(x + k, iw)));
                rows(c, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = static_cast<float>(sum);
            }
    const auto area = static_cast<double>(size * size);
    for (std::size_t c = 0; c < channels; ++c)
        for (std::ptrdiff_t y = 0; y < ih; ++y)
            for (std::ptrdiff_t x = 0; x < iw; ++x) {
                double sum = 0.0;
                for (std::ptrdiff_t k = -before; k <= after; ++k)
                    sum += rows(c, static_cast<std::size_t>(reflect(y + k, ih)), static_cast<std::size_t>(x));
                out(c, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = static_cast<float>(sum / area);
            }
    return out;
}

/// Jansen's total-order estimator from the scores of A (N) and of C_1 … C_d (d × N, by cell),
/// as the reference's JansenEstimator; all zeros when the variance of f(A) is 0.
inline std::vector<double> jansen_total_indices(const std::vector<double>& a, const std::vector<double>& c,
                                                std::size_t cells, double* variance = nullptr) {
    const std::size_t n = a.size();
    double mean = 0.0;
    for (double v : a) mean += v;
    mean /= static_cast<double>(n);
    double v = 0.0;
    for (double x : a) v += (x - mean) * (x - mean);
    v /= static_cast<double>(n - 1);
    if (variance != nullptr) *variance = v;
    std::vector<double> total(cells, 0.0);
    if (!(v > 0.0)) return total;
    for (std::size_t i = 0; i < cells; ++i) {
        double sum = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
            const double d = a[j] - c[i * n + j];
            sum += d * d;
        }
        total[i] = sum / (2.0 * static_cast<double>(n) * v);
    }
    return total;
}

}  // namespace detail

/// The Sobol attribution method on any black-box classifier. Holds a pointer to the model,
/// which must outlive the explainer. explain() is const and may run concurrently.
template <Classifier Model>
class SobolAttribution {
public:
    /// A temporary model would dangle: the explainer keeps a pointer to the model.
    SobolAttribution(const Model&&, SobolOptions = {}) = delete;

    /// Explains `model`, which must outlive the explainer. Throws invalid_argument for a grid of
    /// 0 or larger than the input or than 22, designs not a power of two ≥ 2, batch_size or
    /// blur_size 0, a non-finite amplitude, an unknown perturbation, or a segment_mean() baseline.
    explicit SobolAttribution(const Model& model, SobolOptions options = {})
        : model_(&model), options_(std::move(options)) {
        const char* where = Where::constructor;
        const std::size_t g = options_.grid_size, n = options_.designs;
        detail::require(g >= 1, where, ": grid_size is 0, expected at least 1");
        detail::require(2 * g * g <= detail::max_sobol_dimensions, where, ": grid_size is ", g,
                        ", expected at most 22 (the design has 2·g² Sobol' dimensions)");
        const ImageShape shape = model_->input_shape();
        detail::require(g <= shape.height && g <= shape.width, where, ": grid_size is ", g,
                        ", larger than the model's input (", shape.height, "x", shape.width, ")");
        detail::require(n >= 2 && (n & (n - 1)) == 0, where, ": designs is ", n,
                        ", expected a power of two ≥ 2 (the reference's nb_design; the variance needs two points)");
        detail::require(options_.batch_size >= 1, where, ": batch_size is 0, expected at least 1");
        detail::require(options_.blur_size >= 1, where, ": blur_size is 0, expected at least 1");
        detail::require(std::isfinite(options_.amplitude), where, ": amplitude is ", options_.amplitude,
                        ", expected a finite value");
        const SobolPerturbation p = options_.perturbation;
        detail::require(p == SobolPerturbation::inpainting || p == SobolPerturbation::blurring ||
                            p == SobolPerturbation::amplitude,
                        where, ": perturbation is ", static_cast<int>(p),
                        ", expected SobolPerturbation::inpainting, blurring or amplitude");
        detail::require_baseline_without_superpixels(options_.baseline, where);
    }

    /// The options the explainer was built with.
    const SobolOptions& options() const { return options_; }

    /// Forward passes per image besides the unperturbed one: N(g² + 1).
    std::size_t forwards() const { return options_.designs * (options_.grid_size * options_.grid_size + 1); }

    /// One map per image, for its target class (empty targets: the predicted class; one: the
    /// same for every image). `progress` counts forward passes over the batch.
    template <std::same_as<Batch> B>
    SobolExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = Where::explain;
        detail::require_explainable(*model_, images, where);
        const Scores logits = detail::checked_forward(*model_, images, where);
        const std::vector<std::size_t> resolved = resolve_targets(targets, logits, where);
        const Scores scores = scores_of_kind(logits, options_.score);
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3), g = options_.grid_size;
        SobolExplanation out;
        out.indices = Maps::from_shape({n, g, g});
        out.raw = Maps::from_shape({n, h, w});
        out.targets = resolved;
        out.score_kind = options_.score;
        out.logits = logits;
        out.forwards = forwards();
        for (std::size_t i = 0; i < n; ++i) {
            out.scores.push_back(scores(i, resolved[i]));
            double variance = 0.0;
            const std::vector<double> total = explain_one(image_at(images, i), resolved[i], i, n, progress, variance, where);
            out.variance.push_back(variance);
            Map grid = Map::from_shape({g, g});
            for (std::size_t c = 0; c < g * g; ++c) grid.data()[c] = static_cast<float>(total[c]);
            std::copy(grid.begin(), grid.end(), out.indices.begin() + static_cast<std::ptrdiff_t>(i * g * g));
            const Map big = resize(grid, h, w, Interpolation::bicubic);
            std::copy(big.begin(), big.end(), out.raw.begin() + static_cast<std::ptrdiff_t>(i * h * w));
        }
        out.maps = detail::positive_display_maps(out.raw);
        return out;
    }

    /// One image (C×H×W): explain() on a batch of one.
    template <std::same_as<Image> I>
    SobolExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

    /// The g×g mask of design row `index` (0 … N(g²+1) − 1: A_0 … A_{N−1}, then C_1 for every j,
    /// C_2, …): the cells' values in [0, 1), row-major.
    std::vector<float> grid_mask(std::size_t index, const detail::SobolSequence& design) const {
        const std::size_t n = options_.designs, cells = options_.grid_size * options_.grid_size;
        const std::size_t j = index % n, group = index / n;  // group 0: A; group i ≥ 1: C_i
        std::vector<float> grid(cells);
        for (std::size_t c = 0; c < cells; ++c) {
            const bool from_b = group >= 1 && c == group - 1;
            grid[c] = static_cast<float>(design.uniform(j, from_b ? cells + c : c));
        }
        return grid;
    }

    /// The design's sequence: 2g² Sobol' dimensions (A's cells, then B's).
    detail::SobolSequence design() const {
        return detail::SobolSequence(2 * options_.grid_size * options_.grid_size, options_.scramble, options_.seed);
    }

private:
    /// The prefix of every error message of the class, one per entry point.
    struct Where {
        static constexpr const char* constructor = "xai::SobolAttribution::SobolAttribution()";
        static constexpr const char* explain = "xai::SobolAttribution::explain()";
    };

    std::vector<double> explain_one(const Image& image, std::size_t cls, std::size_t image_index, std::size_t images,
                                    const Progress& progress, double& variance, const char* where) const {
        const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), pixels = h * w;
        const std::size_t g = options_.grid_size, cells = g * g, n = options_.designs, total = forwards();
        const detail::SobolSequence sequence = design();
        Image hidden;  // what M = 0 shows, for inpainting and blurring
        if (options_.perturbation == SobolPerturbation::inpainting) hidden = options_.baseline.for_image(image, where);
        if (options_.perturbation == SobolPerturbation::blurring) hidden = detail::box_blur(image, options_.blur_size);
        // nearest upsampling (PyTorch's): pixel (y, x) reads cell (⌊y·g/H⌋, ⌊x·g/W⌋)
        const std::vector<detail::ResizeTaps> rows_taps = detail::resize_taps(g, h, Interpolation::nearest);
        const std::vector<detail::ResizeTaps> cols_taps = detail::resize_taps(g, w, Interpolation::nearest);
        std::vector<std::size_t> cell_of(pixels);
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x) cell_of[y * w + x] = rows_taps[y].index[0] * g + cols_taps[x].index[0];

        const std::size_t classes[1] = {cls};
        std::vector<double> y(total);
        const std::size_t batch_size = detail::batch_within_memory(options_.batch_size, {channels, h, w}, pixels);
        Batch perturbed;
        for (std::size_t first = 0; first < total; first += batch_size) {
            const std::size_t count = std::min(batch_size, total - first);
            detail::reshape_batch(perturbed, count, {channels, h, w});
            parallel_for(count, options_.threads, [&](std::size_t b) {
                const std::vector<float> grid = grid_mask(first + b, sequence);
                std::vector<float> mask(pixels);
                for (std::size_t p = 0; p < pixels; ++p) mask[p] = grid[cell_of[p]];
                float* dst = perturbed.data() + b * channels * pixels;
                if (options_.perturbation == SobolPerturbation::amplitude) {
                    const auto sigma = static_cast<float>(options_.amplitude);
                    for (std::size_t c = 0; c < channels; ++c)
                        for (std::size_t p = 0; p < pixels; ++p)
                            dst[c * pixels + p] = image.data()[c * pixels + p] * (mask[p] - 0.5f) * sigma;
                } else {
                    detail::apply_mask(image.data(), hidden.data(), channels, pixels, mask.data(), dst);
                }
            });
            const Scores s = detail::forward_class_scores(*model_, perturbed, options_.score, classes, where);
            for (std::size_t b = 0; b < count; ++b) y[first + b] = s(b, 0);
            detail::report(progress, image_index * total + first + count, images * total, "forwards");
        }
        const std::vector<double> a(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n));
        const std::vector<double> c(y.begin() + static_cast<std::ptrdiff_t>(n), y.end());
        return detail::jansen_total_indices(a, c, cells, &variance);
    }

    const Model* model_;
    SobolOptions options_;
};

}  // namespace xai
