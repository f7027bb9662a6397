// Tests of the gradient attribution family (include/xai/gradients.hpp): Saliency, gradient ×
// input, Integrated Gradients and its quadrature rules, guided backpropagation, the deconvnet,
// Guided Grad-CAM, and the attribution pictures (image/attribution_map.hpp,
// image/attribution_colormap.hpp). Each case compares with a closed form or a hand computation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "xai/core/explainer.hpp"
#include "xai/core/random.hpp"
#include "xai/gradients.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/sequential.hpp"
#include "xai/runtime.hpp"

using Catch::Matchers::Contains;
using xai::models::Sequential;

static_assert(xai::Explainer<xai::Saliency<Sequential>>);
static_assert(xai::Explainer<xai::GradientTimesInput<Sequential>>);
static_assert(xai::Explainer<xai::IntegratedGradients<Sequential>>);
static_assert(xai::Explainer<xai::GuidedBackprop<Sequential>>);
static_assert(xai::Explainer<xai::Deconvolution<Sequential>>);
static_assert(xai::Explainer<xai::GuidedGradCam<Sequential>>);
static_assert(xai::Explainer<xai::IntegratedGradients<xai::models::LogisticRegression>>);
static_assert(xai::ReluBackwardModel<Sequential>);
static_assert(!xai::ReluBackwardModel<xai::models::LogisticRegression>);

namespace {

xai::Batch random_batch(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::uint64_t seed) {
    xai::Batch x = xai::Batch::from_shape({n, c, h, w});
    xai::Rng rng(seed);
    for (float& v : x) v = rng.uniform_float();
    return x;
}

/// z = W x + b on the flattened image: 3 classes over 2×3×3 inputs.
Sequential linear_net() {
    using namespace xai::models;
    return Sequential({2, 3, 3}, {flatten(), linear(3, "fc")}, 5);
}

/// W's row c (the weights of class c) as a C×H×W image.
xai::Image weights_of(const Sequential& net, std::size_t c) {
    const xai::ImageShape s = net.input_shape();
    const auto values = net.parameter_values();
    xai::Image w = xai::Image::from_shape({s.channels, s.height, s.width});
    std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(c * s.size()), s.size(), w.begin());
    return w;
}

Sequential small_cnn() {
    using namespace xai::models;
    return Sequential({3, 12, 12},
                      {conv2d(6, 3, 1, 1), relu(), max_pool2d(2), conv2d(8, 3, 1, 1), relu(), global_avg_pool(), linear(4)},
                      7);
}

/// The same function as small_cnn() with conv1's output channels (and conv2's input channels)
/// permuted: different parameters, identical outputs (up to the order of float sums).
Sequential permuted_twin(const Sequential& net) {
    Sequential twin = net;
    const std::vector<std::size_t> perm{3, 0, 5, 1, 4, 2};
    const std::vector<xai::ParameterBlock> blocks = net.parameter_blocks();
    const auto src = net.parameter_values();
    auto dst = twin.parameter_values();
    const std::size_t w1 = blocks[0].offset, b1 = blocks[1].offset, w2 = blocks[2].offset;
    const std::size_t in1 = 3 * 3 * 3, k2 = 3 * 3;
    for (std::size_t o = 0; o < 6; ++o) {
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(w1 + perm[o] * in1), in1,
                    dst.begin() + static_cast<std::ptrdiff_t>(w1 + o * in1));
        dst[b1 + o] = src[b1 + perm[o]];
    }
    for (std::size_t o2 = 0; o2 < 8; ++o2)
        for (std::size_t c = 0; c < 6; ++c)
            std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(w2 + (o2 * 6 + perm[c]) * k2), k2,
                        dst.begin() + static_cast<std::ptrdiff_t>(w2 + (o2 * 6 + c) * k2));
    return twin;
}

double max_abs(const xai::Batch& a) { return static_cast<double>(xt::amax(xt::abs(a))()); }

}  // namespace

// ---- Saliency and gradient × input -------------------------------------------------------

TEST_CASE("On a linear model, Saliency is the class's weights and gradient × input is x ⊙ w", "[gradients][saliency]") {
    const Sequential net = linear_net();
    const xai::Batch x = random_batch(3, 2, 3, 3, 11);
    const xai::Targets targets{0, 2, 1};
    const xai::GradientExplanation signed_map =
        xai::Saliency<Sequential>(net, {.absolute = false}).explain(x, targets);
    const xai::GradientExplanation absolute = xai::Saliency<Sequential>(net).explain(x, targets);
    const xai::GradientExplanation gxi = xai::GradientTimesInput<Sequential>(net).explain(x, targets);
    for (std::size_t i = 0; i < 3; ++i) {
        const xai::Image w = weights_of(net, targets[i].index());
        const xai::Image xi = xai::image_at(x, i);
        CHECK(xt::allclose(xt::view(signed_map.attributions, i), w, 1e-6, 1e-7));
        CHECK(xt::allclose(xt::view(absolute.attributions, i), xt::abs(w), 1e-6, 1e-7));
        CHECK(xt::allclose(xt::view(gxi.attributions, i), xi * w, 1e-6, 1e-7));
        // raw: Saliency's max over channels of |w|, gradient × input's sum over channels.
        CHECK(xt::allclose(xt::view(absolute.raw, i), xt::amax(xt::abs(w), {0}), 1e-6, 1e-7));
        CHECK(xt::allclose(xt::view(gxi.raw, i), xt::sum(xi * w, {0}), 1e-5, 1e-6));
        CHECK(gxi.targets[i] == targets[i].index());
        CHECK(gxi.scores[i] == Approx(gxi.logits(i, targets[i].index())));
    }
    CHECK(absolute.reduction == xai::ChannelReduction::max_abs);
    CHECK(gxi.reduction == xai::ChannelReduction::sum);
    CHECK(gxi.score_kind == xai::ScoreKind::logit);
    CHECK(xt::allclose(gxi.logits, net.forward(x)));
    CHECK(xt::amin(gxi.maps)() >= 0.0f);
    CHECK(xt::amax(gxi.maps)() <= 1.0f);
}

