// Influence functions validated by leave-one-out retraining (Koh & Liang 2017, Fig. 2), the
// self-influence label-checking experiment (§5.4), and the pictures of docs/methods/influence.md.
//
//   influence_loo [--out DIR] [--tests N] [--part logistic|cnn-last|full-cnn]...
//
// Without --part, parts 1–4 run (a few minutes); part 5 runs only when asked for
// (--part full-cnn, about seven minutes on one core), --part may be repeated.
//
// 1. Binary L2 logistic regression, T-shirt/top vs Shirt (Fashion-MNIST, 14×14, 1,000 training
//    images, λ = 0.01), s_test by conjugate gradients; multinomial over T-shirt/top, Pullover,
//    Coat, Shirt (7×7, 800 images), s_test exact. For N test images each, the 100 training
//    images of largest |predicted change| are removed one at a time and the model retrained
//    (Newton, warm-started from θ̂, to ‖∇F‖ ≤ 1e-10); the predicted change −I_up,loss/n is
//    compared with the actual change of the test loss (Pearson r).
// 2. Flip 10% of the binary training labels, retrain, and check training examples in order of
//    self-influence, of training loss, and at random: fraction of flips found after checking
//    10%, 20%, 30%.
// 3. Writes DIR/influence_loo.png (predicted vs actual) and DIR/influence_top.png (the most
//    helpful and harmful training images for three test images). DIR defaults to docs/images.
// 4. The built-in CNN ("fashion", when its weights are installed): its last layer retrained to
//    convergence on the frozen global-average-pooled features of 1,000 training images (10
//    classes), then the same leave-one-out experiment, the last layer retrained each time.
//    Influence through the CNN restricted to {fc.weight, fc.bias} equals that of logistic
//    regression on the features (tests/test_influence.cpp checks it), which is how it is
//    computed here: each Hessian-vector product then costs a pass over 128-dimensional features
//    instead of the whole network's R-operator.
// 5. ("full-cnn") The whole network with conjugate gradients, in the spirit of Koh & Liang's
//    CNN experiment (§5.1, Fig. 2 middle): a small CNN (14×14 input, conv 6 → ReLU → max pool →
//    conv 8 → ReLU → global average pooling → linear, 590 parameters, λ = 1e-3) on 500 training
//    images of all 10 classes, trained by Adam and then 4,000 steps of full-batch L-BFGS; s_test
//    by ConjugateGradientSolver on all parameters (R-operator Hessian-vector products), damped
//    when the Hessian at θ̂ has negative eigenvalues. For 3 test images the 30 training images of
//    largest |predicted change| are removed one at a time and the network retrained by 200
//    L-BFGS steps from θ̂; since θ̂ is not an exact minimizer (ReLU and max pooling make F only
//    piecewise smooth), the actual change is measured against the same 200 steps with nothing
//    removed. Writes DIR/influence_loo_cnn_full.png.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../xai-influence/canvas.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/influence.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/sequential.hpp"
#include "xai/models/training.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

using xai::models::LogisticRegression;

