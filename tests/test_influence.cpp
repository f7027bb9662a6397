// Tests of include/xai/influence.hpp (explain/influence/): influence functions (Koh & Liang 2017)
// on L2 logistic regression over Fashion-MNIST subsets — leave-one-out retraining, solver
// agreement, self-influence on flipped labels, I_pert against finite differences and retraining,
// the parameter subset, streaming determinism, the unified explainer API, and bad input.
//
// Subsets (chosen so that the whole file runs in a few seconds in Release): binary T-shirt/top
// vs Shirt, the most confused pair, on 14×14 images (2×2 averages: bilinear 28→14 is exactly
// that) with 1,000 training images: 197 parameters, a warm-started Newton retraining in a few
// milliseconds. Multinomial over the four upper-body classes (T-shirt/top, Pullover, Coat,
// Shirt) on 7×7 images with 800 training images: 200 parameters; at 14×14 the 788-parameter
// Hessian made the leave-one-out retraining 6–8× slower for the same correlation (0.999).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/influence.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/sequential.hpp"

#include <Eigen/Eigenvalues>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using xai::models::LogisticRegression;

namespace {

struct Subset {
    xai::Batch images;
    xai::Labels labels;
};

/// The first `count` images of the given classes (relabelled 0, 1, …) resized to side×side.
Subset fashion_subset(xai::FashionMnistSplit split, const std::vector<std::size_t>& classes, std::size_t count,
                      std::size_t side, std::size_t skip = 0) {
    static const xai::LabelledImages train = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 8000);
    static const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 2000);
    const xai::LabelledImages& data = split == xai::FashionMnistSplit::train ? train : test;
    std::vector<xai::Image> images;
    Subset out;
    for (std::size_t i = 0; i < data.labels.size() && images.size() < count; ++i) {
        const auto it = std::find(classes.begin(), classes.end(), data.labels[i]);
        if (it == classes.end()) continue;
        if (skip > 0) {
            --skip;
            continue;
        }
        images.push_back(xai::image_at(data.images, i));
        out.labels.push_back(static_cast<std::size_t>(it - classes.begin()));
    }
    REQUIRE(images.size() == count);
    out.images = xai::resize(xai::stack(images), side, side);
    return out;
}

/// A trained model with its training and test subsets.
struct Problem {
    LogisticRegression model;
    Subset train, test;
};

Problem binary_problem() {
    Problem p{LogisticRegression::binary({1, 14, 14}, 0.01), fashion_subset(xai::FashionMnistSplit::train, {0, 6}, 1000, 14),
              fashion_subset(xai::FashionMnistSplit::test, {0, 6}, 20, 14)};
    const auto report = p.model.fit(p.train.images, p.train.labels);
    REQUIRE(report.converged);
    return p;
}

Problem multinomial_problem() {
    Problem p{LogisticRegression::multinomial({1, 7, 7}, 4, 0.01),
              fashion_subset(xai::FashionMnistSplit::train, {0, 2, 4, 6}, 800, 7),
              fashion_subset(xai::FashionMnistSplit::test, {0, 2, 4, 6}, 20, 7)};
    const auto report = p.model.fit(p.train.images, p.train.labels);
    REQUIRE(report.converged);
    return p;
}

Subset without(const Subset& s, std::size_t removed) {
    const std::size_t n = s.labels.size(), stride = s.images.size() / n;
    Subset out{xai::Batch::from_shape({n - 1, s.images.shape(1), s.images.shape(2), s.images.shape(3)}), {}};
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

double relative_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

/// Predicted (−I_up,loss/n) and actual change of the test loss when each of the 100 most
/// influential training examples is removed and the model retrained, warm-started from θ̂.
template <class Solver>
double leave_one_out_correlation(const Problem& p, std::size_t test_index, Solver solver) {
    const xai::Influence<LogisticRegression, Solver> influence(p.model, p.train.images, p.train.labels, {}, solver);
    const xai::Image test = xai::image_at(p.test.images, test_index);
    const std::size_t label = p.test.labels[test_index];
    const xai::InfluenceExplanation e = influence.explain(test, label);
    // fit() retrains with the same λ over n − 1 examples: the default convention.
    const Eigen::VectorXd predicted = xai::predicted_loss_change_on_removal(e);
    std::vector<std::size_t> order(static_cast<std::size_t>(predicted.size()));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::partial_sort(order.begin(), order.begin() + 100, order.end(),
                      [&](std::size_t a, std::size_t b) { return std::abs(predicted(static_cast<Eigen::Index>(a))) > std::abs(predicted(static_cast<Eigen::Index>(b))); });
    const xai::Batch test_batch = xai::as_batch(test);
    const double base = p.model.per_example_losses(test_batch, {label})(0);
    CHECK(e.test_losses[0] == Approx(base));
    std::vector<double> pred, actual;
    for (std::size_t k = 0; k < 100; ++k) {
        const Subset rest = without(p.train, order[k]);
        LogisticRegression retrained = p.model;
        const auto report = retrained.fit(rest.images, rest.labels);
        REQUIRE(report.gradient_norm <= 1e-10);
        pred.push_back(predicted(static_cast<Eigen::Index>(order[k])));
        actual.push_back(retrained.per_example_losses(test_batch, {label})(0) - base);
    }
    return pearson(pred, actual);
}

}  // namespace

TEST_CASE("leave-one-out retraining agrees with the predicted change in test loss", "[influence][loo]") {
    SECTION("binary logistic regression, conjugate gradients") {
        const Problem p = binary_problem();
        for (std::size_t t : {0, 1, 2}) {
            const double r = leave_one_out_correlation(p, t, xai::ConjugateGradientSolver{});
            INFO("test image " << t << ": Pearson r = " << r);
            CHECK(r >= 0.95);
        }
    }
    SECTION("multinomial logistic regression, exact solver") {
        const Problem p = multinomial_problem();
        for (std::size_t t : {0, 1, 2}) {
            const double r = leave_one_out_correlation(p, t, xai::ExactSolver{});
            INFO("test image " << t << ": Pearson r = " << r);
            CHECK(r >= 0.95);
        }
    }
}

