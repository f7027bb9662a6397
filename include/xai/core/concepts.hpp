#pragma once
// The abstract Model interface: one small C++20 concept per capability.
//
// Each explainer states the weakest concept it needs, so a black-box model (forward passes
// only) still gets LIME, RISE and occlusion, and one that also gives a layer's activations gets
// Score-CAM and Eigen-CAM. docs/concepts.md shows a skeleton
// class per concept; a compile error that names a concept points there.
//
//   Classifier              forward(batch) -> logits, num_classes(), input_shape()
//   DenseOutputModel        + output_shape(): each image's output is a tensor (a segmentation
//                           network's K×H×W class scores), flattened row-major into forward()'s rows
//   FeatureModel            + forward_features(batch), classifier_weights()      (CAM)
//   LayerActivationModel    + layer_names(), layer_activations(batch, layer)      (Eigen-CAM, Score-CAM)
//   LayerGradientModel      + layer_gradients(batch, layer, seed)                 (Grad-CAM family)
//   LayerForwardModel       + forward_from(layer, activations)                    (Ablation-CAM)
//   InputGradientModel      + input_gradients(batch, seed)                        (gradient attribution, I_pert)
//   ReluBackwardModel       + input_gradients(batch, seed, ReluBackward)          (guided backprop, deconvnet)
//   BiasGradientModel       + bias_gradients(batch, seed)                         (FullGrad)
//   TwiceDifferentiableModel  parameters, per-example loss gradients, Hessian-vector products (influence)
//   ExactHessianModel       + loss_hessian(batch, labels)                         (the exact influence solver)
//
// Requirements common to all: the functions are const and safe to call from several threads
// at once; they never keep state between calls (a gradient refers to the call that returned
// it); logits are pre-softmax scores (see core/scores.hpp for black boxes that output
// probabilities).

#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/eigen.hpp"

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// Given the logits of a batch (N×K), returns d(target score)/d(logits) (N×K): the gradient a
/// layer-gradient or input-gradient model backpropagates. Explainers build it from their
/// targets and ScoreKind with target_score_gradient(); it is a callback so that "the predicted
/// class" can be resolved from the same forward pass that the backward pass uses.
using ScoreSeed = std::function<Scores(const Scores& logits)>;

/// Final feature maps (N×C×h×w, the input of global average pooling) and the logits.
struct FeatureOutput {
    Batch features;  ///< Final feature maps, N×C×h×w (the input of global average pooling).
    Scores scores;   ///< Logits of the same forward pass, N×K.
};

/// Activations of a named layer and the logits of the same forward pass.
struct LayerOutput {
    Activations activations;  ///< N×C×h×w, or N×T×D for token-shaped layers
    Scores scores;            ///< Logits of the same forward pass, N×K.
};

/// Activations of a named layer, the gradient of the seeded score with respect to them
/// (same shape), and the logits of the same forward pass.
struct LayerGradients {
    Activations activations;  ///< The layer's activations, N×C×h×w (or N×T×D).
    Activations gradients;    ///< d(seeded score)/d(activations), same shape as `activations`.
    Scores scores;            ///< Logits of the same forward pass, N×K.
};

/// Gradient of the seeded score with respect to the input batch, and the logits.
struct InputGradients {
    Batch gradients;  ///< d(seeded score)/d(input), same shape as the batch (N×C×H×W).
    Scores scores;    ///< Logits of the same forward pass, N×K.
};

/// The gradient of the seeded score at the output of one layer that adds a bias (a convolution,
/// a linear layer, a batch normalisation folded into its affine map), and that bias: the
/// bias-gradient of FullGrad (Srinivas & Fleuret 2019) is `gradients ⊙ bias`, the bias broadcast
/// over the layer's spatial positions (∂f/∂b_c = Σ_positions gradients_c; the map keeps the positions).
struct LayerBiasGradient {
    std::string layer;        ///< the layer's name
    Activations gradients;    ///< d(seeded score)/d(layer output), N×C×h×w (or N×D for a vector layer)
    std::vector<float> bias;  ///< the layer's C (or D) biases, one per output channel
};

