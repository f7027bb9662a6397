#pragma once
// The training objective that influence functions differentiate, seen through a model's
// TwiceDifferentiableModel interface and streamed over the training set in batches:
//   F(θ) = (1/n) Σ_i L(z_i, θ) + (λ/2) ‖θ‖²
// restricted, optionally, to a subset S of the parameters (named ParameterBlocks, e.g. a
// CNN's last layer with the features frozen): its gradient ∇_S F, its Hessian H_SS (the
// block of the full Hessian, other parameters held fixed) and Hessian-vector products H_SS v.
//
// Every pass over the training set runs batches of `batch_size` examples on up to `threads`
// threads in waves and sums per-batch results in batch order on the calling thread, so the
// results are bit-identical for any thread count, and never more than one wave of per-example
// gradients is in memory. Progress is reported after each wave.
//
// Public, not an internal: every inverse-Hessian solver (the InverseHessianSolver policy of
// solver.hpp, a user's own included) receives it, and Influence::training_loss() returns it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// How far the model is from a stationary point of F (restricted to the parameter subset).
struct Stationarity {
    double gradient_norm = 0.0;           ///< ‖∇_S F(θ)‖₂
    /// ‖∇_S F‖ / ((1/n) Σ ‖∇_S L(z_i)‖ + λ‖θ_S‖): 0 at the optimum, of order 1 for an
    /// untrained model, whatever the scale of the loss and the data.
    double relative_gradient_norm = 0.0;
};

/// The training objective F(θ) = (1/n) Σ_i L(z_i, θ) + (λ/2)‖θ‖² of a TwiceDifferentiableModel,
/// restricted to a parameter subset S and streamed over the training set in batches: its
/// gradient, Hessian H_SS and Hessian-vector products, bit-identical for any thread count.
template <TwiceDifferentiableModel M>
class TrainingLoss {
public:
    /// Keeps references to `model`, `images` and `labels`: they must outlive this object.
    /// `blocks` names the parameter blocks to restrict to (empty: all parameters).
    TrainingLoss(const M& model, const Batch& images, const Labels& labels, const std::vector<std::string>& blocks,
                 std::size_t batch_size, std::size_t threads, const char* where)
        : model_(&model), images_(&images), labels_(&labels), batch_size_(batch_size), threads_(threads) {
        detail::require<shape_error>(images.shape(0) > 0, where, ": the training set is empty, expected at least one example");
        detail::require<shape_error>(labels.size() == images.shape(0), where, ": the training labels have ", labels.size(),
                                     " entries, expected one per training image (", images.shape(0), ")");
        detail::require<shape_error>(image_shape(images) == model.input_shape(), where, ": training images are ",
                                     to_string(image_shape(images)), ", the model expects ", to_string(model.input_shape()));
        for (std::size_t i = 0; i < labels.size(); ++i)
            detail::require(labels[i] < model.num_classes(), where, ": training label ", i, " is ", labels[i],
                            ", expected a class index below ", model.num_classes());
        detail::require(batch_size > 0, where, ": batch_size is 0, expected at least 1");
        full_parameters_ = model.num_parameters();
        select_blocks(blocks, where);
        theta_ = restrict(model.parameters());
    }

    /// The model whose objective this is.
    const M& model() const { return *model_; }
    /// n, the number of training examples.
    std::size_t num_examples() const { return images_->shape(0); }
    /// Size of the parameter subset S (all parameters when no blocks were named).
    std::size_t num_parameters() const { return all_ ? full_parameters_ : indices_.size(); }
    /// λ of the (λ/2)‖θ‖² term, the model's l2_regularization().
    double l2_regularization() const { return model_->l2_regularization(); }
    /// θ̂ restricted to the parameter subset, as it was at construction.
    const Eigen::VectorXd& theta() const { return theta_; }
    /// Threads of every pass over the training set (0 = all hardware threads).
    std::size_t threads() const { return threads_; }
    /// The labels of all training examples.
    const Labels& labels() const { return *labels_; }
    /// All training images, N×C×H×W.
    const Batch& images() const { return *images_; }