namespace {

using xai_tools::Canvas, xai_tools::Color, xai_tools::black, xai_tools::grey, xai_tools::blue, xai_tools::orange,
    xai_tools::green, xai_tools::red;

// ---- data ------------------------------------------------------------------------------------

struct Subset {
    xai::Batch images;       // as the model sees them
    xai::Batch originals;    // 28×28, for pictures
    xai::Labels labels;
    std::vector<std::size_t> classes;  // original class of label k
};

Subset subset(const xai::LabelledImages& data, const std::vector<std::size_t>& classes, std::size_t count, std::size_t side) {
    std::vector<xai::Image> images;
    Subset out;
    out.classes = classes;
    for (std::size_t i = 0; i < data.labels.size() && images.size() < count; ++i) {
        const auto it = std::find(classes.begin(), classes.end(), data.labels[i]);
        if (it == classes.end()) continue;
        images.push_back(xai::image_at(data.images, i));
        out.labels.push_back(static_cast<std::size_t>(it - classes.begin()));
    }
    out.originals = xai::stack(images);
    out.images = xai::resize(out.originals, side, side);
    return out;
}

Subset without(const Subset& s, std::size_t removed) {
    const std::size_t n = s.labels.size(), stride = s.images.size() / n;
    Subset out;
    out.images = xai::Batch::from_shape({n - 1, s.images.shape(1), s.images.shape(2), s.images.shape(3)});
    std::copy(s.images.data(), s.images.data() + removed * stride, out.images.data());
    std::copy(s.images.data() + (removed + 1) * stride, s.images.data() + n * stride, out.images.data() + removed * stride);
    out.labels = s.labels;
    out.labels.erase(out.labels.begin() + static_cast<std::ptrdiff_t>(removed));
    return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

/// Spearman's rank correlation: Pearson's r of the ranks (the values here have no ties).
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    auto ranks = [](const std::vector<double>& v) {
        std::vector<std::size_t> order(v.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
        std::vector<double> r(v.size());
        for (std::size_t k = 0; k < order.size(); ++k) r[order[k]] = static_cast<double>(k);
        return r;
    };
    return pearson(ranks(a), ranks(b));
}

struct LooResult {
    std::vector<double> predicted, actual;
    std::vector<double> predicted_fixed;  // −I_up,loss/n (Retraining::fixed_total)
    std::vector<double> r_per_test;
    std::vector<xai::InfluenceExplanation> explanations;  // one per test image
};

/// Leave-one-out retraining for the `removals` most influential training points of each test
/// image: `retrain(rest)` returns the model refitted without one training image, warm-started
/// from `model`. The actual change is measured from `model`'s test loss, or from `reference`'s
/// when given (the same retraining with nothing removed, for a model not exactly at a minimum).
template <class Model, class Solver, class Retrain>
LooResult leave_one_out(const Model& model, const Subset& train, const Subset& test, std::size_t tests, Solver solver,
                        const char* name, Retrain retrain, std::size_t removals = 100,
                        const xai::InfluenceOptions& options = {}, const Model* reference = nullptr) {
    const xai::Influence<Model, Solver> influence(model, train.images, train.labels, options, solver);
    const xai::InfluenceDiagnostics& d = influence.diagnostics();
    std::printf("%s: n = %zu, %zu parameters, gradient norm %.2e (relative %.2e)\n", name, d.num_training_examples,
                d.num_parameters, d.stationarity.gradient_norm, d.stationarity.relative_gradient_norm);
    LooResult out;
    for (std::size_t t = 0; t < tests; ++t) {
        const auto start = std::chrono::steady_clock::now();
        const xai::Image image = xai::image_at(test.images, t);
        const std::size_t label = test.labels[t];
        const xai::InfluenceExplanation e = influence.explain(image, label);
        // Retraining (fit(), L-BFGS) keeps λ over the n − 1 examples: the same-λ convention;
        // the fixed-total one (−I_up,loss/n) is printed beside it.
        const Eigen::VectorXd predicted = xai::predicted_loss_change_on_removal(e);
        const Eigen::VectorXd predicted_fixed = xai::predicted_loss_change_on_removal(e, xai::Retraining::fixed_total);
        const double baseline = reference ? reference->per_example_losses(xai::as_batch(image), {label})(0) : e.test_losses[0];
        std::vector<std::size_t> order(static_cast<std::size_t>(predicted.size()));
        std::iota(order.begin(), order.end(), std::size_t{0});
        removals = std::min(removals, order.size());
        const auto end = order.begin() + static_cast<std::ptrdiff_t>(removals);
        std::partial_sort(order.begin(), end, order.end(), [&](std::size_t a, std::size_t b) {
            return std::abs(predicted(static_cast<Eigen::Index>(a))) > std::abs(predicted(static_cast<Eigen::Index>(b)));
        });
        std::vector<double> p, a;
        for (std::size_t k = 0; k < removals; ++k) {
            const Model retrained = retrain(without(train, order[k]));
            p.push_back(predicted(static_cast<Eigen::Index>(order[k])));
            out.predicted_fixed.push_back(predicted_fixed(static_cast<Eigen::Index>(order[k])));
            a.push_back(retrained.per_example_losses(xai::as_batch(image), {label})(0) - baseline);
        }
        const double r = pearson(p, a);
        out.r_per_test.push_back(r);
        out.predicted.insert(out.predicted.end(), p.begin(), p.end());
        out.actual.insert(out.actual.end(), a.begin(), a.end());
        out.explanations.push_back(e);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s test image %zu: Pearson r = %.4f, Spearman %.4f (s_test %s, %zu iterations, residual %.1e; %.1f s with "
                    "retraining)\n",
                    name, t, r, spearman(p, a), e.solve_reports[0].solver.c_str(), e.solve_reports[0].iterations,
                    e.solve_reports[0].relative_residual, seconds);
    }
    std::printf("%s: pooled Pearson r over %zu removals = %.4f, Spearman %.4f (same-lambda convention); fixed total "
                "regularization (-I_up,loss/n): Pearson %.4f, Spearman %.4f\n",
                name, out.predicted.size(), pearson(out.predicted, out.actual), spearman(out.predicted, out.actual),
                pearson(out.predicted_fixed, out.actual), spearman(out.predicted_fixed, out.actual));
    return out;
}

/// Retrains a LogisticRegression from its current parameters (Newton / L-BFGS to ‖∇F‖ ≤ 1e-10).
auto refit(const LogisticRegression& model) {
    return [&model](const Subset& rest) {
        LogisticRegression retrained = model;
        const auto report = retrained.fit(rest.images, rest.labels);
        if (!report.converged) std::cerr << "warning: retraining stopped at gradient norm " << report.gradient_norm << "\n";
        return retrained;
    };
}

/// One panel of the scatter plot: predicted (x) against actual (y), with the diagonal.
void scatter(Canvas& canvas, long x0, long y0, long size, const LooResult& loo, const std::string& title, Color color) {
    double lo = 0, hi = 0;
    for (std::size_t i = 0; i < loo.actual.size(); ++i)
        lo = std::min({lo, loo.actual[i], loo.predicted[i]}), hi = std::max({hi, loo.actual[i], loo.predicted[i]});
    const double pad = 0.05 * (hi - lo);
    lo -= pad, hi += pad;
    auto px = [&](double v) { return static_cast<double>(x0) + (v - lo) / (hi - lo) * static_cast<double>(size); };
    auto py = [&](double v) { return static_cast<double>(y0 + size) - (v - lo) / (hi - lo) * static_cast<double>(size); };
    canvas.line(static_cast<double>(x0), static_cast<double>(y0), static_cast<double>(x0), static_cast<double>(y0 + size), black);
    canvas.line(static_cast<double>(x0), static_cast<double>(y0 + size), static_cast<double>(x0 + size), static_cast<double>(y0 + size), black);
    canvas.line(px(lo), py(lo), px(hi), py(hi), grey);
    canvas.line(px(0), py(lo), px(0), py(hi), grey);
    canvas.line(px(lo), py(0), px(hi), py(0), grey);
    for (std::size_t i = 0; i < loo.actual.size(); ++i) canvas.dot(px(loo.predicted[i]), py(loo.actual[i]), color);
    char label[96];
    std::snprintf(label, sizeof label, "r = %.4f (%zu removals)", pearson(loo.predicted, loo.actual), loo.actual.size());
    canvas.text(static_cast<double>(x0 + 10), static_cast<double>(y0 + 8), title, black);
    canvas.text(static_cast<double>(x0 + 10), static_cast<double>(y0 + 30), label, black);
    char range[64];
    std::snprintf(range, sizeof range, "%.3f", lo);
    canvas.text(static_cast<double>(x0 - 4), static_cast<double>(y0 + size + 8), range, black, 1);
    std::snprintf(range, sizeof range, "%.3f", hi);
    canvas.text(static_cast<double>(x0 + size - 30), static_cast<double>(y0 + size + 8), range, black, 1);
    canvas.text(static_cast<double>(x0 + size / 2 - 282), static_cast<double>(y0 + size + 22),
                "predicted change in test loss (-I_up,loss / n)", black);
    canvas.text(static_cast<double>(x0 - 62), static_cast<double>(y0 + size / 2), "actual", black);
}

/// Parts 1–3: logistic regression (leave-one-out, self-influence, the top images).
void logistic_parts(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all, std::size_t tests,
                    const std::filesystem::path& out_dir) {
    // ---- 1. leave-one-out retraining -----------------------------------------------------------
    const Subset binary_train = subset(train_all, {0, 6}, 1000, 14), binary_test = subset(test_all, {0, 6}, std::max<std::size_t>(tests, 3), 14);
    LogisticRegression binary = LogisticRegression::binary({1, 14, 14}, 0.01);
    auto report = binary.fit(binary_train.images, binary_train.labels);
    std::printf("binary: %s, %zu iterations, gradient norm %.2e\n", report.solver.c_str(), report.iterations, report.gradient_norm);
    const LooResult binary_loo = leave_one_out(binary, binary_train, binary_test, tests, xai::ConjugateGradientSolver{}, "binary",
                                               refit(binary));

    const Subset multi_train = subset(train_all, {0, 2, 4, 6}, 800, 7), multi_test = subset(test_all, {0, 2, 4, 6}, tests, 7);
    LogisticRegression multinomial = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
    report = multinomial.fit(multi_train.images, multi_train.labels);
    std::printf("multinomial: %s, %zu iterations, gradient norm %.2e\n", report.solver.c_str(), report.iterations,
                report.gradient_norm);
    const LooResult multi_loo = leave_one_out(multinomial, multi_train, multi_test, tests, xai::ExactSolver{}, "multinomial",
                                               refit(multinomial));

    Canvas plot(1450, 720);
    scatter(plot, 110, 40, 560, binary_loo, "binary LR, T-shirt/top vs Shirt (CG)", blue);
    scatter(plot, 800, 40, 560, multi_loo, "multinomial LR, 4 classes (exact)", orange);
    xai::save_image(out_dir / "influence_loo.png", plot.pixels());

    // ---- 2. self-influence finds flipped labels -------------------------------------------------
    Subset flipped_train = binary_train;
    const std::size_t n = flipped_train.labels.size();
    std::vector<bool> flipped(n, false);
    xai::Rng rng = xai::Rng::stream(2017, 0);
    std::size_t flips = 0;
    while (flips < n / 10) {
        const auto i = static_cast<std::size_t>(rng.uniform_index(n));
        if (flipped[i]) continue;
        flipped[i] = true;
        flipped_train.labels[i] = 1 - flipped_train.labels[i];
        ++flips;
    }
    LogisticRegression noisy = LogisticRegression::binary({1, 14, 14}, 0.01);
    noisy.fit(flipped_train.images, flipped_train.labels);
    const xai::Influence<LogisticRegression, xai::ExactSolver> noisy_influence(noisy, flipped_train.images, flipped_train.labels);
    const std::vector<std::size_t> by_influence = xai::review_order(noisy_influence.self_influence());
    const Eigen::VectorXd losses = noisy.per_example_losses(flipped_train.images, flipped_train.labels);
    const std::vector<std::size_t> by_loss = xai::most_harmful(losses, n);
    std::printf("flipped %zu of %zu labels; fraction found after checking:\n", flips, n);
    for (const double checked : {0.1, 0.2, 0.3}) {
        const auto k = static_cast<std::ptrdiff_t>(checked * static_cast<double>(n));
        auto found = [&](const std::vector<std::size_t>& order) {
            return static_cast<double>(std::count_if(order.begin(), order.begin() + k, [&](std::size_t i) { return flipped[i]; })) /
                   static_cast<double>(flips);
        };
        std::printf("  %2.0f%%: self-influence %.3f, training loss %.3f, random %.3f (expected)\n", 100 * checked,
                    found(by_influence), found(by_loss), checked);
    }

    // ---- 3. the most helpful and harmful training images -----------------------------------------
    const xai::Influence<LogisticRegression> influence(binary, binary_train.images, binary_train.labels);
    const int zoom = 3;
    const long cell = 28 * zoom + 14;
    const std::size_t shown = 5, rows = 3;
    Canvas top(static_cast<std::size_t>(40 + cell * static_cast<long>(1 + 2 * shown) + 40), static_cast<std::size_t>(50 + rows * (cell + 40)));
    top.text(40 + cell + 10, 10, "most helpful (green)", green);
    top.text(40 + cell * static_cast<long>(1 + shown) + 10, 10, "most harmful (red)", red);
    for (std::size_t r = 0; r < rows; ++r) {
        const long y = 50 + static_cast<long>(r) * (cell + 40);
        const std::size_t label = binary_test.labels[r];
        const xai::InfluenceExplanation e = influence.explain(xai::image_at(binary_test.images, r), label);
        top.image(xai::image_at(binary_test.originals, r), 40, y, zoom, black);
        top.text(40, y + 28 * zoom + 6, std::string("test: ") + std::string(xai::fashion_mnist_classes[binary_test.classes[label]]), black, 1);
        for (std::size_t k = 0; k < shown; ++k) {
            const std::size_t h = e.helpful[0][k], b = e.harmful[0][k];
            const long xh = 40 + cell * static_cast<long>(1 + k), xb = 40 + cell * static_cast<long>(1 + shown + k);
            top.image(xai::image_at(binary_train.originals, h), xh + 10, y, zoom, green);
            top.image(xai::image_at(binary_train.originals, b), xb + 10, y, zoom, red);
            top.text(xh + 10, y + 28 * zoom + 6, std::string(xai::fashion_mnist_classes[binary_train.classes[binary_train.labels[h]]]), black, 1);
            top.text(xb + 10, y + 28 * zoom + 6, std::string(xai::fashion_mnist_classes[binary_train.classes[binary_train.labels[b]]]), black, 1);
        }
    }
    xai::save_image(out_dir / "influence_top.png", top.pixels());
    std::printf("wrote %s and %s\n", (out_dir / "influence_loo.png").c_str(), (out_dir / "influence_top.png").c_str());
}

/// The global-average-pooled final features of the CNN, N×C×1×1 (its last layer's input).
xai::Batch gap_features(const xai::models::Sequential& cnn, const xai::Batch& images) { return xai::pooled_features(cnn, images).features; }

/// Part 4: the built-in CNN's last layer on frozen features (skipped without its weights).
void cnn_last_layer_part(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all, std::size_t tests) {
    xai::models::Sequential cnn;
    try {
        cnn = xai::models::load_builtin("fashion");
    } catch (const xai::io_error& e) {
        std::printf("built-in CNN: skipped (%s)\n", e.what());
        return;
    }
    std::vector<std::size_t> all(10);
    std::iota(all.begin(), all.end(), std::size_t{0});
    const Subset cnn_train = subset(train_all, all, 1000, 28), cnn_test = subset(test_all, all, tests, 28);
    Subset feature_train{gap_features(cnn, cnn_train.images), {}, cnn_train.labels, all};
    Subset feature_test{gap_features(cnn, cnn_test.images), {}, cnn_test.labels, all};
    const double lambda = cnn.l2_regularization() > 0.0 ? cnn.l2_regularization() : 0.01;
    LogisticRegression head = LogisticRegression::multinomial({feature_train.images.shape(1), 1, 1}, 10, lambda);
    {  // warm start from the trained network's last layer
        const auto blocks = cnn.parameter_blocks();
        const auto fc = std::find_if(blocks.begin(), blocks.end(), [](const xai::ParameterBlock& b) { return b.name == "fc.weight"; });
        head.set_parameters(cnn.parameters().segment(static_cast<Eigen::Index>(fc->offset),
                                                     static_cast<Eigen::Index>(head.num_parameters())));
    }
    const auto report = head.fit(feature_train.images, feature_train.labels);
    std::printf("built-in CNN, last layer on frozen features (lambda %g): %s, %zu iterations, gradient norm %.2e\n", lambda,
                report.solver.c_str(), report.iterations, report.gradient_norm);
    const LooResult cnn_loo = leave_one_out(head, feature_train, feature_test, tests, xai::ConjugateGradientSolver{},
                                            "built-in CNN last layer", refit(head));
    (void)cnn_loo;
}

// ---- 5. the whole CNN, s_test by conjugate gradients ----------------------------------------------

using Cnn = xai::models::BasicSequential<double>;

/// ∇F(θ) of the full-batch objective F = (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² over `data`.
Eigen::VectorXd objective_gradient(const Cnn& model, const Subset& data) {
    Eigen::VectorXd g(static_cast<Eigen::Index>(model.num_parameters()));
    model.objective_gradient(data.images, data.labels, std::span<double>(g.data(), model.num_parameters()));
    return g;
}

/// ∇²F(θ), column by column from p exact Hessian-vector products (Pearlmutter's R-operator),
/// symmetrized against rounding.
Eigen::MatrixXd objective_hessian(const Cnn& model, const Subset& data) {
    const auto p = static_cast<Eigen::Index>(model.num_parameters());
    Eigen::MatrixXd h(p, p);
    for (Eigen::Index j = 0; j < p; ++j)
        h.col(j) = model.loss_hessian_vector_product(data.images, data.labels, Eigen::VectorXd::Unit(p, j));
    return (h + h.transpose()) / 2;
}

struct FitReport {
    std::size_t steps = 0;
    double gradient_norm = 0.0;
};

/// Minimizes F over `data` by full-batch L-BFGS (Nocedal & Wright, Algorithm 7.4/7.5: ten
/// curvature pairs, backtracking to the Armijo condition) until ‖∇F‖ ≤ tolerance or after
/// max_steps steps: deterministic, one gradient pass and usually one objective pass per step.
FitReport lbfgs_minimize(Cnn& model, const Subset& data, double tolerance, std::size_t max_steps) {
    constexpr std::size_t memory = 10;
    std::vector<Eigen::VectorXd> s_pairs, y_pairs;
    FitReport report;
    Eigen::VectorXd theta = model.parameters(), g = objective_gradient(model, data);
    double f = model.objective(data.images, data.labels);
    while ((report.gradient_norm = g.norm()) > tolerance && report.steps < max_steps) {
        Eigen::VectorXd d = -g;  // the two-loop recursion: d = −H_k ∇F
        std::vector<double> alpha(s_pairs.size());
        for (std::size_t k = s_pairs.size(); k-- > 0;) {
            alpha[k] = s_pairs[k].dot(d) / y_pairs[k].dot(s_pairs[k]);
            d -= alpha[k] * y_pairs[k];
        }
        if (!s_pairs.empty()) d *= s_pairs.back().dot(y_pairs.back()) / y_pairs.back().squaredNorm();
        for (std::size_t k = 0; k < s_pairs.size(); ++k)
            d += (alpha[k] - y_pairs[k].dot(d) / y_pairs[k].dot(s_pairs[k])) * s_pairs[k];
        if (s_pairs.empty()) d *= 1e-2 / std::max(1e-2, report.gradient_norm);
        double t = 1.0, f_next = f;
        for (; t > 1e-10; t /= 2.0) {
            model.set_parameters(theta + t * d);
            f_next = model.objective(data.images, data.labels);
            if (f_next <= f + 1e-4 * t * g.dot(d)) break;
        }
        if (t <= 1e-10) break;  // no decrease along d: F no longer resolves the progress
        const Eigen::VectorXd g_next = objective_gradient(model, data), s = t * d, y = g_next - g;
        if (s.dot(y) > 1e-12 * s.norm() * y.norm()) {
            if (s_pairs.size() == memory) s_pairs.erase(s_pairs.begin()), y_pairs.erase(y_pairs.begin());
            s_pairs.push_back(s), y_pairs.push_back(y);
        }
        theta += s, g = g_next, f = f_next;
        ++report.steps;
    }
    model.set_parameters(theta);
    return report;
}

/// Part 5: leave-one-out retraining of a whole small CNN, s_test by conjugate gradients on all
/// its parameters (Koh & Liang §5.1, Fig. 2 middle).
void full_cnn_part(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all,
                   const std::filesystem::path& out_dir) {
    using namespace xai::models;
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    constexpr std::size_t train_size = 500, tests = 3, removals = 30, fit_steps = 4000, retrain_steps = 200;
    constexpr double lambda = 1e-3;
    std::vector<std::size_t> all(10);
    std::iota(all.begin(), all.end(), std::size_t{0});
    const Subset train = subset(train_all, all, train_size, 14), test = subset(test_all, all, 1000, 14);
    Cnn model({1, 14, 14}, {conv2d(6, 3, 1, 1), relu(), max_pool2d(2), conv2d(8, 3, 1, 1), relu(), global_avg_pool(), linear(10)});
    model.set_l2_regularization(lambda);
    std::printf("whole CNN: %s, %zu parameters, lambda %g, n = %zu\n", model.describe().c_str(), model.num_parameters(), lambda,
                train_size);

    TrainingOptions adam;
    adam.epochs = 300;
    adam.batch_size = 50;
    adam.learning_rate = 1e-2;
    xai::models::train(model, train.images, train.labels, adam);
    std::printf("whole CNN: Adam, %zu epochs of mini-batches of %zu: F = %.6f, gradient norm %.2e (%.0f s)\n", adam.epochs,
                adam.batch_size, model.objective(train.images, train.labels), objective_gradient(model, train).norm(), elapsed());
    const FitReport fit = lbfgs_minimize(model, train, 1e-11, fit_steps);
    std::printf("whole CNN: full-batch L-BFGS, %zu steps: F = %.6f, gradient norm %.2e; accuracy train %.3f, test %.3f (%.0f s)\n",
                fit.steps, model.objective(train.images, train.labels), fit.gradient_norm,
                accuracy(model, train.images, train.labels), accuracy(model, test.images, test.labels), elapsed());

    // The Hessian at θ̂, for its spectrum (is θ̂ a minimum?) and the exact-solve comparison below.
    const Eigen::MatrixXd hessian = objective_hessian(model, train);
    const Eigen::VectorXd eigenvalues =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(hessian, Eigen::EigenvaluesOnly).eigenvalues();
    const long negative = (eigenvalues.array() < 0.0).count();
    // Damping (§4.2): none when H is positive definite, else the smallest of 1e-3, 1e-2, … that
    // lifts the lowest eigenvalue to at least λ (the L2 term's own curvature).
    double damping = 0.0;
    if (eigenvalues.minCoeff() <= 0.0)
        for (damping = 1e-3; eigenvalues.minCoeff() + damping < lambda;) damping *= 10.0;
    std::printf("whole CNN: Hessian eigenvalues %.3e … %.3e, %ld negative; CG damping %g (%.0f s)\n", eigenvalues.minCoeff(),
                eigenvalues.maxCoeff(), negative, damping, elapsed());

    // θ̂ is not an exact minimizer, so every retraining (L-BFGS from θ̂ for retrain_steps steps) is
    // compared with the same retraining on the full training set: the difference is the removal's
    // effect, not the drift of an optimization that had not finished.
    Cnn reference = model;
    const FitReport drift = lbfgs_minimize(reference, train, 1e-11, retrain_steps);
    std::printf("whole CNN: reference retraining (nothing removed), %zu steps: F = %.6f, gradient norm %.2e (%.0f s)\n",
                drift.steps, reference.objective(train.images, train.labels), drift.gradient_norm, elapsed());
    double worst = 0.0;
    auto retrain = [&](const Subset& rest) {
        Cnn retrained = model;
        worst = std::max(worst, lbfgs_minimize(retrained, rest, 1e-11, retrain_steps).gradient_norm);
        return retrained;
    };
    const Subset shown = subset(test_all, all, tests, 14);
    const LooResult loo = leave_one_out(model, train, shown, tests, xai::ConjugateGradientSolver{.damping = damping},
                                        "whole CNN (CG)", retrain, removals,
                                        {.threads = 1, .stationarity = xai::StationarityPolicy::warn}, &reference);
    std::printf("whole CNN: %zu retrainings of %zu L-BFGS steps, largest final gradient norm %.2e\n", loo.actual.size(),
                retrain_steps, worst);

    // the same influence from the dense Hessian: how far conjugate gradients stopped from it
    const Eigen::MatrixXd train_gradients = model.per_example_loss_gradients(train.images, train.labels);
    const Eigen::LDLT<Eigen::MatrixXd> damped(hessian + damping * Eigen::MatrixXd::Identity(hessian.rows(), hessian.cols()));
    for (std::size_t t = 0; t < tests; ++t) {
        const Eigen::VectorXd g =
            model.per_example_loss_gradients(xai::as_batch(xai::image_at(shown.images, t)), {shown.labels[t]}).col(0);
        const Eigen::VectorXd exact = -train_gradients.transpose() * damped.solve(g);
        std::printf("whole CNN test image %zu: CG vs dense (H + damping I), relative error of I_up,loss %.2e\n", t,
                    (loo.explanations[t].influence.col(0) - exact).norm() / exact.norm());
    }

    Canvas plot(720, 720);
    scatter(plot, 110, 40, 560, loo, "whole CNN, 590 parameters (CG)", blue);
    xai::save_image(out_dir / "influence_loo_cnn_full.png", plot.pixels());
    std::printf("whole CNN: wrote %s; %.0f s in all\n", (out_dir / "influence_loo_cnn_full.png").c_str(), elapsed());
}

// ---- 6. what LiSSA's settings achieve on data the tests do not use --------------------------------

/// Relative error of LiSSA's s_test against the exact solve, its residual and last step's change,
/// for the stochastic settings of the tests, the reference's defaults and a few alternatives, on
/// Fashion-MNIST subsets (class pairs and test images) that tests/test_influence.cpp does not use.
void lissa_part(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all) {
    struct Data {
        const char* name;
        std::vector<std::size_t> classes;
        std::size_t side, count;
    };
    const std::vector<Data> sets = {{"binary Pullover vs Coat 14x14", {2, 4}, 14, 1000},
                                    {"binary Sneaker vs Ankle boot 14x14", {7, 9}, 14, 1000},
                                    {"multinomial Trouser/Dress/Sandal/Bag 7x7", {1, 3, 5, 8}, 7, 800}};
    for (const Data& d : sets) {
        const Subset train = subset(train_all, d.classes, d.count, d.side);
        const Subset test = subset(test_all, d.classes, 105, d.side);  // test images 100–104
        LogisticRegression model = d.classes.size() == 2 ? LogisticRegression::binary({1, d.side, d.side}, 0.01)
                                                         : LogisticRegression::multinomial({1, d.side, d.side}, d.classes.size(), 0.01);
        model.fit(train.images, train.labels);
        const Eigen::MatrixXd h = model.loss_hessian(train.images, train.labels);
        const Eigen::VectorXd eig = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(h, Eigen::EigenvaluesOnly).eigenvalues();
        const double lmin = eig.minCoeff(), lmax = eig.maxCoeff();
        std::printf("LiSSA on %s: n = %zu, %zu parameters, eigenvalues of H %.3e … %.3e (condition %.0f)\n", d.name,
                    train.labels.size(), model.num_parameters(), lmin, lmax, lmax / lmin);
        const xai::Influence<LogisticRegression, xai::ExactSolver> exact(model, train.images, train.labels);
        const xai::Batch tests = xt::view(test.images, xt::range(100, 105));
        const xai::Labels labels(test.labels.begin() + 100, test.labels.begin() + 105);
        const xai::Targets targets(labels.begin(), labels.end());
        const Eigen::MatrixXd reference = exact.s_test(tests, targets).values;
        auto depth_for = [&](double scale, double bias) {
            return static_cast<std::size_t>(std::ceil(std::log(bias) / std::log(1.0 - lmin / scale)));
        };
        struct Setting {
            std::string name;
            xai::LissaSolver solver;
        };
        std::vector<Setting> settings;
        const double s12 = 1.2 * lmax;
        settings.push_back({"tests' settings: scale 1.2 lmax, batch 100, 8 repeats, bias 1e-3",
                            {.recursion_depth = depth_for(s12, 1e-3), .scale = s12, .repeats = 8, .batch_size = 100}});
        settings.push_back({"the same with 32 repeats", {.recursion_depth = depth_for(s12, 1e-3), .scale = s12, .repeats = 32, .batch_size = 100}});
        settings.push_back({"the same with batch 400, 32 repeats",
                            {.recursion_depth = depth_for(s12, 1e-3), .scale = s12, .repeats = 32, .batch_size = 400}});
        settings.push_back({"whole-set steps (batch 0), scale 1.2 lmax, bias 1e-3", {.recursion_depth = depth_for(s12, 1e-3), .scale = s12}});
        settings.push_back({"defaults (scale 10, depth 10000, batch 0, 1 repeat)", {}});
        for (const Setting& setting : settings) {
            const auto start = std::chrono::steady_clock::now();
            try {
                const xai::Influence<LogisticRegression, xai::LissaSolver> lissa(model, train.images, train.labels, {},
                                                                                 setting.solver);
                const xai::InverseHvp s = lissa.s_test(tests, targets);
                double worst_error = 0, worst_residual = 0, worst_step = 0, best_error = 1e300;
                std::size_t converged = 0;
                for (Eigen::Index j = 0; j < reference.cols(); ++j) {
                    const double e = (s.values.col(j) - reference.col(j)).norm() / reference.col(j).norm();
                    worst_error = std::max(worst_error, e);
                    best_error = std::min(best_error, e);
                    worst_residual = std::max(worst_residual, s.reports[static_cast<std::size_t>(j)].relative_residual);
                    worst_step = std::max(worst_step, s.reports[static_cast<std::size_t>(j)].step_change);
                    converged += s.reports[static_cast<std::size_t>(j)].converged ? 1 : 0;
                }
                std::printf("  %-62s depth %5zu: relative error %.3f–%.3f, residual ≤ %.3f, last step ≤ %.1e, converged %zu/5 (%.1f s)\n",
                            setting.name.c_str(), setting.solver.recursion_depth, best_error, worst_error, worst_residual,
                            worst_step, converged,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            } catch (const xai::error& e) {
                std::printf("  %-62s: %s\n", setting.name.c_str(), e.what());
            }
        }
    }
}

// ---- 7. second order: the Newton step with the leverage correction, and groups ------------------

/// Leave-one-out retraining on data with a few high-leverage training points, predicted to first
/// order and by one Newton step (NewtonStepInfluence), and the removal of groups of points.
void second_order_part(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all, std::size_t tests,
                       const std::filesystem::path& out_dir) {
    // T-shirt/top vs Shirt (14×14, n = 1,000, λ = 0.01, as part 1) plus `extra` high-leverage
    // points: items of classes the problem never sees (Sandal, Bag), labelled alternately 0 and 1,
    // brightened by `gain`: directions the other 1,000 images barely constrain.
    const std::size_t extra = 12;
    const float gain = 3.0f;
    Subset train = subset(train_all, {0, 6}, 1000, 14);
    const Subset odd = subset(train_all, {5, 8}, extra, 14);
    {
        std::vector<xai::Image> images;
        for (std::size_t i = 0; i < train.labels.size(); ++i) images.push_back(xai::image_at(train.images, i));
        for (std::size_t i = 0; i < extra; ++i) {
            xai::Image image = xai::image_at(odd.images, i);
            image *= gain;
            images.push_back(image);
            train.labels.push_back(i % 2);
        }
        train.images = xai::stack(images);
    }
    const Subset test = subset(test_all, {0, 6}, tests, 14);
    LogisticRegression model = LogisticRegression::binary({1, 14, 14}, 0.01);
    model.fit(train.images, train.labels);
    const xai::NewtonStepInfluence<LogisticRegression> newton(model, train.images, train.labels);
    const xai::NewtonStepInfluence<LogisticRegression> linear(model, train.images, train.labels, {.evaluate_test_loss = false});
    const std::size_t n = train.labels.size();
    std::vector<double> p1, p2, p3, actual;
    double worst_leverage = 0.0;
    for (std::size_t t = 0; t < tests; ++t) {
        const xai::Image image = xai::image_at(test.images, t);
        const std::size_t label = test.labels[t];
        const xai::NewtonStepExplanation e = newton.explain(image, label);
        const Eigen::MatrixXd linear_change = linear.explain(image, label).loss_change;
        worst_leverage = std::max(worst_leverage, e.leverages.maxCoeff());
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::partial_sort(order.begin(), order.begin() + 100, order.end(), [&](std::size_t a, std::size_t b) {
            return std::abs(e.first_order(static_cast<Eigen::Index>(a), 0)) > std::abs(e.first_order(static_cast<Eigen::Index>(b), 0));
        });
        for (std::size_t i = n - extra; i < n; ++i)  // every high-leverage point, influential or not
            if (std::find(order.begin(), order.begin() + 100, i) == order.begin() + 100) order[100 + (i - (n - extra))] = i;
        std::vector<double> a, f, s, l;
        for (std::size_t k = 0; k < 100 + extra; ++k) {
            l.push_back(linear_change(static_cast<Eigen::Index>(order[k]), 0));
            LogisticRegression retrained = model;
            const Subset rest = without(train, order[k]);
            retrained.fit(rest.images, rest.labels);
            a.push_back(retrained.per_example_losses(xai::as_batch(image), {label})(0) - e.test_losses[0]);
            f.push_back(e.first_order(static_cast<Eigen::Index>(order[k]), 0));
            s.push_back(e.loss_change(static_cast<Eigen::Index>(order[k]), 0));
        }
        std::printf("second order, test image %zu: Pearson r first order %.4f, Newton step %.4f (test loss linearized %.4f) "
                    "(%zu removals)\n", t, pearson(f, a), pearson(s, a), pearson(l, a), a.size());
        p3.insert(p3.end(), l.begin(), l.end());
        p1.insert(p1.end(), f.begin(), f.end());
        p2.insert(p2.end(), s.begin(), s.end());
        actual.insert(actual.end(), a.begin(), a.end());
    }
    std::printf("second order: largest leverage %.3f; pooled over %zu removals: Pearson r first order %.4f, Newton step %.4f "
                "(test loss linearized %.4f); Spearman %.4f, %.4f\n",
                worst_leverage, actual.size(), pearson(p1, actual), pearson(p2, actual), pearson(p3, actual), spearman(p1, actual),
                spearman(p2, actual));
    LooResult first{p1, actual, {}, {}, {}}, second{p2, actual, {}, {}, {}};
    Canvas plot(1450, 720);
    scatter(plot, 110, 40, 560, first, "first order (-I_up,loss + shift) / n", orange);
    scatter(plot, 800, 40, 560, second, "one Newton step (leverage-corrected)", blue);
    xai::save_image(out_dir / "influence_second_order.png", plot.pixels());

    // Groups: remove m examples at once (random groups, and the m most helpful for a test image).
    const xai::Batch tests_batch = xt::view(test.images, xt::range(0, tests));
    const xai::Labels test_labels(test.labels.begin(), test.labels.begin() + static_cast<std::ptrdiff_t>(tests));
    const xai::Targets targets(test_labels.begin(), test_labels.end());
    const Eigen::VectorXd base = model.per_example_losses(tests_batch, test_labels);
    for (const std::size_t m : {10, 50, 100}) {
        std::vector<std::vector<std::size_t>> groups;
        xai::Rng rng = xai::Rng::stream(2019, m);
        for (std::size_t g = 0; g < 8; ++g) {
            std::vector<std::size_t> group;
            while (group.size() < m) {
                const auto i = static_cast<std::size_t>(rng.uniform_index(n));
                if (std::find(group.begin(), group.end(), i) == group.end()) group.push_back(i);
            }
            groups.push_back(group);
        }
        const xai::NewtonStepExplanation e = newton.explain(xai::image_at(test.images, 0), test.labels[0]);
        for (std::size_t g = 0; g < 2; ++g) {  // the m most helpful and the m most harmful of test image 0
            std::vector<std::size_t> order(n);
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), order.end(), [&](std::size_t a, std::size_t b) {
                const double va = e.first_order(static_cast<Eigen::Index>(a), 0), vb = e.first_order(static_cast<Eigen::Index>(b), 0);
                return g == 0 ? va > vb : va < vb;
            });
            groups.emplace_back(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m));
        }
        const xai::GroupRemoval predicted = newton.group_loss_change(tests_batch, targets, groups);
        const xai::GroupRemoval predicted_linear = linear.group_loss_change(tests_batch, targets, groups);
        std::vector<double> f, s, a, l;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            std::vector<bool> removed(n, false);
            for (std::size_t i : groups[g]) removed[i] = true;
            std::vector<xai::Image> kept;
            xai::Labels kept_labels;
            for (std::size_t i = 0; i < n; ++i)
                if (!removed[i]) kept.push_back(xai::image_at(train.images, i)), kept_labels.push_back(train.labels[i]);
            LogisticRegression retrained = model;
            retrained.fit(xai::stack(kept), kept_labels);
            const Eigen::VectorXd change = retrained.per_example_losses(tests_batch, test_labels) - base;
            for (Eigen::Index j = 0; j < change.size(); ++j) {
                a.push_back(change(j));
                f.push_back(predicted.first_order(static_cast<Eigen::Index>(g), j));
                s.push_back(predicted.newton_step(static_cast<Eigen::Index>(g), j));
                l.push_back(predicted_linear.newton_step(static_cast<Eigen::Index>(g), j));
            }
        }
        auto error = [&](const std::vector<double>& v) {
            double e = 0, norm = 0;
            for (std::size_t k = 0; k < a.size(); ++k) e += (v[k] - a[k]) * (v[k] - a[k]), norm += a[k] * a[k];
            return std::sqrt(e / norm);
        };
        std::printf("groups of %zu (8 random, the most helpful, the most harmful; %zu test images): Pearson r first order %.4f, "
                    "Newton step %.4f (linearized test loss %.4f); relative error %.3f, %.3f (%.3f)\n",
                    m, tests, pearson(f, a), pearson(s, a), pearson(l, a), error(f), error(s), error(l));
    }
}

