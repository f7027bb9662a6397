#pragma once
// A read-only N×C×h×w view of a layer's activations (or gradients), whatever their layout.
//
// N×C×h×w activations are viewed in place, without a copy. Token-shaped N×T×D activations
// are folded once into N×D×h×w (TokenGrid: drop the prefix tokens, tokens row-major into the
// grid, features become channels), so every CAM method serves vision transformers unchanged.

#include <cmath>
#include <cstddef>
#include <tuple>
#include <utility>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam_options.hpp"

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

}  // namespace xai::detail
