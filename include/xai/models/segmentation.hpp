#pragma once
// Semantic segmentation with the built-in CNN: per-pixel labels, the per-pixel cross-entropy
// loss that trains a segmentation network, its predictions, and the mean intersection over
// union that measures it.
//
// A segmentation network is a BasicSequential whose last layer is `flatten` after a K×H×W map of
// class scores (output_shape() = {K, H, W}): forward() returns them flattened row-major as
// N×(K·H·W) scores, which is how every explainer and metric of the library sees its output (the
// DenseOutputModel concept, core/concepts.hpp). The architecture of the built-in one is
// builtin_segmentation_architecture() (models/builtin.hpp); tools/training/train_segmentation
// trains it on the scenes generator's exact masks.
//
//   loss       L = (1/P) Σ_p [ log Σ_k exp(z_kp) − z_{y_p p} ]   over the P = H·W pixels
//              (PyTorch's nn.CrossEntropyLoss on N×K×H×W scores, reduction 'mean' per image)
//   ∂L/∂z_kp = (softmax_k(z_·p) − 1[k = y_p]) / P
//   IoU_k     = TP_k / (TP_k + FP_k + FN_k) over every pixel of a set; mean IoU = the mean over
//              the classes that occur in the labels or the predictions (torchmetrics'
//              JaccardIndex(average="macro") over present classes)

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential.hpp"

namespace xai::models {

/// N×H×W class labels, one per pixel.
using PixelLabels = xt::xtensor<std::uint8_t, 3>;

/// Per-pixel labels from object masks: `labels[i]` inside masks[i], `background` outside.
inline PixelLabels pixel_labels(const xt::xtensor<bool, 3>& masks, const Labels& labels, std::size_t background) {
    constexpr const char* where = "xai::models::pixel_labels()";
    detail::require<shape_error>(masks.shape(0) == labels.size(), where, ": ", masks.shape(0), " masks and ",
                                 labels.size(), " labels, expected as many");
    detail::require(background < 256, where, ": background is ", background, ", expected a class below 256");
    PixelLabels out = PixelLabels::from_shape(masks.shape());
    const std::size_t plane = masks.shape(1) * masks.shape(2);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        detail::require(labels[i] < 256, where, ": labels[", i, "] is ", labels[i], ", expected a class below 256");
        for (std::size_t p = 0; p < plane; ++p)
            out.data()[i * plane + p] = static_cast<std::uint8_t>(masks.data()[i * plane + p] ? labels[i] : background);
    }
    return out;
}

/// The per-pixel cross-entropy of a segmentation network with K classes against `labels`
/// (N×H×W, the network's output size), averaged over the pixels of each image (see the header
/// comment), as the OutputLoss that BasicSequential::objective_gradient and train() take (it
/// keeps its own copy of the labels).
inline OutputLoss pixel_cross_entropy(PixelLabels pixel_labels, std::size_t classes) {
    detail::require(classes >= 2, "xai::models::pixel_cross_entropy(): classes is ", classes, ", expected at least 2");
    auto shared = std::make_shared<const PixelLabels>(std::move(pixel_labels));
    return [shared, classes](std::size_t image, std::span<const double> z, std::span<double> g) {
        const PixelLabels& labels = *shared;
        const std::size_t pixels = labels.shape(1) * labels.shape(2);
        detail::require<shape_error>(z.size() == classes * pixels && image < labels.shape(0),
                                     "xai::models::pixel_cross_entropy(): image ", image, " has ", z.size(),
                                     " outputs, expected ", classes, "×", pixels, " for ", labels.shape(0), " images");
        const std::uint8_t* y = labels.data() + image * pixels;
        const double inv = 1.0 / static_cast<double>(pixels);
        double loss = 0.0;
        for (std::size_t p = 0; p < pixels; ++p) {
            detail::require(y[p] < classes, "xai::models::pixel_cross_entropy(): label ", int{y[p]}, " of image ", image,
                            " is not a class below ", classes);
            double top = z[p];
            for (std::size_t k = 1; k < classes; ++k) top = std::max(top, z[k * pixels + p]);
            double sum = 0.0;
            for (std::size_t k = 0; k < classes; ++k) sum += std::exp(z[k * pixels + p] - top);
            const double log_sum = std::log(sum) + top;
            loss += log_sum - z[y[p] * pixels + p];
            for (std::size_t k = 0; k < classes; ++k)
                g[k * pixels + p] = (std::exp(z[k * pixels + p] - log_sum) - (k == y[p] ? 1.0 : 0.0)) * inv;
        }
        return loss * inv;
    };
}