TEST_CASE("On binary logistic regression, the signed saliency of class 1 is w and of class 0 is 0",
          "[gradients][saliency][logistic]") {
    auto model = xai::models::LogisticRegression::binary({1, 2, 2});
    Eigen::VectorXd theta(5);
    theta << 0.5, -1.0, 2.0, 0.25, 0.3;
    model.set_parameters(theta);
    const xai::Batch x = random_batch(2, 1, 2, 2, 5);
    const xai::Saliency<xai::models::LogisticRegression> saliency(model, {.absolute = false});
    const xai::GradientExplanation one = saliency.explain(x, {1});
    const xai::GradientExplanation zero = saliency.explain(x, {0});
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t p = 0; p < 4; ++p) {
            CHECK(one.attributions.data()[i * 4 + p] == Approx(theta[static_cast<Eigen::Index>(p)]).margin(1e-6));
            CHECK(zero.attributions.data()[i * 4 + p] == 0.0f);
        }
    // The probability's gradient is σ'(z) w = p(1 − p) w.
    const xai::GradientExplanation prob =
        xai::Saliency<xai::models::LogisticRegression>(model, {.absolute = false, .score = xai::ScoreKind::probability})
            .explain(x, {1});
    for (std::size_t i = 0; i < 2; ++i) {
        const double z = one.logits(i, 1), p = 1.0 / (1.0 + std::exp(-z));
        for (std::size_t v = 0; v < 4; ++v)
            CHECK(prob.attributions.data()[i * 4 + v] ==
                  Approx(p * (1.0 - p) * theta[static_cast<Eigen::Index>(v)]).margin(1e-6));
        CHECK(prob.scores[i] == Approx(p).margin(1e-6));
    }
}

TEST_CASE("On the built-in CNN, Saliency is |∂y_c/∂x| and its raw map the max over channels", "[gradients][saliency]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 21);
    const xai::GradientExplanation e = xai::Saliency<Sequential>(net).explain(x);
    const std::vector<std::size_t> predicted = e.targets;
    const xai::Scores logits = net.forward(x);
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(predicted[i] == static_cast<std::size_t>(std::max_element(logits.data() + i * 4, logits.data() + (i + 1) * 4) -
                                                       (logits.data() + i * 4)));
    const xai::InputGradients g = net.input_gradients(x, [&](const xai::Scores& s) {
        return xai::target_score_gradient(s, predicted, xai::ScoreKind::logit);
    });
    CHECK(xt::allclose(e.attributions, xt::abs(g.gradients), 1e-6, 1e-8));
    CHECK(xt::allclose(e.raw, xt::amax(xt::abs(g.gradients), {1}), 1e-6, 1e-8));
    // The same results image by image, for any batch size and thread count.
    const xai::GradientExplanation one =
        xai::Saliency<Sequential>(net, {.batch_size = 1, .threads = 1}).explain(xai::image_at(x, 1));
    CHECK((xai::Image(xt::view(one.attributions, 0)) == xai::Image(xt::view(e.attributions, 1))));
}

// ---- Integrated Gradients ----------------------------------------------------------------

TEST_CASE("Quadrature rules: Riemann points, Gauss–Legendre nodes and exactness", "[gradients][integration]") {
    const xai::Quadrature left = xai::quadrature(xai::IntegrationRule::riemann_left, 4);
    const xai::Quadrature right = xai::quadrature(xai::IntegrationRule::riemann_right, 4);
    const xai::Quadrature middle = xai::quadrature(xai::IntegrationRule::riemann_middle, 4);
    const xai::Quadrature trapezoid = xai::quadrature(xai::IntegrationRule::riemann_trapezoid, 5);
    CHECK(left.alphas == std::vector<double>{0.0, 0.25, 0.5, 0.75});
    CHECK(right.alphas == std::vector<double>{0.25, 0.5, 0.75, 1.0});
    CHECK(middle.alphas == std::vector<double>{0.125, 0.375, 0.625, 0.875});
    CHECK(trapezoid.alphas == std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0});
    CHECK(trapezoid.weights == std::vector<double>{0.125, 0.25, 0.25, 0.25, 0.125});
    // The 3-point rule on [−1, 1]: nodes 0, ±√(3/5), weights 8/9, 5/9 (halved on [0, 1]).
    const xai::Quadrature gl3 = xai::quadrature(xai::IntegrationRule::gauss_legendre, 3);
    const double r = std::sqrt(0.6);
    CHECK(gl3.alphas[0] == Approx(0.5 * (1 - r)).epsilon(1e-14));
    CHECK(gl3.alphas[1] == Approx(0.5).epsilon(1e-14));
    CHECK(gl3.alphas[2] == Approx(0.5 * (1 + r)).epsilon(1e-14));
    CHECK(gl3.weights[0] == Approx(5.0 / 18).epsilon(1e-14));
    CHECK(gl3.weights[1] == Approx(8.0 / 18).epsilon(1e-14));
    // m nodes integrate α^(2m−1) exactly (∫₀¹ α^p dα = 1/(p+1)), and every rule's weights sum to 1.
    for (std::size_t m : {1u, 2u, 7u, 50u, 300u}) {
        const xai::Quadrature q = xai::quadrature(xai::IntegrationRule::gauss_legendre, m);
        double integral = 0.0, total = 0.0;
        const double p = 2.0 * static_cast<double>(m) - 1.0;
        for (std::size_t k = 0; k < m; ++k) {
            integral += q.weights[k] * std::pow(q.alphas[k], p);
            total += q.weights[k];
        }
        CHECK(integral == Approx(1.0 / (p + 1.0)).epsilon(1e-12));
        CHECK(total == Approx(1.0).epsilon(1e-13));
        CHECK(std::is_sorted(q.alphas.begin(), q.alphas.end()));
    }
    CHECK_THROWS_AS(xai::quadrature(xai::IntegrationRule::riemann_left, 0), xai::invalid_argument);
    CHECK_THROWS_AS(xai::quadrature(xai::IntegrationRule::riemann_trapezoid, 1), xai::invalid_argument);
    CHECK(xai::integration_rule_from_string("gausslegendre") == xai::IntegrationRule::gauss_legendre);
    CHECK(xai::integration_rule_from_string("riemann_middle") == xai::IntegrationRule::riemann_middle);
    CHECK_THROWS_WITH(xai::integration_rule_from_string("simpson"), Contains("unknown rule 'simpson'"));
}

