#pragma once
// Baselines of the path methods (Integrated Gradients, GradientSHAP) that image/baseline.hpp
// does not already name: uniform noise (Sturmfels, Lundberg & Lee, "Visualizing the Impact of
// Feature Attribution Baselines", Distill 2020: a baseline that is no colour in particular, so
// that dark pixels are not attributed zero as they are with a black baseline).

#include <cmath>
#include <cstdint>
#include <string_view>

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

/// The path baseline a command-line flag names (IG's `baseline`; KernelSHAP's and Shapley
/// sampling's accept the same Baseline): "zero" (constant 0, the paper's and Captum's default:
/// black for images in [0, 1], the mean colour for inputs normalized with ImageNet's statistics),
/// "blurred" (Baseline::blurred() with its defaults), "image_mean" (each channel's mean) or
/// "uniform" (uniform_noise_baseline(low, high, seed), low/high the input's range: 0 and 1 for
/// images in [0, 1]). A user's image is Baseline::image() and not named here. invalid_argument
/// for any other name.
inline Baseline path_baseline_from_string(std::string_view name, float low = 0.0f, float high = 1.0f,
                                          std::uint64_t seed = 0) {
    if (name == "zero") return Baseline::constant(0.0f);
    if (name == "blurred") return Baseline::blurred();
    if (name == "image_mean") return Baseline::image_mean();
    if (name == "uniform") return uniform_noise_baseline(low, high, seed);
    throw invalid_argument(detail::message("xai::path_baseline_from_string(): name is '", name,
                                           "', expected zero, blurred, image_mean or uniform"));
}

}  // namespace xai
