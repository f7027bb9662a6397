#pragma once
// The built-in reference CNN, BasicSequential<Scalar>: its state (input shape, layers, flat
// parameter vector, λ, seed, threads), the builder (add), its description, and the concept API
// of core/concepts.hpp:
//
//   Classifier, FeatureModel (when the network ends in global_avg_pool → linear),
//   LayerActivationModel, LayerGradientModel, LayerForwardModel, InputGradientModel,
//   ReluBackwardModel (guided backpropagation and the deconvnet), BiasGradientModel (FullGrad),
//   TwiceDifferentiableModel (exact Hessian-vector products by Pearlmutter's R-operator).
//
//   xai::models::Sequential net({1, 28, 28});
//   net.add(conv2d(32, 3, 1, 1)).add(relu()).add(max_pool2d(2)).add(global_avg_pool()).add(linear(10));
//   // layer names: conv1, relu1, pool1, gap, fc
//
// Every member checks its arguments and leaves the work to the parts: the layers and their
// resolution (layers.hpp), the passes (detail/engine.hpp: backpropagation that computes only
// what a call needs, exact R-operator Hessian-vector products, per-image determinism), the
// initialisation (detail/initialize.hpp), the description (detail/describe.hpp) and the
// weights file (weights_file.hpp, detail/serialization.hpp). Include xai/models/sequential.hpp.
//
// Every function that takes a batch is const, keeps no state between calls, and is thread-safe.
// Images are processed one by one (in parallel over the batch with set_num_threads), so the
// result for an image depends neither on the batch it is in nor on the thread count; sums over
// a batch (loss gradients, Hessian-vector products) are reduced in fixed chunks of 16 images in
// index order, so they too are identical for any thread count.
//
// Scalar is float (the default, `Sequential`) or double (`BasicSequential<double>`, for
// gradient checks and influence functions). Both take and return float tensors in the concept
// functions, and double vectors for parameters. Error messages start with
// "xai::models::Sequential::<function>(): ".

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"

#include "xai/core/compiled.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential/detail/describe.hpp"
#include "xai/models/sequential/detail/engine.hpp"
#include "xai/models/sequential/detail/initialize.hpp"
#include "xai/models/sequential/detail/kernels.hpp"
#include "xai/models/sequential/detail/serialization.hpp"
#include "xai/models/sequential/layers.hpp"
#include "xai/models/sequential/weights_file.hpp"

namespace xai::models {

/// A training loss of one image's outputs other than the cross-entropy with one class label
/// (e.g. the per-pixel cross-entropy of a segmentation network, models/segmentation.hpp):
/// given the image's index in the batch and its outputs (the num_classes() values of its row of
/// forward()), returns the loss and writes ∂loss/∂outputs into `gradient` (same size). In
/// double whatever the model's Scalar.
using OutputLoss = std::function<double(std::size_t image, std::span<const double> outputs, std::span<double> gradient)>;

/// The built-in reference CNN: a sequential stack of conv2d, relu, max_pool2d, global_avg_pool,
/// flatten and linear layers written with Eigen, satisfying every model concept of
/// core/concepts.hpp (FeatureModel when it ends in global_avg_pool → linear), with exact
/// Hessian-vector products (Pearlmutter 1994). Every batch function is const and thread-safe,
/// and bit-for-bit deterministic for any thread count and batch size.
///
/// `Scalar` is float (`Sequential`) or double (for gradient checks and influence functions);
/// both take and return float tensors and double parameter vectors.
template <class Scalar>
class BasicSequential {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "BasicSequential: Scalar must be float or double");

public:
    using scalar_type = Scalar;  ///< the type of the parameters and of the arithmetic

    /// An empty model: every function that needs layers throws model_error.
    BasicSequential() = default;

