#pragma once
// Gaussian blur, as the RISE authors blur images for the insertion metric and for blurred
// baselines (Petsiuk et al. 2018, "RISE: Randomized Input Sampling for Explanation of
// Black-box Models", BMVC; the code in github.com/eclique/RISE, evaluation.py).
//
// The reference builds its kernel with `gkern(klen=11, nsig=5)`: scipy's gaussian_filter
// (sigma = nsig, truncate = 4, mode 'reflect') applied to an klen×klen unit impulse, i.e. the
// outer product g ⊗ g of the 1-D kernel
//     g[i] = Σ_{k = −r…r, reflect(i + k) = klen/2} w[k],   w[k] = exp(−k² / 2σ²) / Σ_j exp(−j² / 2σ²),
// with r = ⌊4σ + 0.5⌋ and `reflect` the half-sample-symmetric extension (d c b a | a b c d):
// the Gaussian's tails beyond the klen taps are folded back, so g sums to 1 exactly and is
// much flatter than a plain truncated Gaussian when σ is large compared with klen (σ = 5 on 11
// taps). The image is then convolved with `conv2d(x, kern, padding=klen//2)`, i.e. zero
// padding: pixels near the border get darker, because part of their kernel falls on zeros.
// BlurBorder::zero reproduces that (the default, so insertion curves match the paper's);
// BlurBorder::reflect extends the image by the same half-sample reflection instead and keeps
// the border's brightness (better for a blurred baseline image).
//
// The 2-D kernel is separable, so the blur runs as a horizontal then a vertical pass:
// O(klen) per pixel instead of O(klen²). Each channel (each plane) is blurred on its own.

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/gaussian_filter.hpp"

