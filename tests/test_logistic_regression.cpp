// Tests of include/xai/models/logistic_regression.hpp: binary and multinomial L2 logistic
// regression — hand-computed values, gradients and Hessians against finite differences, the
// optimum reached by Newton and L-BFGS, warm starts, and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>

#include "xai/core/random.hpp"
#include "xai/models/logistic_regression.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using xai::models::LogisticRegression;

namespace {

struct Data {
    xai::Batch images;
    xai::Labels labels;
};

/// Random images in [0, 1] with labels that depend on the pixels (so the problem is learnable
/// but not separable).
Data make_data(std::size_t n, xai::ImageShape shape, std::size_t classes, std::uint64_t seed) {
    xai::Rng rng(seed);
    Data d{xai::Batch::from_shape({n, shape.channels, shape.height, shape.width}), xai::Labels(n)};
    for (auto& v : d.images) v = static_cast<float>(rng.uniform());
    const std::size_t per = d.images.size() / n;
    for (std::size_t i = 0; i < n; ++i) {
        const double signal = d.images.data()[i * per] * classes;
        d.labels[i] = rng.bernoulli(0.8) ? std::min<std::size_t>(classes - 1, static_cast<std::size_t>(signal))
                                         : rng.uniform_index(classes);
    }
    return d;
}

Eigen::VectorXd random_vector(Eigen::Index n, std::uint64_t seed, double scale = 1.0) {
    xai::Rng rng(seed);
    Eigen::VectorXd v(n);
    for (Eigen::Index i = 0; i < n; ++i) v(i) = scale * rng.normal();
    return v;
}

double relative_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / std::max(1e-300, b.norm()); }

}  // namespace

TEST_CASE("binary logistic regression matches a hand computation", "[models][logistic]") {
    // One image of two pixels (0.5, 1), w = (2, −1), b = 0.25: z = 1 − 1 + 0.25 = 0.25.
    LogisticRegression model = LogisticRegression::binary({1, 1, 2}, 0.1);
    Eigen::VectorXd theta(3);
    theta << 2.0, -1.0, 0.25;
    model.set_parameters(theta);
    xai::Batch x = xai::Batch::from_shape({1, 1, 1, 2});
    x(0, 0, 0, 0) = 0.5f;
    x(0, 0, 0, 1) = 1.0f;
    const xai::Scores logits = model.forward(x);
    CHECK(logits(0, 0) == 0.0f);
    CHECK(logits(0, 1) == Approx(0.25));
    const double sigma = 1.0 / (1.0 + std::exp(-0.25));
    // y = 1: L = log(1 + e^{−z}); ∇L = (σ − 1)(0.5, 1, 1).
    CHECK(model.per_example_losses(x, {1})(0) == Approx(std::log1p(std::exp(-0.25))));
    CHECK(model.per_example_losses(x, {0})(0) == Approx(std::log1p(std::exp(0.25))));
    const Eigen::MatrixXd g = model.per_example_loss_gradients(x, {1});
    CHECK(g(0, 0) == Approx((sigma - 1.0) * 0.5));
    CHECK(g(1, 0) == Approx(sigma - 1.0));
    CHECK(g(2, 0) == Approx(sigma - 1.0));
    // F = L + (λ/2)‖θ‖² with ‖θ‖² = 4 + 1 + 1/16.
    CHECK(model.objective(x, {1}) == Approx(std::log1p(std::exp(-0.25)) + 0.05 * (5.0 + 1.0 / 16.0)));
    // H = σ(1−σ) x̃x̃ᵀ + λI.
    const Eigen::MatrixXd h = model.loss_hessian(x, {1});
    Eigen::VectorXd xt(3);
    xt << 0.5, 1.0, 1.0;
    const Eigen::MatrixXd expected = sigma * (1.0 - sigma) * xt * xt.transpose() + 0.1 * Eigen::MatrixXd::Identity(3, 3);
    CHECK(relative_error(h, expected) < 1e-14);
    const auto blocks = model.parameter_blocks();
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0].name == "weight");
    CHECK(blocks[0].size == 2);
    CHECK(blocks[1].name == "bias");
    CHECK(blocks[1].offset == 2);
}