TEST_CASE("On a linear model, IG with a zero baseline is exactly (x − x′) ⊙ w for every rule",
          "[gradients][integrated_gradients]") {
    const Sequential net = linear_net();
    const xai::Batch x = random_batch(2, 2, 3, 3, 31);
    const xai::Targets targets{1, 2};
    for (xai::IntegrationRule rule : {xai::IntegrationRule::riemann_left, xai::IntegrationRule::riemann_right,
                                      xai::IntegrationRule::riemann_middle, xai::IntegrationRule::riemann_trapezoid,
                                      xai::IntegrationRule::gauss_legendre}) {
        const xai::IntegratedGradientsExplanation e =
            xai::IntegratedGradients<Sequential>(net, {.steps = 3, .rule = rule}).explain(x, targets);
        for (std::size_t i = 0; i < 2; ++i) {
            const xai::Image w = weights_of(net, targets[i].index());
            CHECK(xt::allclose(xt::view(e.attributions, i), xai::image_at(x, i) * w, 1e-5, 1e-6));
            CHECK(e.completeness_error[i] < 1e-5);
            CHECK(e.steps[i] == 3);
            CHECK(e.attribution_sums[i] == Approx(e.scores[i] - e.baseline_scores[i]).margin(1e-5));
        }
    }
    // A constant baseline c: (x − c) ⊙ w, and F(x′) is the baseline's logit.
    const xai::IntegratedGradientsExplanation c =
        xai::IntegratedGradients<Sequential>(net, {.baseline = xai::Baseline::constant(0.25f)}).explain(x, targets);
    const xai::Batch grey = xt::zeros_like(x) + 0.25f;
    const xai::Scores grey_logits = net.forward(grey);
    for (std::size_t i = 0; i < 2; ++i) {
        const xai::Image w = weights_of(net, targets[i].index());
        CHECK(xt::allclose(xt::view(c.attributions, i), (xai::image_at(x, i) - 0.25f) * w, 1e-5, 1e-6));
        CHECK(c.baseline_scores[i] == Approx(grey_logits(i, targets[i].index())).margin(1e-6));
    }
}

TEST_CASE("IG on the built-in CNN: completeness error falls with the steps, < 1% with Gauss–Legendre at 50",
          "[gradients][integrated_gradients][completeness]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(3, 3, 12, 12, 41);
    std::vector<double> errors;
    for (std::size_t steps : {4u, 16u, 64u}) {
        const auto e = xai::IntegratedGradients<Sequential>(net, {.steps = steps, .rule = xai::IntegrationRule::riemann_right})
                           .explain(x, {0});
        errors.push_back(std::accumulate(e.completeness_error.begin(), e.completeness_error.end(), 0.0));
    }
    CHECK(errors[1] < errors[0]);
    CHECK(errors[2] < errors[1]);
    const xai::IntegratedGradientsExplanation gl = xai::IntegratedGradients<Sequential>(net).explain(x, {0});
    for (std::size_t i = 0; i < 3; ++i) {
        const double difference = gl.scores[i] - gl.baseline_scores[i];
        REQUIRE(std::abs(difference) > 1e-3);
        CHECK(gl.completeness_error[i] < 0.01 * std::abs(difference));
        CHECK(gl.completeness_error[i] == Approx(std::abs(gl.attribution_sums[i] - difference)).margin(1e-9));
        // Σ over every channel and pixel of the attributions is the reported sum.
        CHECK(xt::sum(xt::view(gl.attributions, i))() == Approx(gl.attribution_sums[i]).margin(1e-4));
        CHECK(gl.steps[i] == 50);
        CHECK_FALSE(gl.converged[i]);
    }
    // Batch size and thread count change only time.
    const auto split = xai::IntegratedGradients<Sequential>(net, {.batch_size = 7, .threads = 1}).explain(x, {0});
    CHECK((split.attributions == gl.attributions));
    CHECK(split.completeness_error == gl.completeness_error);
}

TEST_CASE("IG's automatic step count doubles until the completeness error is within the tolerance",
          "[gradients][integrated_gradients][completeness]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 43);
    const xai::IntegratedGradients<Sequential> ig(
        net, {.steps = 4, .rule = xai::IntegrationRule::riemann_right, .tolerance = 0.01, .max_steps = 1024});
    std::size_t last_done = 0, last_total = 0;
    const auto e = ig.explain(x, {1}, [&](const xai::ProgressReport& p) {
        last_done = p.done;
        last_total = p.total;
    });
    for (std::size_t i = 0; i < 2; ++i) {
        const double difference = std::abs(e.scores[i] - e.baseline_scores[i]);
        CHECK(e.converged[i]);
        CHECK(e.completeness_error[i] <= 0.01 * difference);
        CHECK(e.steps[i] > 4);
        // The step count is the first doubling that meets the tolerance: half of it did not.
        const auto half = xai::IntegratedGradients<Sequential>(
                              net, {.steps = e.steps[i] / 2, .rule = xai::IntegrationRule::riemann_right})
                              .explain(xai::image_at(x, i), xai::Target(1));
        CHECK(half.completeness_error[0] > 0.01 * difference);
    }
    CHECK(last_done <= last_total);
    CHECK(last_done > 0);
}

TEST_CASE("IG's axioms on the built-in CNN: sensitivity and implementation invariance",
          "[gradients][integrated_gradients][axioms]") {
    const Sequential net = small_cnn();
    const Sequential twin = permuted_twin(net);
    const xai::Batch x = random_batch(2, 3, 12, 12, 51);
    REQUIRE(xt::allclose(net.forward(x), twin.forward(x), 1e-5, 1e-6));
    // Implementation invariance: the two networks compute the same function, so IG agrees.
    const auto a = xai::IntegratedGradients<Sequential>(net).explain(x, {2});
    const auto b = xai::IntegratedGradients<Sequential>(twin).explain(x, {2});
    CHECK(xt::allclose(a.attributions, b.attributions, 1e-3, 1e-5 * max_abs(a.attributions)));
    // Sensitivity (a): an input that differs from the baseline in one value only, with a
    // different score, gets a nonzero attribution there, zero everywhere else, and the score
    // difference in total.
    xai::Batch one = xt::zeros<float>({std::size_t{1}, std::size_t{3}, std::size_t{12}, std::size_t{12}});
    const std::size_t where = 1 * 144 + 5 * 12 + 6;
    one.data()[where] = 3.0f;
    const auto s = xai::IntegratedGradients<Sequential>(net).explain(one, {2});
    const double difference = s.scores[0] - s.baseline_scores[0];
    REQUIRE(std::abs(difference) > 1e-4);
    for (std::size_t v = 0; v < one.size(); ++v)
        if (v != where) CHECK(s.attributions.data()[v] == 0.0f);
    CHECK(s.attributions.data()[where] == Approx(difference).margin(0.01 * std::abs(difference)));
}