namespace xai {

/// What gaussian_blur() assumes outside the image.
enum class BlurBorder {
    zero,     ///< pixels outside the image are 0 (the RISE reference: conv2d with zero padding)
    reflect,  ///< half-sample reflection d c b a | a b c d (scipy.ndimage 'reflect', OpenCV BORDER_REFLECT)
};

/// The border's name: "zero" or "reflect".
inline std::string_view to_string(BlurBorder border) {
    switch (border) {
        case BlurBorder::zero: return "zero";
        case BlurBorder::reflect: return "reflect";
    }
    return "unknown";
}

/// The largest kernel_size accepted: 4097 taps, a radius of 2048 pixels, enough to blur a
/// 4096-pixel-wide image across its whole width. The kernel and the per-pixel taps take memory
/// and time proportional to it, so it is bounded like σ (max_gaussian_sigma).
inline constexpr std::size_t max_blur_kernel_size = 4097;

/// The blur's parameters; the defaults are the RISE reference's insertion metric (klen = 11,
/// nsig = 5, zero padding).
struct GaussianBlurOptions {
    double sigma = 5.0;            ///< standard deviation in pixels, > 0
    std::size_t kernel_size = 11;  ///< taps per axis, odd
    BlurBorder border = BlurBorder::zero;  ///< what lies outside the image (zero padding, as the RISE reference)
};

namespace detail {

inline void require_blur_options(const GaussianBlurOptions& options, const char* where) {
    require(std::isfinite(options.sigma) && options.sigma > 0.0, where, ": sigma is ", options.sigma,
            ", expected a finite value > 0");
    require(options.sigma <= max_gaussian_sigma, where, ": sigma is ", options.sigma, ", expected at most ",
            max_gaussian_sigma, " (max_gaussian_sigma)");
    require(options.kernel_size % 2 == 1, where, ": kernel_size is ", options.kernel_size,
            ", expected an odd number of taps (1, 3, 5, …) so the kernel has a centre");
    require(options.kernel_size <= max_blur_kernel_size, where, ": kernel_size is ", options.kernel_size,
            ", expected at most ", max_blur_kernel_size, " (max_blur_kernel_size)");
}

/// The taps of one output coordinate along an axis: source indices and weights.
struct BlurTaps {
    std::vector<std::size_t> index;
    std::vector<float> weight;
};

/// For each output coordinate of an axis of length n, the taps of the 1-D kernel under the
/// given border rule (zero: taps outside are dropped).
inline std::vector<BlurTaps> blur_taps(std::size_t n, const std::vector<double>& kernel, BlurBorder border) {
    const auto radius = static_cast<std::ptrdiff_t>(kernel.size() / 2);
    std::vector<BlurTaps> taps(n);
    for (std::size_t x = 0; x < n; ++x) {
        for (std::ptrdiff_t k = -radius; k <= radius; ++k) {
            const std::ptrdiff_t j = static_cast<std::ptrdiff_t>(x) + k;
            const auto w = static_cast<float>(kernel[static_cast<std::size_t>(k + radius)]);
            if (j >= 0 && j < static_cast<std::ptrdiff_t>(n)) {
                taps[x].index.push_back(static_cast<std::size_t>(j));
            } else if (border == BlurBorder::reflect) {
                taps[x].index.push_back(scipy_reflect_index(j, static_cast<std::ptrdiff_t>(n)));
            } else {
                continue;
            }
            taps[x].weight.push_back(w);
        }
    }
    return taps;
}

/// Blurs `planes` consecutive H×W planes from src into dst (may not alias).
inline void blur_planes(const float* src, std::size_t planes, std::size_t height, std::size_t width, float* dst,
                        const std::vector<double>& kernel, BlurBorder border) {
    const std::vector<BlurTaps> cols = blur_taps(width, kernel, border);
    const std::vector<BlurTaps> rows = blur_taps(height, kernel, border);
    std::vector<float> horizontal(height * width);
    for (std::size_t p = 0; p < planes; ++p) {
        const float* plane = src + p * height * width;
        for (std::size_t y = 0; y < height; ++y) {
            const float* row = plane + y * width;
            float* h_row = horizontal.data() + y * width;
            for (std::size_t x = 0; x < width; ++x) {
                const BlurTaps& t = cols[x];
                float v = 0.0f;
                for (std::size_t k = 0; k < t.index.size(); ++k) v += t.weight[k] * row[t.index[k]];
                h_row[x] = v;
            }
        }
        float* out = dst + p * height * width;
        for (std::size_t y = 0; y < height; ++y) {
            const BlurTaps& t = rows[y];
            float* out_row = out + y * width;
            for (std::size_t x = 0; x < width; ++x) out_row[x] = 0.0f;
            for (std::size_t k = 0; k < t.index.size(); ++k) {
                const float* h_row = horizontal.data() + t.index[k] * width;
                const float w = t.weight[k];
                for (std::size_t x = 0; x < width; ++x) out_row[x] += w * h_row[x];
            }
        }
    }
}

}  // namespace detail

/// The 1-D kernel g of the RISE reference's gkern(kernel_size, sigma) (see the top of this
/// file): a sampled Gaussian truncated at 4σ whose tails are folded back into kernel_size taps.
/// It is symmetric and sums to 1; the 2-D kernel is g ⊗ g.
inline std::vector<double> gaussian_kernel(std::size_t kernel_size, double sigma) {
    detail::require_blur_options({sigma, kernel_size, BlurBorder::zero}, "xai::gaussian_kernel()");
    const std::vector<double> w = detail::gaussian_taps(sigma);  // scipy's taps, radius ⌊4σ + 0.5⌋
    const auto radius = static_cast<std::ptrdiff_t>(w.size() / 2);
    // Filtering a unit impulse at the centre: out[i] = Σ_k w[k] · impulse[reflect(i + k)].
    const auto centre = kernel_size / 2;
    std::vector<double> kernel(kernel_size, 0.0);
    for (std::size_t i = 0; i < kernel_size; ++i)
        for (std::ptrdiff_t k = -radius; k <= radius; ++k)
            if (detail::scipy_reflect_index(static_cast<std::ptrdiff_t>(i) + k, static_cast<std::ptrdiff_t>(kernel_size)) == centre)
                kernel[i] += w[static_cast<std::size_t>(k + radius)];
    return kernel;
}

namespace detail {
/// A blurred copy of a tensor whose trailing two axes are H×W; every leading index is a plane.
template <class Tensor>
Tensor blur_tensor(const Tensor& input, const GaussianBlurOptions& options, const char* where) {
    require_blur_options(options, where);
    require_nonempty(input, (std::string(where) + ": the input").c_str());
    const std::size_t rank = input.dimension();
    const std::size_t height = input.shape(rank - 2), width = input.shape(rank - 1);
    Tensor out = Tensor::from_shape(input.shape());
    blur_planes(input.data(), input.size() / (height * width), height, width, out.data(),
                gaussian_kernel(options.kernel_size, options.sigma), options.border);
    return out;
}
}  // namespace detail

/// A blurred copy of an H×W map.
inline Map gaussian_blur(const Map& map, const GaussianBlurOptions& options = {}) {
    return detail::blur_tensor(map, options, "xai::gaussian_blur(Map)");
}

/// A blurred copy of a C×H×W image (each channel on its own), or of an N×H×W stack of maps
/// (Image and Maps are the same type).
inline Image gaussian_blur(const Image& image, const GaussianBlurOptions& options = {}) {
    return detail::blur_tensor(image, options, "xai::gaussian_blur(rank-3)");
}

/// A blurred copy of an N×C×H×W batch (each channel of each image on its own).
inline Batch gaussian_blur(const Batch& batch, const GaussianBlurOptions& options = {}) {
    return detail::blur_tensor(batch, options, "xai::gaussian_blur(Batch)");
}

}  // namespace xai