TEST_CASE("conjugate gradients and LiSSA agree with the exact solver", "[influence][solvers]") {
    for (const bool binary : {true, false}) {
        DYNAMIC_SECTION((binary ? "binary" : "multinomial")) {
            const Problem p = binary ? binary_problem() : multinomial_problem();
            const xai::Batch test = xt::view(p.test.images, xt::range(0, 3));
            const xai::Labels labels(p.test.labels.begin(), p.test.labels.begin() + 3);
            const xai::Targets targets(labels.begin(), labels.end());
            const xai::Influence<LogisticRegression, xai::ExactSolver> exact(p.model, p.train.images, p.train.labels);
            const xai::Influence<LogisticRegression> cg(p.model, p.train.images, p.train.labels);
            // LiSSA converges when its scale exceeds the largest eigenvalue of H; the test takes
            // 1.2 λ_max, minibatches of 100 and 8 repeats, and a depth at which the bias
            // (1 − λ_min/s)^T is below 1e-3.
            const Eigen::MatrixXd h = p.model.loss_hessian(p.train.images, p.train.labels);
            const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
            xai::LissaSolver lissa_options;
            lissa_options.scale = 1.2 * eig.eigenvalues().maxCoeff();
            lissa_options.batch_size = 100;
            lissa_options.repeats = 8;
            lissa_options.recursion_depth =
                static_cast<std::size_t>(std::log(1e-3) / std::log(1.0 - eig.eigenvalues().minCoeff() / lissa_options.scale));
            const xai::Influence<LogisticRegression, xai::LissaSolver> lissa(p.model, p.train.images, p.train.labels, {},
                                                                             lissa_options);

            const xai::InverseHvp se = exact.s_test(test, targets);
            const xai::InverseHvp sc = cg.s_test(test, targets);
            // The exact solution solves H s = g.
            const Eigen::MatrixXd g = exact.test_gradients(test, targets);
            CHECK(relative_error(h * se.values, g) < 1e-10);
            for (std::size_t j = 0; j < 3; ++j) {
                const auto c = static_cast<Eigen::Index>(j);
                INFO("test image " << j);
                CHECK(relative_error(sc.values.col(c), se.values.col(c)) <= 1e-3);
                CHECK(sc.reports[j].converged);
                CHECK(sc.reports[j].relative_residual <= 1e-8);
            }
            // LiSSA, the costliest, on the first test image.
            const xai::Batch first = xt::view(test, xt::range(0, 1));
            const xai::InverseHvp sl = lissa.s_test(first, {targets[0]});
            INFO("LiSSA depth " << lissa_options.recursion_depth);
            CHECK(relative_error(sl.values.col(0), se.values.col(0)) <= 5e-2);
            CHECK(sl.reports[0].solver == "lissa");
            CHECK(sl.reports[0].iterations == lissa_options.recursion_depth * 8);
            CHECK(sl.reports[0].relative_residual == Approx((h * sl.values.col(0) - g.col(0)).norm() / g.col(0).norm()).epsilon(1e-9));
        }
    }
}

TEST_CASE("influence equals the brute-force formula, whatever the batch size and thread count", "[influence][stream]") {
    const Problem p = multinomial_problem();
    const xai::Batch test = xt::view(p.test.images, xt::range(3, 5));
    const xai::Labels labels(p.test.labels.begin() + 3, p.test.labels.begin() + 5);
    const xai::Targets targets(labels.begin(), labels.end());

    const Eigen::MatrixXd h = p.model.loss_hessian(p.train.images, p.train.labels);
    const Eigen::MatrixXd g_train = p.model.per_example_loss_gradients(p.train.images, p.train.labels);
    const Eigen::MatrixXd g_test = p.model.per_example_loss_gradients(test, labels);
    const Eigen::MatrixXd brute = -g_train.transpose() * h.ldlt().solve(g_test);

    xai::InfluenceOptions one_thread;
    one_thread.threads = 1;
    one_thread.batch_size = 37;
    xai::InfluenceOptions three_threads = one_thread;
    three_threads.threads = 3;
    const xai::Influence<LogisticRegression, xai::ExactSolver> a(p.model, p.train.images, p.train.labels, one_thread);
    const xai::Influence<LogisticRegression, xai::ExactSolver> b(p.model, p.train.images, p.train.labels, three_threads);
    std::vector<xai::ProgressReport> reports;
    const Eigen::MatrixXd ia = a.influence(test, targets, [&](const xai::ProgressReport& r) { reports.push_back(r); });
    const Eigen::MatrixXd ib = b.influence(test, targets);
    CHECK(relative_error(ia, brute) < 1e-10);
    CHECK((ia.array() == ib.array()).all());
    // An absurd thread count is clamped (regression: fuzz_explainer_options, 2^63 threads sized
    // a per-thread buffer of 0x3000000000 bytes).
    xai::InfluenceOptions absurd_threads = one_thread;
    absurd_threads.threads = std::numeric_limits<std::size_t>::max() / 2 + 1;
    const xai::Influence<LogisticRegression, xai::ExactSolver> huge(p.model, p.train.images, p.train.labels, absurd_threads);
    CHECK((huge.influence(test, targets).array() == ia.array()).all());
    // One batch of the whole training set, not none (regression: the batch count wrapped to 0).
    xai::InfluenceOptions whole_set = one_thread;
    whole_set.batch_size = std::numeric_limits<std::size_t>::max();
    const xai::Influence<LogisticRegression, xai::ExactSolver> one_batch(p.model, p.train.images, p.train.labels, whole_set);
    CHECK(relative_error(one_batch.influence(test, targets), brute) < 1e-10);
    CHECK(a.diagnostics().stationarity.relative_gradient_norm < 1e-8);
    CHECK(a.diagnostics().warnings.empty());

    // Progress: increasing counts of training examples up to n.
    REQUIRE(!reports.empty());
    CHECK(reports.back().done == p.train.labels.size());
    CHECK(reports.back().total == p.train.labels.size());
    for (std::size_t k = 1; k < reports.size(); ++k) CHECK(reports[k].done > reports[k - 1].done);

    // explain(): the same column, the top-k lists in order, and the sign convention.
    xai::InfluenceOptions top3 = one_thread;
    top3.top_k = 3;
    const xai::Influence<LogisticRegression, xai::ExactSolver> c(p.model, p.train.images, p.train.labels, top3);
    const xai::InfluenceExplanation e = c.explain(xai::image_at(test, 1), labels[1]);
    CHECK(relative_error(e.influence, ia.col(1)) < 1e-12);
    const Eigen::VectorXd column = e.influence.col(0);
    std::vector<std::size_t> order(static_cast<std::size_t>(column.size()));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return column(static_cast<Eigen::Index>(x)) < column(static_cast<Eigen::Index>(y));
    });
    CHECK(e.helpful[0] == std::vector<std::size_t>(order.begin(), order.begin() + 3));
    CHECK(e.harmful[0] == std::vector<std::size_t>(order.rbegin(), order.rbegin() + 3));
    CHECK(column(static_cast<Eigen::Index>(e.helpful[0][0])) < 0.0);
    CHECK(column(static_cast<Eigen::Index>(e.harmful[0][0])) > 0.0);
    CHECK(e.targets[0] == labels[1]);
    CHECK(e.solve_reports[0].solver == "exact");
    // A predicted target resolves to the model's prediction.
    const xai::InfluenceExplanation predicted = c.explain(xai::image_at(test, 1));
    CHECK(predicted.targets[0] == xai::argmax_rows(p.model.forward(xt::view(test, xt::range(1, 2))))[0]);
}

