#pragma once
// Antialiased bilinear resizing: what torchvision's Resize does to a PIL image (Pillow's
// ImagingResample with the BILINEAR filter, libImaging/Resample.c) and what PyTorch computes
// with F.interpolate(mode="bilinear", antialias=True, align_corners=False)
// (aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_indices_weights_aa).
//
// Along each axis (in → out pixels), with scale r = in / out:
//   support  σ = r when shrinking (r ≥ 1), else 1: the triangle filter is stretched over r input
//            pixels, so every input pixel contributes (no aliasing); enlarging is plain bilinear
//   centre   c_d = r · (d + 0.5)   (pixel centres at half-integers, align_corners=False)
//   taps     j from j_min = max(⌊c_d − σ + 0.5⌋, 0) to j_max = min(⌊c_d + σ + 0.5⌋, in) − 1
//   weight   w_j = tri((j − c_d + 0.5) / max(r, 1)),  tri(t) = max(0, 1 − |t|),
//            divided by Σ_j w_j (so a constant image stays constant, also at the borders)
// Separable: rows first, then columns, each output value a weighted sum in float.
//
// Pillow works on 8-bit samples with fixed-point weights and rounds after each pass; this works
// in float like PyTorch, so it equals F.interpolate(..., antialias=True) to float rounding and
// Pillow to within its 8-bit rounding (docs/image.md records the comparison).
// xai::resize (image/resize.hpp) is the non-antialiased resize of cv2.resize and
// F.interpolate's default, which pytorch-grad-cam's pipeline uses.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/resize.hpp"

namespace xai {

namespace detail {

/// The taps of one output coordinate of an antialiased axis: the first input index and the
/// normalized weights of consecutive inputs from it.
struct AntialiasTaps {
    std::size_t first = 0;
    std::vector<float> weight;
};

/// The taps of every output coordinate along an axis of `in` pixels resized to `out`.
inline std::vector<AntialiasTaps> antialias_taps(std::size_t in, std::size_t out) {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    const float support = scale >= 1.0f ? scale : 1.0f;
    const float inverse = scale >= 1.0f ? 1.0f / scale : 1.0f;
    std::vector<AntialiasTaps> taps(out);
    for (std::size_t d = 0; d < out; ++d) {
        const float centre = scale * (static_cast<float>(d) + 0.5f);
        const auto lo = static_cast<long long>(centre - support + 0.5f);
        const auto hi = static_cast<long long>(centre + support + 0.5f);
        const std::size_t first = static_cast<std::size_t>(std::max(lo, 0LL));
        const std::size_t last = std::min(static_cast<std::size_t>(std::max(hi, 0LL)), in);  // one past
        AntialiasTaps& t = taps[d];
        t.first = first;
        float total = 0.0f;
        for (std::size_t j = first; j < last; ++j) {
            const float x = std::abs((static_cast<float>(j) - centre + 0.5f) * inverse);
            const float w = x < 1.0f ? 1.0f - x : 0.0f;
            t.weight.push_back(w);
            total += w;
        }
        if (total > 0.0f)
            for (float& w : t.weight) w /= total;
    }
    return taps;
}

}  // namespace detail

/// Every channel of a C×H×W image resized to height×width with the antialiased bilinear
/// filter of Pillow and of PyTorch's antialias=True (see the header comment). Enlarging is
/// bilinear; shrinking averages every input pixel under the stretched triangle.
inline Image resize_antialiased(const Image& image, std::size_t height, std::size_t width) {
    detail::require_resizable(image, height, width, "xai::resize_antialiased()");
    detail::require_finite(image, "xai::resize_antialiased(): image");
    const std::size_t channels = image.shape(0), in_h = image.shape(1), in_w = image.shape(2);
    const std::vector<detail::AntialiasTaps> columns = detail::antialias_taps(in_w, width);
    const std::vector<detail::AntialiasTaps> rows = detail::antialias_taps(in_h, height);
    std::vector<float> horizontal(in_h * width);
    Image out = Image::from_shape({channels, height, width});
    for (std::size_t c = 0; c < channels; ++c) {
        const float* src = image.data() + c * in_h * in_w;
        for (std::size_t y = 0; y < in_h; ++y) {
            const float* row = src + y * in_w;
            float* dst = horizontal.data() + y * width;
            for (std::size_t x = 0; x < width; ++x) {
                const detail::AntialiasTaps& t = columns[x];
                float sum = 0.0f;
                for (std::size_t k = 0; k < t.weight.size(); ++k) sum += t.weight[k] * row[t.first + k];
                dst[x] = sum;
            }
        }
        float* dst = out.data() + c * height * width;
        for (std::size_t y = 0; y < height; ++y) {
            const detail::AntialiasTaps& t = rows[y];
            float* out_row = dst + y * width;
            std::fill(out_row, out_row + width, 0.0f);
            for (std::size_t k = 0; k < t.weight.size(); ++k) {
                const float w = t.weight[k];
                const float* in_row = horizontal.data() + (t.first + k) * width;
                for (std::size_t x = 0; x < width; ++x) out_row[x] += w * in_row[x];
            }
        }
    }
    return out;
}

}  // namespace xai
