#pragma once
// Scenes: a Fashion-MNIST item at a random position and scale on a larger grey-level canvas,
// over clutter made of fragments of other items, with exact ground truth (the item's bounding
// box and pixel mask). The "scenes" built-in model is trained on them, and the localization
// metrics (pointing game, energy in the box) evaluate explanations against their ground truth.
//
// Scene `index` is drawn from Rng::stream(seed, index) alone, so it is the same whatever the
// thread count or the batch it is generated in. It shows item `index mod N` of the N source
// items (a set of N consecutive scenes uses every item once; scene index e·N + i is a fresh
// scene of item i for epoch e). Drawing order:
//   1. item size s uniform in [min_item_size, max_item_size]; the item's H×W frame is resized
//      bilinearly to s × round(s·W/H); its mask is the pixels whose value exceeds mask_threshold;
//   2. its position uniform over the positions where the frame fits the canvas; the bounding
//      box is the tight box of the mask (half-open [top, bottom) × [left, right));
//   3. fragments: their number uniform in [min_fragments, max_fragments]; each is a square
//      crop (side uniform in [min_fragment_size, max_fragment_size] source pixels) of another
//      item chosen uniformly among the N−1 others, redrawn (up to 10 times) until its mean value
//      reaches fragment_min_ink, scaled by the item's scale s/H, and placed uniformly among the
//      positions where it does not touch the bounding box grown by `margin` pixels (up to 20
//      tries, else dropped); fragments combine by maximum;
//   4. the item's mask pixels overwrite the canvas with the item's values (other frame pixels
//      are not drawn, so the drawn item is exactly the mask);
//   5. Gaussian noise of noise_stddev on every pixel, then clamping to [0, 1].
// Clutter never enters the grown box, and its fragments come from items of every class with the
// data set's frequencies, independently of the scene's label, so the label's evidence lies
// inside the box (in the mask, apart from the noise).
//
// A spurious cue (SpuriousCue, off by default) plants a shortcut for bias studies: after step 4,
// with probability `cue.probability` a small badge — a frame around a 3×3 code, one code per
// class (scene_cue_codes) — is drawn over everything at a position uniform among those where it
// stays clear of the grown box. With probability `cue.rate` its code is the scene's label;
// otherwise it is uniform over the ten codes, whatever the label. So rate = 1 makes the cue a
// perfect predictor, rate = 0 makes it independent of the class (P(code = label) = 1/10), and
// P(code = label) = rate + (1 − rate)/10 in general. The cue's draws come from their own stream,
// Rng::stream(seed ^ scene_cue_stream, index), so a scene with a cue is the scene without it
// (same item, clutter and noise) plus the badge, and disabling the cue reproduces the original
// generator bit for bit. The cue's pixels are returned as their own mask: object (the item's
// mask), cue and background partition the canvas, which the bias audit (xai/audit.hpp) needs.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/random.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// The spurious cue of a scene (see the header comment): a badge whose code correlates with the
/// class at a chosen rate. Off by default (probability 0).
struct SpuriousCue {
    double probability = 0.0;  ///< chance that a scene carries a cue, in [0, 1] (0 = never: the plain generator)
    double rate = 1.0;         ///< chance that the cue's code is the label's, in [0, 1]; else uniform over the codes
    std::size_t cell = 2;      ///< side of one code cell in pixels; the badge is (3·cell + 2) pixels square
    float value = 1.0f;        ///< value of the frame and of the code's set cells (unset cells are 0)
};

/// Number of cue codes: labels must be below it when a cue is drawn.
inline constexpr std::size_t scene_cue_classes = 10;

/// The 3×3 code of each class's cue badge, row-major, bit 8 = top-left cell. Pairwise Hamming
/// distance ≥ 3 (tested), so one wrong cell never turns one class's badge into another's.
inline constexpr std::array<std::uint16_t, scene_cue_classes> scene_cue_codes = {
    0b010'111'010,  // 0 plus
    0b101'010'101,  // 1 saltire
    0b111'000'111,  // 2 top and bottom rows
    0b101'101'101,  // 3 left and right columns
    0b000'010'000,  // 4 centre dot
    0b110'110'011,  // 5 two blocks
    0b001'011'111,  // 6 staircase
    0b100'100'111,  // 7 L
    0b111'010'010,  // 8 T
    0b110'011'000,  // 9 zigzag
};

