#pragma once
// How a layer's activations (or gradients) are laid out, whatever their rank. Internals of the
// CAM family.
//
// ChannelMaps: a read-only N×C×h×w view. N×C×h×w activations are viewed in place, without a
// copy. Token-shaped N×T×D activations are folded once into N×D×h×w (TokenGrid: drop the
// prefix tokens, tokens row-major into the grid, features become channels), so every CAM
// method serves vision transformers unchanged.
// ChannelLayout: where channel k lives in the activations as the model returned them, for
// Ablation-CAM, which hands modified copies back to the model in its own layout.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <tuple>
#include <utility>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/options.hpp"

namespace xai::detail {

/// The h×w grid that T tokens fold into under `grid`; throws shape_error when they do not.
inline std::pair<std::size_t, std::size_t> token_grid_extent(std::size_t tokens, const TokenGrid& grid,
                                                            const char* where) {
    require<shape_error>(tokens > grid.prefix_tokens, where, ": the layer has ", tokens, " tokens and tokens.prefix_tokens is ",
                         grid.prefix_tokens, ", expected more tokens than prefix tokens");
    const std::size_t spatial = tokens - grid.prefix_tokens;
    std::size_t h = grid.height, w = grid.width;
    if (h == 0 && w == 0) {
        h = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(spatial))));
        w = h;
    } else if (h == 0) {
        h = spatial / w;
    } else if (w == 0) {
        w = spatial / h;
    }
    require<shape_error>(h * w == spatial && h > 0, where, ": ", tokens, " tokens minus ", grid.prefix_tokens,
                         " prefix tokens = ", spatial, " do not fold into a grid of tokens.height=", grid.height,
                         ", tokens.width=", grid.width, " (0 = inferred), expected height × width = ", spatial);
    return {h, w};
}

/// A read-only N×C×h×w view of activations or gradients (see the header comment).
class ChannelMaps {
public:
    /// An N×C×h×w buffer viewed in place; it must outlive the view.
    ChannelMaps(const float* values, std::size_t n, std::size_t c, std::size_t h, std::size_t w)
        : source_(values), n_(n), c_(c), h_(h), w_(w) {}

    /// `values` must outlive the view when it is N×C×h×w (it is viewed in place).
    ChannelMaps(const Activations& values, const TokenGrid& grid, const char* where) {
        if (values.dimension() == 4) {
            source_ = values.data();
            n_ = values.shape(0);
            c_ = values.shape(1);
            h_ = values.shape(2);
            w_ = values.shape(3);
            return;
        }
        // Rank 3: N×T×D tokens (checked by the caller).
        n_ = values.shape(0);
        const std::size_t tokens = values.shape(1);
        c_ = values.shape(2);
        std::tie(h_, w_) = token_grid_extent(tokens, grid, where);
        folded_ = Activations::from_shape({n_, c_, h_, w_});
        const std::size_t pixels = h_ * w_;
        for (std::size_t i = 0; i < n_; ++i) {
            const float* src = values.data() + (i * tokens + grid.prefix_tokens) * c_;
            float* dst = folded_.data() + i * c_ * pixels;
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c_; ++k) dst[k * pixels + p] = src[p * c_ + k];
        }
        source_ = folded_.data();
    }

    // The view may point into folded_: copying or moving would leave it dangling.
    ChannelMaps(const ChannelMaps&) = delete;
    ChannelMaps& operator=(const ChannelMaps&) = delete;

    std::size_t images() const { return n_; }
    std::size_t channels() const { return c_; }
    std::size_t height() const { return h_; }
    std::size_t width() const { return w_; }
    std::size_t pixels() const { return h_ * w_; }
    /// The C×h×w block of image i.
    const float* image(std::size_t i) const { return source_ + i * c_ * h_ * w_; }

private:
    const float* source_ = nullptr;
    Activations folded_;
    std::size_t n_ = 0, c_ = 0, h_ = 0, w_ = 0;
};

/// Where channel k lives in one image's activations: `count` runs of `run` floats, `stride`
/// apart, starting at `offset`. N×C×h×w: one run (the plane). N×T×D: one value per token.
struct ChannelLayout {
    std::size_t image_size = 0, channels = 0, run = 0, stride = 0, count = 0;
    std::size_t offset(std::size_t k) const { return k * run; }
};

/// The layout of N×C×h×w or N×T×D activations (checked by the caller).
inline ChannelLayout channel_layout(const Activations& a) {
    ChannelLayout l;
    l.image_size = a.size() / a.shape(0);
    if (a.dimension() == 4) {
        l.channels = a.shape(1);
        l.run = a.shape(2) * a.shape(3);
        l.stride = l.image_size;
        l.count = 1;
    } else {
        l.channels = a.shape(2);
        l.run = 1;
        l.stride = l.channels;
        l.count = a.shape(1);
    }
    return l;
}

/// Sets every value of channel k of one image to `value`.
inline void fill_channel(float* image, const ChannelLayout& l, std::size_t k, float value) {
    for (std::size_t r = 0; r < l.count; ++r) std::fill_n(image + l.offset(k) + r * l.stride, l.run, value);
}

/// True when every value of channel k of one image is zero.
inline bool channel_is_zero(const float* image, const ChannelLayout& l, std::size_t k) {
    for (std::size_t r = 0; r < l.count; ++r) {
        const float* run = image + l.offset(k) + r * l.stride;
        if (std::any_of(run, run + l.run, [](float v) { return v != 0.0f; })) return false;
    }
    return true;
}

}  // namespace xai::detail
