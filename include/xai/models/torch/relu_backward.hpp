#pragma once
// The ReLU backward rules of guided backpropagation and the deconvnet (core/concepts.hpp,
// ReluBackward) on LibTorch models, whatever their form: TorchModel::input_gradients(batch,
// seed, rule) runs the forward pass with autograd, then walks the autograd graph of the logits
// and gives every ReLU node (ReluBackward0: torch::relu, torch::relu_, torch::nn::ReLU, the
// functional relu, TorchScript's aten::relu and aten::relu_) a post hook that replaces the
// gradient it sends to its input:
//   guided          relu(grad_input)  = max(g, 0)·[x > 0]   (Captum's GuidedBackprop)
//   deconvolution   relu(grad_output) = max(g, 0)           (Captum's Deconvolution)
// where g is the gradient reaching the ReLU's output and grad_input = g·[x > 0] what
// backpropagation computed. LibTorch 1.13's engine passes a node's outputs through its post
// hooks and uses what they return (engine.cpp, call_post_hooks), so nothing else changes.
//
// This works on the autograd graph, not on modules, so a ReLU written as a function inside a
// C++ module's forward is covered as well as a torch::nn::ReLU child. TorchScript's profiling
// executor would, after its first runs, fold runs of differentiable ops into one
// DifferentiableGraphBackward node that hides the ReLUs; the TorchScript forms therefore run
// these passes through a copy of their forward with every call inlined, executed by the
// simple executor (no fusion, each op its own autograd node): script_unfused() below.
//
// What cannot be rewritten is refused (model_error from TorchModel) rather than silently given
// the ordinary gradient: other rectifiers, for which the rules are not defined (GELU, SiLU,
// Hardswish, ELU, leaky ReLU, ReLU6 = hardtanh, softplus, threshold, clamp), ReLUs fused into
// other ops (a TorchScript graph already holding fusion groups or prepacked conv-ReLU kernels),
// and fused autograd nodes. The message names the form of the model, the rule and the nodes.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <array>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/models/torch/graph.hpp"

namespace xai::models::detail {

/// Replaces the gradient a ReLU node sends to its input by the rule's (see the header comment).
class ReluRuleHook final : public torch::autograd::FunctionPostHook {
public:
    explicit ReluRuleHook(ReluBackward rule) : rule_(rule) {}

