#pragma once
// Leave-one-out beyond first order: the one-Newton-step estimate of the parameters retrained
// without a training example, and of a group of them (Koh, Ang, Teo & Liang, "On the Accuracy
// of Influence Functions for Measuring Group Effects", NeurIPS 2019; Basu, You & Feizi,
// "On Second-Order Group Influence Functions for Black-Box Predictions", ICML 2020).
//
// First-order influence (influence.hpp) linearizes the optimum in the weight of the removed
// example around θ̂ with the FULL training set's Hessian H. Retraining without example i instead
// minimizes F₋ᵢ, whose Hessian lacks i's own curvature K_i = ∇²L(z_i, θ̂). One Newton step on F₋ᵢ
// from θ̂ gives, for the two leave-one-out conventions of influence.hpp (Retraining),
//   same_lambda:  Δθ_i = (nH − λI − K_i)⁻¹ (∇L_i + λθ̂)       (F₋ᵢ = (1/(n−1)) Σ_{j≠i} L_j + (λ/2)‖θ‖²)
//   fixed_total:  Δθ_i = (nH − K_i)⁻¹ ∇L_i                     (F₋ᵢ = (1/n) Σ_{j≠i} L_j + (λ/2)‖θ‖²)
// (∇F₋ᵢ(θ̂) follows from Σ_j ∇L_j(θ̂) = −nλθ̂ at the optimum). With K_i = U_i U_iᵀ of rank r (the
// model's per_example_loss_hessian_factors: r = 1 for binary logistic regression, the number
// of free classes for multinomial), A = nH − cλI (c = 1 same_lambda, 0 fixed_total) is factorized
// ONCE and every example is a rank-r update by the Woodbury identity:
//   (A − U_iU_iᵀ)⁻¹ b = A⁻¹b + W_i (I − U_iᵀW_i)⁻¹ W_iᵀ b,     W_i = A⁻¹U_i,
// r solves per example. The r×r matrix U_iᵀA⁻¹U_i holds the leverage: for binary logistic
// regression it is the scalar h_ii = p_i(1 − p_i) x̃_iᵀ A⁻¹ x̃_i, and the step is the first-order
// one divided by (1 − h_ii) — the classical leave-one-out correction of regression diagnostics
// (Cook & Weisberg 1982), which first order misses when h_ii is not small. leverages() returns
// the largest eigenvalue of U_iᵀA⁻¹U_i.
// The predicted change of the test loss is L(z_test, θ̂ + Δθ_i) − L(z_test, θ̂), evaluated with a
// copy of the model given those parameters (evaluate_test_loss, the default, for models with
// set_parameters), or its linearization ∇L(z_test, θ̂)ᵀΔθ_i, which equals the first-order
// prediction of influence.hpp when K_i is dropped. Removing one example moves θ little, and the
// two agree closely; removing a group moves it further, and the test loss's own curvature then
// matters as much as the Hessian's change (docs/methods/influence.md has the measurements).
//
// A group G of m examples (Koh et al. 2019 study the first-order group influence, the sum of
// the individual ones; Basu et al. 2020 add the second-order term of the series in the group's
// weight, which the Newton step contains in closed form): one Newton step on F₋G,
//   same_lambda:  Δθ_G = (nH − mλI − Σ_G K_i)⁻¹ (Σ_G ∇L_i + mλθ̂),   fixed_total: (nH − Σ_G K_i)⁻¹ Σ_G ∇L_i,
// one dense factorization per group. group_loss_change() returns it beside the first-order sum.
//
// Needs a model with an exact Hessian and per-example Hessian factors (HessianFactorModel:
// LogisticRegression); the Hessian is formed once (Influence<M, ExactSolver>, whose checks —
// stationarity, separability, fingerprint — apply), so the same sizes as ExactSolver: up to a
// few thousand parameters. Cost per explain(): the first-order pass plus n·r solves with the
// P×P factorization (O(n r P²)). Errors start with "xai::NewtonStepInfluence::<function>(): ".

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/influence/exact.hpp"
#include "xai/explain/influence/influence.hpp"
#include "xai/explain/influence/perturbation.hpp"
#include "xai/explain/influence/ranking.hpp"

#include <Eigen/Cholesky>

