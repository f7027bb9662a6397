#pragma once
// TorchModel: a LibTorch model behind every model concept of core/concepts.hpp, so that every
// explainer of xai runs on it (docs/torch.md):
//
//   Classifier, FeatureModel (GAP + linear heads), LayerActivationModel, LayerGradientModel,
//   LayerForwardModel, InputGradientModel, ReluBackwardModel (guided backpropagation and the
//   deconvnet, models/torch/relu_backward.hpp), BiasGradientModel (FullGrad,
//   models/torch/bias_gradients.hpp), TwiceDifferentiableModel and ExactHessianModel.
//
// Not part of the umbrella header xai.hpp: include "xai/torch.hpp" and link xai::torch
// (CMake, only defined when find_package(Torch) succeeds).
//
// Five forms of model (models/torch/graph.hpp, models/torch/script.hpp):
//   TorchModel::load(model.pt[, o])                            a plain scripted or traced classifier
//                                                              (forward returns the logits): every
//                                                              submodule is a layer ("layer4",
//                                                              "layer3.1", "features.18"), found by
//                                                              rewriting the TorchScript graph
//   TorchModel(torch::nn::Sequential, options)                 children run in order; nested
//                                                              Sequentials give "layer4", "layer4.1"
//   TorchModel(module, splits, options[, forward])             any C++ module, split by hand per layer
//   TorchModel::load_torchscript_pair(features.pt, head.pt, o) features up to the layer, then the head
//   TorchModel::load_torchscript(model.pt, o)                  forward returns (logits, activations)
//
// What each function computes, and what it does not:
//   forward, layer_activations, forward_features, forward_from, per_example_losses
//       eval() mode (set once at construction) under torch::NoGradGuard: no autograd graph.
//   layer_gradients(batch, layer, seed)
//       ONE forward pass and torch::autograd::grad of Σ seed ⊙ logits with respect to the
//       layer's activations only. The layers below run under NoGradGuard (no graph is
//       recorded for them), the activations become the only leaf that requires a gradient, and
//       the parameters never require one here: no parameter gradients, no input gradient.
//       (The single-TorchScript form cannot be cut, so its input requires a gradient to
//       connect the activations to the graph; the backward pass still stops at the layer.)
//       This is what Grad-CAM needs; pytorch-grad-cam runs a full backward pass instead.
//       The plain TorchScript form cuts its graph after the layer (script.hpp): the part
//       before runs under NoGradGuard, the rest from the leaf, with any value it also reads
//       from before the layer (a skip connection) passed as a constant.
//   input_gradients(batch, seed)
//       one forward, autograd::grad of Σ seed ⊙ logits with respect to the input only.
//   input_gradients(batch, seed, rule)
//       the same with every ReLU's backward replaced by the rule (guided backpropagation, the
//       deconvnet): post hooks on the autograd graph's ReLU nodes (relu_backward.hpp).
//   bias_gradients(batch, seed)
//       one forward, autograd::grad of Σ seed ⊙ logits with respect to the input, and the
//       gradient at every convolution's, linear layer's and batch normalisation's output with
//       its (effective) bias, recorded by pre hooks on the autograd graph (bias_gradients.hpp).
//       Under the exclusive lock: the parameters require a gradient for the pass, so that the
//       graph leads to their values (no parameter gradient is computed or stored).
//   parameters, per_example_loss_gradients, loss_hessian_vector_product, loss_hessian
//       θ = the selected parameters (TorchOptions::parameters; all by default) flattened in
//       registration order, each tensor row-major: parameter_blocks() names the ranges after
//       the module's named_parameters ("layer4.1.conv2.weight", "fc.bias", …). The loss is
//       the cross-entropy of each example; ∇θ L(z_i) comes from one forward and one backward
//       pass per example; H v is exact, by double backward (Pearlmutter 1994, "Fast exact
//       multiplication by the Hessian", computed as ∇θ(∇θ F · v) with autograd's
//       create_graph): F = (1/n) Σ_batch L(z_i, θ) + (λ/2)‖θ‖², λ = TorchOptions::l2_regularization.
//       loss_hessian builds H column by column from the same gradient graph (P backward passes).
//
// Precision: the model's dtype is that of its first parameter (float32 or float64); inputs are
// converted to it (a copy for float64) and outputs back to float. Build the model in double
// (module->to(torch::kFloat64)) for finite-difference checks and influence functions.
//
// Threads and concurrency. Every const function may be called from several threads at once.
// LibTorch guarantees that running a module's forward from several threads is safe as long as
// nothing changes the module (eval mode: BatchNorm does not update its statistics; TorchScript
// modules are explicitly meant to be run concurrently, PyTorch note "CPU threading and
// TorchScript inference"), and that autograd calls on independent graphs may run concurrently
// (PyTorch note "Autograd mechanics: multithreaded autograd"). What is not safe is changing a
// parameter's requires_grad flag or value while another thread runs the model. TorchModel
// therefore freezes every parameter (requires_grad = false) at construction; the functions
// that need parameter gradients switch it on for θ under an exclusive lock, as does
// set_parameters, while all other functions take a shared lock. Parameter-gradient calls are
// thus serialized with each other and with the rest; everything else runs concurrently.
// LibTorch's intra-op thread pool is process-wide: TorchOptions::threads calls
// at::set_num_threads once, at construction (Debian's LibTorch 1.13 starts with 1 thread), and
// sets OpenBLAS's own pool to the same count when OpenBLAS is the process's BLAS
// (models/torch/threads.hpp says why: otherwise threads = 1 still runs the matrix products
// on every core, and outputs depend on the batch size).
// When an explainer itself runs model calls on several threads (its `threads` option), keep
// LibTorch at 1 thread, or the explainer at 1 thread and LibTorch at the core count — not both.
//
// The module is shared, not copied: TorchModel switches it to eval() and freezes its parameters
// for as long as the adapter is used; do not train it meanwhile. Copies of a TorchModel share
// the module. Inputs are passed to LibTorch without a copy (models/torch/tensor.hpp), so the model
// must not modify its input in place (no torchvision model does); activations given to
// forward_from are copied first, because a head may begin with an in-place ReLU.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/torch/bias_gradients.hpp"
#include "xai/models/torch/graph.hpp"
#include "xai/models/torch/relu_backward.hpp"
#include "xai/models/torch/script.hpp"
#include "xai/models/torch/tensor.hpp"
#include "xai/models/torch/threads.hpp"

