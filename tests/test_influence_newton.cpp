// Tests of explain/influence/newton_step.hpp: leave-one-out and leave-group-out by one Newton
// step (the leverage correction), against brute force (the Hessian and gradient of the objective
// without the removed examples, formed densely), the closed form 1/(1 − h_ii) of binary logistic
// regression, and retraining on data with high-leverage points.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/image/resize.hpp"
#include "xai/influence.hpp"
#include "xai/models/logistic_regression.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using xai::models::LogisticRegression;

namespace {

struct Data {
    xai::Batch images;
    xai::Labels labels;
};

/// The first `count` training (or test) images of `classes`, relabelled 0, 1, …, at side×side,
/// then `extra` items of `odd_classes` brightened by `gain`, labelled alternately 0 and 1: points
/// of high leverage (directions the others barely constrain).
Data fashion(bool train, const std::vector<std::size_t>& classes, std::size_t count, std::size_t side,
             const std::vector<std::size_t>& odd_classes = {}, std::size_t extra = 0, float gain = 1.0f) {
    static const xai::LabelledImages train_set = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 4000);
    static const xai::LabelledImages test_set = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 1000);
    const xai::LabelledImages& data = train ? train_set : test_set;
    std::vector<xai::Image> images;
    Data out;
    for (std::size_t i = 0; i < data.labels.size() && images.size() < count; ++i) {
        const auto it = std::find(classes.begin(), classes.end(), data.labels[i]);
        if (it == classes.end()) continue;
        images.push_back(xai::image_at(data.images, i));
        out.labels.push_back(static_cast<std::size_t>(it - classes.begin()));
    }
    for (std::size_t i = 0, added = 0; i < data.labels.size() && added < extra; ++i) {
        if (std::find(odd_classes.begin(), odd_classes.end(), data.labels[i]) == odd_classes.end()) continue;
        xai::Image image = xai::image_at(data.images, i);
        image *= gain;
        images.push_back(image);
        out.labels.push_back(added++ % 2);
    }
    out.images = xai::resize(xai::stack(images), side, side);
    return out;
}

Data without(const Data& d, const std::vector<std::size_t>& removed) {
    std::vector<xai::Image> images;
    Data out;
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        if (std::find(removed.begin(), removed.end(), i) != removed.end()) continue;
        images.push_back(xai::image_at(d.images, i));
        out.labels.push_back(d.labels[i]);
    }
    out.images = xai::stack(images);
    return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    return sab / std::sqrt(saa * sbb);
}

/// One Newton step on F without `removed`, from the dense Hessian and gradient of that objective:
/// −∇²F₋(θ̂)⁻¹ ∇F₋(θ̂), F₋ over the remaining examples with regularization `lambda`.
Eigen::VectorXd brute_force_step(const LogisticRegression& model, const Data& rest, double lambda) {
    LogisticRegression m = model.is_binary() ? LogisticRegression::binary(model.input_shape(), lambda)
                                             : LogisticRegression::multinomial(model.input_shape(), model.num_classes(), lambda);
    m.set_parameters(model.parameters());
    return -m.loss_hessian(rest.images, rest.labels).ldlt().solve(m.objective_gradient(rest.images, rest.labels));
}

}  // namespace

static_assert(xai::HessianFactorModel<LogisticRegression>);
static_assert(xai::Explainer<xai::NewtonStepInfluence<LogisticRegression>>);

TEST_CASE("logistic regression's per-example Hessian factors multiply to its per-example Hessians", "[newton]") {
    for (const bool binary : {true, false}) {
        const Data d = fashion(true, {0, 2, 4, 6}, 40, 7);
        Data b = d;
        if (binary)
            for (auto& y : b.labels) y = y % 2;
        LogisticRegression model = binary ? LogisticRegression::binary({1, 7, 7}, 0.01) : LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
        REQUIRE(model.fit(b.images, b.labels).converged);
        const Eigen::MatrixXd u = model.per_example_loss_hessian_factors(b.images, b.labels);
        const Eigen::Index r = binary ? 1 : 4;
        REQUIRE(u.cols() == 40 * r);
        for (std::size_t i : {0, 17, 39}) {
            const xai::Batch one = xt::view(b.images, xt::range(i, i + 1));
            Eigen::MatrixXd k = model.loss_hessian(one, {b.labels[i]});
            k.diagonal().array() -= 0.01;
            const Eigen::MatrixXd ui = u.middleCols(static_cast<Eigen::Index>(i) * r, r);
            CHECK((ui * ui.transpose() - k).norm() < 1e-12 * k.norm());
        }
    }
}

