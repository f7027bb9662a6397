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
// Distributed (InfluenceOptions::distribution, explain/influence/distribution.hpp): `images` and
// `labels` are this process's shard; every pass streams the local batches and combines what it
// produces across processes so that results equal one process's (bit for bit except the dense
// Hessian: see distribution.hpp). num_examples() and batch indices are those of the whole set.
//
// Public, not an internal: every inverse-Hessian solver (the InverseHessianSolver policy of
// solver.hpp, a user's own included) receives it, and Influence::training_loss() returns it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
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
#include "xai/explain/influence/distribution.hpp"

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
                 std::size_t batch_size, std::size_t threads, const char* where, const Distribution& distribution = {})
        : model_(&model), images_(&images), labels_(&labels), batch_size_(batch_size), threads_(threads),
          communicator_(distribution.communicator) {
        detail::require<shape_error>(images.shape(0) > 0, where, ": the training set is empty, expected at least one example");
        detail::require<shape_error>(labels.size() == images.shape(0), where, ": the training labels have ", labels.size(),
                                     " entries, expected one per training image (", images.shape(0), ")");
        detail::require<shape_error>(image_shape(images) == model.input_shape(), where, ": training images are ",
                                     to_string(image_shape(images)), ", the model expects ", to_string(model.input_shape()));
        for (std::size_t i = 0; i < labels.size(); ++i)
            detail::require(labels[i] < model.num_classes(), where, ": training label ", i, " is ", labels[i],
                            ", expected a class index below ", model.num_classes());
        detail::require(batch_size > 0, where, ": batch_size is 0, expected at least 1");
        total_ = images.shape(0);
        if (communicator_) check_shards(distribution, where);
        full_parameters_ = model.num_parameters();
        select_blocks(blocks, where);
        theta_ = restrict(model.parameters());
    }

    /// The model whose objective this is.
    const M& model() const { return *model_; }
    /// n, the number of training examples (of the whole set when distributed).
    std::size_t num_examples() const { return total_; }
    /// True when the training set is spread over several processes.
    bool distributed() const { return communicator_ != nullptr; }
    /// The examples [begin, end) of the whole set this process holds (all of them in one process).
    Shard shard() const { return {first_, first_ + images_->shape(0)}; }
    /// Size of the parameter subset S (all parameters when no blocks were named).
    std::size_t num_parameters() const { return all_ ? full_parameters_ : indices_.size(); }
    /// λ of the (λ/2)‖θ‖² term, the model's l2_regularization().
    double l2_regularization() const { return model_->l2_regularization(); }
    /// θ̂ restricted to the parameter subset, as it was at construction.
    const Eigen::VectorXd& theta() const { return theta_; }
    /// Threads of every pass over the training set (0 = all hardware threads).
    std::size_t threads() const { return threads_; }
    /// The labels of this process's training examples (all of them in one process).
    const Labels& labels() const { return *labels_; }
    /// This process's training images, N×C×H×W (all of them in one process).
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

    /// Number of batches of batch_size examples (the last may be shorter), of the whole set.
    std::size_t num_batches() const { return detail::ceil_div(num_examples(), batch_size_); }
    /// The batches [first, last) this process computes.
    std::pair<std::size_t, std::size_t> local_batches() const {
        return {first_ / batch_size_, detail::ceil_div(first_ + images_->shape(0), batch_size_)};
    }
    /// Index of the first training example of batch `b`.
    std::size_t batch_begin(std::size_t b) const { return b * batch_size_; }
    /// One past the index of the last training example of batch `b`.
    std::size_t batch_end(std::size_t b) const { return std::min(num_examples(), (b + 1) * batch_size_); }

    /// Training examples [begin, end) of the whole set as a batch (a copy); they must be this
    /// process's (always true in one process).
    Batch images(std::size_t begin, std::size_t end) const {
        require_local(begin, end);
        const std::size_t stride = images_->size() / images_->shape(0);
        Batch out = Batch::from_shape({end - begin, images_->shape(1), images_->shape(2), images_->shape(3)});
        std::memcpy(out.data(), images_->data() + (begin - first_) * stride, (end - begin) * stride * sizeof(float));
        return out;
    }
    /// The labels of training examples [begin, end) (a copy).
    Labels labels(std::size_t begin, std::size_t end) const {
        require_local(begin, end);
        return Labels(labels_->begin() + static_cast<std::ptrdiff_t>(begin - first_),
                      labels_->begin() + static_cast<std::ptrdiff_t>(end - first_));
    }
    /// The training examples at `indices` (a copy), in that order.
    Batch gather(const std::vector<std::size_t>& indices) const {
        const std::size_t stride = images_->size() / images_->shape(0);
        Batch out = Batch::from_shape({indices.size(), images_->shape(1), images_->shape(2), images_->shape(3)});
        for (std::size_t k = 0; k < indices.size(); ++k) {
            require_local(indices[k], indices[k] + 1);
            std::memcpy(out.data() + k * stride, images_->data() + (indices[k] - first_) * stride, stride * sizeof(float));
        }
        return out;
    }
    /// The labels of the training examples at `indices`, in that order.
    Labels gather_labels(const std::vector<std::size_t>& indices) const {
        Labels out(indices.size());
        for (std::size_t k = 0; k < indices.size(); ++k) {
            require_local(indices[k], indices[k] + 1);
            out[k] = (*labels_)[indices[k] - first_];
        }
        return out;
    }

    /// Runs body(b) for every batch b this process holds (all batches in one process) on up to
    /// threads() threads, in waves of a few batches per thread, then consume(b, result) for the
    /// wave's batches in order on this thread. Combining across processes is the caller's
    /// (ordered_sum(), rank_sum(), share_rows()).
    template <class Body, class Consume>
    void stream(Body&& body, Consume&& consume, const Progress& progress, std::string_view stage) const {
        using Result = decltype(body(std::size_t{}));
        const auto [first, last] = local_batches();
        const std::size_t wave = std::max<std::size_t>(1, std::min(2 * resolve_threads(threads_), last - first));
        std::vector<Result> slots(wave);
        for (std::size_t start = first; start < last; start += wave) {
            const std::size_t count = std::min(wave, last - start);
            parallel_for(count, threads_, [&](std::size_t k) { slots[k] = body(start + k); });
            for (std::size_t k = 0; k < count; ++k) consume(start + k, std::move(slots[k]));
            detail::report(progress, batch_end(start + count - 1) - first_, images_->shape(0), stage);
        }
    }

    // ---- combining across processes (no-ops in one process) -------------------------------

    /// Σ_b parts[b] over every batch of the whole set, added in batch order from zero, whatever
    /// the number of processes: `parts` are this process's, one per local batch, in order, all of
    /// the same length.
    Eigen::VectorXd ordered_sum(const std::vector<Eigen::VectorXd>& parts, Eigen::Index length) const {
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(length);
        if (!communicator_) {
            for (const auto& part : parts) sum += part;
            return sum;
        }
        std::vector<double> local;
        local.reserve(parts.size() * static_cast<std::size_t>(length));
        for (const auto& part : parts) local.insert(local.end(), part.data(), part.data() + part.size());
        const std::vector<double> all = communicator_->all_gather(local);
        for (std::size_t offset = 0; offset + static_cast<std::size_t>(length) <= all.size(); offset += static_cast<std::size_t>(length))
            sum += Eigen::Map<const Eigen::VectorXd>(all.data() + offset, length);
        return sum;
    }

    /// The sum over processes, in rank order, of each process's `local` matrix.
    Eigen::MatrixXd rank_sum(const Eigen::MatrixXd& local) const {
        if (!communicator_) return local;
        const std::vector<double> all = communicator_->all_gather(std::vector<double>(local.data(), local.data() + local.size()));
        Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(local.rows(), local.cols());
        for (std::size_t offset = 0; offset + static_cast<std::size_t>(local.size()) <= all.size(); offset += static_cast<std::size_t>(local.size()))
            sum += Eigen::Map<const Eigen::MatrixXd>(all.data() + offset, local.rows(), local.cols());
        return sum;
    }

    /// Fills the rows of `m` (one per training example of the whole set) that other processes
    /// computed, from theirs: after it, every process has every row, bit for bit.
    void share_rows(Eigen::MatrixXd& m) const {
        if (!communicator_) return;
        const Eigen::Index local = static_cast<Eigen::Index>(images_->shape(0)), cols = m.cols();
        const Eigen::MatrixXd mine = m.middleRows(static_cast<Eigen::Index>(first_), local).transpose();  // rows contiguous
        const std::vector<double> all = communicator_->all_gather(std::vector<double>(mine.data(), mine.data() + mine.size()));
        if (static_cast<Eigen::Index>(all.size()) != m.rows() * cols)
            throw error(detail::message("xai::TrainingLoss: the processes hold ", all.size() / static_cast<std::size_t>(std::max<Eigen::Index>(cols, 1)),
                                        " rows in all, expected ", m.rows()));
        m = Eigen::Map<const Eigen::MatrixXd>(all.data(), cols, m.rows()).transpose();
    }
    /// share_rows() for a vector.
    void share_rows(Eigen::VectorXd& v) const {
        if (!communicator_) return;
        Eigen::MatrixXd m = v;
        share_rows(m);
        v = m.col(0);
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
        std::vector<Eigen::VectorXd> parts;
        stream([&](std::size_t b) { return weighted_batch_hvp(b, v); },
               [&](std::size_t, Eigen::VectorXd part) { parts.push_back(std::move(part)); }, {}, "training examples");
        return ordered_sum(parts, v.size());
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
            h = rank_sum(h);
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
        const auto p = static_cast<Eigen::Index>(num_parameters());
        const double n = static_cast<double>(num_examples());
        std::vector<Eigen::VectorXd> parts;  // (the batch's share of ∇F, of the mean gradient norm)
        stream(
            [&](std::size_t b) {
                const std::size_t begin = batch_begin(b), end = batch_end(b);
                const Eigen::MatrixXd g = gradients(images(begin, end), labels(begin, end));
                Eigen::VectorXd part(p + 1);
                part.head(p) = g.rowwise().sum() / n;
                part(p) = g.colwise().norm().sum() / n;
                return part;
            },
            [&](std::size_t, Eigen::VectorXd part) { parts.push_back(std::move(part)); }, progress,
            "training examples (stationarity)");
        const Eigen::VectorXd sums = ordered_sum(parts, p + 1);
        const Eigen::VectorXd mean_gradient = sums.head(p);
        const double mean_norm = sums(p);
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
        if (communicator_)
            for (double each : communicator_->all_gather({all ? 1.0 : 0.0})) all = all && each != 0.0;
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
    void require_local(std::size_t begin, std::size_t end) const {
        if (begin < first_ || end > first_ + images_->shape(0) || begin > end)
            throw invalid_argument(detail::message(
                "xai::TrainingLoss: training examples [", begin, ", ", end, ") are not all held by this process (it holds [",
                first_, ", ", first_ + images_->shape(0), ") of ", total_, "): this operation is not available on a ",
                "training set distributed over processes"));
    }

    /// Checks that the ranks' shards tile [0, n) in rank order, on batch boundaries.
    void check_shards(const Distribution& d, const char* where) {
        first_ = d.first_example;
        total_ = d.num_examples;
        const std::vector<double> all =
            communicator_->all_gather({static_cast<double>(first_), static_cast<double>(images_->shape(0))});
        std::size_t expected = 0;
        for (std::size_t r = 0; r + 1 < all.size(); r += 2) {
            const auto begin = static_cast<std::size_t>(all[r]), count = static_cast<std::size_t>(all[r + 1]);
            detail::require(begin == expected && begin % batch_size_ == 0, where, ": rank ", r / 2, " holds examples from ", begin,
                            ", expected ", expected, " (the shards must tile the training set in rank order on batch ",
                            "boundaries: use xai::shard_of(n, batch_size, rank, size))");
            expected = begin + count;
        }
        detail::require(expected == total_, where, ": the ranks hold ", expected, " examples in all, expected distribution.num_examples = ",
                        total_);
    }

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
    std::shared_ptr<const Communicator> communicator_;
    std::size_t first_ = 0;  // index of this process's first example in the whole set
    std::size_t total_ = 0;  // n
    std::size_t full_parameters_ = 0;
    bool all_ = true;
    std::vector<Eigen::Index> indices_;
    Eigen::VectorXd theta_;
};

}  // namespace xai