namespace xai {

/// A model with an exact Hessian whose per-example loss Hessians come as factors:
/// per_example_loss_hessian_factors(batch, labels) is P×(N·r), ∇²L(z_i) = U_i U_iᵀ with U_i the
/// r columns [i·r, (i+1)·r).
template <class M>
concept HessianFactorModel = ExactHessianModel<M> && requires(const M& model, const Batch& batch, const Labels& labels) {
    { model.per_example_loss_hessian_factors(batch, labels) } -> std::convertible_to<Eigen::MatrixXd>;
};

/// Options of NewtonStepInfluence.
struct NewtonStepOptions {
    /// Batches, threads, parameter subset, stationarity policy, top_k (as for Influence).
    InfluenceOptions influence = {};
    /// Which leave-one-out is predicted: the same λ over n − 1 examples (what
    /// LogisticRegression::fit() does) or the same total regularization.
    Retraining retraining = Retraining::same_lambda;
    /// μ added to H (as ExactSolver's damping).
    double damping = 0.0;
    /// Evaluate the test loss at θ̂ + Δθ (a copy of the model given those parameters, one forward
    /// pass of the test images per removal) instead of its linearization ∇L(z_test)ᵀΔθ. Needs a
    /// model that can be copied and given new parameters (set_parameters); ignored otherwise.
    bool evaluate_test_loss = true;
};

/// The predicted change of each test image's loss when each training example is removed: by one
/// Newton step (`loss_change`) and to first order (`first_order`, as predicted_loss_change_on_removal).
struct NewtonStepExplanation : Explanation {
    /// n_train × N: predicted change of the test loss (column j) when training example i (row)
    /// is removed and the model retrained, by one Newton step from θ̂.
    Eigen::MatrixXd loss_change;
    /// n_train × N: the first-order prediction of the same (influence.hpp), for comparison.
    Eigen::MatrixXd first_order;
    /// Per training example, the largest eigenvalue of U_iᵀ A⁻¹ U_i (h_ii for binary logistic
    /// regression): the first-order prediction is off by about the factor 1/(1 − h).
    Eigen::VectorXd leverages;
    /// Per test image, the top_k training examples whose removal raises its loss most (helped).
    std::vector<std::vector<std::size_t>> helpful;
    /// Per test image, the top_k training examples whose removal lowers its loss most (hurt).
    std::vector<std::vector<std::size_t>> harmful;
    /// Per test image, the target's loss L(z_test, θ̂) in double precision.
    std::vector<double> test_losses;
};

/// The predicted change of the test losses when groups of training examples are removed.
struct GroupRemoval {
    Eigen::MatrixXd newton_step;  ///< groups × N: one Newton step on F without the group
    Eigen::MatrixXd first_order;  ///< groups × N: the sum of the members' first-order predictions
};

/// Leave-one-out and leave-group-out by one Newton step from θ̂ (see the header comment):
/// the leverage-corrected prediction of what retraining without a training example does to each
/// test loss, for models with exact, factorized per-example Hessians.
template <HessianFactorModel M>
class NewtonStepInfluence {
public:
    /// Keeps references to `model`, `train_images` and `train_labels`: they must outlive this
    /// object. Forms and factorizes H (the checks of Influence apply) and A = n(H + μI) − cλI.
    NewtonStepInfluence(const M& model, const Batch& train_images, const Labels& train_labels, NewtonStepOptions options = {},
                        const Progress& progress = {})
        : options_(std::move(options)),
          first_(model, train_images, train_labels, options_.influence, ExactSolver{.damping = options_.damping}, progress) {
        const TrainingLoss<M>& loss = first_.training_loss();
        const double n = static_cast<double>(loss.num_examples());
        c_lambda_ = options_.retraining == Retraining::same_lambda ? loss.l2_regularization() : 0.0;
        Eigen::MatrixXd a = n * first_.solver_state().matrix;
        a.diagonal().array() -= c_lambda_;
        a_.compute(a);
        ExactSolver::require_positive_pivots(a_, options_.damping, where_constructor);
    }

    /// The first-order explainer this one is built on (Influence with the exact solver).
    const Influence<M, ExactSolver>& first_order() const { return first_; }
    /// The options the explainer was built with.
    const NewtonStepOptions& options() const { return options_; }