    /// A model for images of `input_shape` (C×H×W) with the given layers, initialised from `seed`.
    explicit BasicSequential(ImageShape input_shape, const std::vector<LayerSpec>& layers = {}, std::uint64_t seed = 0)
        : input_shape_(input_shape), seed_(seed) {
        constexpr const char* where = "xai::models::Sequential::Sequential()";
        detail::require<shape_error>(input_shape.channels > 0 && input_shape.height > 0 && input_shape.width > 0, where,
                                     ": the input shape is ", to_string(input_shape),
                                     ", expected positive channels, height and width");
        detail::require<shape_error>(input_shape.height <= detail::max_layer_values / input_shape.width &&
                                         input_shape.channels <= detail::max_layer_values / (input_shape.height * input_shape.width),
                                     where, ": the input shape is ", to_string(input_shape), ", more than ",
                                     detail::max_layer_values, " values (too large for any memory)");
        for (const LayerSpec& spec : layers) add(spec);
    }

    /// The same architecture and parameters in another scalar type (float ↔ double).
    template <class Other>
        requires(!std::is_same_v<Other, Scalar>)
    explicit BasicSequential(const BasicSequential<Other>& other)
        : input_shape_(other.input_shape()), l2_(other.l2_regularization()), seed_(other.seed()),
          threads_(other.num_threads()) {
        for (const Layer& l : other.layers()) add(l.spec);
        const auto values = other.parameter_values();
        std::transform(values.begin(), values.end(), params_.begin(), [](Other v) { return static_cast<Scalar>(v); });
    }

    /// Appends a layer and initialises its parameters (see initialize()). An empty name becomes
    /// "conv<k>", "relu<k>", "pool<k>" (k counts layers of that kind from 1), or "gap", "flatten",
    /// "fc" for the first layer of those kinds and "gap2", "fc2", … after. Names must be unique.
    BasicSequential& add(LayerSpec spec) {
        detail::require<model_error>(input_shape_.size() > 0, where_add,
                                     ": the model has no input shape; construct it with one");
        if (spec.name.empty()) spec.name = detail::automatic_layer_name(spec.kind, layers_);
        detail::require(!has_layer(spec.name), where_add, ": a layer named '", spec.name,
                        "' already exists; layer names must be unique");
        const FeatureShape in = layers_.empty()
                                    ? FeatureShape{input_shape_.channels, input_shape_.height, input_shape_.width, true}
                                    : layers_.back().output;
        Layer layer = detail::resolve_layer(spec, in, where_add);
        layer.weight_offset = params_.size();
        layer.bias_offset = layer.weight_offset + layer.weight_size;
        params_.resize(params_.size() + layer.weight_size + layer.bias_size);
        layers_.push_back(std::move(layer));
        initialize_layer(layers_.size() - 1, seed_);
        return *this;
    }

    // ---- description ---------------------------------------------------------------------

    /// The shape of one input image, C×H×W.
    ImageShape input_shape() const { return input_shape_; }
    /// The number of outputs of the last layer; model_error for an empty model or one whose
    /// last layer is not a vector.
    std::size_t num_classes() const {
        require_ready("xai::models::Sequential::num_classes()");
        return layers_.back().output.channels;
    }
    /// The shape of one image's output: {K} for a network that ends in a vector of K class
    /// scores, {C, H, W} for one that ends in `flatten` after a C×H×W map (a segmentation
    /// network's C class scores per pixel, which forward() returns flattened row-major as
    /// N×(C·H·W) scores: the DenseOutputModel concept of core/concepts.hpp).
    std::vector<std::size_t> output_shape() const {
        const std::size_t k = num_classes();
        const Layer& last = layers_.back();
        if (last.spec.kind == LayerKind::flatten && last.input.spatial)
            return {last.input.channels, last.input.height, last.input.width};
        return {k};
    }
    /// True when the model has no layers yet.
    bool empty() const { return layers_.empty(); }
    /// The resolved layers, first to last.
    const std::vector<Layer>& layers() const { return layers_; }
    /// The layer names, first to last (the names explainers accept).
    std::vector<std::string> layer_names() const {
        std::vector<std::string> names;
        names.reserve(layers_.size());
        for (const Layer& l : layers_) names.push_back(l.spec.name);
        return names;
    }
    /// True when a layer is called `name`.
    bool has_layer(const std::string& name) const { return detail::has_layer_named(layers_, name); }
    /// The resolved layer called `name`; invalid_argument (listing the names) when there is none.
    const Layer& layer(const std::string& name) const { return layers_[layer_index(name, "xai::models::Sequential::layer()")]; }
    /// The seed the parameters were drawn from.
    std::uint64_t seed() const { return seed_; }