// ---- 8. TracIn and Arnoldi against exact influence and leave-one-out on the CNN's last layer ---------

/// The built-in CNN's last layer on the frozen features of 1,000 training images (as part 4):
/// s_test exact, by CG and by Arnoldi (several ranks), TracIn from the last layer retrained from
/// scratch by SGD with checkpoints (models/training.hpp), each compared with the exact I_up,loss
/// (Pearson r over all 1,000 training images, pooled over the test images) and with leave-one-out
/// retraining of the `removals` training images of largest exact |prediction| per test image.
void tracin_arnoldi_part(const xai::LabelledImages& train_all, const xai::LabelledImages& test_all, std::size_t tests,
                         std::size_t removals) {
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); };
    const xai::models::Sequential cnn = xai::models::load_builtin("fashion");
    std::vector<std::size_t> all(10);
    std::iota(all.begin(), all.end(), std::size_t{0});
    const Subset images = subset(train_all, all, 1000, 28), test_images = subset(test_all, all, tests, 28);
    const Subset train{gap_features(cnn, images.images), {}, images.labels, all};
    const Subset test{gap_features(cnn, test_images.images), {}, test_images.labels, all};
    const double lambda = cnn.l2_regularization();
    LogisticRegression head = LogisticRegression::multinomial({train.images.shape(1), 1, 1}, 10, lambda);
    {
        const auto blocks = cnn.parameter_blocks();
        const auto fc = std::find_if(blocks.begin(), blocks.end(), [](const xai::ParameterBlock& b) { return b.name == "fc.weight"; });
        head.set_parameters(cnn.parameters().segment(static_cast<Eigen::Index>(fc->offset), static_cast<Eigen::Index>(head.num_parameters())));
    }
    head.fit(train.images, train.labels);
    const xai::Labels labels(test.labels.begin(), test.labels.end());
    const xai::Targets targets(labels.begin(), labels.end());

    auto start = Clock::now();
    const xai::Influence<LogisticRegression, xai::ExactSolver> exact(head, train.images, train.labels);
    const Eigen::MatrixXd reference = exact.influence(test.images, targets);
    std::printf("CNN last layer (n = 1000, 1290 parameters, lambda %g): exact influence of %zu test images in %.2f s\n", lambda,
                tests, seconds(start));
    auto flat = [](const Eigen::MatrixXd& m) { return std::vector<double>(m.data(), m.data() + m.size()); };
    // Leave-one-out: the `removals` largest |exact| per test image, retrained by fit() (same λ).
    std::vector<std::pair<std::size_t, std::size_t>> removed;  // (test image, training index)
    std::vector<double> actual;
    const Eigen::VectorXd base = head.per_example_losses(test.images, labels);
    for (std::size_t t = 0; t < tests; ++t) {
        std::vector<std::size_t> order(1000);
        std::iota(order.begin(), order.end(), std::size_t{0});
        const Eigen::VectorXd column = reference.col(static_cast<Eigen::Index>(t));
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(removals), order.end(),
                          [&](std::size_t a, std::size_t b) { return std::abs(column(static_cast<Eigen::Index>(a))) > std::abs(column(static_cast<Eigen::Index>(b))); });
        for (std::size_t k = 0; k < removals; ++k) {
            LogisticRegression retrained = head;
            const Subset rest = without(train, order[k]);
            retrained.fit(rest.images, rest.labels);
            removed.emplace_back(t, order[k]);
            actual.push_back(retrained.per_example_losses(xai::as_batch(xai::image_at(test.images, t)), {labels[t]})(0) - base(static_cast<Eigen::Index>(t)));
        }
    }
    std::printf("CNN last layer: %zu leave-one-out retrainings\n", actual.size());
    auto compare = [&](const char* name, const Eigen::MatrixXd& scores, double time) {
        std::vector<double> at_removed;  // −score/n: predicted change (sign of I_up,loss)
        for (const auto& [t, i] : removed) at_removed.push_back(-scores(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(t)));
        double per_image = 0.0;  // mean over test images of Pearson r against leave-one-out
        for (std::size_t t = 0; t < tests; ++t) {
            std::vector<double> p, a;
            for (std::size_t k = 0; k < removed.size(); ++k)
                if (removed[k].first == t) p.push_back(at_removed[k]), a.push_back(actual[k]);
            per_image += pearson(p, a) / static_cast<double>(tests);
        }
        std::printf("  %-44s vs exact I_up,loss: Pearson %.4f, Spearman %.4f; vs leave-one-out: Pearson %.4f per test image "
                    "(mean), pooled %.4f, Spearman pooled %.4f; %.2f s\n",
                    name, pearson(flat(scores), flat(reference)), spearman(flat(scores), flat(reference)), per_image,
                    pearson(at_removed, actual), spearman(at_removed, actual), time);
    };
    compare("exact", reference, 0.0);
    start = Clock::now();
    const xai::Influence<LogisticRegression> cg(head, train.images, train.labels);
    const Eigen::MatrixXd cg_scores = cg.influence(test.images, targets);
    compare("conjugate gradients", cg_scores, seconds(start));
    // Beyond first order on the same removals: fit()'s convention and one Newton step (the
    // compare() columns take −score, so the predicted changes go in negated).
    start = Clock::now();
    const xai::NewtonStepInfluence<LogisticRegression> newton(head, train.images, train.labels);
    const xai::NewtonStepExplanation second = newton.explain(test.images, targets);
    const double newton_time = seconds(start);
    compare("first order, fit()'s convention (same lambda)", -second.first_order, 0.0);
    compare("one Newton step (test loss evaluated)", -second.loss_change, newton_time);
    std::printf("  largest leverage of a training image: %.3f\n", second.leverages.maxCoeff());
    for (const std::size_t rank : {10, 50, 100}) {
        start = Clock::now();
        const xai::Influence<LogisticRegression, xai::ArnoldiSolver> arnoldi(head, train.images, train.labels,
                                                                             {.stationarity = xai::StationarityPolicy::warn},
                                                                             {.iterations = 200, .rank = rank});
        const Eigen::MatrixXd scores = arnoldi.influence(test.images, targets);
        char name[64];
        std::snprintf(name, sizeof name, "Arnoldi, 200 iterations, top %zu%s", rank, arnoldi.solver_state().converged ? "" : " (not converged)");
        compare(name, scores, seconds(start));
        // How much of each test gradient the kept subspace misses, and how much of the exact
        // s_test lies in it (‖VVᵀs‖/‖s‖): a small share says H⁻¹g lives in the discarded directions.
        const xai::InverseHvp s = arnoldi.s_test(test.images, targets);
        const Eigen::MatrixXd s_exact = exact.s_test(test.images, targets).values;
        const Eigen::MatrixXd& v = arnoldi.solver_state().vectors;
        double residual = 0.0, share = 1.0;
        for (std::size_t j = 0; j < tests; ++j) {
            residual = std::max(residual, s.reports[j].relative_residual);
            const Eigen::VectorXd column = s_exact.col(static_cast<Eigen::Index>(j));
            share = std::min(share, (v.transpose() * column).norm() / column.norm());
        }
        std::printf("    part of the test gradients outside the subspace: up to %.3f; share of the exact s_test inside it: at least %.3f\n",
                    residual, share);
    }
    // TracIn: the same layer trained from scratch by plain SGD (momentum 0), a checkpoint per epoch.
    xai::models::BasicSequential<double> layer({train.images.shape(1), 1, 1}, {xai::models::global_avg_pool(), xai::models::linear(10)}, 1);
    layer.set_l2_regularization(lambda);
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "xai_influence_loo_checkpoints";
    std::filesystem::remove_all(dir);
    start = Clock::now();
    xai::models::train(layer, train.images, train.labels,
                       {.optimizer = xai::models::Optimizer::sgd_momentum, .learning_rate = 0.5, .momentum = 0.0, .epochs = 20,
                        .batch_size = 32, .seed = 1, .checkpoint_directory = dir, .checkpoint_every = 2});
    const double training_time = seconds(start);
    std::vector<xai::TracInCheckpoint> checkpoints;
    for (const auto& record : xai::models::read_checkpoints(dir)) {
        xai::models::BasicSequential<double> at = layer;
        at.load_parameters(record.weights);
        checkpoints.push_back({at.parameters(), record.learning_rate});
    }
    std::printf("  TracIn: last layer trained by SGD (lr 0.5, cosine, 20 epochs, batch 32) in %.1f s: train accuracy %.3f (the "
                "converged layer: %.3f); %zu checkpoints\n",
                training_time, xai::models::accuracy(layer, train.images, train.labels),
                xai::models::accuracy(head, train.images, train.labels), checkpoints.size());
    start = Clock::now();
    const xai::TracIn<xai::models::BasicSequential<double>> tracin(layer, train.images, train.labels, checkpoints);
    compare("TracIn (10 checkpoints)", tracin.explain(test.images, targets).influence, seconds(start));
    const std::vector<xai::TracInCheckpoint> last(checkpoints.end() - 1, checkpoints.end());
    const xai::TracIn<xai::models::BasicSequential<double>> tracin_last(layer, train.images, train.labels, last);
    compare("TracIn (last checkpoint only)", tracin_last.explain(test.images, targets).influence, 0.0);
    std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a pipe or a file
    std::filesystem::path out_dir = "docs/images";
    std::size_t tests = 5;
    std::vector<std::string> parts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--out" && i + 1 < argc) out_dir = argv[++i];
        else if (arg == "--tests" && i + 1 < argc) tests = std::stoul(argv[++i]);
        else if (arg == "--part" && i + 1 < argc && std::string(argv[i + 1]).find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == std::string::npos)
            parts.push_back(argv[++i]);
        else {
            std::cerr << "usage: influence_loo [--out DIR] [--tests N] [--part logistic|cnn-last|full-cnn|lissa|second-order|tracin-arnoldi]...\n";
            return 2;
        }
    }
    if (parts.empty()) parts = {"logistic", "cnn-last"};
    auto wanted = [&](const char* part) { return std::find(parts.begin(), parts.end(), part) != parts.end(); };
    std::filesystem::create_directories(out_dir);
    const xai::LabelledImages train_all = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 8000);
    const xai::LabelledImages test_all = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 2000);
    if (wanted("logistic")) logistic_parts(train_all, test_all, tests, out_dir);
    if (wanted("cnn-last")) cnn_last_layer_part(train_all, test_all, tests);
    if (wanted("full-cnn")) full_cnn_part(train_all, test_all, out_dir);
    if (wanted("lissa")) lissa_part(train_all, test_all);
    if (wanted("second-order")) second_order_part(train_all, test_all, tests, out_dir);
    if (wanted("tracin-arnoldi")) tracin_arnoldi_part(train_all, test_all, tests, 40);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "influence_loo: " << e.what() << "\n";
    return 1;
}
