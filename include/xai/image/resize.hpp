#pragma once
// Resizing of maps, images and batches: nearest, bilinear and bicubic.
//
// Conventions follow PyTorch's F.interpolate with align_corners=False (pixel centres are at
// half-integer coordinates), so a map upsampled here equals the one the Python tools show:
//   scale              r = in/out, computed in float as PyTorch does (area_pixel_compute_scale)
//   source coordinate  s = (d + 0.5) · r − 0.5, in float
//   nearest   index ⌊d · r⌋ in float (PyTorch mode="nearest", the legacy OpenCV INTER_NEAREST
//             rule), clamped to in−1. Float matters here: for in=10, out=6, d=3 the exact
//             product is 5 but PyTorch's float product is 4.9999999, so it picks index 4.
//   bilinear  s clamped below at 0; neighbours ⌊s⌋ and min(⌊s⌋+1, in−1), weight s − ⌊s⌋. This
//             equals OpenCV's INTER_LINEAR on float data. No antialiasing when downsampling
//             (as PyTorch's default antialias=False).
//   bicubic   Keys' cubic convolution with A = −0.75 (PyTorch, OpenCV), s not clamped, the four
//             taps ⌊s⌋−1 … ⌊s⌋+2 clamped to the border.
// Resizing is separable: the weights of each output column and row are computed once per call.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// How resize() samples, with PyTorch's align_corners=False conventions (header comment):
/// `nearest` as PyTorch mode="nearest", `bilinear` as PyTorch and OpenCV without antialiasing,
/// `bicubic` Keys' cubic convolution with A = −0.75 (PyTorch, OpenCV).
enum class Interpolation { nearest, bilinear, bicubic };

/// The method's name: "nearest", "bilinear" or "bicubic".
inline std::string_view to_string(Interpolation method) {
    switch (method) {
        case Interpolation::nearest: return "nearest";
        case Interpolation::bilinear: return "bilinear";
        case Interpolation::bicubic: return "bicubic";
    }
    return "unknown";
}

