#pragma once
// The random masks of RISE (Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for
// Explanation of Black-box Models", BMVC 2018, arXiv:1806.07421), as the paper's Algorithm and
// the authors' generate_masks (github.com/eclique/RISE, explanations.py) make them:
//   1. an s×s grid of independent bits, each 1 with probability p1;
//   2. upsampled bilinearly to (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉ — skimage.transform.resize with
//      order=1, mode='reflect', anti_aliasing=False (see RiseMaskGenerator for its sampling
//      convention, which differs from PyTorch's at the border);
//   3. cropped to H×W at a shift drawn uniformly from [0, ⌈H/s⌉) × [0, ⌈W/s⌉).
// Mask i is a function of (seed, i) alone (Rng::stream(seed, i)), so the explainer
// (explain/rise.hpp) can generate masks batch by batch, on any thread, and store none.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/error.hpp"
#include "xai/core/random.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

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
        constexpr const char* where = "xai::RiseMaskGenerator::RiseMaskGenerator()";
        detail::require(grid_size >= 1, where, ": grid_size is 0, expected at least 1");
        detail::require(grid_size <= height && grid_size <= width, where, ": grid_size is ", grid_size,
                        ", larger than the image (", height, "x", width, "); expected at most min(H, W) = ",
                        std::min(height, width));
        detail::require(keep_probability > 0.0 && keep_probability <= 1.0, where, ": keep_probability is ",
                        keep_probability, ", expected a value in (0, 1]");
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

    /// Member `member` (0 or 1) of antithetic pair `pair` under `seed`: member 0 is draw(seed,
    /// pair) — cell c kept when its uniform u_c < p1 — and member 1 keeps cell c when
    /// 1 − u_c < p1, with the same shift. Each member alone is distributed as an ordinary draw
    /// (1 − u is uniform too); for p1 = ½ member 1 is member 0's complement, so the two masks
    /// add up to 1 at every pixel (docs/methods/rise.md, *Variance reduction*).
    Draw draw_antithetic(std::uint64_t seed, std::uint64_t pair, unsigned member) const {
        if (member == 0) return draw(seed, pair);
        Rng rng = Rng::stream(seed, pair);
        Draw d;
        d.grid.resize(s_ * s_);
        for (auto& bit : d.grid) bit = 1.0 - rng.uniform() < p1_ ? 1 : 0;
        d.shift_y = static_cast<std::size_t>(rng.uniform_index(cell_h_));
        d.shift_x = static_cast<std::size_t>(rng.uniform_index(cell_w_));
        return d;
    }

    /// The uniforms a draw takes: one per cell, then one for each shift (s² + 2).
    std::size_t uniforms_per_draw() const { return s_ * s_ + 2; }

    /// A draw from given uniforms in [0, 1) (uniforms_per_draw() of them, e.g. a quasi-random
    /// point): cell c kept when u_c < p1, row shift ⌊u_{s²} · ⌈H/s⌉⌋, column shift
    /// ⌊u_{s²+1} · ⌈W/s⌉⌋. Uniform u give exactly the distribution of draw().
    template <class Uniform>
    Draw draw_from(Uniform&& uniform) const {
        Draw d;
        d.grid.resize(s_ * s_);
        for (std::size_t c = 0; c < s_ * s_; ++c) d.grid[c] = uniform(c) < p1_ ? 1 : 0;
        d.shift_y = std::min(cell_h_ - 1, static_cast<std::size_t>(uniform(s_ * s_) * static_cast<double>(cell_h_)));
        d.shift_x = std::min(cell_w_ - 1, static_cast<std::size_t>(uniform(s_ * s_ + 1) * static_cast<double>(cell_w_)));
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

}  // namespace xai
