#pragma once
// Conversions between xai's tensors (xtensor, Eigen) and LibTorch's torch::Tensor.
//
//   as_torch(x)          xtensor → torch::Tensor WITHOUT a copy: a CPU float tensor viewing
//                        x's buffer (torch::from_blob). xai's containers (Batch, Image, Maps,
//                        Scores, Activations) are contiguous row-major float buffers, which is
//                        exactly an NCHW / N×K torch tensor, so this is always a view.
//   to_xtensor<N>(t)     torch::Tensor → xt::xtensor<float, N>, one copy
//   to_xarray(t)         torch::Tensor → xt::xarray<float> (Activations), one copy
//   to_torch(m)          Eigen float/double vector or matrix → torch::Tensor, one copy
//   to_eigen(t)          torch::Tensor → Eigen::VectorXd (flattened), one copy
//
// When a conversion copies:
//   - xtensor → torch never copies. The view borrows the buffer: the xtensor container must
//     outlive the tensor, and nobody may write to the tensor (LibTorch has no read-only tensors;
//     xai's adapter only reads it, and autograd never writes into its inputs). A model in
//     double precision needs `as_torch(x).to(torch::kFloat64)`, which copies once.
//   - torch → xtensor always copies once: an xtensor container owns its memory, and a LibTorch
//     tensor's storage is reference-counted by LibTorch. A tensor that is not a contiguous CPU
//     float tensor (a transposed view, a double or half tensor) is first made one, which is a
//     second copy.
//   - Eigen ↔ torch copies once (Eigen's default layout is column-major).

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <torch/torch.h>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai::models {

namespace detail {

template <class Shape>
std::vector<std::int64_t> torch_sizes(const Shape& shape) {
    std::vector<std::int64_t> sizes;
    sizes.reserve(shape.size());
    for (auto extent : shape) sizes.push_back(static_cast<std::int64_t>(extent));
    return sizes;
}

/// The same data as a contiguous CPU float tensor (no copy when it already is one).
inline torch::Tensor torch_contiguous_float(const torch::Tensor& t) {
    torch::Tensor out = t.detach();
    if (out.device() != torch::kCPU) out = out.to(torch::kCPU);
    if (out.scalar_type() != torch::kFloat32) out = out.to(torch::kFloat32);
    return out.contiguous();
}

}  // namespace detail

/// A torch::Tensor viewing the container's buffer (no copy); see the header comment for the
/// lifetime rule. Works for every xai tensor type (Batch, Image, Map, Maps, Scores) and for
/// Activations (xt::xarray<float>).
template <std::size_t N>
torch::Tensor as_torch(const xt::xtensor<float, N>& x) {
    // from_blob wants a mutable pointer; the tensor is only ever read (see the header comment).
    return torch::from_blob(const_cast<float*>(x.data()), detail::torch_sizes(x.shape()), torch::kFloat32);
}

/// The same for Activations (xt::xarray<float>): a view, no copy.
inline torch::Tensor as_torch(const xt::xarray<float>& x) {
    return torch::from_blob(const_cast<float*>(x.data()), detail::torch_sizes(x.shape()), torch::kFloat32);
}

/// A copy of the tensor as an xtensor container of rank N; shape_error if its rank is not N.
template <std::size_t N>
xt::xtensor<float, N> to_xtensor(const torch::Tensor& t) {
    xai::detail::require<shape_error>(t.dim() == static_cast<std::int64_t>(N), "xai::models::to_xtensor<", N,
                                      ">(): the tensor has rank ", t.dim(), " (shape ", t.sizes(), "), expected rank ", N);
    const torch::Tensor src = detail::torch_contiguous_float(t);
    std::array<std::size_t, N> shape{};
    for (std::size_t d = 0; d < N; ++d) shape[d] = static_cast<std::size_t>(src.size(static_cast<std::int64_t>(d)));
    xt::xtensor<float, N> out = xt::xtensor<float, N>::from_shape(shape);
    std::copy_n(src.data_ptr<float>(), out.size(), out.data());
    return out;
}

/// A copy of the tensor as an xt::xarray<float> (Activations) of the same shape.
inline xt::xarray<float> to_xarray(const torch::Tensor& t) {
    const torch::Tensor src = detail::torch_contiguous_float(t);
    std::vector<std::size_t> shape;
    for (std::int64_t d = 0; d < src.dim(); ++d) shape.push_back(static_cast<std::size_t>(src.size(d)));
    xt::xarray<float> out = xt::xarray<float>::from_shape(shape);
    std::copy_n(src.data_ptr<float>(), out.size(), out.data());
    return out;
}

/// An Eigen vector as a 1-D tensor of the given dtype (float32 or float64), copied.
inline torch::Tensor to_torch(const Eigen::VectorXd& v, torch::Dtype dtype = torch::kFloat64) {
    torch::Tensor out = torch::empty({static_cast<std::int64_t>(v.size())}, torch::kFloat64);
    std::copy_n(v.data(), v.size(), out.data_ptr<double>());
    return dtype == torch::kFloat64 ? out : out.to(dtype);
}

/// An Eigen matrix as a rows×cols (row-major) tensor of the given dtype, copied.
inline torch::Tensor to_torch(const Eigen::MatrixXd& m, torch::Dtype dtype = torch::kFloat64) {
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    torch::Tensor out = torch::empty({static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(m.cols())},
                                     torch::kFloat64);
    Eigen::Map<RowMajor>(out.data_ptr<double>(), m.rows(), m.cols()) = m;
    return dtype == torch::kFloat64 ? out : out.to(dtype);
}

/// The tensor's elements in row-major order as a double vector, copied.
inline Eigen::VectorXd to_eigen(const torch::Tensor& t) {
    const torch::Tensor src = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    Eigen::VectorXd out(src.numel());
    std::copy_n(src.data_ptr<double>(), src.numel(), out.data());
    return out;
}

}  // namespace xai::models