namespace detail {

/// The taps of one output coordinate along one axis: up to four source indices and weights.
struct ResizeTaps {
    std::array<std::size_t, 4> index{};
    std::array<float, 4> weight{};
    std::size_t count = 0;
};

inline float cubic_weight(float x) {
    constexpr float a = -0.75f;
    x = std::abs(x);
    if (x <= 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
    if (x < 2.0f) return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
    return 0.0f;
}

/// The taps for every output coordinate of an axis resized from `in` to `out` samples.
inline std::vector<ResizeTaps> resize_taps(std::size_t in, std::size_t out, Interpolation method) {
    std::vector<ResizeTaps> taps(out);
    // float on purpose: PyTorch computes the scale and the source coordinates in float for
    // float tensors, and nearest-neighbour indices depend on that rounding.
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    const auto last = static_cast<std::ptrdiff_t>(in) - 1;
    for (std::size_t d = 0; d < out; ++d) {
        ResizeTaps& t = taps[d];
        if (method == Interpolation::nearest) {
            const float s = std::floor(static_cast<float>(d) * scale);
            t.index[0] = std::min(static_cast<std::size_t>(s), in - 1);
            t.weight[0] = 1.0f;
            t.count = 1;
        } else if (method == Interpolation::bilinear) {
            const float s = std::max(0.0f, scale * (static_cast<float>(d) + 0.5f) - 0.5f);
            const auto i0 = std::min(static_cast<std::size_t>(s), in - 1);
            const float lambda = std::clamp(s - static_cast<float>(i0), 0.0f, 1.0f);
            t.index[0] = i0;
            t.index[1] = std::min(i0 + 1, in - 1);
            t.weight[0] = 1.0f - lambda;
            t.weight[1] = lambda;
            t.count = 2;
        } else {
            const float s = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
            const float floor_s = std::floor(s);
            const float f = s - floor_s;
            const auto base = static_cast<std::ptrdiff_t>(floor_s);
            for (std::ptrdiff_t k = 0; k < 4; ++k) {
                t.index[static_cast<std::size_t>(k)] =
                    static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(base - 1 + k, 0, last));
            }
            t.weight = {cubic_weight(f + 1.0f), cubic_weight(f), cubic_weight(1.0f - f), cubic_weight(2.0f - f)};
            t.count = 4;
        }
    }
    return taps;
}

/// a·b + c rounded the same way at every call site. With FMA hardware (FP_FAST_FMAF) it is always
/// one fused operation; without it the compiler has no fused instruction to contract into. Left
/// to -ffp-contract=fast, GCC fuses some of these sums and not others depending on how a call
/// was inlined, so a map resized alone and the same map resized as a plane of an image differed in the
/// last bit.
inline float multiply_add(float a, float b, float c) {
#ifdef FP_FAST_FMAF
    return std::fma(a, b, c);
#else
    return a * b + c;
#endif
}

/// Resizes `planes` consecutive H×W planes from src to dst (out_h×out_w each).
inline void resize_planes(const float* src, std::size_t planes, std::size_t in_h, std::size_t in_w, float* dst,
                          std::size_t out_h, std::size_t out_w, Interpolation method) {
    const std::vector<ResizeTaps> rows = resize_taps(in_h, out_h, method);
    const std::vector<ResizeTaps> cols = resize_taps(in_w, out_w, method);
    // Horizontal pass first: every source row resized to out_w columns, then rows are blended.
    std::vector<float> horizontal(in_h * out_w);
    for (std::size_t p = 0; p < planes; ++p) {
        const float* plane = src + p * in_h * in_w;
        for (std::size_t y = 0; y < in_h; ++y) {
            const float* row = plane + y * in_w;
            float* h_row = horizontal.data() + y * out_w;
            for (std::size_t x = 0; x < out_w; ++x) {
                const ResizeTaps& t = cols[x];
                float v = 0.0f;
                for (std::size_t k = 0; k < t.count; ++k) v = multiply_add(t.weight[k], row[t.index[k]], v);
                h_row[x] = v;
            }
        }
        float* out = dst + p * out_h * out_w;
        for (std::size_t y = 0; y < out_h; ++y) {
            const ResizeTaps& t = rows[y];
            float* out_row = out + y * out_w;
            const float* r0 = horizontal.data() + t.index[0] * out_w;
            const float w0 = t.weight[0];
            for (std::size_t x = 0; x < out_w; ++x) out_row[x] = w0 * r0[x];
            for (std::size_t k = 1; k < t.count; ++k) {
                const float* rk = horizontal.data() + t.index[k] * out_w;
                const float wk = t.weight[k];
                for (std::size_t x = 0; x < out_w; ++x) out_row[x] = multiply_add(wk, rk[x], out_row[x]);
            }
        }
    }
}

template <class Tensor>
void require_resizable(const Tensor& input, std::size_t height, std::size_t width, const char* where) {
    require<shape_error>(input.size() > 0, where, ": the input is empty (shape ", shape_string(input.shape()),
                         "), expected a non-empty tensor");
    require(height > 0 && width > 0, where, ": the output size is ", height, "x", width,
            ", expected a height and width of at least 1");
    // The output's value count, checked before it is allocated: a product that wraps around
    // size_t would allocate a small buffer and write past it.
    constexpr std::size_t max_values = std::size_t{1} << 40;  // 4 TiB of floats: beyond any memory
    const std::size_t rank = input.shape().size();
    const std::size_t planes = input.size() / (input.shape(rank - 2) * input.shape(rank - 1));
    require(height <= max_values / width && planes <= max_values / (height * width), where, ": the output size ",
            height, "x", width, " (", planes, " planes) is too large, expected at most ", max_values, " values");
}

}  // namespace detail

/// A map resized to height×width.
inline Map resize(const Map& map, std::size_t height, std::size_t width, Interpolation method = Interpolation::bilinear) {
    detail::require_resizable(map, height, width, "xai::resize(Map)");
    Map out = Map::from_shape({height, width});
    detail::resize_planes(map.data(), 1, map.shape(0), map.shape(1), out.data(), height, width, method);
    return out;
}

/// Every plane of a rank-3 tensor resized to height×width: the channels of a C×H×W image,
/// or the maps of an N×H×W stack (Image and Maps are the same type).
inline Image resize(const Image& image, std::size_t height, std::size_t width, Interpolation method = Interpolation::bilinear) {
    detail::require_resizable(image, height, width, "xai::resize(rank-3)");
    Image out = Image::from_shape({image.shape(0), height, width});
    detail::resize_planes(image.data(), image.shape(0), image.shape(1), image.shape(2), out.data(), height, width,
                          method);
    return out;
}

/// Every channel of every image of an N×C×H×W batch resized to height×width.
inline Batch resize(const Batch& batch, std::size_t height, std::size_t width, Interpolation method = Interpolation::bilinear) {
    detail::require_resizable(batch, height, width, "xai::resize(Batch)");
    Batch out = Batch::from_shape({batch.shape(0), batch.shape(1), height, width});
    detail::resize_planes(batch.data(), batch.shape(0) * batch.shape(1), batch.shape(2), batch.shape(3), out.data(),
                          height, width, method);
    return out;
}

}  // namespace xai
