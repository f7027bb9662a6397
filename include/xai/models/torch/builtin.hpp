#pragma once
// The built-in CNN (models/sequential.hpp) in LibTorch, with the same layers, names and weights:
//
//   to_torch_sequential(model)         a torch::nn::Sequential (C++ frontend)
//   to_torchscript(model, layer)       one TorchScript module: forward(x) → (logits, activations
//                                      of `layer`), plus head(activations) → logits
//   to_torchscript_pair(model, layer)  two TorchScript modules: features (x → activations of
//                                      `layer`) and head (activations → logits)
//
// Layer by layer: conv2d → Conv2d (O×C×k×k weight, bias, stride, zero padding), relu → ReLU,
// max_pool2d → MaxPool2d (no padding; PyTorch also takes the first maximum of a window),
// global_avg_pool → AdaptiveAvgPool2d(1) followed by a flatten, flatten → Flatten,
// linear → Linear (O×I weight). The built-in layouts are PyTorch's, so the weights are copied
// as they are. A float model becomes a float32 LibTorch model, a double one float64.
//
// What it is for: running the shipped, trained models through LibTorch (examples/torch_gradcam
// uses an exported one), comparing the built-in CNN's speed with LibTorch on the same
// architecture (benchmarks/bench_torch), and cross-checking two independent implementations
// of every gradient (tests/test_torch.cpp). The TorchScript modules are written from C++
// (torch::jit::Module::define), so no Python is involved; torch.jit.load reads them in Python too.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/error.hpp"
#include "xai/models/sequential.hpp"

namespace xai::models {

namespace detail {

template <class Scalar>
torch::Tensor torch_parameter(const BasicSequential<Scalar>& model, const Layer& layer, bool weight) {
    const std::size_t offset = weight ? layer.weight_offset : layer.bias_offset;
    const std::vector<std::size_t> shape = model.parameter_shape(layer, weight);
    std::vector<std::int64_t> sizes(shape.begin(), shape.end());
    constexpr auto dtype = std::is_same_v<Scalar, double> ? torch::kFloat64 : torch::kFloat32;
    // from_blob views the model's buffer; clone() gives the module its own copy.
    return torch::from_blob(const_cast<Scalar*>(model.parameter_values().data() + offset), sizes, dtype).clone();
}

/// TorchScript source for layers [first, last) of the model, one statement per layer, reading
/// `x` and writing `x`; parameters are self.<layer name>.weight / .bias.
template <class Scalar>
std::string torchscript_statements(const BasicSequential<Scalar>& model, std::size_t first, std::size_t last) {
    std::string code;
    const auto& layers = model.layers();
    for (std::size_t i = first; i < last; ++i) {
        const Layer& l = layers[i];
        const std::string self = "self." + l.spec.name;
        const std::string k = std::to_string(l.spec.kernel), s = std::to_string(l.spec.stride),
                          p = std::to_string(l.spec.padding);
        switch (l.spec.kind) {
            case LayerKind::conv2d:
                code += "    x = torch.conv2d(x, " + self + ".weight, " + self + ".bias, [" + s + ", " + s + "], [" + p +
                        ", " + p + "])\n";
                break;
            case LayerKind::relu: code += "    x = torch.relu(x)\n"; break;
            case LayerKind::max_pool2d:
                code += "    x = torch.max_pool2d(x, [" + k + ", " + k + "], [" + s + ", " + s + "])\n";
                break;
            case LayerKind::global_avg_pool: code += "    x = x.mean([2, 3])\n"; break;
            case LayerKind::flatten: code += "    x = torch.flatten(x, 1)\n"; break;
            case LayerKind::upsample2d:
                code += "    x = torch.nn.functional.interpolate(x, scale_factor=[" + k + ".0, " + k +
                        ".0], mode='bilinear', align_corners=False)\n";
                break;
            case LayerKind::linear: code += "    x = torch.addmm(" + self + ".bias, x, " + self + ".weight.t())\n"; break;
        }
    }
    return code;
}

/// An empty TorchScript module holding, as submodules named like the layers, the parameters of
/// layers [first, last).
template <class Scalar>
torch::jit::Module torchscript_shell(const BasicSequential<Scalar>& model, const std::string& type, std::size_t first,
                                     std::size_t last) {
    torch::jit::Module module(type);
    const auto& layers = model.layers();
    for (std::size_t i = first; i < last; ++i) {
        if (!layers[i].has_parameters()) continue;
        const std::string& name = layers[i].spec.name;
        const bool identifier = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                                std::all_of(name.begin(), name.end(), [](char c) {
                                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                                });
        xai::detail::require(identifier, "xai::models::to_torchscript(): layer '", name,
                             "' is not a TorchScript identifier (letters, digits, '_', not starting with a digit)");
        torch::jit::Module sub(type + "_" + layers[i].spec.name);
        sub.register_parameter("weight", torch_parameter(model, layers[i], true), false);
        sub.register_parameter("bias", torch_parameter(model, layers[i], false), false);
        module.register_module(layers[i].spec.name, sub);
    }
    return module;
}

template <class Scalar>
std::size_t layer_end(const BasicSequential<Scalar>& model, const std::string& layer, const char* where) {
    xai::detail::require<model_error>(!model.empty(), where, ": the model has no layers");
    const auto names = model.layer_names();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == layer) return i + 1;
    model.layer(layer);  // throws invalid_argument listing the names
    return 0;
}

}  // namespace detail

