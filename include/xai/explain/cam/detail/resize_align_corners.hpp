#pragma once
// Bilinear resizing with PyTorch's align_corners=True, the convention of Score-CAM's masks in
// pytorch-grad-cam (torch.nn.UpsamplingBilinear2d) and of FullGrad's bias-gradient maps in the
// authors' code (F.interpolate(..., align_corners=True)); the rest of the library resizes with
// align_corners=False (image/resize.hpp).

#include <algorithm>
#include <cstddef>
#include <utility>

namespace xai::detail {

/// Bilinear resizing of `planes` in_h×in_w planes to out_h×out_w with align_corners=True
/// (torch.nn.UpsamplingBilinear2d): output o reads source o·(in − 1)/(out − 1) (0 when out = 1).
inline void resize_planes_align_corners(const float* src, std::size_t planes, std::size_t in_h, std::size_t in_w,
                                        float* dst, std::size_t out_h, std::size_t out_w) {
    const auto source = [](std::size_t o, std::size_t in, std::size_t out) {
        const double x = out > 1 ? static_cast<double>(o) * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
        const std::size_t first = std::min(static_cast<std::size_t>(x), in - 1);
        return std::pair<std::size_t, double>(first, x - static_cast<double>(first));
    };
    for (std::size_t c = 0; c < planes; ++c) {
        const float* in = src + c * in_h * in_w;
        float* out = dst + c * out_h * out_w;
        for (std::size_t y = 0; y < out_h; ++y) {
            const auto [y0, fy] = source(y, in_h, out_h);
            const std::size_t y1 = std::min(y0 + 1, in_h - 1);
            for (std::size_t x = 0; x < out_w; ++x) {
                const auto [x0, fx] = source(x, in_w, out_w);
                const std::size_t x1 = std::min(x0 + 1, in_w - 1);
                const double top = (1 - fx) * in[y0 * in_w + x0] + fx * in[y0 * in_w + x1];
                const double bottom = (1 - fx) * in[y1 * in_w + x0] + fx * in[y1 * in_w + x1];
                out[y * out_w + x] = static_cast<float>((1 - fy) * top + fy * bottom);
            }
        }
    }
}

}  // namespace xai::detail
