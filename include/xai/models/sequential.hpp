#pragma once
// The built-in reference CNN: a sequential stack of conv2d, relu, max_pool2d, global_avg_pool,
// flatten and linear layers (models/layers.hpp), written with Eigen, satisfying every model
// concept of core/concepts.hpp:
//
//   Classifier, FeatureModel (when the network ends in global_avg_pool → linear),
//   LayerActivationModel, LayerGradientModel, LayerForwardModel, InputGradientModel,
//   TwiceDifferentiableModel (exact Hessian-vector products by Pearlmutter's R-operator).
//
//   xai::models::Sequential net({1, 28, 28});
//   net.add(conv2d(32, 3, 1, 1)).add(relu()).add(max_pool2d(2)).add(global_avg_pool()).add(linear(10));
//   // layer names: conv1, relu1, pool1, gap, fc
//
// Backpropagation (Rumelhart, Hinton & Williams 1986) computes only what a call needs:
// layer_gradients(batch, layer, seed) runs one forward pass, recording only the ReLU masks and
// pooling switches of the layers above `layer`, and one backward pass that stops at `layer`
// (no parameter gradients, no input gradient, no layers below). forward() keeps nothing.
//
// Hessian-vector products are exact: Pearlmutter (1994), "Fast exact multiplication by the
// Hessian", applies the R-operator R{·} = ∂/∂r (·)(θ + r v) at r = 0 to the forward and the
// backward pass. ReLU and max pooling are piecewise linear, so their R-images use the same masks
// and switches; the softmax cross-entropy gives R{∂L/∂z} = (diag p − p pᵀ) R{z}; an affine layer
// y = W x + b gives R{y} = W R{x} + V_W x + V_b and, backwards,
// R{∂L/∂x} = Wᵀ R{∂L/∂y} + V_Wᵀ ∂L/∂y,  R{∂L/∂W} = R{∂L/∂y} xᵀ + ∂L/∂y R{x}ᵀ.
// The result equals ∇²L·v exactly wherever L is twice differentiable (everywhere except on the
// measure-zero set where a ReLU input is exactly 0 or a pooling window has a tie).
//
// Every function that takes a batch is const, keeps no state between calls, and is thread-safe.
// Images are processed one by one (in parallel over the batch with set_num_threads), so the
// result for an image depends neither on the batch it is in nor on the thread count; sums over
// a batch (loss gradients, Hessian-vector products) are reduced in fixed chunks of 16 images in
// index order, so they too are identical for any thread count.
//
// Scalar is float (the default, `Sequential`) or double (`BasicSequential<double>`, for
// gradient checks and influence functions). Both take and return float tensors in the concept
// functions, and double vectors for parameters.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/eigen.hpp"

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/layers.hpp"
#include "xai/models/weights_file.hpp"

namespace xai::models {

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
        detail::require<shape_error>(input_shape.channels > 0 && input_shape.height > 0 && input_shape.width > 0,
                                     "Sequential: the input shape is ", to_string(input_shape),
                                     ", expected positive channels, height and width");
        detail::require<shape_error>(input_shape.height <= detail::max_layer_values / input_shape.width &&
                                         input_shape.channels <= detail::max_layer_values / (input_shape.height * input_shape.width),
                                     "Sequential: the input shape is ", to_string(input_shape), ", more than ",
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
        detail::require<model_error>(input_shape_.size() > 0,
                                     "Sequential::add(): the model has no input shape; construct it with one");
        if (spec.name.empty()) spec.name = automatic_name(spec.kind);
        detail::require(!has_layer(spec.name), "Sequential::add(): a layer named '", spec.name,
                        "' already exists; layer names must be unique");
        const FeatureShape in = layers_.empty()
                                    ? FeatureShape{input_shape_.channels, input_shape_.height, input_shape_.width, true}
                                    : layers_.back().output;
        Layer layer = detail::resolve_layer(spec, in, "Sequential::add()");
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
        require_ready("Sequential::num_classes()");
        return layers_.back().output.channels;
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
    bool has_layer(const std::string& name) const {
        return std::any_of(layers_.begin(), layers_.end(), [&](const Layer& l) { return l.spec.name == name; });
    }
    /// The resolved layer called `name`; invalid_argument (listing the names) when there is none.
    const Layer& layer(const std::string& name) const { return layers_[layer_index(name, "Sequential::layer()")]; }
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
                                     "Sequential::set_parameters(): values has ", values.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        detail::require(values.allFinite(), "Sequential::set_parameters(): values contains NaN or Inf, expected finite values");
        for (std::size_t i = 0; i < params_.size(); ++i) params_[i] = static_cast<Scalar>(values[static_cast<Eigen::Index>(i)]);
    }

    /// "conv1.weight" (O×C×k×k), "conv1.bias" (O), "fc.weight" (K×I), "fc.bias" (K), … in order.
    std::vector<ParameterBlock> parameter_blocks() const {
        std::vector<ParameterBlock> blocks;
        for (const Layer& l : layers_) {
            if (!l.has_parameters()) continue;
            blocks.push_back({l.spec.name + ".weight", l.weight_offset, l.weight_size});
            blocks.push_back({l.spec.name + ".bias", l.bias_offset, l.bias_size});
        }
        return blocks;
    }

