#pragma once
// TracIn (Pruthi, Liu, Kale & Sundararajan, "Estimating Training Data Influence by Tracing
// Gradient Descent", NeurIPS 2020): how much training example z reduced the loss on z_test over
// the training run, traced through saved checkpoints θ_1 … θ_K (TracInCP, eq. 3):
//   TracInCP(z, z_test) = Σ_k η_k ∇θL(z, θ_k) · ∇θL(z_test, θ_k),
// η_k the learning rate in effect between checkpoints k−1 and k. Positive: z is a proponent (a
// gradient step on z lowered the test loss); negative: an opponent. Self-influence
// TracInCP(z, z) = Σ_k η_k ‖∇L(z, θ_k)‖² ranks mislabelled examples (§5.1). Unlike influence
// functions it needs no Hessian and no optimum — only the checkpoints the training wrote
// (models/training.hpp: TrainingOptions::checkpoint_directory).
//
// Sign convention of the result: `influence` = −TracInCP, the convention of I_up,loss
// (influence.hpp): negative = helped, so most_helpful / most_harmful and the rankings of
// InfluenceExplanation read the same. Cost: one pass of per-example gradient products over the
// training set per checkpoint (models with per_example_loss_gradient_products, such as
// LogisticRegression, never form the gradients), streamed, bit-identical for any thread count.
// The parameter subset (parameter_blocks) restricts the gradients as in Influence; each
// checkpoint holds the FULL parameter vector. Errors start with "xai::TracIn::<function>(): ".

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
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/influence/ranking.hpp"
#include "xai/explain/influence/training_loss.hpp"

namespace xai {

/// One saved point of a training run: the full parameter vector and the learning rate that
/// led to it (the mean step size since the previous checkpoint).
struct TracInCheckpoint {
    Eigen::VectorXd parameters;   ///< θ_k, model.num_parameters() entries
    double learning_rate = 0.0;   ///< η_k
};

/// A model TracIn can evaluate at each checkpoint: copied, then given the checkpoint's parameters.
template <class M>
concept CheckpointModel = TwiceDifferentiableModel<M> && std::copy_constructible<M> &&
    requires(M& model, const Eigen::VectorXd& theta) { model.set_parameters(theta); };

/// Options of TracIn.
struct TracInOptions {
    std::size_t batch_size = 256;                      ///< training examples per model call
    std::size_t threads = 0;                           ///< 0 = all hardware threads
    std::vector<std::string> parameter_blocks = {};    ///< as InfluenceOptions; empty = all parameters
    std::size_t top_k = 10;                            ///< helpful and harmful examples listed
    /// A training set spread over processes (distribution.hpp); default one process.
    Distribution distribution = {};
};

/// TracIn's scores for each test image (core: maps and raw N×0×0, scores = log p(target) at the
/// explained model's parameters, logits).
struct TracInExplanation : Explanation {
    /// n_train × N: −TracInCP(z_i, z_test_j) (negative = proponent, I_up,loss's sign convention).
    Eigen::MatrixXd influence;
    /// Per test image, the top_k proponents (most negative `influence` first).
    std::vector<std::vector<std::size_t>> helpful;
    /// Per test image, the top_k opponents (most positive first).
    std::vector<std::vector<std::size_t>> harmful;
};

/// TracInCP (Pruthi et al., NeurIPS 2020) over saved checkpoints: training-data influence traced
/// through gradient descent, without a Hessian (see the header comment).
template <CheckpointModel M>
class TracIn {
public:
    /// Keeps references to `model`, `train_images` and `train_labels` (they must outlive this
    /// object); copies the model once per checkpoint. `model` is the one explained (its logits
    /// and scores fill the core); the checkpoints trace how it was trained.
    TracIn(const M& model, const Batch& train_images, const Labels& train_labels, std::vector<TracInCheckpoint> checkpoints,
           TracInOptions options = {})
        : model_(&model), options_(std::move(options)) {
        const char* where = where_constructor;
        detail::require<shape_error>(!checkpoints.empty(), where, ": checkpoints is empty, expected at least one");
        for (std::size_t k = 0; k < checkpoints.size(); ++k) {
            const TracInCheckpoint& c = checkpoints[k];
            detail::require<shape_error>(c.parameters.size() == static_cast<Eigen::Index>(model.num_parameters()), where,
                                         ": checkpoint ", k, " has ", c.parameters.size(), " parameters, expected ",
                                         model.num_parameters());
            detail::require(c.parameters.allFinite() && std::isfinite(c.learning_rate) && c.learning_rate > 0.0, where,
                            ": checkpoint ", k, " has NaN or Inf parameters or a learning rate (", c.learning_rate,
                            ") that is not finite and > 0");
            M copy = model;
            copy.set_parameters(c.parameters);
            models_.push_back(std::move(copy));
            rates_.push_back(c.learning_rate);
        }
        for (const M& m : models_)  // references into models_, which no longer grows
            losses_.emplace_back(m, train_images, train_labels, options_.parameter_blocks, options_.batch_size,
                                 options_.threads, where, options_.distribution);
    }
    TracIn(const TracIn&) = delete;  // losses_ point into models_
    TracIn& operator=(const TracIn&) = delete;

