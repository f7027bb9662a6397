#pragma once
// The layers of the built-in CNN (models/sequential.hpp): their descriptions, shape rules and
// per-image kernels.
//
// A LayerSpec is what a user writes (kind, name, hyper-parameters); a Layer is a LayerSpec
// resolved against its input shape (output shape, parameter offsets). The kernels work on one
// image at a time on raw, row-major buffers, with Eigen doing every matrix product:
//
//   conv2d     y = W · im2col(x) + b      W is O × (C·k·k) (PyTorch's O×C×k×k layout),
//                                          zero padding p, stride s: out = ⌊(in + 2p − k)/s⌋ + 1
//   relu       y = max(x, 0)               derivative 0 at x = 0 (as PyTorch)
//   max_pool2d y = max over a k×k window   stride s, no padding: out = ⌊(in − k)/s⌋ + 1;
//                                          ties go to the first maximum in row-major order (as PyTorch)
//   global_avg_pool  y_c = mean_{h,w} x_{c,h,w}   C×H×W → C
//   flatten    C×H×W → C·H·W               (a no-op on the data)
//   linear     y = W · x + b               W is O × I (PyTorch's layout)
//
// Working per image keeps an image's result independent of the batch it arrives in and of the
// thread that computes it, which is what makes every model function bit-for-bit deterministic
// for any thread count and batch size.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/eigen.hpp"

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai::models {

/// What a layer of the built-in CNN computes (the values are the .xaiw file's layer codes).
enum class LayerKind : std::uint8_t { conv2d = 1, relu = 2, max_pool2d = 3, global_avg_pool = 4, flatten = 5, linear = 6 };

/// The kind's name: "conv2d", "relu", "max_pool2d", "global_avg_pool", "flatten" or "linear".
inline std::string_view to_string(LayerKind kind) {
    switch (kind) {
        case LayerKind::conv2d: return "conv2d";
        case LayerKind::relu: return "relu";
        case LayerKind::max_pool2d: return "max_pool2d";
        case LayerKind::global_avg_pool: return "global_avg_pool";
        case LayerKind::flatten: return "flatten";
        case LayerKind::linear: return "linear";
    }
    return "unknown";
}

/// A layer as the user describes it. `units` is the number of output channels (conv2d) or
/// output features (linear); `kernel`, `stride` and `padding` apply to conv2d and max_pool2d
/// (max_pool2d has no padding). An empty name is replaced by an automatic one (see
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

/// Buffers aligned to Eigen's largest packet. Eigen's small products reduce with packets after
/// peeling to an aligned address, so the summation order of a dot product depends on where its
/// operands sit; aligned buffers (and row offsets fixed by the shapes) make every result
/// independent of which allocation, thread or copy of the model computes it.
template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

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

template <class Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using MatrixMap = Eigen::Map<RowMatrix<Scalar>>;
template <class Scalar>
using ConstMatrixMap = Eigen::Map<const RowMatrix<Scalar>>;
template <class Scalar>
using VectorMap = Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>;
template <class Scalar>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>;

/// True when a conv2d reads its input directly as the (C·k·k)×(H·W) column matrix (1×1, stride
/// 1, no padding), so im2col can be skipped.
inline bool conv_is_pointwise(const Layer& l) { return l.spec.kernel == 1 && l.spec.stride == 1 && l.spec.padding == 0; }

/// The size of the im2col buffer a conv2d needs (0 for other layers).
inline std::size_t columns_size(const Layer& l) {
    if (l.spec.kind != LayerKind::conv2d || conv_is_pointwise(l)) return 0;
    return l.fan_in() * l.output.plane();
}

/// Unfolds x (C×H×W) into cols ((C·k·k) × (Ho·Wo)): row (c, i, j) holds the input value under
/// kernel tap (i, j) of channel c for every output position, 0 where the tap falls in the padding.
template <class Scalar>
void im2col(const Layer& l, const Scalar* x, Scalar* cols) {
    const std::size_t k = l.spec.kernel, s = l.spec.stride;
    const auto p = static_cast<std::ptrdiff_t>(l.spec.padding);
    const auto H = static_cast<std::ptrdiff_t>(l.input.height), W = static_cast<std::ptrdiff_t>(l.input.width);
    const std::size_t Ho = l.output.height, Wo = l.output.width;
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        const Scalar* plane = x + c * l.input.plane();
        for (std::size_t i = 0; i < k; ++i) {
            for (std::size_t j = 0; j < k; ++j) {
                Scalar* row = cols + ((c * k + i) * k + j) * Ho * Wo;
                for (std::size_t oy = 0; oy < Ho; ++oy) {
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * s + i) - p;
                    Scalar* out = row + oy * Wo;
                    if (iy < 0 || iy >= H) {
                        std::fill(out, out + Wo, Scalar(0));
                        continue;
                    }
                    const Scalar* in = plane + iy * W;
                    const std::ptrdiff_t offset = static_cast<std::ptrdiff_t>(j) - p;
                    if (s == 1) {
                        // ix = ox + offset: zeros where ix < 0 or ix ≥ W, a straight copy between.
                        const std::ptrdiff_t first = std::clamp<std::ptrdiff_t>(-offset, 0, static_cast<std::ptrdiff_t>(Wo));
                        const std::ptrdiff_t last = std::clamp<std::ptrdiff_t>(W - offset, first, static_cast<std::ptrdiff_t>(Wo));
                        std::fill(out, out + first, Scalar(0));
                        std::copy(in + first + offset, in + last + offset, out + first);
                        std::fill(out + last, out + Wo, Scalar(0));
                    } else {
                        for (std::size_t ox = 0; ox < Wo; ++ox) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * s) + offset;
                            out[ox] = (ix < 0 || ix >= W) ? Scalar(0) : in[ix];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: dx (C×H×W, overwritten) = the sum of every column entry into the
/// input position it was read from.
template <class Scalar>
void col2im(const Layer& l, const Scalar* cols, Scalar* dx) {
    const std::size_t k = l.spec.kernel, s = l.spec.stride;
    const auto p = static_cast<std::ptrdiff_t>(l.spec.padding);
    const auto H = static_cast<std::ptrdiff_t>(l.input.height), W = static_cast<std::ptrdiff_t>(l.input.width);
    const std::size_t Ho = l.output.height, Wo = l.output.width;
    std::fill(dx, dx + l.input.size(), Scalar(0));
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        Scalar* plane = dx + c * l.input.plane();
        for (std::size_t i = 0; i < k; ++i) {
            for (std::size_t j = 0; j < k; ++j) {
                const Scalar* row = cols + ((c * k + i) * k + j) * Ho * Wo;
                for (std::size_t oy = 0; oy < Ho; ++oy) {
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * s + i) - p;
                    if (iy < 0 || iy >= H) continue;
                    const Scalar* in = row + oy * Wo;
                    Scalar* out = plane + iy * W;
                    const std::ptrdiff_t offset = static_cast<std::ptrdiff_t>(j) - p;
                    if (s == 1) {
                        // ix = ox + offset: a straight sum over the valid range (same order per element).
                        const std::ptrdiff_t first = std::clamp<std::ptrdiff_t>(-offset, 0, static_cast<std::ptrdiff_t>(Wo));
                        const std::ptrdiff_t last = std::clamp<std::ptrdiff_t>(W - offset, first, static_cast<std::ptrdiff_t>(Wo));
                        for (std::ptrdiff_t ox = first; ox < last; ++ox) out[ox + offset] += in[ox];
                        continue;
                    }
                    for (std::size_t ox = 0; ox < Wo; ++ox) {
                        const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * s) + offset;
                        if (ix >= 0 && ix < W) out[ix] += in[ox];
                    }
                }
            }
        }
    }
}

/// The matrix shapes of a conv2d or linear layer on one image: W is out×fan_in, its input
/// columns fan_in×plane, its output out×plane.
struct AffineShape {
    Eigen::Index out, plane, fan_in;
    explicit AffineShape(const Layer& l)
        : out(static_cast<Eigen::Index>(l.output.channels)), plane(static_cast<Eigen::Index>(l.output.plane())),
          fan_in(static_cast<Eigen::Index>(l.fan_in())) {}
};

/// The input of a conv2d or linear layer as its fan_in×plane column matrix: im2col'd into
/// `cols` for a conv2d (except a pointwise one), x itself otherwise.
template <class Scalar>
const Scalar* affine_columns(const Layer& l, const Scalar* x, Scalar* cols) {
    if (l.spec.kind != LayerKind::conv2d || conv_is_pointwise(l)) return x;
    im2col(l, x, cols);
    return cols;
}

/// out = product, or out += product when accumulating.
template <class Out, class Product>
void assign_or_add(Out&& out, const Product& product, bool accumulate) {
    if (accumulate)
        out.noalias() += product;
    else
        out.noalias() = product;
}

/// y = W · x + b for a conv2d or linear layer; with accumulate, y += W · x (+ b). `bias` may be
/// null (no bias term). `cols` is scratch of columns_size(l).
template <class Scalar>
void affine_forward(const Layer& l, const Scalar* weight, const Scalar* bias, const Scalar* x, Scalar* y, Scalar* cols,
                    bool accumulate) {
    const AffineShape d(l);
    MatrixMap<Scalar> out(y, d.out, d.plane);
    assign_or_add(out, ConstMatrixMap<Scalar>(weight, d.out, d.fan_in) *
                           ConstMatrixMap<Scalar>(affine_columns(l, x, cols), d.fan_in, d.plane),
                  accumulate);
    if (bias != nullptr) out.colwise() += ConstVectorMap<Scalar>(bias, d.out);
}

/// dx = Wᵀ · dy for a conv2d or linear layer (col2im'd for a conv2d); with accumulate, dx += ….
/// `cols` is scratch of columns_size(l).
template <class Scalar>
void affine_backward_data(const Layer& l, const Scalar* weight, const Scalar* dy, Scalar* dx, Scalar* cols,
                          bool accumulate) {
    const AffineShape d(l);
    const ConstMatrixMap<Scalar> w(weight, d.out, d.fan_in), g(dy, d.out, d.plane);
    const auto product = w.transpose() * g;  // an expression over the named maps above
    if (l.spec.kind != LayerKind::conv2d || conv_is_pointwise(l)) {
        assign_or_add(MatrixMap<Scalar>(dx, d.fan_in, d.plane), product, accumulate);
        return;
    }
    MatrixMap<Scalar>(cols, d.fan_in, d.plane).noalias() = product;
    if (!accumulate) {
        col2im(l, cols, dx);
        return;
    }
    AlignedVector<Scalar> tmp(l.input.size());
    col2im(l, cols, tmp.data());
    for (std::size_t i = 0; i < tmp.size(); ++i) dx[i] += tmp[i];
}

/// dW += dy · xᵀ (im2col'd for a conv2d) and, unless dbias is null, db += the row sums of dy.
template <class Scalar>
void affine_backward_parameters(const Layer& l, const Scalar* dy, const Scalar* x, Scalar* dweight, Scalar* dbias,
                                Scalar* cols) {
    const AffineShape d(l);
    ConstMatrixMap<Scalar> g(dy, d.out, d.plane);
    MatrixMap<Scalar>(dweight, d.out, d.fan_in).noalias() +=
        g * ConstMatrixMap<Scalar>(affine_columns(l, x, cols), d.fan_in, d.plane).transpose();
    if (dbias != nullptr) VectorMap<Scalar>(dbias, d.out) += g.rowwise().sum();
}

/// Max pooling of x into y; `argmax` (if not null) receives, per output, the offset of the
/// winning tap inside its window (i·k + j), which is all the backward pass needs.
template <class Scalar>
void max_pool_forward(const Layer& l, const Scalar* x, Scalar* y, std::uint16_t* argmax) {
    const std::size_t k = l.spec.kernel, s = l.spec.stride, W = l.input.width;
    const std::size_t Ho = l.output.height, Wo = l.output.width;
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        const Scalar* plane = x + c * l.input.plane();
        for (std::size_t oy = 0; oy < Ho; ++oy) {
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const Scalar* window = plane + oy * s * W + ox * s;
                Scalar best = window[0];
                std::size_t best_tap = 0;
                for (std::size_t i = 0; i < k; ++i)
                    for (std::size_t j = 0; j < k; ++j)
                        if (window[i * W + j] > best) {
                            best = window[i * W + j];
                            best_tap = i * k + j;
                        }
                const std::size_t o = (c * Ho + oy) * Wo + ox;
                y[o] = best;
                if (argmax != nullptr) argmax[o] = static_cast<std::uint16_t>(best_tap);
            }
        }
    }
}