TEST_CASE("the Newton step equals the brute-force step, and 1/(1 - h) for binary logistic regression", "[newton]") {
    const Data train = fashion(true, {0, 6}, 300, 7, {5, 8}, 4, 3.0f);
    const Data test = fashion(false, {0, 6}, 3, 7);
    const std::size_t n = train.labels.size();
    LogisticRegression model = LogisticRegression::binary({1, 7, 7}, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    const std::vector<std::size_t> chosen{0, 123, n - 1, n - 2};
    for (const auto retraining : {xai::Retraining::same_lambda, xai::Retraining::fixed_total}) {
        const bool same = retraining == xai::Retraining::same_lambda;
        INFO((same ? "same lambda" : "fixed total regularization"));
        const xai::NewtonStepInfluence<LogisticRegression> newton(model, train.images, train.labels, {.retraining = retraining});
        const Eigen::MatrixXd steps = newton.parameter_changes(chosen);
        const double lambda = same ? 0.01 : 0.01 * static_cast<double>(n) / static_cast<double>(n - 1);
        for (std::size_t k = 0; k < chosen.size(); ++k) {
            const Eigen::VectorXd brute = brute_force_step(model, without(train, {chosen[k]}), lambda);
            // θ̂ is a minimizer to ‖∇F‖ ≤ 1e-10, which the formula takes as 0 and brute force does not.
            CHECK((steps.col(static_cast<Eigen::Index>(k)) - brute).norm() < 1e-6 * brute.norm());
        }
        // The loss changes, linearized: g_testᵀΔθ_i; evaluated: L(θ̂ + Δθ_i) − L(θ̂).
        const xai::Batch t = xt::view(test.images, xt::range(0, 2));
        const xai::Targets targets{test.labels[0], test.labels[1]};
        const xai::NewtonStepInfluence<LogisticRegression> linear(model, train.images, train.labels,
                                                                  {.retraining = retraining, .evaluate_test_loss = false});
        const xai::NewtonStepExplanation e = newton.explain(t, targets);
        const xai::NewtonStepExplanation l = linear.explain(t, targets);
        const xai::Labels labels{test.labels[0], test.labels[1]};
        const Eigen::MatrixXd g_test = model.per_example_loss_gradients(t, labels);
        const Eigen::VectorXd base = model.per_example_losses(t, labels);
        for (std::size_t k = 0; k < chosen.size(); ++k) {
            const auto i = static_cast<Eigen::Index>(chosen[k]);
            const Eigen::VectorXd step = steps.col(static_cast<Eigen::Index>(k));
            LogisticRegression moved = model;
            moved.set_parameters(model.parameters() + step);
            const Eigen::VectorXd evaluated = moved.per_example_losses(t, labels) - base;
            const Eigen::VectorXd linearized = g_test.transpose() * step;
            for (Eigen::Index j = 0; j < 2; ++j) {
                CHECK(e.loss_change(i, j) == Approx(evaluated(j)).epsilon(1e-8).margin(1e-14));
                CHECK(l.loss_change(i, j) == Approx(linearized(j)).epsilon(1e-8).margin(1e-14));
            }
        }
        // Fixed total regularization: Δθ_i = (nH − K_i)⁻¹ ∇L_i = H⁻¹∇L_i / (n (1 − h_ii)), so the
        // linearized change is the first-order one divided by 1 − h_ii, h_ii = p(1−p) x̃ᵀ(nH)⁻¹x̃.
        if (!same) {
            const Eigen::MatrixXd h = model.loss_hessian(train.images, train.labels);
            for (const std::size_t i : chosen) {
                const xai::Batch one = xt::view(train.images, xt::range(i, i + 1));
                const xai::Scores logits = model.forward(one);
                const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(logits(0, 1))));
                Eigen::VectorXd x(50);
                for (Eigen::Index j = 0; j < 49; ++j) x(j) = one.data()[j];
                x(49) = 1.0;
                const double leverage = p * (1 - p) * x.dot(h.ldlt().solve(x)) / static_cast<double>(n);
                const auto row = static_cast<Eigen::Index>(i);
                CHECK(l.leverages(row) == Approx(leverage).epsilon(1e-6));
                for (Eigen::Index j = 0; j < 2; ++j)
                    CHECK(l.loss_change(row, j) == Approx(l.first_order(row, j) / (1.0 - leverage)).epsilon(1e-5).margin(1e-15));
            }
            CHECK(l.leverages.maxCoeff() > 0.2);  // the brightened items have high leverage
        }
    }
}

TEST_CASE("groups: the Newton step equals brute force, and one member equals leave-one-out", "[newton]") {
    const Data train = fashion(true, {0, 2, 4, 6}, 300, 7);
    const Data test = fashion(false, {0, 2, 4, 6}, 2, 7);
    LogisticRegression model = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    const xai::NewtonStepInfluence<LogisticRegression> newton(model, train.images, train.labels,
                                                              {.evaluate_test_loss = false});
    const xai::Targets targets{test.labels[0], test.labels[1]};
    const xai::Labels labels{test.labels[0], test.labels[1]};
    const std::vector<std::vector<std::size_t>> groups{{5}, {1, 2, 3, 50, 60, 299}, {7, 8}};
    const xai::GroupRemoval g = newton.group_loss_change(test.images, targets, groups);
    const xai::NewtonStepExplanation e = newton.explain(test.images, targets);
    const Eigen::MatrixXd g_test = model.per_example_loss_gradients(test.images, labels);
    for (std::size_t k = 0; k < groups.size(); ++k) {
        const Eigen::VectorXd brute = g_test.transpose() * brute_force_step(model, without(train, groups[k]), 0.01);
        CHECK((g.newton_step.row(static_cast<Eigen::Index>(k)).transpose() - brute).norm() < 1e-6 * brute.norm());
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(2);
        for (std::size_t i : groups[k]) sum += e.first_order.row(static_cast<Eigen::Index>(i)).transpose();
        CHECK((g.first_order.row(static_cast<Eigen::Index>(k)).transpose() - sum).norm() < 1e-12 * sum.norm());
    }
    CHECK((g.newton_step.row(0) - e.loss_change.row(5)).norm() < 1e-8 * e.loss_change.row(5).norm());
}