TEST_CASE("self-influence finds flipped training labels faster than random checking", "[influence][self]") {
    // Koh & Liang §5.4: flip 10% of the labels, retrain, check examples by self-influence.
    Problem p = binary_problem();
    const std::size_t n = p.train.labels.size();
    std::vector<bool> flipped(n, false);
    xai::Rng rng = xai::Rng::stream(2017, 0);
    std::size_t flips = 0;
    while (flips < n / 10) {
        const auto i = static_cast<std::size_t>(rng.uniform_index(n));
        if (flipped[i]) continue;
        flipped[i] = true;
        p.train.labels[i] = 1 - p.train.labels[i];
        ++flips;
    }
    REQUIRE(p.model.fit(p.train.images, p.train.labels).converged);
    const xai::Influence<LogisticRegression, xai::ExactSolver> influence(p.model, p.train.images, p.train.labels);
    const Eigen::VectorXd self = influence.self_influence();
    CHECK((self.array() <= 0.0).all());

    // Self-influence is −∇Lᵢᵀ H⁻¹ ∇Lᵢ.
    const Eigen::MatrixXd h = p.model.loss_hessian(p.train.images, p.train.labels);
    const xai::Batch first = xt::view(p.train.images, xt::range(0, 1));
    const Eigen::VectorXd g0 = p.model.per_example_loss_gradients(first, {p.train.labels[0]}).col(0);
    CHECK(self(0) == Approx(-g0.dot(h.ldlt().solve(g0))).epsilon(1e-10));

    const std::vector<std::size_t> order = xai::review_order(self);
    std::vector<double> found;
    for (const double checked : {0.1, 0.2, 0.3}) {
        const auto k = static_cast<std::size_t>(checked * static_cast<double>(n));
        const auto hits = std::count_if(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), [&](std::size_t i) { return flipped[i]; });
        found.push_back(static_cast<double>(hits) / static_cast<double>(flips));
    }
    INFO("fraction of flipped labels found after checking 10/20/30%: " << found[0] << " " << found[1] << " " << found[2]);
    // Random checking finds 10/20/30% in expectation.
    CHECK(found[0] >= 0.3);
    CHECK(found[1] >= 0.5);
    CHECK(found[2] >= 0.6);
}

namespace {

/// LogisticRegression without its closed-form mixed derivative, to exercise the central
/// difference of input gradients that general models get.
class OpaqueLogisticRegression {
public:
    explicit OpaqueLogisticRegression(LogisticRegression model) : model_(std::move(model)) {}
    xai::Scores forward(const xai::Batch& b) const { return model_.forward(b); }
    std::size_t num_classes() const { return model_.num_classes(); }
    xai::ImageShape input_shape() const { return model_.input_shape(); }
    xai::InputGradients input_gradients(const xai::Batch& b, const xai::ScoreSeed& s) const { return model_.input_gradients(b, s); }
    std::size_t num_parameters() const { return model_.num_parameters(); }
    Eigen::VectorXd parameters() const { return model_.parameters(); }
    std::vector<xai::ParameterBlock> parameter_blocks() const { return model_.parameter_blocks(); }
    double l2_regularization() const { return model_.l2_regularization(); }
    Eigen::VectorXd per_example_losses(const xai::Batch& b, const xai::Labels& l) const { return model_.per_example_losses(b, l); }
    Eigen::MatrixXd per_example_loss_gradients(const xai::Batch& b, const xai::Labels& l) const {
        return model_.per_example_loss_gradients(b, l);
    }
    Eigen::VectorXd loss_hessian_vector_product(const xai::Batch& b, const xai::Labels& l, const Eigen::VectorXd& v) const {
        return model_.loss_hessian_vector_product(b, l, v);
    }
    void set_parameters(const Eigen::VectorXd& theta) { model_.set_parameters(theta); }

private:
    LogisticRegression model_;
};
static_assert(xai::ReparametrizableModel<OpaqueLogisticRegression>);
static_assert(!xai::MixedDerivativeModel<OpaqueLogisticRegression>);
static_assert(!xai::ExactHessianModel<OpaqueLogisticRegression>);

}  // namespace

TEST_CASE("I_pert,loss matches finite differences and retraining on a perturbed input", "[influence][pert]") {
    const Problem p = binary_problem();
    const std::size_t n = p.train.labels.size();
    const xai::Influence<LogisticRegression, xai::ExactSolver> influence(p.model, p.train.images, p.train.labels);
    const xai::Image test = xai::image_at(p.test.images, 0);
    const std::size_t label = p.test.labels[0];
    const xai::InfluenceExplanation e = influence.explain(test, label);
    const std::vector<std::size_t> chosen{e.helpful[0][0], e.harmful[0][0], 17};
    const Eigen::VectorXd s = influence.s_test(xai::as_batch(test), {label}).values.col(0);
    const xai::Batch maps = influence.perturbation_influence(s, chosen);
    REQUIRE(maps.shape(0) == 3);
    CHECK(xai::image_shape(maps) == p.model.input_shape());
    CHECK((maps == influence.perturbation_influence(test, label, chosen)));

    // Definition: I_pert = ∇x I_up,loss(z, z_test) with θ̂ and s_test fixed; central differences.
    const std::size_t pixels = 14 * 14;
    for (std::size_t k = 0; k < chosen.size(); ++k) {
        const xai::Batch x = xt::view(p.train.images, xt::range(chosen[k], chosen[k] + 1));
        const xai::Labels y{p.train.labels[chosen[k]]};
        for (std::size_t j = 0; j < pixels; j += 7) {
            xai::Batch plus = x, minus = x;
            plus.data()[j] += 0.01f;
            minus.data()[j] -= 0.01f;
            const double up_plus = -s.dot(p.model.per_example_loss_gradients(plus, y).col(0));
            const double up_minus = -s.dot(p.model.per_example_loss_gradients(minus, y).col(0));
            const double fd = (up_plus - up_minus) / (static_cast<double>(plus.data()[j]) - minus.data()[j]);
            CHECK(maps.data()[k * pixels + j] == Approx(fd).epsilon(1e-3).margin(1e-4 * std::abs(maps.data()[k * pixels])));
        }
    }

    // A general model (no closed form) gets the central difference of input gradients.
    const OpaqueLogisticRegression opaque(p.model);
    const xai::Influence<OpaqueLogisticRegression, xai::ExactSolver> general(opaque, p.train.images, p.train.labels);
    const Eigen::VectorXd s_general = general.s_test(xai::as_batch(test), {label}).values.col(0);
    CHECK(relative_error(s_general, s) < 1e-10);  // the Hessian from 197 HVP columns
    const xai::Batch general_maps = general.perturbation_influence(s_general, chosen);
    double diff = 0, norm = 0;
    for (std::size_t k = 0; k < maps.size(); ++k) {
        diff += std::pow(general_maps.data()[k] - maps.data()[k], 2);
        norm += std::pow(maps.data()[k], 2);
    }
    CHECK(std::sqrt(diff / norm) < 1e-4);

    // Moving a training input by δ and retraining changes the test loss by ≈ (1/n) I_pert·δ.
    const double base = p.model.per_example_losses(xai::as_batch(test), {label})(0);
    for (std::size_t k = 0; k < 2; ++k) {
        Eigen::Map<const Eigen::VectorXf> map(maps.data() + k * pixels, static_cast<Eigen::Index>(pixels));
        const Eigen::VectorXd delta = 0.1 * map.cast<double>() / map.cast<double>().norm();
        Subset moved = p.train;
        for (std::size_t j = 0; j < pixels; ++j)
            moved.images.data()[chosen[k] * pixels + j] += static_cast<float>(delta(static_cast<Eigen::Index>(j)));
        LogisticRegression retrained = p.model;
        REQUIRE(retrained.fit(moved.images, moved.labels).converged);
        const double actual = retrained.per_example_losses(xai::as_batch(test), {label})(0) - base;
        const double predicted = map.cast<double>().dot(delta) / static_cast<double>(n);
        INFO("training example " << chosen[k] << ": predicted " << predicted << ", actual " << actual);
        CHECK(actual == Approx(predicted).epsilon(0.1));
    }
}