/// One forward and one backward pass that keep the input gradient and the gradient at every
/// biased layer's output: the full-gradient decomposition f(x) = ∇ₓf·x + Σ_layers Σ (∇_b f ⊙ b)
/// holds exactly for a network of ReLUs, max pooling and affine layers (f is positively
/// homogeneous of degree 1 in the input and the biases together).
struct BiasGradients {
    Batch input_gradients;                 ///< d(seeded score)/d(input), N×C×H×W
    std::vector<LayerBiasGradient> layers; ///< every layer with a bias, first to last
    Scores scores;                         ///< Logits of the same forward pass, N×K.
};

/// A named, contiguous range of the flat parameter vector (e.g. the weights of "fc").
struct ParameterBlock {
    std::string name;        ///< Name of the block, e.g. "fc.weight" or "conv1.bias".
    std::size_t offset = 0;  ///< Index of the block's first entry in the flat parameter vector.
    std::size_t size = 0;    ///< Number of entries in the block.
};

template <class M>
concept Classifier = requires(const M& model, const Batch& batch) {
    { model.forward(batch) } -> std::same_as<Scores>;
    { model.num_classes() } -> std::convertible_to<std::size_t>;
    { model.input_shape() } -> std::convertible_to<ImageShape>;
};

/// A model whose output per image is a tensor rather than a vector of class scores, e.g. a
/// semantic-segmentation network's K×H×W scores. forward() returns it flattened row-major, one
/// row of D = Π output_shape() values per image (num_classes() is D), so every explainer and
/// metric runs on it unchanged (each output value is a "class" of the flattened row). A
/// classifier whose output_shape() is {K} is one too.
template <class M>
concept DenseOutputModel = Classifier<M> && requires(const M& model) {
    { model.output_shape() } -> std::convertible_to<std::vector<std::size_t>>;
};

template <class M>
concept FeatureModel = Classifier<M> && requires(const M& model, const Batch& batch) {
    { model.forward_features(batch) } -> std::same_as<FeatureOutput>;
    /// K×C: logits = W · GAP(features) + b
    { model.classifier_weights() } -> std::convertible_to<xt::xtensor<float, 2>>;
};

template <class M>
concept LayerActivationModel = Classifier<M> && requires(const M& model, const Batch& batch, const std::string& layer) {
    { model.layer_names() } -> std::convertible_to<std::vector<std::string>>;
    { model.layer_activations(batch, layer) } -> std::same_as<LayerOutput>;
};

template <class M>
concept LayerGradientModel = LayerActivationModel<M> &&
    requires(const M& model, const Batch& batch, const std::string& layer, const ScoreSeed& seed) {
        { model.layer_gradients(batch, layer, seed) } -> std::same_as<LayerGradients>;
    };

template <class M>
concept LayerForwardModel = LayerActivationModel<M> &&
    requires(const M& model, const std::string& layer, const Activations& activations) {
        { model.forward_from(layer, activations) } -> std::same_as<Scores>;
    };

template <class M>
concept InputGradientModel = Classifier<M> && requires(const M& model, const Batch& batch, const ScoreSeed& seed) {
    { model.input_gradients(batch, seed) } -> std::same_as<InputGradients>;
};

/// How a backward pass goes through each ReLU y = max(x, 0), given the gradient g that reaches
/// its output: `standard` g·[x > 0] (backpropagation); `guided` max(g, 0)·[x > 0] (guided
/// backpropagation, Springenberg et al., ICLR-W 2015); `deconvolution` max(g, 0), the forward
/// pass's mask ignored (the deconvnet, Zeiler & Fergus, ECCV 2014). Every other layer
/// backpropagates as usual (max pooling through the switches of the forward pass).
enum class ReluBackward { standard, guided, deconvolution };

/// The rule's name: "standard", "guided" or "deconvolution".
inline std::string_view to_string(ReluBackward rule) {
    switch (rule) {
        case ReluBackward::standard: return "standard";
        case ReluBackward::guided: return "guided";
        case ReluBackward::deconvolution: return "deconvolution";
    }
    return "unknown";
}