/// XORed into the scene seed for the cue's own random stream (see the header comment).
inline constexpr std::uint64_t scene_cue_stream = 0x637565;  // "cue"

/// cue_class of a scene without a cue.
inline constexpr std::size_t scene_no_cue = std::numeric_limits<std::size_t>::max();

/// Parameters of the scene generator (see the header comment for how each is used).
struct SceneOptions {
    std::size_t canvas_size = 64;        ///< the canvas is canvas_size × canvas_size
    std::size_t min_item_size = 24;      ///< item height on the canvas, in pixels (source: 28)
    std::size_t max_item_size = 44;      ///< largest item height on the canvas, in pixels
    std::size_t min_fragments = 3;       ///< fewest clutter fragments per scene
    std::size_t max_fragments = 6;       ///< most clutter fragments per scene
    std::size_t min_fragment_size = 7;   ///< side of a fragment crop, in source pixels
    std::size_t max_fragment_size = 12;  ///< largest side of a fragment crop, in source pixels
    float fragment_min_ink = 0.15f;      ///< minimum mean value of a fragment crop
    std::size_t margin = 2;              ///< clutter-free pixels around the bounding box
    float mask_threshold = 0.1f;         ///< item pixels above it form the mask and are drawn
    float background = 0.0f;             ///< canvas value before clutter and noise
    float noise_stddev = 0.02f;          ///< Gaussian pixel noise (0 = none)
    std::uint64_t seed = 0;              ///< scene `index` is drawn from Rng::stream(seed, index)
    SpuriousCue cue = {};                ///< the spurious cue (off by default)
};

/// A half-open pixel rectangle [top, bottom) × [left, right).
struct SceneBox {
    ///@{
    /// An edge of the box, in pixels: rows [top, bottom), columns [left, right).
    std::size_t top = 0, left = 0, bottom = 0, right = 0;
    ///@}

    /// Equal when all four edges are equal.
    friend bool operator==(const SceneBox&, const SceneBox&) = default;
    /// True when pixel (row y, column x) lies inside the box.
    bool contains(std::size_t y, std::size_t x) const { return y >= top && y < bottom && x >= left && x < right; }
    std::size_t height() const { return bottom - top; }  ///< bottom − top
    std::size_t width() const { return right - left; }   ///< right − left
    std::size_t area() const { return height() * width(); }  ///< height · width pixels
};

/// One scene and its ground truth.
struct Scene {
    Image image;                  ///< 1 × S × S in [0, 1]
    std::size_t label = 0;        ///< the item's class
    std::size_t item_index = 0;   ///< which source item is shown
    SceneBox box;                 ///< tight bounding box of the mask
    xt::xtensor<bool, 2> mask;    ///< S × S: the item's pixels
    std::size_t cue_class = scene_no_cue;  ///< the class whose code the cue shows; scene_no_cue without a cue
    SceneBox cue_box;                      ///< the cue badge's pixels (empty without a cue)
    xt::xtensor<bool, 2> cue_mask;         ///< S × S: the cue's pixels (all false without a cue)
};

/// Many scenes, stacked.
struct SceneSet {
    Batch images;                          ///< N × 1 × S × S
    Labels labels;                         ///< the item's class, per scene
    std::vector<SceneBox> boxes;           ///< tight bounding box of each item's mask
    xt::xtensor<bool, 3> masks;            ///< N × S × S
    std::vector<std::size_t> item_indices; ///< which source item each scene shows
    std::vector<std::size_t> cue_classes;  ///< the class each cue shows (scene_no_cue: none)
    std::vector<SceneBox> cue_boxes;       ///< each cue's box (empty without a cue)
    xt::xtensor<bool, 3> cue_masks;        ///< N × S × S: the cues' pixels
};

