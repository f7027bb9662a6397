#pragma once
// Influence functions (Koh & Liang, "Understanding Black-box Predictions via Influence
// Functions", ICML 2017): which training examples most helped or hurt a prediction.
//
// For a model at the minimizer θ̂ of F(θ) = (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖², upweighting a
// training example z by ε changes the loss on z_test at the rate (eq. 2)
//   I_up,loss(z, z_test) = −∇θL(z_test, θ̂)ᵀ H⁻¹ ∇θL(z, θ̂) = −s_testᵀ ∇θL(z, θ̂),
//   H = ∇²F(θ̂) (the L2 term included), s_test = H⁻¹ ∇θL(z_test, θ̂),
// and removing z (ε = −1/n) changes it by about −I_up,loss(z, z_test)/n
// (predicted_loss_change_on_removal). Negative I_up,loss: z helped (removing it raises the
// test loss); positive: z hurt. Self-influence I_up,loss(z_i, z_i) = −∇Lᵢᵀ H⁻¹ ∇Lᵢ ≤ 0
// (§5.4) is large in magnitude for examples the model fits only by bending to them — often
// mislabeled ones. I_pert,loss (eq. 5) is in perturbation.hpp; the orders (helpful, harmful, label
// review) are in ranking.hpp.
//
// The per-example gradients ∇θL exclude the L2 term, as in the paper; influence-release adds
// ∇(λ/2‖θ‖²) = λθ to the training gradient, which shifts every I_up,loss by the same
// constant −λ s_testᵀθ and changes no ranking or correlation.
//
// Usage (the one calling shape of every explainer, core/explainer.hpp):
//   xai::Influence<LogisticRegression> influence(model, train_images, train_labels, {.top_k = 5});  // CG
//   InfluenceExplanation e = influence.explain(test_image, Target::class_index(y));
//   e.helpful[0] / e.harmful[0]: the top-k training examples; e.influence.col(0): all of them.
//   influence.explain(test_batch, targets): one column of e.influence and one top-k list per image.
//
// Influence explains with training examples, not pixels: the result's core (Explanation) has
// maps and raw of shape N×0×0 (map() throws), targets, scores = log p(target | z_test) with
// score_kind = log_probability (the test loss is −score: the cross-entropy of the target), and
// the logits; the extras are the influence matrix, the rankings, the test losses in double
// precision and the solver's reports.
//
// The solver (policy; exact.hpp, cg.hpp, lissa.hpp) computes s_test: ExactSolver for up to
// a few thousand parameters, ConjugateGradientSolver (the reference's default) beyond,
// LissaSolver when even one pass of CG over the data is too costly. The constructor checks
// that θ is at a stationary point of F (restricted to the chosen parameters): influence
// functions assume ∇F(θ̂) = 0, and an untrained model gives meaningless scores. By default a
// relative gradient norm (Stationarity) above 1e-3 is refused (model_error); with
// `stationarity = StationarityPolicy::warn` the check's result is kept in
// diagnostics().warnings instead — for networks trained by SGD, which rarely get closer.
//
// Leave-one-out has two conventions, and the predicted change of the test loss differs between
// them by λ s_testᵀθ̂/n per test image (predicted_loss_change_on_removal, Retraining):
//   same_lambda (default: what LogisticRegression::fit() does when it retrains on n − 1
//     examples): F₋ᵢ = (1/(n−1)) Σ_{j≠i} L_j + (λ/2)‖θ‖², whose optimum moves by
//     (1/n) H⁻¹(∇Lᵢ + λθ̂), so the test loss changes by (−I_up,loss + λ s_testᵀθ̂)/n;
//   fixed_total: (1/n) Σ_{j≠i} L_j + (λ/2)‖θ‖² (sklearn's fixed C = 1/(nλ)), which moves by
//     (1/n) H⁻¹∇Lᵢ: −I_up,loss/n, the paper's formula.
// (Rewrite F₋ᵢ as (n/(n−1))·[F − (1/n)(Lᵢ + (λ/2)‖θ‖²)]: removing i removes 1/n of Lᵢ and of the
// penalty.) Ranks within one test image are the same; pooled over test images they are not.
//
// Three more checks guard against silently wrong scores. The parameters are fingerprinted at
// construction and every call refuses (model_error) a model that changed since (refitted: the
// factorization and θ̂ would belong to other parameters). A solve that did not converge
// (SolveReport::converged, e.g. LiSSA too shallow, CG at max_iterations) is refused with
// numerical_error by explain(), influence() and self_influence(), or, with
// StationarityPolicy::warn, recorded in the result's warnings. A model with λ = 0 that
// classifies every training example correctly has no minimizer (separable data: the loss falls
// towards 0 as ‖θ‖ grows), which the constructor says instead of a bare stationarity failure.
//
// Every pass over the training set streams it in batches (never all per-example gradients in
// memory), runs on `threads` threads, and gives bit-identical results for any thread count.
// explain(), influence(), s_test() and self_influence() are const and safe to call
// concurrently. Error messages start with "xai::Influence::<function>(): ".

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/influence/cg.hpp"
#include "xai/explain/influence/detail/fingerprint.hpp"
#include "xai/explain/influence/exact.hpp"
#include "xai/explain/influence/lissa.hpp"
#include "xai/explain/influence/perturbation.hpp"
#include "xai/explain/influence/ranking.hpp"
#include "xai/explain/influence/solver.hpp"
#include "xai/explain/influence/training_loss.hpp"