    /// The shape of a parameter block as PyTorch lays it out (O×C×k×k, O, K×I, K).
    std::vector<std::size_t> parameter_shape(const Layer& l, bool weight) const {
        if (!weight) return {l.bias_size};
        if (l.spec.kind == LayerKind::conv2d) return {l.spec.units, l.input.channels, l.spec.kernel, l.spec.kernel};
        return {l.spec.units, l.input.size()};
    }

    /// λ of the training objective (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² (all parameters, biases included).
    double l2_regularization() const { return l2_; }
    /// Sets λ; throws invalid_argument unless it is finite and ≥ 0.
    void set_l2_regularization(double lambda) {
        detail::require(std::isfinite(lambda) && lambda >= 0.0, "Sequential::set_l2_regularization(): lambda is ",
                        lambda, ", expected a finite value >= 0");
        l2_ = lambda;
    }

    /// Re-draws every parameter from `seed` (see initialize_layer for the distribution).
    void initialize(std::uint64_t seed) {
        seed_ = seed;
        for (std::size_t l = 0; l < layers_.size(); ++l) initialize_layer(l, seed);
    }

    /// Re-draws one layer's parameters with the model's initialiser from stream (seed, layer
    /// index), so reinitialize_layer(name, seed()) restores the layer's initial values. Layers
    /// without parameters are left alone. Used by the cascading-randomization sanity check
    /// (Adebayo et al. 2018).
    void reinitialize_layer(const std::string& name, std::uint64_t seed) {
        initialize_layer(layer_index(name, "Sequential::reinitialize_layer()"), seed);
    }

    // ---- Classifier ----------------------------------------------------------------------

    /// Logits (N×K) of a batch (N×C×H×W). Keeps no activations.
    Scores forward(const Batch& batch) const {
        constexpr const char* where = "Sequential::forward()";
        check_batch(batch, where);
        return float_scores(batch.data(), batch.shape(0), 0, where);
    }

    // ---- FeatureModel (CAM) ----------------------------------------------------------------

    /// The input of global average pooling (N×C×h×w) and the logits; needs a network that ends
    /// in global_avg_pool → linear (flatten between them is allowed), else model_error.
    FeatureOutput forward_features(const Batch& batch) const {
        constexpr const char* where = "Sequential::forward_features()";
        const std::size_t gap = gap_index(where);
        check_batch(batch, where);
        FeatureOutput out;
        LayerOutput captured = capture(batch, gap - 1, where);
        out.features = Batch::from_shape({captured.activations.shape(0), captured.activations.shape(1),
                                          captured.activations.shape(2), captured.activations.shape(3)});
        std::copy(captured.activations.begin(), captured.activations.end(), out.features.begin());
        out.scores = std::move(captured.scores);
        return out;
    }

    /// K×C weights of the final linear layer (logits = W · GAP(features) + b).
    xt::xtensor<float, 2> classifier_weights() const {
        gap_index("Sequential::classifier_weights()");
        const Layer& fc = layers_.back();
        xt::xtensor<float, 2> w = xt::xtensor<float, 2>::from_shape({fc.output.channels, fc.input.channels});
        std::transform(params_.begin() + static_cast<std::ptrdiff_t>(fc.weight_offset),
                       params_.begin() + static_cast<std::ptrdiff_t>(fc.weight_offset + fc.weight_size), w.begin(),
                       [](Scalar v) { return static_cast<float>(v); });
        return w;
    }

    /// K biases of the final linear layer.
    std::vector<float> classifier_bias() const {
        gap_index("Sequential::classifier_bias()");
        const Layer& fc = layers_.back();
        std::vector<float> b(fc.bias_size);
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(params_[fc.bias_offset + i]);
        return b;
    }

    /// The name of the layer whose output forward_features() returns (e.g. "relu5").
    std::string feature_layer() const { return layers_[gap_index("Sequential::feature_layer()") - 1].spec.name; }

    // ---- LayerActivationModel, LayerGradientModel, LayerForwardModel ---------------------------

    /// The output of layer `layer` (N×C×h×w, or N×D after flatten/gap/linear) and the logits.
    LayerOutput layer_activations(const Batch& batch, const std::string& layer) const {
        constexpr const char* where = "Sequential::layer_activations()";
        require_ready(where);
        const std::size_t k = layer_index(layer, where);
        check_batch(batch, where);
        return capture(batch, k, where);
    }

    /// The output of `layer`, the gradient of the seeded score with respect to it, and the
    /// logits: one forward pass (recording only the switches above `layer`) and one backward
    /// pass that stops at `layer`.
    LayerGradients layer_gradients(const Batch& batch, const std::string& layer, const ScoreSeed& seed) const {
        constexpr const char* where = "Sequential::layer_gradients()";
        require_ready(where);
        const std::size_t k = layer_index(layer, where);
        check_batch(batch, where);
        return gradients_at(batch, static_cast<std::ptrdiff_t>(k), seed, where);
    }