    torch::autograd::variable_list operator()(const torch::autograd::variable_list& grad_inputs,
                                              const torch::autograd::variable_list& grad_outputs) override {
        torch::autograd::variable_list out = grad_inputs;
        if (out.empty() || !out[0].defined()) return out;  // the ReLU's input needs no gradient
        // out[0] is the node's own fresh result (threshold_backward's), so it is overwritten in
        // place rather than a new tensor the size of the activations allocated; grad_outputs
        // belong to the engine's input buffer and are only read.
        if (rule_ == ReluBackward::guided) {
            out[0].clamp_min_(0);
        } else {
            torch::clamp_min_out(out[0], grad_outputs[0], 0);
        }
        return out;
    }

private:
    ReluBackward rule_;
};

/// Whether an autograd node is a rectifier or fused node the ReLU rules cannot be applied to
/// (see the header comment); its name is then reported.
inline bool refused_autograd_node(std::string_view name) {
    static constexpr std::array<std::string_view, 18> refused{
        "Gelu", "Silu", "Mish", "Hardswish", "Hardsigmoid", "Elu", "Celu", "Selu", "LeakyRelu", "Hardtanh", "Prelu",
        "PreluKernel", "RreluWithNoise", "Softplus", "Threshold", "ClampMin", "Clamp", "DifferentiableGraph"};
    // "GeluBackward0" → "Gelu"; TorchScript's fused node is "torch::jit::…::DifferentiableGraphBackward".
    std::string_view stem = name.substr(0, name.find("Backward"));
    if (const std::size_t colon = stem.rfind("::"); colon != std::string_view::npos) stem = stem.substr(colon + 2);
    for (std::string_view r : refused)
        if (stem == r) return true;
    return false;
}

/// Gives every ReLU node of the autograd graph that produced `logits` the rule's post hook;
/// throws TorchStructureError naming the nodes the rule cannot go through (see the header
/// comment). `form` names the model in the message.
inline void apply_relu_rule(const torch::Tensor& logits, ReluBackward rule, const std::string& form) {
    if (rule == ReluBackward::standard || !logits.grad_fn()) return;
    std::unordered_set<const torch::autograd::Node*> seen;
    std::vector<torch::autograd::Node*> stack{logits.grad_fn().get()};
    std::map<std::string, std::size_t> refused;
    while (!stack.empty()) {
        torch::autograd::Node* node = stack.back();
        stack.pop_back();
        if (!seen.insert(node).second) continue;
        const std::string name = node->name();
        if (name == "ReluBackward0") {
            node->add_post_hook(std::make_unique<ReluRuleHook>(rule));
        } else if (refused_autograd_node(name)) {
            ++refused[name];
        }
        for (const torch::autograd::Edge& edge : node->next_edges())
            if (edge.function) stack.push_back(edge.function.get());
    }
    if (refused.empty()) return;
    std::string nodes;
    for (const auto& [name, count] : refused) nodes += (nodes.empty() ? "" : ", ") + name + " ×" + std::to_string(count);
    throw TorchStructureError(xai::detail::message(
        "the ReLU rule '", to_string(rule), "' (", rule == ReluBackward::guided ? "guided backpropagation" : "the deconvnet",
        ") needs a network whose only rectifiers are separate ReLUs, but the backward graph of this ", form,
        " has ", nodes, ": rectifiers other than ReLU or fused nodes, through which the rule is not defined "
        "(ReluBackwardModel, core/concepts.hpp)"));
}

/// The nodes of a TorchScript graph that hide ReLUs inside other ops (fused conv-ReLU kernels,
/// fusion groups), which no autograd hook can reach; "" when there are none.
inline std::string fused_relu_nodes(const torch::jit::Block& block) {
    std::string out;
    for (const torch::jit::Node* n : block.nodes()) {
        std::string kind = n->kind().toQualString();
        std::string lower = kind;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        // aten's own rectifiers (leaky_relu, rrelu, …) record their own autograd nodes and are
        // judged there; a relu in another namespace (quantized::conv2d_relu) is fused.
        const bool relu_inside = lower.find("relu") != std::string::npos && lower.rfind("aten::", 0) != 0;
        const bool fused = lower.find("fusiongroup") != std::string::npos || lower.find("tensorexprgroup") != std::string::npos ||
                           lower.find("differentiablegraph") != std::string::npos || lower.rfind("prepacked::", 0) == 0 ||
                           lower.rfind("mkldnn_prepacked::", 0) == 0;
        if ((relu_inside || fused) && out.find(kind) == std::string::npos) out += (out.empty() ? "" : ", ") + kind;
        for (const torch::jit::Block* b : n->blocks()) {
            const std::string inner = fused_relu_nodes(*b);
            if (!inner.empty() && out.find(inner) == std::string::npos) out += (out.empty() ? "" : ", ") + inner;
        }
    }
    return out;
}

/// A TorchScript method with every call inlined, run by the simple executor so that each op
/// is its own autograd node (see the header comment): (module, inputs) → the method's result.
/// Throws TorchStructureError at construction when the graph hides ReLUs in fused nodes.
class ScriptUnfused {
public:
    ScriptUnfused(const torch::jit::Module& module, const std::string& method) : module_(module) {
        std::shared_ptr<torch::jit::Graph> graph = module.get_method(method).graph()->copy();
        torch::jit::Inline(*graph);
        fused_ = fused_relu_nodes(*graph->block());
        function_ = std::make_shared<torch::jit::GraphFunction>(c10::QualifiedName("xai.unfused_" + method), graph, nullptr,
                                                                torch::jit::ExecutorExecutionMode::SIMPLE);
    }

    /// The method's result for `x`; TorchStructureError when its graph has fused ReLUs.
    c10::IValue operator()(const torch::Tensor& x) const {
        if (!fused_.empty())
            throw TorchStructureError(xai::detail::message(
                "the TorchScript graph has ReLUs fused into other ops (", fused_,
                "), whose backward pass no ReLU rule can change (ReluBackwardModel, core/concepts.hpp); export the "
                "model without freezing or inference optimizations"));
        torch::jit::Stack stack{module_._ivalue(), x};
        function_->run(stack);
        return stack.back();
    }

private:
    torch::jit::Module module_;
    std::shared_ptr<torch::jit::GraphFunction> function_;
    std::string fused_;
};

}  // namespace xai::models::detail