namespace xai {

/// What the constructor does when θ is not at a stationary point of the training objective.
enum class StationarityPolicy {
    refuse,  ///< throw model_error
    warn,    ///< record a warning in diagnostics() and go on
};

/// Options of Influence. Defaults: stationarity is checked and refused above a relative
/// gradient norm of 1e-3. The thread count never changes a result (bit for bit); the batch
/// size changes how the sums over the training set are grouped, so results agree only to
/// floating-point rounding across batch sizes.
struct InfluenceOptions {
    /// Training examples per model call in every pass over the training set.
    std::size_t batch_size = 256;
    /// Threads for the passes over the training set (0 = all hardware threads).
    std::size_t threads = 0;
    /// Names of the parameter blocks (model.parameter_blocks()) to differentiate with
    /// respect to, the others frozen; empty = all parameters. E.g. a CNN's last layer.
    std::vector<std::string> parameter_blocks = {};
    /// What to do when the model is not at a stationary point (relative gradient norm above
    /// stationarity_tolerance): refuse (model_error) by default, or warn for SGD-trained networks.
    StationarityPolicy stationarity = StationarityPolicy::refuse;
    /// Largest accepted Stationarity::relative_gradient_norm (an untrained model is of order
    /// 0.1–1; Newton or L-BFGS to convergence gives below 1e-8).
    double stationarity_tolerance = 1e-3;
    /// How many helpful and harmful examples explain() lists.
    std::size_t top_k = 10;
    /// Relative parameter step of the central difference for I_pert,loss on models without a
    /// closed form (perturbation.hpp).
    double perturbation_step = 1e-3;
    /// A training set spread over processes (explain/influence/distribution.hpp, mpi.hpp): the
    /// training images given to the constructor are then this process's shard. Default: one process.
    Distribution distribution = {};
};

/// What the Influence constructor found: the problem size and how close θ is to a minimum.
struct InfluenceDiagnostics {
    std::size_t num_training_examples = 0;  ///< n, the size of the training set
    std::size_t num_parameters = 0;         ///< in the chosen subset
    Stationarity stationarity;              ///< the stationarity check at θ̂
    /// Warnings recorded instead of thrown (StationarityPolicy::warn); empty when all is well.
    std::vector<std::string> warnings;
};

/// The influence of every training example on each test image: the core every explainer
/// shares (maps and raw are N×0×0: influence explains with training examples, not pixels;
/// scores are log p(target), so the test loss is −score) and the rankings.
struct InfluenceExplanation : Explanation {
    /// I_up,loss(z_i, z_test) for every training example i (rows) and test image (columns),
    /// n_train × N.
    Eigen::MatrixXd influence;
    /// Per test image, its top_k most helpful training examples (most negative influence first).
    std::vector<std::vector<std::size_t>> helpful;
    /// Per test image, its top_k most harmful training examples (most positive influence first).
    std::vector<std::vector<std::size_t>> harmful;
    /// Per test image, the target's loss L(z_test, θ̂) in double precision (−scores up to float
    /// rounding).
    std::vector<double> test_losses;
    /// Per test image, how its s_test was obtained.
    std::vector<SolveReport> solve_reports;
    /// Per test image, λ s_testᵀθ̂ (θ̂ restricted to the parameter subset): n times the difference
    /// between the two leave-one-out conventions (predicted_loss_change_on_removal).
    std::vector<double> regularization_terms;
    /// Solves that did not converge, accepted under StationarityPolicy::warn; empty when all is well.
    std::vector<std::string> warnings;
};

/// How a model is retrained without the removed training example (leave-one-out), which
/// changes the predicted change of the test loss by λ s_testᵀθ̂/n (see influence.hpp).
enum class Retraining {
    /// The same λ over the n − 1 remaining examples: what LogisticRegression::fit() does.
    same_lambda,
    /// The same total regularization, (1/n) Σ_{j≠i} L_j + (λ/2)‖θ‖² (sklearn's fixed C): the
    /// paper's −I_up,loss/n.
    fixed_total,
};

/// The first-order change of each test image's loss (columns) when each training example
/// (rows) is removed and the model retrained by `retraining`: (−I_up,loss + λ s_testᵀθ̂)/n for
/// same_lambda (the default, what fit() does), −I_up,loss/n for fixed_total.
inline Eigen::MatrixXd predicted_loss_change_on_removal(const InfluenceExplanation& e,
                                                        Retraining retraining = Retraining::same_lambda) {
    const char* where = "xai::predicted_loss_change_on_removal()";
    detail::require(e.influence.rows() > 0, where, ": the explanation's influence matrix is empty");
    detail::require<shape_error>(e.regularization_terms.size() == static_cast<std::size_t>(e.influence.cols()), where,
                                 ": the explanation has ", e.regularization_terms.size(), " regularization terms, expected ",
                                 e.influence.cols(), " (one per test image)");
    const double n = static_cast<double>(e.influence.rows());
    Eigen::MatrixXd out = -e.influence / n;
    if (retraining == Retraining::same_lambda)
        for (Eigen::Index j = 0; j < out.cols(); ++j)
            out.col(j).array() += e.regularization_terms[static_cast<std::size_t>(j)] / n;
    return out;
}

/// Influence functions (Koh & Liang, ICML 2017) on a TwiceDifferentiableModel: the influence
/// I_up,loss of every training example on test predictions, self-influence, and I_pert,loss.
///
/// `Solver` computes s_test = (H + damping·I)⁻¹ ∇θL(z_test, θ̂): ConjugateGradientSolver (the
/// reference implementation's default), ExactSolver (up to a few thousand parameters) or
/// LissaSolver. Construction checks that θ̂ is a stationary point of the training objective
/// and prepares the solver; explain(), influence(), s_test() and self_influence() are const
/// and safe to call concurrently.
template <TwiceDifferentiableModel M, class Solver = ConjugateGradientSolver>
    requires InverseHessianSolver<Solver, M>
class Influence {
public:
    /// Keeps references to `model`, `train_images` and `train_labels`: they must outlive this
    /// object. Checks stationarity (one pass over the training set) and prepares the solver
    /// (ExactSolver forms and factorizes the Hessian here); `progress` sees both passes.
    Influence(const M& model, const Batch& train_images, const Labels& train_labels, InfluenceOptions options = {},
              Solver solver = {}, const Progress& progress = {})
        : options_(std::move(options)),
          solver_(std::move(solver)),
          loss_(model, train_images, train_labels, options_.parameter_blocks, options_.batch_size, options_.threads,
                where_constructor, options_.distribution) {
        const char* where = where_constructor;
        detail::require(std::isfinite(options_.stationarity_tolerance) && options_.stationarity_tolerance >= 0.0, where,
                        ": stationarity_tolerance is ", options_.stationarity_tolerance, ", expected a finite value >= 0");
        detail::require(std::isfinite(options_.perturbation_step) && options_.perturbation_step > 0.0, where,
                        ": perturbation_step is ", options_.perturbation_step, ", expected a finite value > 0");
        diagnostics_.num_training_examples = loss_.num_examples();
        diagnostics_.num_parameters = loss_.num_parameters();
        fingerprint_ = detail::parameter_fingerprint(model);
        diagnostics_.stationarity = loss_.stationarity(progress);
        const double relative = diagnostics_.stationarity.relative_gradient_norm;
        if (loss_.l2_regularization() == 0.0 && loss_.separates_training_set()) {
            const std::string text = detail::message(
                where, ": the model has no L2 regularization (l2_regularization() = 0) and classifies every training ",
                "example correctly: the training data are separable, so the training loss has no minimizer (it falls ",
                "towards 0 as ‖θ‖ grows; ‖θ‖ = ", model.parameters().norm(), ") and there is no θ̂ to linearize around; ",
                "train with l2_regularization > 0");
            if (options_.stationarity == StationarityPolicy::refuse) throw model_error(text);
            diagnostics_.warnings.push_back(text);
        } else if (!(relative <= options_.stationarity_tolerance)) {
            const std::string text = detail::message(
                where, ": the model is not at a minimum of its training objective: relative gradient norm ", relative,
                " (gradient norm ", diagnostics_.stationarity.gradient_norm, "), expected at most ",
                options_.stationarity_tolerance,
                "; influence functions assume a minimizer: train to convergence (is the model untrained?)");
            if (options_.stationarity == StationarityPolicy::refuse)
                throw model_error(text + ", or set stationarity = StationarityPolicy::warn");
            diagnostics_.warnings.push_back(text);
        }
        state_ = solver_.prepare(loss_, progress);
    }