    /// For every training example (rows) and test image (columns): the predicted change of the
    /// test loss on removal by one Newton step, the first-order prediction, the leverages, and
    /// the core of every explanation (maps and raw N×0×0, scores = log p(target)).
    template <std::same_as<Batch> B>
    NewtonStepExplanation explain(const B& test, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = where_explain;
        InfluenceExplanation e = first_order_explanation(test, targets, progress, where);
        NewtonStepExplanation out;
        static_cast<Explanation&>(out) = static_cast<const Explanation&>(e);
        out.test_losses = std::move(e.test_losses);
        out.first_order = predicted_loss_change_on_removal(e, options_.retraining);
        const TrainingLoss<M>& loss = first_.training_loss();
        const Eigen::MatrixXd s_tilde = a_.solve(loss.gradients(test, out.targets));  // A⁻¹ g_test, P×N
        const Eigen::VectorXd base = Eigen::Map<const Eigen::VectorXd>(out.test_losses.data(), static_cast<Eigen::Index>(out.test_losses.size()));
        const std::size_t n = loss.num_examples();
        out.loss_change = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), s_tilde.cols());
        out.leverages = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n));
        loss.stream(
            [&](std::size_t b) { return batch_steps(b, test, out.targets, base, s_tilde); },
            [&](std::size_t b, std::pair<Eigen::MatrixXd, Eigen::VectorXd> part) {
                const auto begin = static_cast<Eigen::Index>(loss.batch_begin(b));
                out.loss_change.middleRows(begin, part.first.rows()) = part.first;
                out.leverages.segment(begin, part.second.size()) = part.second;
            },
            progress, "training examples (Newton steps)");
        loss.share_rows(out.loss_change);
        loss.share_rows(out.leverages);
        const std::size_t k = first_.options().top_k;
        for (Eigen::Index j = 0; j < out.loss_change.cols(); ++j) {
            const Eigen::VectorXd column = out.loss_change.col(j);
            out.helpful.push_back(most_harmful(column, k));  // removal raises the loss most: helped
            out.harmful.push_back(most_helpful(column, k));
        }
        return out;
    }

    /// explain() of a batch of one image (C×H×W).
    template <std::same_as<Image> I>
    NewtonStepExplanation explain(const I& test, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(test, where_explain), Targets{target}, progress);
    }

    /// The Newton-step parameter change Δθ_i (P_S × k) of removing each training example in
    /// `indices`, in the parameter subset: what explain() multiplies by the test gradients.
    Eigen::MatrixXd parameter_changes(const std::vector<std::size_t>& indices) const {
        const char* where = where_parameter_changes;
        const TrainingLoss<M>& loss = first_.training_loss();
        require_indices(indices, where);
        first_.require_unchanged(where);
        const Eigen::MatrixXd g = loss.gradients(loss.gather(indices), loss.gather_labels(indices));
        const Eigen::MatrixXd u = factors(loss.gather(indices), loss.gather_labels(indices), indices.size(), where);
        const Eigen::Index r = u.cols() / static_cast<Eigen::Index>(indices.size());
        Eigen::MatrixXd out(g.rows(), g.cols());
        for (Eigen::Index i = 0; i < g.cols(); ++i) {
            const Eigen::MatrixXd ui = u.middleCols(i * r, r);
            const Eigen::MatrixXd w = a_.solve(ui);
            const Eigen::MatrixXd c = Eigen::MatrixXd::Identity(r, r) - ui.transpose() * w;
            const Eigen::VectorXd b = g.col(i) + c_lambda_ * loss.theta();
            out.col(i) = a_.solve(b) + w * c.ldlt().solve(w.transpose() * b);
        }
        return out;
    }

    /// The predicted change of each test loss (columns) when each group of training examples
    /// (rows) is removed at once: one Newton step on the objective without the group (one P×P
    /// factorization per group), and the first-order sum of the members' predictions.
    GroupRemoval group_loss_change(const Batch& test, const Targets& targets,
                                   const std::vector<std::vector<std::size_t>>& groups, const Progress& progress = {}) const {
        const char* where = where_group_loss_change;
        detail::require<shape_error>(!groups.empty(), where, ": groups is empty, expected at least one group");
        InfluenceExplanation e = first_order_explanation(test, targets, {}, where);
        const Eigen::MatrixXd first = predicted_loss_change_on_removal(e, options_.retraining);
        const TrainingLoss<M>& loss = first_.training_loss();
        const Eigen::MatrixXd g_test = loss.gradients(test, e.targets);
        const Eigen::VectorXd base = Eigen::Map<const Eigen::VectorXd>(e.test_losses.data(), static_cast<Eigen::Index>(e.test_losses.size()));
        const double n = static_cast<double>(loss.num_examples());
        GroupRemoval out;
        out.newton_step.resize(static_cast<Eigen::Index>(groups.size()), g_test.cols());
        out.first_order = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(groups.size()), g_test.cols());
        for (std::size_t k = 0; k < groups.size(); ++k) {
            const std::vector<std::size_t>& group = groups[k];
            require_indices(group, where);
            const Batch images = loss.gather(group);
            const Labels labels = loss.gather_labels(group);
            const auto m = static_cast<double>(group.size());
            const Eigen::MatrixXd u = factors(images, labels, group.size(), where);
            Eigen::MatrixXd a = n * first_.solver_state().matrix - u * u.transpose();
            a.diagonal().array() -= m * c_lambda_;
            const Eigen::LDLT<Eigen::MatrixXd> f(a);
            ExactSolver::require_positive_pivots(f, options_.damping, where);
            const Eigen::VectorXd b = loss.gradients(images, labels).rowwise().sum() + m * c_lambda_ * loss.theta();
            const Eigen::VectorXd step = f.solve(b);
            const Eigen::VectorXd change = evaluates_test_loss() ? Eigen::VectorXd(evaluated_losses(step, test, e.targets) - base)
                                                                 : Eigen::VectorXd(g_test.transpose() * step);
            out.newton_step.row(static_cast<Eigen::Index>(k)) = change.transpose();
            for (std::size_t i : group) out.first_order.row(static_cast<Eigen::Index>(k)) += first.row(static_cast<Eigen::Index>(i));
            detail::report(progress, k + 1, groups.size(), "groups");
        }
        return out;
    }