TEST_CASE("the parameter subset differentiates only the chosen blocks", "[influence][subset]") {
    const Problem p = binary_problem();
    xai::InfluenceOptions options;
    options.parameter_blocks = {"weight"};
    const xai::Influence<LogisticRegression, xai::ExactSolver> exact(p.model, p.train.images, p.train.labels, options);
    const xai::Influence<LogisticRegression> cg(p.model, p.train.images, p.train.labels, options);
    CHECK(exact.diagnostics().num_parameters == 196);
    const xai::Batch test = xt::view(p.test.images, xt::range(0, 2));
    const xai::Targets targets{p.test.labels[0], p.test.labels[1]};
    const xai::Labels labels{p.test.labels[0], p.test.labels[1]};

    // Brute force: the weight block of the Hessian and of the gradients, the bias frozen.
    const Eigen::MatrixXd h = p.model.loss_hessian(p.train.images, p.train.labels).topLeftCorner(196, 196);
    const Eigen::MatrixXd g_train = p.model.per_example_loss_gradients(p.train.images, p.train.labels).topRows(196);
    const Eigen::MatrixXd g_test = p.model.per_example_loss_gradients(test, labels).topRows(196);
    const Eigen::MatrixXd brute = -g_train.transpose() * h.ldlt().solve(g_test);
    CHECK(relative_error(exact.influence(test, targets), brute) < 1e-10);
    CHECK(relative_error(cg.influence(test, targets), brute) < 1e-6);
    // …which differs from the influence through all parameters.
    const xai::Influence<LogisticRegression, xai::ExactSolver> all(p.model, p.train.images, p.train.labels);
    CHECK(relative_error(all.influence(test, targets), brute) > 1e-3);

    options.parameter_blocks = {"weights"};
    CHECK_THROWS_WITH((xai::Influence<LogisticRegression>(p.model, p.train.images, p.train.labels, options)),
                      Contains("unknown parameter block 'weights', expected one of: weight, bias"));
    options.parameter_blocks = {"bias", "bias"};
    CHECK_THROWS_WITH((xai::Influence<LogisticRegression>(p.model, p.train.images, p.train.labels, options)),
                      Contains("named twice"));
}

TEST_CASE("an untrained model is refused, or accepted with a warning", "[influence][stationarity]") {
    const Problem p = binary_problem();
    const LogisticRegression untrained = LogisticRegression::binary({1, 14, 14}, 0.01);
    CHECK_THROWS_AS((xai::Influence<LogisticRegression>(untrained, p.train.images, p.train.labels)), xai::model_error);
    CHECK_THROWS_WITH((xai::Influence<LogisticRegression>(untrained, p.train.images, p.train.labels)),
                      Contains("not at a minimum") && Contains("StationarityPolicy::warn"));
    xai::InfluenceOptions options;
    options.stationarity = xai::StationarityPolicy::warn;
    const xai::Influence<LogisticRegression> warned(untrained, p.train.images, p.train.labels, options);
    REQUIRE(warned.diagnostics().warnings.size() == 1);
    CHECK_THAT(warned.diagnostics().warnings[0], Contains("relative gradient norm"));
    CHECK(warned.diagnostics().stationarity.relative_gradient_norm > 0.1);
    // The trained model passes the same check.
    const xai::Influence<LogisticRegression> trained(p.model, p.train.images, p.train.labels);
    CHECK(trained.diagnostics().warnings.empty());
    CHECK(trained.diagnostics().stationarity.gradient_norm <= 1e-10);
}

TEST_CASE("influence rejects bad input with messages that name the argument", "[influence][errors]") {
    const Problem p = binary_problem();
    using CgInfluence = xai::Influence<LogisticRegression>;
    using ExactInfluence = xai::Influence<LogisticRegression, xai::ExactSolver>;
    using LissaInfluence = xai::Influence<LogisticRegression, xai::LissaSolver>;

    SECTION("empty training set and mismatched shapes") {
        const xai::Batch empty = xai::Batch::from_shape({0, 1, 14, 14});
        CHECK_THROWS_WITH(CgInfluence(p.model, empty, {}), Contains("the training set is empty"));
        CHECK_THROWS_AS(CgInfluence(p.model, empty, {}), xai::shape_error);
        const xai::Batch small = xai::resize(p.train.images, 7, 7);
        CHECK_THROWS_WITH(CgInfluence(p.model, small, p.train.labels), Contains("training images are 1x7x7"));
        const xai::Labels short_labels(p.train.labels.begin(), p.train.labels.end() - 1);
        CHECK_THROWS_WITH(CgInfluence(p.model, p.train.images, short_labels), Contains("999 entries"));
        xai::Labels bad_labels = p.train.labels;
        bad_labels[5] = 2;
        CHECK_THROWS_WITH(CgInfluence(p.model, p.train.images, bad_labels), Contains("training label 5 is 2"));
        const CgInfluence influence(p.model, p.train.images, p.train.labels);
        CHECK_THROWS_AS(influence.explain(xai::Image::from_shape({1, 7, 7})), xai::shape_error);
        CHECK_THROWS_AS(influence.explain(xai::image_at(p.test.images, 0), 5), xai::invalid_argument);
        CHECK_THROWS_WITH(influence.influence_of(Eigen::MatrixXd::Zero(5, 1)), Contains("s_test has 5 rows"));
        CHECK_THROWS_WITH(influence.perturbation_influence(Eigen::VectorXd::Zero(197), {1000}),
                          Contains("training index 1000 is out of range"));
        CHECK_THROWS_AS(influence.perturbation_influence(Eigen::VectorXd::Zero(197), {}), xai::shape_error);
        xai::InfluenceOptions zero_batch;
        zero_batch.batch_size = 0;
        CHECK_THROWS_WITH(CgInfluence(p.model, p.train.images, p.train.labels, zero_batch), Contains("batch_size is 0"));
    }

    SECTION("a singular Hessian without damping") {
        // No L2 term and more parameters (197) than training examples (20): H has rank ≤ 20.
        const LogisticRegression singular = LogisticRegression::binary({1, 14, 14}, 0.0);
        const xai::Batch few = xt::view(p.train.images, xt::range(0, 20));
        const xai::Labels few_labels(p.train.labels.begin(), p.train.labels.begin() + 20);
        xai::InfluenceOptions options;
        options.stationarity = xai::StationarityPolicy::warn;
        CHECK_THROWS_AS(ExactInfluence(singular, few, few_labels, options), xai::numerical_error);
        CHECK_THROWS_WITH(ExactInfluence(singular, few, few_labels, options), Contains("singular") && Contains("damping"));
        const CgInfluence cg(singular, few, few_labels, options);
        const xai::Image test = xai::image_at(p.test.images, 0);
        CHECK_THROWS_WITH(cg.explain(test, 0), Contains("not positive definite") && Contains("add damping"));
        // Damping makes it solvable, and both solvers then agree.
        const ExactInfluence damped_exact(singular, few, few_labels, options, xai::ExactSolver{0.01});
        xai::ConjugateGradientSolver damped_cg;
        damped_cg.damping = 0.01;
        const CgInfluence damped(singular, few, few_labels, options, damped_cg);
        const Eigen::VectorXd a = damped_exact.explain(test, 0).influence, b = damped.explain(test, 0).influence;
        CHECK(a.allFinite());
        CHECK(relative_error(b, a) < 1e-6);
    }

    SECTION("solver options") {
        CHECK_THROWS_WITH(ExactInfluence(p.model, p.train.images, p.train.labels, {}, xai::ExactSolver{-1.0}),
                          Contains("damping is -1"));
        xai::ConjugateGradientSolver cg;
        cg.tolerance = 0.0;
        CHECK_THROWS_WITH(CgInfluence(p.model, p.train.images, p.train.labels, {}, cg), Contains("tolerance is 0"));
        // Stopping early is reported by s_test(), refused by explain(), or a warning under
        // StationarityPolicy::warn.
        cg.tolerance = 1e-8;
        cg.max_iterations = 2;
        const CgInfluence early(p.model, p.train.images, p.train.labels, {}, cg);
        const xai::InverseHvp s = early.s_test(xt::view(p.test.images, xt::range(0, 1)), {p.test.labels[0]});
        CHECK(s.reports[0].iterations == 2);
        CHECK_FALSE(s.reports[0].converged);
        CHECK(s.reports[0].relative_residual > 1e-8);
        CHECK_THROWS_WITH(early.explain(xai::image_at(p.test.images, 0), p.test.labels[0]),
                          Contains("did not converge") && Contains("max_iterations"));
        const CgInfluence early_warned(p.model, p.train.images, p.train.labels, {.stationarity = xai::StationarityPolicy::warn}, cg);
        const xai::InfluenceExplanation e = early_warned.explain(xai::image_at(p.test.images, 0), p.test.labels[0]);
        CHECK_FALSE(e.solve_reports[0].converged);
        REQUIRE(e.warnings.size() == 1);
        CHECK_THAT(e.warnings[0], Contains("did not converge"));

        xai::LissaSolver lissa;
        lissa.scale = 0.0;
        CHECK_THROWS_WITH(LissaInfluence(p.model, p.train.images, p.train.labels, {}, lissa), Contains("scale is 0"));
        lissa = {};
        lissa.recursion_depth = 0;
        CHECK_THROWS_WITH(LissaInfluence(p.model, p.train.images, p.train.labels, {}, lissa), Contains("recursion_depth is 0"));
        // A minibatch larger than the training set (regression: fuzz_explainer_options, 2^32).
        lissa = {};
        lissa.batch_size = std::size_t{1} << 32;
        CHECK_THROWS_WITH(LissaInfluence(p.model, p.train.images, p.train.labels, {}, lissa),
                          Contains("batch_size is 4294967296") && Contains("training examples"));
        lissa.batch_size = p.train.labels.size();
        CHECK_NOTHROW(LissaInfluence(p.model, p.train.images, p.train.labels, {}, lissa));
        // A scale below the largest eigenvalue makes the recursion diverge.
        lissa = {};
        lissa.scale = 0.05;
        lissa.recursion_depth = 2000;
        const LissaInfluence diverging(p.model, p.train.images, p.train.labels, {}, lissa);
        CHECK_THROWS_WITH(diverging.explain(xai::image_at(p.test.images, 0), 0), Contains("diverged") && Contains("increase"));
    }
}