/// An InputGradientModel whose backward pass through its ReLUs can follow a ReluBackward rule:
/// input_gradients(batch, seed, rule) is input_gradients(batch, seed) with every ReLU's backward
/// replaced by the rule (ReluBackward::standard gives the ordinary gradient). A model with other
/// rectifiers (GELU, leaky ReLU, …), for which the rules are not defined, throws model_error
/// naming them.
template <class M>
concept ReluBackwardModel = InputGradientModel<M> &&
    requires(const M& model, const Batch& batch, const ScoreSeed& seed, ReluBackward rule) {
        { model.input_gradients(batch, seed, rule) } -> std::same_as<InputGradients>;
    };

/// An InputGradientModel that also returns the gradient at every biased layer's output with its
/// bias (BiasGradients), from one forward and one backward pass: what FullGrad needs. The biases
/// must include every implicit one (batch normalisation's shift), or completeness fails.
template <class M>
concept BiasGradientModel = InputGradientModel<M> && requires(const M& model, const Batch& batch, const ScoreSeed& seed) {
    { model.bias_gradients(batch, seed) } -> std::same_as<BiasGradients>;
};

/// The loss is the cross-entropy of each example, L(z, θ), without regularization; the
/// training objective is (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² with λ = l2_regularization().
/// loss_hessian_vector_product(x, y, v) is ∇²[(1/n) Σ_{i in batch} L(z_i, θ)] v + λ v, so
/// averaging it over batches weighted by their size gives the Hessian of the full objective.
template <class M>
concept TwiceDifferentiableModel = Classifier<M> &&
    requires(const M& model, const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) {
        { model.num_parameters() } -> std::convertible_to<std::size_t>;
        { model.parameters() } -> std::convertible_to<Eigen::VectorXd>;
        { model.parameter_blocks() } -> std::convertible_to<std::vector<ParameterBlock>>;
        { model.l2_regularization() } -> std::convertible_to<double>;
        { model.per_example_losses(batch, labels) } -> std::convertible_to<Eigen::VectorXd>;
        /// P×N: column i is ∇θ L(z_i, θ)
        { model.per_example_loss_gradients(batch, labels) } -> std::convertible_to<Eigen::MatrixXd>;
        { model.loss_hessian_vector_product(batch, labels, v) } -> std::convertible_to<Eigen::VectorXd>;
    };

template <class M>
concept ExactHessianModel = TwiceDifferentiableModel<M> && requires(const M& model, const Batch& batch, const Labels& labels) {
    { model.loss_hessian(batch, labels) } -> std::convertible_to<Eigen::MatrixXd>;
};

namespace detail {

/// Checks a batch against a model's expected input: rank 4, non-empty, matching C×H×W, finite.
template <Classifier M>
void require_model_input(const M& model, const Batch& batch, const char* where) {
    require<shape_error>(batch.shape(0) > 0, where, ": the batch is empty, expected at least one image");
    const ImageShape expected = model.input_shape();
    require<shape_error>(image_shape(batch) == expected, where, ": images are ", to_string(image_shape(batch)),
                         ", the model expects ", to_string(expected), " (C×H×W)");
    if (!all_finite(batch.data(), batch.size())) throw invalid_argument(message(where, ": the batch contains NaN or Inf, expected finite pixel values"));
}

/// Checks what a model returned: N×K and finite, else model_error.
inline void require_model_scores(const Scores& scores, std::size_t n, std::size_t k, const char* where) {
    if (scores.shape(0) != n || scores.shape(1) != k)
        throw model_error(message(where, ": the model returned scores of shape ", shape_string(scores.shape()),
                                  ", expected [", n, ", ", k, "]"));
    if (!all_finite(scores))
        throw model_error(message(where, ": the model returned NaN or Inf scores"));
}

/// model.forward(batch) with the output checked.
template <Classifier M>
Scores checked_forward(const M& model, const Batch& batch, const char* where) {
    Scores scores = model.forward(batch);
    require_model_scores(scores, batch.shape(0), model.num_classes(), where);
    return scores;
}

}  // namespace detail
}  // namespace xai
