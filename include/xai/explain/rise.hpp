#pragma once
// RISE: Randomized Input Sampling for Explanation (Petsiuk, Das and Saenko, BMVC 2018,
// arXiv:1806.07421), with streaming masks and convergence control.
//
// The saliency of pixel p for class c is the expected score of the masked image given that p
// is kept, estimated by Monte Carlo over N random masks M_i (paper, §3):
//     S_c(p) = 1 / (N · p1) · Σ_i f_c(I ⊙ M_i) · M_i(p).
// f_c is the probability of class c (the softmax of the model's logits, as the reference code's
// softmax-ended model; ScoreKind option). Masks follow the paper's Algorithm and the authors'
// generate_masks (github.com/eclique/RISE, explanations.py):
//   1. an s×s grid of independent bits, each 1 with probability p1;
//   2. upsampled bilinearly to (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉ — skimage.transform.resize with
//      order=1, mode='reflect', anti_aliasing=False (see RiseMaskGenerator for its sampling
//      convention, which differs from PyTorch's at the border);
//   3. cropped to H×W at a shift drawn uniformly from [0, ⌈H/s⌉) × [0, ⌈W/s⌉).
// Defaults N = 4000, s = 7, p1 = 0.5 are the paper's (ImageNet, 224×224).
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
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/masking.hpp"

namespace xai {

/// Options of Rise; defaults are the paper's and the reference code's.
struct RiseOptions {
    std::size_t num_masks = 4000;    ///< N, the number of masks (the ceiling when early stopping); ≥ 2
    std::size_t grid_size = 7;       ///< s: masks start as s×s grids; 1 ≤ s ≤ min(H, W)
    double keep_probability = 0.5;   ///< p1 = P(grid cell = 1), in (0, 1]
    ScoreKind score = ScoreKind::probability;  ///< f_c: the reference explains softmax probabilities
    Baseline baseline;               ///< value of masked-out pixels: 0 (the paper) by default
    double tolerance = 0.0;          ///< early stopping on the mean relative standard error; 0 = off
    std::size_t check_every = 500;   ///< masks per convergence check (a block), ≥ 1
    std::size_t batch_size = 32;     ///< masked images per forward pass (the reference: 100 on a GPU)
    std::uint64_t seed = 0;          ///< masks come from Rng::stream(seed, mask index)
    std::size_t threads = 0;         ///< threads for mask generation and accumulation; 0 = all
    Progress progress;       ///< called after every forward batch with masks done / ceiling
};

/// RISE maps of several classes of one image (Rise::explain_classes).
struct RiseClassMaps {
    Maps saliency;                      ///< K'×H×W: S_c for each requested class
    Maps standard_error;                ///< K'×H×W: SE_c, the standard error of each pixel of S_c
    std::vector<std::size_t> classes;   ///< the class of each map
    std::size_t masks_used = 0;         ///< n: the masks evaluated (≤ num_masks)
    double relative_standard_error = 0; ///< max over the classes of Σ SE / Σ |S| at the end
    bool converged = false;             ///< true when the tolerance stopped it (false if off)
};

/// RISE maps of a batch, one target class per image (Rise::explain).
struct RiseExplanation {
    Maps saliency;                              ///< N×H×W: S_c of each image's target class
    Maps standard_error;                        ///< N×H×W: its per-pixel standard error
    std::vector<std::size_t> classes;           ///< the resolved target class of each image
    std::vector<std::size_t> masks_used;        ///< masks evaluated per image
    std::vector<double> relative_standard_error;///< Σ SE / Σ |S| per image at the end
    std::vector<bool> converged;                ///< per image: stopped by the tolerance
};

/// The random masks of RISE, generated one at a time from (seed, mask index).
///
/// Sampling convention of the upsampling (skimage.transform.resize, order=1, mode='reflect',
/// anti_aliasing=False, which calls scipy.ndimage.zoom with grid_mode=True and mode 'mirror'):
/// output pixel u of an axis upsampled from s to U = (s+1)·cell samples reads the grid at
///     x = (u + 0.5) · s / U − 0.5,
/// mirrored about the end samples when outside [0, s−1] (x → −x, x → 2(s−1) − x), then linearly
/// interpolated between ⌊x⌋ and ⌊x⌋+1. PyTorch's bilinear (align_corners=False) instead clamps
/// x to [0, s−1], so the first and last half cell would differ; this follows the reference.
/// Every pixel is a convex combination of grid bits, so E[M(p)] = p1 everywhere.
class RiseMaskGenerator {
public:
    /// The random part of one mask: the grid (row-major s×s, 0 or 1) and the crop's offset.
    struct Draw {
        std::vector<unsigned char> grid;  ///< s×s bits, row-major: 1 keeps the cell
        std::size_t shift_y = 0;          ///< row offset of the H×W crop in the upsampled mask
        std::size_t shift_x = 0;          ///< column offset of the H×W crop in the upsampled mask
    };

