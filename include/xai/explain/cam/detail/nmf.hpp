#pragma once
// Non-negative matrix factorization by Lee & Seung's multiplicative updates ("Algorithms for
// Non-negative Matrix Factorization", NIPS 2000, Theorem 1): for V ≈ W H with V (m×n), W (m×k),
// H (k×n) all ≥ 0, the updates
//   H ← H ⊙ (Wᵀ V) ⊘ (Wᵀ W H),      W ← W ⊙ (V Hᵀ) ⊘ (W H Hᵀ)
// never increase ‖V − W H‖²_F. The initialisation is scikit-learn's init='random' (what
// pytorch-grad-cam's dff() asks for): entries |N(0, 1)| · √(mean(V) / k), here drawn from
// Rng::stream(seed, 0) (W first, row-major, then H). scikit-learn then runs coordinate descent
// by default rather than these updates, so its factors differ (an NMF is not unique); the
// objective is the same. A denominator below `floor` is replaced by it, so an entry that reaches
// zero stays there without a division by zero. Stops after `max_iterations` or when the
// relative decrease of the objective over one iteration falls below `tolerance`.
//
// A function template, so Eigen's products are instantiated only where it is used.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "xai/core/eigen.hpp"
#include "xai/core/random.hpp"

namespace xai::detail {

/// W (m×k), H (k×n), the objective ‖V − W H‖²_F after every iteration, and the iterations run.
template <class Scalar>
struct NmfFactors {
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> w, h;
    std::vector<double> objective;  ///< after each iteration (objective.front(): after the first)
    std::size_t iterations = 0;
};

/// ‖V − W H‖²_F in double.
template <class Matrix>
double nmf_objective(const Matrix& v, const Matrix& w, const Matrix& h) {
    return (v - w * h).template cast<double>().squaredNorm();
}

/// The NMF of a non-negative matrix `v` with `k` components (see the header comment).
template <class Scalar = double>
NmfFactors<Scalar> nmf(const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& v, std::size_t k,
                       std::size_t max_iterations, double tolerance, std::uint64_t seed) {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    const Eigen::Index m = v.rows(), n = v.cols(), r = static_cast<Eigen::Index>(k);
    const double scale = std::sqrt(std::max(0.0, static_cast<double>(v.mean())) / static_cast<double>(k));
    NmfFactors<Scalar> out;
    out.w.resize(m, r);
    out.h.resize(r, n);
    Rng rng = Rng::stream(seed, 0);
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = 0; j < r; ++j) out.w(i, j) = static_cast<Scalar>(scale * std::abs(rng.normal()));
    for (Eigen::Index i = 0; i < r; ++i)
        for (Eigen::Index j = 0; j < n; ++j) out.h(i, j) = static_cast<Scalar>(scale * std::abs(rng.normal()));
    const Scalar floor = std::numeric_limits<Scalar>::min();
    double previous = nmf_objective<Matrix>(v, out.w, out.h);
    for (std::size_t it = 0; it < max_iterations; ++it) {
        const Matrix wt = out.w.transpose();
        const Matrix numerator_h = wt * v;
        const Matrix denominator_h = (wt * out.w) * out.h;
        out.h = out.h.cwiseProduct(numerator_h.cwiseQuotient(denominator_h.cwiseMax(floor)));
        const Matrix ht = out.h.transpose();
        const Matrix numerator_w = v * ht;
        const Matrix denominator_w = out.w * (out.h * ht);
        out.w = out.w.cwiseProduct(numerator_w.cwiseQuotient(denominator_w.cwiseMax(floor)));
        const double objective = nmf_objective<Matrix>(v, out.w, out.h);
        out.objective.push_back(objective);
        out.iterations = it + 1;
        if (previous - objective <= tolerance * std::max(previous, std::numeric_limits<double>::min())) break;
        previous = objective;
    }
    return out;
}

}  // namespace xai::detail