TEST_CASE("LiSSA is reproducible for a seed, whatever the thread count", "[influence][lissa]") {
    const Problem p = multinomial_problem();
    xai::LissaSolver lissa;
    lissa.scale = 20.0;
    lissa.recursion_depth = 200;
    lissa.batch_size = 10;
    lissa.repeats = 3;
    lissa.seed = 5;
    xai::InfluenceOptions one, two;
    one.threads = 1;
    two.threads = 2;
    const xai::Influence<LogisticRegression, xai::LissaSolver> a(p.model, p.train.images, p.train.labels, one, lissa);
    const xai::Influence<LogisticRegression, xai::LissaSolver> b(p.model, p.train.images, p.train.labels, two, lissa);
    const xai::Batch test = xt::view(p.test.images, xt::range(0, 2));
    const xai::InverseHvp sa = a.s_test(test), sb = b.s_test(test);
    CHECK((sa.values.array() == sb.values.array()).all());
    lissa.seed = 6;
    const xai::Influence<LogisticRegression, xai::LissaSolver> c(p.model, p.train.images, p.train.labels, one, lissa);
    CHECK_FALSE((c.s_test(test).values.array() == sa.values.array()).all());
    CHECK(sa.reports[0].iterations == 600);
}

TEST_CASE("the CNN's last layer with frozen features equals logistic regression on those features", "[influence][cnn]") {
    // A small random CNN (double precision, for a tight comparison); its last layer is set to
    // the optimum of multinomial logistic regression on its GAP features, so the subset
    // {fc.weight, fc.bias} is at a minimum with the features frozen.
    using Cnn = xai::models::BasicSequential<double>;
    static_assert(xai::ReparametrizableModel<Cnn>);
    Cnn cnn({1, 7, 7},
            {xai::models::conv2d(6, 3, 1, 1), xai::models::relu(), xai::models::global_avg_pool(), xai::models::linear(4)}, 3);
    cnn.set_l2_regularization(0.01);
    const Subset train = fashion_subset(xai::FashionMnistSplit::train, {0, 2, 4, 6}, 300, 7);
    const Subset test = fashion_subset(xai::FashionMnistSplit::test, {0, 2, 4, 6}, 3, 7);

    const xai::FeatureOutput pooled = xai::pooled_features(cnn, train.images, 64);
    const xai::Batch& train_features = pooled.features;
    const xai::Batch test_features = xai::pooled_features(cnn, test.images).features;
    {  // pooled_features: the mean of each final map, the same for any batch size, with the logits
        const xai::FeatureOutput whole = cnn.forward_features(train.images);
        REQUIRE(train_features.shape() == std::array<std::size_t, 4>{300, 6, 1, 1});
        for (const std::size_t i : {std::size_t{0}, std::size_t{123}, std::size_t{299}})
            for (std::size_t c = 0; c < 6; ++c)
                CHECK(train_features(i, c, 0, 0) == Approx(xt::mean(xt::view(whole.features, i, c))()).epsilon(1e-6));
        std::size_t calls = 0;
        const xai::FeatureOutput by_7 = xai::pooled_features(cnn, train.images, 7, [&](const xai::ProgressReport&) { ++calls; });
        CHECK(calls == 43);
        CHECK(by_7.features == train_features);
        CHECK(xt::allclose(by_7.scores, cnn.forward(train.images), 1e-6, 1e-6));
        CHECK(xt::allclose(pooled.scores, whole.scores, 1e-6, 1e-6));
        CHECK_THROWS_WITH(xai::pooled_features(cnn, train.images, 0), "xai::pooled_features(): batch_size is 0, expected at least 1");
        CHECK_THROWS_WITH(xai::pooled_features(cnn, xai::Batch::from_shape({0, 1, 7, 7})), Contains("images has 0 images"));
    }
    LogisticRegression head = LogisticRegression::multinomial({6, 1, 1}, 4, 0.01);
    REQUIRE(head.fit(train_features, train.labels).converged);

    Eigen::VectorXd theta = cnn.parameters();
    const auto blocks = cnn.parameter_blocks();
    const auto fc_weight = std::find_if(blocks.begin(), blocks.end(), [](const auto& b) { return b.name == "fc.weight"; });
    REQUIRE(fc_weight != blocks.end());
    REQUIRE(fc_weight->size + 4 == head.num_parameters());
    theta.segment(static_cast<Eigen::Index>(fc_weight->offset), static_cast<Eigen::Index>(head.num_parameters())) = head.parameters();
    cnn.set_parameters(theta);

    xai::InfluenceOptions options;
    options.parameter_blocks = {"fc.weight", "fc.bias"};
    const xai::Influence<Cnn, xai::ExactSolver> cnn_influence(cnn, train.images, train.labels, options);
    const xai::Influence<LogisticRegression, xai::ExactSolver> lr_influence(head, train_features, train.labels);
    CHECK(cnn_influence.diagnostics().stationarity.relative_gradient_norm < 1e-6);
    const xai::Targets targets{test.labels[0], test.labels[1], test.labels[2]};
    const Eigen::MatrixXd from_cnn = cnn_influence.influence(test.images, targets);
    const Eigen::MatrixXd from_lr = lr_influence.influence(test_features, targets);
    // The features pass through float once (the LR's input batch), hence 1e-5.
    CHECK(relative_error(from_cnn, from_lr) < 1e-5);
    // Conjugate gradients on the CNN's R-operator products give the same.
    const xai::Influence<Cnn> cnn_cg(cnn, train.images, train.labels, options);
    CHECK(relative_error(cnn_cg.influence(test.images, targets), from_lr) < 1e-5);
    // Through all parameters the network is not at a minimum: refused by default.
    CHECK_THROWS_AS((xai::Influence<Cnn>(cnn, train.images, train.labels)), xai::model_error);
}