TEST_CASE("Path baselines: uniform noise is deterministic and in range; blurred and image baselines are used as x′",
          "[gradients][integrated_gradients][baselines]") {
    const xai::Image image = xai::image_at(random_batch(1, 2, 3, 3, 61), 0);
    const xai::Baseline noise = xai::uniform_noise_baseline(-1.0f, 2.0f, 9);
    const xai::Image n1 = noise.for_image(image, "test");
    const xai::Image n2 = xai::uniform_noise_baseline(-1.0f, 2.0f, 9).for_image(image, "test");
    CHECK((n1 == n2));
    CHECK(xt::amin(n1)() >= -1.0f);
    CHECK(xt::amax(n1)() < 2.0f);
    CHECK(xt::amax(n1)() - xt::amin(n1)() > 1.0f);
    CHECK_THROWS_WITH(xai::uniform_noise_baseline(1.0f, 0.0f), Contains("low is 1 and high 0"));
    // On the linear model IG is (x − x′) ⊙ w whatever x′ is.
    const Sequential net = linear_net();
    const xai::Batch x = xt::expand_dims(image, 0);
    const auto e = xai::IntegratedGradients<Sequential>(net, {.baseline = noise}).explain(x, {0});
    CHECK(xt::allclose(xt::view(e.attributions, 0), (image - n1) * weights_of(net, 0), 1e-5, 1e-6));
    const xai::Image blurred = xai::Baseline::blurred().for_image(image, "test");
    const auto bl = xai::IntegratedGradients<Sequential>(net, {.baseline = xai::Baseline::blurred()}).explain(x, {0});
    CHECK(xt::allclose(xt::view(bl.attributions, 0), (image - blurred) * weights_of(net, 0), 1e-5, 1e-6));
    const auto user = xai::IntegratedGradients<Sequential>(net, {.baseline = xai::Baseline::image(n1)}).explain(x, {0});
    CHECK(xt::allclose(user.attributions, e.attributions, 1e-6, 1e-7));
    // The names a command-line flag gives: the same baselines.
    CHECK((xai::path_baseline_from_string("zero").for_image(image, "test") == xt::zeros_like(image)));
    CHECK((xai::path_baseline_from_string("blurred").for_image(image, "test") == blurred));
    CHECK((xai::path_baseline_from_string("uniform", -1.0f, 2.0f, 9).for_image(image, "test") == n1));
    const xai::Image mean = xai::path_baseline_from_string("image_mean").for_image(image, "test");
    CHECK(mean(1, 2, 0) == Approx(xt::mean(xt::view(image, 1))()).epsilon(1e-6));
    CHECK_THROWS_WITH(xai::path_baseline_from_string("black"),
                      Contains("xai::path_baseline_from_string(): name is 'black', expected zero, blurred, image_mean or uniform"));
}

// ---- the noise tunnel ---------------------------------------------------------------------

static_assert(xai::Explainer<xai::NoiseTunnel<xai::Saliency<Sequential>>>);
static_assert(xai::Explainer<xai::NoiseTunnel<xai::IntegratedGradients<Sequential>>>);
static_assert(xai::Explainer<xai::GradientShap<Sequential>>);

TEST_CASE("The noise tunnel with σ = 0 is the wrapped method; SmoothGrad² its square and VarGrad 0",
          "[gradients][noise_tunnel]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 91);
    const auto plain = xai::Saliency<Sequential>(net, {.absolute = false}).explain(x, {1});
    using Tunnel = xai::NoiseTunnel<xai::Saliency<Sequential>>;
    const auto sg = Tunnel(net, {.method = {.absolute = false}, .noise = {.samples = 3, .noise_level = 0.0}}).explain(x, {1});
    const auto sq = Tunnel(net, {.method = {.absolute = false},
                                 .noise = {.type = xai::NoiseTunnelType::smoothgrad_squared, .samples = 3, .noise_level = 0.0}})
                        .explain(x, {1});
    const auto var = Tunnel(net, {.method = {.absolute = false},
                                  .noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 3, .noise_level = 0.0}})
                         .explain(x, {1});
    CHECK((sg.attributions == plain.attributions));
    // What the tunnel asks its method for: the attributions of explain(), without the maps.
    CHECK((xai::Saliency<Sequential>(net, {.absolute = false}).attributions(x, {1}) == plain.attributions));
    CHECK(xt::allclose(sq.attributions, plain.attributions * plain.attributions, 1e-6, 1e-12));
    CHECK(max_abs(var.attributions) < 1e-12);
    CHECK(sg.sigma == std::vector<double>{0.0, 0.0});
    CHECK((sg.targets == plain.targets));
    CHECK(xt::allclose(sg.logits, plain.logits));
    // Around Integrated Gradients too.
    const auto ig = xai::IntegratedGradients<Sequential>(net, {.steps = 8}).explain(x, {1});
    const auto smooth_ig =
        xai::NoiseTunnel<xai::IntegratedGradients<Sequential>>(net, {.method = {.steps = 8}, .noise = {.samples = 2, .noise_level = 0.0}})
            .explain(x, {1});
    CHECK(xt::allclose(smooth_ig.attributions, ig.attributions, 1e-6, 1e-9));
}