    /// Threads used over the batch (0 = all hardware threads). Default 1, so that explainers
    /// which parallelise themselves do not oversubscribe.
    void set_num_threads(std::size_t threads) { threads_ = threads; }
    /// Threads used over the batch (0 = all hardware threads; default 1).
    std::size_t num_threads() const { return threads_; }

    // ---- parameters ----------------------------------------------------------------------

    /// The length of the flat parameter vector.
    std::size_t num_parameters() const { return params_.size(); }
    /// The flat parameter vector, layer after layer (weights then bias), in Scalar.
    std::span<const Scalar> parameter_values() const { return params_; }
    /// Mutable access for optimisers (models/training.hpp). The model must not be in use by
    /// other threads while its parameters change.
    std::span<Scalar> parameter_values() { return params_; }

    /// A copy of the flat parameter vector in double (the TwiceDifferentiableModel interface).
    Eigen::VectorXd parameters() const {
        Eigen::VectorXd out(static_cast<Eigen::Index>(params_.size()));
        for (std::size_t i = 0; i < params_.size(); ++i) out[static_cast<Eigen::Index>(i)] = params_[i];
        return out;
    }

    /// Replaces the flat parameter vector (rounded to Scalar). Throws shape_error unless it has
    /// num_parameters() entries, invalid_argument for NaN or Inf.
    void set_parameters(const Eigen::VectorXd& values) {
        detail::require<shape_error>(static_cast<std::size_t>(values.size()) == params_.size(),
                                     "xai::models::Sequential::set_parameters(): values has ", values.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        detail::require(values.allFinite(), "xai::models::Sequential::set_parameters(): values contains NaN or Inf, expected finite values");
        for (std::size_t i = 0; i < params_.size(); ++i) params_[i] = static_cast<Scalar>(values[static_cast<Eigen::Index>(i)]);
    }

    /// "conv1.weight" (O×C×k×k), "conv1.bias" (O), "fc.weight" (K×I), "fc.bias" (K), … in order.
    std::vector<ParameterBlock> parameter_blocks() const { return detail::parameter_blocks(layers_); }

    /// The shape of a parameter block as PyTorch lays it out (O×C×k×k, O, K×I, K).
    std::vector<std::size_t> parameter_shape(const Layer& l, bool weight) const { return detail::parameter_shape(l, weight); }

    /// λ of the training objective (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² (all parameters, biases included).
    double l2_regularization() const { return l2_; }
    /// Sets λ; throws invalid_argument unless it is finite and ≥ 0.
    void set_l2_regularization(double lambda) {
        detail::require(std::isfinite(lambda) && lambda >= 0.0, "xai::models::Sequential::set_l2_regularization(): lambda is ",
                        lambda, ", expected a finite value >= 0");
        l2_ = lambda;
    }

    /// Re-draws every parameter from `seed` (He-uniform weights, PyTorch's biases: detail/initialize.hpp).
    void initialize(std::uint64_t seed) {
        seed_ = seed;
        for (std::size_t l = 0; l < layers_.size(); ++l) initialize_layer(l, seed);
    }

    /// Re-draws one layer's parameters with the model's initialiser from stream (seed, layer
    /// index), so reinitialize_layer(name, seed()) restores the layer's initial values. Layers
    /// without parameters are left alone. Used by the cascading-randomization sanity check
    /// (Adebayo et al. 2018).
    void reinitialize_layer(const std::string& name, std::uint64_t seed) {
        initialize_layer(layer_index(name, "xai::models::Sequential::reinitialize_layer()"), seed);
    }

    // ---- Classifier ----------------------------------------------------------------------

    /// Logits (N×K) of a batch (N×C×H×W). Keeps no activations.
    Scores forward(const Batch& batch) const {
        constexpr const char* where = "xai::models::Sequential::forward()";
        check_batch(batch, where);
        return engine().float_scores(batch.data(), batch.shape(0), 0, where);
    }

    // ---- FeatureModel (CAM) ----------------------------------------------------------------

    /// The input of global average pooling (N×C×h×w) and the logits; needs a network that ends
    /// in global_avg_pool → linear (flatten between them is allowed), else model_error.
    FeatureOutput forward_features(const Batch& batch) const {
        constexpr const char* where = "xai::models::Sequential::forward_features()";
        const std::size_t gap = gap_index(where);
        check_batch(batch, where);
        FeatureOutput out;
        LayerOutput captured = engine().capture(batch, gap - 1, where);
        out.features = Batch::from_shape({captured.activations.shape(0), captured.activations.shape(1),
                                          captured.activations.shape(2), captured.activations.shape(3)});
        std::copy(captured.activations.begin(), captured.activations.end(), out.features.begin());
        out.scores = std::move(captured.scores);
        return out;
    }

    /// K×C weights of the final linear layer (logits = W · GAP(features) + b).
    xt::xtensor<float, 2> classifier_weights() const {
        gap_index("xai::models::Sequential::classifier_weights()");
        const Layer& fc = layers_.back();
        xt::xtensor<float, 2> w = xt::xtensor<float, 2>::from_shape({fc.output.channels, fc.input.channels});
        std::transform(params_.begin() + static_cast<std::ptrdiff_t>(fc.weight_offset),
                       params_.begin() + static_cast<std::ptrdiff_t>(fc.weight_offset + fc.weight_size), w.begin(),
                       [](Scalar v) { return static_cast<float>(v); });
        return w;
    }

    /// K biases of the final linear layer.
    std::vector<float> classifier_bias() const {
        gap_index("xai::models::Sequential::classifier_bias()");
        const Layer& fc = layers_.back();
        std::vector<float> b(fc.bias_size);
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(params_[fc.bias_offset + i]);
        return b;
    }

    /// The name of the layer whose output forward_features() returns (e.g. "relu5").
    std::string feature_layer() const { return layers_[gap_index("xai::models::Sequential::feature_layer()") - 1].spec.name; }

    // ---- LayerActivationModel, LayerGradientModel, LayerForwardModel ---------------------------

    /// The output of layer `layer` (N×C×h×w, or N×D after flatten/gap/linear) and the logits.
    LayerOutput layer_activations(const Batch& batch, const std::string& layer) const {
        constexpr const char* where = "xai::models::Sequential::layer_activations()";
        require_ready(where);
        const std::size_t k = layer_index(layer, where);
        check_batch(batch, where);
        return engine().capture(batch, k, where);
    }

    /// The output of `layer`, the gradient of the seeded score with respect to it, and the
    /// logits: one forward pass (recording only the switches above `layer`) and one backward
    /// pass that stops at `layer`.
    LayerGradients layer_gradients(const Batch& batch, const std::string& layer, const ScoreSeed& seed) const {
        constexpr const char* where = "xai::models::Sequential::layer_gradients()";
        require_ready(where);
        const std::size_t k = layer_index(layer, where);
        check_batch(batch, where);
        return engine().gradients_at(batch, static_cast<std::ptrdiff_t>(k), seed, where);
    }

    /// The logits obtained by running the layers after `layer` on `activations`, which have the
    /// shape of layer_activations(batch, layer).activations.
    Scores forward_from(const std::string& layer, const Activations& activations) const {
        constexpr const char* where = "xai::models::Sequential::forward_from()";
        const std::size_t first = check_activations(layer, activations, where);
        return engine().float_scores(activations.data(), activations.shape(0), first, where);
    }

    /// forward() in the model's own precision (N×K): with BasicSequential<double>, logits that
    /// finite-difference checks can difference without float rounding.
    Eigen::MatrixXd logits(const Batch& batch) const {
        constexpr const char* where = "xai::models::Sequential::logits()";
        check_batch(batch, where);
        return engine().double_scores(batch.data(), batch.shape(0), 0, where);
    }

    /// forward_from() in the model's own precision (N×K).
    Eigen::MatrixXd logits_from(const std::string& layer, const Activations& activations) const {
        constexpr const char* where = "xai::models::Sequential::logits_from()";
        const std::size_t first = check_activations(layer, activations, where);
        return engine().double_scores(activations.data(), activations.shape(0), first, where);
    }

    // ---- InputGradientModel ----------------------------------------------------------------

    /// The gradient of the seeded score with respect to the input, and the logits.
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed) const {
        return input_gradients(batch, seed, ReluBackward::standard);
    }

