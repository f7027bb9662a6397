#pragma once
// The forward, backward and R-operator passes of the built-in CNN (models/sequential.hpp) over
// its layer list, one image at a time (the kernels are in kernels.hpp).
//
// Backpropagation (Rumelhart, Hinton & Williams 1986) computes only what a call needs:
// gradients_at(batch, k, seed) runs one forward pass, recording only the ReLU masks and
// pooling switches of the layers above k, and one backward pass that stops at k (no parameter
// gradients, no input gradient, no layers below). A plain forward pass keeps nothing.
//
// Hessian-vector products are exact: Pearlmutter (1994), "Fast exact multiplication by the
// Hessian", applies the R-operator R{·} = ∂/∂r (·)(θ + r v) at r = 0 to the forward and the
// backward pass. Upsampling, global average pooling and flatten are linear; ReLU and max pooling are piecewise linear, so their R-images use the same masks
// and switches; the softmax cross-entropy gives R{∂L/∂z} = (diag p − p pᵀ) R{z}; an affine layer
// y = W x + b gives R{y} = W R{x} + V_W x + V_b and, backwards,
// R{∂L/∂x} = Wᵀ R{∂L/∂y} + V_Wᵀ ∂L/∂y,  R{∂L/∂W} = R{∂L/∂y} xᵀ + ∂L/∂y R{x}ᵀ.
// The result equals ∇²L·v exactly wherever L is twice differentiable (everywhere except on the
// measure-zero set where a ReLU input is exactly 0 or a pooling window has a tie).
//
// Images are processed one by one (in parallel over the batch), so the result for an image
// depends neither on the batch it is in nor on the thread count; sums over a batch (loss
// gradients, Hessian-vector products) are reduced in fixed chunks of 16 images in index order,
// so they too are identical for any thread count.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential/detail/kernels.hpp"
#include "xai/models/sequential/layers.hpp"

namespace xai::models::detail {

/// The passes of BasicSequential<Scalar> over its layers: a view of the model's input shape,
/// resolved layers, flat parameter buffer and thread count, built for one call (the model
/// validates every argument before it asks the engine). Every function is const and
/// thread-safe, and gives bit-identical results for any thread count and batch composition.
template <class Scalar>
class Engine {
public:
    /// Images per partial sum of a reduction over a batch (fixed, so the order of the sums
    /// does not depend on the thread count).
    static constexpr std::size_t reduction_chunk = 16;

    /// A view of a model: it must outlive the engine. `params` holds the flat parameter vector
    /// the layers' offsets index.
    Engine(ImageShape input_shape, const std::vector<Layer>& layers, const Scalar* params, std::size_t threads)
        : input_shape_(input_shape), layers_(layers), params_(params), threads_(threads) {}

    /// The number of outputs of the last layer.
    std::size_t num_classes() const { return layers_.back().output.channels; }

    /// What one image's backward pass needs from its forward pass: per layer, the output
    /// (`values`, only when parameter gradients are wanted), the ReLU mask or the pooling switches.
    struct Tape {
        std::vector<detail::AlignedVector<Scalar>> values;
        std::vector<std::vector<std::uint8_t>> mask;
        std::vector<std::vector<std::uint16_t>> argmax;
        bool keep_values = false;

        explicit Tape(std::size_t layers, bool keep = false)
            : values(layers), mask(layers), argmax(layers), keep_values(keep) {}
    };

    /// Scratch for one image at a time; one per chunk of a parallel loop, never shared.
    struct Workspace {
        detail::AlignedVector<Scalar> input, ping, pong, cols, seed;
        Tape full_tape{0, true};  ///< reused image after image by the per-image parameter gradients

        /// `n` float values as Scalars, copied into the aligned input buffer.
        const Scalar* load(const float* data, std::size_t n) {
            input.resize(n);
            std::copy(data, data + n, input.begin());
            return input.data();
        }
        /// The ping-pong buffer that `p` is not.
        Scalar* other(const Scalar* p) { return p == ping.data() ? pong.data() : ping.data(); }
    };

    /// The most values any image takes at one point of the network (the input included).
    std::size_t largest_activation() const {
        std::size_t size = input_shape_.size();
        for (const Layer& l : layers_) size = std::max(size, l.output.size());
        return size;
    }