    /// Masks of height×width pixels from a grid_size×grid_size grid whose cells are kept with
    /// probability keep_probability. Throws invalid_argument unless 1 ≤ grid_size ≤ min(H, W)
    /// and keep_probability is in (0, 1].
    RiseMaskGenerator(std::size_t height, std::size_t width, std::size_t grid_size, double keep_probability)
        : height_(height), width_(width), s_(grid_size), p1_(keep_probability) {
        detail::require(grid_size >= 1, "xai::RiseMaskGenerator: grid_size is 0, expected at least 1");
        detail::require(grid_size <= height && grid_size <= width, "xai::RiseMaskGenerator: grid_size is ", grid_size,
                        ", larger than the image (", height, "x", width, "); expected at most min(H, W) = ",
                        std::min(height, width));
        detail::require(keep_probability > 0.0 && keep_probability <= 1.0,
                        "xai::RiseMaskGenerator: keep_probability is ", keep_probability, ", expected a value in (0, 1]");
        cell_h_ = detail::ceil_div(height, s_);
        cell_w_ = detail::ceil_div(width, s_);
        rows_ = axis_taps(s_, (s_ + 1) * cell_h_);
        cols_ = axis_taps(s_, (s_ + 1) * cell_w_);
    }

    std::size_t height() const { return height_; }       ///< H, the mask height
    std::size_t width() const { return width_; }         ///< W, the mask width
    std::size_t grid_size() const { return s_; }         ///< s, cells per side of the grid
    double keep_probability() const { return p1_; }      ///< p1, the probability a cell is kept
    std::size_t cell_height() const { return cell_h_; }  ///< ⌈H/s⌉
    std::size_t cell_width() const { return cell_w_; }   ///< ⌈W/s⌉
    std::size_t upsampled_height() const { return (s_ + 1) * cell_h_; }  ///< (s+1)·⌈H/s⌉, before the crop
    std::size_t upsampled_width() const { return (s_ + 1) * cell_w_; }   ///< (s+1)·⌈W/s⌉, before the crop

    /// The grid and shift of mask `index` under `seed`: s² Bernoulli(p1) draws in row-major
    /// order, then the row shift and the column shift, all from Rng::stream(seed, index).
    Draw draw(std::uint64_t seed, std::uint64_t index) const {
        Rng rng = Rng::stream(seed, index);
        Draw d;
        d.grid.resize(s_ * s_);
        for (auto& bit : d.grid) bit = rng.uniform() < p1_ ? 1 : 0;
        d.shift_y = static_cast<std::size_t>(rng.uniform_index(cell_h_));
        d.shift_x = static_cast<std::size_t>(rng.uniform_index(cell_w_));
        return d;
    }

