#pragma once
// How each form of LibTorch model is run end to end, up to a named layer, and from a named
// layer to the logits. TorchModel (torch.hpp) is written once against detail::TorchGraph; the
// four functions here build one per form:
//
//   sequential_graph   a torch::nn::Sequential. Its layers are its named children, run in
//                      order; a child that is itself a Sequential (a ResNet "layer4" of
//                      BasicBlocks) contributes its own children as "layer4.0", "layer4.1",
//                      and its output as "layer4". Any block type works (a residual block is
//                      one child), since Sequential calls each child's own forward.
//   split_graph        any C++-frontend module with a user-supplied split per layer (a
//                      TorchLayerSplit: input → activations, activations → logits), for
//                      modules whose forward is not a chain of their children.
//   script_pair_graph  two TorchScript modules: features (input → activations of one layer)
//                      and head (activations → logits).
//   script_single_graph one TorchScript module whose forward returns (logits, activations);
//                      an optional method head(activations) → logits enables forward_from.
//   script_plain_graph a plain TorchScript classifier (forward returns the logits), every
//                      submodule a layer (script.hpp rewrites the graph).
//
// The graphs hold shared handles to the modules (no copies of parameters) and are immutable
// once built, so several threads may run them at once (see torch.hpp for what LibTorch
// guarantees about that).

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/error.hpp"

namespace xai::models {

/// A tensor → tensor function (a forward pass, or part of one).
using TorchFunction = std::function<torch::Tensor(const torch::Tensor&)>;

/// One explainable layer of a C++-frontend module whose forward is not a plain chain of its
/// children: `features` computes the layer's activations from the input, `head` the logits
/// from those activations (head(features(x)) must equal the module's forward).
struct TorchLayerSplit {
    std::string name;        ///< the layer's name, as layer_names() reports it
    TorchFunction features;  ///< input → the layer's activations
    TorchFunction head;      ///< the layer's activations → logits
};

namespace detail {

/// A model that returned something of the wrong structure; TorchModel turns it into a
/// model_error that names the calling function.
class TorchStructureError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// How one form of model is run (see the header comment). Layer functions take the index of
/// the layer in `layers`.
struct TorchGraph {
    std::string form;                       ///< for messages, e.g. "torch::nn::Sequential"
    std::vector<std::string> layers;        ///< the names layer_names() reports, in order
    std::string feature_layer;              ///< the input of global average pooling, "" if unknown
    TorchFunction forward;                  ///< input → logits
    /// input → logits with every op its own autograd node, for the ReLU rules
    /// (relu_backward.hpp): the TorchScript forms run an inlined copy of their forward by the
    /// simple executor, which fuses nothing. Empty = forward (the C++ forms).
    TorchFunction forward_unfused;
    /// input → activations of a layer; empty for the single TorchScript form.
    std::function<torch::Tensor(const torch::Tensor&, std::size_t)> features;
    /// activations of a layer → logits; empty when the form cannot run from a layer.
    std::function<torch::Tensor(std::size_t, const torch::Tensor&)> head;
    /// input → (logits, activations) in one call: the single TorchScript form only.
    std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor&)> logits_and_activations;
    /// input → (activations of a layer, the rest of the network from given activations with
    /// every other value it reads bound): the plain TorchScript form, whose rest may also read
    /// values from before the layer (a skip connection). Empty for the other forms, which use
    /// features and head.
    std::function<std::pair<torch::Tensor, TorchFunction>(const torch::Tensor&, std::size_t)> split;
    /// input → (logits, activations of several layers) in one pass; empty when the form has
    /// no such pass (layers are then run one by one).
    std::function<std::pair<torch::Tensor, std::vector<torch::Tensor>>(const torch::Tensor&, const std::vector<std::size_t>&)>
        multi;
    /// For error messages about a layer name that is not listed: the submodules that run but
    /// cannot be chosen, each with the reason.
    std::vector<std::pair<std::string, std::string>> unavailable;
    /// input → the activations of every layer, in the order of `layers` (one pass where the
    /// form allows it); used once, to learn each layer's shape.
    std::function<std::vector<torch::Tensor>(const torch::Tensor&)> every_layer;
    /// Every parameter, named as the module names it, in registration order.
    std::vector<std::pair<std::string, torch::Tensor>> parameters;
};

inline std::vector<std::pair<std::string, torch::Tensor>> named_parameters_of(const torch::nn::Module& module) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
    return out;
}