TEST_CASE("The noise tunnel on a linear model: SmoothGrad is w, VarGrad of gradient × input is w²σ²",
          "[gradients][noise_tunnel]") {
    const Sequential net = linear_net();
    const xai::Batch x = random_batch(1, 2, 3, 3, 93);
    const xai::Image xi = xai::image_at(x, 0);
    const xai::Image w = weights_of(net, 2);
    const auto sg = xai::NoiseTunnel<xai::Saliency<Sequential>>(net, {.method = {.absolute = false}}).explain(x, {2});
    CHECK(xt::allclose(xt::view(sg.attributions, 0), w, 1e-5, 1e-7));
    const double range = static_cast<double>(xt::amax(xi)() - xt::amin(xi)());
    CHECK(sg.sigma[0] == Approx(0.15 * range));
    // ε ~ N(0, σ²): (x + ε)·w has mean x·w and variance w²σ²; 4000 samples give the variance to ~2 %.
    const std::size_t n = 4000;
    using Tunnel = xai::NoiseTunnel<xai::GradientTimesInput<Sequential>>;
    const auto var = Tunnel(net, {.noise = {.type = xai::NoiseTunnelType::vargrad, .samples = n, .seed = 4}}).explain(x, {2});
    const auto mean = Tunnel(net, {.noise = {.samples = n, .seed = 4}}).explain(x, {2});
    const double sigma = var.sigma[0];
    for (std::size_t v = 0; v < xi.size(); ++v) {
        const double wv = w.data()[v];
        CHECK(var.attributions.data()[v] == Approx(wv * wv * sigma * sigma).epsilon(0.1));
        CHECK(mean.attributions.data()[v] == Approx(xi.data()[v] * wv).margin(5.0 * sigma * std::abs(wv) / std::sqrt(n)));
    }
}

TEST_CASE("The noise tunnel on the built-in CNN: VarGrad ≥ 0, the same result alone or in a batch",
          "[gradients][noise_tunnel]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 95);
    using Tunnel = xai::NoiseTunnel<xai::Saliency<Sequential>>;
    const Tunnel vargrad(net, {.method = {.absolute = false}, .noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 8}});
    const auto both = vargrad.explain(x, {0, 3});
    CHECK(xt::amin(both.attributions)() >= 0.0f);
    CHECK(max_abs(both.attributions) > 0.0);
    const auto second = vargrad.explain(xai::image_at(x, 1), 3);
    CHECK((xai::Image(xt::view(second.attributions, 0)) == xai::Image(xt::view(both.attributions, 1))));
    const auto sg = Tunnel(net, {.noise = {.samples = 8}}).explain(x);
    const auto sg_plain = xai::Saliency<Sequential>(net).explain(x);
    CHECK((sg.targets == sg_plain.targets));
    CHECK_FALSE(xt::allclose(sg.attributions, sg_plain.attributions));
    CHECK_THROWS_WITH(Tunnel(net, {.noise = {.samples = 0}}), Contains("xai::NoiseTunnel::NoiseTunnel(): noise.samples is 0"));
    CHECK_THROWS_WITH(Tunnel(net, {.noise = {.noise_level = std::numeric_limits<double>::quiet_NaN()}}),
                      Contains("noise.noise_level is nan"));
    CHECK_THROWS_WITH(Tunnel(net, {.method = {.batch_size = 0}}), Contains("xai::Saliency::Saliency(): batch_size is 0"));
    // σ beyond float's range: the noisy copies overflow, which is refused before any model call on them.
    CHECK_THROWS_WITH(Tunnel(net, {.noise = {.samples = 2, .noise_level = 1e39}}).explain(x),
                      Contains("xai::NoiseTunnel::explain(): the noisy images (image + σ·noise) contains NaN or Inf"));
}

TEST_CASE("The noise tunnel's copies are x + σ·ε with ε from Rng::stream(seed, s), for any threads and batch size",
          "[gradients][noise_tunnel]") {
    // Gradient × input on z = W x + b: sample s attributes (x + σ ε_s) ⊙ w, so SmoothGrad is
    // w ⊙ (1/n) Σ_s (x + σ ε_s) with ε_s the stream's normal_float values in the image's order.
    const Sequential net = linear_net();
    const xai::Batch x = random_batch(1, 2, 3, 3, 97);
    const xai::Image w = weights_of(net, 1);
    const std::size_t n = 5, values = w.size();
    using Tunnel = xai::NoiseTunnel<xai::GradientTimesInput<Sequential>>;
    const auto sg = Tunnel(net, {.noise = {.samples = n, .seed = 21}}).explain(x, {1});
    const auto sigma = static_cast<float>(sg.sigma[0]);
    std::vector<double> expected(values, 0.0);
    for (std::size_t s = 0; s < n; ++s) {
        xai::Rng rng = xai::Rng::stream(21, s);
        for (std::size_t v = 0; v < values; ++v) expected[v] += (x.data()[v] + sigma * rng.normal_float()) * w.data()[v] / n;
    }
    for (std::size_t v = 0; v < values; ++v) CHECK(sg.attributions.data()[v] == Approx(expected[v]).margin(1e-6));
    // On the CNN: VarGrad bit for bit the same on 1 or 3 threads, in batches of 1, 4 or all.
    const Sequential cnn = small_cnn();
    const xai::Batch images = random_batch(2, 3, 12, 12, 99);
    using CnnTunnel = xai::NoiseTunnel<xai::Saliency<Sequential>>;
    const auto reference = CnnTunnel(cnn, {.method = {.batch_size = 32, .threads = 1},
                                           .noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 9}})
                               .explain(images);
    for (const auto& [batch, threads] : {std::pair<std::size_t, std::size_t>{1, 3}, {4, 3}, {4, 1}}) {
        const auto other = CnnTunnel(cnn, {.method = {.batch_size = batch, .threads = threads},
                                           .noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 9}})
                               .explain(images);
        CHECK((other.attributions == reference.attributions));
    }
    // GradientSHAP's input noise is the same generator's, also independent of threads and batches.
    using Shap = xai::GradientShap<Sequential>;
    const auto noisy = Shap(cnn, {.samples = 12, .noise = 0.1, .batch_size = 32, .threads = 1}).explain(images, {2});
    const auto split = Shap(cnn, {.samples = 12, .noise = 0.1, .batch_size = 5, .threads = 3}).explain(images, {2});
    CHECK((split.attributions == noisy.attributions));
    CHECK_FALSE((noisy.attributions == Shap(cnn, {.samples = 12}).explain(images, {2}).attributions));
}

// ---- GradientSHAP -------------------------------------------------------------------------

