#pragma once
// L2-regularized logistic regression on flattened images, binary and multinomial: the convex
// model on which influence functions are exact to first order (Koh & Liang 2017, §4 and the
// experiments of their Fig. 2, whose reference code trains it to a tight tolerance).
//
// An image x (C×H×W) is flattened to D = C·H·W features. With M free classes
//   z = W x + b                                  (W: M×D, b: M, "logits of the free classes")
//   binary       M = 1, logits (0, z): softmax((0, z)) = (1 − σ(z), σ(z)), so the
//                loss is the logistic loss softplus(z) − y z, y ∈ {0, 1}
//   multinomial  M = K, logits z: softmax cross-entropy over K classes
// Per-example loss L(z_i, θ) = logsumexp(logits_i) − logits_i[y_i]; training objective
//   F(θ) = (1/n) Σ_i L(z_i, θ) + (λ/2) ‖θ‖²,       θ = (vec W row-major, b)
// with exact gradient, Hessian and Hessian-vector products:
//   ∇θ L(z_i) = vec(r_i x̃_iᵀ),  r_i = p_i − e_{y_i} restricted to the free classes, x̃ = (x, 1)
//   ∇²θ F     = (1/n) Σ_i S_i ⊗ x̃_i x̃_iᵀ + λ I,  S_i = diag(p_i) − p_i p_iᵀ (free classes)
//
// The bias is regularized like the weights. Koh & Liang's logistic regression has no bias at
// all (influence-release, logisticRegressionWithLBFGS.py: fit_intercept=False, every parameter
// under weight decay); regularizing the bias keeps their setting's key property — F is
// λ-strongly convex, so the optimum is unique and the Hessian is invertible (H ⪰ λI), which
// the influence formula needs — while still letting the model shift its decision boundary.
// Use `bias = false` for exactly their model.
//
// λ defaults to 0.01, the weight decay of the reference MNIST logistic-regression experiment
// (influence-release, scripts/train_mnist_logreg.py), with the same meaning: the objective is
// the mean loss plus (λ/2)‖θ‖² (TensorFlow's weight_decay · l2_loss, sklearn's C = 1/(nλ)).
//
// fit() runs Newton's method (dense Cholesky of the exact Hessian, Armijo backtracking) for
// models up to a few thousand parameters and L-BFGS beyond, from the current parameters
// (so set_parameters() + fit() warm-starts, e.g. for leave-one-out retraining), to a
// gradient norm of 1e-10 by default, and reports the final gradient norm. With λ = 0 and data
// that θ separates (every training example's label has the strictly largest logit), the loss
// has no minimizer: its infimum 0 is approached as ‖θ‖ → ∞, and the gradient norm becomes small
// only because θ has become huge. fit() then reports `separable` and not `converged` (and does
// so instead of throwing when Newton's Hessian is no longer positive definite on the way).
//
// All arithmetic is in double precision; only forward() returns float logits.
//
// The class is a template (BasicLogisticRegression<double>, used through the alias
// LogisticRegression) only so that its member functions — dense products, the Cholesky
// factorization of Newton's method — are compiled in the translation units that call them,
// not in every one that includes this header: as a plain class this header alone cost 3.9 s
// of -fsyntax-only against the 1.2 s of the Eigen and xtensor headers it includes.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings in Eigen

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

#include <Eigen/Cholesky>