namespace xai::models {

/// How a LibTorch model is wrapped: its input shape (required), class count, threads, the
/// layers CAM and influence functions use, and λ of the training objective.
struct TorchOptions {
    /// C×H×W the model expects (neither a module nor a TorchScript file records it). Required,
    /// except by TorchModel::load() and from_script(), which try 3×224×224 (torchvision's
    /// ImageNet classifiers) when it is left empty. Batches of any other shape are refused with
    /// shape_error.
    ImageShape input_shape{};
    /// The number of classes; 0 = learned from one forward pass of a zero image at construction
    /// (that pass runs anyway, to check the model accepts input_shape).
    std::size_t num_classes = 0;
    /// LibTorch intra-op threads, set process-wide with at::set_num_threads at construction,
    /// and OpenBLAS's threads to the same count when OpenBLAS is the BLAS (set_torch_threads);
    /// 0 leaves both alone.
    std::size_t threads = 0;
    /// The name of the one layer of the TorchScript forms (what layer_names() reports).
    std::string script_layer = "features";
    /// CAM's feature layer (FeatureModel): the layer whose output global average pooling
    /// reads. Empty = the layer before a Sequential's last AdaptiveAvgPool2d, the layer of the
    /// TorchScript forms, or the only split.
    std::string feature_layer{};
    /// CAM's linear classifier: the prefix of its parameters ("fc" → "fc.weight", "fc.bias";
    /// "head.fc" in the TorchScript pair, whose parameters are prefixed "features." and
    /// "head."). Empty = the last rank-2 parameter named "weight" or "*.weight" with one row
    /// per class. forward_features() checks that the logits really are W·GAP(features) + b.
    std::string classifier{};
    /// θ of influence functions: parameter names or prefixes ("fc" selects fc.weight and
    /// fc.bias). Empty = every parameter.
    std::vector<std::string> parameters{};
    /// λ of the training objective (1/n) Σ L + (λ/2)‖θ‖²: PyTorch's weight_decay (SGD adds
    /// weight_decay·θ to the gradient, which is this objective's). 0 by default.
    double l2_regularization = 0.0;
};

/// The activations of several layers and the logits of the same forward pass
/// (TorchModel::layer_activations with a list of layers).
struct LayersOutput {
    std::vector<Activations> activations;  ///< one per layer asked for, in that order
    Scores scores;                         ///< logits of the same forward pass, N×K
};

namespace detail {

/// LibTorch's message, with advice when it is one a user can act on: a traced model records the
/// fused inference kernels PyTorch picked while tracing (e.g. aten::_native_multi_head_attention
/// under torch.no_grad()), which have no derivative.
inline std::string torch_failure(const std::string& what) {
    // LibTorch names "the derivative for …" only when an operation has no backward formula; its
    // other errors do not speak of a derivative.
    if (what.find("derivative for ") == std::string::npos) return what;
    return what + " (the model uses an operation without a gradient, as torch.jit.trace records under "
                  "torch.no_grad() for fused inference paths; export it with torch.jit.script, or trace it with "
                  "gradients enabled)";
}

/// Runs `body`, turning LibTorch's exceptions and malformed model outputs into model_error
/// named after `where`; xai's own errors pass through.
template <class Body>
auto torch_call(const char* where, Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const xai::error&) {
        throw;
    } catch (const TorchStructureError& e) {
        throw model_error(xai::detail::message(where, ": ", e.what()));
    } catch (const c10::Error& e) {
        throw model_error(xai::detail::message(where, ": LibTorch failed: ", torch_failure(e.what_without_backtrace())));
    } catch (const std::exception& e) {
        // The TorchScript interpreter reports a failing op as std::runtime_error with its traceback.
        throw model_error(xai::detail::message(where, ": LibTorch failed: ", torch_failure(e.what())));
    }
}

/// Everything a TorchModel and its copies share: the graph, what construction learned, and
/// the lock that orders parameter changes against model calls.
struct TorchState {
    TorchGraph graph;
    TorchOptions options;
    std::size_t classes = 0;
    torch::Dtype dtype = torch::kFloat32;
    std::vector<std::vector<std::size_t>> layer_shapes;  ///< per layer, the extents after the batch axis
    std::string feature_layer;
    std::string classifier_weight, classifier_bias;      ///< parameter names, "" if none
    std::vector<torch::Tensor> theta;                    ///< the selected parameters (shared storage)
    std::vector<ParameterBlock> blocks;
    std::size_t num_parameters = 0;
    mutable std::shared_mutex mutex;
};

/// Switches requires_grad on for θ for its lifetime; the caller holds the exclusive lock.
class ThetaGradients {
public:
    explicit ThetaGradients(const std::vector<torch::Tensor>& theta) : theta_(theta) {
        for (const torch::Tensor& p : theta_) p.requires_grad_(true);
    }
    ~ThetaGradients() {
        for (const torch::Tensor& p : theta_) p.requires_grad_(false);
    }
    ThetaGradients(const ThetaGradients&) = delete;
    ThetaGradients& operator=(const ThetaGradients&) = delete;

private:
    const std::vector<torch::Tensor>& theta_;
};

}  // namespace detail

/// A LibTorch model behind every model concept of core/concepts.hpp (Classifier, FeatureModel,
/// LayerActivationModel, LayerGradientModel, LayerForwardModel, InputGradientModel,
/// ReluBackwardModel, BiasGradientModel, TwiceDifferentiableModel, ExactHessianModel), so every explainer of xai
/// runs on it.
///
/// Four forms: a torch::nn::Sequential, any C++ module split by hand per layer, or one or two
/// TorchScript modules (see the header comment and docs/torch.md). The module is shared, not
/// copied, and switched to eval(); every const function may be called from several threads at
/// once. Copies of a TorchModel share the module.
class TorchModel {
public:
    /// A torch::nn::Sequential whose children (named with push_back(name, module)) run in order.
    TorchModel(torch::nn::Sequential net, TorchOptions options)
        : TorchModel(build("TorchModel::TorchModel(Sequential)", std::move(options), [&](const TorchOptions&) {
              xai::detail::require(!net.is_empty(), "TorchModel::TorchModel(Sequential): the Sequential is null");
              net->eval();
              return detail::sequential_graph(net);
          })) {}

    /// Any C++-frontend module, with one TorchLayerSplit per explainable layer. `forward` is
    /// the whole network (default: head(features(x)) of the first split). The module gives
    /// the parameters and is switched to eval().
    TorchModel(std::shared_ptr<torch::nn::Module> module, std::vector<TorchLayerSplit> splits, TorchOptions options,
               TorchFunction forward = {})
        : TorchModel(build("TorchModel::TorchModel(module, splits)", std::move(options), [&](const TorchOptions&) {
              xai::detail::require(module != nullptr, "TorchModel::TorchModel(module, splits): the module is null");
              module->eval();
              return detail::split_graph(*module, std::move(splits), std::move(forward));
          })) {}

    /// Two TorchScript modules: features (input → activations of options.script_layer) and
    /// head (activations → logits).
    static TorchModel from_torchscript_pair(torch::jit::Module features, torch::jit::Module head, TorchOptions options) {
        return build("TorchModel::from_torchscript_pair()", std::move(options), [&](const TorchOptions& o) {
            features.eval();
            head.eval();
            TorchGraph g = detail::script_pair_graph(features, head, o.script_layer);
            auto f = std::make_shared<const detail::ScriptUnfused>(features, "forward");
            auto h = std::make_shared<const detail::ScriptUnfused>(head, "forward");
            g.forward_unfused = [f, h](const torch::Tensor& x) {
                const torch::Tensor a = detail::script_tensor((*f)(x), "features module", "the activations");
                return detail::script_tensor((*h)(a), "head module", "the logits");
            };
            return g;
        });
    }