TEST_CASE("multinomial logits and probabilities are a softmax regression", "[models][logistic]") {
    LogisticRegression model = LogisticRegression::multinomial({1, 1, 2}, 3, 0.0);
    // W = [[1, 0], [0, 1], [1, 1]], b = (0, 0.5, −1).
    Eigen::VectorXd theta(9);
    theta << 1, 0, 0, 1, 1, 1, 0, 0.5, -1;
    model.set_parameters(theta);
    xai::Batch x = xai::Batch::from_shape({1, 1, 1, 2});
    x(0, 0, 0, 0) = 2.0f;
    x(0, 0, 0, 1) = -1.0f;
    const xai::Scores z = model.forward(x);
    CHECK(z(0, 0) == Approx(2.0));
    CHECK(z(0, 1) == Approx(-0.5));
    CHECK(z(0, 2) == Approx(0.0));
    const double lse = std::log(std::exp(2.0) + std::exp(-0.5) + 1.0);
    CHECK(model.per_example_losses(x, {1})(0) == Approx(lse + 0.5));
    CHECK(model.num_parameters() == 9);
    CHECK(model.num_classes() == 3);
    CHECK_FALSE(model.is_binary());
}

TEST_CASE("gradients and Hessians match finite differences", "[models][logistic]") {
    const xai::ImageShape shape{1, 3, 3};
    for (const bool binary : {true, false}) {
        for (const bool bias : {true, false}) {
            DYNAMIC_SECTION((binary ? "binary" : "multinomial") << (bias ? " with bias" : " without bias")) {
                const std::size_t classes = binary ? 2 : 4;
                LogisticRegression model = binary ? LogisticRegression::binary(shape, 0.03, bias)
                                                  : LogisticRegression::multinomial(shape, classes, 0.03, bias);
                const Data d = make_data(12, shape, classes, 7);
                const auto p = static_cast<Eigen::Index>(model.num_parameters());
                const Eigen::VectorXd theta = random_vector(p, 11, 0.7);
                model.set_parameters(theta);

                // Per-example gradients: central differences of per-example losses (step 1e-5,
                // truncation error ~h² ≈ 1e-10).
                const double h = 1e-5;
                const Eigen::MatrixXd g = model.per_example_loss_gradients(d.images, d.labels);
                Eigen::MatrixXd fd_g(p, 12);
                Eigen::MatrixXd fd_h(p, p);
                for (Eigen::Index k = 0; k < p; ++k) {
                    LogisticRegression plus = model, minus = model;
                    Eigen::VectorXd e = Eigen::VectorXd::Zero(p);
                    e(k) = h;
                    plus.set_parameters(theta + e);
                    minus.set_parameters(theta - e);
                    fd_g.row(k) = (plus.per_example_losses(d.images, d.labels) - minus.per_example_losses(d.images, d.labels)).transpose() / (2 * h);
                    fd_h.col(k) = (plus.objective_gradient(d.images, d.labels) - minus.objective_gradient(d.images, d.labels)) / (2 * h);
                }
                CHECK(relative_error(g, fd_g) < 1e-7);
                // Products with the gradients, without forming them.
                Eigen::MatrixXd vs(p, 2);
                vs << random_vector(p, 17), random_vector(p, 19);
                CHECK(relative_error(model.per_example_loss_gradient_products(d.images, d.labels, vs), g.transpose() * vs) < 1e-12);
                // The objective gradient is the mean per-example gradient plus λθ.
                const Eigen::VectorXd grad = model.objective_gradient(d.images, d.labels);
                CHECK(relative_error(grad, g.rowwise().mean() + 0.03 * theta) < 1e-12);

                const Eigen::MatrixXd hessian = model.loss_hessian(d.images, d.labels);
                CHECK(relative_error(hessian, fd_h) < 1e-7);
                CHECK(relative_error(hessian, hessian.transpose()) < 1e-15);
                const Eigen::VectorXd v = random_vector(p, 13);
                CHECK(relative_error(model.loss_hessian_vector_product(d.images, d.labels, v), hessian * v) < 1e-12);
            }
        }
    }
}