namespace xai::models {

/// How fit() minimizes the objective.
enum class LogisticSolver {
    automatic,  ///< Newton when the model has at most newton_max_parameters parameters, else L-BFGS
    newton,     ///< Newton's method with the exact Hessian and Armijo backtracking
    lbfgs,      ///< limited-memory BFGS (Liu & Nocedal 1989) with Armijo backtracking
};

/// Options of LogisticRegression::fit(); the defaults fit to a gradient norm of 1e-10.
struct LogisticFitOptions {
    LogisticSolver solver = LogisticSolver::automatic;  ///< Newton up to newton_max_parameters, else L-BFGS
    /// Stop when ‖∇F(θ)‖₂ is at most this. Influence functions assume ∇F(θ̂) = 0; 1e-10 leaves
    /// an error in θ of at most 1e-10/λ, far below the effect of removing one example.
    double gradient_tolerance = 1e-10;
    /// Iteration limit; 0 means 100 for Newton and 10,000 for L-BFGS.
    std::size_t max_iterations = 0;
    /// Number of correction pairs L-BFGS keeps (10, as in most implementations).
    std::size_t lbfgs_memory = 10;
    /// The automatic choice uses Newton up to this many parameters (a dense P×P Cholesky).
    std::size_t newton_max_parameters = 2500;
};

/// What fit() did.
struct LogisticFitReport {
    std::string solver;           ///< "newton" or "lbfgs"
    std::size_t iterations = 0;   ///< iterations run (Newton steps or L-BFGS steps)
    double objective = 0.0;       ///< F(θ) at the end
    double gradient_norm = 0.0;   ///< ‖∇F(θ)‖₂ at the end: how close θ is to the optimum
    /// gradient_norm ≤ gradient_tolerance and a minimizer exists (false when `separable`)
    bool converged = false;
    /// λ = 0 and θ classifies every training example correctly: the data are separable and the
    /// loss has no minimizer (it falls towards 0 as ‖θ‖ grows, so a small gradient norm is
    /// reached only by a huge θ and means nothing); use l2_regularization > 0.
    bool separable = false;
};

/// L2-regularized logistic regression on flattened images, binary or multinomial (Koh & Liang
/// 2017, §4): F(θ) = (1/n) Σ_i L(z_i, θ) + (λ/2)‖θ‖², with exact gradients, Hessian and
/// Hessian-vector products, so influence functions on it are exact to first order.
/// Satisfies Classifier, InputGradientModel, TwiceDifferentiableModel and ExactHessianModel.
/// λ defaults to 0.01, the weight decay of influence-release's MNIST logistic regression.
///
/// `Scalar` is the precision of θ and of every computation; only double is provided. Use the
/// alias LogisticRegression (the template exists for compile cost: see the header comment).
template <class Scalar = double>
    requires std::same_as<Scalar, double>
class BasicLogisticRegression {
public:
    /// A row-major double matrix (the layout of W, M×D).
    using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

    /// Binary logistic regression: two logits (0, wᵀx + b), classes 0 and 1.
    static BasicLogisticRegression binary(ImageShape input_shape, double l2_regularization = 0.01, bool bias = true) {
        return BasicLogisticRegression(input_shape, 2, 1, l2_regularization, bias,
                                       "xai::models::LogisticRegression::binary()");
    }

    /// Multinomial (softmax) logistic regression over `num_classes` ≥ 2 classes, one weight
    /// vector and bias per class (over-parametrized, made unique by the L2 term).
    static BasicLogisticRegression multinomial(ImageShape input_shape, std::size_t num_classes,
                                               double l2_regularization = 0.01, bool bias = true) {
        return BasicLogisticRegression(input_shape, num_classes, num_classes, l2_regularization, bias,
                                       "xai::models::LogisticRegression::multinomial()");
    }

    // ---- Classifier ------------------------------------------------------------------------

    /// Logits, N×K (binary: column 0 is 0).
    Scores forward(const Batch& batch) const {
        xai::detail::require_model_input(*this, batch, "xai::models::LogisticRegression::forward()");
        const Eigen::MatrixXd z = free_logits(flatten_features(batch));
        const std::size_t n = batch.shape(0);
        Scores out = xt::zeros<float>({n, classes_});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t m = 0; m < free_; ++m)
                out(i, m + offset()) = static_cast<float>(z(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(m)));
        return out;
    }
    /// K, the number of classes (2 for a binary model).
    std::size_t num_classes() const { return classes_; }
    /// The shape of one input image, C×H×W.
    ImageShape input_shape() const { return shape_; }

    // ---- InputGradientModel ----------------------------------------------------------------