    // ---- ReluBackwardModel -----------------------------------------------------------------

    /// input_gradients() with every ReLU's backward replaced by `relu` (core/concepts.hpp):
    /// guided backpropagation (max(g, 0)·[x > 0]) or the deconvnet (max(g, 0)); max pooling
    /// backpropagates through the forward pass's switches in all three.
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed, ReluBackward relu) const {
        constexpr const char* where = "xai::models::Sequential::input_gradients()";
        require_ready(where);
        check_batch(batch, where);
        LayerGradients g = engine().gradients_at(batch, -1, seed, where, relu);
        InputGradients out;
        out.gradients = Batch::from_shape(batch.shape());
        std::copy(g.gradients.begin(), g.gradients.end(), out.gradients.begin());
        out.scores = std::move(g.scores);
        return out;
    }

    // ---- BiasGradientModel (FullGrad) -------------------------------------------------------

    /// The input gradient and, for every conv2d and linear layer (first to last), the gradient
    /// of the seeded score at its output with its bias: one forward and one full backward pass.
    /// The network has no implicit biases (ReLU, max pooling, average pooling, upsampling and
    /// flatten are positively homogeneous), so ∇ₓf·x + Σ_layers Σ gradients ⊙ bias = f exactly.
    BiasGradients bias_gradients(const Batch& batch, const ScoreSeed& seed) const {
        constexpr const char* where = "xai::models::Sequential::bias_gradients()";
        require_ready(where);
        check_batch(batch, where);
        return engine().bias_gradients(batch, seed, where);
    }

    // ---- TwiceDifferentiableModel and training ---------------------------------------------

    /// Cross-entropy L(z_i, θ) = log Σ_k exp(z_k) − z_{y_i} of each example (no regularization).
    Eigen::VectorXd per_example_losses(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "xai::models::Sequential::per_example_losses()";
        check_labelled(batch, labels, where);
        const std::size_t k = num_classes(), d = input_shape_.size();
        Eigen::VectorXd losses(static_cast<Eigen::Index>(labels.size()));
        const detail::Engine<Scalar> e = engine();
        e.for_each_image(labels.size(), [&](Workspace& ws, std::size_t i) {
            const Scalar* z = e.run_forward(ws.load(batch.data() + i * d, d), 0, layers_.size(), ws, nullptr);
            losses[static_cast<Eigen::Index>(i)] = e.cross_entropy(z, k, labels[i], nullptr);
        });
        if (!losses.allFinite()) throw model_error(detail::message(where, ": a loss is not finite (diverged parameters?)"));
        return losses;
    }

    /// P×N: column i is ∇θ L(z_i, θ) (no regularization).
    Eigen::MatrixXd per_example_loss_gradients(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "xai::models::Sequential::per_example_loss_gradients()";
        check_labelled(batch, labels, where);
        const std::size_t p = params_.size();
        Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(labels.size()));
        const detail::Engine<Scalar> e = engine();
        e.for_each_image(labels.size(), [&](Workspace& ws, std::size_t i) {
            detail::AlignedVector<Scalar> gradient(p, Scalar(0));
            e.image_loss_gradient(ws, batch, i, labels[i], gradient.data(), where);
            for (std::size_t j = 0; j < p; ++j) out(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) = gradient[j];
        });
        return out;
    }

    /// The training objective (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² on a batch.
    double objective(const Batch& batch, const Labels& labels) const {
        const Eigen::VectorXd losses = per_example_losses(batch, labels);
        return losses.mean() + 0.5 * l2_ * squared_norm();
    }

    /// The objective (returned) and its gradient (1/n) Σ ∇θ L(z_i, θ) + λθ written to
    /// `gradient` (num_parameters() entries). This is what optimisers call.
    double objective_gradient(const Batch& batch, const Labels& labels, std::span<Scalar> gradient) const {
        constexpr const char* where = "xai::models::Sequential::objective_gradient()";
        check_labelled(batch, labels, where);
        detail::require<shape_error>(gradient.size() == params_.size(), where, ": gradient has ", gradient.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        const std::size_t n = labels.size();
        std::vector<double> losses(n);
        const detail::Engine<Scalar> e = engine();
        e.reduce_chunks(n, gradient, [&](Workspace& ws, std::size_t i, Scalar* acc) {
            losses[i] = e.image_loss_gradient(ws, batch, i, labels[i], acc, where);
        });
        double loss = 0.0;
        for (double l : losses) loss += l;
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(n);
        for (std::size_t j = 0; j < params_.size(); ++j)
            gradient[j] = gradient[j] * inv_n + static_cast<Scalar>(l2_) * params_[j];
        return loss / static_cast<double>(n) + 0.5 * l2_ * squared_norm();
    }

    /// The objective (1/n) Σ loss(i, z_i) + (λ/2)‖θ‖² of another loss than the cross-entropy
    /// with one label (returned; e.g. a per-pixel cross-entropy, models/segmentation.hpp), and
    /// its gradient written to `gradient` (num_parameters() entries). Deterministic for any
    /// thread count, like the labelled form; `loss` must be safe to call from several threads.
    double objective_gradient(const Batch& batch, const OutputLoss& loss, std::span<Scalar> gradient) const {
        constexpr const char* where = "xai::models::Sequential::objective_gradient()";
        check_batch(batch, where);
        detail::require(static_cast<bool>(loss), where, ": loss is an empty function, expected an OutputLoss");
        detail::require<shape_error>(gradient.size() == params_.size(), where, ": gradient has ", gradient.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        const std::size_t n = batch.shape(0);
        std::vector<double> losses(n);
        const detail::Engine<Scalar> e = engine();
        e.reduce_chunks(n, gradient, [&](Workspace& ws, std::size_t i, Scalar* acc) {
            losses[i] = e.image_output_loss_gradient(ws, batch, i, loss, acc, where);
        });
        double total = 0.0;
        for (double l : losses) total += l;
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(n);
        for (std::size_t j = 0; j < params_.size(); ++j)
            gradient[j] = gradient[j] * inv_n + static_cast<Scalar>(l2_) * params_[j];
        return total / static_cast<double>(n) + 0.5 * l2_ * squared_norm();
    }

    /// ∇²[(1/n) Σ_{i in batch} L(z_i, θ)] v + λ v, exactly, by Pearlmutter's R-operator (see top).
    Eigen::VectorXd loss_hessian_vector_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        constexpr const char* where = "xai::models::Sequential::loss_hessian_vector_product()";
        check_labelled(batch, labels, where);
        detail::require<shape_error>(static_cast<std::size_t>(v.size()) == params_.size(), where, ": v has ", v.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        detail::require(v.allFinite(), where, ": v contains NaN or Inf, expected finite values");
        detail::AlignedVector<Scalar> direction(params_.size());
        for (std::size_t j = 0; j < params_.size(); ++j) direction[j] = static_cast<Scalar>(v[static_cast<Eigen::Index>(j)]);
        detail::AlignedVector<Scalar> sum(params_.size(), Scalar(0));
        const detail::Engine<Scalar> e = engine();
        e.reduce_chunks(labels.size(), std::span<Scalar>(sum), [&](Workspace& ws, std::size_t i, Scalar* acc) {
            e.image_hessian_vector_product(ws, batch, i, labels[i], direction.data(), acc);
        });
        Eigen::VectorXd out(v.size());
        const double inv_n = 1.0 / static_cast<double>(labels.size());
        for (std::size_t j = 0; j < params_.size(); ++j)
            out[static_cast<Eigen::Index>(j)] = static_cast<double>(sum[j]) * inv_n + l2_ * v[static_cast<Eigen::Index>(j)];
        return out;
    }

    // ---- weights files ---------------------------------------------------------------------

    /// The architecture and parameters as a WeightsFile (float32 tensors named like parameter_blocks()).
    WeightsFile to_weights_file() const {
        require_ready("xai::models::Sequential::to_weights_file()");
        return detail::weights_file_of(input_shape_, num_classes(), l2_, layers_, parameter_values());
    }

    /// Writes the architecture and the parameters (as float32) to `path` (format: sequential/weights_file.hpp).
    void save(const std::filesystem::path& path) const {
        require_ready("xai::models::Sequential::save()");
        write_weights_file(to_weights_file(), path);
    }

    /// Replaces the parameters with those of a file whose architecture equals this model's;
    /// io_error when it differs (or the file is unreadable).
    void load_parameters(const std::filesystem::path& path) {
        require_ready("xai::models::Sequential::load_parameters()");
        BasicSequential loaded = from_weights_file(read_weights_file(path), path.string());
        if (!(loaded.input_shape_ == input_shape_) || loaded.layers_.size() != layers_.size() ||
            !std::equal(layers_.begin(), layers_.end(), loaded.layers_.begin(),
                        [](const Layer& a, const Layer& b) { return a.spec == b.spec; }))
            throw io_error(detail::message("xai::models::Sequential::load_parameters(): '", path.string(),
                                           "' holds a different architecture (", loaded.describe(), ") than this model (",
                                           describe(), ")"));
        params_ = std::move(loaded.params_);
        l2_ = loaded.l2_;
    }

    /// Rebuilds a model from a WeightsFile; io_error (naming `source`) when the architecture is
    /// invalid or the tensors do not match it.
    static BasicSequential from_weights_file(const WeightsFile& file, const std::string& source) {
        BasicSequential model;
        try {
            model = BasicSequential(file.input);
            // Before anything is allocated: the file must hold every parameter its layers need.
            detail::require_stored_parameters(file, where_add);
            for (const LayerSpec& spec : file.layers) {
                detail::require(!spec.name.empty(), "a layer has an empty name");
                model.add(spec);
            }
        } catch (const xai::error& e) {
            throw io_error(detail::message("xai::models::load(): '", source, "' describes an invalid architecture: ", e.what()));
        }
        detail::require<io_error>(!model.empty(), "xai::models::load(): '", source, "' describes a model with no layers");
        detail::require<io_error>(!model.layers_.back().output.spatial && model.num_classes() == file.num_classes,
                                  "xai::models::load(): '", source, "' declares ", file.num_classes,
                                  " classes but its layers produce ", to_string(model.layers_.back().output));
        detail::read_parameters(file, model.layers_, std::span<Scalar>(model.params_), source);
        model.l2_ = file.l2_regularization;
        return model;
    }

    /// "1x28x28 -> conv1 conv2d(32, k3, s1, p1) -> relu1 relu -> … -> fc linear(10)".
    std::string describe() const { return detail::describe(input_shape_, layers_); }

private:
    using Workspace = typename detail::Engine<Scalar>::Workspace;

    /// The prefix of add()'s messages, also used for the layers of a weights file.
    static constexpr const char* where_add = "xai::models::Sequential::add()";

    /// The forward/backward/R-operator passes over this model's layers and parameters.
    detail::Engine<Scalar> engine() const { return detail::Engine<Scalar>(input_shape_, layers_, params_.data(), threads_); }

    /// Draws layer `index`'s parameters from stream (seed, index) (detail/initialize.hpp).
    void initialize_layer(std::size_t index, std::uint64_t seed) {
        detail::initialize_layer(layers_[index], index, seed, params_.data());
    }

    std::size_t layer_index(const std::string& name, const char* where) const {
        for (std::size_t i = 0; i < layers_.size(); ++i)
            if (layers_[i].spec.name == name) return i;
        std::string names;
        for (const Layer& l : layers_) names += (names.empty() ? "" : ", ") + l.spec.name;
        throw invalid_argument(detail::message(where, ": unknown layer '", name, "', expected one of: ",
                                               names.empty() ? std::string("(no layers)") : names));
    }

    void require_ready(const char* where) const {
        detail::require<model_error>(!layers_.empty(), where, ": the model is empty (no layers); build or load one first");
        detail::require<model_error>(!layers_.back().output.spatial, where, ": the last layer '",
                                     layers_.back().spec.name, "' outputs ", to_string(layers_.back().output),
                                     ", expected a vector of class scores (end the model with a linear layer)");
    }

    void check_batch(const Batch& batch, const char* where) const {
        require_ready(where);
        xai::detail::require_model_input(*this, batch, where);
    }

    void check_labelled(const Batch& batch, const Labels& labels, const char* where) const {
        check_batch(batch, where);
        detail::require<shape_error>(labels.size() == batch.shape(0), where, ": ", labels.size(), " labels for ",
                                     batch.shape(0), " images, expected one label per image");
        const std::size_t k = num_classes();
        for (std::size_t i = 0; i < labels.size(); ++i)
            detail::require(labels[i] < k, where, ": labels[", i, "] = ", labels[i], ", expected a class index below ", k);
    }

    /// Index of the global_avg_pool layer of a network ending in gap → (flatten) → linear.
    std::size_t gap_index(const char* where) const {
        require_ready(where);
        std::size_t i = layers_.size() - 1;
        bool ok = layers_[i].spec.kind == LayerKind::linear && i > 0;
        if (ok) {
            --i;
            if (layers_[i].spec.kind == LayerKind::flatten && i > 0) --i;
            ok = layers_[i].spec.kind == LayerKind::global_avg_pool && i > 0;
        }
        detail::require<model_error>(ok, where, ": the model does not end in global_avg_pool followed by linear (",
                                     describe(), "); CAM's feature maps and classifier weights need that head");
        return i;
    }

    double squared_norm() const {
        double sum = 0.0;
        for (Scalar v : params_) sum += static_cast<double>(v) * static_cast<double>(v);
        return sum;
    }

    /// Checks activations for the layers after `layer`; returns the index of the first of them.
    std::size_t check_activations(const std::string& layer, const Activations& activations, const char* where) const {
        require_ready(where);
        const std::size_t k = layer_index(layer, where);
        const FeatureShape& s = layers_[k].output;
        const bool ok = s.spatial ? activations.dimension() == 4 && activations.shape(1) == s.channels &&
                                        activations.shape(2) == s.height && activations.shape(3) == s.width
                                  : activations.dimension() == 2 && activations.shape(1) == s.channels;
        detail::require<shape_error>(ok, where, ": activations have shape ", shape_string(activations.shape()),
                                     ", expected [N, ", to_string(s), "] (the output of layer '", layer, "')");
        detail::require<shape_error>(activations.shape(0) > 0, where, ": activations hold no images, expected N >= 1");
        if (!all_finite(activations))
            throw invalid_argument(detail::message(where, ": activations contain NaN or Inf, expected finite values"));
        return k + 1;
    }

    ImageShape input_shape_{};
    std::vector<Layer> layers_;
    detail::AlignedVector<Scalar> params_;
    double l2_ = 0.0;
    std::uint64_t seed_ = 0;
    std::size_t threads_ = 1;
};

/// The built-in CNN in single precision.
using Sequential = BasicSequential<float>;

#if defined(XAI_COMPILED_LIB) && !defined(XAI_COMPILED_LIB_SOURCE)
// Compiled mode (core/compiled.hpp): the single-precision model and its engine are instantiated
// once, in src/compiled.cpp.
extern template class detail::Engine<float>;
extern template class BasicSequential<float>;
#endif

/// Rebuilds a model (architecture and parameters) from a .xaiw file; io_error for a missing,
/// foreign, truncated, corrupt or inconsistent file.
template <class Scalar = float>
BasicSequential<Scalar> load_as(const std::filesystem::path& path) {
    return BasicSequential<Scalar>::from_weights_file(read_weights_file(path), path.string());
}

/// Rebuilds a single-precision model from a .xaiw file (see load_as).
inline Sequential load(const std::filesystem::path& path) { return load_as<float>(path); }

}  // namespace xai::models

// Compiled mode: the explicit instantiation declarations for the built-in model's Grad-CAM,
// once both headers are in (core/compiled_instances.hpp).
#define XAI_SEQUENTIAL_HPP_INCLUDED 1
#if defined(XAI_COMPILED_LIB) && !defined(XAI_COMPILED_LIB_SOURCE) && defined(XAI_GRAD_CAM_HPP_INCLUDED)
#include "xai/core/compiled_instances.hpp"
#endif
