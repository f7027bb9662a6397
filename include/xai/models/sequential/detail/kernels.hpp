#pragma once
// The per-image kernels of the built-in CNN's layers (models/sequential/layers.hpp lists what
// each layer computes): im2col and its adjoint, the affine layers (conv2d, linear) forward and
// backward with Eigen doing every matrix product, max pooling with its switches, global
// average pooling, bilinear upsampling and its transpose. They work on one image at a time on raw, row-major buffers.
//
// Working per image keeps an image's result independent of the batch it arrives in and of the
// thread that computes it, which is what makes every model function bit-for-bit deterministic
// for any thread count and batch size.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/eigen.hpp"

#include "xai/models/sequential/layers.hpp"

namespace xai::models::detail {

/// Buffers aligned to Eigen's largest packet. Eigen's small products reduce with packets after
/// peeling to an aligned address, so the summation order of a dot product depends on where its
/// operands sit; aligned buffers (and row offsets fixed by the shapes) make every result
/// independent of which allocation, thread or copy of the model computes it.
template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

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

/// The two source taps and their weights of output index `o` of a bilinear ×`factor` upsampling
/// of an axis of `in` samples, as PyTorch computes them with align_corners=False: the source
/// coordinate is max((o + ½)/factor − ½, 0), its floor and the next sample (clamped to the last).
struct BilinearTap {
    std::size_t first = 0, second = 0;  ///< the source samples
    double weight_first = 1.0, weight_second = 0.0;  ///< their weights, summing to 1
};
inline BilinearTap bilinear_tap(std::size_t o, std::size_t in, std::size_t factor) {
    const double source = std::max((static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5, 0.0);
    BilinearTap t;
    t.first = std::min(static_cast<std::size_t>(source), in - 1);
    t.second = std::min(t.first + 1, in - 1);
    t.weight_second = source - static_cast<double>(t.first);
    t.weight_first = 1.0 - t.weight_second;
    return t;
}

/// The taps of every output index of one axis (out = in · factor values).
inline std::vector<BilinearTap> bilinear_taps(std::size_t in, std::size_t factor) {
    std::vector<BilinearTap> taps(in * factor);
    for (std::size_t o = 0; o < taps.size(); ++o) taps[o] = bilinear_tap(o, in, factor);
    return taps;
}

/// Bilinear upsampling of x (C×H×W) into y (C×(H·k)×(W·k)), k = the layer's factor.
template <class Scalar>
void upsample_forward(const Layer& l, const Scalar* x, Scalar* y) {
    const std::size_t k = l.spec.kernel, H = l.input.height, W = l.input.width, Ho = l.output.height, Wo = l.output.width;
    const std::vector<BilinearTap> rows = bilinear_taps(H, k), cols = bilinear_taps(W, k);
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        const Scalar* plane = x + c * H * W;
        Scalar* out = y + c * Ho * Wo;
        for (std::size_t oy = 0; oy < Ho; ++oy) {
            const BilinearTap& r = rows[oy];
            const auto ry0 = static_cast<Scalar>(r.weight_first), ry1 = static_cast<Scalar>(r.weight_second);
            const Scalar* a = plane + r.first * W;
            const Scalar* b = plane + r.second * W;
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const BilinearTap& t = cols[ox];
                const auto cx0 = static_cast<Scalar>(t.weight_first), cx1 = static_cast<Scalar>(t.weight_second);
                out[oy * Wo + ox] = ry0 * (cx0 * a[t.first] + cx1 * a[t.second]) + ry1 * (cx0 * b[t.first] + cx1 * b[t.second]);
            }
        }
    }
}

/// The transpose of upsample_forward: dx (C×H×W, overwritten) receives each dy with the weight
/// its source sample had in the forward pass.
template <class Scalar>
void upsample_backward(const Layer& l, const Scalar* dy, Scalar* dx) {
    const std::size_t k = l.spec.kernel, H = l.input.height, W = l.input.width, Ho = l.output.height, Wo = l.output.width;
    const std::vector<BilinearTap> rows = bilinear_taps(H, k), cols = bilinear_taps(W, k);
    std::fill(dx, dx + l.input.size(), Scalar(0));
    for (std::size_t c = 0; c < l.input.channels; ++c) {
        Scalar* plane = dx + c * H * W;
        const Scalar* g = dy + c * Ho * Wo;
        for (std::size_t oy = 0; oy < Ho; ++oy) {
            const BilinearTap& r = rows[oy];
            const auto ry0 = static_cast<Scalar>(r.weight_first), ry1 = static_cast<Scalar>(r.weight_second);
            Scalar* a = plane + r.first * W;
            Scalar* b = plane + r.second * W;
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                const BilinearTap& t = cols[ox];
                const auto cx0 = static_cast<Scalar>(t.weight_first), cx1 = static_cast<Scalar>(t.weight_second);
                const Scalar v = g[oy * Wo + ox];
                a[t.first] += ry0 * cx0 * v;
                a[t.second] += ry0 * cx1 * v;
                b[t.first] += ry1 * cx0 * v;
                b[t.second] += ry1 * cx1 * v;
            }
        }
    }
}

}  // namespace xai::models::detail