    /// The mask of a draw, H×W into `out`, computed only over the cropped window: a horizontal
    /// pass over the s grid rows, then two taps per output row.
    void render(const Draw& d, float* out) const {
        std::vector<float> horizontal(s_ * width_);
        for (std::size_t g = 0; g < s_; ++g) {
            const unsigned char* grid_row = d.grid.data() + g * s_;
            float* h_row = horizontal.data() + g * width_;
            for (std::size_t x = 0; x < width_; ++x) {
                const Tap& t = cols_[d.shift_x + x];
                h_row[x] = t.w0 * static_cast<float>(grid_row[t.i0]) + t.w1 * static_cast<float>(grid_row[t.i1]);
            }
        }
        for (std::size_t y = 0; y < height_; ++y) {
            const Tap& t = rows_[d.shift_y + y];
            const float* r0 = horizontal.data() + t.i0 * width_;
            const float* r1 = horizontal.data() + t.i1 * width_;
            float* dst = out + y * width_;
            for (std::size_t x = 0; x < width_; ++x) dst[x] = t.w0 * r0[x] + t.w1 * r1[x];
        }
    }

    /// The H×W mask `index` under `seed`.
    Map mask(std::uint64_t seed, std::uint64_t index) const {
        Map m = Map::from_shape({height_, width_});
        render(draw(seed, index), m.data());
        return m;
    }

    /// The whole upsampled grid of a draw, before cropping: (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉.
    Map upsampled(const Draw& d) const {
        Map m = Map::from_shape({upsampled_height(), upsampled_width()});
        for (std::size_t y = 0; y < m.shape(0); ++y)
            for (std::size_t x = 0; x < m.shape(1); ++x) {
                const Tap& ty = rows_[y];
                const Tap& tx = cols_[x];
                auto at = [&](std::size_t gy, std::size_t gx) { return static_cast<float>(d.grid[gy * s_ + gx]); };
                const float top = tx.w0 * at(ty.i0, tx.i0) + tx.w1 * at(ty.i0, tx.i1);
                const float bottom = tx.w0 * at(ty.i1, tx.i0) + tx.w1 * at(ty.i1, tx.i1);
                m(y, x) = ty.w0 * top + ty.w1 * bottom;
            }
        return m;
    }

private:
    struct Tap {
        std::size_t i0 = 0, i1 = 0;
        float w0 = 1.0f, w1 = 0.0f;
    };

    /// The two taps of each of the `out` samples of an axis upsampled from `in` grid samples
    /// (the convention documented on the class).
    static std::vector<Tap> axis_taps(std::size_t in, std::size_t out) {
        std::vector<Tap> taps(out);
        if (in == 1) return taps;  // a single grid sample: every pixel is that sample
        const double last = static_cast<double>(in - 1);
        const double scale = static_cast<double>(in) / static_cast<double>(out);
        for (std::size_t u = 0; u < out; ++u) {
            double x = (static_cast<double>(u) + 0.5) * scale - 0.5;
            if (x < 0.0) x = -x;
            if (x > last) x = 2.0 * last - x;
            const auto i0 = std::min(static_cast<std::size_t>(x), in - 1);
            const double lambda = x - static_cast<double>(i0);
            taps[u].i0 = i0;
            taps[u].i1 = std::min(i0 + 1, in - 1);
            taps[u].w0 = static_cast<float>(1.0 - lambda);
            taps[u].w1 = static_cast<float>(lambda);
        }
        return taps;
    }

    std::size_t height_, width_, s_;
    double p1_;
    std::size_t cell_h_ = 0, cell_w_ = 0;
    std::vector<Tap> rows_, cols_;
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
    /// tolerance, or check_every or batch_size 0.
    explicit Rise(const Model& model, RiseOptions options = {}) : model_(&model), options_(std::move(options)) {
        const char* where = "xai::Rise";
        detail::require(options_.num_masks >= 2, where, ": num_masks is ", options_.num_masks,
                        ", expected at least 2 (the standard error needs two masks)");
        detail::require(options_.grid_size >= 1, where, ": grid_size is 0, expected at least 1");
        detail::require(options_.keep_probability > 0.0 && options_.keep_probability <= 1.0, where,
                        ": keep_probability is ", options_.keep_probability, ", expected a value in (0, 1]");
        detail::require(std::isfinite(options_.tolerance) && options_.tolerance >= 0.0, where, ": tolerance is ",
                        options_.tolerance, ", expected a finite value ≥ 0 (0 turns early stopping off)");
        detail::require(options_.check_every >= 1, where, ": check_every is 0, expected at least 1 mask per block");
        detail::require(options_.batch_size >= 1, where, ": batch_size is 0, expected at least 1");
        const ImageShape shape = model_->input_shape();
        detail::require(options_.grid_size <= shape.height && options_.grid_size <= shape.width, where,
                        ": grid_size is ", options_.grid_size, ", larger than the model's input (", shape.height, "x",
                        shape.width, "); expected at most ", std::min(shape.height, shape.width));
    }

