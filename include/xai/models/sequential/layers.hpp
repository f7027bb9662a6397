#pragma once
// The layers of the built-in CNN (models/sequential.hpp) as a user writes them, and their
// resolution against an input shape: the builder's vocabulary.
//
// A LayerSpec is what a user writes (kind, name, hyper-parameters; conv2d(), relu(), … build
// one); a Layer is a LayerSpec resolved against its input shape (output shape, parameter
// offsets). The layers compute (the kernels are in detail/kernels.hpp):
//
//   conv2d     y = W · im2col(x) + b      W is O × (C·k·k) (PyTorch's O×C×k×k layout),
//                                          zero padding p, stride s: out = ⌊(in + 2p − k)/s⌋ + 1
//   relu       y = max(x, 0)               derivative 0 at x = 0 (as PyTorch)
//   max_pool2d y = max over a k×k window   stride s, no padding: out = ⌊(in − k)/s⌋ + 1;
//                                          ties go to the first maximum in row-major order (as PyTorch)
//   global_avg_pool  y_c = mean_{h,w} x_{c,h,w}   C×H×W → C
//   flatten    C×H×W → C·H·W               (a no-op on the data)
//   linear     y = W · x + b               W is O × I (PyTorch's layout)
//   upsample2d y = bilinear ×k upsampling  PyTorch's nn.Upsample(scale_factor=k, mode='bilinear',
//                                          align_corners=False): out = in·k; output pixel o reads the
//                                          source coordinate max((o + ½)/k − ½, 0) (a linear map, so
//                                          its backward pass is its transpose)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai::models {

/// What a layer of the built-in CNN computes (the values are the .xaiw file's layer codes).
enum class LayerKind : std::uint8_t {
    conv2d = 1,
    relu = 2,
    max_pool2d = 3,
    global_avg_pool = 4,
    flatten = 5,
    linear = 6,
    upsample2d = 7
};

/// The kind's name: "conv2d", "relu", "max_pool2d", "global_avg_pool", "flatten", "linear" or
/// "upsample2d".
inline std::string_view to_string(LayerKind kind) {
    switch (kind) {
        case LayerKind::conv2d: return "conv2d";
        case LayerKind::relu: return "relu";
        case LayerKind::max_pool2d: return "max_pool2d";
        case LayerKind::global_avg_pool: return "global_avg_pool";
        case LayerKind::flatten: return "flatten";
        case LayerKind::linear: return "linear";
        case LayerKind::upsample2d: return "upsample2d";
    }
    return "unknown";
}

/// A layer as the user describes it. `units` is the number of output channels (conv2d) or
/// output features (linear); `kernel`, `stride` and `padding` apply to conv2d and max_pool2d
/// (max_pool2d has no padding); `kernel` is the scale factor of upsample2d. An empty name is replaced by an automatic one (see
/// BasicSequential::add).
struct LayerSpec {
    LayerKind kind = LayerKind::relu;  ///< what the layer computes
    std::string name;                  ///< unique within the model; empty = automatic
    std::size_t units = 0;             ///< output channels (conv2d) or output features (linear)
    std::size_t kernel = 0;            ///< side of the square window (conv2d, max_pool2d)
    std::size_t stride = 1;            ///< step of the window, in pixels (conv2d, max_pool2d)
    std::size_t padding = 0;           ///< zero padding on each side, in pixels (conv2d)

    /// Equal when every field is equal.
    friend bool operator==(const LayerSpec&, const LayerSpec&) = default;
};

/// A 2-D convolution with `out_channels` filters of kernel×kernel, zero padding and stride.
inline LayerSpec conv2d(std::size_t out_channels, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
                        std::string name = {}) {
    return {LayerKind::conv2d, std::move(name), out_channels, kernel, stride, padding};
}
/// The rectified linear unit max(x, 0).
inline LayerSpec relu(std::string name = {}) { return {LayerKind::relu, std::move(name), 0, 0, 1, 0}; }
/// Max pooling over kernel×kernel windows; stride 0 means stride = kernel (PyTorch's default).
inline LayerSpec max_pool2d(std::size_t kernel, std::size_t stride = 0, std::string name = {}) {
    return {LayerKind::max_pool2d, std::move(name), 0, kernel, stride == 0 ? kernel : stride, 0};
}
/// Global average pooling: C×H×W → C (PyTorch's AdaptiveAvgPool2d(1) followed by flatten).
inline LayerSpec global_avg_pool(std::string name = {}) {
    return {LayerKind::global_avg_pool, std::move(name), 0, 0, 1, 0};
}
/// C×H×W → C·H·W in row-major order (PyTorch's nn.Flatten).
inline LayerSpec flatten(std::string name = {}) { return {LayerKind::flatten, std::move(name), 0, 0, 1, 0}; }
/// A fully connected layer with `out_features` outputs.
inline LayerSpec linear(std::size_t out_features, std::string name = {}) {
    return {LayerKind::linear, std::move(name), out_features, 0, 1, 0};
}
/// Bilinear upsampling by an integer `factor` (C×H×W → C×(H·factor)×(W·factor)), PyTorch's
/// nn.Upsample(scale_factor=factor, mode='bilinear', align_corners=False).
inline LayerSpec upsample2d(std::size_t factor, std::string name = {}) {
    return {LayerKind::upsample2d, std::move(name), 0, factor, 1, 0};
}

