#pragma once
// ⌈a / b⌉ for sizes (b > 0), without the overflow of the usual (a + b − 1) / b: with a batch
// size of SIZE_MAX ("as large as possible") that sum wraps, the quotient becomes 0, and a loop
// over chunks does nothing — Score-CAM returned all-zero maps (found by fuzz_explainer_options).

#include <cstddef>

namespace xai::detail {

/// ⌈a / b⌉ for b > 0, exact for every a and b.
constexpr std::size_t ceil_div(std::size_t a, std::size_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace xai::detail
