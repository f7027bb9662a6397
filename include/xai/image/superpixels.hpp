#pragma once
// Superpixels: every segmentation algorithm of xai and the concept an explainer's segmentation
// policy satisfies. See docs/superpixels.md for pictures and timings.
//
//   slic(image, SlicOptions)                  Achanta et al. 2012 (k-means in CIELAB + position)
//   quickshift(image, QuickshiftOptions)      Vedaldi & Soatto 2008 (mode seeking; lime's default)
//   felzenszwalb(image, FelzenszwalbOptions)  Felzenszwalb & Huttenlocher 2004 (graph merging)
//   grid_segments(image, GridOptions)         a regular grid
// Each returns a Segmentation (image/segments.hpp): H×W std::int32_t labels, contiguous 0..n−1.

#include <concepts>

#include "xai/core/tensor.hpp"
#include "xai/image/felzenszwalb.hpp"
#include "xai/image/grid_segments.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/segments.hpp"
#include "xai/image/slic.hpp"

namespace xai {

/// A segmentation policy: a const callable from a C×H×W image to a Segmentation
/// (Slic, Quickshift, Felzenszwalb, GridSegmenter, or any lambda / std::function of that shape).
template <class S>
concept SegmentationAlgorithm = requires(const S& segmenter, const Image& image) {
    { segmenter(image) } -> std::convertible_to<Segmentation>;
};

}  // namespace xai
