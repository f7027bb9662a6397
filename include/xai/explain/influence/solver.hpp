#pragma once
// What every inverse-Hessian solver of the influence explainer returns, and the shape a
// solver type has (ExactSolver, ConjugateGradientSolver, LissaSolver, or a user's own):
//
//   struct MySolver {
//       struct State { ... };                                   // what prepare() precomputes
//       template <TwiceDifferentiableModel M>
//       State prepare(const TrainingLoss<M>&, const Progress&) const;
//       template <TwiceDifferentiableModel M>                   // columns of H_SS⁻¹ · rhs
//       InverseHvp solve(const State&, const TrainingLoss<M>&, const Eigen::MatrixXd& rhs,
//                        const Progress&) const;
//   };
//
// solve() must be const and safe to call from several threads at once.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/progress.hpp"
#include "xai/explain/influence/training_loss.hpp"

namespace xai {

/// How one right-hand side was solved.
struct SolveReport {
    std::string solver;              ///< "exact", "cg", "lissa", "arnoldi"
    std::size_t iterations = 0;      ///< CG iterations, or LiSSA steps × repeats; 0 for exact
    /// ‖(H + damping·I) x − b‖ / ‖b‖ at the end: exact and LiSSA compute it from x (LiSSA with
    /// one extra Hessian-vector product over the whole training set), CG keeps it by recurrence.
    double relative_residual = 0.0;
    /// Whether the solver met its criterion: exact always (prepare() refuses a singular H), CG
    /// and LiSSA when relative_residual ≤ their `tolerance`. Influence refuses or warns when it
    /// is false (InfluenceOptions::stationarity).
    bool converged = true;
    /// LiSSA: ‖x_T − x_{T−1}‖ / ‖x_T‖, the relative change of the estimate in the last step
    /// (the largest over the repeats); with minibatches it has a noise floor and never reaches
    /// 0, so it is reported beside the residual, not used as the criterion. 0 for the others.
    double step_change = 0.0;
};

/// Columns x_j ≈ (H_SS + damping·I)⁻¹ b_j, one report per column.
struct InverseHvp {
    Eigen::MatrixXd values;             ///< |S|×m, one solution column per right-hand side
    std::vector<SolveReport> reports;   ///< m reports, one per column of `values`
};

/// A policy that computes columns of (H_SS + damping·I)⁻¹ · rhs for Influence<M, S>: a `State`
/// that prepare() precomputes once (ExactSolver's factorization), and a const, thread-safe
/// solve() (see the header comment for the skeleton).
template <class S, class M>
concept InverseHessianSolver = TwiceDifferentiableModel<M> &&
    requires(const S& solver, const TrainingLoss<M>& loss, const Eigen::MatrixXd& rhs, const Progress& progress) {
        typename S::State;
        { solver.prepare(loss, progress) } -> std::same_as<typename S::State>;
        { solver.solve(std::declval<const typename S::State&>(), loss, rhs, progress) } -> std::same_as<InverseHvp>;
    };

namespace detail {

/// The damping μ every solver adds, (H + μI)⁻¹: invalid_argument naming `where` unless finite and ≥ 0.
inline void require_damping(double damping, const char* where) {
    require(std::isfinite(damping) && damping >= 0.0, where, ": damping is ", damping, ", expected a finite value >= 0");
}

}  // namespace detail
}  // namespace xai
