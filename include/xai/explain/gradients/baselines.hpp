#pragma once
// Baselines of the path methods (Integrated Gradients, GradientSHAP) that image/baseline.hpp
// does not already name: uniform noise (Sturmfels, Lundberg & Lee, "Visualizing the Impact of
// Feature Attribution Baselines", Distill 2020: a baseline that is no colour in particular, so
// that dark pixels are not attributed zero as they are with a black baseline).

#include <cmath>
#include <cstdint>

#include "xai/core/error.hpp"
#include "xai/core/random.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/baseline.hpp"

namespace xai {

/// A baseline of i.i.d. uniform values in [low, high) of the explained image's shape, drawn from
/// Rng::stream(seed, 0): the same noise for every image of that shape (so an explanation does
/// not depend on the batch the image is in). For images in [0, 1] the defaults are Sturmfels et
/// al.'s uniform baseline; for normalized inputs give the range of the normalized values.
inline Baseline uniform_noise_baseline(float low = 0.0f, float high = 1.0f, std::uint64_t seed = 0) {
    detail::require(std::isfinite(low) && std::isfinite(high) && low <= high, "xai::uniform_noise_baseline(): low is ", low,
                    " and high ", high, ", expected finite values with low <= high");
    return Baseline::from_function([low, high, seed](const Image& image) {
        Image noise = Image::from_shape(image.shape());
        Rng rng = Rng::stream(seed, 0);
        for (float& v : noise) v = low + (high - low) * rng.uniform_float();
        return noise;
    });
}

}  // namespace xai
