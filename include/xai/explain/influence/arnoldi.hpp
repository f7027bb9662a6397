#pragma once
// The Arnoldi inverse-Hessian solver (Schioppa, Zablotskaia, Vilar & Sokolov, "Scaling Up
// Influence Functions", AAAI 2022): H is replaced by its restriction to the subspace of its top
// eigenvectors, found by the Arnoldi iteration on Hessian-vector products,
//   H⁻¹ ≈ V Λ⁻¹ Vᵀ,   V = the k Ritz vectors of largest Ritz value, Λ their values,
// so once prepare() has run, every s_test is k dot products and k scalings (no pass over the
// data), and self-influence is −‖Λ^{-1/2} Vᵀ∇L_i‖². For models whose Hessian is too big to form
// or factor: the cost is `iterations` Hessian-vector products over the training set, once.
//
// prepare(): Arnoldi from a random unit vector (Rng::stream(seed, 0)), q_{j+1} ∝ (H + μI) q_j
// orthogonalized against every previous q by two passes of Gram–Schmidt (the full
// reorthogonalization the paper's Algorithm 1 does), for `iterations` steps or until the
// Krylov space is invariant (h_{j+1,j} ≤ 1e-12 · ‖h_{·,0}‖). H is symmetric, so the Hessenberg
// matrix is tridiagonal up to rounding; its symmetric part is diagonalized (cyclic Jacobi,
// detail below) and the `rank` largest Ritz pairs kept. A kept Ritz value ≤ 0 (an indefinite
// Hessian) is a numerical_error that suggests damping (Koh & Liang §4.2).
//
// What the reports say: `converged` is true when every kept Ritz pair has converged,
// ‖(H + μI)v − θv‖ = |h_{m+1,m} y_m| ≤ tolerance · θ (the standard Arnoldi residual bound);
// `relative_residual` is ‖b − VVᵀb‖/‖b‖, the part of the right-hand side outside the kept
// subspace (what the approximation ignores, exact when the Ritz pairs are exact eigenpairs).
// It is an approximation by design: influence scores that depend on the discarded small
// eigenvalues are lost (docs/methods/influence.md has the accuracy measured against the exact
// solve). Defaults: Captum's ArnoldiInfluenceFunction, arnoldi_dim = 200 iterations and
// projection_dim = 50 kept eigenpairs (the paper's experiments keep 10–200 of 100–200 iterations).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/explain/influence/solver.hpp"
#include "xai/explain/influence/training_loss.hpp"

namespace xai {

namespace detail {

/// Eigenvalues and eigenvectors of a small symmetric matrix by the cyclic Jacobi method (Golub &
/// Van Loan, Algorithm 8.5.3): rotations until the off-diagonal mass is below 1e-15 of the
/// matrix's norm. For the m×m Arnoldi matrix (m ≤ a few hundred); a template so that including
/// this header instantiates nothing.
template <class Matrix>
void symmetric_eigen(Matrix a, Eigen::VectorXd& values, Matrix& vectors) {
    const Eigen::Index m = a.rows();
    vectors = Matrix::Identity(m, m);
    const double scale = std::max(a.norm(), 1e-300);
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0.0;
        for (Eigen::Index p = 0; p < m; ++p)
            for (Eigen::Index q = p + 1; q < m; ++q) off += a(p, q) * a(p, q);
        if (std::sqrt(off) <= 1e-15 * scale) break;
        for (Eigen::Index p = 0; p < m; ++p)
            for (Eigen::Index q = p + 1; q < m; ++q) {
                if (a(p, q) == 0.0) continue;
                const double theta = (a(q, q) - a(p, p)) / (2.0 * a(p, q));
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
                for (Eigen::Index k = 0; k < m; ++k) {  // A ← JᵀAJ, columns then rows
                    const double akp = a(k, p), akq = a(k, q);
                    a(k, p) = c * akp - s * akq;
                    a(k, q) = s * akp + c * akq;
                }
                for (Eigen::Index k = 0; k < m; ++k) {
                    const double apk = a(p, k), aqk = a(q, k);
                    a(p, k) = c * apk - s * aqk;
                    a(q, k) = s * apk + c * aqk;
                }
                for (Eigen::Index k = 0; k < m; ++k) {
                    const double vkp = vectors(k, p), vkq = vectors(k, q);
                    vectors(k, p) = c * vkp - s * vkq;
                    vectors(k, q) = s * vkp + c * vkq;
                }
            }
    }
    values = a.diagonal();
}

}  // namespace detail

/// Inverse-Hessian solver by the top eigenpairs of H from the Arnoldi iteration (Schioppa et al.,
/// AAAI 2022): H⁻¹ ≈ V Λ⁻¹ Vᵀ. `iterations` Hessian-vector products once, then no pass over the
/// data per solve. Defaults: Captum's ArnoldiInfluenceFunction (200 iterations, 50 kept).
struct ArnoldiSolver {
    /// Arnoldi steps (Hessian-vector products over the training set); 0 = min(200, P).
    std::size_t iterations = 200;
    /// Ritz pairs kept (the largest Ritz values); at most `iterations`.
    std::size_t rank = 50;
    /// μ in (H + μI)⁻¹.
    double damping = 0.0;
    /// A kept Ritz pair has converged when ‖(H + μI)v − θv‖ ≤ tolerance · θ.
    double tolerance = 1e-2;
    /// Seed of the random start vector (Rng::stream(seed, 0)).
    std::uint64_t seed = 0;