inline std::vector<std::pair<std::string, torch::Tensor>> named_parameters_of(const torch::jit::Module& module,
                                                                              const std::string& prefix) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& item : module.named_parameters(true)) out.emplace_back(prefix + item.name, item.value);
    return out;
}

/// The tensor a TorchScript call returned, or TorchStructureError describing what it returned.
inline torch::Tensor script_tensor(const c10::IValue& value, const char* what, const char* expected) {
    if (!value.isTensor())
        throw TorchStructureError(xai::detail::message("the TorchScript ", what, " returned a ", value.tagKind(),
                                                       ", expected a tensor (", expected, ")"));
    return value.toTensor();
}

/// A Sequential's children flattened into the modules that actually run ("leaves"), and for
/// every name (leaf or nested Sequential) the number of leaves that produce its output.
struct SequentialPlan {
    std::vector<torch::nn::AnyModule> leaves;
    std::vector<std::string> names;
    std::vector<std::size_t> ends;

    void add(torch::nn::SequentialImpl& net, const std::string& prefix) {
        const auto children = net.named_children();
        xai::detail::require(children.size() == net.size(), "TorchModel: the Sequential '", prefix,
                             "' has modules without names; build it with push_back(name, module)");
        std::size_t i = 0;
        for (auto it = net.begin(); it != net.end(); ++it, ++i) {
            const std::string name = prefix + children[i].key();
            if (auto inner = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(it->ptr())) {
                add(*inner, name + ".");
            } else {
                leaves.push_back(*it);  // AnyModule copies share the module
            }
            names.push_back(name);
            ends.push_back(leaves.size());
        }
    }
};

inline TorchGraph sequential_graph(const torch::nn::Sequential& net) {
    xai::detail::require(!net.is_empty() && net->size() > 0, "TorchModel: the torch::nn::Sequential is empty, expected at least one module");
    auto plan = std::make_shared<SequentialPlan>();
    plan->add(*net.ptr(), "");
    TorchGraph g;
    g.form = "torch::nn::Sequential";
    g.layers = plan->names;
    auto run = [plan](torch::Tensor h, std::size_t begin, std::size_t end) {
        for (std::size_t l = begin; l < end; ++l) h = plan->leaves[l].forward(h);
        return h;
    };
    const std::size_t total = plan->leaves.size();
    g.forward = [run, total](const torch::Tensor& x) { return run(x, 0, total); };
    g.features = [run, plan](const torch::Tensor& x, std::size_t layer) { return run(x, 0, plan->ends[layer]); };
    g.head = [run, plan, total](std::size_t layer, const torch::Tensor& a) { return run(a, plan->ends[layer], total); };
    g.every_layer = [plan](const torch::Tensor& x) {
        std::vector<torch::Tensor> after(plan->leaves.size() + 1);  // after[l]: the output of the first l leaves
        after[0] = x;
        for (std::size_t l = 0; l < plan->leaves.size(); ++l) after[l + 1] = plan->leaves[l].forward(after[l]);
        std::vector<torch::Tensor> out;
        for (std::size_t end : plan->ends) out.push_back(after[end]);
        return out;
    };
    // The feature layer of CAM is whatever feeds the last AdaptiveAvgPool2d; among the names
    // that end there, the last one recorded is the outermost ("layer4" rather than "layer4.1").
    for (std::size_t l = total; l-- > 0;) {
        if (!std::dynamic_pointer_cast<torch::nn::AdaptiveAvgPool2dImpl>(plan->leaves[l].ptr())) continue;
        for (std::size_t k = 0; k < plan->names.size(); ++k)
            if (plan->ends[k] == l && l > 0) g.feature_layer = plan->names[k];
        break;
    }
    g.parameters = named_parameters_of(*net.ptr());
    return g;
}