TEST_CASE("GradientSHAP on a linear model: x ⊙ w with a zero baseline, (x − E x′) ⊙ w in expectation",
          "[gradients][gradient_shap]") {
    const Sequential net = linear_net();
    const xai::Batch x = random_batch(2, 2, 3, 3, 101);
    const auto zero = xai::GradientShap<Sequential>(net).explain(x, {0});
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(xt::allclose(xt::view(zero.attributions, i), xai::image_at(x, i) * weights_of(net, 0), 1e-5, 1e-6));
        CHECK(zero.completeness_error[i] < 1e-4);
    }
    const xai::Batch baselines = random_batch(3, 2, 3, 3, 103);
    const auto e = xai::GradientShap<Sequential>(net, {.baselines = baselines, .samples = 3000}).explain(x, {1});
    const xai::Image mean_baseline = xt::mean(baselines, {0});
    const xai::Scores f_b = net.forward(baselines);
    for (std::size_t i = 0; i < 2; ++i) {
        const xai::Image expected = (xai::image_at(x, i) - mean_baseline) * weights_of(net, 1);
        CHECK(xt::allclose(xt::view(e.attributions, i), expected, 0.0, 0.05 * max_abs(xai::Batch(xt::expand_dims(expected, 0)))));
        CHECK(e.baseline_scores[i] == Approx((f_b(0, 1) + f_b(1, 1) + f_b(2, 1)) / 3.0).margin(1e-5));
        const double difference = e.scores[i] - e.baseline_scores[i];
        CHECK(e.completeness_error[i] == Approx(std::abs(e.attribution_sums[i] - difference)).margin(1e-9));
        CHECK(e.completeness_error[i] < 0.05 * std::abs(difference) + 0.05);
    }
}

TEST_CASE("GradientSHAP with a zero baseline on the CNN estimates Integrated Gradients; bad baselines are refused",
          "[gradients][gradient_shap]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(1, 3, 12, 12, 105);
    const auto ig = xai::IntegratedGradients<Sequential>(net).explain(x, {2});
    const auto shap = xai::GradientShap<Sequential>(net, {.samples = 400}).explain(x, {2});
    const double error = std::sqrt(static_cast<double>(xt::sum(xt::square(shap.attributions - ig.attributions))()));
    const double size = std::sqrt(static_cast<double>(xt::sum(xt::square(ig.attributions))()));
    CHECK(error < 0.15 * size);
    CHECK(shap.baseline_scores[0] == Approx(ig.baseline_scores[0]).margin(1e-6));
    // Batch size and thread count change only time.
    const auto split = xai::GradientShap<Sequential>(net, {.samples = 400, .batch_size = 9, .threads = 1}).explain(x, {2});
    CHECK((split.attributions == shap.attributions));
    using Shap = xai::GradientShap<Sequential>;
    CHECK_THROWS_AS(Shap(net, {.baselines = random_batch(2, 3, 8, 8, 1)}), xai::shape_error);
    xai::Batch nan = random_batch(1, 3, 12, 12, 1);
    nan.data()[0] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(Shap(net, {.baselines = nan}), Contains("baselines contains NaN or Inf"));
    CHECK_THROWS_WITH(Shap(net, {.samples = 0}), Contains("xai::GradientShap::GradientShap(): samples is 0"));
    CHECK_THROWS_WITH(Shap(net, {.noise = -1.0}), Contains("noise is -1"));
}

// ---- guided backpropagation, the deconvnet, Guided Grad-CAM ------------------------------

TEST_CASE("Guided backprop and the deconvnet on a hand-computed 2-layer network", "[gradients][guided]") {
    using namespace xai::models;
    // x = (1, 2) → h = W1 x + b1 = (−0.5, 3, 1) → ReLU → y0 = (3, 2, −1)·ReLU(h) = 5.
    Sequential net({1, 1, 2}, {flatten(), linear(3, "fc1"), relu("relu1"), linear(2, "fc2")}, 1);
    const std::vector<float> theta{1, -1, 2, 1, 1, 0, 0.5f, -1, 0, 3, 2, -1, 0, 0, 0, 0, 0};
    REQUIRE(net.num_parameters() == theta.size());
    std::copy(theta.begin(), theta.end(), net.parameter_values().begin());
    xai::Batch x = xai::Batch::from_shape({1, 1, 1, 2});
    x.data()[0] = 1.0f;
    x.data()[1] = 2.0f;
    REQUIRE(net.forward(x)(0, 0) == Approx(5.0f));
    // The gradient reaching the ReLU's output is g = (3, 2, −1), its forward mask (0, 1, 1):
    //   backprop   g·mask         = (0, 2, −1) → W1ᵀ(…) = (3, 2)
    //   guided     max(g,0)·mask  = (0, 2, 0)  → (4, 2)
    //   deconvnet  max(g,0)       = (3, 2, 0)  → (7, −1)
    const auto plain = xai::Saliency<Sequential>(net, {.absolute = false}).explain(x, {0});
    const auto guided = xai::GuidedBackprop<Sequential>(net).explain(x, {0});
    const auto deconv = xai::Deconvolution<Sequential>(net).explain(x, {0});
    CHECK(plain.attributions.data()[0] == Approx(3.0f));
    CHECK(plain.attributions.data()[1] == Approx(2.0f));
    CHECK(guided.attributions.data()[0] == Approx(4.0f));
    CHECK(guided.attributions.data()[1] == Approx(2.0f));
    CHECK(deconv.attributions.data()[0] == Approx(7.0f));
    CHECK(deconv.attributions.data()[1] == Approx(-1.0f));
    CHECK(guided.raw(0, 0, 0) == Approx(4.0f));
    // The model's own entry point with the rule gives the same.
    const xai::InputGradients g = net.input_gradients(
        x, [](const xai::Scores& s) { return xai::target_score_gradient(s, std::vector<std::size_t>{0}, xai::ScoreKind::logit); },
        xai::ReluBackward::deconvolution);
    CHECK(g.gradients.data()[0] == Approx(7.0f));
}

TEST_CASE("Guided Grad-CAM is guided backprop times the upsampled ReLU of Grad-CAM", "[gradients][guided][cam]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 71);
    const xai::Targets targets{1, 3};
    const auto ggc = xai::GuidedGradCam<Sequential>(net).explain(x, targets);
    const auto guided = xai::GuidedBackprop<Sequential>(net).explain(x, targets);
    const xai::CamResult cam = xai::GradCam<Sequential>(net, {.layer = net.feature_layer()}).explain(x, targets);
    CHECK(ggc.layer == net.feature_layer());
    CHECK((ggc.guided == guided.attributions));
    CHECK(xt::allclose(ggc.grad_cam, cam.raw));
    for (std::size_t i = 0; i < 2; ++i) {
        const xai::Map up = xai::resize(xai::Map(xt::maximum(xt::view(cam.raw, i), 0.0f)), 12, 12);
        for (std::size_t c = 0; c < 3; ++c) {
            const xai::Map expected = xt::view(guided.attributions, i, c) * up;
            CHECK(xt::allclose(xt::view(ggc.attributions, i, c), expected, 1e-5, 1e-7));
        }
        CHECK(ggc.targets[i] == targets[i].index());
    }
    CHECK(max_abs(ggc.attributions) > 0.0);
}

