// Tests of include/xai/models: the built-in CNN (layers, backpropagation, Hessian-vector
// products, concepts, weights files, training) and the shipped models.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "xai/models/sequential.hpp"

using Catch::Matchers::Contains;
using xai::models::BasicSequential;
using xai::models::Sequential;
using Double = BasicSequential<double>;
namespace m = xai::models;

static_assert(xai::Classifier<Sequential>);
static_assert(xai::FeatureModel<Sequential>);
static_assert(xai::LayerActivationModel<Sequential>);
static_assert(xai::LayerGradientModel<Sequential>);
static_assert(xai::LayerForwardModel<Sequential>);
static_assert(xai::InputGradientModel<Sequential>);
static_assert(xai::TwiceDifferentiableModel<Sequential>);
static_assert(xai::FeatureModel<Double>);
static_assert(xai::LayerGradientModel<Double>);
static_assert(xai::LayerForwardModel<Double>);
static_assert(xai::InputGradientModel<Double>);
static_assert(xai::TwiceDifferentiableModel<Double>);

namespace {

xai::Batch random_batch(std::size_t n, xai::ImageShape s, std::uint64_t seed) {
    xai::Batch b = xai::Batch::from_shape({n, s.channels, s.height, s.width});
    xai::Rng rng(seed);
    for (float& v : b) v = static_cast<float>(rng.normal());
    return b;
}

/// Every layer kind, odd sizes, stride 2, a 1×1 conv, overlapping pooling, a hidden linear layer.
Double every_layer_net(std::uint64_t seed = 3) {
    return Double({2, 9, 8},
                  {m::conv2d(3, 3, 1, 1), m::relu(), m::conv2d(4, 3, 2, 0), m::relu(), m::max_pool2d(2, 1),
                   m::conv2d(5, 1), m::relu(), m::flatten(), m::linear(6), m::relu(), m::linear(4)},
                  seed);
}

/// A GAP-CNN like the shipped ones, small enough for finite differences.
Double gap_net(std::uint64_t seed = 5) {
    return Double({1, 8, 8},
                  {m::conv2d(3, 3, 1, 1), m::relu(), m::max_pool2d(2), m::conv2d(4, 3, 1, 1), m::relu(),
                   m::global_avg_pool(), m::linear(3)},
                  seed);
}

xai::ScoreSeed logit_seed(std::size_t target) {
    return [target](const xai::Scores& logits) {
        xai::Scores seed = xt::zeros<float>(logits.shape());
        for (std::size_t i = 0; i < logits.shape(0); ++i) seed(i, target) = 1.0f;
        return seed;
    };
}

/// max |a − b| / max(max |b|, tiny): the relative error of a gradient against a reference.
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0.0, scale = 1e-300;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(a[i] - b[i]));
        scale = std::max(scale, std::abs(b[i]));
    }
    return diff / scale;
}

}  // namespace

TEST_CASE("parameter gradients match central differences for every layer kind", "[models][gradients]") {
    for (Double net : {every_layer_net(), gap_net()}) {
        net.set_l2_regularization(0.01);
        const xai::Batch batch = random_batch(3, net.input_shape(), 11);
        const xai::Labels labels{0, 2, 1};
        std::vector<double> gradient(net.num_parameters());
        net.objective_gradient(batch, labels, gradient);
        const Eigen::VectorXd theta = net.parameters();
        std::vector<double> numeric(theta.size());
        Double probe = net;
        const double h = 1e-5;
        for (Eigen::Index j = 0; j < theta.size(); ++j) {
            Eigen::VectorXd t = theta;
            t[j] += h;
            probe.set_parameters(t);
            const double plus = probe.objective(batch, labels);
            t[j] -= 2 * h;
            probe.set_parameters(t);
            numeric[static_cast<std::size_t>(j)] = (plus - probe.objective(batch, labels)) / (2 * h);
        }
        CHECK(relative_error(gradient, numeric) < 1e-6);
    }
}

namespace {

/// A batch whose values are multiples of 2^-12, so that x ± 2^-14 is exact in float.
xai::Batch quantized_batch(std::size_t n, xai::ImageShape s, std::uint64_t seed) {
    xai::Batch b = random_batch(n, s, seed);
    for (float& v : b) v = std::round(v * 4096.0f) / 4096.0f;
    return b;
}

}  // namespace

