#pragma once
// The conjugate-gradient inverse-Hessian solver: solves (H_SS + μI) x = b by linear
// conjugate gradients (Hestenes & Stiefel 1952; Koh & Liang 2017, §3 "Conjugate gradients"),
// touching H only through Hessian-vector products over the whole training set, so memory
// stays O(|S|) and each iteration costs about two passes of backpropagation over the data.
//
// Defaults and their sources. influence-release's GenericNeuralNet.get_inverse_hvp_cg runs
// scipy.optimize.fmin_ncg on ½xᵀHx − bᵀx starting from x₀ = b, with avextol=1e-8 and
// maxiter=100 Newton iterations, each with up to 20·P inner CG steps. On this quadratic the
// first Newton step is already the CG solve, so this solver runs the CG directly from x₀ = 0
// and stops when the relative residual ‖Hx − b‖/‖b‖ ≤ tolerance = 1e-8 (the reference's
// tolerance, on a scale-free criterion), after at most max_iterations steps (0 = P, the
// number of steps in which CG is exact in exact arithmetic). Damping 0, as the reference's.
//
// CG needs H positive definite: a search direction with pᵀHp ≤ 0, or below 1e-13 of the
// curvature ‖Hb‖/‖b‖ of the first direction (a singular or indefinite
// Hessian, e.g. a non-convex network) is a numerical_error that suggests damping. Stopping at
// max_iterations above tolerance is reported (SolveReport::converged = false), not thrown.
// Right-hand sides are solved one after the other; each product is parallel over the data.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/explain/influence/solver.hpp"
#include "xai/explain/influence/training_loss.hpp"

namespace xai {

/// Inverse-Hessian solver by linear conjugate gradients (Koh & Liang 2017, §3): touches H only
/// through Hessian-vector products, so memory stays O(|S|). Defaults follow influence-release's
/// get_inverse_hvp_cg (tolerance 1e-8, damping 0). Needs H + μI positive definite.
struct ConjugateGradientSolver {
    /// Stop when ‖(H + μI)x − b‖ ≤ tolerance · ‖b‖.
    double tolerance = 1e-8;
    /// At most this many iterations per right-hand side; 0 = the number of parameters.
    std::size_t max_iterations = 0;
    /// μ in (H + μI)⁻¹.
    double damping = 0.0;

    struct State {};  ///< CG precomputes nothing.

    /// Validates the options (damping ≥ 0, tolerance > 0); throws invalid_argument otherwise.
    template <TwiceDifferentiableModel M>
    State prepare(const TrainingLoss<M>&, const Progress& = {}) const {
        const char* where = "xai::ConjugateGradientSolver::prepare()";
        detail::require_damping(damping, where);
        detail::require(std::isfinite(tolerance) && tolerance > 0.0, where, ": tolerance is ", tolerance,
                        ", expected a finite value > 0");
        return {};
    }

    /// Columns (H_SS + μI)⁻¹ rhs_j, solved one after the other from x₀ = 0. Stopping at
    /// max_iterations is reported (SolveReport::converged = false); a direction of
    /// non-positive curvature throws numerical_error.
    template <TwiceDifferentiableModel M>
    InverseHvp solve(const State&, const TrainingLoss<M>& loss, const Eigen::MatrixXd& rhs,
                     const Progress& progress = {}) const {
        InverseHvp out;
        out.values.resize(rhs.rows(), rhs.cols());
        const std::size_t limit = max_iterations ? max_iterations : std::max<std::size_t>(1, loss.num_parameters());
        for (Eigen::Index j = 0; j < rhs.cols(); ++j) {
            SolveReport report{"cg", 0, 0.0, false};
            out.values.col(j) = solve_one(loss, rhs.col(j), limit, report, progress);
            out.reports.push_back(report);
        }
        return out;
    }

private:
    template <TwiceDifferentiableModel M>
    Eigen::VectorXd solve_one(const TrainingLoss<M>& loss, const Eigen::VectorXd& b, std::size_t limit,
                              SolveReport& report, const Progress& progress) const {
        Eigen::VectorXd x = Eigen::VectorXd::Zero(b.size());
        const double b_norm = b.norm();
        if (b_norm == 0.0) {
            report.converged = true;
            return x;
        }
        Eigen::VectorXd r = b, p = b;
        double rr = r.squaredNorm();
        double scale = 0.0;  // ‖Hb‖/‖b‖, a typical eigenvalue, to recognize a vanishing curvature
        while (report.iterations < limit) {
            const Eigen::VectorXd hp = loss.hessian_vector_product(p) + damping * p;
            const double curvature = p.dot(hp);
            if (report.iterations == 0) scale = hp.norm() / p.norm();
            if (!(curvature > 1e-13 * scale * p.squaredNorm()))
                throw numerical_error(detail::message(
                    "xai::ConjugateGradientSolver::solve(): the Hessian (plus damping ", damping,
                    ") is not positive definite along a search direction (pᵀHp = ", curvature,
                    " at iteration ", report.iterations, "); add damping"));
            const double alpha = rr / curvature;
            x += alpha * p;
            r -= alpha * hp;
            ++report.iterations;
            const double rr_next = r.squaredNorm();
            detail::report(progress, report.iterations, limit, "conjugate-gradient iterations");
            if (std::sqrt(rr_next) <= tolerance * b_norm) {
                rr = rr_next;
                break;
            }
            p = r + (rr_next / rr) * p;
            rr = rr_next;
        }
        report.relative_residual = std::sqrt(rr) / b_norm;
        report.converged = report.relative_residual <= tolerance;
        return x;
    }
};

}  // namespace xai
