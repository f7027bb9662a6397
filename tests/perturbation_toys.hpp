// Black-box toy models with known answers for the perturbation explainers' tests (RISE,
// occlusion). Each returns logits; the tests choose the ScoreKind.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "xai/core/tensor.hpp"

namespace toy {

/// A C×H×W image with every value `value`.
inline xai::Image filled(xai::ImageShape shape, float value) {
    xai::Image image = xai::Image::from_shape({shape.channels, shape.height, shape.width});
    image.fill(value);
    return image;
}

/// A classifier whose logits for an image are a function of that image (C×H×W floats).
class FunctionModel {
public:
    using Logits = std::function<std::vector<float>(const float* image)>;
    FunctionModel(xai::ImageShape shape, std::size_t classes, Logits logits)
        : shape_(shape), classes_(classes), logits_(std::move(logits)) {}

    xai::Scores forward(const xai::Batch& batch) const {
        const std::size_t n = batch.shape(0);
        xai::Scores out = xai::Scores::from_shape({n, classes_});
        for (std::size_t i = 0; i < n; ++i) {
            const std::vector<float> row = logits_(batch.data() + i * shape_.size());
            for (std::size_t k = 0; k < classes_; ++k) out(i, k) = row[k];
        }
        return out;
    }
    std::size_t num_classes() const { return classes_; }
    xai::ImageShape input_shape() const { return shape_; }

private:
    xai::ImageShape shape_;
    std::size_t classes_;
    Logits logits_;
};

/// Constant logits, whatever the input.
inline FunctionModel constant_model(xai::ImageShape shape, std::vector<float> logits) {
    const std::size_t k = logits.size();
    return FunctionModel(shape, k, [logits](const float*) { return logits; });
}

/// Logit 0 = mean of channel 0 over rows [y0, y1) × columns [x0, x1); logit 1 = 0.
inline FunctionModel box_mean_model(xai::ImageShape shape, std::size_t y0, std::size_t y1, std::size_t x0,
                                    std::size_t x1) {
    return FunctionModel(shape, 2, [=](const float* image) {
        double sum = 0.0;
        for (std::size_t y = y0; y < y1; ++y)
            for (std::size_t x = x0; x < x1; ++x) sum += image[y * shape.width + x];
        return std::vector<float>{static_cast<float>(sum / static_cast<double>((y1 - y0) * (x1 - x0))), 0.0f};
    });
}

/// Logit 0 = Σ_p weight[p] · image[p] over all channels' values (weights C×H×W); logit 1 = 0.
inline FunctionModel linear_model(xai::ImageShape shape, std::vector<float> weights) {
    return FunctionModel(shape, 2, [shape, weights](const float* image) {
        double sum = 0.0;
        for (std::size_t p = 0; p < shape.size(); ++p) sum += static_cast<double>(weights[p]) * image[p];
        return std::vector<float>{static_cast<float>(sum), 0.0f};
    });
}

/// Logit 0 = u⁴ with u a pseudo-random number in [0, 1) hashed from the image's values: a score
/// that jumps between masks, much noisier than any smooth function of the image.
inline FunctionModel noisy_model(xai::ImageShape shape) {
    return FunctionModel(shape, 2, [shape](const float* image) {
        double acc = 0.0;
        for (std::size_t p = 0; p < shape.size(); ++p) acc += image[p] * (1.0 + 0.618 * static_cast<double>(p % 97));
        const double u = acc * 7919.123 - std::floor(acc * 7919.123);
        return std::vector<float>{static_cast<float>(u * u * u * u), 0.0f};
    });
}

}  // namespace toy