private:
    static constexpr const char* where_constructor = "xai::NewtonStepInfluence::NewtonStepInfluence()";
    static constexpr const char* where_explain = "xai::NewtonStepInfluence::explain()";
    static constexpr const char* where_parameter_changes = "xai::NewtonStepInfluence::parameter_changes()";
    static constexpr const char* where_group_loss_change = "xai::NewtonStepInfluence::group_loss_change()";

    /// The first-order explanation, its errors renamed to this class.
    InfluenceExplanation first_order_explanation(const Batch& test, const Targets& targets, const Progress& progress,
                                                 const char* where) const {
        try {
            return first_.explain(test, targets, progress);
        } catch (const model_error& e) {
            throw model_error(rename(e.what(), where));
        } catch (const shape_error& e) {
            throw shape_error(rename(e.what(), where));
        } catch (const invalid_argument& e) {
            throw invalid_argument(rename(e.what(), where));
        }
    }

    static std::string rename(const std::string& message, const char* where) {
        const std::string prefix = "xai::Influence::explain()";
        return message.rfind(prefix, 0) == 0 ? where + message.substr(prefix.size()) : message;
    }

    void require_indices(const std::vector<std::size_t>& indices, const char* where) const {
        const std::size_t n = first_.training_loss().num_examples();
        detail::require<shape_error>(!indices.empty(), where, ": the list of training indices is empty, expected at least one");
        for (std::size_t i : indices)
            detail::require(i < n, where, ": training index ", i, " is out of range, expected below ", n);
        detail::require(indices.size() < n, where, ": ", indices.size(), " training examples removed of ", n,
                        ", expected fewer than all of them");
    }

    /// The Hessian factors of `count` examples, restricted to the parameter subset: P_S × (count·r).
    Eigen::MatrixXd factors(const Batch& images, const Labels& labels, std::size_t count, const char* where) const {
        const TrainingLoss<M>& loss = first_.training_loss();
        const Eigen::MatrixXd u = loss.restrict(loss.model().per_example_loss_hessian_factors(images, labels));
        if (u.cols() == 0 || u.cols() % static_cast<Eigen::Index>(count) != 0 || !u.allFinite())
            throw model_error(detail::message(where, ": the model's per_example_loss_hessian_factors() returned ", u.rows(), "x",
                                              u.cols(), " values, expected finite P×(N·r) for N = ", count));
        return u;
    }

    /// For the examples of batch b: the Newton-step loss changes (rows × N) and the leverages.
    std::pair<Eigen::MatrixXd, Eigen::VectorXd> batch_steps(std::size_t b, const Batch& test, const Labels& targets,
                                                            const Eigen::VectorXd& base, const Eigen::MatrixXd& s_tilde) const {
        const TrainingLoss<M>& loss = first_.training_loss();
        const std::size_t begin = loss.batch_begin(b), end = loss.batch_end(b), count = end - begin;
        const Batch images = loss.images(begin, end);
        const Labels labels = loss.labels(begin, end);
        Eigen::MatrixXd bs = loss.gradients(images, labels);  // b_i = ∇L_i + cλθ̂, one column each
        bs.colwise() += c_lambda_ * loss.theta();
        const Eigen::MatrixXd u = factors(images, labels, count, where_explain);
        const Eigen::Index r = u.cols() / static_cast<Eigen::Index>(count);
        const Eigen::MatrixXd w = a_.solve(u);  // A⁻¹U for every example at once
        const bool evaluate = evaluates_test_loss();
        const Eigen::MatrixXd a_inv_b = evaluate ? Eigen::MatrixXd(a_.solve(bs)) : Eigen::MatrixXd();
        std::pair<Eigen::MatrixXd, Eigen::VectorXd> out{Eigen::MatrixXd(static_cast<Eigen::Index>(count), s_tilde.cols()),
                                                         Eigen::VectorXd(static_cast<Eigen::Index>(count))};
        for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(count); ++i) {
            const Eigen::MatrixXd ui = u.middleCols(i * r, r), wi = w.middleCols(i * r, r);
            const Eigen::MatrixXd leverage = ui.transpose() * wi;  // U_iᵀA⁻¹U_i, symmetric
            const Eigen::MatrixXd c = Eigen::MatrixXd::Identity(r, r) - leverage;
            // Woodbury: Δθ_i = A⁻¹b_i + W_i (I − U_iᵀA⁻¹U_i)⁻¹ W_iᵀ b_i
            const Eigen::VectorXd correction = c.ldlt().solve(wi.transpose() * bs.col(i));
            if (evaluate) {
                out.first.row(i) = (evaluated_losses(a_inv_b.col(i) + wi * correction, test, targets) - base).transpose();
            } else {  // g_testᵀΔθ_i = (A⁻¹g_test)ᵀ b_i + (A⁻¹g_test)ᵀ W_i (…)
                out.first.row(i) = (s_tilde.transpose() * (bs.col(i) + ui * correction)).transpose();
            }
            out.second(i) = largest_eigenvalue(leverage);
        }
        return out;
    }

    /// True when explain() evaluates the test loss at θ̂ + Δθ (option and model permitting).
    bool evaluates_test_loss() const {
        if constexpr (ReparametrizableModel<M>) return options_.evaluate_test_loss;
        return false;
    }

    /// The test losses of the model with parameters θ̂ + Δθ (Δθ in the subset).
    Eigen::VectorXd evaluated_losses(const Eigen::VectorXd& step, const Batch& test, const Labels& targets) const {
        if constexpr (ReparametrizableModel<M>) {
            const TrainingLoss<M>& loss = first_.training_loss();
            M moved = loss.model();
            moved.set_parameters(loss.model().parameters() + loss.embed(step));
            return moved.per_example_losses(test, targets);
        } else {
            return {};
        }
    }

    /// The largest eigenvalue of a small symmetric positive semidefinite matrix by power
    /// iteration (r ≤ the number of classes; avoids Eigen's eigenvalue module in this header).
    static double largest_eigenvalue(const Eigen::MatrixXd& m) {
        if (m.rows() == 1) return m(0, 0);
        Eigen::VectorXd v = Eigen::VectorXd::Ones(m.rows()) / std::sqrt(static_cast<double>(m.rows()));
        double value = 0.0;
        for (int k = 0; k < 200; ++k) {
            const Eigen::VectorXd next = m * v;
            const double norm = next.norm();
            if (norm == 0.0) return 0.0;
            value = v.dot(next);
            v = next / norm;
        }
        return value;
    }

    NewtonStepOptions options_;
    Influence<M, ExactSolver> first_;
    double c_lambda_ = 0.0;                 // c λ: λ for same_lambda, 0 for fixed_total
    Eigen::LDLT<Eigen::MatrixXd> a_;        // A = n(H + μI) − cλI
};

}  // namespace xai