static_assert(xai::Explainer<xai::Influence<LogisticRegression>>);
static_assert(xai::Explainer<xai::Influence<LogisticRegression, xai::ExactSolver>>);
static_assert(xai::Explainer<xai::Influence<xai::models::BasicSequential<double>, xai::LissaSolver>>);
static_assert(std::is_same_v<xai::explanation_t<xai::Influence<LogisticRegression>>, xai::InfluenceExplanation>);

TEST_CASE("influence has the one calling shape of every explainer", "[influence][api]") {
    const Problem p = multinomial_problem();
    // Options and solvers are aggregates: designated initializers, and the model type deduced.
    const xai::Influence cg(p.model, p.train.images, p.train.labels, {.batch_size = 64, .top_k = 5});
    static_assert(std::is_same_v<decltype(cg), const xai::Influence<LogisticRegression>>);
    CHECK(cg.options().batch_size == 64);
    CHECK(cg.options().top_k == 5);
    const xai::Influence<LogisticRegression, xai::ExactSolver> exact(p.model, p.train.images, p.train.labels,
                                                                     {.threads = 1, .top_k = 4}, {.damping = 0.0});
    const xai::LissaSolver lissa{.recursion_depth = 50, .scale = 20.0, .batch_size = 10, .seed = 2};
    CHECK(lissa.repeats == 1);

    const xai::Batch test = xt::view(p.test.images, xt::range(0, 2));
    const xai::Image first = xai::image_at(test, 0), second = xai::image_at(test, 1);
    const std::size_t n_train = p.train.labels.size();

    SECTION("the image form is the batch form on a batch of one, bit for bit") {
        const xai::InfluenceExplanation one = exact.explain(first, p.test.labels[0]);
        const xai::InfluenceExplanation batch = exact.explain(xai::as_batch(first), {p.test.labels[0]});
        CHECK((one.influence.array() == batch.influence.array()).all());
        CHECK(one.helpful == batch.helpful);
        CHECK(one.harmful == batch.harmful);
        CHECK(one.test_losses == batch.test_losses);
        CHECK(one.scores == batch.scores);
        CHECK(one.targets == batch.targets);
        CHECK((one.logits == batch.logits));
    }

    SECTION("the core fields: no pixel maps, targets, log-probability scores, logits") {
        const xai::InfluenceExplanation e = exact.explain(test, {p.test.labels[0], p.test.labels[1]});
        REQUIRE(e.size() == 2);
        CHECK(e.maps.shape() == std::array<std::size_t, 3>{2, 0, 0});
        CHECK(e.raw.shape() == std::array<std::size_t, 3>{2, 0, 0});
        CHECK(e.targets == std::vector<std::size_t>{p.test.labels[0], p.test.labels[1]});
        CHECK(e.score_kind == xai::ScoreKind::log_probability);
        CHECK((e.logits == p.model.forward(test)));
        const xai::Scores log_p = xai::log_softmax(e.logits);
        for (std::size_t i = 0; i < 2; ++i) {
            CHECK(e.scores[i] == log_p(i, e.targets[i]));
            CHECK(-e.scores[i] == Approx(e.test_losses[i]).epsilon(1e-5));  // the test loss is −score
            CHECK(e.helpful[i].size() == 4);
            CHECK(e.harmful[i].size() == 4);
        }
        CHECK(e.influence.rows() == static_cast<Eigen::Index>(n_train));
        CHECK(e.influence.cols() == 2);
        CHECK(e.solve_reports.size() == 2);
        // map() and raw_map() throw, naming the reason.
        CHECK_THROWS_AS(e.map(0), xai::shape_error);
        CHECK_THROWS_WITH(e.map(0), Contains("no pixel maps") && Contains("helpful and harmful"));
        CHECK_THROWS_WITH(e.raw_map(1), Contains("no pixel maps"));
        // Predicted targets by default.
        const xai::InfluenceExplanation predicted = exact.explain(test);
        CHECK(predicted.targets == xai::argmax_rows(p.model.forward(test)));
    }

    SECTION("a batch of two equals two single explanations") {
        for (const auto* name : {"exact", "cg"}) {
            INFO(name);
            const bool is_exact = std::string(name) == "exact";
            const xai::InfluenceExplanation both = is_exact ? exact.explain(test, {p.test.labels[0], p.test.labels[1]})
                                                            : cg.explain(test, {p.test.labels[0], p.test.labels[1]});
            for (std::size_t i = 0; i < 2; ++i) {
                const xai::Image image = i == 0 ? first : second;
                const xai::InfluenceExplanation alone =
                    is_exact ? exact.explain(image, p.test.labels[i]) : cg.explain(image, p.test.labels[i]);
                // Equal up to the grouping of the model's products over one or two images (last
                // bits of the gradients), which CG, stopping at a relative residual of 1e-8,
                // carries further than the exact solve.
                const double tolerance = is_exact ? 1e-10 : 1e-8;
                CHECK(relative_error(both.influence.col(static_cast<Eigen::Index>(i)), alone.influence) < tolerance);
                CHECK(both.helpful[i] == alone.helpful[0]);
                CHECK(both.harmful[i] == alone.harmful[0]);
                CHECK(both.test_losses[i] == Approx(alone.test_losses[0]).epsilon(1e-14));
                CHECK(both.scores[i] == alone.scores[0]);
                CHECK(both.targets[i] == alone.targets[0]);
                CHECK(both.solve_reports[i].solver == alone.solve_reports[0].solver);
            }
        }
    }

    SECTION("progress is an argument: the solver's iterations, then the training examples") {
        std::vector<xai::ProgressReport> reports;
        const xai::InfluenceExplanation e =
            cg.explain(first, p.test.labels[0], [&](const xai::ProgressReport& r) { reports.push_back(r); });
        REQUIRE(!reports.empty());
        CHECK(reports.front().stage == "conjugate-gradient iterations");
        CHECK(reports.back().stage == "training examples");
        CHECK(reports.back().done == n_train);
        CHECK(reports.back().total == n_train);
        // The constructor reports its pass over the training set too.
        std::size_t constructor_reports = 0;
        const xai::Influence<LogisticRegression> reported(p.model, p.train.images, p.train.labels, {}, {},
                                                          [&](const xai::ProgressReport&) { ++constructor_reports; });
        CHECK(constructor_reports > 0);
    }

    SECTION("errors are prefixed xai::Influence::<function>()") {
        CHECK_THROWS_WITH(exact.explain(xai::Image::from_shape({1, 3, 3})), StartsWith("xai::Influence::explain(): "));
        CHECK_THROWS_AS(exact.explain(xai::Image::from_shape({0, 7, 7})), xai::shape_error);
        CHECK_THROWS_WITH(exact.explain(test, {0, 1, 2}),
                          StartsWith("xai::Influence::explain(): ") && Contains("targets has 3 entries"));
        CHECK_THROWS_WITH(exact.explain(first, 9), StartsWith("xai::Influence::explain(): ") && Contains("target class 9"));
        CHECK_THROWS_WITH(exact.s_test(test, {7}), StartsWith("xai::Influence::s_test(): "));
        CHECK_THROWS_WITH(exact.influence(test, {7}), StartsWith("xai::Influence::influence(): "));
        CHECK_THROWS_WITH(exact.influence_of(Eigen::MatrixXd::Zero(3, 1)), StartsWith("xai::Influence::influence_of(): "));
        CHECK_THROWS_WITH(exact.perturbation_influence(Eigen::VectorXd::Zero(3), {0}),
                          StartsWith("xai::Influence::perturbation_influence(): "));
        xai::InfluenceOptions bad{.perturbation_step = 0.0};
        CHECK_THROWS_WITH((xai::Influence<LogisticRegression>(p.model, p.train.images, p.train.labels, bad)),
                          StartsWith("xai::Influence::Influence(): ") && Contains("perturbation_step is 0"));
        CHECK_THROWS_WITH((xai::Influence<LogisticRegression, xai::ExactSolver>(p.model, p.train.images, p.train.labels, {},
                                                                                 {.damping = -1.0})),
                          StartsWith("xai::ExactSolver::prepare(): "));
    }
}