    /// What the constructor found (problem size, stationarity, warnings).
    const InfluenceDiagnostics& diagnostics() const { return diagnostics_; }
    /// The options the explainer was built with.
    const InfluenceOptions& options() const { return options_; }
    /// The training objective F(θ) over the training set, restricted to the parameter subset
    /// (what a solver works on; public so that a caller can time or reuse its passes).
    const TrainingLoss<M>& training_loss() const { return loss_; }
    /// The solver's prepared state (ExactSolver: the Hessian H_SS + μI and its factorization).
    const typename Solver::State& solver_state() const { return state_; }
    /// The solver.
    const Solver& solver() const { return solver_; }

    /// Throws model_error (message prefixed by `where`) when the model's parameters or λ are not
    /// those this explainer was built on (refitted or set anew since): every entry point checks.
    void require_unchanged(const char* where) const {
        if (detail::parameter_fingerprint(loss_.model()) != fingerprint_)
            throw model_error(detail::message(
                where, ": the model's parameters changed since this explainer was built (refitted or set anew): its ",
                "stationarity check, Hessian and θ̂ belong to the old ones; build a new explainer for the new parameters"));
    }

    // ---- the explainer's two entry points (core/explainer.hpp) -----------------------------

    /// The influence of every training example on each test image (one column of `influence`
    /// and one top_k list of helpful and harmful examples per image), the loss of each image's
    /// target, and the core of every explanation (maps and raw N×0×0; scores = log p(target)).
    /// Targets: empty = each image's predicted class, one = the same for every image, else one
    /// per image. One solve for all the images, then one pass over the training set; progress
    /// reports the solver's iterations, then the training examples.
    template <std::same_as<Batch> B>
    InfluenceExplanation explain(const B& test, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = where_explain;
        require_unchanged(where);
        const Scores logits = checked_test_logits(test, where);
        const Labels labels = resolve_targets(targets, logits, where);
        const std::size_t n = labels.size();
        InfluenceExplanation out;
        out.maps = Maps::from_shape({n, 0, 0});
        out.raw = Maps::from_shape({n, 0, 0});
        out.targets = labels;
        out.score_kind = ScoreKind::log_probability;
        const Scores log_p = log_softmax(logits);
        out.scores.resize(n);
        for (std::size_t i = 0; i < n; ++i) out.scores[i] = log_p(i, labels[i]);
        out.logits = logits;
        const Eigen::VectorXd losses = loss_.model().per_example_losses(test, labels);
        out.test_losses.assign(losses.data(), losses.data() + losses.size());
        InverseHvp s = solver_.solve(state_, loss_, loss_.gradients(test, labels), progress);
        out.warnings = convergence_warnings(s.reports, where);
        out.regularization_terms = regularization_terms(s.values);
        out.solve_reports = std::move(s.reports);
        out.influence = influence_of(s.values, progress);
        out.helpful.reserve(n);
        out.harmful.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const Eigen::VectorXd column = out.influence.col(static_cast<Eigen::Index>(i));
            out.helpful.push_back(most_helpful(column, options_.top_k));
            out.harmful.push_back(most_harmful(column, options_.top_k));
        }
        return out;
    }