/// The class of each pixel (the arg-max over the K scores; ties to the lowest class) from a
/// segmentation model's flattened N×(K·H·W) scores: N×H×W.
inline PixelLabels predicted_pixels(const Scores& scores, std::size_t classes, std::size_t height, std::size_t width) {
    constexpr const char* where = "xai::models::predicted_pixels()";
    const std::size_t pixels = height * width, n = scores.shape(0);
    detail::require<shape_error>(scores.shape(1) == classes * pixels && classes > 0 && classes < 256, where,
                                 ": scores have shape ", shape_string(scores.shape()), ", expected [N, ", classes, "×",
                                 height, "×", width, "] with 1..255 classes");
    PixelLabels out = PixelLabels::from_shape({n, height, width});
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = scores.data() + i * classes * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < classes; ++k)
                if (z[k * pixels + p] > z[best * pixels + p]) best = k;
            out.data()[i * pixels + p] = static_cast<std::uint8_t>(best);
        }
    }
    return out;
}

/// The intersection over union of a segmentation against the truth.
struct SegmentationScore {
    std::vector<std::uint64_t> intersection;  ///< per class: pixels labelled and predicted k (TP_k)
    std::vector<std::uint64_t> union_;        ///< per class: pixels labelled or predicted k (TP + FP + FN)
    std::vector<double> iou;                  ///< per class: TP / (TP + FP + FN); NaN when the class is absent from both
    double mean_iou = 0.0;                    ///< mean over the classes present in the labels or the predictions
    double pixel_accuracy = 0.0;              ///< the fraction of pixels predicted right
};

/// IoU per class and their mean from predicted and true pixel labels (same N×H×W shape) of
/// `classes` classes.
inline SegmentationScore segmentation_score(const PixelLabels& predicted, const PixelLabels& truth, std::size_t classes) {
    constexpr const char* where = "xai::models::segmentation_score()";
    detail::require<shape_error>(predicted.shape() == truth.shape() && truth.size() > 0, where, ": predicted has shape ",
                                 shape_string(predicted.shape()), " and truth ", shape_string(truth.shape()),
                                 ", expected the same non-empty N×H×W shape");
    SegmentationScore s{std::vector<std::uint64_t>(classes, 0), std::vector<std::uint64_t>(classes, 0), {}, 0.0, 0.0};
    std::uint64_t correct = 0;
    for (std::size_t p = 0; p < truth.size(); ++p) {
        const std::size_t a = predicted.data()[p], b = truth.data()[p];
        detail::require(a < classes && b < classes, where, ": pixel ", p, " has classes ", a, " (predicted) and ", b,
                        " (true), expected both below ", classes);
        if (a == b) {
            ++s.intersection[a];
            ++s.union_[a];
            ++correct;
        } else {
            ++s.union_[a];
            ++s.union_[b];
        }
    }
    double sum = 0.0;
    std::size_t present = 0;
    for (std::size_t k = 0; k < classes; ++k) {
        s.iou.push_back(s.union_[k] ? static_cast<double>(s.intersection[k]) / static_cast<double>(s.union_[k])
                                    : std::nan(""));
        if (s.union_[k]) {
            sum += s.iou.back();
            ++present;
        }
    }
    s.mean_iou = present ? sum / static_cast<double>(present) : 0.0;
    s.pixel_accuracy = static_cast<double>(correct) / static_cast<double>(truth.size());
    return s;
}

/// A segmentation model's IoU on `images` against `truth` (N×H×W at the model's output size),
/// evaluated `batch_size` images per forward pass.
template <DenseOutputModel M>
SegmentationScore evaluate_segmentation(const M& model, const Batch& images, const PixelLabels& truth,
                                        std::size_t batch_size = 64) {
    constexpr const char* where = "xai::models::evaluate_segmentation()";
    const std::vector<std::size_t> shape = model.output_shape();
    detail::require<shape_error>(shape.size() == 3, where, ": the model's output shape has ", shape.size(),
                                 " axes, expected K×H×W (a segmentation network)");
    detail::require<shape_error>(truth.shape(0) == images.shape(0) && truth.shape(1) == shape[1] &&
                                     truth.shape(2) == shape[2],
                                 where, ": truth has shape ", shape_string(truth.shape()), ", expected [",
                                 images.shape(0), ", ", shape[1], ", ", shape[2], "]");
    detail::require(batch_size > 0, where, ": batch_size is 0, expected at least 1");
    const std::size_t n = images.shape(0), d = images.size() / std::max<std::size_t>(n, 1);
    PixelLabels predicted = PixelLabels::from_shape(truth.shape());
    const std::size_t plane = shape[1] * shape[2];
    for (std::size_t first = 0; first < n; first += batch_size) {
        const std::size_t count = std::min(batch_size, n - first);
        Batch chunk = Batch::from_shape({count, images.shape(1), images.shape(2), images.shape(3)});
        std::copy(images.data() + first * d, images.data() + (first + count) * d, chunk.data());
        const PixelLabels p = predicted_pixels(xai::detail::checked_forward(model, chunk, where), shape[0], shape[1], shape[2]);
        std::copy(p.begin(), p.end(), predicted.data() + first * plane);
    }
    return segmentation_score(predicted, truth, shape[0]);
}

}  // namespace xai::models