    /// The rows of a full-length vector or matrix that belong to the subset.
    Eigen::MatrixXd restrict(const Eigen::MatrixXd& full) const {
        if (all_) return full;
        Eigen::MatrixXd out(static_cast<Eigen::Index>(indices_.size()), full.cols());
        for (std::size_t k = 0; k < indices_.size(); ++k) out.row(static_cast<Eigen::Index>(k)) = full.row(indices_[k]);
        return out;
    }
    /// A subset vector placed in a full-length vector of zeros.
    Eigen::VectorXd embed(const Eigen::VectorXd& subset) const {
        if (all_) return subset;
        Eigen::VectorXd full = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(full_parameters_));
        for (std::size_t k = 0; k < indices_.size(); ++k) full(indices_[k]) = subset(static_cast<Eigen::Index>(k));
        return full;
    }

    // ---- the training set in batches -------------------------------------------------------

    /// Number of batches of batch_size examples (the last may be shorter).
    std::size_t num_batches() const { return detail::ceil_div(num_examples(), batch_size_); }
    /// Index of the first training example of batch `b`.
    std::size_t batch_begin(std::size_t b) const { return b * batch_size_; }
    /// One past the index of the last training example of batch `b`.
    std::size_t batch_end(std::size_t b) const { return std::min(num_examples(), (b + 1) * batch_size_); }

    /// Training examples [begin, end) as a batch (a copy) and their labels.
    Batch images(std::size_t begin, std::size_t end) const {
        const std::size_t stride = images_->size() / num_examples();
        Batch out = Batch::from_shape({end - begin, images_->shape(1), images_->shape(2), images_->shape(3)});
        std::memcpy(out.data(), images_->data() + begin * stride, (end - begin) * stride * sizeof(float));
        return out;
    }
    /// The labels of training examples [begin, end) (a copy).
    Labels labels(std::size_t begin, std::size_t end) const {
        return Labels(labels_->begin() + static_cast<std::ptrdiff_t>(begin), labels_->begin() + static_cast<std::ptrdiff_t>(end));
    }
    /// The training examples at `indices` (a copy), in that order.
    Batch gather(const std::vector<std::size_t>& indices) const {
        const std::size_t stride = images_->size() / num_examples();
        Batch out = Batch::from_shape({indices.size(), images_->shape(1), images_->shape(2), images_->shape(3)});
        for (std::size_t k = 0; k < indices.size(); ++k)
            std::memcpy(out.data() + k * stride, images_->data() + indices[k] * stride, stride * sizeof(float));
        return out;
    }
    /// The labels of the training examples at `indices`, in that order.
    Labels gather_labels(const std::vector<std::size_t>& indices) const {
        Labels out(indices.size());
        for (std::size_t k = 0; k < indices.size(); ++k) out[k] = (*labels_)[indices[k]];
        return out;
    }

    /// Runs body(b) for every batch b on up to threads() threads, in waves of a few batches
    /// per thread, then consume(b, result) for the wave's batches in order on this thread.
    template <class Body, class Consume>
    void stream(Body&& body, Consume&& consume, const Progress& progress, std::string_view stage) const {
        using Result = decltype(body(std::size_t{}));
        const std::size_t batches = num_batches();
        const std::size_t wave = std::max<std::size_t>(1, std::min(2 * resolve_threads(threads_), batches));
        std::vector<Result> slots(wave);
        for (std::size_t start = 0; start < batches; start += wave) {
            const std::size_t count = std::min(wave, batches - start);
            parallel_for(count, threads_, [&](std::size_t k) { slots[k] = body(start + k); });
            for (std::size_t k = 0; k < count; ++k) consume(start + k, std::move(slots[k]));
            detail::report(progress, batch_end(start + count - 1), num_examples(), stage);
        }
    }

    // ---- derivatives -----------------------------------------------------------------------

    /// Per-example loss gradients restricted to S (|S|×N), checked for shape and finiteness.
    Eigen::MatrixXd gradients(const Batch& batch, const Labels& labels) const {
        Eigen::MatrixXd g = model_->per_example_loss_gradients(batch, labels);
        require_model_matrix(g, static_cast<Eigen::Index>(full_parameters_), static_cast<Eigen::Index>(batch.shape(0)),
                             "per_example_loss_gradients");
        return restrict(g);
    }

    /// ∇_S L(z_i)ᵀ V for the examples of a batch (N×T), V with |S| rows: through the model's
    /// per_example_loss_gradient_products(batch, labels, V) when it has one (no gradients
    /// formed), else from the gradients.
    Eigen::MatrixXd gradient_products(const Batch& batch, const Labels& labels, const Eigen::MatrixXd& v) const {
        if constexpr (requires { { model_->per_example_loss_gradient_products(batch, labels, v) } -> std::convertible_to<Eigen::MatrixXd>; }) {
            Eigen::MatrixXd full(static_cast<Eigen::Index>(full_parameters_), v.cols());
            for (Eigen::Index t = 0; t < v.cols(); ++t) full.col(t) = embed(v.col(t));
            Eigen::MatrixXd out = model_->per_example_loss_gradient_products(batch, labels, full);
            require_model_matrix(out, static_cast<Eigen::Index>(batch.shape(0)), v.cols(), "per_example_loss_gradient_products");
            return out;
        } else {
            return gradients(batch, labels).transpose() * v;
        }
    }

    /// H_SS v on a batch of examples: (∇²[(1/b) Σ_batch L] + λI) restricted to S.
    Eigen::VectorXd hessian_vector_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        Eigen::VectorXd hv = model_->loss_hessian_vector_product(batch, labels, embed(v));
        require_model_matrix(hv, static_cast<Eigen::Index>(full_parameters_), 1, "loss_hessian_vector_product");
        return restrict(hv);
    }

    /// H_SS v over the whole training set: the batch products weighted by their share of n.
    Eigen::VectorXd hessian_vector_product(const Eigen::VectorXd& v) const {
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(v.size());
        stream([&](std::size_t b) { return weighted_batch_hvp(b, v); },
               [&](std::size_t, Eigen::VectorXd part) { sum += part; }, {}, "training examples");
        return sum;
    }

    /// H_SS + damping·I as a dense matrix: from the model's exact Hessian when it has one,
    /// otherwise column by column from |S| Hessian-vector products (|S| passes over the data).
    Eigen::MatrixXd hessian(const Progress& progress = {}) const {
        const auto p = static_cast<Eigen::Index>(num_parameters());
        Eigen::MatrixXd h = Eigen::MatrixXd::Zero(p, p);
        if constexpr (ExactHessianModel<M>) {
            stream(
                [&](std::size_t b) {
                    const std::size_t begin = batch_begin(b), end = batch_end(b);
                    Eigen::MatrixXd part = model_->loss_hessian(images(begin, end), labels(begin, end));
                    require_model_matrix(part, static_cast<Eigen::Index>(full_parameters_),
                                         static_cast<Eigen::Index>(full_parameters_), "loss_hessian");
                    return Eigen::MatrixXd(restrict_square(part) * share(b));
                },
                [&](std::size_t, Eigen::MatrixXd part) { h += part; }, progress, "training examples (Hessian)");
        } else {
            for (Eigen::Index j = 0; j < p; ++j) {
                h.col(j) = hessian_vector_product(Eigen::VectorXd::Unit(p, j));
                detail::report(progress, static_cast<std::size_t>(j + 1), static_cast<std::size_t>(p), "Hessian columns");
            }
        }
        return 0.5 * (h + h.transpose());
    }

    /// ∇_S F(θ) and how far it is from zero, in one pass.
    Stationarity stationarity(const Progress& progress = {}) const {
        Eigen::VectorXd mean_gradient = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(num_parameters()));
        double mean_norm = 0.0;
        const double n = static_cast<double>(num_examples());
        stream(
            [&](std::size_t b) {
                const std::size_t begin = batch_begin(b), end = batch_end(b);
                const Eigen::MatrixXd g = gradients(images(begin, end), labels(begin, end));
                return std::pair<Eigen::VectorXd, double>(g.rowwise().sum() / n, g.colwise().norm().sum() / n);
            },
            [&](std::size_t, std::pair<Eigen::VectorXd, double> part) {
                mean_gradient += part.first;
                mean_norm += part.second;
            },
            progress, "training examples (stationarity)");
        const double lambda = l2_regularization();
        const Eigen::VectorXd gradient = mean_gradient + lambda * theta_;
        Stationarity s;
        s.gradient_norm = gradient.norm();
        const double scale = mean_norm + lambda * theta_.norm();
        s.relative_gradient_norm = scale > 0.0 ? s.gradient_norm / scale : 0.0;
        return s;
    }

    /// True when the model's logit of the label is strictly the largest for every training
    /// example (one forward pass): θ then separates the training set, and without an L2 term the
    /// training loss has no minimizer (scaling θ up lowers it towards 0).
    bool separates_training_set(const Progress& progress = {}) const {
        bool all = true;
        stream(
            [&](std::size_t b) {
                const std::size_t begin = batch_begin(b), end = batch_end(b);
                const Scores logits = detail::checked_forward(*model_, images(begin, end), "xai::TrainingLoss");
                for (std::size_t i = 0; i < end - begin; ++i) {
                    const std::size_t y = (*labels_)[begin + i];
                    for (std::size_t k = 0; k < logits.shape(1); ++k)
                        if (k != y && !(logits(i, k) < logits(i, y))) return 0;
                }
                return 1;  // an int, not a bool: stream() keeps results in a vector, written in parallel
            },
            [&](std::size_t, int separated) { all = all && separated != 0; }, progress, "training examples (separability)");
        return all;
    }

    /// Model-returned matrices must have the documented shape and be finite.
    static void require_model_matrix(const Eigen::MatrixXd& m, Eigen::Index rows, Eigen::Index cols, const char* what) {
        if (m.rows() != rows || m.cols() != cols)
            throw model_error(detail::message("xai::TrainingLoss: the model's ", what, "() returned ", m.rows(), "x",
                                              m.cols(), ", expected ", rows, "x", cols));
        if (!m.allFinite())
            throw model_error(detail::message("xai::TrainingLoss: the model's ", what, "() returned NaN or Inf"));
    }