/// The input offset (within one image) that output o of a max-pool read, given its window tap.
inline std::size_t max_pool_source(const Layer& l, std::size_t o, std::size_t tap) {
    const std::size_t Ho = l.output.height, Wo = l.output.width, k = l.spec.kernel, s = l.spec.stride;
    const std::size_t c = o / (Ho * Wo), oy = (o / Wo) % Ho, ox = o % Wo;
    return c * l.input.plane() + (oy * s + tap / k) * l.input.width + ox * s + tap % k;
}

/// Backward of max pooling: dx (overwritten) gets each dy at its window's winning position.
template <class Scalar>
void max_pool_backward(const Layer& l, const Scalar* dy, const std::uint16_t* argmax, Scalar* dx) {
    std::fill(dx, dx + l.input.size(), Scalar(0));
    for (std::size_t o = 0; o < l.output.size(); ++o) dx[max_pool_source(l, o, argmax[o])] += dy[o];
}

/// y_o = x at the position output o won in the forward pass: pooling with the switches frozen
/// (the forward pass of a perturbation, Pearlmutter's R-operator, through max pooling).
template <class Scalar>
void max_pool_gather(const Layer& l, const Scalar* x, const std::uint16_t* argmax, Scalar* y) {
    for (std::size_t o = 0; o < l.output.size(); ++o) y[o] = x[max_pool_source(l, o, argmax[o])];
}

/// y_c = mean of plane c of x.
template <class Scalar>
void global_avg_pool_forward(const Layer& l, const Scalar* x, Scalar* y) {
    const std::size_t plane = l.input.plane();
    const Scalar scale = Scalar(1) / static_cast<Scalar>(plane);
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        Scalar sum = 0;
        const Scalar* p = x + c * plane;
        for (std::size_t i = 0; i < plane; ++i) sum += p[i];
        y[c] = sum * scale;
    }
}

/// dx_{c,h,w} = dy_c / (H·W).
template <class Scalar>
void global_avg_pool_backward(const Layer& l, const Scalar* dy, Scalar* dx) {
    const std::size_t plane = l.input.plane();
    const Scalar scale = Scalar(1) / static_cast<Scalar>(plane);
    for (std::size_t c = 0; c < l.input.channels; ++c) std::fill(dx + c * plane, dx + (c + 1) * plane, dy[c] * scale);
}

}  // namespace detail
}  // namespace xai::models