    /// A TorchScript module as users export it. When its forward returns a tensor (the logits:
    /// torch.jit.script(model) or torch.jit.trace(model, x) of a classifier), every submodule
    /// whose output is a tensor is a layer, named as in PyTorch ("layer4", "layer3.1",
    /// "features.18"); see script.hpp for how the graph is rewritten. When it returns a tuple
    /// (logits, activations), this is from_torchscript(). options.input_shape may be left empty
    /// for 3×224×224.
    static TorchModel from_script(torch::jit::Module module, TorchOptions options = {}) {
        constexpr const char* where = "TorchModel::from_script()";
        if (!module.find_method("forward"))
            throw model_error(xai::detail::message(where, ": the TorchScript module has no forward method"));
        const c10::TypePtr returns = module.get_method("forward").graph()->outputs()[0]->type();
        if (returns->kind() == c10::TypeKind::TupleType) return from_torchscript(std::move(module), std::move(options));
        const bool guessed = options.input_shape == ImageShape{};
        if (guessed) options.input_shape = {3, 224, 224};
        try {
            return build(where, std::move(options), [&](const TorchOptions&) {
                module.eval();
                TorchGraph g = detail::script_plain_graph(module);
                auto unfused = std::make_shared<const detail::ScriptUnfused>(module, "forward");
                g.forward_unfused = [unfused](const torch::Tensor& x) {
                    return detail::script_tensor((*unfused)(x), "module", "the logits");
                };
                return g;
            });
        } catch (const model_error& e) {
            if (!guessed) throw;
            throw model_error(xai::detail::message(e.what(), " (options.input_shape was not given and 3x224x224 was tried: "
                                                             "set it to the C×H×W the model expects)"));
        }
    }

    /// from_script() on a file written by torch.jit.save (scripted or traced).
    static TorchModel load(const std::filesystem::path& file, TorchOptions options = {}) {
        return from_script(load_script(file, "TorchModel::load()"), std::move(options));
    }

    /// One TorchScript module whose forward returns (logits, activations of options.script_layer);
    /// a method head(activations) → logits, if present, enables forward_from (Ablation-CAM).
    static TorchModel from_torchscript(torch::jit::Module module, TorchOptions options) {
        return build("TorchModel::from_torchscript()", std::move(options), [&](const TorchOptions& o) {
            module.eval();
            TorchGraph g = detail::script_single_graph(module, o.script_layer);
            auto unfused = std::make_shared<const detail::ScriptUnfused>(module, "forward");
            g.forward_unfused = [unfused](const torch::Tensor& x) {
                const c10::IValue out = (*unfused)(x);
                if (!out.isTuple() || out.toTupleRef().elements().empty())
                    throw detail::TorchStructureError(xai::detail::message("the TorchScript module returned a ", out.tagKind(),
                                                                           ", expected a tuple (logits, activations)"));
                return detail::script_tensor(out.toTupleRef().elements()[0], "module", "the logits");
            };
            return g;
        });
    }

    /// from_torchscript_pair() on two files written by torch.jit.save.
    static TorchModel load_torchscript_pair(const std::filesystem::path& features, const std::filesystem::path& head,
                                            TorchOptions options) {
        constexpr const char* where = "TorchModel::load_torchscript_pair()";
        return from_torchscript_pair(load_script(features, where), load_script(head, where), std::move(options));
    }

    /// from_torchscript() on a file written by torch.jit.save.
    static TorchModel load_torchscript(const std::filesystem::path& file, TorchOptions options) {
        return from_torchscript(load_script(file, "TorchModel::load_torchscript()"), std::move(options));
    }

    // ---- description -----------------------------------------------------------------------

    /// The C×H×W the model expects (TorchOptions::input_shape).
    ImageShape input_shape() const { return state_->options.input_shape; }
    /// K, the number of logits (TorchOptions::num_classes or learned at construction).
    std::size_t num_classes() const { return state_->classes; }
    /// The explainable layers, in the order the network runs them.
    std::vector<std::string> layer_names() const { return state_->graph.layers; }
    /// The extents of a layer's activations after the batch axis (C, h, w or T, D).
    std::vector<std::size_t> layer_shape(const std::string& layer) const {
        return state_->layer_shapes[layer_index(layer, "TorchModel::layer_shape()")];
    }
    /// Which of the four forms this is, e.g. "torch::nn::Sequential".
    const std::string& form() const { return state_->graph.form; }
    /// CAM's feature layer ("" when there is none).
    const std::string& feature_layer() const { return state_->feature_layer; }
    /// The name of the classifier's weight parameter, e.g. "fc.weight" ("" when there is none).
    const std::string& classifier_weight_name() const { return state_->classifier_weight; }
    /// float32 or float64: the dtype of the model's parameters.
    torch::Dtype dtype() const { return state_->dtype; }
    /// The options the model was built with.
    const TorchOptions& options() const { return state_->options; }

    // ---- Classifier ------------------------------------------------------------------------