    /// A workspace sized for this network.
    Workspace make_workspace() const {
        Workspace ws;
        ws.full_tape = Tape(layers_.size(), true);
        const std::size_t size = largest_activation();
        ws.ping.resize(size);
        ws.pong.resize(size);
        std::size_t cols = 0;
        for (const Layer& l : layers_) cols = std::max(cols, detail::columns_size(l));
        ws.cols.resize(cols);
        return ws;
    }

    /// The weights of layer l in the parameter buffer.
    const Scalar* weight(const Layer& l) const { return params_ + l.weight_offset; }
    /// The bias of layer l in the parameter buffer.
    const Scalar* bias(const Layer& l) const { return params_ + l.bias_offset; }

    /// body(workspace, i) for every image, in parallel over contiguous chunks (one workspace each).
    template <class Body>
    void for_each_image(std::size_t n, Body&& body) const {
        const std::size_t chunks = std::min(resolve_threads(threads_), n);
        parallel_for(chunks, threads_, [&](std::size_t c) {
            Workspace ws = make_workspace();
            for (std::size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) body(ws, i);
        });
    }

    /// body(workspace, i, accumulator) for every image; the accumulators of fixed chunks of
    /// `reduction_chunk` images are summed into `total` (zeroed first) in chunk order, so the
    /// result does not depend on the thread count.
    template <class Body>
    void reduce_chunks(std::size_t n, std::span<Scalar> total, Body&& body) const {
        const std::size_t chunks = xai::detail::ceil_div(n, reduction_chunk);
        std::vector<detail::AlignedVector<Scalar>> partial(chunks);
        parallel_for(chunks, threads_, [&](std::size_t c) {
            Workspace ws = make_workspace();
            partial[c].assign(total.size(), Scalar(0));
            for (std::size_t i = c * reduction_chunk; i < std::min(n, (c + 1) * reduction_chunk); ++i)
                body(ws, i, partial[c].data());
        });
        std::fill(total.begin(), total.end(), Scalar(0));
        for (const auto& p : partial)
            for (std::size_t j = 0; j < total.size(); ++j) total[j] += p[j];
    }

    /// Writes one image's logits into row i of `scores` (as float).
    static void store(const Scalar* logits, Scores& scores, std::size_t i) {
        const std::size_t k = scores.shape(1);
        for (std::size_t j = 0; j < k; ++j) scores.data()[i * k + j] = static_cast<float>(logits[j]);
    }

    /// Runs layers [first, last) on one image whose input to layer `first` is `in`; returns the
    /// output (in `ws` or the tape). With a tape, records the masks and switches (and outputs
    /// when tape->keep_values) of those layers.
    const Scalar* run_forward(const Scalar* in, std::size_t first, std::size_t last, Workspace& ws, Tape* tape) const {
        const Scalar* cur = in;
        for (std::size_t l = first; l < last; ++l) {
            const Layer& layer = layers_[l];
            const std::size_t n = layer.output.size();
            Scalar* out;
            if (tape != nullptr && tape->keep_values) {
                tape->values[l].resize(n);
                out = tape->values[l].data();
            } else {
                out = ws.other(cur);
            }
            switch (layer.spec.kind) {
                case LayerKind::conv2d:
                case LayerKind::linear:
                    detail::affine_forward(layer, weight(layer), bias(layer), cur, out, ws.cols.data(), false);
                    break;
                case LayerKind::relu:
                    if (tape != nullptr) {
                        tape->mask[l].resize(n);
                        std::uint8_t* mask = tape->mask[l].data();
                        for (std::size_t i = 0; i < n; ++i) {
                            mask[i] = cur[i] > Scalar(0);
                            out[i] = mask[i] ? cur[i] : Scalar(0);
                        }
                    } else {
                        for (std::size_t i = 0; i < n; ++i) out[i] = cur[i] > Scalar(0) ? cur[i] : Scalar(0);
                    }
                    break;
                case LayerKind::max_pool2d: {
                    std::uint16_t* argmax = nullptr;
                    if (tape != nullptr) {
                        tape->argmax[l].resize(n);
                        argmax = tape->argmax[l].data();
                    }
                    detail::max_pool_forward(layer, cur, out, argmax);
                    break;
                }
                case LayerKind::global_avg_pool: detail::global_avg_pool_forward(layer, cur, out); break;
                case LayerKind::flatten: std::copy(cur, cur + n, out); break;
                case LayerKind::upsample2d: detail::upsample_forward(layer, cur, out); break;
            }
            cur = out;
        }
        return cur;
    }

