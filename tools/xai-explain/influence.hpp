#pragma once
// xai-explain's influence method: which training examples most helped or hurt a prediction
// (Koh & Liang, "Understanding Black-box Predictions via Influence Functions", ICML 2017;
// include/xai/explain/influence.hpp, docs/methods/influence.md).
//
// It explains the model's last layer with the features frozen, as Koh & Liang do for their
// Inception network (§5.1). For a network that ends in global average pooling and one linear
// layer (a FeatureModel), the last layer is a multinomial logistic regression on the pooled
// features g(x) ∈ R^C with the same weights W (classifier_weights()), the same bias b and the
// same L2 weight λ (model.l2_regularization() when the model has one — the built-in models store
// it in their weights file — else 0). Its per-example loss gradients and its Hessian are those of
// the network restricted to {fc.weight, fc.bias}, so I_up,loss is the same as
// Influence<Model> with parameter_blocks = the last layer would give (tests/test_cli.cpp checks
// it), computed with the exact solver (C·K + K parameters: 1,290 for the built-in models)
// instead of running the network's R-operator over the training set for every Hessian-vector
// product. b is read off one forward pass: b = logits − W g(x).
//
// A network trained by SGD is not at an exact minimum of its training loss, so the stationarity
// check is a warning here (StationarityPolicy::warn), reported in the summary with the relative
// gradient norm. A model without L2 (λ = 0) has a singular Hessian (the softmax ignores a shift
// of every class's weights): give --damping.
//
// Training sets (--train):
//   fashion-mnist[:N]  the first N images of Fashion-MNIST's training split (all 60,000 by
//                      default), from Debian's dataset-fashion-mnist (xai::load_fashion_mnist)
//   scenes[:N]         the scenes the built-in scenes model saw first: scene i of its first
//                      epoch shows training item i (make_scenes over the whole training split,
//                      SceneOptions{} with the training run's seed 1, docs/models.md); 10,000 by default
//   DIR                a folder with one subfolder per class, named by class name or index,
//                      holding that class's images (converted and resized like --image)
// Only the pooled features (N×C floats) are kept; the pictures of the top examples are made
// again from their index.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: core/eigen.hpp before Eigen modules

#include "arguments.hpp"
#include "images.hpp"
#include "models.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/influence.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/logistic_regression.hpp"