// ---- regression tests for the faults found in review (issue 20) --------------------------------

TEST_CASE("an exactly singular Hessian is refused by the exact solver", "[influence][faults]") {
    // λ = 0 and one pixel that is 0 in every training image: the weight of that pixel has an
    // exactly zero row and column in H. Eigen's LDLᵀ has a zero pivot there; its rcond() and
    // isPositive() did not see it and its solve() set that component of s_test silently to 0.
    const Problem p = binary_problem();
    xai::Batch images = p.train.images;
    const std::size_t pixels = 14 * 14;
    for (std::size_t i = 0; i < p.train.labels.size(); ++i) images.data()[i * pixels] = 0.0f;
    LogisticRegression no_l2 = LogisticRegression::binary({1, 14, 14}, 0.0);
    no_l2.set_parameters(p.model.parameters());
    REQUIRE(no_l2.loss_hessian(images, p.train.labels).row(0).norm() == 0.0);
    xai::InfluenceOptions options;
    options.stationarity = xai::StationarityPolicy::warn;
    using ExactInfluence = xai::Influence<LogisticRegression, xai::ExactSolver>;
    CHECK_THROWS_AS(ExactInfluence(no_l2, images, p.train.labels, options), xai::numerical_error);
    CHECK_THROWS_WITH(ExactInfluence(no_l2, images, p.train.labels, options),
                      StartsWith("xai::ExactSolver::prepare(): ") && Contains("singular") && Contains("pivot") &&
                          Contains("damping"));
    // Damping removes the zero pivot; the solution then solves (H + μI) s = g.
    const ExactInfluence damped(no_l2, images, p.train.labels, options, xai::ExactSolver{.damping = 1e-3});
    const xai::Batch test = xt::view(p.test.images, xt::range(0, 1));
    const xai::InverseHvp s = damped.s_test(test, {p.test.labels[0]});
    Eigen::MatrixXd h = no_l2.loss_hessian(images, p.train.labels);
    h.diagonal().array() += 1e-3;
    const Eigen::MatrixXd g = damped.test_gradients(test, {p.test.labels[0]});
    CHECK(relative_error(h * s.values, g) < 1e-9);
    // The exact solver reports its true residual, not a hard-coded 0.
    CHECK(s.reports[0].relative_residual > 0.0);
    CHECK(s.reports[0].relative_residual < 1e-9);
}

TEST_CASE("LiSSA reports whether it converged, and the stationarity policy refuses or warns", "[influence][faults]") {
    const Problem p = multinomial_problem();
    const xai::Image test = xai::image_at(p.test.images, 0);
    const std::size_t label = p.test.labels[0];
    // Too few steps: the Neumann series is far from its limit (it was reported converged).
    xai::LissaSolver shallow{.recursion_depth = 5, .scale = 20.0};
    xai::InfluenceOptions warn;
    warn.stationarity = xai::StationarityPolicy::warn;
    using LissaInfluence = xai::Influence<LogisticRegression, xai::LissaSolver>;
    const LissaInfluence refusing(p.model, p.train.images, p.train.labels, {}, shallow);
    const xai::InverseHvp s = refusing.s_test(xai::as_batch(test), {label});
    INFO("residual after 5 steps " << s.reports[0].relative_residual);
    CHECK(s.reports[0].relative_residual > 0.4);
    CHECK_FALSE(s.reports[0].converged);
    CHECK(s.reports[0].step_change > 0.0);
    CHECK_THROWS_AS(refusing.explain(test, label), xai::numerical_error);
    CHECK_THROWS_WITH(refusing.explain(test, label), StartsWith("xai::Influence::explain(): ") && Contains("did not converge") &&
                                                         Contains("recursion_depth"));
    const LissaInfluence warning(p.model, p.train.images, p.train.labels, warn, shallow);
    const xai::InfluenceExplanation e = warning.explain(test, label);
    REQUIRE(e.warnings.size() == 1);
    CHECK_THAT(e.warnings[0], Contains("did not converge"));
    // Deep enough (whole-set steps: a deterministic Richardson iteration), it converges.
    const Eigen::MatrixXd h = p.model.loss_hessian(p.train.images, p.train.labels);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
    xai::LissaSolver deep{.recursion_depth = 0, .scale = 1.1 * eig.eigenvalues().maxCoeff()};
    deep.recursion_depth = static_cast<std::size_t>(std::log(1e-4) / std::log(1.0 - eig.eigenvalues().minCoeff() / deep.scale)) + 1;
    const LissaInfluence converging(p.model, p.train.images, p.train.labels, {}, deep);
    const xai::InfluenceExplanation good = converging.explain(test, label);
    CHECK(good.solve_reports[0].converged);
    CHECK(good.solve_reports[0].relative_residual <= deep.tolerance);
    CHECK(good.warnings.empty());
}