    /// Backward of layer l alone for its input: dx from dy (which may not alias dx). A ReLU
    /// follows `relu` (core/concepts.hpp): g·[x > 0], max(g, 0)·[x > 0] or max(g, 0).
    void backward_layer(std::size_t l, const Tape& tape, const Scalar* dy, Scalar* dx, Workspace& ws,
                        ReluBackward relu = ReluBackward::standard) const {
        const Layer& layer = layers_[l];
        const std::size_t n = layer.input.size();
        switch (layer.spec.kind) {
            case LayerKind::conv2d:
            case LayerKind::linear:
                detail::affine_backward_data(layer, weight(layer), dy, dx, ws.cols.data(), false);
                break;
            case LayerKind::relu: {
                const std::uint8_t* mask = tape.mask[l].data();
                switch (relu) {
                    case ReluBackward::standard:
                        for (std::size_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] : Scalar(0);
                        break;
                    case ReluBackward::guided:
                        for (std::size_t i = 0; i < n; ++i) dx[i] = mask[i] && dy[i] > Scalar(0) ? dy[i] : Scalar(0);
                        break;
                    case ReluBackward::deconvolution:
                        for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] > Scalar(0) ? dy[i] : Scalar(0);
                        break;
                }
                break;
            }
            case LayerKind::max_pool2d: detail::max_pool_backward(layer, dy, tape.argmax[l].data(), dx); break;
            case LayerKind::global_avg_pool: detail::global_avg_pool_backward(layer, dy, dx); break;
            case LayerKind::flatten: std::copy(dy, dy + n, dx); break;
            case LayerKind::upsample2d: detail::upsample_backward(layer, dy, dx); break;
        }
    }

    /// From the gradient `g` with respect to the output of layer last−1, the gradient with
    /// respect to the input of layer `first` (returned in ws).
    /// `visit(l, dy)`, when given, sees the gradient at the output of each layer l before its backward.
    template <class Visit = std::nullptr_t>
    const Scalar* run_backward(const Tape& tape, std::size_t first, std::size_t last, const Scalar* g, Workspace& ws,
                               ReluBackward relu = ReluBackward::standard, Visit&& visit = nullptr) const {
        const Scalar* cur = g;
        for (std::size_t l = last; l-- > first;) {
            if constexpr (!std::is_same_v<std::decay_t<Visit>, std::nullptr_t>) visit(l, cur);
            Scalar* out = ws.other(cur);
            backward_layer(l, tape, cur, out, ws, relu);
            cur = out;
        }
        return cur;
    }