namespace xai_explain {

/// Scenes of the first epoch of the built-in scenes model's training: the run's seed (docs/models.md).
inline constexpr std::uint64_t scenes_training_seed = 1;
/// --train scenes without a count.
inline constexpr std::size_t default_scene_count = 10000;

/// Global average pooling of a FeatureModel's final feature maps: N×C×1×1, and the logits.
template <xai::FeatureModel Model>
std::pair<xai::Batch, xai::Scores> pooled_features(const Model& model, const xai::Batch& batch) {
    const xai::FeatureOutput out = model.forward_features(batch);
    const std::size_t n = out.features.shape(0), c = out.features.shape(1);
    const std::size_t plane = out.features.shape(2) * out.features.shape(3);
    xai::Batch pooled = xai::Batch::from_shape({n, c, 1, 1});
    for (std::size_t i = 0; i < n * c; ++i) {
        double sum = 0.0;
        for (std::size_t p = 0; p < plane; ++p) sum += out.features.data()[i * plane + p];
        pooled.data()[i] = static_cast<float>(sum / static_cast<double>(plane));
    }
    return {std::move(pooled), out.scores};
}

/// A training set as the influence method needs it: labels, and each image on demand.
struct TrainingSource {
    std::string description;
    xai::Labels labels;
    std::function<xai::Batch(std::size_t first, std::size_t count)> images;  ///< a range, as the model takes it
};

/// --train (see the header); Failure(usage) for a malformed spec, Failure(image) when the data
/// cannot be read.
inline TrainingSource training_source(const std::string& spec, const ModelInfo& info, std::size_t classes,
                                      const xai::ImageShape& input) {
    const std::size_t colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    const std::optional<std::size_t> count =
        colon == std::string::npos ? std::nullopt
                                   : std::optional<std::size_t>(detail::parse_unsigned("--train " + name, spec.substr(colon + 1), false));
    TrainingSource source;
    if (name == "fashion-mnist" || name == "scenes") {
        xai::LabelledImages items;
        try {
            items = xai::load_fashion_mnist(xai::FashionMnistSplit::train);
        } catch (const xai::error& e) {
            throw Failure(ExitCode::image, std::string("--train ") + name + ": " + e.what());
        }
        const std::size_t n = std::min(count.value_or(name == "scenes" ? default_scene_count : items.labels.size()),
                                       items.labels.size());
        const xai::ImageShape shape = name == "scenes" ? xai::ImageShape{1, xai::SceneOptions{}.canvas_size, xai::SceneOptions{}.canvas_size}
                                                       : xai::image_shape(items.images);
        if (shape != input)
            throw Failure(ExitCode::usage, "--train " + name + " has " + xai::to_string(shape) + " images, the model takes " +
                                               xai::to_string(input));
        auto shared = std::make_shared<const xai::LabelledImages>(std::move(items));
        if (name == "fashion-mnist") {
            source.description = "Fashion-MNIST training split, first " + std::to_string(n) + " images";
            source.labels.assign(shared->labels.begin(), shared->labels.begin() + static_cast<std::ptrdiff_t>(n));
            source.images = [shared](std::size_t first, std::size_t k) {
                xai::Batch b = xai::Batch::from_shape({k, shared->images.shape(1), shared->images.shape(2), shared->images.shape(3)});
                const std::size_t size = b.size() / k;
                std::copy_n(shared->images.data() + first * size, k * size, b.data());
                return b;
            };
        } else {
            xai::SceneOptions options;
            options.seed = scenes_training_seed;
            source.description = "scenes 0-" + std::to_string(n - 1) + " of the scenes model's first training epoch";
            source.labels.resize(n);
            for (std::size_t i = 0; i < n; ++i) source.labels[i] = shared->labels[i % shared->labels.size()];
            source.images = [shared, options](std::size_t first, std::size_t k) {
                return xai::make_scenes(shared->images, shared->labels, first, k, options).images;
            };
        }
        return source;
    }
    if (colon != std::string::npos || !std::filesystem::is_directory(spec))
        throw Failure(ExitCode::image, "--train '" + spec + "' is neither fashion-mnist[:N], scenes[:N] nor a folder");
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(spec)) {
        if (!entry.is_directory()) continue;
        const std::string folder = entry.path().filename().string();
        std::size_t label = classes;
        for (std::size_t k = 0; k < classes; ++k)
            if (class_name(info, k) == folder || std::to_string(k) == folder) label = k;
        if (label == classes)
            throw Failure(ExitCode::usage, "--train '" + spec + "': the folder '" + folder +
                                               "' is neither a class name nor a class index of the model");
        std::vector<std::filesystem::path> in_class;
        for (const auto& image : std::filesystem::directory_iterator(entry.path()))
            if (image.is_regular_file() && is_image_file(image.path())) in_class.push_back(image.path());
        std::sort(in_class.begin(), in_class.end());
        for (const auto& file : in_class) {
            files.push_back(file);
            source.labels.push_back(label);
        }
    }
    if (files.empty()) throw Failure(ExitCode::image, "--train '" + spec + "' holds no class folders with images");
    // Sorted by path, so the order (the example indices) does not depend on the file system's.
    std::vector<std::size_t> order(files.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return files[a] < files[b]; });
    std::vector<std::filesystem::path> sorted;
    xai::Labels labels;
    for (std::size_t i : order) sorted.push_back(files[i]), labels.push_back(source.labels[i]);
    source.labels = std::move(labels);
    source.description = "folder " + spec + ", " + std::to_string(sorted.size()) + " images";
    source.images = [sorted, input, info](std::size_t first, std::size_t k) {
        std::vector<xai::Image> images;
        for (std::size_t i = first; i < first + k; ++i) {
            try {
                images.push_back(prepare_image(sorted[i], input, info).input);
            } catch (const xai::error& e) {
                throw Failure(ExitCode::image, "--train: cannot read image '" + sorted[i].string() + "': " + e.what());
            }
        }
        return xai::stack(images);
    };
    return source;
}

