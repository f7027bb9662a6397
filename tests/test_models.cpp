// Tests of include/xai/models: the built-in CNN (layers, backpropagation, Hessian-vector
// products, concepts, weights files, training) and the shipped models.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/gradient_check.hpp"
#include "xai/models/sequential.hpp"
#include "xai/models/training.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
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

/// Every layer kind, odd sizes, a padded stride-2 conv, a 1×1 conv, overlapping pooling, a hidden linear layer.
Double every_layer_net(std::uint64_t seed = 3) {
    return Double({2, 9, 8},
                  {m::conv2d(3, 3, 1, 1), m::relu(), m::conv2d(4, 3, 2, 1), m::relu(), m::max_pool2d(2, 1),
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
    // Not relu2: it feeds an overlapping max pool, and its many exact zeros tie inside pooling
    // windows, where a central difference measures half of a one-sided derivative. conv2 checks
    // the same backward path (ReLU mask, pooling switches) without ties.
    for (const std::string layer : {"conv1", "conv2", "pool1", "conv3", "flatten", "fc", "relu4", "fc2"}) {
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

TEST_CASE("Hessian-vector products match central differences of gradients and are symmetric", "[models][hessian]") {
    for (Double net : {every_layer_net(), gap_net()}) {
        net.set_l2_regularization(0.03);
        const xai::Batch batch = random_batch(3, net.input_shape(), 51);
        const xai::Labels labels{2, 0, 1};
        const Eigen::VectorXd theta = net.parameters();
        xai::Rng rng(7);
        Eigen::VectorXd u(theta.size()), v(theta.size());
        for (Eigen::Index j = 0; j < theta.size(); ++j) {
            u[j] = rng.normal();
            v[j] = rng.normal();
        }
        const Eigen::VectorXd hv = net.loss_hessian_vector_product(batch, labels, v);
        // (∇f(θ + h v) − ∇f(θ − h v)) / 2h, with the objective's gradient (which includes λθ).
        const double h = 1e-5;
        Double probe = net;
        std::vector<double> plus(theta.size()), minus(theta.size()), numeric(theta.size());
        probe.set_parameters(theta + h * v);
        probe.objective_gradient(batch, labels, plus);
        probe.set_parameters(theta - h * v);
        probe.objective_gradient(batch, labels, minus);
        for (std::size_t j = 0; j < numeric.size(); ++j) numeric[j] = (plus[j] - minus[j]) / (2 * h);
        CHECK(relative_error(std::vector<double>(hv.begin(), hv.end()), numeric) < 1e-6);
        // A Hessian is symmetric: uᵀ(Hv) = vᵀ(Hu), and the product is linear in v.
        const Eigen::VectorXd hu = net.loss_hessian_vector_product(batch, labels, u);
        CHECK(u.dot(hv) == Approx(v.dot(hu)).epsilon(1e-10));
        const Eigen::VectorXd h_sum = net.loss_hessian_vector_product(batch, labels, 2.0 * u + v);
        CHECK((h_sum - (2.0 * hu + hv)).norm() < 1e-10 * h_sum.norm());
        // The λv term: raising λ by 1 adds v.
        Double heavier = net;
        heavier.set_l2_regularization(1.03);
        CHECK((heavier.loss_hessian_vector_product(batch, labels, v) - hv - v).norm() < 1e-10 * v.norm());
    }
}

TEST_CASE("per-example losses and gradients agree with the cross-entropy and the mean gradient", "[models][gradients]") {
    Double net = gap_net();
    net.set_l2_regularization(0.5);
    const xai::Batch batch = random_batch(5, net.input_shape(), 61);
    const xai::Labels labels{0, 1, 2, 1, 0};
    const Eigen::VectorXd losses = net.per_example_losses(batch, labels);
    const Eigen::MatrixXd logits = net.logits(batch);
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const double log_sum = std::log(logits.row(i).array().exp().sum());
        CHECK(losses[i] == Approx(log_sum - logits(i, static_cast<Eigen::Index>(labels[static_cast<std::size_t>(i)]))).epsilon(1e-12));
    }
    const Eigen::MatrixXd per_example = net.per_example_loss_gradients(batch, labels);
    REQUIRE(per_example.rows() == static_cast<Eigen::Index>(net.num_parameters()));
    REQUIRE(per_example.cols() == 5);
    std::vector<double> gradient(net.num_parameters());
    const double objective = net.objective_gradient(batch, labels, gradient);
    const Eigen::VectorXd theta = net.parameters();
    CHECK(objective == Approx(losses.mean() + 0.25 * theta.squaredNorm()).epsilon(1e-12));
    const Eigen::VectorXd expected = per_example.rowwise().mean() + 0.5 * theta;
    for (std::size_t j = 0; j < gradient.size(); ++j)
        REQUIRE(gradient[j] == Approx(expected[static_cast<Eigen::Index>(j)]).margin(1e-12));
    // Column i alone is the gradient of the batch made of image i alone.
    Double single = net;
    single.set_l2_regularization(0.0);
    std::vector<double> g3(net.num_parameters());
    single.objective_gradient(xt::view(batch, xt::range(3, 4)), {labels[3]}, g3);
    for (std::size_t j = 0; j < g3.size(); ++j) REQUIRE(g3[j] == Approx(per_example(static_cast<Eigen::Index>(j), 3)).margin(1e-12));
}

TEST_CASE("forward_from continues exactly where layer_activations stopped", "[models][layers]") {
    const Sequential net(every_layer_net());
    const xai::Batch batch = random_batch(3, net.input_shape(), 71);
    const xai::Scores logits = net.forward(batch);
    for (const std::string& layer : net.layer_names()) {
        const xai::LayerOutput out = net.layer_activations(batch, layer);
        INFO("layer " << layer);
        CHECK((out.scores == logits));
        CHECK((net.forward_from(layer, out.activations) == logits));
        const m::FeatureShape& s = net.layer(layer).output;
        CHECK(out.activations.dimension() == (s.spatial ? 4u : 2u));
        CHECK(out.activations.shape(0) == 3);
        CHECK(out.activations.shape(1) == s.channels);
    }
}

TEST_CASE("forward_features and classifier_weights reproduce the logits (the CAM identity)", "[models][layers]") {
    const Sequential net(gap_net());
    const xai::Batch batch = random_batch(2, net.input_shape(), 81);
    const xai::FeatureOutput f = net.forward_features(batch);
    CHECK(net.feature_layer() == "relu2");
    CHECK((f.features == xai::Batch(net.layer_activations(batch, "relu2").activations)));
    const xt::xtensor<float, 2> w = net.classifier_weights();
    const std::vector<float> b = net.classifier_bias();
    REQUIRE(w.shape(0) == 3);
    REQUIRE(w.shape(1) == 4);
    const std::size_t plane = f.features.shape(2) * f.features.shape(3);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t k = 0; k < 3; ++k) {
            double logit = b[k];
            for (std::size_t c = 0; c < 4; ++c) {
                double mean = 0.0;
                for (std::size_t p = 0; p < plane; ++p) mean += f.features.data()[(i * 4 + c) * plane + p];
                logit += w(k, c) * mean / static_cast<double>(plane);
            }
            CHECK(f.scores(i, k) == Approx(logit).margin(1e-5));
        }
    const Sequential no_gap(every_layer_net());
    CHECK_THROWS_AS(no_gap.forward_features(batch), xai::model_error);
    CHECK_THROWS_WITH(no_gap.classifier_weights(), Contains("does not end in global_avg_pool followed by linear"));
}

TEST_CASE("a hand-computed network gives the hand-computed logits and gradients", "[models][layers]") {
    // 1×3×3 input, conv 2×2 (one filter, stride 1, no padding) → relu → max_pool 2×2 → gap → linear(2).
    Sequential net({1, 3, 3}, {m::conv2d(1, 2), m::relu(), m::max_pool2d(2, 1), m::global_avg_pool(), m::linear(2)});
    // conv weights [1, 0; 0, −1], bias 0.5; fc weights [2; −1], biases [0, 1].
    Eigen::VectorXd theta(9);
    theta << 1, 0, 0, -1, 0.5, 2, -1, 0, 1;
    REQUIRE(net.num_parameters() == 9);
    net.set_parameters(theta);
    xai::Batch x = xai::Batch::from_shape({1, 1, 3, 3});
    const float pixels[9] = {1, 2, 3, 4, 5, 6, 7, 8, 0};
    std::copy(pixels, pixels + 9, x.begin());
    // conv: y(0,0) = 1 − 5 + .5 = −3.5, y(0,1) = 2 − 6 + .5 = −3.5, y(1,0) = 4 − 8 + .5 = −3.5, y(1,1) = 5 − 0 + .5 = 5.5
    // relu: [0, 0; 0, 5.5]; pool (one 2×2 window): 5.5; gap: 5.5; logits: [11, −4.5]
    const xai::Scores logits = net.forward(x);
    CHECK(logits(0, 0) == Approx(11.0f));
    CHECK(logits(0, 1) == Approx(-4.5f));
    // d logit0 / d x: only y(1,1) is active, y(1,1) = x(1,1) − x(2,2) + .5, times fc weight 2.
    const xai::InputGradients g = net.input_gradients(x, logit_seed(0));
    const float expected[9] = {0, 0, 0, 0, 2, 0, 0, 0, -2};
    for (std::size_t i = 0; i < 9; ++i) CHECK(g.gradients.data()[i] == expected[i]);
    CHECK(net.layer_names() == std::vector<std::string>{"conv1", "relu1", "pool1", "gap", "fc"});
}

namespace {

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("xai_test_models_" + name);
}

std::vector<char> file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("save and load round-trip the architecture, parameters and lambda exactly", "[models][io]") {
    Sequential net(every_layer_net(9));
    net.set_l2_regularization(2.5e-4);
    const auto path = temp_path("roundtrip.xaiw");
    net.save(path);
    const Sequential loaded = m::load(path);
    CHECK(loaded.describe() == net.describe());
    CHECK(loaded.layer_names() == net.layer_names());
    CHECK(loaded.l2_regularization() == 2.5e-4);
    CHECK(loaded.parameters() == net.parameters());
    const xai::Batch batch = random_batch(2, net.input_shape(), 91);
    CHECK((loaded.forward(batch) == net.forward(batch)));
    // A double model saves float32 values: loading gives the float-rounded parameters.
    const Double wide(net);
    wide.save(path);
    CHECK(m::load_as<double>(path).parameters() == net.parameters());
    // load_parameters into the same architecture.
    Sequential other(every_layer_net(10));
    CHECK(other.parameters() != net.parameters());
    other.load_parameters(path);
    CHECK(other.parameters() == net.parameters());
    std::filesystem::remove(path);
}

TEST_CASE("foreign, truncated, corrupt and mismatched weight files are io_errors", "[models][io]") {
    const Sequential net(gap_net());
    const auto path = temp_path("good.xaiw"), bad = temp_path("bad.xaiw");
    net.save(path);
    const std::vector<char> good = file_bytes(path);

    CHECK_THROWS_WITH(m::load(temp_path("missing.xaiw")), Contains("cannot open"));
    write_bytes(bad, {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK_THROWS_WITH(m::load(bad), Contains("is not an xai weights file"));
    write_bytes(bad, {});
    CHECK_THROWS_AS(m::load(bad), xai::io_error);

    // Every truncation is detected, wherever the file is cut.
    for (std::size_t size = 1; size < good.size(); size += (size < 200 ? 1 : 97)) {
        write_bytes(bad, std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
        INFO("truncated to " << size << " bytes");
        CHECK_THROWS_AS(m::load(bad), xai::io_error);
    }
    std::vector<char> longer = good;
    longer.push_back(0);
    write_bytes(bad, longer);
    CHECK_THROWS_AS(m::load(bad), xai::io_error);

    // A flipped bit in the data fails the checksum.
    std::vector<char> flipped = good;
    flipped[flipped.size() - 10] ^= 0x10;
    write_bytes(bad, flipped);
    CHECK_THROWS_WITH(m::load(bad), Contains("CRC-32 does not match"));

    // Unsupported version (bytes 8..11).
    std::vector<char> version = good;
    version[8] = 2;
    write_bytes(bad, version);
    CHECK_THROWS_WITH(m::load(bad), Contains("format version 2"));

    // A tensor that declares 2^31 values in a small file is rejected before allocating: build
    // the file by hand with an architecture whose tensors are huge.
    m::WeightsFile huge;
    huge.input = {1, 4, 4};
    huge.num_classes = 2;
    huge.layers = {m::flatten("flatten"), m::linear(2, "fc")};
    huge.tensors = {{"fc.weight", {2, 16}, std::vector<float>(32, 0.5f)}, {"fc.bias", {2}, {0.0f, 0.0f}}};
    m::write_weights_file(huge, bad);
    CHECK_NOTHROW(m::load(bad));
    std::vector<char> bytes = file_bytes(bad);
    // The first tensor's extents follow its name; set its first extent to 2^31.
    const std::string marker = "fc.weight";
    const auto at = std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end()) - bytes.begin();
    const auto extent = static_cast<std::size_t>(at) + marker.size() + 1;  // after the name and the rank byte
    bytes[extent] = 0;
    bytes[extent + 1] = 0;
    bytes[extent + 2] = 0;
    bytes[extent + 3] = static_cast<char>(0x80);
    write_bytes(bad, bytes);
    CHECK_THROWS_WITH(m::load(bad), Contains("truncated: its tensors declare"));

    // Tensors that do not fit the architecture.
    huge.tensors[0].shape = {16, 2};
    m::write_weights_file(huge, bad);
    CHECK_THROWS_WITH(m::load(bad), Contains("expected 'fc.weight' [2, 16]"));
    huge.tensors[0].shape = {2, 16};
    huge.tensors.pop_back();
    m::write_weights_file(huge, bad);
    // Refused before allocating: the layers need more values than the file holds.
    CHECK_THROWS_WITH(m::load(bad), Contains("its layers need more than 32 parameters, the number of values it holds"));
    huge.tensors.push_back({"fc.bias", {2}, {0.0f, std::nanf("")}});
    m::write_weights_file(huge, bad);
    CHECK_THROWS_WITH(m::load(bad), Contains("contains NaN or Inf"));
    huge.layers = {m::linear(2, "fc")};  // linear directly on a 1×4×4 image
    huge.tensors.back().values[1] = 0.0f;
    m::write_weights_file(huge, bad);
    CHECK_THROWS_WITH(m::load(bad), Contains("describes an invalid architecture"));

    // A file of another architecture cannot be loaded into this one.
    Sequential other(every_layer_net());
    CHECK_THROWS_WITH(other.load_parameters(path), Contains("holds a different architecture"));
    std::filesystem::remove(path);
    std::filesystem::remove(bad);
}

TEST_CASE("bad input is rejected with errors that name the argument", "[models][errors]") {
    const Sequential net(gap_net());
    const xai::Batch good = random_batch(2, net.input_shape(), 101);
    CHECK_THROWS_AS(net.forward(random_batch(2, {1, 8, 9}, 1)), xai::shape_error);
    CHECK_THROWS_WITH(net.forward(random_batch(2, {3, 8, 8}, 1)), Contains("the model expects 1x8x8"));
    CHECK_THROWS_AS(net.forward(xai::Batch::from_shape({0, 1, 8, 8})), xai::shape_error);
    xai::Batch nan = good;
    nan(1, 0, 3, 3) = std::nanf("");
    CHECK_THROWS_WITH(net.forward(nan), Contains("NaN or Inf"));
    CHECK_THROWS_AS(net.input_gradients(nan, logit_seed(0)), xai::invalid_argument);
    CHECK_THROWS_WITH(net.layer_activations(good, "conv9"), Contains("unknown layer 'conv9', expected one of: conv1, relu1"));
    CHECK_THROWS_AS(net.layer_gradients(good, "nope", logit_seed(0)), xai::invalid_argument);
    CHECK_THROWS_AS(net.forward_from("nope", xai::Activations(xt::zeros<float>({1, 4}))), xai::invalid_argument);
    CHECK_THROWS_WITH(net.forward_from("relu2", xai::Activations(xt::zeros<float>({1, 4}))),
                      Contains("expected [N, 4x4x4]"));
    CHECK_THROWS_AS(net.layer_gradients(good, "relu2", xai::ScoreSeed{}), xai::invalid_argument);
    const xai::ScoreSeed wrong = [](const xai::Scores&) { return xai::Scores(xt::zeros<float>({1, 1})); };
    CHECK_THROWS_WITH(net.layer_gradients(good, "relu2", wrong), Contains("the seed returned shape [1, 1], expected [2, 3]"));
    CHECK_THROWS_WITH(net.per_example_losses(good, {0}), Contains("1 labels for 2 images"));
    CHECK_THROWS_WITH(net.per_example_losses(good, {0, 3}), Contains("labels[1] = 3, expected a class index below 3"));
    CHECK_THROWS_AS(net.loss_hessian_vector_product(good, {0, 1}, Eigen::VectorXd::Zero(3)), xai::shape_error);
    Sequential copy = net;
    CHECK_THROWS_AS(copy.set_parameters(Eigen::VectorXd::Zero(4)), xai::shape_error);
    Eigen::VectorXd inf = net.parameters();
    inf[0] = INFINITY;
    CHECK_THROWS_AS(copy.set_parameters(inf), xai::invalid_argument);
    CHECK_THROWS_AS(copy.set_l2_regularization(-1.0), xai::invalid_argument);
    CHECK_THROWS_WITH(copy.reinitialize_layer("fc9", 1), Contains("unknown layer 'fc9'"));

    // An empty model, a model without a classifier head, invalid architectures.
    const Sequential empty;
    CHECK_THROWS_WITH(empty.forward(good), Contains("the model is empty"));
    CHECK_THROWS_AS(empty.num_classes(), xai::model_error);
    CHECK_THROWS_AS(empty.save(temp_path("empty.xaiw")), xai::model_error);
    const Sequential no_layers({1, 8, 8});
    CHECK_THROWS_AS(no_layers.layer_activations(good, "conv1"), xai::model_error);
    const Sequential headless({1, 8, 8}, {m::conv2d(2, 3)});
    CHECK_THROWS_WITH(headless.forward(good), Contains("expected a vector of class scores"));
    CHECK_THROWS_AS(Sequential({0, 8, 8}), xai::shape_error);
    CHECK_THROWS_WITH(Sequential({1, 8, 8}, {m::flatten(), m::conv2d(2, 3)}), Contains("cannot follow flatten"));
    CHECK_THROWS_WITH(Sequential({1, 8, 8}, {m::linear(3)}), Contains("add flatten or global_avg_pool before it"));
    CHECK_THROWS_WITH(Sequential({1, 4, 4}, {m::conv2d(2, 5)}), Contains("padded input is only 4x4"));
    CHECK_THROWS_AS(Sequential({1, 4, 4}, {m::conv2d(0, 3)}), xai::invalid_argument);
    CHECK_THROWS_AS(Sequential({1, 4, 4}, {m::max_pool2d(5)}), xai::shape_error);
    CHECK_THROWS_WITH(Sequential({1, 8, 8}, {m::relu("a"), m::relu("a")}), Contains("already exists"));
}

TEST_CASE("every function is bit-identical for any thread count and batch composition", "[models][determinism]") {
    Sequential net(every_layer_net());
    net.set_l2_regularization(1e-3);
    const xai::Batch batch = random_batch(37, net.input_shape(), 111);  // not a multiple of the chunk of 16
    xai::Labels labels(37);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = i % 4;
    const Eigen::VectorXd v = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(net.num_parameters()), 0.01);
    const xai::ScoreSeed seed = [](const xai::Scores& logits) {
        return xai::target_score_gradient(logits, xai::argmax_rows(logits), xai::ScoreKind::log_probability);
    };
    net.set_num_threads(1);
    const xai::Scores logits = net.forward(batch);
    const xai::LayerGradients lg = net.layer_gradients(batch, "conv2", seed);
    const xai::InputGradients ig = net.input_gradients(batch, seed);
    std::vector<float> g1(net.num_parameters()), g(net.num_parameters());
    net.objective_gradient(batch, labels, g1);
    const Eigen::VectorXd hv = net.loss_hessian_vector_product(batch, labels, v);
    const Eigen::MatrixXd per_example = net.per_example_loss_gradients(batch, labels);
    for (std::size_t threads : {2u, 3u, 0u}) {
        INFO(threads << " threads");
        net.set_num_threads(threads);
        CHECK((net.forward(batch) == logits));
        const xai::LayerGradients lg2 = net.layer_gradients(batch, "conv2", seed);
        CHECK((lg2.gradients == lg.gradients));
        CHECK((lg2.activations == lg.activations));
        CHECK((net.input_gradients(batch, seed).gradients == ig.gradients));
        net.objective_gradient(batch, labels, g);
        CHECK(g == g1);
        CHECK(net.loss_hessian_vector_product(batch, labels, v) == hv);
        CHECK(net.per_example_loss_gradients(batch, labels) == per_example);
    }
    // An image gives the same logits alone as inside a batch.
    const xai::Batch one = xt::view(batch, xt::range(20, 21));
    const xai::Scores alone = net.forward(one);
    for (std::size_t k = 0; k < 4; ++k) CHECK(alone(0, k) == logits(20, k));
}

TEST_CASE("layers are named automatically and reinitialised one at a time", "[models][layers]") {
    Sequential net({1, 12, 12}, {m::conv2d(2, 3), m::relu(), m::max_pool2d(2), m::conv2d(2, 3), m::relu(),
                                 m::global_avg_pool(), m::linear(4), m::relu(), m::linear(3)},
                   17);
    CHECK(net.layer_names() ==
          std::vector<std::string>{"conv1", "relu1", "pool1", "conv2", "relu2", "gap", "fc", "relu3", "fc2"});
    const auto blocks = net.parameter_blocks();
    REQUIRE(blocks.size() == 8);
    CHECK(blocks[0].name == "conv1.weight");
    CHECK(blocks[0].size == 18);
    CHECK(blocks[1].name == "conv1.bias");
    CHECK(blocks[1].offset == 18);
    CHECK(blocks[7].name == "fc2.bias");
    CHECK(blocks[7].offset + blocks[7].size == net.num_parameters());

    // He-uniform bounds: conv1 fan-in 9 → |w| ≤ √(6/9); biases |b| ≤ 1/3.
    for (std::size_t j = 0; j < 18; ++j) CHECK(std::abs(net.parameter_values()[j]) <= std::sqrt(6.0f / 9.0f));
    for (std::size_t j = 18; j < 20; ++j) CHECK(std::abs(net.parameter_values()[j]) <= 1.0f / 3.0f);

    const Eigen::VectorXd initial = net.parameters();
    Sequential copy = net;  // a deep copy: changing it leaves `net` alone
    copy.reinitialize_layer("conv2", 99);
    CHECK(net.parameters() == initial);
    const Eigen::VectorXd changed = copy.parameters();
    const auto& conv2 = copy.layer("conv2");
    for (std::size_t j = 0; j < copy.num_parameters(); ++j) {
        const bool in_conv2 = j >= conv2.weight_offset && j < conv2.bias_offset + conv2.bias_size;
        if (!in_conv2) REQUIRE(changed[static_cast<Eigen::Index>(j)] == initial[static_cast<Eigen::Index>(j)]);
    }
    CHECK(changed.segment(static_cast<Eigen::Index>(conv2.weight_offset), 36) !=
          initial.segment(static_cast<Eigen::Index>(conv2.weight_offset), 36));
    copy.reinitialize_layer("conv2", net.seed());  // the model's own seed restores the initial draw
    CHECK(copy.parameters() == initial);
    copy.reinitialize_layer("relu1", 5);  // no parameters: nothing changes
    CHECK(copy.parameters() == initial);
}

namespace {

/// A separable toy problem: class k has a bright 3×3 square in quadrant k of an 8×8 image.
void toy_problem(std::size_t n, xai::Batch& images, xai::Labels& labels, std::uint64_t seed) {
    images = xt::zeros<float>({n, std::size_t{1}, std::size_t{8}, std::size_t{8}});
    labels.resize(n);
    xai::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        labels[i] = i % 4;
        const std::size_t y0 = (labels[i] / 2) * 4 + rng.uniform_index(2), x0 = (labels[i] % 2) * 4 + rng.uniform_index(2);
        for (std::size_t y = 0; y < 3; ++y)
            for (std::size_t x = 0; x < 3; ++x) images(i, 0, y0 + y, x0 + x) = 1.0f;
        for (std::size_t j = 0; j < 64; ++j) images.data()[i * 64 + j] += static_cast<float>(0.1 * rng.normal());
    }
}

}  // namespace

TEST_CASE("training reduces the loss, reproducibly for any thread count", "[models][training]") {
    xai::Batch images;
    xai::Labels labels;
    toy_problem(96, images, labels, 5);
    for (const auto optimizer : {m::Optimizer::adam, m::Optimizer::sgd_momentum}) {
        INFO(m::to_string(optimizer));
        // Position matters, so flatten rather than global average pooling.
        Sequential net({1, 8, 8}, {m::conv2d(4, 3, 1, 1), m::relu(), m::max_pool2d(2), m::flatten(), m::linear(4)}, 2);
        net.set_l2_regularization(1e-4);
        m::TrainingOptions options;
        options.optimizer = optimizer;
        options.learning_rate = optimizer == m::Optimizer::adam ? 0.02 : 0.1;
        options.epochs = 12;
        options.batch_size = 16;
        options.seed = 9;
        Sequential twin = net;
        const double before = net.objective(images, labels);
        std::size_t reports = 0, progress_calls = 0;
        const xai::Progress progress = [&](const xai::ProgressReport& p) {
            ++progress_calls;
            CHECK(p.total == 96);
        };
        const auto history =
            m::train(net, images, labels, options, [&](const m::EpochReport&) { ++reports; }, progress);
        const double after = net.objective(images, labels);
        CHECK(after < 0.5 * before);
        CHECK(history.size() == 12);
        CHECK(reports == 12);
        CHECK(progress_calls == 12 * 6);
        CHECK(history.back().mean_objective < history.front().mean_objective);
        CHECK(history.back().learning_rate == Approx(0.0).margin(1e-12));  // the cosine schedule ends at 0
        CHECK(m::accuracy(net, images, labels, 7) > 0.9);
        options.threads = 3;
        m::train(twin, images, labels, options);
        CHECK(twin.parameters() == net.parameters());
        CHECK(twin.num_threads() == 1);  // restored after training
    }
}

TEST_CASE("training options are validated", "[models][training][errors]") {
    xai::Batch images;
    xai::Labels labels;
    toy_problem(8, images, labels, 1);
    Sequential net({1, 8, 8}, {m::flatten(), m::linear(4)});
    m::TrainingOptions options;
    options.batch_size = 0;
    CHECK_THROWS_WITH(m::train(net, images, labels, options), Contains("batch_size is 0"));
    options = {};
    options.learning_rate = -1.0;
    CHECK_THROWS_AS(m::train(net, images, labels, options), xai::invalid_argument);
    options = {};
    options.beta2 = 1.0;
    CHECK_THROWS_AS(m::train(net, images, labels, options), xai::invalid_argument);
    CHECK_THROWS_AS(m::train(net, images, xai::Labels{0, 1}, m::TrainingOptions{}), xai::shape_error);
    Sequential empty;
    CHECK_THROWS_AS(m::train(empty, images, labels, m::TrainingOptions{}), xai::model_error);
    CHECK_THROWS_AS(m::accuracy(net, images, xai::Labels{}), xai::shape_error);
    // The options are an aggregate: designated initializers.
    CHECK_THROWS_WITH(m::train(net, images, labels, {.learning_rate = 0.0, .epochs = 2}), Contains("learning_rate is 0"));
}

namespace {

/// The images and labels listed in a samples JSON file (one object per line with "file" and "label").
xai::models::TrainingBatch read_samples(const std::filesystem::path& json) {
    std::ifstream in(json);
    REQUIRE(in.good());
    const std::regex entry(R"re("file": "([^"]+)".*"label": ([0-9]+))re");
    std::vector<xai::Image> images;
    xai::Labels labels;
    for (std::string line; std::getline(in, line);) {
        std::smatch match;
        if (!std::regex_search(line, match, entry)) continue;
        images.push_back(xai::load_image(json.parent_path() / match[1].str(), 1));
        labels.push_back(std::stoul(match[2].str()));
    }
    return {xai::stack(images), labels};
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t held_out_limit = 1000;  // sanitizers slow Eigen's products several times
#else
constexpr std::size_t held_out_limit = 0;     // 0 = the whole test split
#endif

}  // namespace

TEST_CASE("the shipped models load, have the built-in architectures and classify the shipped samples",
          "[models][builtin]") {
    CHECK(m::builtin_model_names() == std::vector<std::string>{"fashion", "scenes", "scenes_biased"});
    CHECK_THROWS_WITH(m::load_builtin("imagenet"), Contains("unknown model 'imagenet'"));
    for (const std::string& name : m::builtin_model_names()) {
        INFO(name);
        const Sequential model = m::load_builtin(name);
        CHECK(model.describe() == m::builtin_architecture(name).describe());
        CHECK(model.num_classes() == xai::fashion_mnist_classes.size());
        CHECK(std::filesystem::file_size(m::builtin_weights_path(name)) <= 2u * 1024 * 1024);
        CHECK(model.feature_layer() == (name == "fashion" ? "relu4" : "relu4"));
    }
    const xai::models::TrainingBatch fashion = read_samples(xai::data_directory() / "samples/fashion/labels.json");
    const xai::models::TrainingBatch scenes = read_samples(xai::data_directory() / "samples/scenes/ground_truth.json");
    REQUIRE(fashion.labels.size() == 16);
    REQUIRE(scenes.labels.size() == 16);
    CHECK(m::accuracy(m::load_builtin("fashion"), fashion.images, fashion.labels) >= 12.0 / 16);
    CHECK(m::accuracy(m::load_builtin("scenes"), scenes.images, scenes.labels) >= 11.0 / 16);
}

TEST_CASE("the shipped models reach their recorded accuracy on Fashion-MNIST's test split", "[models][builtin][dataset]") {
    // The sample images are part of the test split: they must be the images the data set holds
    // (checked when the data set is installed; CI installs it).
    const auto directory = xai::find_fashion_mnist();
    CHECK(std::filesystem::exists(xai::data_directory() / "samples/fashion/fashion_0.png"));
    if (!directory) {
        WARN("Fashion-MNIST is not installed (dataset-fashion-mnist); the accuracy checks are skipped");
        return;
    }
    // The whole split always: the scenes draw their clutter from all of its items, so a shorter
    // split would make other scenes than the shipped ones. Only the fashion model's accuracy is
    // computed on fewer images under the sanitizers.
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    const std::size_t fashion_count = held_out_limit == 0 ? test.labels.size() : held_out_limit;
    const xai::Batch fashion_images = xt::view(test.images, xt::range(0, fashion_count), xt::all(), xt::all(), xt::all());
    const xai::Labels fashion_labels(test.labels.begin(), test.labels.begin() + static_cast<std::ptrdiff_t>(fashion_count));
    Sequential fashion = m::load_builtin("fashion");
    fashion.set_num_threads(0);
    const double fashion_accuracy = m::accuracy(fashion, fashion_images, fashion_labels);
    INFO("fashion test accuracy " << fashion_accuracy << " on " << fashion_count << " images");
    CHECK(fashion_accuracy >= 0.91);

    // The scenes model on the held-out scenes (scene i shows test item i; seed 1), 2,000 of them.
    Sequential scenes = m::load_builtin("scenes");
    scenes.set_num_threads(0);
    xai::SceneOptions options;
    options.seed = 1;
    const xai::SceneSet held_out = xai::make_scenes(test.images, test.labels, 0, 2000, options, 0);
    const double scenes_accuracy = m::accuracy(scenes, held_out.images, held_out.labels);
    INFO("scenes accuracy " << scenes_accuracy << " on the first 2,000 held-out scenes");
    CHECK(scenes_accuracy >= 0.85);

    // The shipped scene samples are held-out scenes 0–15, pixel for pixel (PNG rounding aside).
    const xai::models::TrainingBatch samples = read_samples(xai::data_directory() / "samples/scenes/ground_truth.json");
    for (std::size_t i = 0; i < 16; ++i) {
        CHECK(samples.labels[i] == held_out.labels[i]);
        for (std::size_t j = 0; j < 64 * 64; ++j)
            REQUIRE(std::abs(samples.images.data()[i * 4096 + j] - held_out.images.data()[i * 4096 + j]) <= 0.5f / 255 + 1e-6f);
    }
}

namespace {

/// A model whose backward pass is wrong: the built-in CNN with every gradient scaled by
/// `scale`, or with one input coordinate's gradient zeroed (`zeroed`), forward passes intact.
class WrongGradients {
public:
    WrongGradients(Double net, float scale, std::size_t zeroed = SIZE_MAX) : net_(std::move(net)), scale_(scale), zeroed_(zeroed) {}
    std::size_t num_classes() const { return net_.num_classes(); }
    xai::ImageShape input_shape() const { return net_.input_shape(); }
    xai::Scores forward(const xai::Batch& b) const { return net_.forward(b); }
    Eigen::MatrixXd logits(const xai::Batch& b) const { return net_.logits(b); }  // in double, as the checker prefers
    Eigen::MatrixXd logits_from(const std::string& l, const xai::Activations& a) const { return net_.logits_from(l, a); }
    std::vector<std::string> layer_names() const { return net_.layer_names(); }
    xai::LayerOutput layer_activations(const xai::Batch& b, const std::string& l) const { return net_.layer_activations(b, l); }
    xai::Scores forward_from(const std::string& l, const xai::Activations& a) const { return net_.forward_from(l, a); }
    xai::LayerGradients layer_gradients(const xai::Batch& b, const std::string& l, const xai::ScoreSeed& s) const {
        xai::LayerGradients g = net_.layer_gradients(b, l, s);
        g.gradients *= scale_;
        return g;
    }
    xai::InputGradients input_gradients(const xai::Batch& b, const xai::ScoreSeed& s) const {
        xai::InputGradients g = net_.input_gradients(b, s);
        g.gradients *= scale_;
        if (zeroed_ < g.gradients.size()) g.gradients.data()[zeroed_] = 0.0f;
        return g;
    }

private:
    Double net_;
    float scale_;
    std::size_t zeroed_;
};
static_assert(xai::InputGradientModel<WrongGradients>);
static_assert(xai::LayerGradientModel<WrongGradients> && xai::LayerForwardModel<WrongGradients>);

}  // namespace

TEST_CASE("the gradient checker passes the built-in CNN in double and float", "[models][gradient_check]") {
    const Double net = gap_net();
    const xai::Batch batch = random_batch(2, net.input_shape(), 61);
    SECTION("double: logits() in double, a small step, a tight tolerance") {
        // The gradients are float tensors: agreement to about 1e-6, whatever the model's precision.
        const m::GradientCheckOptions tight{.step = 1e-5, .tolerance = 1e-5};
        const m::GradientCheckReport input = m::check_input_gradients(net, batch, tight);
        INFO("input: relative " << input.max_relative_error << " at probe " << input.worst_probe);
        CHECK(input.passed);
        CHECK(input.probes == 16);
        CHECK(input.kinks == 0);
        CHECK(input.max_relative_error < 1e-5);
        CHECK_FALSE(input.worst_coordinate.has_value());
        CHECK(std::abs(input.analytic) > 0.0);
        CHECK(input.analytic == Approx(input.numeric).epsilon(1e-5));
        for (const std::string layer : {"conv1", "pool1", "conv2", "relu2", "gap", "fc"}) {
            const m::GradientCheckReport r = m::check_layer_gradients(net, batch, layer, tight);
            INFO("layer " << layer << ": relative " << r.max_relative_error << ", kinks " << r.kinks);
            CHECK(r.passed);
        }
        // Coordinates: every one of the batch's 128 values when probes exceeds them.
        const m::GradientCheckReport all = m::check_input_gradients(
            net, batch, {.step = 1e-5, .probes = 1000, .probe = m::GradientProbe::coordinates, .tolerance = 1e-5});
        CHECK(all.probes == batch.size());
        CHECK(all.passed);
        REQUIRE(all.worst_coordinate.has_value());
        CHECK(*all.worst_coordinate < batch.size());
    }
    SECTION("float: the default step and tolerance") {
        const Sequential single(net);
        const m::GradientCheckReport input = m::check_input_gradients(single, batch);
        INFO("input: relative " << input.max_relative_error << ", kinks " << input.kinks);
        CHECK(input.passed);
        for (const std::string layer : {"conv1", "conv2", "relu2", "gap", "fc"}) {
            const m::GradientCheckReport r = m::check_layer_gradients(single, batch, layer);
            INFO("layer " << layer << ": relative " << r.max_relative_error << ", kinks " << r.kinks);
            CHECK(r.passed);
        }
        const m::GradientCheckReport coordinates =
            m::check_input_gradients(single, batch, {.step = 1e-2, .probes = 32, .probe = m::GradientProbe::coordinates});
        CHECK(coordinates.passed);
        CHECK(coordinates.probes == 32);
    }
    SECTION("kinks: relu1's zeros tie inside max pooling windows") {
        // A direction moves every zero of a tied window: every probe straddles a kink, none is
        // usable, and the check says so instead of reporting a half derivative as an error.
        const m::GradientCheckReport directions = m::check_layer_gradients(net, batch, "relu1", {.step = 1e-5});
        CHECK(directions.kinks == directions.probes);
        CHECK_FALSE(directions.passed);
        // Single coordinates mostly avoid them; those that do not are left out.
        const m::GradientCheckReport coordinates = m::check_layer_gradients(
            net, batch, "relu1", {.step = 1e-5, .probes = 64, .probe = m::GradientProbe::coordinates, .tolerance = 1e-5});
        CHECK(coordinates.kinks > 0);
        CHECK(coordinates.kinks < coordinates.probes / 2);
        CHECK(coordinates.passed);
    }
    SECTION("the same seed gives the same report") {
        const m::GradientCheckReport a = m::check_layer_gradients(net, batch, "relu2", {.seed = 7});
        const m::GradientCheckReport b = m::check_layer_gradients(net, batch, "relu2", {.seed = 7});
        CHECK(a.max_relative_error == b.max_relative_error);
        CHECK(a.analytic == b.analytic);
        CHECK(a.kinks == b.kinks);
    }
}

TEST_CASE("the gradient checker fails a wrong backward pass and locates a wrong coordinate", "[models][gradient_check]") {
    const Double net = gap_net();
    const xai::Batch batch = random_batch(2, net.input_shape(), 62);
    const WrongGradients doubled(net, 2.0f);
    for (const double step : {1e-5, 3e-3}) {
        INFO("step " << step);
        const m::GradientCheckReport input = m::check_input_gradients(doubled, batch, {.step = step});
        CHECK_FALSE(input.passed);
        CHECK(input.kinks < input.probes);
        CHECK(input.max_relative_error == Approx(0.5).epsilon(1e-2));  // |2a − a| / |2a|
        CHECK(input.analytic == Approx(2.0 * input.numeric).epsilon(1e-2));
        const m::GradientCheckReport layer = m::check_layer_gradients(doubled, batch, "conv2", {.step = step});
        CHECK_FALSE(layer.passed);
        CHECK(layer.max_relative_error == Approx(0.5).epsilon(1e-2));
    }
    // One wrong entry of 128 (the largest of the true gradient, zeroed): coordinate probes find it.
    const xai::Scores w = m::detail::gradient_check_weights(2, 3, 0);
    const xai::InputGradients truth = net.input_gradients(batch, [&](const xai::Scores&) { return w; });
    const auto largest = static_cast<std::size_t>(
        std::max_element(truth.gradients.begin(), truth.gradients.end(), [](float a, float b) { return std::abs(a) < std::abs(b); }) -
        truth.gradients.begin());
    const WrongGradients one_wrong(net, 1.0f, largest);
    const m::GradientCheckReport found = m::check_input_gradients(
        one_wrong, batch, {.step = 1e-5, .probes = 128, .probe = m::GradientProbe::coordinates, .tolerance = 1e-5});
    CHECK_FALSE(found.passed);
    REQUIRE(found.worst_coordinate.has_value());
    CHECK(*found.worst_coordinate == largest);
    CHECK(found.analytic == 0.0);
    CHECK(found.max_relative_error == Approx(1.0));
}

TEST_CASE("the gradient checker refuses bad arguments", "[models][gradient_check][errors]") {
    const Double net = gap_net();
    const xai::Batch batch = random_batch(1, net.input_shape(), 63);
    CHECK_THROWS_WITH(m::check_input_gradients(net, batch, {.step = 0.0}),
                      StartsWith("xai::models::check_input_gradients(): step is 0"));
    CHECK_THROWS_AS(m::check_input_gradients(net, batch, {.step = std::nan("")}), xai::invalid_argument);
    CHECK_THROWS_WITH(m::check_layer_gradients(net, batch, "fc", {.probes = 0}),
                      StartsWith("xai::models::check_layer_gradients(): probes is 0"));
    CHECK_THROWS_WITH(m::check_input_gradients(net, batch, {.tolerance = -1.0}), Contains("tolerance is -1"));
    CHECK_THROWS_WITH(m::check_input_gradients(net, batch, {.floor = INFINITY}), Contains("floor is inf"));
    CHECK_THROWS_AS(m::check_input_gradients(net, random_batch(1, {2, 8, 8}, 1)), xai::shape_error);
    CHECK_THROWS_AS(m::check_input_gradients(net, xai::Batch::from_shape({0, 1, 8, 8})), xai::shape_error);
    xai::Batch nan = batch;
    nan.data()[3] = std::nanf("");
    CHECK_THROWS_AS(m::check_input_gradients(net, nan), xai::invalid_argument);
    CHECK_THROWS_WITH(m::check_layer_gradients(net, batch, "conv9"), Contains("unknown layer 'conv9'"));
    // A step below float's resolution at the probed values moves nothing.
    CHECK_THROWS_WITH(m::check_input_gradients(net, batch, {.step = 1e-30}), Contains("too small"));
}