    /// ∇x Σ_k seed_k · logit_k = Σ_m seed_{free m} W_m (the model is linear in x).
    InputGradients input_gradients(const Batch& batch, const ScoreSeed& seed) const {
        const char* where = "xai::models::LogisticRegression::input_gradients()";
        xai::detail::require_model_input(*this, batch, where);
        InputGradients out;
        out.scores = forward(batch);
        const Scores s = seed(out.scores);
        xai::detail::require<shape_error>(s.shape(0) == batch.shape(0) && s.shape(1) == classes_, where,
                                          ": the seed returned shape ", shape_string(s.shape()), ", expected [",
                                          batch.shape(0), ", ", classes_, "]");
        const std::size_t n = batch.shape(0);
        Eigen::MatrixXd seeds(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(free_));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t m = 0; m < free_; ++m) seeds(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(m)) = s(i, m + offset());
        const RowMatrix g = seeds * weights();
        out.gradients = Batch::from_shape(batch.shape());
        std::transform(g.data(), g.data() + g.size(), out.gradients.data(), [](double v) { return static_cast<float>(v); });
        return out;
    }

    // ---- TwiceDifferentiableModel / ExactHessianModel --------------------------------------

    /// M·D weights plus M biases when the model has them.
    std::size_t num_parameters() const { return static_cast<std::size_t>(theta_.size()); }
    /// θ = (vec W row-major, b).
    Eigen::VectorXd parameters() const { return theta_; }
    /// λ of the (λ/2)‖θ‖² term (bias included).
    double l2_regularization() const { return lambda_; }

    /// "weight" (M×D, row-major) then "bias" (M) when the model has one.
    std::vector<ParameterBlock> parameter_blocks() const {
        std::vector<ParameterBlock> blocks{{"weight", 0, free_ * features_}};
        if (bias_) blocks.push_back({"bias", free_ * features_, free_});
        return blocks;
    }

    /// L(z_i, θ) = logsumexp(logits_i) − logits_i[y_i], without the L2 term.
    Eigen::VectorXd per_example_losses(const Batch& batch, const Labels& labels) const {
        const char* where = "xai::models::LogisticRegression::per_example_losses()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        const Eigen::MatrixXd z = free_logits(x);
        Eigen::VectorXd losses(z.rows());
        for (Eigen::Index i = 0; i < z.rows(); ++i) losses(i) = row_loss(z.row(i), labels[static_cast<std::size_t>(i)]);
        return losses;
    }

    /// P×N: column i is ∇θ L(z_i, θ) = vec(r_i x̃_iᵀ), without the L2 term.
    Eigen::MatrixXd per_example_loss_gradients(const Batch& batch, const Labels& labels) const {
        const char* where = "xai::models::LogisticRegression::per_example_loss_gradients()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        const Eigen::MatrixXd r = residuals(free_logits(x), labels);
        const Eigen::Index n = x.rows(), d = x.cols();
        Eigen::MatrixXd g(theta_.size(), n);
        for (Eigen::Index i = 0; i < n; ++i) {
            double* column = g.col(i).data();
            for (Eigen::Index m = 0; m < static_cast<Eigen::Index>(free_); ++m) {
                const double rim = r(i, m);
                for (Eigen::Index j = 0; j < d; ++j) column[m * d + j] = rim * x(i, j);
                if (bias_) column[static_cast<Eigen::Index>(free_) * d + m] = rim;
            }
        }
        return g;
    }

    /// N×T: entry (i, t) is ∇θ L(z_i, θ)ᵀ v_t for the columns v_t of `v`, without forming the
    /// gradients: Σ_m r_im (V_t x̃_i)_m. Influence uses it to stream I_up,loss = −∇Lᵀ s_test.
    Eigen::MatrixXd per_example_loss_gradient_products(const Batch& batch, const Labels& labels, const Eigen::MatrixXd& v) const {
        const char* where = "xai::models::LogisticRegression::per_example_loss_gradient_products()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        xai::detail::require<shape_error>(v.rows() == theta_.size(), where, ": v has ", v.rows(),
                                          " rows, expected num_parameters() = ", theta_.size());
        const Eigen::MatrixXd r = residuals(free_logits(x), labels);
        Eigen::MatrixXd out(x.rows(), v.cols());
        for (Eigen::Index t = 0; t < v.cols(); ++t)
            out.col(t) = r.cwiseProduct(linear_map(x, v.col(t))).rowwise().sum();
        return out;
    }

    /// ∇²[(1/n) Σ_{i in batch} L(z_i, θ)] v + λ v, without forming the Hessian:
    /// u_i = V x̃_i, a_i = S_i u_i, result = (1/n) vec(Σ_i a_i x̃_iᵀ) + λ v.
    Eigen::VectorXd loss_hessian_vector_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        const char* where = "xai::models::LogisticRegression::loss_hessian_vector_product()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        require_parameter_vector(v, where, "v");
        const Eigen::MatrixXd p = free_probabilities(free_logits(x));
        const Eigen::MatrixXd a = apply_curvature(p, linear_map(x, v));
        return backproject(x, a) / static_cast<double>(x.rows()) + lambda_ * v;
    }

    /// The dense Hessian ∇²[(1/n) Σ_{i in batch} L(z_i, θ)] + λ I (P×P): the matrix whose
    /// product with v is loss_hessian_vector_product(batch, labels, v). Block (m, l) over the
    /// augmented features is (1/n) X̃ᵀ diag(p_m (δ_ml − p_l)) X̃.
    Eigen::MatrixXd loss_hessian(const Batch& batch, const Labels& labels) const {
        const Eigen::MatrixXd x = checked_features(batch, labels, "xai::models::LogisticRegression::loss_hessian()");
        return hessian_of(x, free_probabilities(free_logits(x)));
    }

    /// P×(N·M): the factors of the per-example loss Hessians, ∇²θ L(z_i) = U_i U_iᵀ with U_i the
    /// M columns [i·M, (i+1)·M) (M free classes; λ not included). ∇²L(z_i) = S_i ⊗ x̃_i x̃_iᵀ with
    /// S_i = diag(p_i) − p_i p_iᵀ ⪰ 0, so U_i = R_i ⊗ x̃_i for any R_i with R_i R_iᵀ = S_i (here
    /// from S's pivoted LDLᵀ; binary: the one column √(p(1 − p)) x̃_i). The Newton-step leave-one-out
    /// (explain/influence/newton_step.hpp) updates the Hessian's factorization by them.
    Eigen::MatrixXd per_example_loss_hessian_factors(const Batch& batch, const Labels& labels) const {
        const char* where = "xai::models::LogisticRegression::per_example_loss_hessian_factors()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        const Eigen::MatrixXd p = free_probabilities(free_logits(x));
        const Eigen::Index n = x.rows(), d = x.cols(), m_count = rows();
        Eigen::MatrixXd u = Eigen::MatrixXd::Zero(theta_.size(), n * m_count);
        Eigen::MatrixXd s(m_count, m_count);
        for (Eigen::Index i = 0; i < n; ++i) {
            s = -p.row(i).transpose() * p.row(i);
            s.diagonal() += p.row(i).transpose();
            Eigen::MatrixXd root(m_count, m_count);  // R with R Rᵀ = S, columns = factors
            if (m_count == 1) {
                root(0, 0) = std::sqrt(std::max(0.0, s(0, 0)));
            } else {  // S = Pᵀ L D Lᵀ P (pivoted LDLᵀ copes with S's zero eigenvalue): R = Pᵀ L D^{1/2}
                const Eigen::LDLT<Eigen::MatrixXd> ldlt(s);
                root = Eigen::MatrixXd(ldlt.matrixL()) * ldlt.vectorD().cwiseMax(0.0).cwiseSqrt().asDiagonal();
                root = ldlt.transpositionsP().transpose() * root;
            }
            for (Eigen::Index c = 0; c < m_count; ++c) {
                double* column = u.col(i * m_count + c).data();
                for (Eigen::Index m = 0; m < m_count; ++m) {
                    const double q = root(m, c);
                    for (Eigen::Index j = 0; j < d; ++j) column[m * d + j] = q * x(i, j);
                    if (bias_) column[m_count * d + m] = q;
                }
            }
        }
        return u;
    }

    // ---- beyond the concepts ---------------------------------------------------------------

    /// Replaces θ (e.g. the optimum of a larger training set, to warm-start fit()).
    void set_parameters(const Eigen::VectorXd& theta) {
        require_parameter_vector(theta, "xai::models::LogisticRegression::set_parameters()", "theta");
        theta_ = theta;
    }

    /// F(θ) = (1/n) Σ L(z_i, θ) + (λ/2) ‖θ‖².
    double objective(const Batch& batch, const Labels& labels) const {
        return per_example_losses(batch, labels).mean() + 0.5 * lambda_ * theta_.squaredNorm();
    }

    /// ∇F(θ) = (1/n) Σ ∇θ L(z_i, θ) + λ θ.
    Eigen::VectorXd objective_gradient(const Batch& batch, const Labels& labels) const {
        const char* where = "xai::models::LogisticRegression::objective_gradient()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        return objective_gradient_of(x, labels, theta_);
    }

    /// (∇x ∇θ L(z_i, θ)) v for every example: the input gradient of vᵀ∇θ L(z_i, θ), N×C×H×W,
    /// in closed form: with a = V x̃ (M) and r = p − e_y, ∇x(rᵀa) = Vᵀ r + Wᵀ (S a).
    /// Influence uses it for I_pert,loss (Koh & Liang 2017, eq. 5).
    Batch loss_mixed_derivative_product(const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) const {
        const char* where = "xai::models::LogisticRegression::loss_mixed_derivative_product()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        require_parameter_vector(v, where, "v");
        const Eigen::MatrixXd z = free_logits(x);
        const Eigen::MatrixXd r = residuals(z, labels);
        const Eigen::MatrixXd s_a = apply_curvature(free_probabilities(z), linear_map(x, v));
        const RowMatrix out = r * weights_of(v) + s_a * weights();
        Batch result = Batch::from_shape(batch.shape());
        std::transform(out.data(), out.data() + out.size(), result.data(), [](double e) { return static_cast<float>(e); });
        return result;
    }

    /// Minimizes F from the current parameters (see the header comment); θ is left at the
    /// last iterate and the report says how close to the optimum it is.
    LogisticFitReport fit(const Batch& batch, const Labels& labels, const LogisticFitOptions& options = {}) {
        const char* where = "xai::models::LogisticRegression::fit()";
        const Eigen::MatrixXd x = checked_features(batch, labels, where);
        xai::detail::require(options.gradient_tolerance >= 0.0 && std::isfinite(options.gradient_tolerance), where,
                             ": gradient_tolerance is ", options.gradient_tolerance, ", expected a finite value >= 0");
        xai::detail::require(options.lbfgs_memory > 0, where, ": lbfgs_memory is 0, expected at least 1");
        const bool newton = options.solver == LogisticSolver::newton ||
                            (options.solver == LogisticSolver::automatic && num_parameters() <= options.newton_max_parameters);
        return newton ? fit_newton(x, labels, options) : fit_lbfgs(x, labels, options);
    }

    /// D = C·H·W, the number of input features.
    std::size_t num_features() const { return features_; }
    /// True when the model has a bias b.
    bool has_bias() const { return bias_; }
    /// True for a binary model (one free class, logits (0, wᵀx + b)).
    bool is_binary() const { return free_ + 1 == classes_; }