TEST_CASE("input gradients match central differences of double logits", "[models][gradients]") {
    for (const Double& net : {every_layer_net(), gap_net()}) {
        const xai::Batch batch = quantized_batch(2, net.input_shape(), 21);
        const std::size_t target = 1;
        const xai::InputGradients g = net.input_gradients(batch, logit_seed(target));
        REQUIRE(g.gradients.shape() == batch.shape());
        std::vector<double> analytic(g.gradients.begin(), g.gradients.end()), numeric(batch.size());
        const float h = 0x1.0p-14f;  // x ± h is exact for multiples of 2^-12
        for (std::size_t j = 0; j < batch.size(); ++j) {
            xai::Batch plus = batch, minus = batch;
            plus.data()[j] += h;
            minus.data()[j] -= h;
            const auto image = static_cast<Eigen::Index>(j / net.input_shape().size());
            numeric[j] = (net.logits(plus)(image, target) - net.logits(minus)(image, target)) / (2.0 * h);
        }
        CHECK(relative_error(analytic, numeric) < 1e-6);
        CHECK((g.scores == net.forward(batch)));
    }
}

TEST_CASE("layer gradients match central differences through forward_from", "[models][gradients]") {
    const Double net = every_layer_net();
    const xai::Batch batch = quantized_batch(2, net.input_shape(), 31);
    for (const std::string layer : {"conv1", "relu2", "pool1", "conv3", "flatten", "fc", "relu4", "fc2"}) {
        const xai::LayerGradients g = net.layer_gradients(batch, layer, logit_seed(2));
        REQUIRE(g.gradients.shape() == g.activations.shape());
        xai::Activations a = g.activations;
        for (float& v : a) v = std::round(v * 4096.0f) / 4096.0f;
        std::vector<double> analytic(g.gradients.begin(), g.gradients.end()), numeric(a.size());
        const float h = 0x1.0p-14f;
        const std::size_t per_image = a.size() / a.shape(0);
        for (std::size_t j = 0; j < a.size(); ++j) {
            xai::Activations plus = a, minus = a;
            plus.data()[j] += h;
            minus.data()[j] -= h;
            const auto image = static_cast<Eigen::Index>(j / per_image);
            numeric[j] = (net.logits_from(layer, plus)(image, 2) - net.logits_from(layer, minus)(image, 2)) / (2.0 * h);
        }
        INFO("layer " << layer);
        CHECK(relative_error(analytic, numeric) < 1e-6);
    }
}

TEST_CASE("layer_gradients equals the matching slice of a full backward pass", "[models][gradients]") {
    // The gradient at the input of the first layer above `layer` is the gradient at `layer`'s
    // output; continuing the backward pass from there by hand must give input_gradients.
    const Sequential net(every_layer_net());
    const xai::Batch batch = random_batch(4, net.input_shape(), 41);
    const xai::ScoreSeed seed = [](const xai::Scores& logits) {
        const std::vector<std::size_t> predicted = xai::argmax_rows(logits);
        return xai::target_score_gradient(logits, predicted, xai::ScoreKind::probability);
    };
    const xai::InputGradients full = net.input_gradients(batch, seed);
    const xai::LayerGradients at_fc = net.layer_gradients(batch, "fc2", seed);
    // At the logits layer the gradient is the seed itself and the activations are the logits.
    const xai::Scores logits = net.forward(batch);
    CHECK((at_fc.gradients == xt::xarray<float>(seed(logits))));
    CHECK((at_fc.activations == xt::xarray<float>(logits)));
    // A layer gradient is the input gradient of the network "above" it: relu1's gradient equals
    // conv1's input gradient chained by hand, so check the chain rule between two adjacent
    // layers with different switches: relu1 (after the mask) and conv1 (before it).
    const xai::LayerGradients relu1 = net.layer_gradients(batch, "relu1", seed);
    const xai::LayerGradients conv1 = net.layer_gradients(batch, "conv1", seed);
    for (std::size_t i = 0; i < conv1.gradients.size(); ++i)
        REQUIRE(conv1.gradients.data()[i] == (conv1.activations.data()[i] > 0.0f ? relu1.gradients.data()[i] : 0.0f));
    // The full backward pass continues below conv1 with dx = conv1ᵀ(dy): apply it by hand to
    // layer_gradients("conv1") and the input gradient must come out.
    const m::Layer& layer = net.layer("conv1");
    const float* weights = net.parameter_values().data() + layer.weight_offset;
    std::vector<float> cols(m::detail::columns_size(layer)), dx(layer.input.size());
    for (std::size_t i = 0; i < batch.shape(0); ++i) {
        m::detail::affine_backward_data(layer, weights, conv1.gradients.data() + i * layer.output.size(), dx.data(),
                                        cols.data(), false);
        for (std::size_t j = 0; j < dx.size(); ++j)
            REQUIRE(dx[j] == Approx(full.gradients.data()[i * dx.size() + j]).margin(1e-6));
    }
    CHECK((full.scores == logits));
    CHECK(xt::amax(xt::abs(full.gradients))() > 0.0f);
}