    /// Logits (N×K), in eval mode without autograd.
    Scores forward(const Batch& batch) const {
        constexpr const char* where = "TorchModel::forward()";
        xai::detail::require_model_input(*this, batch, where);
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            return scores_of(state_->graph.forward(model_input(batch)), batch.shape(0), where);
        });
    }

    // ---- FeatureModel (CAM) ----------------------------------------------------------------

    /// The activations of feature_layer() (N×C×h×w) and the logits, after checking that the
    /// logits are the linear classifier applied to their global average (CAM's assumption).
    FeatureOutput forward_features(const Batch& batch) const {
        constexpr const char* where = "TorchModel::forward_features()";
        xai::detail::require_model_input(*this, batch, where);
        const TorchState& s = *state_;
        if (s.feature_layer.empty())
            throw model_error(xai::detail::message(where, ": the model has no known feature layer; set "
                                                          "TorchOptions::feature_layer to the layer global average pooling reads"));
        const std::size_t layer = layer_index(s.feature_layer, where);
        std::shared_lock lock(s.mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            const std::size_t n = batch.shape(0);
            const auto [activations, logits] = run_layer(model_input(batch), layer);
            if (activations.dim() != 4)
                throw model_error(xai::detail::message(where, ": the feature layer '", s.feature_layer,
                                                       "' has activations of shape ", activations.sizes(),
                                                       ", expected N×C×h×w"));
            FeatureOutput out;
            out.features = to_xtensor<4>(activations);
            out.scores = scores_of(logits, n, where);
            require_gap_linear(activations, logits, where);
            return out;
        });
    }

    /// K×C weights of the linear classifier after global average pooling.
    xt::xtensor<float, 2> classifier_weights() const {
        constexpr const char* where = "TorchModel::classifier_weights()";
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] { return to_xtensor<2>(classifier(where).first); });
    }

    // ---- LayerActivationModel, LayerGradientModel, LayerForwardModel ------------------------

    /// The activations of `layer` and the logits, from one forward pass without autograd.
    LayerOutput layer_activations(const Batch& batch, const std::string& layer) const {
        constexpr const char* where = "TorchModel::layer_activations()";
        xai::detail::require_model_input(*this, batch, where);
        const std::size_t index = layer_index(layer, where);
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            const std::size_t n = batch.shape(0);
            torch::Tensor activations;
            torch::Tensor logits;
            if (state_->graph.multi) {
                auto [out_logits, all] = state_->graph.multi(model_input(batch), {index});
                LayerOutput out{activations_of(all[0], index, n), {}};
                out.scores = scores_of(out_logits, n, where);
                return out;
            }
            if (state_->graph.features) {
                activations = state_->graph.features(model_input(batch), index);
                // Copied before the head runs: a head that starts with an in-place op would change it.
                LayerOutput out{activations_of(activations, index, n), {}};
                out.scores = scores_of(state_->graph.head(index, activations), n, where);
                return out;
            }
            std::tie(logits, activations) = state_->graph.logits_and_activations(model_input(batch));
            LayerOutput out{activations_of(activations, index, n), {}};
            out.scores = scores_of(logits, n, where);
            return out;
        });
    }

    /// The activations of several layers and the logits, from one forward pass without autograd
    /// where the form has one (the plain TorchScript form), else one pass per layer. For fused
    /// multi-layer maps; the layers may be given in any order, and repeated.
    LayersOutput layer_activations(const Batch& batch, const std::vector<std::string>& layers) const {
        constexpr const char* where = "TorchModel::layer_activations(layers)";
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require(!layers.empty(), where, ": layers is empty, expected at least one layer name");
        std::vector<std::size_t> indices;
        for (const std::string& layer : layers) indices.push_back(layer_index(layer, where));
        if (!state_->graph.multi) {
            LayersOutput out;
            for (const std::string& layer : layers) {
                LayerOutput one = layer_activations(batch, layer);
                out.activations.push_back(std::move(one.activations));
                out.scores = std::move(one.scores);
            }
            return out;
        }
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            const std::size_t n = batch.shape(0);
            auto [logits, all] = state_->graph.multi(model_input(batch), indices);
            LayersOutput out;
            for (std::size_t i = 0; i < indices.size(); ++i) out.activations.push_back(activations_of(all[i], indices[i], n));
            out.scores = scores_of(logits, n, where);
            return out;
        });
    }

    /// One forward pass and the gradient of Σ_i Σ_k seed(logits)_ik · logit_ik with respect to
    /// the activations of `layer` only (see the header comment).
    LayerGradients layer_gradients(const Batch& batch, const std::string& layer, const ScoreSeed& seed) const {
        constexpr const char* where = "TorchModel::layer_gradients()";
        xai::detail::require_model_input(*this, batch, where);
        const std::size_t index = layer_index(layer, where);
        xai::detail::require(static_cast<bool>(seed), where, ": the seed is empty, expected a function");
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const TorchGraph& graph = state_->graph;
            const std::size_t n = batch.shape(0);
            torch::Tensor leaf, logits;
            LayerGradients out;
            if (graph.split) {
                torch::Tensor activations;
                TorchFunction rest;
                {
                    torch::NoGradGuard no_grad;  // nothing below the layer is recorded
                    std::tie(activations, rest) = graph.split(model_input(batch), index);
                }
                out.activations = activations_of(activations, index, n);
                leaf = activations.detach().requires_grad_(true);
                torch::AutoGradMode grad_mode(true);
                logits = rest(leaf.clone());  // a copy: the rest may begin with an in-place op
            } else if (graph.features) {
                torch::Tensor activations;
                {
                    torch::NoGradGuard no_grad;  // nothing below the layer is recorded
                    activations = graph.features(model_input(batch), index);
                }
                out.activations = activations_of(activations, index, n);
                leaf = activations.detach().requires_grad_(true);
                torch::AutoGradMode grad_mode(true);
                // The head gets a copy: a leaf that requires grad cannot go through an in-place op.
                logits = graph.head(index, leaf.clone());
            } else {
                torch::AutoGradMode grad_mode(true);
                const torch::Tensor input = model_input(batch).detach().requires_grad_(true);
                std::tie(logits, leaf) = graph.logits_and_activations(input);
                out.activations = activations_of(leaf, index, n);
                if (!leaf.requires_grad())
                    throw detail::TorchStructureError("the activations the TorchScript module returns do not depend on its "
                                                      "input in the autograd graph (detached?), expected them to");
            }
            out.scores = scores_of(logits, n, where);
            const torch::Tensor g = gradient_of(logits, leaf, checked_seed(seed, out.scores, where));
            out.gradients = g.defined() ? to_xarray(g) : Activations(xt::zeros<float>(out.activations.shape()));
            return out;
        });
    }

    /// The logits computed from given activations of `layer` (N × the layer's shape).
    Scores forward_from(const std::string& layer, const Activations& activations) const {
        constexpr const char* where = "TorchModel::forward_from()";
        const std::size_t index = layer_index(layer, where);
        const std::vector<std::size_t>& expected = state_->layer_shapes[index];
        bool shape_ok = activations.dimension() == expected.size() + 1 && activations.shape(0) > 0;
        for (std::size_t d = 0; shape_ok && d < expected.size(); ++d) shape_ok = activations.shape(d + 1) == expected[d];
        if (!shape_ok)
            throw shape_error(xai::detail::message(where, ": activations have shape ", shape_string(activations.shape()),
                                                   ", expected [N, ", shape_string(expected).substr(1), " with N ≥ 1 for layer '",
                                                   layer, "'"));
        xai::detail::require_finite(activations, "TorchModel::forward_from(): activations");
        if (!state_->graph.head)
            throw model_error(xai::detail::message(where, ": the TorchScript module has no method head(activations), "
                                                          "so it cannot run from layer '", layer,
                                                          "'; export one (docs/torch.md) or use the pair form"));
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            // A copy, in the model's dtype: the head may start with an in-place op.
            const torch::Tensor a = as_torch(activations).to(state_->dtype, false, true);
            return scores_of(state_->graph.head(index, a), activations.shape(0), where);
        });
    }

    // ---- InputGradientModel ----------------------------------------------------------------

    /// One forward pass and the gradient of Σ seed ⊙ logits with respect to the input only.
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed) const {
        constexpr const char* where = "TorchModel::input_gradients()";
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require(static_cast<bool>(seed), where, ": the seed is empty, expected a function");
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::AutoGradMode grad_mode(true);
            const torch::Tensor input = model_input(batch).detach().requires_grad_(true);
            const torch::Tensor logits = state_->graph.forward(input);
            InputGradients out;
            out.scores = scores_of(logits, batch.shape(0), where);
            const torch::Tensor g = gradient_of(logits, input, checked_seed(seed, out.scores, where));
            out.gradients = g.defined() ? to_xtensor<4>(g) : Batch(xt::zeros<float>(batch.shape()));
            return out;
        });
    }

    // ---- ReluBackwardModel -----------------------------------------------------------------

    /// input_gradients() with every ReLU's backward replaced by `rule` (core/concepts.hpp):
    /// guided backpropagation or the deconvnet, by post hooks on the ReLU nodes of the autograd
    /// graph (models/torch/relu_backward.hpp); the TorchScript forms run an unfused copy of
    /// their forward. model_error naming the rule, the form and the nodes when the network
    /// has other rectifiers (GELU, Hardswish, ReLU6, …) or ReLUs fused into other ops.
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed, ReluBackward rule) const {
        constexpr const char* where = "TorchModel::input_gradients(rule)";
        if (rule == ReluBackward::standard) return input_gradients(batch, seed);
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require(static_cast<bool>(seed), where, ": the seed is empty, expected a function");
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const TorchGraph& g = state_->graph;
            torch::AutoGradMode grad_mode(true);
            const torch::Tensor input = model_input(batch).detach().requires_grad_(true);
            const torch::Tensor logits = g.forward_unfused ? g.forward_unfused(input) : g.forward(input);
            detail::apply_relu_rule(logits, rule, g.form);
            InputGradients out;
            out.scores = scores_of(logits, batch.shape(0), where);
            const torch::Tensor grad = gradient_of(logits, input, checked_seed(seed, out.scores, where));
            out.gradients = grad.defined() ? to_xtensor<4>(grad) : Batch(xt::zeros<float>(batch.shape()));
            return out;
        });
    }

    // ---- BiasGradientModel (FullGrad) -------------------------------------------------------

    /// The input gradient and, for every convolution, linear layer and batch normalisation
    /// (first to last), the gradient of Σ seed ⊙ logits at its output with its (effective) bias:
    /// one forward and one backward pass, by pre hooks on the autograd graph
    /// (models/torch/bias_gradients.hpp). Runs under the exclusive lock, because the parameters
    /// must require a gradient for their values to be found in the graph. model_error naming
    /// the nodes when another parameter enters the network (a layer norm, a learned scale).
    BiasGradients bias_gradients(const Batch& batch, const ScoreSeed& seed) const {
        constexpr const char* where = "TorchModel::bias_gradients()";
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require(static_cast<bool>(seed), where, ": the seed is empty, expected a function");
        std::unique_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const TorchGraph& g = state_->graph;
            std::vector<torch::Tensor> all;
            for (const auto& [name, p] : g.parameters) all.push_back(p);
            const detail::ThetaGradients enable(all);
            torch::AutoGradMode grad_mode(true);
            const torch::Tensor input = model_input(batch).detach().requires_grad_(true);
            const torch::Tensor logits = g.forward_unfused ? g.forward_unfused(input) : g.forward(input);
            const std::vector<detail::TorchBiasSite> sites = detail::hook_bias_sites(logits, g.parameters, g.form);
            BiasGradients out;
            out.scores = scores_of(logits, batch.shape(0), where);
            const torch::Tensor grad = gradient_of(logits, input, checked_seed(seed, out.scores, where));
            out.input_gradients = grad.defined() ? to_xtensor<4>(grad) : Batch(xt::zeros<float>(batch.shape()));
            for (const detail::TorchBiasSite& site : sites) {
                if (!site.gradient->defined()) continue;  // no gradient reached it: its term is zero
                LayerBiasGradient layer;
                layer.layer = site.name;
                layer.gradients = to_xarray(*site.gradient);
                const torch::Tensor bias = site.bias.to(torch::kFloat32).contiguous();
                layer.bias.assign(bias.data_ptr<float>(), bias.data_ptr<float>() + bias.numel());
                out.layers.push_back(std::move(layer));
            }
            return out;
        });
    }

    // ---- TwiceDifferentiableModel, ExactHessianModel ---------------------------------------

    /// P, the length of θ (the selected parameters, TorchOptions::parameters).
    std::size_t num_parameters() const { return state_->num_parameters; }
    /// The ranges of θ, named after the module's named_parameters ("layer4.1.conv2.weight", …).
    std::vector<ParameterBlock> parameter_blocks() const { return state_->blocks; }
    /// λ of the training objective (TorchOptions::l2_regularization).
    double l2_regularization() const { return state_->options.l2_regularization; }

    /// θ: the selected parameters, flattened (see the header comment).
    Eigen::VectorXd parameters() const {
        std::shared_lock lock(state_->mutex);
        return detail::torch_call("TorchModel::parameters()", [&] { return flat(state_->theta); });
    }

    /// Overwrites θ (e.g. for a finite-difference check or leave-one-out retraining done
    /// elsewhere). Takes the exclusive lock, so it is safe against concurrent model calls;
    /// every copy of this TorchModel sees the change (they share the module).
    void set_parameters(const Eigen::VectorXd& values) {
        constexpr const char* where = "TorchModel::set_parameters()";
        xai::detail::require<shape_error>(static_cast<std::size_t>(values.size()) == num_parameters(), where,
                                          ": values has ", values.size(), " entries, expected num_parameters() = ",
                                          num_parameters());
        xai::detail::require(values.allFinite(), where, ": values contains NaN or Inf, expected finite values");
        std::unique_lock lock(state_->mutex);
        detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            Eigen::Index offset = 0;
            for (torch::Tensor& p : state_->theta) {
                const Eigen::VectorXd part = values.segment(offset, p.numel());
                p.copy_(to_torch(part, state_->dtype).view_as(p));
                offset += p.numel();
            }
        });
    }

    /// L(z_i, θ) = cross-entropy of each example.
    Eigen::VectorXd per_example_losses(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "TorchModel::per_example_losses()";
        check_labelled(batch, labels, where);
        std::shared_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            const torch::Tensor logits = checked_logits(state_->graph.forward(model_input(batch)), batch.shape(0), where);
            return to_eigen(cross_entropy(logits, labels, 0, labels.size(), torch::kNone));
        });
    }

    /// P×N: column i is ∇θ L(z_i, θ), from one forward and one backward pass of example i.
    Eigen::MatrixXd per_example_loss_gradients(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "TorchModel::per_example_loss_gradients()";
        check_labelled(batch, labels, where);
        std::unique_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const detail::ThetaGradients enable(state_->theta);
            torch::AutoGradMode grad_mode(true);
            const torch::Tensor x = model_input(batch);
            const std::size_t n = batch.shape(0);
            Eigen::MatrixXd out(static_cast<Eigen::Index>(num_parameters()), static_cast<Eigen::Index>(n));
            for (std::size_t i = 0; i < n; ++i) {
                const auto row = static_cast<std::int64_t>(i);
                const torch::Tensor logits = checked_logits(state_->graph.forward(x.narrow(0, row, 1)), 1, where);
                const torch::Tensor loss = cross_entropy(logits, labels, i, 1, torch::kSum);
                out.col(static_cast<Eigen::Index>(i)) = flat_gradient(loss, false);
            }
            return out;
        });
    }

    /// (∇²θ [(1/n) Σ_batch L(z_i, θ)] + λ I) v, exactly, by double backward.
    Eigen::VectorXd loss_hessian_vector_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        constexpr const char* where = "TorchModel::loss_hessian_vector_product()";
        check_labelled(batch, labels, where);
        xai::detail::require<shape_error>(static_cast<std::size_t>(v.size()) == num_parameters(), where, ": v has ",
                                          v.size(), " entries, expected num_parameters() = ", num_parameters());
        xai::detail::require(v.allFinite(), where, ": v contains NaN or Inf, expected finite values");
        std::unique_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const detail::ThetaGradients enable(state_->theta);
            torch::AutoGradMode grad_mode(true);
            const std::vector<torch::Tensor> g = mean_loss_gradient(batch, labels, where);
            torch::Tensor dot;  // ∇θF · v, still differentiable in θ
            Eigen::Index offset = 0;
            for (std::size_t j = 0; j < g.size(); ++j) {
                const std::int64_t size = state_->theta[j].numel();
                if (g[j].defined()) {
                    const Eigen::VectorXd part = v.segment(offset, size);
                    const torch::Tensor term = (g[j] * to_torch(part, state_->dtype).view_as(g[j])).sum();
                    dot = dot.defined() ? dot + term : term;
                }
                offset += size;
            }
            Eigen::VectorXd hv = l2_regularization() * v;
            if (dot.defined()) hv += flat_gradient(dot, false);
            return hv;
        });
    }

    /// The largest P that loss_hessian() accepts.
    static constexpr std::size_t max_hessian_parameters = 10000;
    /// The dense P×P matrix ∇²θ [(1/n) Σ_batch L(z_i, θ)] + λ I, one column per backward pass
    /// through the gradient graph, symmetrized ((H + Hᵀ)/2 removes rounding asymmetry).
    /// For models of up to max_hessian_parameters parameters.
    Eigen::MatrixXd loss_hessian(const Batch& batch, const Labels& labels) const {
        constexpr const char* where = "TorchModel::loss_hessian()";
        check_labelled(batch, labels, where);
        const std::size_t p = num_parameters();
        xai::detail::require(p <= max_hessian_parameters, where, ": the model has ", p,
                             " parameters, expected at most ", max_hessian_parameters,
                             " for a dense Hessian; use Hessian-vector products (a CG or LiSSA solver) or select fewer "
                             "parameters with TorchOptions::parameters");
        std::unique_lock lock(state_->mutex);
        return detail::torch_call(where, [&] {
            const detail::ThetaGradients enable(state_->theta);
            torch::AutoGradMode grad_mode(true);
            const std::vector<torch::Tensor> g = mean_loss_gradient(batch, labels, where);
            std::vector<torch::Tensor> parts;
            for (std::size_t j = 0; j < g.size(); ++j)
                parts.push_back(g[j].defined() ? g[j].reshape({-1}) : torch::zeros({state_->theta[j].numel()}, state_->theta[j].options()));
            const torch::Tensor flat_g = parts.empty() ? torch::zeros({0}) : torch::cat(parts);
            const auto size = static_cast<Eigen::Index>(p);
            Eigen::MatrixXd h(size, size);
            for (Eigen::Index j = 0; j < size; ++j) h.col(j) = flat_gradient(flat_g[j], true);
            Eigen::MatrixXd sym = 0.5 * (h + h.transpose());
            sym.diagonal().array() += l2_regularization();
            return sym;
        });
    }

