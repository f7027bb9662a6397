#pragma once
// The bias-gradients of FullGrad (BiasGradientModel, core/concepts.hpp) on LibTorch models,
// whatever their form: TorchModel::bias_gradients(batch, seed) runs the forward pass with
// autograd, then walks the autograd graph of the logits and gives every node of a biased layer
// a pre hook that records the gradient reaching its output (∇_z f, the node's first
// grad_output), with the layer's bias b:
//   convolution          ConvolutionBackward0 (torch::conv2d, nn::Conv2d) and ConvolutionBackward1
//                        (TorchScript's aten::_convolution): b = the bias input, when there is one
//   linear               AddmmBackward0 (nn::Linear and aten::linear on N×D inputs, aten::addmm):
//                        b = β · the 1-D `self` input
//   batch normalisation  NativeBatchNormBackward0 in eval mode: the affine map
//                        γ (x − μ)/√(σ² + ε) + β has the effective bias b = β − μγ/√(σ² + ε),
//                        what FullGrad's authors (saliency/tensor_extractor.py) and
//                        pytorch-grad-cam's FullGrad (`get_bias_data`) use; μ, σ², γ and ε are
//                        read from the node's saved variables
// This works on the autograd graph, as relu_backward.hpp does, so a layer written as a function
// inside a C++ module's forward counts as well as a module child, and the TorchScript forms run
// their unfused copy of forward (each op its own node). A biased layer whose output is changed
// in place afterwards (ResNet's BatchNorm followed by ReLU(inplace=True)) is still seen before
// the change: autograd records the in-place op as a separate node.
//
// The bias values are the inputs' AccumulateGrad variables, which exist only for parameters
// that require a gradient: TorchModel switches requires_grad on for every parameter under its
// exclusive lock for the pass (the backward pass itself is taken with respect to the input only,
// so no parameter's .grad is touched). Completeness, f = ∇ₓf·x + Σ ∇_z f ⊙ b, needs every
// additive parameter; a parameter that enters the graph anywhere else (a layer norm, a learned
// scale, a bias added by hand) is refused with the nodes named, rather than left out silently.
// Layers are named after their bias parameter without ".bias" ("layer1.0.bn1", "fc"), ordered
// as the forward pass created them (the nodes' sequence numbers).

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <torch/csrc/autograd/generated/Functions.h>
#include <torch/torch.h>

#include "xai/core/error.hpp"
#include "xai/models/torch/graph.hpp"

namespace xai::models::detail {

/// Keeps the gradient that reaches an autograd node's first output.
class OutputGradientRecorder final : public torch::autograd::FunctionPreHook {
public:
    /// Records into `slot`, which the caller keeps.
    explicit OutputGradientRecorder(std::shared_ptr<torch::Tensor> slot) : slot_(std::move(slot)) {}