TEST_CASE("input gradients and the mixed derivative match finite differences", "[models][logistic]") {
    const xai::ImageShape shape{2, 2, 2};
    for (const bool binary : {true, false}) {
        DYNAMIC_SECTION((binary ? "binary" : "multinomial")) {
            const std::size_t classes = binary ? 2 : 3;
            LogisticRegression model = binary ? LogisticRegression::binary(shape, 0.01)
                                              : LogisticRegression::multinomial(shape, classes, 0.01);
            const Data d = make_data(3, shape, classes, 5);
            const auto p = static_cast<Eigen::Index>(model.num_parameters());
            model.set_parameters(random_vector(p, 3, 0.5));
            const Eigen::VectorXd v = random_vector(p, 4);

            // Input gradient of the logit of class 1 is W_1 (binary: w).
            const xai::ScoreSeed seed = [](const xai::Scores& logits) {
                xai::Scores s = xt::zeros<float>(logits.shape());
                for (std::size_t i = 0; i < logits.shape(0); ++i) s(i, 1) = 1.0f;
                return s;
            };
            const xai::InputGradients ig = model.input_gradients(d.images, seed);
            const Eigen::VectorXd theta = model.parameters();
            const std::size_t offset = binary ? 0 : 8;
            for (std::size_t j = 0; j < 8; ++j) CHECK(ig.gradients.data()[8 + j] == Approx(theta(static_cast<Eigen::Index>(offset + j))));

            // (∇x∇θ L) v against central differences in x of vᵀ∇θL(z, θ). The images are float,
            // so the step is 1e-2 and the derivative is smooth enough for 1e-4 agreement.
            const xai::Batch mixed = model.loss_mixed_derivative_product(d.images, d.labels, v);
            const float step = 1e-2f;
            for (std::size_t k = 0; k < d.images.size(); ++k) {
                xai::Batch plus = d.images, minus = d.images;
                plus.data()[k] += step;
                minus.data()[k] -= step;
                const std::size_t i = k / 8;
                const double fp = model.per_example_loss_gradients(plus, d.labels).col(static_cast<Eigen::Index>(i)).dot(v);
                const double fm = model.per_example_loss_gradients(minus, d.labels).col(static_cast<Eigen::Index>(i)).dot(v);
                CHECK(mixed.data()[k] == Approx((fp - fm) / (2.0 * step)).margin(1e-4).epsilon(1e-3));
            }
        }
    }
}

TEST_CASE("Newton and L-BFGS reach the same optimum to a tight tolerance", "[models][logistic]") {
    const xai::ImageShape shape{1, 4, 4};
    for (const bool binary : {true, false}) {
        DYNAMIC_SECTION((binary ? "binary" : "multinomial")) {
            const std::size_t classes = binary ? 2 : 3;
            const Data d = make_data(200, shape, classes, 21);
            auto make = [&] {
                return binary ? LogisticRegression::binary(shape, 0.01) : LogisticRegression::multinomial(shape, classes, 0.01);
            };
            LogisticRegression newton = make(), lbfgs = make();
            const double before = newton.objective(d.images, d.labels);
            xai::models::LogisticFitOptions options;
            options.solver = xai::models::LogisticSolver::newton;
            const auto rn = newton.fit(d.images, d.labels, options);
            options.solver = xai::models::LogisticSolver::lbfgs;
            const auto rl = lbfgs.fit(d.images, d.labels, options);
            CHECK(rn.solver == "newton");
            CHECK(rl.solver == "lbfgs");
            CHECK(rn.converged);
            CHECK(rl.converged);
            CHECK(rn.gradient_norm <= 1e-10);
            CHECK(rl.gradient_norm <= 1e-10);
            CHECK(newton.objective_gradient(d.images, d.labels).norm() == Approx(rn.gradient_norm).margin(1e-15));
            CHECK(rn.objective < before);
            CHECK(rn.objective == Approx(newton.objective(d.images, d.labels)).epsilon(1e-14));
            // Strong convexity: ‖θ − θ*‖ ≤ ‖∇F‖/λ, so both are within 2e-8 of each other.
            CHECK((newton.parameters() - lbfgs.parameters()).norm() < 2e-8);
            CHECK(rn.iterations < 20);

            // Warm start from the optimum: nothing to do. From the optimum of a subset: few steps.
            const auto again = newton.fit(d.images, d.labels);
            CHECK(again.iterations == 0);
            xai::Batch fewer = xt::view(d.images, xt::range(0, 199));
            const xai::Labels fewer_labels(d.labels.begin(), d.labels.end() - 1);
            const auto loo = newton.fit(fewer, fewer_labels);
            CHECK(loo.converged);
            CHECK(loo.iterations <= 4);
        }
    }
}