// ---- pictures ----------------------------------------------------------------------------

TEST_CASE("Channel reductions and Captum's cumulative-sum normalization, by hand", "[gradients][display]") {
    xai::Image a = xai::Image::from_shape({2, 1, 2});
    a.data()[0] = 1.0f;   // c0, p0
    a.data()[1] = -3.0f;  // c0, p1
    a.data()[2] = -2.0f;  // c1, p0
    a.data()[3] = 4.0f;   // c1, p1
    const xai::Map sum = xai::reduce_channels(a, xai::ChannelReduction::sum);
    const xai::Map max_abs_map = xai::reduce_channels(a, xai::ChannelReduction::max_abs);
    const xai::Map sum_abs = xai::reduce_channels(a, xai::ChannelReduction::sum_abs);
    const xai::Map l2 = xai::reduce_channels(a, xai::ChannelReduction::l2_norm);
    CHECK(sum(0, 0) == -1.0f);
    CHECK(sum(0, 1) == 1.0f);
    CHECK(max_abs_map(0, 0) == 2.0f);
    CHECK(max_abs_map(0, 1) == 4.0f);
    CHECK(sum_abs(0, 1) == 7.0f);
    CHECK(l2(0, 1) == Approx(5.0f));
    // Values 10, 20, 30, 40 (sum 100): the cumulative sum reaches 98 % only at 40, and 50 % at 30.
    xai::Map m = xai::Map::from_shape({1, 4});
    for (std::size_t i = 0; i < 4; ++i) m.data()[i] = 10.0f * static_cast<float>(i + 1);
    const xai::Map p2 = xai::normalize_attribution(m, xai::SignMode::positive);
    const xai::Map p50 = xai::normalize_attribution(m, xai::SignMode::positive, 50.0);
    CHECK(p2(0, 0) == Approx(0.25f));
    CHECK(p2(0, 3) == Approx(1.0f));
    CHECK(p50(0, 0) == Approx(1.0f / 3.0f));
    CHECK(p50(0, 2) == Approx(1.0f));
    CHECK(p50(0, 3) == Approx(1.0f));
    xai::Map s = xai::Map::from_shape({1, 2});
    s.data()[0] = -2.0f;
    s.data()[1] = 1.0f;
    const xai::Map all = xai::normalize_attribution(s, xai::SignMode::all, 0.0);
    CHECK(all(0, 0) == Approx(-1.0f));
    CHECK(all(0, 1) == Approx(0.5f));
    const xai::Map negative = xai::normalize_attribution(s, xai::SignMode::negative);
    CHECK(negative(0, 0) == Approx(1.0f));
    CHECK(negative(0, 1) == 0.0f);
    CHECK(xt::amax(xai::normalize_attribution(xai::Map(-xt::abs(m)), xai::SignMode::positive))() == 0.0f);
    CHECK_THROWS_WITH(xai::normalize_attribution(m, xai::SignMode::all, 101.0),
                      Contains("outlier_percent is 101, expected a value in [0, 100]"));
    CHECK(xai::sign_mode_from_string("absolute_value") == xai::SignMode::absolute);
}

TEST_CASE("Captum's cumulative-sum threshold equals the walk down a full sort, on maps of many shapes",
          "[gradients][display]") {
    // The definition, by brute force: sort descending, walk until the mass above passes the budget.
    const auto by_full_sort = [](std::vector<float> v, double percentile) {
        double total = 0.0;
        for (float f : v) total += f;
        const double budget = total - total * 0.01 * percentile;
        std::sort(v.begin(), v.end(), std::greater<>());
        double above = 0.0;
        for (float f : v) {
            if (above + f > budget) return static_cast<double>(f);
            above += f;
        }
        return static_cast<double>(v.back());
    };
    xai::Rng rng(41);
    std::vector<float> candidates;
    for (std::size_t n : {1u, 2u, 7u, 100u, 4096u, 50176u})
        for (int kind = 0; kind < 5; ++kind) {
            std::vector<float> v(n);
            for (float& f : v) switch (kind) {
                    case 0: f = rng.uniform_float(); break;                                        // flat
                    case 1: f = std::exp(4.0f * rng.normal_float()); break;                        // heavy tail over 10^±7
                    case 2: f = static_cast<float>(rng.uniform_index(4)); break;                   // ties, zeros
                    case 3: f = rng.uniform() < 0.99 ? 0.0f : 1e-30f * rng.uniform_float(); break;  // sparse, tiny
                    default: f = 1.0f + 1e-7f * static_cast<float>(rng.uniform_index(3)); break;    // one bin
                }
            for (double percentile : {0.0, 50.0, 90.0, 98.0, 99.9, 100.0}) {
                INFO("n " << n << ", kind " << kind << ", percentile " << percentile);
                CHECK(xai::detail::cumulative_sum_threshold(v.data(), n, percentile, candidates) ==
                      by_full_sort(v, percentile));
            }
        }
}