    /// The options the explainer was built with.
    const RiseOptions& options() const { return options_; }

    /// One map per image, for its target class (empty targets: the predicted class).
    RiseExplanation explain(const Batch& images, const Targets& targets = {}) const {
        const char* where = "xai::Rise::explain()";
        detail::require_explainable(*model_, images, where);
        const std::vector<std::size_t> classes =
            resolve_targets(targets, detail::checked_forward(*model_, images, where), where);
        const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
        RiseExplanation out;
        out.saliency = Maps::from_shape({n, h, w});
        out.standard_error = Maps::from_shape({n, h, w});
        out.classes = classes;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t cls[1] = {classes[i]};
            RiseClassMaps maps = run(image_at(images, i), cls, i, n, where);
            std::copy(maps.saliency.begin(), maps.saliency.end(), out.saliency.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            std::copy(maps.standard_error.begin(), maps.standard_error.end(),
                      out.standard_error.begin() + static_cast<std::ptrdiff_t>(i * h * w));
            out.masks_used.push_back(maps.masks_used);
            out.relative_standard_error.push_back(maps.relative_standard_error);
            out.converged.push_back(maps.converged);
        }
        return out;
    }

    /// One image (C×H×W); see explain(const Batch&, const Targets&).
    RiseExplanation explain(const Image& image, const Targets& targets = {}) const {
        return explain(as_batch(image), targets);
    }

    /// Maps of several classes of one image from the same masks; empty `classes` = every class.
    /// Memory: 16 bytes per class and pixel of running sums, on top of the returned maps.
    RiseClassMaps explain_classes(const Image& image, std::vector<std::size_t> classes = {}) const {
        const char* where = "xai::Rise::explain_classes()";
        detail::require_explainable(*model_, as_batch(image), where);
        const std::size_t k = model_->num_classes();
        if (classes.empty())
            for (std::size_t c = 0; c < k; ++c) classes.push_back(c);
        for (std::size_t c : classes)
            detail::require(c < k, where, ": class ", c, " is out of range, expected a class index below ", k);
        return run(image, classes, 0, 1, where);
    }

private:
    /// RISE for one image and a set of classes; `image_index`/`images` place it in the progress count.
    RiseClassMaps run(const Image& image, std::span<const std::size_t> classes, std::size_t image_index,
                      std::size_t images, const char* where) const {
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
        result.classes.assign(classes.begin(), classes.end());
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
                const Scores scores = detail::forward_class_scores(*model_, masked, options_.score, classes, where);
                moments.add(masks.data(), count, scores, options_.threads);
                done += count;
                detail::report(options_.progress, image_index * ceiling + done, total, "masks");
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
        result.saliency = Maps::from_shape({k, h, w});
        result.standard_error = Maps::from_shape({k, h, w});
        for (std::size_t i = 0; i < k * h * w; ++i) {
            const PixelEstimate e = estimate(m, i);
            result.saliency.data()[i] = static_cast<float>(e.mean);
            result.standard_error.data()[i] = static_cast<float>(e.standard_error);
        }
        result.masks_used = m.count();
        result.relative_standard_error = relative_standard_error(m);
    }

    const Model* model_;
    RiseOptions options_;
};

}  // namespace xai