private:
    double share(std::size_t b) const {
        return static_cast<double>(batch_end(b) - batch_begin(b)) / static_cast<double>(num_examples());
    }

    Eigen::VectorXd weighted_batch_hvp(std::size_t b, const Eigen::VectorXd& v) const {
        const std::size_t begin = batch_begin(b), end = batch_end(b);
        return hessian_vector_product(images(begin, end), labels(begin, end), v) * share(b);
    }

    Eigen::MatrixXd restrict_square(const Eigen::MatrixXd& full) const {
        if (all_) return full;
        const auto p = static_cast<Eigen::Index>(indices_.size());
        Eigen::MatrixXd out(p, p);
        for (Eigen::Index j = 0; j < p; ++j)
            for (Eigen::Index i = 0; i < p; ++i) out(i, j) = full(indices_[static_cast<std::size_t>(i)], indices_[static_cast<std::size_t>(j)]);
        return out;
    }

    void select_blocks(const std::vector<std::string>& names, const char* where) {
        all_ = names.empty();
        if (all_) return;
        const std::vector<ParameterBlock> blocks = model_->parameter_blocks();
        std::vector<bool> taken(full_parameters_, false);
        for (const std::string& name : names) {
            auto it = std::find_if(blocks.begin(), blocks.end(), [&](const ParameterBlock& b) { return b.name == name; });
            if (it == blocks.end()) {
                std::string known;
                for (const auto& b : blocks) known += (known.empty() ? "" : ", ") + b.name;
                throw invalid_argument(detail::message(where, ": unknown parameter block '", name, "', expected one of: ", known));
            }
            detail::require(it->offset + it->size <= full_parameters_, where, ": the model's parameter block '", name,
                            "' ends at ", it->offset + it->size, ", beyond num_parameters() = ", full_parameters_);
            for (std::size_t k = it->offset; k < it->offset + it->size; ++k) {
                detail::require(!taken[k], where, ": parameter block '", name, "' is named twice or overlaps another");
                taken[k] = true;
                indices_.push_back(static_cast<Eigen::Index>(k));
            }
        }
        detail::require(!indices_.empty(), where, ": the named parameter blocks are empty");
    }

    const M* model_;
    const Batch* images_;
    const Labels* labels_;
    std::size_t batch_size_;
    std::size_t threads_;
    std::size_t full_parameters_ = 0;
    bool all_ = true;
    std::vector<Eigen::Index> indices_;
    Eigen::VectorXd theta_;
};

}  // namespace xai