    /// store(i, logits) for the n inputs of layer `first` in `data` (first = 0: the images).
    template <class Store>
    void forward_each(const float* data, std::size_t n, std::size_t first, Store&& store) const {
        const std::size_t d = first == 0 ? input_shape_.size() : layers_[first - 1].output.size();
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            store(i, run_forward(ws.load(data + i * d, d), first, layers_.size(), ws, nullptr));
        });
    }

    /// The logits (float) of the n inputs of layer `first` in `data`, checked (model_error naming `where`).
    Scores float_scores(const float* data, std::size_t n, std::size_t first, const char* where) const {
        Scores scores = Scores::from_shape({n, num_classes()});
        forward_each(data, n, first, [&](std::size_t i, const Scalar* z) { store(z, scores, i); });
        xai::detail::require_model_scores(scores, n, num_classes(), where);
        return scores;
    }

    /// The logits in Scalar precision (as double) of the n inputs of layer `first` in `data`.
    Eigen::MatrixXd double_scores(const float* data, std::size_t n, std::size_t first, const char* where) const {
        const std::size_t k = num_classes();
        Eigen::MatrixXd scores(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(k));
        forward_each(data, n, first, [&](std::size_t i, const Scalar* z) {
            for (std::size_t j = 0; j < k; ++j) scores(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = z[j];
        });
        if (!scores.allFinite()) throw model_error(detail::message(where, ": the model returned NaN or Inf scores"));
        return scores;
    }

    /// An uninitialised N×C×H×W (or N×D for a vector) tensor for n images of shape s.
    static Activations activation_tensor(std::size_t n, const FeatureShape& s) {
        if (s.spatial) return Activations::from_shape({n, s.channels, s.height, s.width});
        return Activations::from_shape({n, s.channels});
    }

    /// The output of layer k and the logits, from one forward pass.
    LayerOutput capture(const Batch& batch, std::size_t k, const char* where) const {
        const std::size_t n = batch.shape(0), d = input_shape_.size();
        const FeatureShape& s = layers_[k].output;
        LayerOutput out{activation_tensor(n, s), Scores::from_shape({n, num_classes()})};
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            const Scalar* a = run_forward(ws.load(batch.data() + i * d, d), 0, k + 1, ws, nullptr);
            std::transform(a, a + s.size(), out.activations.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
            store(run_forward(a, k + 1, layers_.size(), ws, nullptr), out.scores, i);
        });
        xai::detail::require_model_scores(out.scores, n, num_classes(), where);
        return out;
    }

    /// Activations of layer k (k = −1: the input), the gradient of the seeded score with respect
    /// to them, and the logits: one forward pass that records the switches of layers above k,
    /// the seed, one backward pass down to k, through the ReLUs by the rule `relu`.
    /// `visit(i, l, dy)`, when given, sees image i's gradient dy at the output of every layer l
    /// the backward pass crosses (BiasGradients).
    template <class Visit = std::nullptr_t>
    LayerGradients gradients_at(const Batch& batch, std::ptrdiff_t k, const ScoreSeed& seed, const char* where,
                                ReluBackward relu = ReluBackward::standard, Visit&& visit = nullptr) const {
        detail::require(static_cast<bool>(seed), where, ": seed is an empty function, expected a ScoreSeed");
        const std::size_t n = batch.shape(0), d = input_shape_.size(), classes = num_classes();
        const std::size_t above = static_cast<std::size_t>(k + 1);  // first layer above k
        const FeatureShape s = k < 0 ? FeatureShape{input_shape_.channels, input_shape_.height, input_shape_.width, true}
                                     : layers_[static_cast<std::size_t>(k)].output;
        LayerGradients out{activation_tensor(n, s), activation_tensor(n, s), Scores::from_shape({n, classes})};
        std::vector<Tape> tapes(n, Tape(layers_.size()));
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            const Scalar* a = run_forward(ws.load(batch.data() + i * d, d), 0, above, ws, nullptr);
            std::transform(a, a + s.size(), out.activations.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
            store(run_forward(a, above, layers_.size(), ws, &tapes[i]), out.scores, i);
        });
        xai::detail::require_model_scores(out.scores, n, classes, where);
        const Scores seeds = seed(out.scores);
        detail::require<shape_error>(seeds.dimension() == 2 && seeds.shape(0) == n && seeds.shape(1) == classes, where,
                                     ": the seed returned shape ", shape_string(seeds.shape()), ", expected [", n, ", ",
                                     classes, "] (d score / d logits)");
        if (!all_finite(seeds)) throw invalid_argument(detail::message(where, ": the seed returned NaN or Inf"));
        for_each_image(n, [&](Workspace& ws, std::size_t i) {
            ws.seed.assign(seeds.data() + i * classes, seeds.data() + (i + 1) * classes);
            const Scalar* g = run_backward(tapes[i], above, layers_.size(), ws.seed.data(), ws, relu, [&](std::size_t l, const Scalar* dy) {
                if constexpr (!std::is_same_v<std::decay_t<Visit>, std::nullptr_t>) visit(i, l, dy);
            });
            std::transform(g, g + s.size(), out.gradients.data() + i * s.size(), [](Scalar v) { return static_cast<float>(v); });
        });
        return out;
    }

    /// The input gradient and, for every conv2d and linear layer, the gradient at its output
    /// with its bias (BiasGradients of core/concepts.hpp): one forward pass that records every
    /// layer's switches, the seed, and one backward pass down to the input that copies the
    /// gradient as it passes each affine layer's output.
    BiasGradients bias_gradients(const Batch& batch, const ScoreSeed& seed, const char* where) const {
        std::vector<std::size_t> affine;
        for (std::size_t l = 0; l < layers_.size(); ++l)
            if (layers_[l].has_parameters()) affine.push_back(l);
        const std::size_t n = batch.shape(0);
        BiasGradients out;
        for (std::size_t l : affine) {
            LayerBiasGradient b{layers_[l].spec.name, activation_tensor(n, layers_[l].output), {}};
            b.bias.assign(bias(layers_[l]), bias(layers_[l]) + layers_[l].bias_size);
            out.layers.push_back(std::move(b));
        }
        LayerGradients g = gradients_at(batch, -1, seed, where, ReluBackward::standard,
                                        [&](std::size_t i, std::size_t l, const Scalar* dy) {
                                            const auto slot = std::find(affine.begin(), affine.end(), l);
                                            if (slot == affine.end()) return;
                                            const std::size_t size = layers_[l].output.size();
                                            float* dst = out.layers[static_cast<std::size_t>(slot - affine.begin())]
                                                             .gradients.data() + i * size;
                                            std::transform(dy, dy + size, dst, [](Scalar v) { return static_cast<float>(v); });
                                        });
        out.input_gradients = Batch::from_shape(batch.shape());
        std::copy(g.gradients.begin(), g.gradients.end(), out.input_gradients.begin());
        out.scores = std::move(g.scores);
        return out;
    }

    /// log Σ exp(z) − z_y, computed stably in double; when `gradient` is not null it receives
    /// softmax(z) − e_y (as Scalar).
    template <class T>
    static double cross_entropy(const T* z, std::size_t k, std::size_t y, Scalar* gradient) {
        double top = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < k; ++j) top = std::max(top, static_cast<double>(z[j]));
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(z[j]) - top);
        const double log_sum = std::log(sum) + top;
        if (gradient != nullptr)
            for (std::size_t j = 0; j < k; ++j)
                gradient[j] = static_cast<Scalar>(std::exp(static_cast<double>(z[j]) - log_sum) - (j == y ? 1.0 : 0.0));
        return log_sum - static_cast<double>(z[y]);
    }

    /// Adds ∇θ L(z_i, θ) of image i to `gradient`; returns L(z_i, θ).
    double image_loss_gradient(Workspace& ws, const Batch& batch, std::size_t i, std::size_t label, Scalar* gradient,
                               const char* where) const {
        const std::size_t d = input_shape_.size();
        Tape& tape = ws.full_tape;  // reused: its buffers keep their sizes from image to image
        const Scalar* input = ws.load(batch.data() + i * d, d);
        const Scalar* z = run_forward(input, 0, layers_.size(), ws, &tape);
        const std::size_t k = num_classes();
        ws.seed.resize(k);
        const double loss = cross_entropy(z, k, label, ws.seed.data());
        if (!std::isfinite(loss))
            throw model_error(detail::message(where, ": the loss of image ", i, " is not finite (diverged parameters?)"));
        backward_parameters(tape, input, ws.seed.data(), gradient, ws);
        return loss;
    }

    /// Adds ∇θ loss(i, z_i) of image i to `gradient` for a loss of the outputs given as a
    /// function (OutputLoss of models/sequential.hpp); returns the loss.
    template <class Loss>
    double image_output_loss_gradient(Workspace& ws, const Batch& batch, std::size_t i, const Loss& loss,
                                      Scalar* gradient, const char* where) const {
        const std::size_t d = input_shape_.size(), k = num_classes();
        Tape& tape = ws.full_tape;
        const Scalar* input = ws.load(batch.data() + i * d, d);
        const Scalar* z = run_forward(input, 0, layers_.size(), ws, &tape);
        std::vector<double> outputs(z, z + k), g(k, 0.0);
        const double value = loss(i, std::span<const double>(outputs), std::span<double>(g));
        if (!std::isfinite(value) || !std::all_of(g.begin(), g.end(), [](double v) { return std::isfinite(v); }))
            throw model_error(detail::message(where, ": the loss of image ", i, " or its gradient is not finite"));
        ws.seed.resize(k);
        std::transform(g.begin(), g.end(), ws.seed.begin(), [](double v) { return static_cast<Scalar>(v); });
        backward_parameters(tape, input, ws.seed.data(), gradient, ws);
        return value;
    }

    /// Adds ∂L/∂θ to `gradient` given g = ∂L/∂(logits) and a tape with every layer's output.
    void backward_parameters(const Tape& tape, const Scalar* input, const Scalar* g, Scalar* gradient, Workspace& ws) const {
        const Scalar* cur = g;
        for (std::size_t l = layers_.size(); l-- > 0;) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            if (layer.has_parameters())
                detail::affine_backward_parameters(layer, cur, x, gradient + layer.weight_offset,
                                                   gradient + layer.bias_offset, ws.cols.data());
            if (l == 0) break;
            Scalar* out = ws.other(cur);
            backward_layer(l, tape, cur, out, ws);
            cur = out;
        }
    }

    /// Adds H_i v (the Hessian of L(z_i, θ) times v) to `hv`, by the R-operator (see top).
    void image_hessian_vector_product(Workspace& ws, const Batch& batch, std::size_t i, std::size_t label, const Scalar* v,
                                      Scalar* hv) const {
        const std::size_t d = input_shape_.size(), L = layers_.size();
        Tape& tape = ws.full_tape;
        const Scalar* input = ws.load(batch.data() + i * d, d);
        run_forward(input, 0, L, ws, &tape);

        // R-forward: Rvalues[l] = R{output of layer l}; R{input} = 0.
        std::vector<detail::AlignedVector<Scalar>> r(L);
        for (std::size_t l = 0; l < L; ++l) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            const Scalar* rx = l == 0 ? nullptr : r[l - 1].data();
            r[l].assign(layer.output.size(), Scalar(0));
            Scalar* ry = r[l].data();
            switch (layer.spec.kind) {
                case LayerKind::conv2d:
                case LayerKind::linear:
                    detail::affine_forward(layer, v + layer.weight_offset, v + layer.bias_offset, x, ry, ws.cols.data(), false);
                    if (rx != nullptr) detail::affine_forward(layer, weight(layer), static_cast<const Scalar*>(nullptr), rx, ry, ws.cols.data(), true);
                    break;
                case LayerKind::relu:
                    if (rx != nullptr)
                        for (std::size_t j = 0; j < layer.output.size(); ++j) ry[j] = tape.mask[l][j] ? rx[j] : Scalar(0);
                    break;
                case LayerKind::max_pool2d:
                    if (rx != nullptr) detail::max_pool_gather(layer, rx, tape.argmax[l].data(), ry);
                    break;
                case LayerKind::global_avg_pool:
                    if (rx != nullptr) detail::global_avg_pool_forward(layer, rx, ry);
                    break;
                case LayerKind::flatten:
                    if (rx != nullptr) std::copy(rx, rx + layer.output.size(), ry);
                    break;
                case LayerKind::upsample2d:  // linear: R{up(x)} = up(R{x})
                    if (rx != nullptr) detail::upsample_forward(layer, rx, ry);
                    break;
            }
        }

        // Loss: g = p − e_y, R{g} = p ⊙ R{z} − p (pᵀ R{z}).
        const std::size_t k = num_classes();
        detail::AlignedVector<Scalar> g(k), rg(k);
        cross_entropy(tape.values[L - 1].data(), k, label, g.data());
        const Scalar* rz = r[L - 1].data();
        double p_dot_rz = 0.0;
        for (std::size_t j = 0; j < k; ++j) p_dot_rz += (static_cast<double>(g[j]) + (j == label ? 1.0 : 0.0)) * rz[j];
        for (std::size_t j = 0; j < k; ++j) {
            const double p = static_cast<double>(g[j]) + (j == label ? 1.0 : 0.0);
            rg[j] = static_cast<Scalar>(p * (static_cast<double>(rz[j]) - p_dot_rz));
        }

        // R-backward.
        detail::AlignedVector<Scalar> g_next, rg_next, scratch;
        for (std::size_t l = L; l-- > 0;) {
            const Layer& layer = layers_[l];
            const Scalar* x = l == 0 ? input : tape.values[l - 1].data();
            const Scalar* rx = l == 0 ? nullptr : r[l - 1].data();
            if (layer.has_parameters()) {
                Scalar* hw = hv + layer.weight_offset;
                detail::affine_backward_parameters(layer, rg.data(), x, hw, hv + layer.bias_offset, ws.cols.data());
                if (rx != nullptr) detail::affine_backward_parameters(layer, g.data(), rx, hw, static_cast<Scalar*>(nullptr), ws.cols.data());
            }
            if (l == 0) break;
            g_next.resize(layer.input.size());
            rg_next.resize(layer.input.size());
            backward_layer(l, tape, g.data(), g_next.data(), ws);
            backward_layer(l, tape, rg.data(), rg_next.data(), ws);
            if (layer.has_parameters())
                detail::affine_backward_data(layer, v + layer.weight_offset, g.data(), rg_next.data(), ws.cols.data(), true);
            std::swap(g, g_next);
            std::swap(rg, rg_next);
        }
    }
private:
    ImageShape input_shape_;
    const std::vector<Layer>& layers_;
    const Scalar* params_;
    std::size_t threads_;
};

}  // namespace xai::models::detail