    /// explain() of a batch of one image (C×H×W).
    template <std::same_as<Image> I>
    InfluenceExplanation explain(const I& test, Target target = Target::predicted(),
                                 const Progress& progress = {}) const {
        return explain(detail::single_image_batch(test, where_explain), Targets{target}, progress);
    }

    // ---- the parts of explain(), and what it does not compute ------------------------------

    /// ∇θL(z_test, θ̂) restricted to the parameter subset, one column per test image; the
    /// loss is that of the target class (Targets: empty = each image's predicted class).
    Eigen::MatrixXd test_gradients(const Batch& test, const Targets& targets = {}) const {
        const char* where = where_test_gradients;
        require_unchanged(where);
        return loss_.gradients(test, resolve_targets(targets, checked_test_logits(test, where), where));
    }

    /// s_test = (H + damping·I)⁻¹ ∇θL(z_test, θ̂), one column per test image, with the solver's
    /// reports (returned as they are, converged or not: this is where to look).
    InverseHvp s_test(const Batch& test, const Targets& targets = {}, const Progress& progress = {}) const {
        require_unchanged(where_s_test);
        return solve_tests(test, targets, progress, where_s_test);
    }

    /// λ s_testᵀθ̂ for each column of `s_test` (θ̂ restricted to the parameter subset): what the
    /// same-λ leave-one-out adds to −I_up,loss (InfluenceExplanation::regularization_terms).
    std::vector<double> regularization_terms(const Eigen::MatrixXd& s_test) const {
        const Eigen::VectorXd terms = loss_.l2_regularization() * (s_test.transpose() * loss_.theta());
        return std::vector<double>(terms.data(), terms.data() + terms.size());
    }

