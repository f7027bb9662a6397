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
// Influence functions need H positive definite. A singular Hessian (reciprocal condition
// number below 1e-12, e.g. more parameters than examples and no L2 term) or an indefinite
// one (a non-convex model away from a minimum) is a numerical_error that suggests damping:
// Koh & Liang §4.2 add μI to form a convex quadratic approximation.
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

    /// The factorization prepare() computes.
    struct State {
        Eigen::LDLT<Eigen::MatrixXd> factorization;  ///< LDLᵀ of H_SS + μI
    };

    /// Forms H_SS + μI (from loss_hessian() or |S| Hessian-vector products) and factorizes it.
    /// Throws numerical_error when it is singular (reciprocal condition number ≤ 1e-12) or not
    /// positive definite, and invalid_argument for a negative or non-finite damping.
    template <TwiceDifferentiableModel M>
    State prepare(const TrainingLoss<M>& loss, const Progress& progress = {}) const {
        const char* where = "xai::ExactSolver::prepare()";
        detail::require_damping(damping, where);
        Eigen::MatrixXd h = loss.hessian(progress);
        h.diagonal().array() += damping;
        State state;
        state.factorization.compute(h);
        const auto& f = state.factorization;
        const double rcond = f.info() == Eigen::Success ? f.rcond() : 0.0;
        if (!f.isPositive() || !(rcond > 1e-12))
            throw numerical_error(detail::message(
                where, ": the Hessian (plus damping ", damping, ") is singular or not positive definite (reciprocal ",
                "condition number ", rcond, "): influence functions need a positive definite Hessian; add damping ",
                "(Koh & Liang §4.2) or L2 regularization"));
        return state;
    }

    /// Columns (H_SS + μI)⁻¹ rhs_j by substitution in the factorization.
    template <TwiceDifferentiableModel M>
    InverseHvp solve(const State& state, const TrainingLoss<M>&, const Eigen::MatrixXd& rhs,
                     const Progress& = {}) const {
        InverseHvp out;
        out.values = state.factorization.solve(rhs);
        out.reports.assign(static_cast<std::size_t>(rhs.cols()), SolveReport{"exact", 0, 0.0, true});
        return out;
    }
};

}  // namespace xai
