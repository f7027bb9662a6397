#pragma once
// A LibTorch C++-frontend network written as an ONNX file (protobuf.hpp): the ResNets of
// models/torch/resnet.hpp and any torch::nn::Sequential of the modules below, with their
// weights, so that an ONNX runtime (OnnxModel) runs the same network as TorchModel.
//
//   Conv2d             Conv (kernel_shape, strides, pads, group, dilations; bias if any)
//   BatchNorm2d        BatchNormalization with the running statistics (eval mode) and eps
//   ReLU               Relu
//   MaxPool2d          MaxPool (kernel_shape, strides, pads)
//   AdaptiveAvgPool2d  GlobalAveragePool (output size 1 only)
//   Flatten            Flatten (axis 1)
//   Linear             Gemm (transB = 1)
//   TorchStage         its children, named "<stage>.<i>"
//   TorchBasicBlock    conv1, bn1, Relu, conv2, bn2, the shortcut (downsample.0/.1 or the
//                      identity), Add, Relu
//
// Tensors are named after TorchModel's layers ("conv1", "layer2.1", "fc"; inside a block
// "layer2.1.conv1" … "layer2.1.add"); a stage's output is its last block's ("layer4.1", there is
// no separate "layer4" tensor). Anything else is refused with invalid_argument naming the child.
// Weights are written as float32.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/onnx/protobuf.hpp"
#include "xai/models/torch/resnet.hpp"

namespace xai::models {

namespace detail {

class TorchOnnxWriter {
public:
    onnx::OnnxGraph graph;

    /// Adds `module` reading tensor `x`, naming its output `name`; returns the output's name.
    std::string add(const std::shared_ptr<torch::nn::Module>& module, const std::string& x, const std::string& name) {
        using onnx::OnnxGraph;
        if (auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(module)) {
            const auto& o = conv->options;
            const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
            xai::detail::require(pad != nullptr, where, ": '", name, "' uses 'same' or 'valid' padding, expected explicit padding");
            std::vector<std::string> inputs{x, tensor(name + ".weight", conv->weight)};
            if (conv->bias.defined()) inputs.push_back(tensor(name + ".bias", conv->bias));
            graph.node("Conv", inputs, {name},
                       {OnnxGraph::ints_attribute("kernel_shape", {(*o.kernel_size())[0], (*o.kernel_size())[1]}),
                        OnnxGraph::ints_attribute("strides", {(*o.stride())[0], (*o.stride())[1]}),
                        OnnxGraph::ints_attribute("pads", {(**pad)[0], (**pad)[1], (**pad)[0], (**pad)[1]}),
                        OnnxGraph::ints_attribute("dilations", {(*o.dilation())[0], (*o.dilation())[1]}),
                        OnnxGraph::int_attribute("group", o.groups())});
            return name;
        }
        if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(module)) {
            graph.node("BatchNormalization",
                       {x, tensor(name + ".weight", bn->weight), tensor(name + ".bias", bn->bias),
                        tensor(name + ".running_mean", bn->running_mean), tensor(name + ".running_var", bn->running_var)},
                       {name}, {OnnxGraph::float_attribute("epsilon", static_cast<float>(bn->options.eps()))});
            return name;
        }
        if (std::dynamic_pointer_cast<torch::nn::ReLUImpl>(module)) {
            graph.node("Relu", {x}, {name});
            return name;
        }
        if (auto pool = std::dynamic_pointer_cast<torch::nn::MaxPool2dImpl>(module)) {
            const auto& o = pool->options;
            graph.node("MaxPool", {x}, {name},
                       {OnnxGraph::ints_attribute("kernel_shape", {(*o.kernel_size())[0], (*o.kernel_size())[1]}),
                        OnnxGraph::ints_attribute("strides", {(*o.stride())[0], (*o.stride())[1]}),
                        OnnxGraph::ints_attribute("pads", {(*o.padding())[0], (*o.padding())[1], (*o.padding())[0],
                                                           (*o.padding())[1]})});
            return name;
        }
        if (auto gap = std::dynamic_pointer_cast<torch::nn::AdaptiveAvgPool2dImpl>(module)) {
            const auto size = gap->options.output_size();
            xai::detail::require(size->at(0).value_or(0) == 1 && size->at(1).value_or(0) == 1, where, ": '", name,
                                 "' is an AdaptiveAvgPool2d to a size other than 1x1, expected global average pooling");
            graph.node("GlobalAveragePool", {x}, {name});
            return name;
        }
        if (std::dynamic_pointer_cast<torch::nn::FlattenImpl>(module)) {
            graph.node("Flatten", {x}, {name}, {OnnxGraph::int_attribute("axis", 1)});
            return name;
        }
        if (auto fc = std::dynamic_pointer_cast<torch::nn::LinearImpl>(module)) {
            std::vector<std::string> inputs{x, tensor(name + ".weight", fc->weight)};
            if (fc->bias.defined()) inputs.push_back(tensor(name + ".bias", fc->bias));
            graph.node("Gemm", inputs, {name}, {OnnxGraph::int_attribute("transB", 1)});
            return name;
        }
        if (auto stage = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(module)) {
            std::string h = x;
            const auto children = stage->named_children();
            for (const auto& child : children) h = add(child.value(), h, name + "." + child.key());
            return h;
        }
        if (auto block = std::dynamic_pointer_cast<TorchBasicBlockImpl>(module)) {
            std::string y = add(block->conv1.ptr(), x, name + ".conv1");
            y = add(block->bn1.ptr(), y, name + ".bn1");
            graph.node("Relu", {y}, {name + ".relu1"});
            y = add(block->conv2.ptr(), name + ".relu1", name + ".conv2");
            y = add(block->bn2.ptr(), y, name + ".bn2");
            const std::string shortcut = block->downsample.is_empty() ? x : add(block->downsample.ptr(), x, name + ".downsample");
            graph.node("Add", {y, shortcut}, {name + ".add"});
            graph.node("Relu", {name + ".add"}, {name});
            return name;
        }
        throw invalid_argument(xai::detail::message(where, ": '", name, "' is a ", module->name(),
                                                    ", which has no ONNX translation here; expected Conv2d, BatchNorm2d, "
                                                    "ReLU, MaxPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, a Sequential or "
                                                    "TorchBasicBlock"));
    }