private:
    BasicLogisticRegression(ImageShape shape, std::size_t classes, std::size_t free, double lambda, bool bias, const char* where)
        : shape_(shape), classes_(classes), free_(free), features_(shape.size()), lambda_(lambda), bias_(bias) {
        xai::detail::require<shape_error>(shape.size() > 0, where, ": input_shape is ", to_string(shape),
                                          ", expected every extent > 0");
        xai::detail::require(classes >= 2, where, ": num_classes is ", classes, ", expected at least 2");
        xai::detail::require(std::isfinite(lambda) && lambda >= 0.0, where, ": l2_regularization is ", lambda,
                             ", expected a finite value >= 0");
        theta_ = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(free_ * features_ + (bias_ ? free_ : 0)));
    }

    std::size_t offset() const { return classes_ - free_; }
    Eigen::Index rows() const { return static_cast<Eigen::Index>(free_); }
    Eigen::Index cols() const { return static_cast<Eigen::Index>(features_); }

    Eigen::Map<const RowMatrix> weights_of(const Eigen::VectorXd& v) const { return {v.data(), rows(), cols()}; }
    Eigen::Map<const RowMatrix> weights() const { return weights_of(theta_); }

    void require_parameter_vector(const Eigen::VectorXd& v, const char* where, const char* name) const {
        xai::detail::require<shape_error>(v.size() == theta_.size(), where, ": ", name, " has ", v.size(),
                                          " entries, expected num_parameters() = ", theta_.size());
        xai::detail::require(v.allFinite(), where, ": ", name, " contains NaN or Inf, expected finite values");
    }

    Eigen::MatrixXd checked_features(const Batch& batch, const Labels& labels, const char* where) const {
        xai::detail::require_model_input(*this, batch, where);
        xai::detail::require<shape_error>(labels.size() == batch.shape(0), where, ": labels has ", labels.size(),
                                          " entries, expected one per image (", batch.shape(0), ")");
        for (std::size_t i = 0; i < labels.size(); ++i)
            xai::detail::require(labels[i] < classes_, where, ": labels[", i, "] is ", labels[i],
                                 ", expected a class index below ", classes_);
        return flatten_features(batch);
    }

    /// A batch flattened to an N×D double matrix, the form every computation below works on.
    static Eigen::MatrixXd flatten_features(const Batch& batch) {
        const std::size_t n = batch.shape(0);
        const std::size_t d = batch.size() / std::max<std::size_t>(n, 1);
        using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        return Eigen::Map<const RowMajorF>(batch.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d))
            .cast<double>();
    }

    /// X Vᵀ + 1 v_bᵀ (N×M): the free logits of parameter vector v.
    Eigen::MatrixXd linear_map(const Eigen::MatrixXd& x, const Eigen::VectorXd& v) const {
        Eigen::MatrixXd z = x * weights_of(v).transpose();
        if (bias_) z.rowwise() += v.tail(rows()).transpose();
        return z;
    }
    Eigen::MatrixXd free_logits(const Eigen::MatrixXd& x) const { return linear_map(x, theta_); }

    /// Softmax over the full logits (a fixed 0 first for binary), restricted to the free classes.
    Eigen::MatrixXd free_probabilities(const Eigen::MatrixXd& z) const {
        Eigen::MatrixXd p(z.rows(), z.cols());
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            const double top = std::max(offset() ? 0.0 : -std::numeric_limits<double>::infinity(), z.row(i).maxCoeff());
            double sum = offset() ? std::exp(-top) : 0.0;
            for (Eigen::Index m = 0; m < z.cols(); ++m) sum += p(i, m) = std::exp(z(i, m) - top);
            p.row(i) /= sum;
        }
        return p;
    }

    /// r_i = p_i − e_{y_i} on the free classes: dL/dz.
    Eigen::MatrixXd residuals(const Eigen::MatrixXd& z, const Labels& labels) const {
        Eigen::MatrixXd r = free_probabilities(z);
        for (Eigen::Index i = 0; i < r.rows(); ++i) {
            const std::size_t y = labels[static_cast<std::size_t>(i)];
            if (y >= offset()) r(i, static_cast<Eigen::Index>(y - offset())) -= 1.0;
        }
        return r;
    }

    /// Row-wise S_i u_i = p_i ∘ u_i − p_i (p_iᵀ u_i).
    static Eigen::MatrixXd apply_curvature(const Eigen::MatrixXd& p, const Eigen::MatrixXd& u) {
        Eigen::MatrixXd a = p.cwiseProduct(u);
        const Eigen::VectorXd dots = a.rowwise().sum();
        a -= p.cwiseProduct(dots.rowwise().replicate(p.cols()));
        return a;
    }

    /// vec(Σ_i a_i x̃_iᵀ) in the parameter layout (the transpose of linear_map).
    Eigen::VectorXd backproject(const Eigen::MatrixXd& x, const Eigen::MatrixXd& a) const {
        Eigen::VectorXd out(theta_.size());
        Eigen::Map<RowMatrix>(out.data(), rows(), cols()).noalias() = a.transpose() * x;
        if (bias_) out.tail(rows()) = a.colwise().sum().transpose();
        return out;
    }

    double row_loss(const Eigen::Ref<const Eigen::RowVectorXd>& z, std::size_t y) const {
        const double top = std::max(offset() ? 0.0 : -std::numeric_limits<double>::infinity(), z.maxCoeff());
        double sum = offset() ? std::exp(-top) : 0.0;
        for (Eigen::Index m = 0; m < z.size(); ++m) sum += std::exp(z(m) - top);
        const double logit_y = y < offset() ? 0.0 : z(static_cast<Eigen::Index>(y - offset()));
        return top + std::log(sum) - logit_y;
    }

    Eigen::VectorXd objective_gradient_of(const Eigen::MatrixXd& x, const Labels& labels, const Eigen::VectorXd& theta) const {
        const Eigen::MatrixXd r = residuals(linear_map(x, theta), labels);
        return backproject(x, r) / static_cast<double>(x.rows()) + lambda_ * theta;
    }

    double objective_of(const Eigen::MatrixXd& x, const Labels& labels, const Eigen::VectorXd& theta) const {
        const Eigen::MatrixXd z = linear_map(x, theta);
        double sum = 0.0;
        for (Eigen::Index i = 0; i < z.rows(); ++i) sum += row_loss(z.row(i), labels[static_cast<std::size_t>(i)]);
        return sum / static_cast<double>(z.rows()) + 0.5 * lambda_ * theta.squaredNorm();
    }

    Eigen::MatrixXd hessian_of(const Eigen::MatrixXd& x, const Eigen::MatrixXd& p) const {
        const Eigen::Index n = x.rows(), d = x.cols(), m_count = rows();
        const Eigen::Index e = bias_ ? d + 1 : d;  // augmented feature count
        Eigen::MatrixXd xt(n, e);
        xt.leftCols(d) = x;
        if (bias_) xt.col(d).setOnes();
        const Eigen::Index p_count = theta_.size();
        Eigen::MatrixXd h = Eigen::MatrixXd::Zero(p_count, p_count);
        auto index = [&](Eigen::Index m, Eigen::Index j) { return j < d ? m * d + j : m_count * d + m; };
        Eigen::MatrixXd scaled(n, e);
        for (Eigen::Index m = 0; m < m_count; ++m) {
            for (Eigen::Index l = m; l < m_count; ++l) {
                const Eigen::VectorXd c = m == l ? Eigen::VectorXd(p.col(m).array() * (1.0 - p.col(m).array()))
                                                 : Eigen::VectorXd(-p.col(m).array() * p.col(l).array());
                scaled.noalias() = c.asDiagonal() * xt;
                const Eigen::MatrixXd block = (xt.transpose() * scaled) / static_cast<double>(n);
                for (Eigen::Index j = 0; j < e; ++j)
                    for (Eigen::Index k = 0; k < e; ++k) {
                        h(index(m, j), index(l, k)) = block(j, k);
                        h(index(l, k), index(m, j)) = block(j, k);
                    }
            }
        }
        h.diagonal().array() += lambda_;
        return h;
    }

    /// Accepts a step when it satisfies Armijo's condition, or — once F is flat to rounding
    /// near the optimum, where Armijo cannot see the decrease — when it does not raise F
    /// beyond rounding and lowers the gradient norm.
    struct StepResult {
        bool accepted = false;
        Eigen::VectorXd theta, gradient;
        double objective = 0.0;
    };
    StepResult line_search(const Eigen::MatrixXd& x, const Labels& labels, const Eigen::VectorXd& theta, double f,
                           const Eigen::VectorXd& g, const Eigen::VectorXd& direction) const {
        const double slope = g.dot(direction);
        const double g_norm = g.norm();
        double t = 1.0;
        for (int attempt = 0; attempt < 60; ++attempt, t *= 0.5) {
            StepResult s;
            s.theta = theta + t * direction;
            s.objective = objective_of(x, labels, s.theta);
            if (!std::isfinite(s.objective)) continue;
            const bool armijo = s.objective <= f + 1e-4 * t * slope;
            const bool flat = s.objective <= f + 1e-14 * std::abs(f);
            if (armijo || flat) {
                s.gradient = objective_gradient_of(x, labels, s.theta);
                if (armijo || s.gradient.norm() < g_norm) {
                    s.accepted = true;
                    return s;
                }
            }
        }
        return {};
    }

    LogisticFitReport finished(LogisticFitReport report, double f, const Eigen::VectorXd& g, const LogisticFitOptions& options,
                               const Eigen::MatrixXd& x, const Labels& labels) const {
        report.objective = f;
        report.gradient_norm = g.norm();
        report.separable = lambda_ == 0.0 && separates(x, labels);
        report.converged = report.gradient_norm <= options.gradient_tolerance && !report.separable;
        return report;
    }

    /// True when every example's label has the strictly largest logit under θ.
    bool separates(const Eigen::MatrixXd& x, const Labels& labels) const {
        const Eigen::MatrixXd z = free_logits(x);
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            const std::size_t y = labels[static_cast<std::size_t>(i)];
            const double label_logit = y < offset() ? 0.0 : z(i, static_cast<Eigen::Index>(y - offset()));
            if (offset() && y != 0 && !(0.0 < label_logit)) return false;  // the fixed logit 0 of class 0
            for (Eigen::Index m = 0; m < z.cols(); ++m)
                if (static_cast<std::size_t>(m) + offset() != y && !(z(i, m) < label_logit)) return false;
        }
        return true;
    }

    LogisticFitReport fit_newton(const Eigen::MatrixXd& x, const Labels& labels, const LogisticFitOptions& options) {
        LogisticFitReport report;
        report.solver = "newton";
        const std::size_t limit = options.max_iterations ? options.max_iterations : 100;
        double f = objective_of(x, labels, theta_);
        Eigen::VectorXd g = objective_gradient_of(x, labels, theta_);
        while (g.norm() > options.gradient_tolerance && report.iterations < limit) {
            const Eigen::LLT<Eigen::MatrixXd> llt(hessian_of(x, free_probabilities(linear_map(x, theta_))));
            if (llt.info() != Eigen::Success) {
                if (lambda_ == 0.0 && separates(x, labels)) break;  // finished() reports it
                throw numerical_error(xai::detail::message(
                    "xai::models::LogisticRegression::fit(): the Hessian is not positive definite (l2_regularization is ",
                    lambda_, "); use l2_regularization > 0"));
            }
            const Eigen::VectorXd direction = llt.solve(-g);
            StepResult step = line_search(x, labels, theta_, f, g, direction);
            if (!step.accepted) break;
            theta_ = std::move(step.theta);
            f = step.objective;
            g = std::move(step.gradient);
            ++report.iterations;
        }
        return finished(std::move(report), f, g, options, x, labels);
    }

    /// L-BFGS two-loop recursion (Nocedal & Wright 2006, Algorithm 7.4) with H₀ = (sᵀy / yᵀy) I.
    LogisticFitReport fit_lbfgs(const Eigen::MatrixXd& x, const Labels& labels, const LogisticFitOptions& options) {
        LogisticFitReport report;
        report.solver = "lbfgs";
        const std::size_t limit = options.max_iterations ? options.max_iterations : 10000;
        std::deque<Eigen::VectorXd> s_history, y_history;
        std::deque<double> rho;
        double f = objective_of(x, labels, theta_);
        Eigen::VectorXd g = objective_gradient_of(x, labels, theta_);
        while (g.norm() > options.gradient_tolerance && report.iterations < limit) {
            Eigen::VectorXd q = g;
            std::vector<double> alpha(s_history.size());
            for (std::size_t k = s_history.size(); k-- > 0;) {
                alpha[k] = rho[k] * s_history[k].dot(q);
                q -= alpha[k] * y_history[k];
            }
            // Before any curvature pair, a first step of length 1/λ_max-ish: scale by 1/‖g‖.
            q *= s_history.empty() ? 1.0 / std::max(1.0, g.norm())
                                   : s_history.back().dot(y_history.back()) / y_history.back().squaredNorm();
            for (std::size_t k = 0; k < s_history.size(); ++k) q += s_history[k] * (alpha[k] - rho[k] * y_history[k].dot(q));
            Eigen::VectorXd direction = -q;
            if (g.dot(direction) >= 0.0) {  // lost descent through rounding: restart from the gradient
                s_history.clear(), y_history.clear(), rho.clear();
                direction = -g / std::max(1.0, g.norm());
            }
            StepResult step = line_search(x, labels, theta_, f, g, direction);
            if (!step.accepted) break;
            Eigen::VectorXd s = step.theta - theta_, y = step.gradient - g;
            const double sy = s.dot(y);
            if (sy > 1e-300) {
                s_history.push_back(std::move(s)), y_history.push_back(std::move(y)), rho.push_back(1.0 / sy);
                if (s_history.size() > options.lbfgs_memory) s_history.pop_front(), y_history.pop_front(), rho.pop_front();
            }
            theta_ = std::move(step.theta);
            f = step.objective;
            g = std::move(step.gradient);
            ++report.iterations;
        }
        return finished(std::move(report), f, g, options, x, labels);
    }

    ImageShape shape_;
    std::size_t classes_ = 0;
    std::size_t free_ = 0;
    std::size_t features_ = 0;
    double lambda_ = 0.0;
    bool bias_ = true;
    Eigen::VectorXd theta_;
};

/// L2-regularized logistic regression in double precision (see BasicLogisticRegression).
using LogisticRegression = BasicLogisticRegression<double>;

static_assert(Classifier<LogisticRegression>);
static_assert(InputGradientModel<LogisticRegression>);
static_assert(TwiceDifferentiableModel<LogisticRegression>);
static_assert(ExactHessianModel<LogisticRegression>);

}  // namespace xai::models