    /// The options the explainer was built with.
    const TracInOptions& options() const { return options_; }
    /// The number of checkpoints.
    std::size_t num_checkpoints() const { return models_.size(); }

    /// −TracInCP of every training example (rows) on each test image (columns), the top_k
    /// proponents and opponents, and the core. Targets as for every explainer (empty: predicted).
    template <std::same_as<Batch> B>
    TracInExplanation explain(const B& test, const Targets& targets = {}, const Progress& progress = {}) const {
        const char* where = where_explain;
        detail::require_model_input(*model_, test, where);
        const Scores logits = detail::checked_forward(*model_, test, where);
        const Labels labels = resolve_targets(targets, logits, where);
        TracInExplanation out;
        const std::size_t n = labels.size();
        out.maps = Maps::from_shape({n, 0, 0});
        out.raw = Maps::from_shape({n, 0, 0});
        out.targets = labels;
        out.score_kind = ScoreKind::log_probability;
        const Scores log_p = log_softmax(logits);
        for (std::size_t i = 0; i < n; ++i) out.scores.push_back(log_p(i, labels[i]));
        out.logits = logits;
        out.influence = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(losses_.front().num_examples()), static_cast<Eigen::Index>(n));
        for (std::size_t k = 0; k < losses_.size(); ++k) {
            const TrainingLoss<M>& loss = losses_[k];
            const Eigen::MatrixXd v = -rates_[k] * loss.gradients(test, labels);
            loss.stream(
                [&](std::size_t b) {
                    const std::size_t begin = loss.batch_begin(b), end = loss.batch_end(b);
                    return loss.gradient_products(loss.images(begin, end), loss.labels(begin, end), v);
                },
                [&](std::size_t b, Eigen::MatrixXd rows) {
                    out.influence.middleRows(static_cast<Eigen::Index>(loss.batch_begin(b)), rows.rows()) += rows;
                },
                {}, "training examples");
            detail::report(progress, k + 1, losses_.size(), "checkpoints");
        }
        losses_.front().share_rows(out.influence);
        for (std::size_t j = 0; j < n; ++j) {
            const Eigen::VectorXd column = out.influence.col(static_cast<Eigen::Index>(j));
            out.helpful.push_back(most_helpful(column, options_.top_k));
            out.harmful.push_back(most_harmful(column, options_.top_k));
        }
        return out;
    }

    /// explain() of a batch of one image (C×H×W).
    template <std::same_as<Image> I>
    TracInExplanation explain(const I& test, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(test, where_explain), Targets{target}, progress);
    }

    /// Self-influence TracInCP(z_i, z_i) = Σ_k η_k ‖∇L(z_i, θ_k)‖² of every training example
    /// (≥ 0; large for examples the run kept fighting, often mislabelled: Pruthi et al. §5.1).
    Eigen::VectorXd self_influence(const Progress& progress = {}) const {
        Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(losses_.front().num_examples()));
        for (std::size_t k = 0; k < losses_.size(); ++k) {
            const TrainingLoss<M>& loss = losses_[k];
            const double rate = rates_[k];
            loss.stream(
                [&](std::size_t b) {
                    const std::size_t begin = loss.batch_begin(b), end = loss.batch_end(b);
                    const Eigen::MatrixXd g = loss.gradients(loss.images(begin, end), loss.labels(begin, end));
                    return Eigen::VectorXd(rate * g.colwise().squaredNorm().transpose());
                },
                [&](std::size_t b, Eigen::VectorXd part) {
                    out.segment(static_cast<Eigen::Index>(loss.batch_begin(b)), part.size()) += part;
                },
                {}, "training examples");
            detail::report(progress, k + 1, losses_.size(), "checkpoints");
        }
        losses_.front().share_rows(out);
        return out;
    }

private:
    static constexpr const char* where_constructor = "xai::TracIn::TracIn()";
    static constexpr const char* where_explain = "xai::TracIn::explain()";

    const M* model_;
    TracInOptions options_;
    std::vector<M> models_;
    std::vector<double> rates_;
    std::vector<TrainingLoss<M>> losses_;
};

}  // namespace xai