namespace detail {

inline void require_scene_source(const Batch& items, const Labels& labels, const SceneOptions& o, const char* where) {
    require<shape_error>(items.shape(0) >= 2 && items.shape(1) == 1 && items.shape(2) > 0 && items.shape(3) > 0, where,
                         ": items have shape ", shape_string(items.shape()),
                         ", expected N×1×H×W grey-level images with N >= 2 (fragments come from other items)");
    require<shape_error>(labels.size() == items.shape(0), where, ": ", labels.size(), " labels for ", items.shape(0),
                         " items");
    require(o.min_item_size >= 1 && o.min_item_size <= o.max_item_size, where, ": item sizes [", o.min_item_size,
            ", ", o.max_item_size, "], expected 1 <= min_item_size <= max_item_size");
    const double aspect = static_cast<double>(items.shape(3)) / static_cast<double>(items.shape(2));
    require(o.max_item_size <= o.canvas_size &&
                static_cast<std::size_t>(std::lround(static_cast<double>(o.max_item_size) * aspect)) <= o.canvas_size,
            where, ": max_item_size ", o.max_item_size, " does not fit a canvas of ", o.canvas_size);
    require(o.min_fragments <= o.max_fragments, where, ": fragments [", o.min_fragments, ", ", o.max_fragments,
            "], expected min_fragments <= max_fragments");
    require(o.min_fragment_size >= 1 && o.min_fragment_size <= o.max_fragment_size &&
                o.max_fragment_size <= std::min(items.shape(2), items.shape(3)),
            where, ": fragment sizes [", o.min_fragment_size, ", ", o.max_fragment_size,
            "], expected 1 <= min <= max <= the item side (", std::min(items.shape(2), items.shape(3)), ")");
    require(std::isfinite(o.mask_threshold) && std::isfinite(o.background) && std::isfinite(o.noise_stddev) &&
                o.noise_stddev >= 0.0f && std::isfinite(o.fragment_min_ink),
            where, ": mask_threshold, background, noise_stddev and fragment_min_ink must be finite, noise_stddev >= 0");
    const SpuriousCue& c = o.cue;
    require(c.probability >= 0.0 && c.probability <= 1.0, where, ": cue.probability is ", c.probability,
            ", expected a probability in [0, 1]");
    require(c.rate >= 0.0 && c.rate <= 1.0, where, ": cue.rate is ", c.rate, ", expected a probability in [0, 1]");
    require(c.cell >= 1 && 3 * c.cell + 2 <= o.canvas_size, where, ": cue.cell is ", c.cell,
            ", expected a badge of 3·cell + 2 pixels that fits the canvas of ", o.canvas_size);
    require(std::isfinite(c.value), where, ": cue.value is ", c.value, ", expected a finite pixel value");
    if (c.probability > 0.0)
        for (std::size_t i = 0; i < labels.size(); ++i)
            require(labels[i] < scene_cue_classes, where, ": labels[", i, "] is ", labels[i], ", expected a class below ",
                    scene_cue_classes, " (the cue has one code per class)");
}

/// Uniform integer in [lo, hi].
inline std::size_t uniform_between(Rng& rng, std::size_t lo, std::size_t hi) {
    return lo + static_cast<std::size_t>(rng.uniform_index(hi - lo + 1));
}

/// Where a scene's cue went: the class of its code (scene_no_cue: none) and its box.
struct DrawnCue {
    std::size_t cue_class = scene_no_cue;
    SceneBox box;
};

/// Draws the cue of scene `index` (label `label`) over `canvas` (S×S), clear of the grown item
/// box [top, bottom) × [left, right), and marks its pixels in `cue_mask` (S×S).
inline DrawnCue draw_cue(std::size_t index, std::size_t label, const SceneOptions& o, std::size_t top, std::size_t left,
                         std::size_t bottom, std::size_t right, float* canvas, bool* cue_mask) {
    const std::size_t S = o.canvas_size, cell = o.cue.cell, side = 3 * cell + 2;
    std::fill(cue_mask, cue_mask + S * S, false);
    DrawnCue out;
    if (o.cue.probability <= 0.0) return out;
    Rng rng = Rng::stream(o.seed ^ scene_cue_stream, index);
    const bool present = rng.uniform() < o.cue.probability;
    const bool agrees = rng.uniform() < o.cue.rate;
    const std::size_t other = static_cast<std::size_t>(rng.uniform_index(scene_cue_classes));
    // Every position clear of the grown box, in raster order; one of them uniformly.
    auto clear = [&](std::size_t y, std::size_t x) { return y + side <= top || y >= bottom || x + side <= left || x >= right; };
    std::size_t positions = 0;
    for (std::size_t y = 0; y + side <= S; ++y)
        for (std::size_t x = 0; x + side <= S; ++x) positions += clear(y, x) ? 1 : 0;
    const std::size_t pick = positions > 0 ? static_cast<std::size_t>(rng.uniform_index(positions)) : 0;
    if (!present || positions == 0) return out;
    std::size_t seen = 0, py = 0, px = 0;
    for (std::size_t y = 0; y + side <= S && seen <= pick; ++y)
        for (std::size_t x = 0; x + side <= S && seen <= pick; ++x)
            if (clear(y, x) && seen++ == pick) py = y, px = x;
    out.cue_class = agrees ? label : other;
    out.box = {py, px, py + side, px + side};
    const std::uint16_t code = scene_cue_codes[out.cue_class];
    for (std::size_t y = 0; y < side; ++y)
        for (std::size_t x = 0; x < side; ++x) {
            const bool frame = y == 0 || x == 0 || y == side - 1 || x == side - 1;
            const std::size_t row = frame ? 0 : (y - 1) / cell, column = frame ? 0 : (x - 1) / cell;
            const bool set = frame || ((code >> (8 - 3 * row - column)) & 1u) != 0;
            canvas[(py + y) * S + px + x] = set ? o.cue.value : 0.0f;
            cue_mask[(py + y) * S + px + x] = true;
        }
    return out;
}

/// Draws scene `index` into `canvas` (S×S), `mask` (S×S) and `cue_mask` (S×S); returns the box,
/// the item index and the cue.
inline SceneBox draw_scene(const Batch& items, const Labels& labels, std::size_t index, const SceneOptions& o,
                           float* canvas, bool* mask, bool* cue_mask, std::size_t& item_index, DrawnCue& cue) {
    const std::size_t n = items.shape(0), H = items.shape(2), W = items.shape(3), S = o.canvas_size;
    const std::size_t frame = H * W;
    Rng rng = Rng::stream(o.seed, index);
    item_index = index % n;
    std::fill(canvas, canvas + S * S, o.background);
    std::fill(mask, mask + S * S, false);

    // 1–2. the item, its size, position, mask and tight box.
    const std::size_t h = uniform_between(rng, o.min_item_size, o.max_item_size);
    const std::size_t w = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(static_cast<double>(h) * W / H)));
    std::vector<float> item(h * w);
    resize_planes(items.data() + item_index * frame, 1, H, W, item.data(), h, w, Interpolation::bilinear);
    const std::size_t top = uniform_between(rng, 0, S - h), left = uniform_between(rng, 0, S - w);
    SceneBox box{S, S, 0, 0};
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            if (item[y * w + x] > o.mask_threshold) {
                mask[(top + y) * S + left + x] = true;
                box.top = std::min(box.top, top + y);
                box.left = std::min(box.left, left + x);
                box.bottom = std::max(box.bottom, top + y + 1);
                box.right = std::max(box.right, left + x + 1);
            }
    if (box.bottom == 0) box = {top, left, top, left};  // an all-dark item: an empty box at its corner

    // 3. clutter outside the grown box.
    const double scale = static_cast<double>(h) / static_cast<double>(H);
    const std::size_t fragments = uniform_between(rng, o.min_fragments, o.max_fragments);
    const std::size_t grown_top = box.top > o.margin ? box.top - o.margin : 0;
    const std::size_t grown_left = box.left > o.margin ? box.left - o.margin : 0;
    const std::size_t grown_bottom = std::min(S, box.bottom + o.margin), grown_right = std::min(S, box.right + o.margin);
    std::vector<float> crop, piece;
    for (std::size_t f = 0; f < fragments; ++f) {
        std::size_t other = static_cast<std::size_t>(rng.uniform_index(n - 1));
        if (other >= item_index) ++other;
        const std::size_t side = uniform_between(rng, o.min_fragment_size, o.max_fragment_size);
        crop.resize(side * side);
        const float* source = items.data() + other * frame;
        for (int attempt = 0; attempt < 10; ++attempt) {
            const std::size_t cy = uniform_between(rng, 0, H - side), cx = uniform_between(rng, 0, W - side);
            double ink = 0.0;
            for (std::size_t y = 0; y < side; ++y)
                for (std::size_t x = 0; x < side; ++x) ink += crop[y * side + x] = source[(cy + y) * W + cx + x];
            if (ink / static_cast<double>(side * side) >= o.fragment_min_ink) break;
        }
        const std::size_t ps = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(static_cast<double>(side) * scale)));
        if (ps > S) continue;
        piece.resize(ps * ps);
        resize_planes(crop.data(), 1, side, side, piece.data(), ps, ps, Interpolation::bilinear);
        for (int attempt = 0; attempt < 20; ++attempt) {
            const std::size_t py = uniform_between(rng, 0, S - ps), px = uniform_between(rng, 0, S - ps);
            const bool clear = py + ps <= grown_top || py >= grown_bottom || px + ps <= grown_left || px >= grown_right;
            if (!clear) continue;
            for (std::size_t y = 0; y < ps; ++y)
                for (std::size_t x = 0; x < ps; ++x) {
                    float& c = canvas[(py + y) * S + px + x];
                    c = std::max(c, piece[y * ps + x]);
                }
            break;
        }
    }

    // 4. the item over everything.
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            if (mask[(top + y) * S + left + x]) canvas[(top + y) * S + left + x] = item[y * w + x];

    // The cue, over everything but clear of the grown box (its own random stream).
    cue = draw_cue(index, labels[item_index], o, grown_top, grown_left, grown_bottom, grown_right, canvas, cue_mask);

    // 5. noise and clamping.
    for (std::size_t i = 0; i < S * S; ++i) {
        float v = canvas[i];
        if (o.noise_stddev > 0.0f) v += static_cast<float>(rng.normal() * o.noise_stddev);
        canvas[i] = std::clamp(v, 0.0f, 1.0f);
    }
    return box;
}

}  // namespace detail

