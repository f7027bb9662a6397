#pragma once
// Projections of one image's C×h·w activation-like terms on their first principal component:
// linear (Eigen-CAM, Eigen-Grad-CAM and every method's eigen_smooth) and kernel PCA (KPCA-CAM).
//
// Linear: with the terms as a matrix T (h·w locations × C channels), each column centred,
//   map = T_c v₁, v₁ the top right singular vector of T_c (pytorch-grad-cam
//   utils/svd_on_activations.py get_2d_projection).
// Kernel (Schölkopf, Smola & Müller 1998; sklearn.decomposition.KernelPCA, which
// pytorch-grad-cam's get_2d_projection_kernel calls with n_components = 1): with the same centred
// rows x_p, the Gram matrix K_pq = k(x_p, x_q) is double-centred, K̃ = (I − 1/n) K (I − 1/n), and
//   map_p = √λ₁ α₁p,   (λ₁, α₁) the top eigenpair of K̃ (α₁ of unit norm).
// Both leave the sign open; here it is fixed so that the map correlates positively with the
// channel sum Σ_k T_k (the map the method would give without the projection), see eigen_cam.hpp.
//
// Function templates (on the scalar type) so that Eigen's SelfAdjointEigenSolver is compiled
// only where a projection is used (docs/performance.md).

#include "xai/core/eigen.hpp"  // first: Eigen/Core with GCC 12's false AVX-512 warnings silenced

#include "xai/core/compiled.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace xai {

/// The kernel of KPCA-CAM's kernel PCA, as sklearn.decomposition.KernelPCA names them.
enum class PcaKernel {
    sigmoid,     ///< tanh(γ ⟨x, y⟩ + c₀) (pytorch-grad-cam's default)
    rbf,         ///< exp(−γ ‖x − y‖²)
    polynomial,  ///< (γ ⟨x, y⟩ + c₀)^d
    linear       ///< ⟨x, y⟩: kernel PCA is then PCA, and KPCA-CAM is Eigen-CAM
};

namespace detail {

/// The rows x_p of one image's C×pixels terms (read column-major: channel k is column k),
/// each column centred, and the channel sum per location (for the sign).
template <class Scalar>
void centred_locations(const float* terms, std::size_t channels, std::size_t pixels,
                       Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& centred,
                       Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& channel_sum) {
    const auto rows = static_cast<Eigen::Index>(pixels), cols = static_cast<Eigen::Index>(channels);
    centred.resize(rows, cols);
    channel_sum = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>::Zero(rows);
    for (Eigen::Index k = 0; k < cols; ++k) {
        const float* channel = terms + k * rows;
        Scalar mean = 0;
        for (Eigen::Index p = 0; p < rows; ++p) mean += channel[p];
        mean /= static_cast<Scalar>(pixels);
        for (Eigen::Index p = 0; p < rows; ++p) {
            centred(p, k) = channel[p] - mean;
            channel_sum(p) += channel[p];
        }
    }
}

/// Writes `projection`, signed to correlate positively with `channel_sum`, to `map`.
template <class Scalar>
void write_signed(Eigen::Matrix<Scalar, Eigen::Dynamic, 1> projection,
                  const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& channel_sum, float* map) {
    // The projection has zero mean, so its covariance with the channel sum is a dot product.
    if (projection.dot(channel_sum) < 0) projection = -projection;
    for (Eigen::Index p = 0; p < projection.size(); ++p) map[p] = static_cast<float>(projection(p));
}

/// The centred first-principal-component projection of one image's C×pixels terms, signed to
/// correlate positively with the channel sum, written to `map` (pixels values), computed in
/// `Scalar` (double: the results the tests pin down).
template <class Scalar = double>
void eigen_cam_projection(const float* activations, std::size_t channels, std::size_t pixels, float* map) {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    Matrix centred;
    Vector channel_sum;
    centred_locations(activations, channels, pixels, centred, channel_sum);
    const auto rows = centred.rows(), cols = centred.cols();
    Vector projection;
    if (channels <= pixels) {
        const Eigen::SelfAdjointEigenSolver<Matrix> solver(centred.transpose() * centred);
        projection = centred * solver.eigenvectors().col(cols - 1);
    } else {
        // A v₁ = √λ₁ u₁ with u₁ the top eigenvector of A Aᵀ: cheaper when h·w < C.
        const Eigen::SelfAdjointEigenSolver<Matrix> solver(centred * centred.transpose());
        const Eigen::Index top = rows - 1;
        const Scalar lambda = solver.eigenvalues()(top);
        projection = lambda > 0 ? Vector(std::sqrt(lambda) * solver.eigenvectors().col(top)) : Vector(Vector::Zero(rows));
    }
    write_signed<Scalar>(std::move(projection), channel_sum, map);
}

/// The kernel-PCA projection of one image's C×pixels activations on the first component (see
/// the header comment), signed like eigen_cam_projection, written to `map`. gamma > 0, degree ≥ 1.
template <class Scalar = double>
void kernel_pca_projection(const float* activations, std::size_t channels, std::size_t pixels, PcaKernel kernel,
                           double gamma, double coef0, double degree, float* map) {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    Matrix x;
    Vector channel_sum;
    centred_locations(activations, channels, pixels, x, channel_sum);
    const Eigen::Index n = x.rows();
    Matrix k = x * x.transpose();  // ⟨x_p, x_q⟩
    const auto g = static_cast<Scalar>(gamma), c0 = static_cast<Scalar>(coef0);
    if (kernel == PcaKernel::rbf) {
        const Vector norms = k.diagonal();
        for (Eigen::Index q = 0; q < n; ++q)
            for (Eigen::Index p = 0; p < n; ++p) k(p, q) = std::exp(-g * std::max(norms(p) + norms(q) - 2 * k(p, q), Scalar(0)));
    } else if (kernel == PcaKernel::sigmoid) {
        k = (g * k.array() + c0).tanh().matrix();
    } else if (kernel == PcaKernel::polynomial) {
        k = (g * k.array() + c0).pow(static_cast<Scalar>(degree)).matrix();
    }
    // Double centring: K̃ = K − 1K/n − K1/n + 1K1/n².
    const Vector row_mean = k.rowwise().mean();
    const Scalar all_mean = row_mean.mean();
    for (Eigen::Index q = 0; q < n; ++q)
        for (Eigen::Index p = 0; p < n; ++p) k(p, q) += all_mean - row_mean(p) - row_mean(q);
    const Eigen::SelfAdjointEigenSolver<Matrix> solver(k);
    const Scalar lambda = solver.eigenvalues()(n - 1);
    Vector projection = lambda > 0 ? Vector(std::sqrt(lambda) * solver.eigenvectors().col(n - 1)) : Vector(Vector::Zero(n));
    write_signed<Scalar>(std::move(projection), channel_sum, map);
}

#if defined(XAI_COMPILED_LIB) && !defined(XAI_COMPILED_LIB_SOURCE)
// Compiled mode (core/compiled.hpp): the double projections are instantiated once, in
// src/compiled.cpp; the eigen-solver alone costs a translation unit about 6 s of -O2 and 200 MB.
extern template void eigen_cam_projection<double>(const float*, std::size_t, std::size_t, float*);
extern template void kernel_pca_projection<double>(const float*, std::size_t, std::size_t, PcaKernel, double, double,
                                                   double, float*);
#endif

}  // namespace detail

}  // namespace xai