TEST_CASE("logistic regression rejects bad input with messages that name the argument", "[models][logistic]") {
    CHECK_THROWS_AS(LogisticRegression::binary({1, 0, 2}), xai::shape_error);
    CHECK_THROWS_AS(LogisticRegression::multinomial({1, 2, 2}, 1), xai::invalid_argument);
    CHECK_THROWS_WITH(LogisticRegression::binary({1, 2, 2}, -1.0), Contains("l2_regularization is -1"));
    CHECK_THROWS_AS(LogisticRegression::binary({1, 2, 2}, std::nan("")), xai::invalid_argument);

    LogisticRegression model = LogisticRegression::multinomial({1, 2, 2}, 3);
    const Data d = make_data(4, {1, 2, 2}, 3, 1);
    CHECK_THROWS_AS(model.forward(xai::Batch::from_shape({2, 1, 3, 3})), xai::shape_error);
    CHECK_THROWS_AS(model.forward(xai::Batch::from_shape({0, 1, 2, 2})), xai::shape_error);
    xai::Batch nan_batch = d.images;
    nan_batch(0, 0, 0, 0) = std::nanf("");
    CHECK_THROWS_AS(model.forward(nan_batch), xai::invalid_argument);
    CHECK_THROWS_WITH(model.per_example_losses(d.images, {0, 1}), Contains("labels has 2 entries"));
    CHECK_THROWS_WITH(model.per_example_loss_gradients(d.images, {0, 1, 2, 3}), Contains("labels[3] is 3"));
    CHECK_THROWS_WITH(model.set_parameters(Eigen::VectorXd::Zero(3)), Contains("theta has 3 entries"));
    Eigen::VectorXd bad = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(model.num_parameters()));
    bad(0) = std::nan("");
    CHECK_THROWS_AS(model.set_parameters(bad), xai::invalid_argument);
    CHECK_THROWS_WITH(model.loss_hessian_vector_product(d.images, d.labels, Eigen::VectorXd::Zero(2)), Contains("v has 2 entries"));
    CHECK_THROWS_WITH(model.per_example_loss_gradient_products(d.images, d.labels, Eigen::MatrixXd::Zero(2, 1)), Contains("v has 2 rows"));
    xai::models::LogisticFitOptions options;
    options.gradient_tolerance = -1.0;
    CHECK_THROWS_WITH(model.fit(d.images, d.labels, options), Contains("gradient_tolerance is -1"));
    const xai::ScoreSeed wrong_seed = [](const xai::Scores&) { return xai::Scores(xt::zeros<float>({1, 1})); };
    CHECK_THROWS_AS(model.input_gradients(d.images, wrong_seed), xai::shape_error);

    // Without L2 on separable data the Hessian degenerates: Newton reports it.
    LogisticRegression unregularized = LogisticRegression::binary({1, 1, 2}, 0.0);
    xai::Batch x = xai::Batch::from_shape({1, 1, 1, 2});
    x(0, 0, 0, 0) = 1.0f;
    x(0, 0, 0, 1) = 0.0f;
    options = {};
    options.solver = xai::models::LogisticSolver::newton;
    CHECK_THROWS_AS(unregularized.fit(x, {1}, options), xai::numerical_error);
}

static_assert(std::is_same_v<LogisticRegression, xai::models::BasicLogisticRegression<double>>);

TEST_CASE("fit options take designated initializers, and errors name the class and function", "[models][logistic]") {
    const xai::ImageShape shape{1, 3, 3};
    const Data d = make_data(60, shape, 2, 9);
    LogisticRegression model = LogisticRegression::binary(shape, 0.05);
    const auto report = model.fit(d.images, d.labels, {.solver = xai::models::LogisticSolver::lbfgs, .lbfgs_memory = 5});
    CHECK(report.solver == "lbfgs");
    CHECK(report.converged);
    CHECK_THROWS_WITH(model.fit(d.images, d.labels, {.lbfgs_memory = 0}),
                      StartsWith("xai::models::LogisticRegression::fit(): ") && Contains("lbfgs_memory is 0"));
    CHECK_THROWS_WITH(model.per_example_losses(d.images, {0}),
                      StartsWith("xai::models::LogisticRegression::per_example_losses(): "));
    CHECK_THROWS_WITH(LogisticRegression::multinomial(shape, 1),
                      StartsWith("xai::models::LogisticRegression::multinomial(): "));
}