/// Scene `index` made from `items` (N×1×H×W in [0, 1], N >= 2) and their `labels`.
inline Scene make_scene(const Batch& items, const Labels& labels, std::size_t index, const SceneOptions& options = {}) {
    detail::require_scene_source(items, labels, options, "xai::make_scene()");
    const std::size_t S = options.canvas_size;
    Scene scene{Image::from_shape({1, S, S}), 0, 0, {}, xt::xtensor<bool, 2>::from_shape({S, S}), scene_no_cue, {},
                xt::xtensor<bool, 2>::from_shape({S, S})};
    detail::DrawnCue cue;
    scene.box = detail::draw_scene(items, labels, index, options, scene.image.data(), scene.mask.data(),
                                   scene.cue_mask.data(), scene.item_index, cue);
    scene.label = labels[scene.item_index];
    scene.cue_class = cue.cue_class;
    scene.cue_box = cue.box;
    return scene;
}

/// The scenes of the given indices (see make_scene), generated on `threads` threads (0 = all);
/// identical for any thread count. A training loop passes its shuffled example indices.
inline SceneSet make_scenes(const Batch& items, const Labels& labels, const std::vector<std::size_t>& indices,
                            const SceneOptions& options = {}, std::size_t threads = 1) {
    detail::require_scene_source(items, labels, options, "xai::make_scenes()");
    detail::require(!indices.empty(), "xai::make_scenes(): no scene indices, expected at least one");
    const std::size_t S = options.canvas_size, count = indices.size();
    SceneSet set{Batch::from_shape({count, 1, S, S}), Labels(count), std::vector<SceneBox>(count),
                 xt::xtensor<bool, 3>::from_shape({count, S, S}), std::vector<std::size_t>(count),
                 std::vector<std::size_t>(count), std::vector<SceneBox>(count),
                 xt::xtensor<bool, 3>::from_shape({count, S, S})};
    parallel_for(count, threads, [&](std::size_t i) {
        detail::DrawnCue cue;
        set.boxes[i] = detail::draw_scene(items, labels, indices[i], options, set.images.data() + i * S * S,
                                          set.masks.data() + i * S * S, set.cue_masks.data() + i * S * S,
                                          set.item_indices[i], cue);
        set.labels[i] = labels[set.item_indices[i]];
        set.cue_classes[i] = cue.cue_class;
        set.cue_boxes[i] = cue.box;
    });
    return set;
}

/// Scenes first_index, …, first_index + count − 1 (the held-out set of N test items is
/// make_scenes(test.images, test.labels, 0, N, options)).
inline SceneSet make_scenes(const Batch& items, const Labels& labels, std::size_t first_index, std::size_t count,
                            const SceneOptions& options = {}, std::size_t threads = 1) {
    std::vector<std::size_t> indices(count);
    for (std::size_t i = 0; i < count; ++i) indices[i] = first_index + i;
    return make_scenes(items, labels, indices, options, threads);
}

}  // namespace xai