/// The influence method, prepared once per run: the training set's pooled features, the last
/// layer as a logistic regression, and the exact solver's factorized Hessian.
class InfluenceMethod {
public:
    template <xai::FeatureModel Model>
    InfluenceMethod(const Model& model, TrainingSource source, xai::InfluenceOptions options, double damping,
                    const xai::Progress& progress)
        : source_(std::move(source)) {
        const std::size_t n = source_.labels.size(), k = model.num_classes(), batch = 256;
        xai::Scores first_logits;
        for (std::size_t first = 0; first < n; first += batch) {
            const std::size_t count = std::min(batch, n - first);
            auto [pooled, logits] = pooled_features(model, source_.images(first, count));
            if (first == 0) {
                features_ = xai::Batch::from_shape({n, pooled.shape(1), 1, 1});
                first_logits = logits;
            }
            std::copy(pooled.begin(), pooled.end(), features_.begin() + static_cast<std::ptrdiff_t>(first * pooled.shape(1)));
            xai::detail::report(progress, first + count, n, "training images");
        }
        const std::size_t c = features_.shape(1);
        const xt::xtensor<float, 2> w = model.classifier_weights();
        double lambda = 0.0;
        if constexpr (requires { model.l2_regularization(); }) lambda = model.l2_regularization();
        head_ = std::make_unique<xai::models::LogisticRegression>(
            xai::models::LogisticRegression::multinomial({c, 1, 1}, k, lambda));
        Eigen::VectorXd theta(static_cast<Eigen::Index>(k * c + k));
        for (std::size_t j = 0; j < k; ++j) {
            double dot = 0.0;
            for (std::size_t i = 0; i < c; ++i) {
                theta[static_cast<Eigen::Index>(j * c + i)] = w(j, i);
                dot += static_cast<double>(w(j, i)) * features_(0, i, 0, 0);
            }
            theta[static_cast<Eigen::Index>(k * c + j)] = static_cast<double>(first_logits(0, j)) - dot;  // b = logits − W g
        }
        head_->set_parameters(theta);
        options.stationarity = xai::StationarityPolicy::warn;
        influence_ = std::make_unique<xai::Influence<xai::models::LogisticRegression, xai::ExactSolver>>(
            *head_, features_, source_.labels, std::move(options), xai::ExactSolver{damping}, progress);
    }

    // The Influence object keeps references to features_, source_.labels and *head_.
    InfluenceMethod(const InfluenceMethod&) = delete;
    InfluenceMethod& operator=(const InfluenceMethod&) = delete;

    const TrainingSource& source() const { return source_; }
    const xai::InfluenceDiagnostics& diagnostics() const { return influence_->diagnostics(); }
    double l2_regularization() const { return head_->l2_regularization(); }

    /// The influence of every training example on `image` (the model's input) for class `target`.
    template <xai::FeatureModel Model>
    xai::InfluenceExplanation explain(const Model& model, const xai::Image& image, std::size_t target) const {
        const xai::Batch pooled = pooled_features(model, xai::as_batch(image)).first;
        return influence_->explain(xai::image_at(pooled, 0), xai::Target::class_index(target));
    }

private:
    TrainingSource source_;
    xai::Batch features_;
    std::unique_ptr<xai::models::LogisticRegression> head_;  // the Influence keeps references to it and to features_
    std::unique_ptr<xai::Influence<xai::models::LogisticRegression, xai::ExactSolver>> influence_;
};

}  // namespace xai_explain