    static constexpr const char* where = "xai::models::export_onnx(torch::nn::Sequential)";

private:
    std::string tensor(const std::string& name, const torch::Tensor& t) {
        const torch::Tensor f = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        std::vector<float> values(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
        graph.initializer(name, std::vector<std::int64_t>(f.sizes().begin(), f.sizes().end()), values);
        return name;
    }
};

}  // namespace detail

/// A torch::nn::Sequential (a torch_resnet, or a chain of the modules in the header comment) as
/// an ONNX file for inputs of `input` (C×H×W; the batch dim is symbolic). The module should be
/// in eval mode: BatchNorm is written with its running statistics.
inline void export_onnx(const torch::nn::Sequential& net, const ImageShape& input, const std::filesystem::path& file) {
    constexpr const char* where = detail::TorchOnnxWriter::where;
    xai::detail::require(!net.is_empty() && net->size() > 0, where, ": the Sequential is empty, expected at least one module");
    xai::detail::require<shape_error>(input.size() > 0, where, ": input is ", to_string(input),
                                      ", expected positive channels, height and width");
    detail::TorchOnnxWriter w;
    w.graph.input("input", {-1, static_cast<std::int64_t>(input.channels), static_cast<std::int64_t>(input.height),
                            static_cast<std::int64_t>(input.width)});
    std::string x = "input";
    for (const auto& child : net->named_children()) x = w.add(child.value(), x, child.key());
    // The output's extents after the batch, from one forward pass of a zero image.
    torch::NoGradGuard no_grad;
    torch::nn::Sequential run = net;  // a handle to the same module: forward() is not const
    const torch::Tensor probe = run->forward(torch::zeros({1, static_cast<std::int64_t>(input.channels),
                                                           static_cast<std::int64_t>(input.height),
                                                           static_cast<std::int64_t>(input.width)},
                                                          net->parameters().empty() ? torch::kFloat32
                                                                                     : net->parameters()[0].scalar_type()));
    std::vector<std::int64_t> dims{-1};
    for (std::int64_t d = 1; d < probe.dim(); ++d) dims.push_back(probe.size(d));
    w.graph.output(x, dims);
    w.graph.save(file, "xai_torch_sequential", where);
}

}  // namespace xai::models