TEST_CASE("leave-one-out: both regularization conventions are predicted, fit()'s by default", "[influence][faults]") {
    // fit() retrains on n − 1 points with the same λ: F₋ᵢ = (1/(n−1)) Σ_{j≠i} L_j + (λ/2)‖θ‖²,
    // whose optimum moves by (1/n) H⁻¹(∇Lᵢ + λθ̂): −I_up,loss/n + λ s_testᵀθ̂/n. A fixed total
    // regularization, (1/n) Σ_{j≠i} L_j + (λ/2)‖θ‖² (sklearn's fixed C), is fit() with
    // λ' = λ n/(n − 1), and moves by (1/n) H⁻¹∇Lᵢ: −I_up,loss/n.
    const Problem p = multinomial_problem();
    const std::size_t n = p.train.labels.size();
    const xai::Influence<LogisticRegression, xai::ExactSolver> influence(p.model, p.train.images, p.train.labels);
    const xai::Batch test = xt::view(p.test.images, xt::range(0, 4));
    const xai::Labels labels(p.test.labels.begin(), p.test.labels.begin() + 4);
    const xai::Targets targets(labels.begin(), labels.end());
    const xai::InfluenceExplanation e = influence.explain(test, targets);
    const Eigen::MatrixXd same = xai::predicted_loss_change_on_removal(e);
    const Eigen::MatrixXd fixed = xai::predicted_loss_change_on_removal(e, xai::Retraining::fixed_total);
    CHECK((same.array() == xai::predicted_loss_change_on_removal(e, xai::Retraining::same_lambda).array()).all());
    CHECK(relative_error(fixed, -e.influence / static_cast<double>(n)) < 1e-15);
    // The shift is λ s_testᵀθ̂/n, one per test image.
    const xai::InverseHvp s = influence.s_test(test, targets);
    for (Eigen::Index j = 0; j < 4; ++j)
        CHECK((same.col(j) - fixed.col(j)).array().abs().maxCoeff() ==
              Approx(std::abs(0.01 * s.values.col(j).dot(p.model.parameters()) / static_cast<double>(n))).epsilon(1e-9));
    double error_same = 0, error_fixed = 0, error_fixed_lambda = 0, error_wrong = 0;
    for (const std::size_t removed : {3, 77, 400}) {
        const Subset rest = without(p.train, removed);
        LogisticRegression same_lambda = p.model;  // what fit() does: the same λ over n − 1 points
        REQUIRE(same_lambda.fit(rest.images, rest.labels).converged);
        LogisticRegression fixed_total = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01 * static_cast<double>(n) / static_cast<double>(n - 1));
        fixed_total.set_parameters(p.model.parameters());
        REQUIRE(fixed_total.fit(rest.images, rest.labels).converged);
        const Eigen::VectorXd base = p.model.per_example_losses(test, labels);
        const Eigen::VectorXd a_same = same_lambda.per_example_losses(test, labels) - base;
        const Eigen::VectorXd a_fixed = fixed_total.per_example_losses(test, labels) - base;
        const auto r = static_cast<Eigen::Index>(removed);
        error_same += (same.row(r).transpose() - a_same).norm();
        error_fixed += (fixed.row(r).transpose() - a_fixed).norm();
        error_wrong += (fixed.row(r).transpose() - a_same).norm();
        error_fixed_lambda += (same.row(r).transpose() - a_fixed).norm();
    }
    INFO("errors: same λ " << error_same << ", fixed total " << error_fixed << ", mixed " << error_wrong << " " << error_fixed_lambda);
    CHECK(error_same < 0.1 * error_wrong);
    CHECK(error_fixed < 0.1 * error_fixed_lambda);
}

TEST_CASE("a model whose parameters changed after construction is refused", "[influence][faults]") {
    Problem p = multinomial_problem();
    const xai::Influence<LogisticRegression, xai::ExactSolver> influence(p.model, p.train.images, p.train.labels);
    const xai::Image test = xai::image_at(p.test.images, 0);
    CHECK_NOTHROW(influence.explain(test, p.test.labels[0]));
    // Refit on half the data: the factorization belongs to the old θ̂.
    const Subset half{xt::view(p.train.images, xt::range(0, 400)), xai::Labels(p.train.labels.begin(), p.train.labels.begin() + 400)};
    REQUIRE(p.model.fit(half.images, half.labels).converged);
    CHECK_THROWS_AS(influence.explain(test, p.test.labels[0]), xai::model_error);
    CHECK_THROWS_WITH(influence.explain(test, p.test.labels[0]),
                      StartsWith("xai::Influence::explain(): ") && Contains("parameters changed") && Contains("build a new"));
    CHECK_THROWS_WITH(influence.self_influence(), StartsWith("xai::Influence::self_influence(): ") && Contains("parameters changed"));
    CHECK_THROWS_WITH(influence.s_test(xai::as_batch(test)), Contains("parameters changed"));
    // One bit suffices.
    Problem q = multinomial_problem();
    const xai::Influence<LogisticRegression> cg(q.model, q.train.images, q.train.labels);
    Eigen::VectorXd theta = q.model.parameters();
    theta(5) = std::nextafter(theta(5), 1e300);
    q.model.set_parameters(theta);
    CHECK_THROWS_WITH(cg.explain(test), Contains("parameters changed"));
}

TEST_CASE("no L2 term on separable data: fit() and Influence say what is wrong", "[influence][faults]") {
    // Trouser vs Bag on 7×7 images, 200 training images and 50 parameters: linearly separable,
    // so with λ = 0 the loss has no minimizer (it falls towards 0 as ‖θ‖ grows); fit() stopped at
    // ‖∇F‖ ≤ 1e-10 with ‖θ‖ in the hundreds and called it converged, and Influence then asked
    // whether the model was untrained.
    const Subset data = fashion_subset(xai::FashionMnistSplit::train, {1, 8}, 200, 7);
    const xai::Batch& few = data.images;
    const xai::Labels& few_labels = data.labels;
    LogisticRegression model = LogisticRegression::binary({1, 7, 7}, 0.0);
    const xai::models::LogisticFitReport report = model.fit(few, few_labels);
    INFO("gradient norm " << report.gradient_norm << ", |theta| " << model.parameters().norm() << ", iterations " << report.iterations);
    CHECK(report.separable);
    CHECK_FALSE(report.converged);
    CHECK(xai::argmax_rows(model.forward(few)) == std::vector<std::size_t>(few_labels.begin(), few_labels.end()));
    CHECK_THROWS_AS((xai::Influence<LogisticRegression>(model, few, few_labels)), xai::model_error);
    CHECK_THROWS_WITH((xai::Influence<LogisticRegression>(model, few, few_labels)),
                      Contains("separable") && Contains("l2_regularization") && !Contains("untrained"));
    // With λ > 0 the same data have a minimizer.
    LogisticRegression regularized = LogisticRegression::binary({1, 7, 7}, 0.01);
    const auto good = regularized.fit(few, few_labels);
    CHECK(good.converged);
    CHECK_FALSE(good.separable);
}
