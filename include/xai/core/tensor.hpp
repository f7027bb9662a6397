#pragma once
// Tensor types and layout conventions shared by every part of xai.
//
//   Batch       N×C×H×W float   a batch of images (the model's input)
//   Image       C×H×W float     one image; loaded files are converted once to [0,1]
//   Map         H×W float       one saliency map
//   Maps        N×H×W float     one saliency map per image of a batch
//   Scores      N×K float       one row of class scores per image (logits unless stated)
//   Activations N×C×h×w (a convolutional layer) or N×T×D (a transformer's tokens), float
//
// All containers are row-major xtensor containers, so `data()` of a Batch is the NCHW
// buffer a framework expects, and Eigen maps over the same memory without copies.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "xai/core/error.hpp"

namespace xai {

using Batch = xt::xtensor<float, 4>;     ///< N×C×H×W: a batch of images (the model's input)
using Image = xt::xtensor<float, 3>;     ///< C×H×W: one image; loaded files are converted once to [0, 1]
using Map = xt::xtensor<float, 2>;       ///< H×W: one saliency map
using Maps = xt::xtensor<float, 3>;      ///< N×H×W: one saliency map per image (the same type as Image)
using Scores = xt::xtensor<float, 2>;    ///< N×K: one row of class scores per image (logits unless stated)
using Activations = xt::xarray<float>;   ///< N×C×h×w (a convolutional layer) or N×T×D (a transformer's tokens)

/// Class labels of a batch, one per image.
using Labels = std::vector<std::size_t>;

/// The extents of one image: channels, height, width.
struct ImageShape {
    std::size_t channels = 0;  ///< Number of channels C (1 for grey, 3 for RGB).
    std::size_t height = 0;    ///< Height H in pixels.
    std::size_t width = 0;     ///< Width W in pixels.

    /// Equal when all three extents are equal.
    friend bool operator==(const ImageShape&, const ImageShape&) = default;
    /// Number of values in one image, C·H·W.
    std::size_t size() const { return channels * height * width; }
};

/// "C×H×W" for messages.
inline std::string to_string(const ImageShape& s) {
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

/// "[2, 3, 4]" for messages, from any xtensor shape.
template <class Shape>
std::string shape_string(const Shape& shape) {
    std::string out = "[";
    bool first = true;
    for (auto extent : shape) {
        if (!first) out += ", ";
        out += std::to_string(extent);
        first = false;
    }
    return out + "]";
}

/// The C×H×W shape of the images of a batch.
inline ImageShape image_shape(const Batch& batch) {
    return {batch.shape(1), batch.shape(2), batch.shape(3)};
}

/// The C×H×W shape of one image.
inline ImageShape image_shape(const Image& image) {
    return {image.shape(0), image.shape(1), image.shape(2)};
}

/// A batch of one image (a copy).
inline Batch as_batch(const Image& image) {
    Batch batch = Batch::from_shape({1, image.shape(0), image.shape(1), image.shape(2)});
    std::copy(image.begin(), image.end(), batch.begin());
    return batch;
}

/// Stacks images of equal shape into a batch.
inline Batch stack(const std::vector<Image>& images) {
    detail::require<shape_error>(!images.empty(), "xai::stack(): images is empty, expected at least one image");
    const ImageShape first = image_shape(images.front());
    Batch batch = Batch::from_shape({images.size(), first.channels, first.height, first.width});
    for (std::size_t i = 0; i < images.size(); ++i) {
        detail::require<shape_error>(image_shape(images[i]) == first, "xai::stack(): images[", i, "] is ",
                                     to_string(image_shape(images[i])), ", expected ", to_string(first),
                                     " like images[0]");
        std::copy(images[i].begin(), images[i].end(), batch.begin() + static_cast<std::ptrdiff_t>(i * first.size()));
    }
    return batch;
}

/// Image i of a batch (a copy).
inline Image image_at(const Batch& batch, std::size_t i) {
    detail::require<shape_error>(i < batch.shape(0), "xai::image_at(): index ", i, " out of range for a batch of ",
                                 batch.shape(0));
    Image image = Image::from_shape({batch.shape(1), batch.shape(2), batch.shape(3)});
    const std::size_t n = image.size();
    std::copy(batch.begin() + static_cast<std::ptrdiff_t>(i * n), batch.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
              image.begin());
    return image;
}

/// True when every element is finite (no NaN, no ±Inf).
template <class Container>
bool all_finite(const Container& values) {
    for (auto v : values)
        if (!std::isfinite(v)) return false;
    return true;
}

/// True when the n floats at `values` are all finite. For contiguous buffers in hot paths: the
/// loop counts instead of returning early, so the compiler vectorizes it (the container
/// overload above goes through xtensor's iterators, several times slower).
inline bool all_finite(const float* values, std::size_t n) {
    std::size_t non_finite = 0;
    for (std::size_t i = 0; i < n; ++i)
        non_finite += static_cast<std::size_t>(!(std::abs(values[i]) <= std::numeric_limits<float>::max()));
    return non_finite == 0;
}

/// True when every element of a float tensor (Batch, Image, Map, Scores: contiguous) is finite;
/// chosen over the container overload, it takes the vectorized loop above.
template <std::size_t N>
bool all_finite(const xt::xtensor<float, N>& values) {
    return all_finite(values.data(), values.size());
}

namespace detail {

/// Throws invalid_argument naming `what` when `values` holds a NaN or an infinity.
template <class Container>
void require_finite(const Container& values, const char* what) {
    if (!all_finite(values)) throw invalid_argument(message(what, " contains NaN or Inf, expected finite values"));
}

/// Throws shape_error naming `what` when `values` is empty (a zero extent).
template <class Container>
void require_nonempty(const Container& values, const char* what) {
    if (values.size() == 0)
        throw shape_error(message(what, " is empty (shape ", shape_string(values.shape()), "), expected a non-empty tensor"));
}

/// Throws shape_error naming `what` when the rank of `values` is not `rank`.
template <class Container>
void require_rank(const Container& values, std::size_t rank, const char* what, const char* layout) {
    if (values.dimension() != rank)
        throw shape_error(message(what, " has rank ", values.dimension(), " (shape ", shape_string(values.shape()),
                                  "), expected rank ", rank, " (", layout, ")"));
}

}  // namespace detail
}  // namespace xai