TEST_CASE("with high-leverage points the Newton step follows retraining where first order does not", "[newton]") {
    // Binary T-shirt/top vs Shirt on 7×7, plus 6 brightened sandals and bags labelled at random.
    const Data train = fashion(true, {0, 6}, 300, 7, {5, 8}, 6, 3.0f);
    const Data test = fashion(false, {0, 6}, 2, 7);
    const std::size_t n = train.labels.size();
    LogisticRegression model = LogisticRegression::binary({1, 7, 7}, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    const xai::NewtonStepInfluence<LogisticRegression> newton(model, train.images, train.labels);
    for (std::size_t t = 0; t < 2; ++t) {
        const xai::Image image = xai::image_at(test.images, t);
        const xai::NewtonStepExplanation e = newton.explain(image, test.labels[t]);
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::partial_sort(order.begin(), order.begin() + 30, order.end(), [&](std::size_t a, std::size_t b) {
            return std::abs(e.first_order(static_cast<Eigen::Index>(a), 0)) > std::abs(e.first_order(static_cast<Eigen::Index>(b), 0));
        });
        std::vector<double> first, second, actual;
        for (std::size_t k = 0; k < 30; ++k) {
            LogisticRegression retrained = model;
            const Data rest = without(train, {order[k]});
            REQUIRE(retrained.fit(rest.images, rest.labels).converged);
            actual.push_back(retrained.per_example_losses(xai::as_batch(image), {test.labels[t]})(0) - e.test_losses[0]);
            first.push_back(e.first_order(static_cast<Eigen::Index>(order[k]), 0));
            second.push_back(e.loss_change(static_cast<Eigen::Index>(order[k]), 0));
        }
        const double r1 = pearson(first, actual), r2 = pearson(second, actual);
        INFO("test image " << t << ": first order r = " << r1 << ", Newton step r = " << r2 << ", largest leverage "
                           << e.leverages.maxCoeff());
        CHECK(r2 >= 0.998);
        CHECK(r2 > r1);
        // helpful = removal raises the loss most
        CHECK(e.loss_change(static_cast<Eigen::Index>(e.helpful[0][0]), 0) == e.loss_change.col(0).maxCoeff());
        CHECK(e.loss_change(static_cast<Eigen::Index>(e.harmful[0][0]), 0) == e.loss_change.col(0).minCoeff());
    }
}

TEST_CASE("the Newton-step explainer's calling shape and bad input", "[newton]") {
    const Data train = fashion(true, {0, 6}, 200, 7);
    const Data test = fashion(false, {0, 6}, 2, 7);
    LogisticRegression model = LogisticRegression::binary({1, 7, 7}, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    const xai::NewtonStepInfluence<LogisticRegression> newton(model, train.images, train.labels, {.influence = {.top_k = 3}});
    const xai::Image first = xai::image_at(test.images, 0);
    const xai::NewtonStepExplanation one = newton.explain(first, test.labels[0]);
    const xai::NewtonStepExplanation batch = newton.explain(xai::as_batch(first), {test.labels[0]});
    CHECK((one.loss_change.array() == batch.loss_change.array()).all());
    CHECK(one.maps.shape(0) == 1);
    CHECK(one.maps.shape(1) == 0);
    CHECK(one.helpful[0].size() == 3);
    CHECK(one.scores[0] == Approx(-one.test_losses[0]).epsilon(1e-5));
    CHECK_THROWS_WITH(newton.explain(first, 7), StartsWith("xai::NewtonStepInfluence::explain(): "));
    CHECK_THROWS_WITH(newton.parameter_changes({200}), StartsWith("xai::NewtonStepInfluence::parameter_changes(): ") &&
                                                           Contains("training index 200 is out of range"));
    CHECK_THROWS_AS(newton.group_loss_change(test.images, {}, {}), xai::shape_error);
    std::vector<std::size_t> all(200);
    std::iota(all.begin(), all.end(), std::size_t{0});
    CHECK_THROWS_WITH(newton.group_loss_change(test.images, {}, {all}), Contains("fewer than all"));
    // A refitted model is refused.
    LogisticRegression refit = model;
    const xai::NewtonStepInfluence<LogisticRegression> stale(refit, train.images, train.labels);
    const Data half = without(train, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    REQUIRE(refit.fit(half.images, half.labels).converged);
    CHECK_THROWS_WITH(stale.explain(first), StartsWith("xai::NewtonStepInfluence::explain(): ") && Contains("parameters changed"));
    CHECK_THROWS_WITH(stale.parameter_changes({0}), Contains("parameters changed"));
}