    /// The logits obtained by running the layers after `layer` on `activations`, which have the
    /// shape of layer_activations(batch, layer).activations.
    Scores forward_from(const std::string& layer, const Activations& activations) const {
        constexpr const char* where = "Sequential::forward_from()";
        const std::size_t first = check_activations(layer, activations, where);
        return float_scores(activations.data(), activations.shape(0), first, where);
    }

    /// forward() in the model's own precision (N×K): with BasicSequential<double>, logits that
    /// finite-difference checks can difference without float rounding.
    Eigen::MatrixXd logits(const Batch& batch) const {
        check_batch(batch, "Sequential::logits()");
        return double_scores(batch.data(), batch.shape(0), 0);
    }

    /// forward_from() in the model's own precision (N×K).
    Eigen::MatrixXd logits_from(const std::string& layer, const Activations& activations) const {
        const std::size_t first = check_activations(layer, activations, "Sequential::logits_from()");
        return double_scores(activations.data(), activations.shape(0), first);
    }

    // ---- InputGradientModel ----------------------------------------------------------------

    /// The gradient of the seeded score with respect to the input, and the logits.
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed) const {
        constexpr const char* where = "Sequential::input_gradients()";
        require_ready(where);
        check_batch(batch, where);
        LayerGradients g = gradients_at(batch, -1, seed, where);
        InputGradients out;
        out.gradients = Batch::from_shape(batch.shape());
        std::copy(g.gradients.begin(), g.gradients.end(), out.gradients.begin());
        out.scores = std::move(g.scores);
        return out;
    }

    // ---- TwiceDifferentiableModel and training ---------------------------------------------

    /// Cross-entropy L(z_i, θ) = log Σ_k exp(z_k) − z_{y_i} of each example (no regularization).
    Eigen::VectorXd per_example_losses(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "Sequential::per_example_losses()";
        check_labelled(batch, labels, where);
        const std::size_t k = num_classes(), d = input_shape_.size();
        Eigen::VectorXd losses(static_cast<Eigen::Index>(labels.size()));
        for_each_image(labels.size(), [&](Workspace& ws, std::size_t i) {
            const Scalar* z = run_forward(ws.load(batch.data() + i * d, d), 0, layers_.size(), ws, nullptr);
            losses[static_cast<Eigen::Index>(i)] = cross_entropy(z, k, labels[i], nullptr);
        });
        if (!losses.allFinite()) throw model_error(detail::message(where, ": a loss is not finite (diverged parameters?)"));
        return losses;
    }

    /// P×N: column i is ∇θ L(z_i, θ) (no regularization).
    Eigen::MatrixXd per_example_loss_gradients(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "Sequential::per_example_loss_gradients()";
        check_labelled(batch, labels, where);
        const std::size_t p = params_.size();
        Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(labels.size()));
        for_each_image(labels.size(), [&](Workspace& ws, std::size_t i) {
            detail::AlignedVector<Scalar> gradient(p, Scalar(0));
            image_loss_gradient(ws, batch, i, labels[i], gradient.data());
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
        constexpr const char* where = "Sequential::objective_gradient()";
        check_labelled(batch, labels, where);
        detail::require<shape_error>(gradient.size() == params_.size(), where, ": gradient has ", gradient.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        const std::size_t n = labels.size();
        std::vector<double> losses(n);
        reduce_chunks(n, gradient, [&](Workspace& ws, std::size_t i, Scalar* acc) {
            losses[i] = image_loss_gradient(ws, batch, i, labels[i], acc);
        });
        double loss = 0.0;
        for (double l : losses) loss += l;
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(n);
        for (std::size_t j = 0; j < params_.size(); ++j)
            gradient[j] = gradient[j] * inv_n + static_cast<Scalar>(l2_) * params_[j];
        return loss / static_cast<double>(n) + 0.5 * l2_ * squared_norm();
    }

    /// ∇²[(1/n) Σ_{i in batch} L(z_i, θ)] v + λ v, exactly, by Pearlmutter's R-operator (see top).
    Eigen::VectorXd loss_hessian_vector_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        constexpr const char* where = "Sequential::loss_hessian_vector_product()";
        check_labelled(batch, labels, where);
        detail::require<shape_error>(static_cast<std::size_t>(v.size()) == params_.size(), where, ": v has ", v.size(),
                                     " entries, expected num_parameters() = ", params_.size());
        detail::require(v.allFinite(), where, ": v contains NaN or Inf, expected finite values");
        detail::AlignedVector<Scalar> direction(params_.size());
        for (std::size_t j = 0; j < params_.size(); ++j) direction[j] = static_cast<Scalar>(v[static_cast<Eigen::Index>(j)]);
        detail::AlignedVector<Scalar> sum(params_.size(), Scalar(0));
        reduce_chunks(labels.size(), std::span<Scalar>(sum), [&](Workspace& ws, std::size_t i, Scalar* acc) {
            image_hessian_vector_product(ws, batch, i, labels[i], direction.data(), acc);
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
        require_ready("Sequential::save()");
        WeightsFile file;
        file.input = input_shape_;
        file.num_classes = num_classes();
        file.l2_regularization = l2_;
        for (const Layer& l : layers_) {
            file.layers.push_back(l.spec);
            if (!l.has_parameters()) continue;
            for (bool weight : {true, false}) {
                NamedTensor t{l.spec.name + (weight ? ".weight" : ".bias"), parameter_shape(l, weight), {}};
                const std::size_t offset = weight ? l.weight_offset : l.bias_offset;
                const std::size_t size = weight ? l.weight_size : l.bias_size;
                t.values.resize(size);
                for (std::size_t i = 0; i < size; ++i) t.values[i] = static_cast<float>(params_[offset + i]);
                file.tensors.push_back(std::move(t));
            }
        }
        return file;
    }

    /// Writes the architecture and the parameters (as float32) to `path` (format: models/weights_file.hpp).
    void save(const std::filesystem::path& path) const { write_weights_file(to_weights_file(), path); }

    /// Replaces the parameters with those of a file whose architecture equals this model's;
    /// io_error when it differs (or the file is unreadable).
    void load_parameters(const std::filesystem::path& path) {
        require_ready("Sequential::load_parameters()");
        BasicSequential loaded = from_weights_file(read_weights_file(path), path.string());
        if (!(loaded.input_shape_ == input_shape_) || loaded.layers_.size() != layers_.size() ||
            !std::equal(layers_.begin(), layers_.end(), loaded.layers_.begin(),
                        [](const Layer& a, const Layer& b) { return a.spec == b.spec; }))
            throw io_error(detail::message("Sequential::load_parameters(): '", path.string(),
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
            // The layers decide how many parameters the model allocates: the file must hold them
            // all (its tensors were checked against its real size) before anything is allocated,
            // so a small file that declares a huge architecture is refused here. Shapes only:
            std::size_t stored = 0, needed = 0;
            for (const NamedTensor& t : file.tensors) stored += t.values.size();
            FeatureShape shape{file.input.channels, file.input.height, file.input.width, true};
            for (const LayerSpec& spec : file.layers) {
                const Layer l = detail::resolve_layer(spec, shape, "Sequential::add()");
                needed += l.weight_size + l.bias_size;
                detail::require<io_error>(needed <= stored, "its layers need more than ", stored,
                                          " parameters, the number of values it holds");
                shape = l.output;
            }
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
        std::size_t t = 0;
        for (const Layer& l : model.layers_) {
            if (!l.has_parameters()) continue;
            for (bool weight : {true, false}) {
                const std::string name = l.spec.name + (weight ? ".weight" : ".bias");
                const std::vector<std::size_t> shape = model.parameter_shape(l, weight);
                detail::require<io_error>(t < file.tensors.size(), "xai::models::load(): '", source,
                                          "' lacks tensor '", name, "'");
                const NamedTensor& tensor = file.tensors[t++];
                detail::require<io_error>(tensor.name == name && tensor.shape == shape, "xai::models::load(): '", source,
                                          "': tensor ", t - 1, " is '", tensor.name, "' ", shape_string(tensor.shape),
                                          ", expected '", name, "' ", shape_string(shape));
                detail::require<io_error>(all_finite(tensor.values), "xai::models::load(): '", source, "': tensor '",
                                          name, "' contains NaN or Inf");
                const std::size_t offset = weight ? l.weight_offset : l.bias_offset;
                for (std::size_t i = 0; i < tensor.values.size(); ++i)
                    model.params_[offset + i] = static_cast<Scalar>(tensor.values[i]);
            }
        }
        detail::require<io_error>(t == file.tensors.size(), "xai::models::load(): '", source, "' has ",
                                  file.tensors.size(), " tensors, the architecture needs ", t);
        model.l2_ = file.l2_regularization;
        return model;
    }

    /// "1x28x28 → conv1 conv2d(32, k3, s1, p1) → relu1 → … → fc linear(10)".
    std::string describe() const {
        std::ostringstream out;
        out << to_string(input_shape_);
        for (const Layer& l : layers_) {
            out << " -> " << l.spec.name << " " << to_string(l.spec.kind);
            if (l.spec.kind == LayerKind::conv2d)
                out << "(" << l.spec.units << ", k" << l.spec.kernel << ", s" << l.spec.stride << ", p" << l.spec.padding << ")";
            else if (l.spec.kind == LayerKind::max_pool2d)
                out << "(k" << l.spec.kernel << ", s" << l.spec.stride << ")";
            else if (l.spec.kind == LayerKind::linear)
                out << "(" << l.spec.units << ")";
        }
        return out.str();
    }

private:
    static constexpr std::size_t reduction_chunk = 16;

    /// What one image's backward pass needs from its forward pass: per layer, the output
    /// (`values`, only when parameter gradients are wanted), the ReLU mask or the pooling switches.
    struct Tape {
        std::vector<detail::AlignedVector<Scalar>> values;
        std::vector<std::vector<std::uint8_t>> mask;
        std::vector<std::vector<std::uint16_t>> argmax;
        bool keep_values = false;

        explicit Tape(std::size_t layers, bool keep = false)
            : values(layers), mask(layers), argmax(layers), keep_values(keep) {}
    };

    /// Scratch for one image at a time; one per chunk of a parallel loop, never shared.
    struct Workspace {
        detail::AlignedVector<Scalar> input, ping, pong, cols, seed;
        Tape full_tape{0, true};  ///< reused image after image by the per-image parameter gradients

        /// `n` float values as Scalars, copied into the aligned input buffer.
        const Scalar* load(const float* data, std::size_t n) {
            input.resize(n);
            std::copy(data, data + n, input.begin());
            return input.data();
        }
        Scalar* other(const Scalar* p) { return p == ping.data() ? pong.data() : ping.data(); }
    };

    std::string automatic_name(LayerKind kind) const {
        std::size_t count = 1;
        for (const Layer& l : layers_) count += l.spec.kind == kind ? 1 : 0;
        auto numbered = [&](const char* stem) {
            auto name_of = [&](std::size_t c) { return detail::message(stem, c); };
            std::string name = name_of(count);
            while (has_layer(name)) name = name_of(++count);
            return name;
        };
        auto unique = [&](const char* stem) {
            if (count == 1 && !has_layer(stem)) return std::string(stem);
            return numbered(stem);
        };
        switch (kind) {
            case LayerKind::conv2d: return numbered("conv");
            case LayerKind::relu: return numbered("relu");
            case LayerKind::max_pool2d: return numbered("pool");
            case LayerKind::global_avg_pool: return unique("gap");
            case LayerKind::flatten: return unique("flatten");
            case LayerKind::linear: return unique("fc");
        }
        return numbered("layer");
    }

    /// He-uniform weights, U(−√(6/fan_in), √(6/fan_in)) (He et al. 2015, suited to ReLU), and
    /// PyTorch's default biases, U(−1/√fan_in, 1/√fan_in), drawn in storage order from
    /// Rng::stream(seed, layer index).
    void initialize_layer(std::size_t index, std::uint64_t seed) {
        const Layer& l = layers_[index];
        if (!l.has_parameters()) return;
        Rng rng = Rng::stream(seed, index);
        const double fan_in = static_cast<double>(l.fan_in());
        const double weight_bound = std::sqrt(6.0 / fan_in), bias_bound = 1.0 / std::sqrt(fan_in);
        for (std::size_t i = 0; i < l.weight_size; ++i)
            params_[l.weight_offset + i] = static_cast<Scalar>(rng.uniform(-weight_bound, weight_bound));
        for (std::size_t i = 0; i < l.bias_size; ++i)
            params_[l.bias_offset + i] = static_cast<Scalar>(rng.uniform(-bias_bound, bias_bound));
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

    std::size_t largest_activation() const {
        std::size_t size = input_shape_.size();
        for (const Layer& l : layers_) size = std::max(size, l.output.size());
        return size;
    }

    Workspace make_workspace() const {
        Workspace ws;
        ws.full_tape = Tape(layers_.size(), true);
        const std::size_t size = largest_activation();
        ws.ping.resize(size);
        ws.pong.resize(size);
        std::size_t cols = 0;
        for (const Layer& l : layers_) cols = std::max(cols, detail::columns_size(l));
        ws.cols.resize(cols);
        return ws;
    }

    const Scalar* weight(const Layer& l) const { return params_.data() + l.weight_offset; }
    const Scalar* bias(const Layer& l) const { return params_.data() + l.bias_offset; }

    /// body(workspace, i) for every image, in parallel over contiguous chunks (one workspace each).
    template <class Body>
    void for_each_image(std::size_t n, Body&& body) const {
        const std::size_t chunks = std::min(resolve_threads(threads_), n);
        parallel_for(chunks, threads_, [&](std::size_t c) {
            Workspace ws = make_workspace();
            for (std::size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) body(ws, i);
        });
    }

    /// body(workspace, i, accumulator) for every image; the accumulators of fixed chunks of
    /// `reduction_chunk` images are summed into `total` (zeroed first) in chunk order, so the
    /// result does not depend on the thread count.
    template <class Body>
    void reduce_chunks(std::size_t n, std::span<Scalar> total, Body&& body) const {
        const std::size_t chunks = xai::detail::ceil_div(n, reduction_chunk);
        std::vector<detail::AlignedVector<Scalar>> partial(chunks);
        parallel_for(chunks, threads_, [&](std::size_t c) {
            Workspace ws = make_workspace();
            partial[c].assign(total.size(), Scalar(0));
            for (std::size_t i = c * reduction_chunk; i < std::min(n, (c + 1) * reduction_chunk); ++i)
                body(ws, i, partial[c].data());
        });
        std::fill(total.begin(), total.end(), Scalar(0));
        for (const auto& p : partial)
            for (std::size_t j = 0; j < total.size(); ++j) total[j] += p[j];
    }

    static void store(const Scalar* logits, Scores& scores, std::size_t i) {
        const std::size_t k = scores.shape(1);
        for (std::size_t j = 0; j < k; ++j) scores.data()[i * k + j] = static_cast<float>(logits[j]);
    }

    /// Runs layers [first, last) on one image whose input to layer `first` is `in`; returns the
    /// output (in `ws` or the tape). With a tape, records the masks and switches (and outputs
    /// when tape->keep_values) of those layers.
    const Scalar* run_forward(const Scalar* in, std::size_t first, std::size_t last, Workspace& ws, Tape* tape) const {
        const Scalar* cur = in;
        for (std::size_t l = first; l < last; ++l) {
            const Layer& layer = layers_[l];
            const std::size_t n = layer.output.size();
            Scalar* out;
            if (tape != nullptr && tape->keep_values) {
                tape->values[l].resize(n);
                out = tape->values[l].data();
            } else {
                out = ws.other(cur);
            }
            switch (layer.spec.kind) {
                case LayerKind::conv2d:
                case LayerKind::linear:
                    detail::affine_forward(layer, weight(layer), bias(layer), cur, out, ws.cols.data(), false);
                    break;
                case LayerKind::relu:
                    if (tape != nullptr) {
                        tape->mask[l].resize(n);
                        std::uint8_t* mask = tape->mask[l].data();
                        for (std::size_t i = 0; i < n; ++i) {
                            mask[i] = cur[i] > Scalar(0);
                            out[i] = mask[i] ? cur[i] : Scalar(0);
                        }
                    } else {
                        for (std::size_t i = 0; i < n; ++i) out[i] = cur[i] > Scalar(0) ? cur[i] : Scalar(0);
                    }
                    break;
                case LayerKind::max_pool2d: {
                    std::uint16_t* argmax = nullptr;
                    if (tape != nullptr) {
                        tape->argmax[l].resize(n);
                        argmax = tape->argmax[l].data();
                    }
                    detail::max_pool_forward(layer, cur, out, argmax);
                    break;
                }
                case LayerKind::global_avg_pool: detail::global_avg_pool_forward(layer, cur, out); break;
                case LayerKind::flatten: std::copy(cur, cur + n, out); break;
            }
            cur = out;
        }
        return cur;
    }

    /// Backward of layer l alone for its input: dx from dy (which may not alias dx).
    void backward_layer(std::size_t l, const Tape& tape, const Scalar* dy, Scalar* dx, Workspace& ws) const {
        const Layer& layer = layers_[l];
        const std::size_t n = layer.input.size();
        switch (layer.spec.kind) {
            case LayerKind::conv2d:
            case LayerKind::linear:
                detail::affine_backward_data(layer, weight(layer), dy, dx, ws.cols.data(), false);
                break;
            case LayerKind::relu: {
                const std::uint8_t* mask = tape.mask[l].data();
                for (std::size_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] : Scalar(0);
                break;
            }
            case LayerKind::max_pool2d: detail::max_pool_backward(layer, dy, tape.argmax[l].data(), dx); break;
            case LayerKind::global_avg_pool: detail::global_avg_pool_backward(layer, dy, dx); break;
            case LayerKind::flatten: std::copy(dy, dy + n, dx); break;
        }
    }

    /// From the gradient `g` with respect to the output of layer last−1, the gradient with
    /// respect to the input of layer `first` (returned in ws).
    const Scalar* run_backward(const Tape& tape, std::size_t first, std::size_t last, const Scalar* g, Workspace& ws) const {
        const Scalar* cur = g;
        for (std::size_t l = last; l-- > first;) {
            Scalar* out = ws.other(cur);
            backward_layer(l, tape, cur, out, ws);
            cur = out;
        }
        return cur;
    }

    /// store(i, logits) for the n inputs of layer `first` in `data` (first = 0: the images).
    template <class Store>
    void forward_each(const float* data, std::size_t n, std::size_t first, Store&& store) const {
        const std::size_t d = first == 0 ? input_shape_.size() : layers_[first - 1].output.size();
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            store(i, run_forward(ws.load(data + i * d, d), first, layers_.size(), ws, nullptr));
        });
    }

    Scores float_scores(const float* data, std::size_t n, std::size_t first, const char* where) const {
        Scores scores = Scores::from_shape({n, num_classes()});
        forward_each(data, n, first, [&](std::size_t i, const Scalar* z) { store(z, scores, i); });
        xai::detail::require_model_scores(scores, n, num_classes(), where);
        return scores;
    }

    Eigen::MatrixXd double_scores(const float* data, std::size_t n, std::size_t first) const {
        const std::size_t k = num_classes();
        Eigen::MatrixXd scores(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(k));
        forward_each(data, n, first, [&](std::size_t i, const Scalar* z) {
            for (std::size_t j = 0; j < k; ++j) scores(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = z[j];
        });
        if (!scores.allFinite()) throw model_error("Sequential::logits(): the model returned NaN or Inf scores");
        return scores;
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

    static Activations activation_tensor(std::size_t n, const FeatureShape& s) {
        if (s.spatial) return Activations::from_shape({n, s.channels, s.height, s.width});
        return Activations::from_shape({n, s.channels});
    }

    /// The output of layer k and the logits, from one forward pass.
    LayerOutput capture(const Batch& batch, std::size_t k, const char* where) const {
        const std::size_t n = batch.shape(0), d = input_shape_.size();
        const FeatureShape& s = layers_[k].output;
        LayerOutput out{activation_tensor(n, s), Scores::from_shape({n, num_classes()})};
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            const Scalar* a = run_forward(ws.load(batch.data() + i * d, d), 0, k + 1, ws, nullptr);
            std::transform(a, a + s.size(), out.activations.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
            store(run_forward(a, k + 1, layers_.size(), ws, nullptr), out.scores, i);
        });
        xai::detail::require_model_scores(out.scores, n, num_classes(), where);
        return out;
    }

    /// Activations of layer k (k = −1: the input), the gradient of the seeded score with respect
    /// to them, and the logits: one forward pass that records the switches of layers above k,
    /// the seed, one backward pass down to k.
    LayerGradients gradients_at(const Batch& batch, std::ptrdiff_t k, const ScoreSeed& seed, const char* where) const {
        detail::require(static_cast<bool>(seed), where, ": seed is an empty function, expected a ScoreSeed");
        const std::size_t n = batch.shape(0), d = input_shape_.size(), classes = num_classes();
        const std::size_t above = static_cast<std::size_t>(k + 1);  // first layer above k
        const FeatureShape s = k < 0 ? FeatureShape{input_shape_.channels, input_shape_.height, input_shape_.width, true}
                                     : layers_[static_cast<std::size_t>(k)].output;
        LayerGradients out{activation_tensor(n, s), activation_tensor(n, s), Scores::from_shape({n, classes})};
        std::vector<Tape> tapes(n, Tape(layers_.size()));
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            const Scalar* a = run_forward(ws.load(batch.data() + i * d, d), 0, above, ws, nullptr);
            std::transform(a, a + s.size(), out.activations.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
            store(run_forward(a, above, layers_.size(), ws, &tapes[i]), out.scores, i);
        });
        xai::detail::require_model_scores(out.scores, n, classes, where);
        const Scores seeds = seed(out.scores);
        detail::require<shape_error>(seeds.dimension() == 2 && seeds.shape(0) == n && seeds.shape(1) == classes, where,
                                     ": the seed returned shape ", shape_string(seeds.shape()), ", expected [", n, ", ",
                                     classes, "] (d score / d logits)");
        if (!all_finite(seeds)) throw invalid_argument(detail::message(where, ": the seed returned NaN or Inf"));
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            ws.seed.assign(seeds.data() + i * classes, seeds.data() + (i + 1) * classes);
            const Scalar* g = run_backward(tapes[i], above, layers_.size(), ws.seed.data(), ws);
            std::transform(g, g + s.size(), out.gradients.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
        });
        return out;
    }

    /// log Σ exp(z) − z_y, computed stably in double; when `gradient` is not null it receives
    /// softmax(z) − e_y (as Scalar).
    template <class T>
    static double cross_entropy(const T* z, std::size_t k, std::size_t y, Scalar* gradient) {
        double top = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < k; ++j) top = std::max(top, static_cast<double>(z[j]));
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(z[j]) - top);
        const double log_sum = std::log(sum) + top;
        if (gradient != nullptr)
            for (std::size_t j = 0; j < k; ++j)
                gradient[j] = static_cast<Scalar>(std::exp(static_cast<double>(z[j]) - log_sum) - (j == y ? 1.0 : 0.0));
        return log_sum - static_cast<double>(z[y]);
    }

    /// Adds ∇θ L(z_i, θ) of image i to `gradient`; returns L(z_i, θ).
    double image_loss_gradient(Workspace& ws, const Batch& batch, std::size_t i, std::size_t label, Scalar* gradient) const {
        const std::size_t d = input_shape_.size();
        Tape& tape = ws.full_tape;  // reused: its buffers keep their sizes from image to image
        const Scalar* input = ws.load(batch.data() + i * d, d);
        const Scalar* z = run_forward(input, 0, layers_.size(), ws, &tape);
        const std::size_t k = num_classes();
        ws.seed.resize(k);
        const double loss = cross_entropy(z, k, label, ws.seed.data());
        if (!std::isfinite(loss))
            throw model_error(detail::message("Sequential: the loss of image ", i, " is not finite (diverged parameters?)"));
        backward_parameters(tape, input, ws.seed.data(), gradient, ws);
        return loss;
    }

    /// Adds ∂L/∂θ to `gradient` given g = ∂L/∂(logits) and a tape with every layer's output.
    void backward_parameters(const Tape& tape, const Scalar* input, const Scalar* g, Scalar* gradient, Workspace& ws) const {
        const Scalar* cur = g;
        for (std::size_t l = layers_.size(); l-- > 0;) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            if (layer.has_parameters())
                detail::affine_backward_parameters(layer, cur, x, gradient + layer.weight_offset,
                                                   gradient + layer.bias_offset, ws.cols.data());
            if (l == 0) break;
            Scalar* out = ws.other(cur);
            backward_layer(l, tape, cur, out, ws);
            cur = out;
        }
    }

    /// Adds H_i v (the Hessian of L(z_i, θ) times v) to `hv`, by the R-operator (see top).
    void image_hessian_vector_product(Workspace& ws, const Batch& batch, std::size_t i, std::size_t label, const Scalar* v,
                                      Scalar* hv) const {
        const std::size_t d = input_shape_.size(), L = layers_.size();
        Tape& tape = ws.full_tape;
        const Scalar* input = ws.load(batch.data() + i * d, d);
        run_forward(input, 0, L, ws, &tape);

        // R-forward: Rvalues[l] = R{output of layer l}; R{input} = 0.
        std::vector<detail::AlignedVector<Scalar>> r(L);
        for (std::size_t l = 0; l < L; ++l) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            const Scalar* rx = l == 0 ? nullptr : r[l - 1].data();
            r[l].assign(layer.output.size(), Scalar(0));
            Scalar* ry = r[l].data();
            switch (layer.spec.kind) {
                case LayerKind::conv2d:
                case LayerKind::linear:
                    detail::affine_forward(layer, v + layer.weight_offset, v + layer.bias_offset, x, ry, ws.cols.data(), false);
                    if (rx != nullptr) detail::affine_forward(layer, weight(layer), static_cast<const Scalar*>(nullptr), rx, ry, ws.cols.data(), true);
                    break;
                case LayerKind::relu:
                    if (rx != nullptr)
                        for (std::size_t j = 0; j < layer.output.size(); ++j) ry[j] = tape.mask[l][j] ? rx[j] : Scalar(0);
                    break;
                case LayerKind::max_pool2d:
                    if (rx != nullptr) detail::max_pool_gather(layer, rx, tape.argmax[l].data(), ry);
                    break;
                case LayerKind::global_avg_pool:
                    if (rx != nullptr) detail::global_avg_pool_forward(layer, rx, ry);
                    break;
                case LayerKind::flatten:
                    if (rx != nullptr) std::copy(rx, rx + layer.output.size(), ry);
                    break;
            }
        }

        // Loss: g = p − e_y, R{g} = p ⊙ R{z} − p (pᵀ R{z}).
        const std::size_t k = num_classes();
        detail::AlignedVector<Scalar> g(k), rg(k);
        cross_entropy(tape.values[L - 1].data(), k, label, g.data());
        const Scalar* rz = r[L - 1].data();
        double p_dot_rz = 0.0;
        for (std::size_t j = 0; j < k; ++j) p_dot_rz += (static_cast<double>(g[j]) + (j == label ? 1.0 : 0.0)) * rz[j];
        for (std::size_t j = 0; j < k; ++j) {
            const double p = static_cast<double>(g[j]) + (j == label ? 1.0 : 0.0);
            rg[j] = static_cast<Scalar>(p * (static_cast<double>(rz[j]) - p_dot_rz));
        }

        // R-backward.
        detail::AlignedVector<Scalar> g_next, rg_next, scratch;
        for (std::size_t l = L; l-- > 0;) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            const Scalar* rx = l == 0 ? nullptr : r[l - 1].data();
            if (layer.has_parameters()) {
                Scalar* hw = hv + layer.weight_offset;
                detail::affine_backward_parameters(layer, rg.data(), x, hw, hv + layer.bias_offset, ws.cols.data());
                if (rx != nullptr) detail::affine_backward_parameters(layer, g.data(), rx, hw, static_cast<Scalar*>(nullptr), ws.cols.data());
            }
            if (l == 0) break;
            g_next.resize(layer.input.size());
            rg_next.resize(layer.input.size());
            backward_layer(l, tape, g.data(), g_next.data(), ws);
            backward_layer(l, tape, rg.data(), rg_next.data(), ws);
            if (layer.has_parameters())
                detail::affine_backward_data(layer, v + layer.weight_offset, g.data(), rg_next.data(), ws.cols.data(), true);
            std::swap(g, g_next);
            std::swap(rg, rg_next);
        }
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

/// Rebuilds a model (architecture and parameters) from a .xaiw file; io_error for a missing,
/// foreign, truncated, corrupt or inconsistent file.
template <class Scalar = float>
BasicSequential<Scalar> load_as(const std::filesystem::path& path) {
    return BasicSequential<Scalar>::from_weights_file(read_weights_file(path), path.string());
}

/// Rebuilds a single-precision model from a .xaiw file (see load_as).
inline Sequential load(const std::filesystem::path& path) { return load_as<float>(path); }

}  // namespace xai::models