    /// I_up,loss(z_i, z_test) = −s_testᵀ ∇θL(z_i, θ̂) for every training example i (rows) and
    /// every column of `s_test` (columns): streamed over the training set.
    Eigen::MatrixXd influence_of(const Eigen::MatrixXd& s_test, const Progress& progress = {}) const {
        const char* where = where_influence_of;
        require_unchanged(where);
        detail::require<shape_error>(s_test.rows() == static_cast<Eigen::Index>(loss_.num_parameters()), where,
                                     ": s_test has ", s_test.rows(), " rows, expected ", loss_.num_parameters(),
                                     " (the parameters in the chosen subset)");
        detail::require(s_test.allFinite(), where, ": s_test contains NaN or Inf");
        Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(loss_.num_examples()), s_test.cols());
        loss_.stream(
            [&](std::size_t b) {
                const std::size_t begin = loss_.batch_begin(b), end = loss_.batch_end(b);
                return Eigen::MatrixXd(-loss_.gradient_products(loss_.images(begin, end), loss_.labels(begin, end), s_test));
            },
            [&](std::size_t b, Eigen::MatrixXd rows) {
                out.middleRows(static_cast<Eigen::Index>(loss_.batch_begin(b)), rows.rows()) = rows;
            },
            progress, "training examples");
        loss_.share_rows(out);
        return out;
    }

    /// I_up,loss of every training example (rows) on every test image (columns): explain()'s
    /// matrix without the rankings.
    Eigen::MatrixXd influence(const Batch& test, const Targets& targets = {}, const Progress& progress = {}) const {
        require_unchanged(where_influence);
        const InverseHvp s = solve_tests(test, targets, progress, where_influence);
        require_converged(s.reports, where_influence);
        return influence_of(s.values, progress);
    }

    /// Self-influence I_up,loss(z_i, z_i) = −∇Lᵢᵀ (H + damping·I)⁻¹ ∇Lᵢ of every training
    /// example (§5.4). One solve per example: immediate with ExactSolver (one factorization),
    /// a full CG or LiSSA run per example otherwise. A solve that did not converge is refused
    /// (numerical_error), or accepted under StationarityPolicy::warn.
    Eigen::VectorXd self_influence(const Progress& progress = {}) const {
        require_unchanged(where_self_influence);
        Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(loss_.num_examples()));
        loss_.stream(
            [&](std::size_t b) {
                const std::size_t begin = loss_.batch_begin(b), end = loss_.batch_end(b);
                const Eigen::MatrixXd g = loss_.gradients(loss_.images(begin, end), loss_.labels(begin, end));
                const InverseHvp s = solver_.solve(state_, loss_, g, {});
                require_converged(s.reports, where_self_influence);
                return Eigen::VectorXd(-(g.cwiseProduct(s.values)).colwise().sum().transpose());
            },
            [&](std::size_t b, Eigen::VectorXd part) {
                out.segment(static_cast<Eigen::Index>(loss_.batch_begin(b)), part.size()) = part;
            },
            progress, "training examples");
        loss_.share_rows(out);
        return out;
    }

    /// I_pert,loss(z_i, z_test) = −(∇x∇θL(z_i, θ̂)) s_test for the training examples at
    /// `train_indices`: one input-shaped map each (N×C×H×W). `s_test` is one column of s_test().
    Batch perturbation_influence(const Eigen::VectorXd& s_test, const std::vector<std::size_t>& train_indices) const
        requires MixedDerivativeModel<M> || ReparametrizableModel<M>
    {
        const char* where = where_perturbation_influence;
        require_unchanged(where);
        detail::require<shape_error>(s_test.size() == static_cast<Eigen::Index>(loss_.num_parameters()), where,
                                     ": s_test has ", s_test.size(), " entries, expected ", loss_.num_parameters());
        detail::require(s_test.allFinite(), where, ": s_test contains NaN or Inf");
        detail::require<shape_error>(!train_indices.empty(), where, ": train_indices is empty, expected at least one index");
        for (std::size_t i : train_indices)
            detail::require(i < loss_.num_examples(), where, ": training index ", i, " is out of range, expected below ",
                            loss_.num_examples());
        Batch out = detail::mixed_derivative_product(loss_.model(), loss_.gather(train_indices),
                                                     loss_.gather_labels(train_indices), loss_.embed(s_test),
                                                     options_.perturbation_step);
        out *= -1.0f;
        if (!all_finite(out)) throw model_error(detail::message(where, ": the model's derivatives are NaN or Inf"));
        return out;
    }

    /// I_pert,loss of the training examples at `train_indices` on one test image.
    Batch perturbation_influence(const Image& test, Target target, const std::vector<std::size_t>& train_indices) const
        requires MixedDerivativeModel<M> || ReparametrizableModel<M>
    {
        const char* where = where_perturbation_influence;
        require_unchanged(where);
        const InverseHvp s = solve_tests(detail::single_image_batch(test, where), Targets{target}, {}, where);
        require_converged(s.reports, where);
        return perturbation_influence(Eigen::VectorXd(s.values.col(0)), train_indices);
    }

