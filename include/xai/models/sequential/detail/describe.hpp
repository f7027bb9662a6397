#pragma once
// How the built-in CNN (models/sequential.hpp) describes itself: a one-line text of its
// architecture, and the layout of its flat parameter vector as named blocks with PyTorch's
// tensor shapes (what parameter_blocks(), the weights file and the LibTorch export share).

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential/layers.hpp"

namespace xai::models::detail {

/// "1x28x28 -> conv1 conv2d(32, k3, s1, p1) -> relu1 relu -> … -> fc linear(10)".
inline std::string describe(const ImageShape& input, const std::vector<Layer>& layers) {
    std::ostringstream out;
    out << to_string(input);
    for (const Layer& l : layers) {
        out << " -> " << l.spec.name << " " << to_string(l.spec.kind);
        if (l.spec.kind == LayerKind::conv2d)
            out << "(" << l.spec.units << ", k" << l.spec.kernel << ", s" << l.spec.stride << ", p" << l.spec.padding << ")";
        else if (l.spec.kind == LayerKind::max_pool2d)
            out << "(k" << l.spec.kernel << ", s" << l.spec.stride << ")";
        else if (l.spec.kind == LayerKind::linear)
            out << "(" << l.spec.units << ")";
        else if (l.spec.kind == LayerKind::upsample2d)
            out << "(x" << l.spec.kernel << ")";
    }
    return out.str();
}

/// "conv1.weight", "conv1.bias", "fc.weight", "fc.bias", … : the parameter blocks of the layers
/// that have parameters, in the order of the flat parameter vector.
inline std::vector<ParameterBlock> parameter_blocks(const std::vector<Layer>& layers) {
    std::vector<ParameterBlock> blocks;
    for (const Layer& l : layers) {
        if (!l.has_parameters()) continue;
        blocks.push_back({l.spec.name + ".weight", l.weight_offset, l.weight_size});
        blocks.push_back({l.spec.name + ".bias", l.bias_offset, l.bias_size});
    }
    return blocks;
}

/// The shape of a layer's weight (`weight` true) or bias block as PyTorch lays it out:
/// O×C×k×k for a conv2d weight, O×I for a linear weight, O for a bias.
inline std::vector<std::size_t> parameter_shape(const Layer& l, bool weight) {
    if (!weight) return {l.bias_size};
    if (l.spec.kind == LayerKind::conv2d) return {l.spec.units, l.input.channels, l.spec.kernel, l.spec.kernel};
    return {l.spec.units, l.input.size()};
}

}  // namespace xai::models::detail
