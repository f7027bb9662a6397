#pragma once
// The exact inverse-Hessian solver: form the dense Hessian H_SS of the training objective
// (plus optional damping μI), factorize it once (LDLᵀ with pivoting), and solve every
// right-hand side by substitution (Koh & Liang 2017, §3: "explicitly forming H and inverting
// it", O(np² + p³)). Use it up to a few thousand parameters; beyond that, the P×P matrix
// (8P² bytes) and its factorization dominate, and ConjugateGradientSolver is the choice.
//
// The Hessian comes from the model's loss_hessian() when it is an ExactHessianModel, and
// otherwise column by column from |S| Hessian-vector products (one pass over the training
// set each: fine for a last layer of a few hundred parameters).
//
// Influence functions need H positive definite. The factorization is checked through its
// pivots, not Eigen's rcond(): LDLᵀ with pivoting puts the smallest pivots last, and Eigen 3.4's
// solve() silently zeroes the components of exactly zero pivots while rcond() (estimated
// through that same solve) still looks healthy, so a Hessian with an exactly zero row — λ = 0
// and a feature that is 0 in every training example — used to give an s_test whose component
// was quietly 0. Every pivot must be positive and at least 1e-12 of the largest (a
// reciprocal-condition bound for the diagonal of D; for an SPD matrix the pivots of LDLᵀ with
// diagonal pivoting bound its eigenvalues from inside); otherwise a numerical_error names the
// smallest pivot and suggests damping: Koh & Liang §4.2 add μI to form a convex quadratic
// approximation. solve() reports the true relative residual ‖(H + μI)x − b‖/‖b‖ of each
// column (one product with the stored matrix, as cheap as the substitution itself).
// Default damping 0: influence-release's GenericNeuralNet takes damping=0.0 by default.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings in Eigen

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/explain/influence/solver.hpp"
#include "xai/explain/influence/training_loss.hpp"

#include <Eigen/Cholesky>

namespace xai {

/// Inverse-Hessian solver that forms the dense Hessian H_SS + μI once and factorizes it (LDLᵀ);
/// every solve is then a substitution. For up to a few thousand parameters (Koh & Liang 2017,
/// §3). Default damping 0, as influence-release's GenericNeuralNet.
struct ExactSolver {
    /// μ in (H + μI)⁻¹.
    double damping = 0.0;

    /// Smallest accepted pivot of the LDLᵀ factorization relative to the largest.
    static constexpr double pivot_tolerance = 1e-12;

    /// The factorization prepare() computes, and the matrix it factorized.
    struct State {
        Eigen::MatrixXd matrix;                      ///< H_SS + μI (for the residuals solve() reports)
        Eigen::LDLT<Eigen::MatrixXd> factorization;  ///< LDLᵀ of H_SS + μI
    };

    /// Forms H_SS + μI (from loss_hessian() or |S| Hessian-vector products) and factorizes it.
    /// Throws numerical_error when it is singular or not positive definite (a pivot ≤ 0 or below
    /// pivot_tolerance of the largest), and invalid_argument for a negative or non-finite damping.
    template <TwiceDifferentiableModel M>
    State prepare(const TrainingLoss<M>& loss, const Progress& progress = {}) const {
        const char* where = "xai::ExactSolver::prepare()";
        detail::require_damping(damping, where);
        State state;
        state.matrix = loss.hessian(progress);
        state.matrix.diagonal().array() += damping;
        state.factorization.compute(state.matrix);
        require_positive_pivots(state.factorization, damping, where);
        return state;
    }

    /// Throws numerical_error unless every pivot of `f` is positive and at least
    /// pivot_tolerance of the largest (see the header comment for why not rcond()).
    static void require_positive_pivots(const Eigen::LDLT<Eigen::MatrixXd>& f, double damping, const char* where) {
        const Eigen::VectorXd d = f.info() == Eigen::Success ? Eigen::VectorXd(f.vectorD()) : Eigen::VectorXd();
        const double largest = d.size() ? d.cwiseAbs().maxCoeff() : 0.0;
        const double smallest = d.size() ? d.minCoeff() : 0.0;
        if (!(largest > 0.0 && smallest > pivot_tolerance * largest))
            throw numerical_error(detail::message(
                where, ": the Hessian (plus damping ", damping, ") is singular or not positive definite (smallest pivot of ",
                "its LDLT factorization ", smallest, ", largest ", largest, ", expected every pivot above ", pivot_tolerance,
                " of the largest): influence functions need a positive definite Hessian; add damping (Koh & Liang §4.2) or ",
                "L2 regularization (l2_regularization > 0)"));
    }

    /// Columns (H_SS + μI)⁻¹ rhs_j by substitution in the factorization.
    template <TwiceDifferentiableModel M>
    InverseHvp solve(const State& state, const TrainingLoss<M>&, const Eigen::MatrixXd& rhs,
                     const Progress& = {}) const {
        InverseHvp out;
        out.values = state.factorization.solve(rhs);
        const Eigen::MatrixXd residual = state.matrix * out.values - rhs;
        for (Eigen::Index j = 0; j < rhs.cols(); ++j) {
            const double b = rhs.col(j).norm();
            SolveReport report{"exact", 0, b > 0.0 ? residual.col(j).norm() / b : 0.0, true};
            out.reports.push_back(report);
        }
        return out;
    }
};

}  // namespace xai
