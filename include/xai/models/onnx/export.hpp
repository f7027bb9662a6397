#pragma once
// The built-in CNN (models/sequential.hpp) written as an ONNX file (protobuf.hpp), so that an
// ONNX runtime (OnnxModel, onnxruntime, OpenCV, TensorRT…) runs the same network with the same
// weights:
//
//   conv2d           Conv (kernel_shape, strides, pads), weight O×C×k×k and bias initializers
//   relu             Relu
//   max_pool2d       MaxPool (kernel_shape, strides, no padding)
//   global_avg_pool  GlobalAveragePool (output "<name>_pool"), then Flatten (output "<name>")
//   flatten          Flatten (axis 1)
//   linear           Gemm (transB = 1): y = x Wᵀ + b, after a Flatten when its input is a map
//   upsample2d       not exported: ONNX's Resize needs string attributes (mode "linear") that
//                    this writer does not produce; to_onnx() refuses such a model (invalid_argument)
//
// Every layer's output tensor, and so the node, is named like the layer ("conv1", "relu1",
// "fc"), so OnnxModel::layer_names() offers the same names as the built-in model, and the
// graph's output is the last layer's. The batch dim is symbolic ("N"). Parameters are written
// as float32 (a double model is rounded).
//
// Uses only the model's public description: layers(), input_shape(), parameters() and
// parameter_blocks() (weights "<layer>.weight", biases "<layer>.bias").

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/models/onnx/protobuf.hpp"
#include "xai/models/sequential.hpp"

namespace xai::models {

/// The built-in CNN as an ONNX graph (see the header comment).
template <class Scalar>
onnx::OnnxGraph to_onnx(const BasicSequential<Scalar>& model) {
    constexpr const char* where = "xai::models::to_onnx()";
    xai::detail::require<model_error>(!model.layers().empty(), where, ": the model has no layers, expected at least one");
    using onnx::OnnxGraph;
    const Eigen::VectorXd theta = model.parameters();
    std::map<std::string, std::pair<std::size_t, std::size_t>> blocks;
    for (const ParameterBlock& b : model.parameter_blocks()) blocks[b.name] = {b.offset, b.size};
    auto values = [&](const std::string& name) {
        const auto [offset, size] = blocks.at(name);
        std::vector<float> out(size);
        for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<float>(theta[static_cast<Eigen::Index>(offset + i)]);
        return out;
    };
    const ImageShape in = model.input_shape();
    OnnxGraph g;
    g.input("input", {-1, static_cast<std::int64_t>(in.channels), static_cast<std::int64_t>(in.height),
                      static_cast<std::int64_t>(in.width)});
    std::string x = "input";
    for (const Layer& l : model.layers()) {
        const std::string& name = l.spec.name;
        const auto k = static_cast<std::int64_t>(l.spec.kernel), s = static_cast<std::int64_t>(l.spec.stride),
                   p = static_cast<std::int64_t>(l.spec.padding);
        switch (l.spec.kind) {
            case LayerKind::conv2d: {
                const auto out = static_cast<std::int64_t>(l.output.channels), c = static_cast<std::int64_t>(l.input.channels);
                g.initializer(name + ".weight", {out, c, k, k}, values(name + ".weight"));
                g.initializer(name + ".bias", {out}, values(name + ".bias"));
                g.node("Conv", {x, name + ".weight", name + ".bias"}, {name},
                       {OnnxGraph::ints_attribute("kernel_shape", {k, k}), OnnxGraph::ints_attribute("strides", {s, s}),
                        OnnxGraph::ints_attribute("pads", {p, p, p, p})});
                break;
            }
            case LayerKind::relu: g.node("Relu", {x}, {name}); break;
            case LayerKind::max_pool2d:
                g.node("MaxPool", {x}, {name},
                       {OnnxGraph::ints_attribute("kernel_shape", {k, k}), OnnxGraph::ints_attribute("strides", {s, s})});
                break;
            case LayerKind::global_avg_pool:
                g.node("GlobalAveragePool", {x}, {name + "_pool"});
                g.node("Flatten", {name + "_pool"}, {name}, {OnnxGraph::int_attribute("axis", 1)});
                break;
            case LayerKind::flatten: g.node("Flatten", {x}, {name}, {OnnxGraph::int_attribute("axis", 1)}); break;
            case LayerKind::upsample2d:
                throw invalid_argument(xai::detail::message(where, ": layer '", name,
                                                            "' is an upsample2d, which the ONNX writer cannot express "
                                                            "(Resize needs string attributes)"));
            case LayerKind::linear: {
                if (l.input.spatial) {
                    g.node("Flatten", {x}, {name + "_flatten"}, {OnnxGraph::int_attribute("axis", 1)});
                    x = name + "_flatten";
                }
                const auto out = static_cast<std::int64_t>(l.output.channels), fan = static_cast<std::int64_t>(l.input.size());
                g.initializer(name + ".weight", {out, fan}, values(name + ".weight"));
                g.initializer(name + ".bias", {out}, values(name + ".bias"));
                g.node("Gemm", {x, name + ".weight", name + ".bias"}, {name}, {OnnxGraph::int_attribute("transB", 1)});
                break;
            }
        }
        x = name;
    }
    const Layer& last = model.layers().back();
    std::vector<std::int64_t> dims{-1, static_cast<std::int64_t>(last.output.channels)};
    if (last.output.spatial) {
        dims.push_back(static_cast<std::int64_t>(last.output.height));
        dims.push_back(static_cast<std::int64_t>(last.output.width));
    }
    g.output(x, dims);
    return g;
}

/// Writes the built-in CNN to an ONNX file (see the header comment); io_error naming the file
/// when it cannot be written.
template <class Scalar>
void export_onnx(const BasicSequential<Scalar>& model, const std::filesystem::path& file) {
    to_onnx(model).save(file, "xai_sequential", "xai::models::export_onnx()");
}

}  // namespace xai::models