private:
    using TorchState = detail::TorchState;
    using TorchGraph = detail::TorchGraph;

    explicit TorchModel(std::shared_ptr<TorchState> state) : state_(std::move(state)) {}

    /// Builds the graph with `make`, checks the options against it, runs one forward pass of a
    /// zero image, and fills the shared state.
    template <class Make>
    static TorchModel build(const char* where, TorchOptions options, Make&& make) {
        const ImageShape shape = options.input_shape;
        xai::detail::require<shape_error>(shape.size() > 0, where, ": options.input_shape is ", to_string(shape),
                                          ", expected positive channels, height and width");
        xai::detail::require(std::isfinite(options.l2_regularization) && options.l2_regularization >= 0.0, where,
                             ": options.l2_regularization is ", options.l2_regularization, ", expected a finite value >= 0");
        xai::detail::require(options.threads <= static_cast<std::size_t>(std::numeric_limits<int>::max()), where,
                             ": options.threads is ", options.threads, ", expected at most ",
                             std::numeric_limits<int>::max(), " (0 leaves LibTorch's and OpenBLAS's threads alone)");
        auto state = std::make_shared<TorchState>();
        TorchState& s = *state;
        s.options = std::move(options);
        detail::torch_call(where, [&] { s.graph = make(static_cast<const TorchOptions&>(s.options)); });
        if (s.options.threads > 0) set_torch_threads(static_cast<int>(s.options.threads));
        for (auto& [name, p] : s.graph.parameters) p.requires_grad_(false);
        if (!s.graph.parameters.empty()) {
            s.dtype = s.graph.parameters.front().second.scalar_type();
            xai::detail::require(s.dtype == torch::kFloat32 || s.dtype == torch::kFloat64, where,
                                 ": the model's parameters are of dtype ", c10::toString(s.dtype),
                                 ", expected float32 or float64");
        }
        select_parameters(s, where);

        // One pass of a zero image: does the model accept input_shape, how many classes, and
        // what shape each layer has.
        detail::torch_call(where, [&] {
            torch::NoGradGuard no_grad;
            const auto c = static_cast<std::int64_t>(shape.channels);
            const auto h = static_cast<std::int64_t>(shape.height);
            const auto w = static_cast<std::int64_t>(shape.width);
            const torch::Tensor zero = torch::zeros({1, c, h, w}, torch::TensorOptions().dtype(s.dtype));
            const torch::Tensor logits = s.graph.forward(zero);
            if (logits.dim() != 2 || logits.size(0) != 1 || logits.size(1) == 0)
                throw model_error(xai::detail::message(where, ": for a zero batch of shape [1, ", c, ", ", h, ", ", w,
                                                       "] the model returned logits of shape ", logits.sizes(),
                                                       ", expected [1, K] with K ≥ 1"));
            s.classes = static_cast<std::size_t>(logits.size(1));
            for (const torch::Tensor& a : s.graph.every_layer(zero)) {
                if (a.dim() < 2 || a.size(0) != 1)
                    throw model_error(xai::detail::message(where, ": a layer's activations have shape ", a.sizes(),
                                                           " for a batch of one image, expected [1, …]"));
                std::vector<std::size_t> extents;
                for (std::int64_t d = 1; d < a.dim(); ++d) extents.push_back(static_cast<std::size_t>(a.size(d)));
                s.layer_shapes.push_back(std::move(extents));
            }
        });
        if (s.options.num_classes != 0 && s.options.num_classes != s.classes)
            throw model_error(xai::detail::message(where, ": options.num_classes is ", s.options.num_classes,
                                                   " but the model returns ", s.classes, " logits"));
        resolve_feature_layer(s, where);
        resolve_classifier(s, where);
        return TorchModel(std::move(state));
    }

    static torch::jit::Module load_script(const std::filesystem::path& file, const char* where) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec))
            throw io_error(xai::detail::message(where, ": '", file.string(), "' does not exist or is not a file, expected a "
                                                                           "TorchScript file written by torch.jit.save"));
        try {
            return torch::jit::load(file.string(), torch::kCPU);
        } catch (const c10::Error& e) {
            throw io_error(xai::detail::message(where, ": '", file.string(), "' is not a readable TorchScript file: ",
                                                e.what_without_backtrace()));
        }
    }

    static bool selected(const std::string& name, const std::string& prefix) {
        return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                                  name[prefix.size()] == '.');
    }

    static std::string parameter_list(const TorchState& s) {
        std::string out = "[";
        for (std::size_t i = 0; i < s.graph.parameters.size(); ++i) out += (i ? ", " : "") + s.graph.parameters[i].first;
        return out + "]";
    }

    static void select_parameters(TorchState& s, const char* where) {
        for (const std::string& prefix : s.options.parameters) {
            const bool any = std::any_of(s.graph.parameters.begin(), s.graph.parameters.end(),
                                         [&](const auto& p) { return selected(p.first, prefix); });
            xai::detail::require(any, where, ": options.parameters names '", prefix,
                                 "', which matches no parameter; the parameters are ", parameter_list(s));
        }
        for (const auto& [name, p] : s.graph.parameters) {
            const bool take = s.options.parameters.empty() ||
                              std::any_of(s.options.parameters.begin(), s.options.parameters.end(),
                                          [&](const std::string& prefix) { return selected(name, prefix); });
            if (!take) continue;
            xai::detail::require(p.scalar_type() == s.dtype, where, ": parameter '", name, "' is of dtype ",
                                 c10::toString(p.scalar_type()), ", expected ", c10::toString(s.dtype),
                                 " like the model's first parameter");
            s.theta.push_back(p);
            const auto size = static_cast<std::size_t>(p.numel());
            s.blocks.push_back({name, s.num_parameters, size});
            s.num_parameters += size;
        }
    }

    static void resolve_feature_layer(TorchState& s, const char* where) {
        const std::string& asked = s.options.feature_layer;
        if (!asked.empty()) {
            xai::detail::require(std::find(s.graph.layers.begin(), s.graph.layers.end(), asked) != s.graph.layers.end(),
                                 where, ": options.feature_layer is '", asked, "', expected one of the layers ",
                                 layer_list(s.graph.layers));
            s.feature_layer = asked;
        } else {
            s.feature_layer = s.graph.feature_layer;
        }
    }

    static void resolve_classifier(TorchState& s, const char* where) {
        auto find = [&](const std::string& name) -> const torch::Tensor* {
            for (const auto& [n, p] : s.graph.parameters)
                if (n == name) return &p;
            return nullptr;
        };
        const auto k = static_cast<std::int64_t>(s.classes);
        if (!s.options.classifier.empty()) {
            const std::string weight = s.options.classifier + ".weight";
            const torch::Tensor* w = find(weight);
            xai::detail::require(w != nullptr && w->dim() == 2 && w->size(0) == k, where, ": options.classifier is '",
                                 s.options.classifier, "', but there is no parameter '", weight, "' of shape [",
                                 s.classes, ", C]; the parameters are ", parameter_list(s));
            s.classifier_weight = weight;
        } else {
            for (const auto& [name, p] : s.graph.parameters) {
                const bool is_weight = name == "weight" || (name.size() > 7 && name.ends_with(".weight"));
                if (is_weight && p.dim() == 2 && p.size(0) == k) s.classifier_weight = name;
            }
        }
        if (s.classifier_weight.empty()) return;
        const std::string bias = s.classifier_weight.substr(0, s.classifier_weight.size() - 6) + "bias";
        const torch::Tensor* b = find(bias);
        if (b != nullptr && b->dim() == 1 && b->size(0) == k) s.classifier_bias = bias;
    }

    static std::string layer_list(const std::vector<std::string>& names) {
        std::string out = "[";
        for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
        return out + "]";
    }

    std::size_t layer_index(const std::string& layer, const char* where) const {
        const auto& names = state_->graph.layers;
        const auto it = std::find(names.begin(), names.end(), layer);
        if (it == names.end()) {
            for (const auto& [name, why] : state_->graph.unavailable)
                if (name == layer)
                    throw invalid_argument(xai::detail::message(where, ": submodule '", layer,
                                                                "' runs in forward but cannot be chosen as a layer: ", why,
                                                                "; expected one of ", layer_list(names)));
        }
        xai::detail::require(it != names.end(), where, ": layer '", layer, "' is not a layer of the model, expected one of ",
                             layer_list(names));
        return static_cast<std::size_t>(it - names.begin());
    }

    /// The batch as a tensor in the model's dtype: a view for float32 models, a copy for float64.
    torch::Tensor model_input(const Batch& batch) const {
        const torch::Tensor x = as_torch(batch);
        return state_->dtype == torch::kFloat32 ? x : x.to(state_->dtype);
    }

    /// Activations and logits of one pass to `layer` (autograd as set by the caller).
    std::pair<torch::Tensor, torch::Tensor> run_layer(const torch::Tensor& x, std::size_t layer) const {
        const TorchGraph& g = state_->graph;
        if (g.multi) {
            auto [logits, all] = g.multi(x, {layer});
            return {all[0], logits};
        }
        if (!g.features) {
            auto [logits, activations] = g.logits_and_activations(x);
            return {activations, logits};
        }
        torch::Tensor activations = g.features(x, layer);
        torch::Tensor logits = g.head(layer, activations.clone());
        return {activations, logits};
    }

    static torch::Tensor checked_logits(const torch::Tensor& logits, std::size_t n, const char* where) {
        if (logits.dim() != 2 || logits.size(0) != static_cast<std::int64_t>(n))
            throw model_error(xai::detail::message(where, ": the model returned logits of shape ", logits.sizes(),
                                                   ", expected [", n, ", K]"));
        return logits;
    }

    Scores scores_of(const torch::Tensor& logits, std::size_t n, const char* where) const {
        Scores scores = to_xtensor<2>(checked_logits(logits, n, where));
        xai::detail::require_model_scores(scores, n, state_->classes, where);
        return scores;
    }

    Activations activations_of(const torch::Tensor& a, std::size_t layer, std::size_t n) const {
        const std::vector<std::size_t>& expected = state_->layer_shapes[layer];
        bool ok = a.dim() == static_cast<std::int64_t>(expected.size() + 1) && a.size(0) == static_cast<std::int64_t>(n);
        for (std::size_t d = 0; ok && d < expected.size(); ++d)
            ok = a.size(static_cast<std::int64_t>(d + 1)) == static_cast<std::int64_t>(expected[d]);
        if (!ok)
            throw detail::TorchStructureError(xai::detail::message(
                "layer '", state_->graph.layers[layer], "' returned activations of shape ", a.sizes(), ", expected [", n,
                ", ", shape_string(expected).substr(1)));
        return to_xarray(a);
    }

    Scores checked_seed(const ScoreSeed& seed, const Scores& scores, const char* where) const {
        Scores s = seed(scores);
        xai::detail::require<shape_error>(s.dimension() == 2 && s.shape(0) == scores.shape(0) && s.shape(1) == scores.shape(1),
                                          where, ": the seed returned shape ", shape_string(s.shape()), ", expected [",
                                          scores.shape(0), ", ", scores.shape(1), "] like the logits");
        xai::detail::require_finite(s, "TorchModel: the seed's gradient");
        return s;
    }

    /// d(Σ seeds ⊙ logits)/d(leaf); an undefined tensor when the logits do not depend on it.
    static torch::Tensor gradient_of(const torch::Tensor& logits, const torch::Tensor& leaf, const Scores& seeds) {
        if (!logits.requires_grad()) return {};
        const torch::Tensor grad_output = as_torch(seeds).to(logits.scalar_type());
        return torch::autograd::grad({logits}, {leaf}, {grad_output}, /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true)[0];
    }

    std::pair<torch::Tensor, torch::Tensor> classifier(const char* where) const {
        const TorchState& s = *state_;
        if (s.classifier_weight.empty())
            throw model_error(xai::detail::message(where, ": the model has no linear classifier with ", s.classes,
                                                   " rows; set TorchOptions::classifier to the prefix of its parameters"));
        torch::Tensor w, b;
        for (const auto& [name, p] : s.graph.parameters) {
            if (name == s.classifier_weight) w = p.detach();
            if (name == s.classifier_bias) b = p.detach();
        }
        if (!b.defined()) b = torch::zeros({w.size(0)}, w.options());
        return {w, b};
    }

    /// Throws model_error unless logits = W · mean_hw(activations) + b (within float rounding).
    void require_gap_linear(const torch::Tensor& activations, const torch::Tensor& logits, const char* where) const {
        const auto [w, b] = classifier(where);
        if (w.size(1) != activations.size(1))
            throw model_error(xai::detail::message(where, ": the classifier '", state_->classifier_weight, "' has ",
                                                   w.size(1), " inputs but layer '", state_->feature_layer, "' has ",
                                                   activations.size(1), " channels; CAM needs GAP + linear right after it"));
        const torch::Tensor predicted = torch::addmm(b, activations.mean({2, 3}), w.t());
        const double error = (predicted - logits).abs().max().item<double>();
        const double scale = 1.0 + logits.abs().max().item<double>();
        if (!(error <= 1e-3 * scale))
            throw model_error(xai::detail::message(
                where, ": the logits differ from '", state_->classifier_weight, "' applied to the global average of layer '",
                state_->feature_layer, "' by up to ", error, ": the head is not global average pooling + that linear layer, "
                "so CAM does not apply (use Grad-CAM, which equals CAM up to 1/(h·w) on such heads)"));
    }

    void check_labelled(const Batch& batch, const Labels& labels, const char* where) const {
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require<shape_error>(labels.size() == batch.shape(0), where, ": labels has ", labels.size(),
                                          " entries for a batch of ", batch.shape(0), " images");
        for (std::size_t i = 0; i < labels.size(); ++i)
            xai::detail::require(labels[i] < state_->classes, where, ": labels[", i, "] is ", labels[i],
                                 ", expected a class index below ", state_->classes);
    }

    /// Cross-entropy of rows [first, first + count) of `logits` against their labels.
    static torch::Tensor cross_entropy(const torch::Tensor& logits, const Labels& labels, std::size_t first,
                                       std::size_t count, torch::nn::functional::CrossEntropyFuncOptions::reduction_t reduction) {
        std::vector<std::int64_t> targets(labels.begin() + static_cast<std::ptrdiff_t>(first),
                                          labels.begin() + static_cast<std::ptrdiff_t>(first + count));
        const torch::Tensor target = torch::tensor(targets, torch::kInt64);
        return torch::nn::functional::cross_entropy(logits, target,
                                                    torch::nn::functional::CrossEntropyFuncOptions().reduction(reduction));
    }

    /// ∇θ of the batch's mean loss, with its graph kept for a second differentiation.
    std::vector<torch::Tensor> mean_loss_gradient(const Batch& batch, const Labels& labels, const char* where) const {
        const torch::Tensor logits = checked_logits(state_->graph.forward(model_input(batch)), batch.shape(0), where);
        const torch::Tensor loss = cross_entropy(logits, labels, 0, labels.size(), torch::kMean);
        if (state_->theta.empty()) return {};
        return torch::autograd::grad({loss}, state_->theta, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                     /*allow_unused=*/true);
    }

    /// ∇θ of a scalar as a flat vector (zeros for parameters it does not depend on).
    Eigen::VectorXd flat_gradient(const torch::Tensor& scalar, bool retain_graph) const {
        Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(num_parameters()));
        if (state_->theta.empty() || !scalar.requires_grad()) return out;
        const auto grads = torch::autograd::grad({scalar}, state_->theta, {}, retain_graph, /*create_graph=*/false,
                                                 /*allow_unused=*/true);
        Eigen::Index offset = 0;
        for (std::size_t j = 0; j < grads.size(); ++j) {
            const std::int64_t size = state_->theta[j].numel();
            if (grads[j].defined()) out.segment(offset, size) = to_eigen(grads[j]);
            offset += size;
        }
        return out;
    }

    static Eigen::VectorXd flat(const std::vector<torch::Tensor>& tensors) {
        std::int64_t total = 0;
        for (const torch::Tensor& t : tensors) total += t.numel();
        Eigen::VectorXd out(total);
        Eigen::Index offset = 0;
        for (const torch::Tensor& t : tensors) {
            out.segment(offset, t.numel()) = to_eigen(t);
            offset += t.numel();
        }
        return out;
    }

    std::shared_ptr<TorchState> state_;
};

static_assert(Classifier<TorchModel> && FeatureModel<TorchModel> && LayerGradientModel<TorchModel> &&
              LayerForwardModel<TorchModel> && InputGradientModel<TorchModel> && ReluBackwardModel<TorchModel> &&
              BiasGradientModel<TorchModel> && ExactHessianModel<TorchModel>);

}  // namespace xai::models
