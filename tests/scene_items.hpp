// Source items for the scenes generator's tests (test_scenes.cpp, test_bias.cpp): plain discs
// whose size and value identify the item, so a test can tell which item a scene shows.
#pragma once

#include <cmath>
#include <cstddef>

#include "xai/core/tensor.hpp"

namespace toy {

/// n items of 1×28×28: item i is a disc of radius 6 + (i mod 7) centred at (13.5, 13.5), of value
/// 0.3 + step·i (keep 0.3 + step·(n − 1) ≤ 1).
inline xai::Batch disc_items(std::size_t n, float step) {
    xai::Batch items = xt::zeros<float>({n, std::size_t{1}, std::size_t{28}, std::size_t{28}});
    for (std::size_t i = 0; i < n; ++i) {
        const double r = 6.0 + static_cast<double>(i % 7);
        for (std::size_t y = 0; y < 28; ++y)
            for (std::size_t x = 0; x < 28; ++x)
                if (std::hypot(static_cast<double>(y) - 13.5, static_cast<double>(x) - 13.5) < r)
                    items(i, 0, y, x) = 0.3f + step * static_cast<float>(i);
    }
    return items;
}

}  // namespace toy