/// The built-in CNN as a torch::nn::Sequential whose children carry the layer names
/// (a global_avg_pool layer "gap" becomes "gap" (AdaptiveAvgPool2d) and "gap_flatten").
template <class Scalar>
torch::nn::Sequential to_torch_sequential(const BasicSequential<Scalar>& model) {
    namespace nn = torch::nn;
    xai::detail::require<model_error>(!model.empty(), "xai::models::to_torch_sequential(): the model has no layers");
    nn::Sequential net;
    torch::NoGradGuard no_grad;
    for (const Layer& l : model.layers()) {
        const std::string& name = l.spec.name;
        const auto k = static_cast<std::int64_t>(l.spec.kernel), s = static_cast<std::int64_t>(l.spec.stride),
                   p = static_cast<std::int64_t>(l.spec.padding), units = static_cast<std::int64_t>(l.spec.units);
        switch (l.spec.kind) {
            case LayerKind::conv2d: {
                nn::Conv2d conv(nn::Conv2dOptions(static_cast<std::int64_t>(l.input.channels), units, k).stride(s).padding(p));
                conv->weight.copy_(detail::torch_parameter(model, l, true));
                conv->bias.copy_(detail::torch_parameter(model, l, false));
                net->push_back(std::string(name), conv);
                break;
            }
            case LayerKind::relu: net->push_back(std::string(name), nn::ReLU()); break;
            case LayerKind::max_pool2d: net->push_back(std::string(name), nn::MaxPool2d(nn::MaxPool2dOptions(k).stride(s))); break;
            case LayerKind::global_avg_pool:
                net->push_back(std::string(name), nn::AdaptiveAvgPool2d(1));
                net->push_back(name + "_flatten", nn::Flatten());
                break;
            case LayerKind::flatten: net->push_back(std::string(name), nn::Flatten()); break;
            case LayerKind::upsample2d:
                net->push_back(std::string(name),
                               nn::Upsample(nn::UpsampleOptions()
                                                .scale_factor(std::vector<double>{static_cast<double>(k), static_cast<double>(k)})
                                                .mode(torch::kBilinear)
                                                .align_corners(false)));
                break;
            case LayerKind::linear: {
                nn::Linear linear(static_cast<std::int64_t>(l.input.size()), units);
                linear->weight.copy_(detail::torch_parameter(model, l, true));
                linear->bias.copy_(detail::torch_parameter(model, l, false));
                net->push_back(std::string(name), linear);
                break;
            }
        }
    }
    if constexpr (std::is_same_v<Scalar, double>) net->to(torch::kFloat64);
    return net;
}

/// One TorchScript module: forward(x) returns (logits, activations of `layer`); head(a) runs
/// the layers after `layer` (TorchModel::load_torchscript's form, forward_from included).
template <class Scalar>
torch::jit::Module to_torchscript(const BasicSequential<Scalar>& model, const std::string& layer) {
    const std::size_t end = detail::layer_end(model, layer, "xai::models::to_torchscript()");
    const std::size_t total = model.layers().size();
    torch::jit::Module module = detail::torchscript_shell(model, "XaiBuiltin", 0, total);
    module.define("def forward(self, x):\n" + detail::torchscript_statements(model, 0, end) +
                  "    a = x\n" + detail::torchscript_statements(model, end, total) + "    return x, a\n" +
                  "def head(self, x):\n" + detail::torchscript_statements(model, end, total) + "    return x\n");
    return module;
}

/// Two TorchScript modules: features (x → activations of `layer`) and head (activations → logits)
/// (TorchModel::load_torchscript_pair's form).
template <class Scalar>
std::pair<torch::jit::Module, torch::jit::Module> to_torchscript_pair(const BasicSequential<Scalar>& model,
                                                                     const std::string& layer) {
    const std::size_t end = detail::layer_end(model, layer, "xai::models::to_torchscript_pair()");
    const std::size_t total = model.layers().size();
    torch::jit::Module features = detail::torchscript_shell(model, "XaiBuiltinFeatures", 0, end);
    features.define("def forward(self, x):\n" + detail::torchscript_statements(model, 0, end) + "    return x\n");
    torch::jit::Module head = detail::torchscript_shell(model, "XaiBuiltinHead", end, total);
    head.define("def forward(self, x):\n" + detail::torchscript_statements(model, end, total) + "    return x\n");
    return {features, head};
}

}  // namespace xai::models