    /// The kept eigenpairs.
    struct State {
        Eigen::MatrixXd vectors;           ///< P × k Ritz vectors, orthonormal
        Eigen::VectorXd values;            ///< k Ritz values, largest first
        Eigen::VectorXd ritz_residuals;    ///< ‖(H + μI)v − θv‖ of each kept pair
        std::size_t iterations = 0;        ///< Arnoldi steps taken (fewer when the space became invariant)
        bool converged = false;            ///< every kept pair within tolerance
    };

    /// Runs the Arnoldi iteration and keeps the `rank` largest Ritz pairs. Throws
    /// invalid_argument for bad options and numerical_error when a kept Ritz value is ≤ 0.
    template <TwiceDifferentiableModel M>
    State prepare(const TrainingLoss<M>& loss, const Progress& progress = {}) const {
        const char* where = "xai::ArnoldiSolver::prepare()";
        detail::require_damping(damping, where);
        detail::require(rank > 0, where, ": rank is 0, expected at least 1");
        detail::require(std::isfinite(tolerance) && tolerance > 0.0, where, ": tolerance is ", tolerance,
                        ", expected a finite value > 0");
        const auto p = static_cast<Eigen::Index>(loss.num_parameters());
        const auto m = static_cast<Eigen::Index>(std::min<std::size_t>(iterations ? iterations : 200, loss.num_parameters()));
        detail::require(static_cast<std::size_t>(m) >= rank, where, ": rank (", rank, ") exceeds the Arnoldi iterations (",
                        m, ", at most the number of parameters ", p, ")");
        Eigen::MatrixXd q(p, m + 1);
        Eigen::MatrixXd h = Eigen::MatrixXd::Zero(m + 1, m);
        Rng rng = Rng::stream(seed, 0);
        for (Eigen::Index i = 0; i < p; ++i) q(i, 0) = rng.normal();
        q.col(0).normalize();
        Eigen::Index steps = 0;
        double first = 0.0;
        for (Eigen::Index j = 0; j < m; ++j) {
            Eigen::VectorXd w = loss.hessian_vector_product(q.col(j)) + damping * q.col(j);
            for (int pass = 0; pass < 2; ++pass)  // Gram–Schmidt twice: full reorthogonalization
                for (Eigen::Index i = 0; i <= j; ++i) {
                    const double c = q.col(i).dot(w);
                    h(i, j) += c;
                    w -= c * q.col(i);
                }
            h(j + 1, j) = w.norm();
            if (j == 0) first = std::max(h.col(0).norm(), 1e-300);
            steps = j + 1;
            detail::report(progress, static_cast<std::size_t>(j + 1), static_cast<std::size_t>(m), "Arnoldi iterations");
            if (h(j + 1, j) <= 1e-12 * first) break;  // invariant subspace: the Ritz pairs are exact
            q.col(j + 1) = w / h(j + 1, j);
        }
        detail::require(static_cast<std::size_t>(steps) >= rank, where, ": the Krylov space became invariant after ", steps,
                        " steps, fewer than rank (", rank, "); lower rank");
        const Eigen::MatrixXd t = h.topLeftCorner(steps, steps);
        Eigen::VectorXd values;
        Eigen::MatrixXd y;
        detail::symmetric_eigen(Eigen::MatrixXd(0.5 * (t + t.transpose())), values, y);
        std::vector<Eigen::Index> order(static_cast<std::size_t>(steps));
        std::iota(order.begin(), order.end(), Eigen::Index{0});
        std::sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return values(a) > values(b); });
        State state;
        state.iterations = static_cast<std::size_t>(steps);
        const auto k = static_cast<Eigen::Index>(rank);
        state.vectors.resize(p, k);
        state.values.resize(k);
        state.ritz_residuals.resize(k);
        state.converged = true;
        for (Eigen::Index c = 0; c < k; ++c) {
            const Eigen::Index e = order[static_cast<std::size_t>(c)];
            state.values(c) = values(e);
            state.vectors.col(c) = q.leftCols(steps) * y.col(e);
            state.ritz_residuals(c) = std::abs(h(steps, steps - 1) * y(steps - 1, e));
            if (!(values(e) > 0.0))
                throw numerical_error(detail::message(
                    where, ": the Hessian (plus damping ", damping, ") has a Ritz value ", values(e), " <= 0 among the ", rank,
                    " largest: it is not positive definite on that subspace; add damping (Koh & Liang §4.2)"));
            state.converged = state.converged && state.ritz_residuals(c) <= tolerance * values(e);
        }
        return state;
    }

    /// Columns V Λ⁻¹ Vᵀ rhs_j; the reports give ‖b − VVᵀb‖/‖b‖ and whether the Ritz pairs converged.
    template <TwiceDifferentiableModel M>
    InverseHvp solve(const State& state, const TrainingLoss<M>&, const Eigen::MatrixXd& rhs, const Progress& = {}) const {
        InverseHvp out;
        const Eigen::MatrixXd projected = state.vectors.transpose() * rhs;  // k × m
        out.values = state.vectors * (state.values.cwiseInverse().asDiagonal() * projected);
        for (Eigen::Index j = 0; j < rhs.cols(); ++j) {
            const double b = rhs.col(j).norm();
            const double outside = (rhs.col(j) - state.vectors * projected.col(j)).norm();
            out.reports.push_back(SolveReport{"arnoldi", state.iterations, b > 0.0 ? outside / b : 0.0, state.converged, 0.0});
        }
        return out;
    }
};

}  // namespace xai