    /// Keeps grads[0] and passes every gradient on unchanged.
    torch::autograd::variable_list operator()(const torch::autograd::variable_list& grads) override {
        if (!grads.empty() && grads[0].defined()) *slot_ = grads[0].detach();
        return grads;
    }

private:
    std::shared_ptr<torch::Tensor> slot_;
};

/// One biased layer found in the autograd graph: its name, bias, and (after the backward pass)
/// the gradient at its output (undefined when none reached it).
struct TorchBiasSite {
    std::string name;                                                            ///< the bias parameter's name without ".bias"
    torch::Tensor bias;                                                          ///< the (effective) bias, one per output channel
    std::shared_ptr<torch::Tensor> gradient = std::make_shared<torch::Tensor>();  ///< filled by the node's pre hook
    std::uint64_t sequence = 0;                                                  ///< the node's sequence number (forward order)
};

/// The parameter an edge leads to (its AccumulateGrad variable), or an undefined tensor.
inline torch::Tensor edge_parameter(const torch::autograd::Edge& edge) {
    if (!edge.function) return {};
    const auto* accumulate = dynamic_cast<const torch::autograd::AccumulateGrad*>(edge.function.get());
    return accumulate != nullptr ? accumulate->variable : torch::Tensor();
}

/// Finds every biased layer of the autograd graph that produced `logits` and hooks its node
/// (see the header comment); `parameters` name the layers. Throws TorchStructureError naming the
/// nodes through which other parameters enter the graph. `form` names the model in the message.
inline std::vector<TorchBiasSite> hook_bias_sites(const torch::Tensor& logits,
                                                  const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                                                  const std::string& form) {
    namespace generated = torch::autograd::generated;
    using torch::autograd::Node;
    std::unordered_map<const c10::TensorImpl*, std::string> names;
    for (const auto& [name, p] : parameters) names.emplace(p.unsafeGetTensorImpl(), name);
    auto layer_name = [&](const torch::Tensor& bias, const char* fallback, std::size_t index) {
        const auto it = bias.defined() ? names.find(bias.unsafeGetTensorImpl()) : names.end();
        if (it == names.end()) return std::string(fallback) + "#" + std::to_string(index);
        const std::string& name = it->second;
        return name.ends_with(".bias") ? name.substr(0, name.size() - 5) : name;
    };

    std::vector<TorchBiasSite> sites;
    std::map<std::string, std::size_t> refused;  // node name → parameters entering through it
    std::unordered_set<const Node*> seen, weight_paths;
    std::vector<Node*> stack;
    if (logits.grad_fn()) stack.push_back(logits.grad_fn().get());
    while (!stack.empty()) {
        Node* node = stack.back();
        stack.pop_back();
        if (!seen.insert(node).second) continue;
        const std::string kind = node->name();
        const auto& edges = node->next_edges();
        // Which inputs may be parameters without an additive part outside this rule.
        std::vector<bool> known(edges.size(), false);
        TorchBiasSite site;
        if (kind == "ConvolutionBackward0" || kind == "ConvolutionBackward1") {
            for (std::size_t e = 1; e < edges.size(); ++e) known[e] = true;
            if (edges.size() > 2) site.bias = edge_parameter(edges[2]);
            if (site.bias.defined()) site.name = layer_name(site.bias, "convolution", sites.size());
        } else if (kind == "AddmmBackward0") {
            known.assign(edges.size(), true);
            const auto* addmm = dynamic_cast<const generated::AddmmBackward0*>(node);
            const torch::Tensor self = edges.empty() ? torch::Tensor() : edge_parameter(edges[0]);
            if (addmm != nullptr && self.defined() && self.dim() == 1) {
                site.bias = self.detach() * addmm->beta.toDouble();
                site.name = layer_name(self, "linear", sites.size());
            }
            for (std::size_t e = 1; e < edges.size(); ++e)
                if (edges[e].function) weight_paths.insert(edges[e].function.get());
        } else if (kind == "MmBackward0") {
            known.assign(edges.size(), true);
            for (const auto& edge : edges)
                if (edge.function) weight_paths.insert(edge.function.get());
        } else if (kind == "NativeBatchNormBackward0") {
            for (std::size_t e = 1; e < edges.size(); ++e) known[e] = true;
            const auto* bn = dynamic_cast<const generated::NativeBatchNormBackward0*>(node);
            if (bn == nullptr || bn->training)
                throw TorchStructureError(xai::detail::message(
                    "the ", form, " runs batch normalisation with the batch's statistics (training mode), whose shift "
                    "depends on the input, so it has no bias for FullGrad"));
            const torch::Tensor mean = bn->running_mean_.unpack(), var = bn->running_var_.unpack();
            const torch::Tensor gamma = bn->weight_.unpack();
            const torch::Tensor beta = edges.size() > 2 ? edge_parameter(edges[2]) : torch::Tensor();
            torch::Tensor scale = torch::rsqrt(var.detach() + bn->eps);
            if (gamma.defined()) scale = scale * gamma.detach();
            site.bias = -mean.detach() * scale;
            if (beta.defined()) site.bias = site.bias + beta.detach();
            site.name = layer_name(beta, "batch_norm", sites.size());
        } else if (weight_paths.count(node) != 0 && (kind == "TBackward0" || kind == "TransposeBackward0")) {
            known.assign(edges.size(), true);  // a linear layer's weight, transposed for addmm or mm
        }
        if (site.bias.defined()) {
            site.sequence = node->sequence_nr();
            node->add_pre_hook(std::make_unique<OutputGradientRecorder>(site.gradient));
            sites.push_back(std::move(site));
        }
        for (std::size_t e = 0; e < edges.size(); ++e) {
            if (!edges[e].function) continue;
            stack.push_back(edges[e].function.get());
            if (known[e]) continue;
            // The input is a leaf as well; only the model's own parameters are refused.
            const torch::Tensor leaf = edge_parameter(edges[e]);
            if (leaf.defined() && names.count(leaf.unsafeGetTensorImpl()) != 0) ++refused[kind];
        }
    }
    if (!refused.empty()) {
        std::string nodes;
        for (const auto& [name, count] : refused) nodes += (nodes.empty() ? "" : ", ") + name + " ×" + std::to_string(count);
        throw TorchStructureError(xai::detail::message(
            "the backward graph of this ", form, " has parameters entering through ", nodes,
            ": FullGrad's bias-gradients know the biases of convolutions, linear layers and batch normalisation only, "
            "and leaving any other parameter out would break completeness (BiasGradientModel, core/concepts.hpp)"));
    }
    std::sort(sites.begin(), sites.end(), [](const TorchBiasSite& a, const TorchBiasSite& b) { return a.sequence < b.sequence; });
    return sites;
}

}  // namespace xai::models::detail