/// The shape of one image's activations at some point of the network: C×H×W when `spatial`,
/// else a vector of `channels` features (height = width = 1).
struct FeatureShape {
    std::size_t channels = 0;  ///< C, or the number of features of a vector
    std::size_t height = 1;    ///< H (1 for a vector)
    std::size_t width = 1;     ///< W (1 for a vector)
    bool spatial = true;       ///< true: C×H×W maps; false: a flat vector of `channels` features

    /// Equal when every field is equal.
    friend bool operator==(const FeatureShape&, const FeatureShape&) = default;
    /// Number of values, C·H·W.
    std::size_t size() const { return channels * height * width; }
    /// Values per channel, H·W.
    std::size_t plane() const { return height * width; }
};

/// "C×H×W" (with an ASCII x) for maps, "C" for a vector, for messages.
inline std::string to_string(const FeatureShape& s) {
    if (!s.spatial) return std::to_string(s.channels);
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

/// A layer resolved against its input: shapes and where its parameters live in the model's
/// flat parameter vector (weights first, then the bias, for conv2d and linear).
struct Layer {
    LayerSpec spec;                  ///< the layer as the user described it (name resolved)
    FeatureShape input;              ///< the shape of one image's input to the layer
    FeatureShape output;             ///< the shape of one image's output of the layer
    std::size_t weight_offset = 0;   ///< index of the first weight in the flat parameter vector
    std::size_t weight_size = 0;     ///< number of weights (0 for layers without parameters)
    std::size_t bias_offset = 0;     ///< index of the first bias in the flat parameter vector
    std::size_t bias_size = 0;       ///< number of biases (0 for layers without parameters)

    /// True for conv2d and linear, the layers with weights and biases.
    bool has_parameters() const { return weight_size > 0; }
    /// conv2d: C·k·k; linear: input features. The fan-in of one output unit.
    std::size_t fan_in() const {
        return spec.kind == LayerKind::conv2d ? input.channels * spec.kernel * spec.kernel : input.size();
    }
};

namespace detail {

using xai::detail::message;
using xai::detail::require;

/// The largest number of values one layer's output or weights may have: 2^40 (4 TiB of floats)
/// is beyond any memory, and keeping every size below it keeps every product of sizes exact.
inline constexpr std::size_t max_layer_values = std::size_t{1} << 40;

/// a · b when it is at most max_layer_values, else invalid_argument naming the layer: a model
/// that large cannot be allocated, and the product would otherwise wrap around.
inline std::size_t layer_values(std::size_t a, std::size_t b, const LayerSpec& spec, const char* what,
                                const char* where) {
    require(a == 0 || b <= max_layer_values / a, where, ": ", to_string(spec.kind), " layer '", spec.name, "' has ",
            what, " of ", a, " x ", b, " values, more than ", max_layer_values, " (too large for any memory)");
    return a * b;
}

/// Resolves `spec` against `input`: checks the hyper-parameters and computes the output shape.
/// `where` names the caller in messages. Parameter offsets are left for the caller.
inline Layer resolve_layer(const LayerSpec& spec, const FeatureShape& input, const char* where) {
    Layer layer{spec, input, input};
    constexpr std::size_t limit = std::size_t{1} << 24;  // keeps every product below 2^63
    switch (spec.kind) {
        case LayerKind::conv2d: {
            require<shape_error>(input.spatial, where, ": conv2d layer '", spec.name, "' needs a C×H×W input, got ",
                                 to_string(input), " features (a conv2d cannot follow flatten, gap or linear)");
            require(spec.units > 0 && spec.units <= limit, where, ": conv2d layer '", spec.name, "' has ", spec.units,
                    " output channels, expected 1..", limit);
            require(spec.kernel > 0 && spec.kernel <= 64, where, ": conv2d layer '", spec.name, "' has kernel ",
                    spec.kernel, ", expected 1..64");
            require(spec.stride > 0 && spec.stride <= 64, where, ": conv2d layer '", spec.name, "' has stride ",
                    spec.stride, ", expected 1..64");
            require(spec.padding < spec.kernel, where, ": conv2d layer '", spec.name, "' has padding ", spec.padding,
                    ", expected less than the kernel (", spec.kernel, ")");
            require<shape_error>(input.height + 2 * spec.padding >= spec.kernel &&
                                     input.width + 2 * spec.padding >= spec.kernel,
                                 where, ": conv2d layer '", spec.name, "' has a ", spec.kernel, "x", spec.kernel,
                                 " kernel but its padded input is only ", input.height + 2 * spec.padding, "x",
                                 input.width + 2 * spec.padding);
            layer.output = {spec.units, (input.height + 2 * spec.padding - spec.kernel) / spec.stride + 1,
                            (input.width + 2 * spec.padding - spec.kernel) / spec.stride + 1, true};
            layer_values(spec.units, layer.output.plane(), spec, "an output", where);
            layer.weight_size = layer_values(spec.units, input.channels * spec.kernel * spec.kernel, spec, "weights", where);
            layer.bias_size = spec.units;
            break;
        }
        case LayerKind::relu: break;
        case LayerKind::max_pool2d: {
            require<shape_error>(input.spatial, where, ": max_pool2d layer '", spec.name,
                                 "' needs a C×H×W input, got ", to_string(input), " features");
            require(spec.kernel > 0 && spec.kernel <= 64 && spec.stride > 0 && spec.stride <= 64, where,
                    ": max_pool2d layer '", spec.name, "' has kernel ", spec.kernel, " and stride ", spec.stride,
                    ", expected both in 1..64");
            require(spec.padding == 0, where, ": max_pool2d layer '", spec.name, "' has padding ", spec.padding,
                    ", expected 0 (padded pooling is not supported)");
            require<shape_error>(input.height >= spec.kernel && input.width >= spec.kernel, where,
                                 ": max_pool2d layer '", spec.name, "' has a ", spec.kernel, "x", spec.kernel,
                                 " window but its input is only ", to_string(input));
            layer.output = {input.channels, (input.height - spec.kernel) / spec.stride + 1,
                            (input.width - spec.kernel) / spec.stride + 1, true};
            break;
        }
        case LayerKind::global_avg_pool:
            require<shape_error>(input.spatial, where, ": global_avg_pool layer '", spec.name,
                                 "' needs a C×H×W input, got ", to_string(input), " features");
            layer.output = {input.channels, 1, 1, false};
            break;
        case LayerKind::flatten: layer.output = {input.size(), 1, 1, false}; break;
        case LayerKind::upsample2d:
            require<shape_error>(input.spatial, where, ": upsample2d layer '", spec.name,
                                 "' needs a C×H×W input, got ", to_string(input), " features");
            require(spec.kernel >= 1 && spec.kernel <= 64, where, ": upsample2d layer '", spec.name, "' has factor ",
                    spec.kernel, ", expected 1..64");
            require(spec.stride == 1 && spec.padding == 0 && spec.units == 0, where, ": upsample2d layer '", spec.name,
                    "' has stride ", spec.stride, ", padding ", spec.padding, " and units ", spec.units,
                    ", expected 1, 0 and 0 (only the factor applies)");
            layer.output = {input.channels, layer_values(input.height, spec.kernel, spec, "an output height", where),
                            layer_values(input.width, spec.kernel, spec, "an output width", where), true};
            layer_values(input.channels, layer.output.plane(), spec, "an output", where);
            break;
        case LayerKind::linear:
            require<shape_error>(!input.spatial, where, ": linear layer '", spec.name, "' needs a feature vector, got ",
                                 to_string(input), " (add flatten or global_avg_pool before it)");
            require(spec.units > 0 && spec.units <= limit, where, ": linear layer '", spec.name, "' has ", spec.units,
                    " outputs, expected 1..", limit);
            layer.output = {spec.units, 1, 1, false};
            layer.weight_size = layer_values(spec.units, input.size(), spec, "weights", where);
            layer.bias_size = spec.units;
            break;
        default: throw invalid_argument(message(where, ": layer '", spec.name, "' has an unknown kind"));
    }
    return layer;
}


/// True when one of `layers` is called `name`.
inline bool has_layer_named(const std::vector<Layer>& layers, const std::string& name) {
    return std::any_of(layers.begin(), layers.end(), [&](const Layer& l) { return l.spec.name == name; });
}

/// The name BasicSequential::add() gives a layer of `kind` appended to `layers` when its spec
/// has none: "conv<k>", "relu<k>", "pool<k>" (k counts layers of that kind from 1), or "gap",
/// "flatten", "fc" for the first layer of those kinds and "gap2", "fc2", … after, "up<k>" for
/// upsample2d; never a name already taken.
inline std::string automatic_layer_name(LayerKind kind, const std::vector<Layer>& layers) {
    std::size_t count = 1;
    for (const Layer& l : layers) count += l.spec.kind == kind ? 1 : 0;
    auto numbered = [&](const char* stem) {
        auto name_of = [&](std::size_t c) { return message(stem, c); };
        std::string name = name_of(count);
        while (has_layer_named(layers, name)) name = name_of(++count);
        return name;
    };
    auto unique = [&](const char* stem) {
        if (count == 1 && !has_layer_named(layers, stem)) return std::string(stem);
        return numbered(stem);
    };
    switch (kind) {
        case LayerKind::conv2d: return numbered("conv");
        case LayerKind::relu: return numbered("relu");
        case LayerKind::max_pool2d: return numbered("pool");
        case LayerKind::global_avg_pool: return unique("gap");
        case LayerKind::flatten: return unique("flatten");
        case LayerKind::linear: return unique("fc");
        case LayerKind::upsample2d: return numbered("up");
    }
    return numbered("layer");
}

}  // namespace detail
}  // namespace xai::models
