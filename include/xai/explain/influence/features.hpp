#pragma once
// The input of a CNN's last layer, for influence on that layer with the features frozen (Koh &
// Liang 2017, §5.1: their Inception experiment retrains only the top layer). A FeatureModel's
// logits are W · GAP(features) + b (core/concepts.hpp), so logistic regression on the
// global-average-pooled final features, given the model's {W, b}, IS the model's last layer:
// influence through the network restricted to that layer equals influence of that logistic
// regression (tests/test_influence.cpp checks it), at the cost of D-dimensional gradients
// instead of the network's R-operator. pooled_features() computes those features once, in
// batches, with the logits of the same forward pass (for the predicted classes).
//
// Each pooled value is the mean of one feature map accumulated in double, then stored as float
// (the logistic regression's input type), so the result does not depend on batch_size.

#include <algorithm>
#include <cstddef>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// The global-average-pooled final features (N×C×1×1) of `images` and the logits (N×K) of the
/// same forward passes, computed `batch_size` images at a time; progress after each batch
/// ("images"). Throws invalid_argument for an empty batch or batch_size 0.
template <FeatureModel M>
FeatureOutput pooled_features(const M& model, const Batch& images, std::size_t batch_size = 256, const Progress& progress = {}) {
    const char* where = "xai::pooled_features()";
    const std::size_t n = images.shape(0);
    detail::require(n > 0, where, ": images has 0 images, expected at least 1");
    detail::require(batch_size > 0, where, ": batch_size is 0, expected at least 1");
    FeatureOutput out;
    for (std::size_t begin = 0; begin < n; begin += batch_size) {
        const std::size_t end = std::min(n, begin + batch_size);
        const FeatureOutput part = model.forward_features(xt::view(images, xt::range(begin, end)));
        const std::size_t channels = part.features.shape(1), plane = part.features.shape(2) * part.features.shape(3);
        const std::size_t classes = part.scores.shape(1);
        if (begin == 0) {
            out.features = Batch::from_shape({n, channels, 1, 1});
            out.scores = Scores::from_shape({n, classes});
        }
        for (std::size_t k = 0; k < (end - begin) * channels; ++k) {
            double sum = 0.0;
            for (std::size_t j = 0; j < plane; ++j) sum += part.features.data()[k * plane + j];
            out.features.data()[begin * channels + k] = static_cast<float>(sum / static_cast<double>(plane));
        }
        std::copy(part.scores.data(), part.scores.data() + (end - begin) * classes, out.scores.data() + begin * classes);
        if (progress) progress({end, n, "images"});
    }
    return out;
}

}  // namespace xai