private:
    // The prefix of every error message, one per entry point.
    static constexpr const char* where_constructor = "xai::Influence::Influence()";
    static constexpr const char* where_explain = "xai::Influence::explain()";
    static constexpr const char* where_test_gradients = "xai::Influence::test_gradients()";
    static constexpr const char* where_s_test = "xai::Influence::s_test()";
    static constexpr const char* where_influence = "xai::Influence::influence()";
    static constexpr const char* where_influence_of = "xai::Influence::influence_of()";
    static constexpr const char* where_perturbation_influence = "xai::Influence::perturbation_influence()";
    static constexpr const char* where_self_influence = "xai::Influence::self_influence()";


    /// The message of a solve that did not converge.
    static std::string convergence_message(const SolveReport& r, std::size_t column, const char* where) {
        return detail::message(where, ": the ", r.solver, " solve of s_test for column ", column,
                               " did not converge (relative residual ", r.relative_residual, " after ", r.iterations,
                               " iterations", r.solver == "lissa" ? detail::message(", last step's relative change ", r.step_change) : "",
                               "): raise ", r.solver == "lissa" ? "recursion_depth or repeats, or check that scale exceeds the Hessian's largest eigenvalue" : "max_iterations",
                               ", or use another solver");
    }

    /// numerical_error for the first solve that did not converge, unless StationarityPolicy::warn.
    void require_converged(const std::vector<SolveReport>& reports, const char* where) const {
        if (options_.stationarity == StationarityPolicy::warn) return;
        for (std::size_t j = 0; j < reports.size(); ++j)
            if (!reports[j].converged) throw numerical_error(convergence_message(reports[j], j, where) + ", or set stationarity = StationarityPolicy::warn");
    }

    /// require_converged(), or under StationarityPolicy::warn the messages to keep.
    std::vector<std::string> convergence_warnings(const std::vector<SolveReport>& reports, const char* where) const {
        require_converged(reports, where);
        std::vector<std::string> out;
        for (std::size_t j = 0; j < reports.size(); ++j)
            if (!reports[j].converged) out.push_back(convergence_message(reports[j], j, where));
        return out;
    }

    /// The model's logits for a test batch, after checking the batch against the model.
    Scores checked_test_logits(const Batch& test, const char* where) const {
        detail::require_model_input(loss_.model(), test, where);
        return detail::checked_forward(loss_.model(), test, where);
    }

    /// s_test of the test images for their resolved targets.
    InverseHvp solve_tests(const Batch& test, const Targets& targets, const Progress& progress, const char* where) const {
        const Labels labels = resolve_targets(targets, checked_test_logits(test, where), where);
        return solver_.solve(state_, loss_, loss_.gradients(test, labels), progress);
    }

    InfluenceOptions options_;
    Solver solver_;
    TrainingLoss<M> loss_;
    typename Solver::State state_;
    InfluenceDiagnostics diagnostics_;
    std::uint64_t fingerprint_ = 0;
};

}  // namespace xai