inline TorchGraph split_graph(const torch::nn::Module& module, std::vector<TorchLayerSplit> splits, TorchFunction forward) {
    xai::detail::require(!splits.empty(), "TorchModel: no layer splits given, expected at least one TorchLayerSplit");
    TorchGraph g;
    g.form = "C++ module with layer splits";
    for (std::size_t i = 0; i < splits.size(); ++i) {
        const TorchLayerSplit& s = splits[i];
        xai::detail::require(!s.name.empty(), "TorchModel: splits[", i, "] has an empty name, expected a layer name");
        xai::detail::require(s.features && s.head, "TorchModel: splits[", i, "] ('", s.name,
                             "') lacks its features or head function, expected both");
        for (const std::string& seen : g.layers)
            xai::detail::require(seen != s.name, "TorchModel: two splits are named '", s.name, "', expected unique names");
        g.layers.push_back(s.name);
    }
    auto shared = std::make_shared<const std::vector<TorchLayerSplit>>(std::move(splits));
    g.forward = forward ? std::move(forward) : TorchFunction([shared](const torch::Tensor& x) {
        return (*shared)[0].head((*shared)[0].features(x));
    });
    g.features = [shared](const torch::Tensor& x, std::size_t layer) { return (*shared)[layer].features(x); };
    g.head = [shared](std::size_t layer, const torch::Tensor& a) { return (*shared)[layer].head(a); };
    g.every_layer = [shared](const torch::Tensor& x) {
        std::vector<torch::Tensor> out;
        for (const TorchLayerSplit& s : *shared) out.push_back(s.features(x));
        return out;
    };
    if (shared->size() == 1) g.feature_layer = shared->front().name;
    g.parameters = named_parameters_of(module);
    return g;
}

inline TorchGraph script_pair_graph(const torch::jit::Module& features, const torch::jit::Module& head,
                                    const std::string& layer) {
    xai::detail::require(!layer.empty(), "TorchModel: the layer name of the TorchScript pair is empty");
    // jit::Module is a handle to a shared object; forward() is not const, so each call works
    // on a copy of the handle (the same module).
    TorchGraph g;
    g.form = "TorchScript pair (features, head)";
    g.layers = {layer};
    g.feature_layer = layer;
    auto run_features = [features](const torch::Tensor& x) {
        torch::jit::Module m = features;
        return script_tensor(m.forward({x}), "features module", "the activations");
    };
    auto run_head = [head](const torch::Tensor& a) {
        torch::jit::Module m = head;
        return script_tensor(m.forward({a}), "head module", "the logits");
    };
    g.forward = [run_features, run_head](const torch::Tensor& x) { return run_head(run_features(x)); };
    g.features = [run_features](const torch::Tensor& x, std::size_t) { return run_features(x); };
    g.head = [run_head](std::size_t, const torch::Tensor& a) { return run_head(a); };
    g.every_layer = [run_features](const torch::Tensor& x) { return std::vector<torch::Tensor>{run_features(x)}; };
    g.parameters = named_parameters_of(features, "features.");
    for (auto& p : named_parameters_of(head, "head.")) g.parameters.push_back(std::move(p));
    return g;
}

inline TorchGraph script_single_graph(const torch::jit::Module& module, const std::string& layer) {
    xai::detail::require(!layer.empty(), "TorchModel: the layer name of the TorchScript module is empty");
    TorchGraph g;
    g.form = "TorchScript module returning (logits, activations)";
    g.layers = {layer};
    g.feature_layer = layer;
    g.logits_and_activations = [module](const torch::Tensor& x) {
        torch::jit::Module m = module;
        const c10::IValue out = m.forward({x});
        if (!out.isTuple())
            throw TorchStructureError(xai::detail::message("the TorchScript module returned a ", out.tagKind(),
                                                           ", expected a tuple (logits, activations)"));
        const auto& items = out.toTupleRef().elements();
        if (items.size() != 2 || !items[0].isTensor() || !items[1].isTensor())
            throw TorchStructureError(xai::detail::message("the TorchScript module returned a tuple of ", items.size(),
                                                           " values, expected a tuple of two tensors (logits, activations)"));
        return std::make_pair(items[0].toTensor(), items[1].toTensor());
    };
    g.forward = [run = g.logits_and_activations](const torch::Tensor& x) { return run(x).first; };
    g.every_layer = [run = g.logits_and_activations](const torch::Tensor& x) {
        return std::vector<torch::Tensor>{run(x).second};
    };
    if (module.find_method("head")) {
        g.head = [module](std::size_t, const torch::Tensor& a) {
            torch::jit::Module m = module;
            return script_tensor(m.get_method("head")({a}), "method head()", "the logits");
        };
    }
    g.parameters = named_parameters_of(module, "");
    return g;
}

}  // namespace detail
}  // namespace xai::models