TEST_CASE("Attribution colours are Captum's: red–white–green for signed maps, ColorBrewer scales otherwise",
          "[gradients][display]") {
    const xai::Rgb red = xai::attribution_color(-1.0f, xai::SignMode::all);
    const xai::Rgb green = xai::attribution_color(1.0f, xai::SignMode::all);
    const xai::Rgb white = xai::attribution_color(0.0f, xai::SignMode::all);
    CHECK(red == xai::Rgb{1.0f, 0.0f, 0.0f});
    CHECK(green[0] == 0.0f);
    CHECK(green[1] == Approx(128.0 / 255.0));
    // 0 maps to entry 128 of 256, just past white: (1 − t, 1 − t·(1 − 128/255), 1 − t), t = 1/255·2·128 − 1.
    const double t = 128.0 / 255.0 * 2.0 - 1.0;
    CHECK(white[0] == Approx(1.0 - t).epsilon(1e-6));
    CHECK(white[1] == Approx(1.0 - t * (1.0 - 128.0 / 255.0)).epsilon(1e-6));
    const xai::Rgb light = xai::attribution_color(0.0f, xai::SignMode::positive);
    CHECK(light[0] == Approx(247.0 / 255.0));
    const xai::Rgb dark = xai::attribution_color(1.0f, xai::SignMode::absolute);
    CHECK(dark[2] == Approx(107.0 / 255.0));
    // The blended picture: alpha·heat + (1 − alpha)·grey, grey autoscaled to [0, 1].
    xai::Image image = xai::Image::from_shape({1, 1, 2});
    image.data()[0] = 0.2f;
    image.data()[1] = 0.6f;
    xai::Map map = xai::Map::from_shape({1, 2});
    map.data()[0] = 1.0f;
    map.data()[1] = 0.0f;
    const xai::Image blend = xai::blended_heat_map(image, map, xai::SignMode::positive, 0.5);
    const xai::Rgb top = xai::attribution_color(1.0f, xai::SignMode::positive);
    CHECK(blend(0, 0, 0) == Approx(0.5 * top[0]));
    CHECK(blend(1, 0, 1) == Approx(0.5 * light[1] + 0.5));
    CHECK_THROWS_WITH(xai::blended_heat_map(image, map, xai::SignMode::positive, 1.5), Contains("alpha is 1.5"));
}

// ---- bad inputs --------------------------------------------------------------------------

TEST_CASE("Gradient methods refuse bad options and inputs with messages that name them", "[gradients][errors]") {
    const Sequential net = small_cnn();
    using IG = xai::IntegratedGradients<Sequential>;
    CHECK_THROWS_WITH(IG(net, {.steps = 0}), Contains("xai::IntegratedGradients::IntegratedGradients(): steps is 0"));
    CHECK_THROWS_WITH(IG(net, {.steps = 1, .rule = xai::IntegrationRule::riemann_trapezoid}),
                      Contains("steps is 1, expected 2 to"));
    CHECK_THROWS_WITH(IG(net, {.tolerance = std::numeric_limits<double>::quiet_NaN()}), Contains("tolerance is nan"));
    CHECK_THROWS_WITH(IG(net, {.steps = 64, .tolerance = 0.1, .max_steps = 32}), Contains("max_steps is 32"));
    CHECK_THROWS_WITH(IG(net, {.batch_size = 0}), Contains("batch_size is 0"));
    CHECK_THROWS_AS(IG(net, {.baseline = xai::Baseline::segment_mean()}), xai::invalid_argument);
    CHECK_THROWS_WITH(IG(net, {.display = {.sign = xai::SignMode::all}}), Contains("display.sign is all"));
    CHECK_THROWS_WITH(xai::Saliency<Sequential>(net, {.display = {.outlier_percent = -1.0}}),
                      Contains("xai::Saliency::Saliency(): outlier_percent is -1"));
    const xai::Batch x = random_batch(2, 3, 12, 12, 81);
    // A baseline image of the wrong shape.
    const IG wrong(net, {.baseline = xai::Baseline::image(xt::zeros<float>({3, 5, 5}))});
    CHECK_THROWS_AS(wrong.explain(x), xai::shape_error);
    CHECK_THROWS_WITH(IG(net).explain(x, {7}), Contains("targets[0] is class 7, expected a class index below 4"));
    CHECK_THROWS_WITH(IG(net).explain(x, {0, 1, 2}), Contains("targets has 3 entries"));
    xai::Batch bad = x;
    bad.data()[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(IG(net).explain(bad), xai::invalid_argument);
    CHECK_THROWS_AS(xai::GuidedBackprop<Sequential>(net).explain(bad), xai::invalid_argument);
    CHECK_THROWS_AS(IG(net).explain(random_batch(1, 1, 12, 12, 3)), xai::shape_error);
    CHECK_THROWS_WITH(xai::GuidedGradCam<Sequential>(net, {.cam = {.layer = "nope"}}), Contains("nope"));
}

// ---- the run-time table ------------------------------------------------------------------

TEST_CASE("make_explainer builds every gradient method; models without the capability are refused",
          "[gradients][runtime]") {
    const Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 12, 12, 111);
    xai::ExplainerSettings settings;
    settings.integrated_gradients.steps = 16;
    const xai::AnyExplanation ig = xai::make_explainer("ig", net, settings).explain(x, {1});
    const auto direct = xai::IntegratedGradients<Sequential>(net, {.steps = 16}).explain(x, {1});
    CHECK((ig.raw == direct.raw));
    CHECK((ig.maps == direct.maps));
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(ig.statistic("completeness_error", i) == direct.completeness_error[i]);
        CHECK(ig.statistic("steps", i) == 16.0);
    }
    settings.noise_tunnel.samples = 4;
    const xai::AnyExplanation var = xai::make_explainer("vargrad", net, settings).explain(x, {1});
    const auto tunnel = xai::NoiseTunnel<xai::Saliency<Sequential>>(
                            net, {.noise = {.type = xai::NoiseTunnelType::vargrad, .samples = 4}})
                            .explain(x, {1});
    CHECK((var.raw == tunnel.raw));
    settings.layers = {"relu1"};
    const xai::AnyExplanation ggc = xai::make_explainer("guided_gradcam", net, settings).explain(x, {1});
    CHECK(ggc.layer == "relu1");
    CHECK(ggc.extra_map("grad_cam").shape(1) == 12);
    settings.layers = {"relu1", "relu2"};
    CHECK_THROWS_WITH(xai::make_explainer("guided_gradcam", net, settings), Contains("expected at most one"));
    auto logistic = xai::models::LogisticRegression::binary({3, 12, 12});
    CHECK(xai::model_supports<xai::models::LogisticRegression>(xai::method_info("ig")));
    CHECK_FALSE(xai::model_supports<xai::models::LogisticRegression>(xai::method_info("guided_backprop")));
    CHECK_THROWS_WITH(xai::make_explainer("guided_backprop", logistic), Contains("needs a ReluBackwardModel"));
    CHECK(xai::make_explainer("saliency", logistic).explain(x, {1}).size() == 2);
}
