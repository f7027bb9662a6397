// Tests of include/xai/models/torch*.hpp: the LibTorch adapter against LibTorch itself (the
// same quantities computed with bare torch ops), finite differences, the built-in logistic
// regression, and bad input.
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace, not the
// other way round.
#include "test_torch_models.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>

#include "xai/core/random.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/torch.hpp"
#include "xai/models/torch/builtin.hpp"
#include "xai/models/torch/weights.hpp"

using Catch::Matchers::Contains;
using xai::models::TorchModel;
using xai::models::TorchOptions;
using namespace xai_test;
namespace nn = torch::nn;
namespace F = torch::nn::functional;


TEST_CASE("TorchModel on a Sequential ResNet: layers, shapes, classes, eval mode and forward", "[torch]") {
    nn::Sequential net = xai_test::tiny_resnet();
    net->train();
    const TorchModel model(net, options_for(resnet_input));
    CHECK_FALSE(net->is_training());
    for (const auto& p : net->parameters()) CHECK_FALSE(p.requires_grad());
    CHECK(model.num_classes() == 5);
    CHECK(model.input_shape() == resnet_input);
    CHECK(model.form() == "torch::nn::Sequential");
    const std::vector<std::string> expected{"conv1",    "bn1",      "relu",   "layer1.0", "layer1.1", "layer1", "layer2.0",
                                            "layer2.1", "layer2",   "avgpool", "flatten", "fc"};
    CHECK((model.layer_names() == expected));
    CHECK((model.layer_shape("layer1") == std::vector<std::size_t>{8, 32, 32}));
    CHECK((model.layer_shape("layer2.0") == std::vector<std::size_t>{16, 16, 16}));
    CHECK((model.layer_shape("flatten") == std::vector<std::size_t>{16}));
    CHECK(model.feature_layer() == "layer2");
    CHECK(model.classifier_weight_name() == "fc.weight");
    CHECK(model.dtype() == torch::kFloat32);

    const xai::Batch batch = xai_test::random_batch(3, resnet_input, 1);
    const xai::Scores scores = model.forward(batch);
    torch::NoGradGuard no_grad;
    const torch::Tensor expected_logits = net->forward(tensor_of(batch));
    REQUIRE(scores.shape(0) == 3);
    CHECK(max_abs_diff(tensor_of(scores), expected_logits) < 1e-5);

    // Eval mode matters: in train mode BatchNorm would use the batch's statistics.
    net->train();
    const torch::Tensor train_logits = net->forward(tensor_of(batch));
    net->eval();
    CHECK(max_abs_diff(train_logits, expected_logits) > 1e-3);
}

TEST_CASE("torch_resnet builds torchvision's ResNet-18 layout and parameter names", "[torch][resnet]") {
    nn::Sequential net = xai::models::torch_resnet();
    const TorchModel model(net, options_for({3, 224, 224}));
    // torchvision.models.resnet18(): 11,689,512 parameters, 512×7×7 at layer4 for 224×224.
    CHECK(model.num_parameters() == 11689512);
    CHECK((model.layer_shape("layer4") == std::vector<std::size_t>{512, 7, 7}));
    CHECK((model.layer_shape("maxpool") == std::vector<std::size_t>{64, 56, 56}));
    CHECK(model.num_classes() == 1000);
    CHECK(model.feature_layer() == "layer4");
    const auto blocks = model.parameter_blocks();
    CHECK(std::any_of(blocks.begin(), blocks.end(), [](const auto& b) { return b.name == "layer2.0.downsample.0.weight"; }));
    CHECK(blocks.back().name == "fc.bias");
    xai::models::TorchResNetShape bad;
    bad.blocks = {2, 2};
    CHECK_THROWS_WITH(xai::models::torch_resnet(bad), Contains("widths has 4 entries and blocks 2"));
}

TEST_CASE("torch_resnet draws torchvision's random ResNet-18 with TorchResNetInit::torchvision", "[torch][resnet]") {
    nn::Sequential net = xai::models::torch_resnet({}, 0, xai::models::TorchResNetInit::torchvision);
    auto parameter = [&](const std::string& name) { return net->named_parameters()[name].flatten(); };
    // The first values of `torch.manual_seed(0); torchvision.models.resnet18().state_dict()`
    // (Debian's python3-torch 1.13.1 and python3-torchvision 0.14.1; the command is in
    // docs/torch.md): the same draws in the same order, so the same floats.
    const std::vector<std::pair<std::string, std::vector<float>>> torchvision_values = {
        {"conv1.weight", {0.024109674617648125f, 0.007528774905949831f, 0.04665837436914444f, -0.0017881278181448579f}},
        {"layer4.1.conv2.weight", {0.02886549010872841f, 0.011732267215847969f, -0.014587409794330597f}},
        {"fc.bias", {-0.017327722162008286f, -0.04316460341215134f, 0.008684394881129265f}},
    };
    for (const auto& [name, values] : torchvision_values)
        for (std::size_t i = 0; i < values.size(); ++i) {
            INFO(name << "[" << i << "]");
            CHECK(parameter(name)[static_cast<std::int64_t>(i)].item<float>() == values[i]);
        }
    // Kaiming-normal with fan-out: standard deviation √(2 / (out·k·k)); LibTorch's default is
    // 1/√(3·fan_in), 2.4 times smaller for layer1's 3×3 convolutions of 64 → 64 channels.
    const nn::Sequential defaults = xai::models::torch_resnet({}, 0);
    const double expected = std::sqrt(2.0 / (64.0 * 9.0));
    CHECK(parameter("layer1.0.conv1.weight").std().item<double>() == Approx(expected).epsilon(0.03));
    CHECK(defaults->named_parameters()["layer1.0.conv1.weight"].std().item<double>() ==
          Approx(1.0 / std::sqrt(3.0 * 64.0 * 9.0)).epsilon(0.03));
    CHECK(torch::equal(parameter("layer2.0.bn1.weight"), torch::ones({128})));
    CHECK(torch::equal(parameter("layer2.0.bn1.bias"), torch::zeros({128})));
    // What the initialisation is for: outputs that depend on the image, where LibTorch's defaults
    // keep every probability near 1/1000. The largest change of a probability between a black
    // and a grey image at 64×64:
    auto probability_change = [](nn::Sequential model) {
        model->eval();
        torch::NoGradGuard no_grad;
        const torch::Tensor black = torch::softmax(model->forward(torch::zeros({1, 3, 64, 64})), 1);
        const torch::Tensor grey = torch::softmax(model->forward(torch::full({1, 3, 64, 64}, 2.0f)), 1);
        return (black - grey).abs().max().item<double>();
    };
    const double torchvision_change = probability_change(net), libtorch_change = probability_change(defaults);
    INFO("torchvision's initialisation " << torchvision_change << ", LibTorch's " << libtorch_change);
    CHECK(torchvision_change > 20.0 * libtorch_change);  // measured: 0.0074 and 0.000104
}

namespace {
/// What torch.save(dict(model.state_dict()), file) writes: a dict of named tensors, pickled.
void save_tensor_dict(const std::filesystem::path& file, const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [name, tensor] : tensors) dict.insert(name, tensor);
    const std::vector<char> bytes = torch::pickle_save(dict);
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::pair<std::string, torch::Tensor>> state_of(const nn::Module& module) {
    std::vector<std::pair<std::string, torch::Tensor>> state;
    for (const auto& p : module.named_parameters()) state.emplace_back(p.key(), p.value());
    for (const auto& b : module.named_buffers()) state.emplace_back(b.key(), b.value());
    return state;
}
}  // namespace

TEST_CASE("load_state_dict copies a saved dict of tensors into a C++ module by name", "[torch][weights]") {
    nn::Sequential trained = xai_test::tiny_resnet(7);
    const xai_test::TempDir dir("xai-test-torch-weights");
    save_tensor_dict(dir.path / "weights.pt", state_of(*trained));

    nn::Sequential fresh = xai_test::tiny_resnet(8);
    const xai::Batch batch = xai_test::random_batch(2, resnet_input, 30);
    const TorchModel before(fresh, options_for(resnet_input));
    const TorchModel reference(trained, options_for(resnet_input));
    CHECK(max_abs_diff(tensor_of(before.forward(batch)), tensor_of(reference.forward(batch))) > 1e-3);
    xai::models::load_state_dict(*fresh, dir.path / "weights.pt");
    // Parameters and BatchNorm's running statistics, so eval-mode logits are equal too.
    const auto a = state_of(*fresh), b = state_of(*trained);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(torch::equal(a[i].second, b[i].second));
    }
    CHECK(max_abs_diff(tensor_of(TorchModel(fresh, options_for(resnet_input)).forward(batch)),
                       tensor_of(reference.forward(batch))) == 0.0);

    SECTION("bad files") {
        CHECK_THROWS_AS(xai::models::load_state_dict(*fresh, dir.path / "missing.pt"), xai::io_error);
        CHECK_THROWS_WITH(xai::models::load_state_dict(*fresh, dir.path / "missing.pt"),
                          Contains("xai::models::load_state_dict(): '") && Contains("missing.pt' does not exist"));
        std::ofstream(dir.path / "text.pt") << "not a pickle";
        CHECK_THROWS_WITH(xai::models::load_state_dict(*fresh, dir.path / "text.pt"),
                          Contains("is not a file written by torch.save"));
        const std::vector<char> list = torch::pickle_save(c10::List<torch::Tensor>({torch::zeros({2})}));
        std::ofstream(dir.path / "list.pt", std::ios::binary).write(list.data(), static_cast<std::streamsize>(list.size()));
        CHECK_THROWS_WITH(xai::models::load_state_dict(*fresh, dir.path / "list.pt"), Contains("expected a dict of tensors"));
    }
    SECTION("a dict that does not fit the module changes nothing") {
        auto state = state_of(*trained);
        const torch::Tensor fc_bias = state.back().second;
        state.erase(std::find_if(state.begin(), state.end(), [](const auto& e) { return e.first == "layer1.0.conv1.weight"; }));
        state.emplace_back("fc.extra", torch::zeros({3}));
        for (auto& e : state)
            if (e.first == "fc.weight") e.second = torch::zeros({6, 16});
        save_tensor_dict(dir.path / "other.pt", state);
        nn::Sequential target = xai_test::tiny_resnet(9);
        const torch::Tensor untouched = target->named_parameters()["layer1.0.conv1.weight"].clone();
        CHECK_THROWS_AS(xai::models::load_state_dict(*target, dir.path / "other.pt"), xai::invalid_argument);
        CHECK_THROWS_WITH(xai::models::load_state_dict(*target, dir.path / "other.pt"),
                          Contains("does not fit the module") && Contains("'layer1.0.conv1.weight' is missing from the file") &&
                              Contains("'fc.weight' has shape [6, 16] in the file and [5, 16] in the module") &&
                              Contains("'fc.extra' of the file is not a parameter or buffer of the module"));
        CHECK(torch::equal(target->named_parameters()["layer1.0.conv1.weight"], untouched));
        CHECK_FALSE(torch::equal(target->named_parameters()["fc.bias"], fc_bias));
    }
}

TEST_CASE("TorchModel layer activations and gradients equal a full backward pass with bare torch ops", "[torch]") {
    nn::Sequential net = xai_test::tiny_resnet();
    const TorchModel model(net, options_for(resnet_input));
    const xai::Batch batch = xai_test::random_batch(2, resnet_input, 2);
    const std::vector<std::size_t> targets{1, 3};
    const Reference ref = full_backward(net, "layer2", tensor_of(batch), {1, 3});

    const xai::LayerGradients lg = model.layer_gradients(batch, "layer2", one_hot_seed(targets));
    REQUIRE(shape_is(lg.activations, {2, 16, 16, 16}));
    CHECK(max_abs_diff(tensor_of(lg.activations), ref.activations) < 1e-5);
    CHECK(max_abs_diff(tensor_of(lg.gradients), ref.gradients) < 1e-6);
    CHECK(max_abs_diff(tensor_of(lg.scores), ref.logits) < 1e-5);
    CHECK(ref.gradients.abs().max().item<double>() > 1e-4);  // a non-trivial gradient

    const xai::LayerOutput lo = model.layer_activations(batch, "layer2");
    CHECK(max_abs_diff(tensor_of(lo.activations), ref.activations) < 1e-5);
    CHECK(max_abs_diff(tensor_of(lo.scores), ref.logits) < 1e-5);

    // The head alone, from those activations, gives the same logits.
    const xai::Scores from = model.forward_from("layer2", lo.activations);
    CHECK(max_abs_diff(tensor_of(from), ref.logits) < 1e-5);

    // Nested names address the blocks: layer2.1 is the output of layer2.
    const xai::LayerGradients inner = model.layer_gradients(batch, "layer2.1", one_hot_seed(targets));
    CHECK(max_abs_diff(tensor_of(inner.gradients), ref.gradients) < 1e-6);

    // The seed sees the logits of the same forward pass.
    xai::Scores seen;
    (void)model.layer_gradients(batch, "layer1", [&](const xai::Scores& logits) {
        seen = logits;
        return xai::target_score_gradient(logits, targets, xai::ScoreKind::logit);
    });
    CHECK(max_abs_diff(tensor_of(seen), ref.logits) < 1e-5);
}

TEST_CASE("TorchModel input gradients match finite differences", "[torch][gradients]") {
    nn::Sequential net = xai_test::smooth_net();
    const TorchModel model(net, options_for({2, 6, 6}));
    CHECK(model.dtype() == torch::kFloat64);
    const xai::Batch batch = xai_test::random_batch(2, {2, 6, 6}, 5);
    const xai::InputGradients ig = model.input_gradients(batch, one_hot_seed({1, 2}));
    REQUIRE(ig.gradients.shape() == batch.shape());
    // Directional derivative along a random direction d, per image: ⟨∇x y_c, d⟩ against
    // (y_c(x + εd) − y_c(x − εd)) / 2ε. The batch is float, so ε is large and the tolerance loose.
    const xai::Batch d = xai_test::random_batch(2, {2, 6, 6}, 6);
    const float eps = 1e-2f;
    const xai::Scores plus = model.forward(xai::Batch(batch + eps * d));
    const xai::Scores minus = model.forward(xai::Batch(batch - eps * d));
    for (std::size_t i = 0; i < 2; ++i) {
        double analytic = 0.0;
        for (std::size_t j = 0; j < 72; ++j) analytic += double(ig.gradients.data()[i * 72 + j]) * d.data()[i * 72 + j];
        const std::size_t c = i == 0 ? 1 : 2;
        const double numeric = (double(plus(i, c)) - double(minus(i, c))) / (2.0 * eps);
        CHECK(analytic == Approx(numeric).epsilon(2e-3).margin(1e-5));
    }
}

TEST_CASE("TorchModel loss gradients, Hessian-vector products and the Hessian match finite differences", "[torch][influence]") {
    nn::Sequential net = xai_test::smooth_net();
    TorchOptions options = options_for({2, 6, 6});
    options.l2_regularization = 0.01;
    TorchModel model(net, options);
    const xai::Batch batch = xai_test::random_batch(4, {2, 6, 6}, 7);
    const xai::Labels labels{0, 2, 1, 2};
    const std::size_t p = model.num_parameters();
    REQUIRE(p == 3 * 2 * 9 + 3 + 4 * 3 * 9 + 4 + 3 * 4 + 3);
    const std::vector<xai::ParameterBlock> blocks = model.parameter_blocks();
    REQUIRE(blocks.size() == 6);
    CHECK(blocks[0].name == "conv1.weight");
    CHECK(blocks[5].name == "fc.bias");
    CHECK(blocks[5].offset + blocks[5].size == p);
    const Eigen::VectorXd theta = model.parameters();
    CHECK(theta.segment(blocks[5].offset, 3).isApprox(xai::models::to_eigen(net->named_parameters()["fc.bias"])));

    // ∇F(θ) = mean of the per-example gradients + λθ.
    auto gradient = [&](const TorchModel& m) {
        return Eigen::VectorXd(m.per_example_loss_gradients(batch, labels).rowwise().mean() + 0.01 * m.parameters());
    };
    Eigen::VectorXd v(static_cast<Eigen::Index>(p));
    xai::Rng rng(3);
    for (Eigen::Index i = 0; i < v.size(); ++i) v[i] = rng.normal();
    const Eigen::VectorXd hv = model.loss_hessian_vector_product(batch, labels, v);
    const double eps = 1e-5;
    model.set_parameters(theta + eps * v);
    const Eigen::VectorXd g_plus = gradient(model);
    const Eigen::VectorXd losses_plus = model.per_example_losses(batch, labels);
    model.set_parameters(theta - eps * v);
    const Eigen::VectorXd g_minus = gradient(model);
    const Eigen::VectorXd losses_minus = model.per_example_losses(batch, labels);
    model.set_parameters(theta);
    CHECK(model.parameters() == theta);
    const Eigen::VectorXd numeric_hv = (g_plus - g_minus) / (2 * eps);
    CHECK((hv - numeric_hv).norm() <= 1e-6 * numeric_hv.norm());
    CHECK(hv.norm() > 1e-3);

    // Each per-example gradient against the central difference of its loss along v.
    const Eigen::MatrixXd grads = model.per_example_loss_gradients(batch, labels);
    REQUIRE(grads.rows() == static_cast<Eigen::Index>(p));
    REQUIRE(grads.cols() == 4);
    for (Eigen::Index i = 0; i < 4; ++i)
        CHECK(grads.col(i).dot(v) == Approx((losses_plus[i] - losses_minus[i]) / (2 * eps)).epsilon(1e-6));

    // The per-example losses are the cross-entropy of the logits.
    const xai::Scores logits = model.forward(batch);
    const xai::Scores log_p = xai::log_softmax(logits);
    const Eigen::VectorXd losses = model.per_example_losses(batch, labels);
    for (std::size_t i = 0; i < 4; ++i) CHECK(losses[static_cast<Eigen::Index>(i)] == Approx(-log_p(i, labels[i])).epsilon(1e-5));

    // The dense Hessian: symmetric, H v equals the Hessian-vector product.
    const Eigen::MatrixXd h = model.loss_hessian(batch, labels);
    CHECK((h - h.transpose()).norm() == 0.0);
    CHECK((h * v - hv).norm() <= 1e-9 * hv.norm());
}

TEST_CASE("A torch logistic regression equals the built-in logistic regression on the same data and weights", "[torch][influence]") {
    const xai::ImageShape shape{1, 3, 3};
    const xai::Batch train = xai_test::random_batch(30, shape, 8);
    xai::Labels labels(30);
    for (std::size_t i = 0; i < 30; ++i) labels[i] = (train(i, 0, 0, 0) > 0 ? 1 : 0) + (train(i, 0, 1, 1) > 0.5 ? 1 : 0);
    xai::models::LogisticRegression builtin = xai::models::LogisticRegression::multinomial(shape, 3, 0.05);
    REQUIRE(builtin.fit(train, labels).converged);

    torch::manual_seed(0);
    nn::Sequential net;
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(9, 3));
    net->to(torch::kFloat64);
    TorchOptions options = options_for(shape);
    options.l2_regularization = 0.05;
    TorchModel model(net, options);
    // θ = (W row-major, b) in both: Linear's weight is 3×9 row-major, then its bias.
    REQUIRE(model.num_parameters() == builtin.num_parameters());
    model.set_parameters(builtin.parameters());
    CHECK((xai::models::to_eigen(net->named_parameters()["fc.bias"]) - builtin.parameters().tail(3)).norm() == 0.0);

    const xai::Batch test = xai_test::random_batch(5, shape, 9);
    const xai::Labels test_labels{0, 1, 2, 1, 0};
    CHECK(max_abs_diff(tensor_of(model.forward(test)), tensor_of(builtin.forward(test))) < 1e-5);
    CHECK((model.per_example_losses(test, test_labels) - builtin.per_example_losses(test, test_labels)).norm() < 1e-10);
    CHECK((model.per_example_loss_gradients(train, labels) - builtin.per_example_loss_gradients(train, labels)).norm() < 1e-10);
    Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(30, -1.0, 2.0);
    CHECK((model.loss_hessian_vector_product(train, labels, v) - builtin.loss_hessian_vector_product(train, labels, v)).norm() <
          1e-10);
    CHECK((model.loss_hessian(train, labels) - builtin.loss_hessian(train, labels)).norm() < 1e-10);
    CHECK(model.l2_regularization() == builtin.l2_regularization());
}

TEST_CASE("The built-in CNN converted to LibTorch gives the built-in CNN's logits and every gradient", "[torch][builtin]") {
    // Two independent implementations of the same network: xai's Eigen CNN (backpropagation and
    // Pearlmutter's R-operator written by hand) and LibTorch's autograd, in double precision.
    const xai::models::BasicSequential<double> builtin(xai::models::builtin_architecture("fashion", 2));
    nn::Sequential net = xai::models::to_torch_sequential(builtin);
    const TorchModel model(net, options_for(builtin.input_shape()));
    CHECK(model.dtype() == torch::kFloat64);
    CHECK(model.num_parameters() == builtin.num_parameters());
    CHECK(model.feature_layer() == builtin.feature_layer());
    CHECK((model.parameters() - builtin.parameters()).norm() == 0.0);
    const xai::Batch batch = xai_test::random_batch(3, builtin.input_shape(), 22);
    const xai::Labels labels{3, 7, 0};

    CHECK(max_abs_diff(tensor_of(model.forward(batch)), tensor_of(builtin.forward(batch))) < 1e-5);
    const xai::LayerGradients a = model.layer_gradients(batch, "relu2", one_hot_seed({1, 2, 3}));
    const xai::LayerGradients b = builtin.layer_gradients(batch, "relu2", one_hot_seed({1, 2, 3}));
    CHECK(max_abs_diff(tensor_of(a.activations), tensor_of(b.activations)) < 1e-5);
    CHECK(max_abs_diff(tensor_of(a.gradients), tensor_of(b.gradients)) < 1e-6);
    CHECK(max_abs_diff(tensor_of(model.input_gradients(batch, one_hot_seed({4, 4, 4})).gradients),
                       tensor_of(builtin.input_gradients(batch, one_hot_seed({4, 4, 4})).gradients)) < 1e-6);
    const Eigen::MatrixXd ga = model.per_example_loss_gradients(batch, labels);
    const Eigen::MatrixXd gb = builtin.per_example_loss_gradients(batch, labels);
    CHECK((ga - gb).norm() <= 1e-9 * gb.norm());
    const Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(static_cast<Eigen::Index>(model.num_parameters()), -1.0, 1.0);
    const Eigen::VectorXd ha = model.loss_hessian_vector_product(batch, labels, v);
    const Eigen::VectorXd hb = builtin.loss_hessian_vector_product(batch, labels, v);
    CHECK((ha - hb).norm() <= 1e-9 * hb.norm());
}

TEST_CASE("The built-in CNN exported to TorchScript loads in both forms and equals the Sequential export", "[torch][builtin][torchscript]") {
    const xai::models::Sequential builtin = xai::models::builtin_architecture("scenes", 4);
    const TorchModel reference(xai::models::to_torch_sequential(builtin), options_for(builtin.input_shape()));
    const xai_test::TempDir dir("xai-test-torch-export");
    xai::models::to_torchscript(builtin, "relu3").save((dir.path / "single.pt").string());
    const auto pair = xai::models::to_torchscript_pair(builtin, "relu3");
    pair.first.save((dir.path / "features.pt").string());
    pair.second.save((dir.path / "head.pt").string());
    TorchOptions options = options_for(builtin.input_shape());
    options.script_layer = "relu3";
    const TorchModel single = TorchModel::load_torchscript(dir.path / "single.pt", options);
    const TorchModel split = TorchModel::load_torchscript_pair(dir.path / "features.pt", dir.path / "head.pt", options);
    CHECK(single.num_parameters() == builtin.num_parameters());
    CHECK(split.parameter_blocks().back().name == "head.fc.bias");
    CHECK((single.layer_shape("relu3") == std::vector<std::size_t>{64, 16, 16}));

    const xai::Batch batch = xai_test::random_batch(2, builtin.input_shape(), 23);
    const xai::LayerGradients expected = reference.layer_gradients(batch, "relu3", one_hot_seed({5, 6}));
    for (const TorchModel* m : {&single, &split}) {
        INFO(m->form());
        const xai::LayerGradients lg = m->layer_gradients(batch, "relu3", one_hot_seed({5, 6}));
        CHECK(max_abs_diff(tensor_of(lg.scores), tensor_of(expected.scores)) < 1e-5);
        CHECK(max_abs_diff(tensor_of(lg.gradients), tensor_of(expected.gradients)) < 1e-6);
        CHECK(max_abs_diff(tensor_of(m->forward_from("relu3", expected.activations)), tensor_of(expected.scores)) < 1e-5);
    }
    CHECK_THROWS_WITH(xai::models::to_torchscript(builtin, "conv9"), Contains("conv9"));
}

TEST_CASE("A C++ module with layer splits gives what the same network as a Sequential gives", "[torch]") {
    nn::Sequential net = xai_test::tiny_resnet(7);
    xai_test::ResNetModule custom(net);
    auto m = custom.ptr();
    std::vector<xai::models::TorchLayerSplit> splits{
        {"layer1", [m](const torch::Tensor& x) { return m->layer1->forward(m->stem(x)); },
         [m](const torch::Tensor& a) { return m->head(m->layer2->forward(a)); }},
        {"layer2", [m](const torch::Tensor& x) { return m->layer2->forward(m->layer1->forward(m->stem(x))); },
         [m](const torch::Tensor& a) { return m->head(a); }},
    };
    TorchOptions options = options_for(resnet_input);
    options.feature_layer = "layer2";
    const TorchModel split(custom.ptr(), splits, options, [m](const torch::Tensor& x) { return m->forward(x); });
    const TorchModel sequential(net, options_for(resnet_input));
    CHECK((split.layer_names() == std::vector<std::string>{"layer1", "layer2"}));
    CHECK(split.classifier_weight_name() == "fc.weight");
    CHECK(split.num_parameters() == sequential.num_parameters());

    const xai::Batch batch = xai_test::random_batch(2, resnet_input, 10);
    CHECK(max_abs_diff(tensor_of(split.forward(batch)), tensor_of(sequential.forward(batch))) < 1e-6);
    for (const std::string layer : {"layer1", "layer2"}) {
        const xai::LayerGradients a = split.layer_gradients(batch, layer, one_hot_seed({0, 2}));
        const xai::LayerGradients b = sequential.layer_gradients(batch, layer, one_hot_seed({0, 2}));
        CHECK(max_abs_diff(tensor_of(a.activations), tensor_of(b.activations)) < 1e-6);
        CHECK(max_abs_diff(tensor_of(a.gradients), tensor_of(b.gradients)) < 1e-6);
    }
    const xai::FeatureOutput fa = split.forward_features(batch);
    const xai::FeatureOutput fb = sequential.forward_features(batch);
    CHECK(max_abs_diff(tensor_of(fa.features), tensor_of(fb.features)) < 1e-6);
}

namespace {

/// conv 3×3 (3 → 4 channels, padding 1) + ReLU, then GAP + linear (4 → 3): as a C++ Sequential
/// and as TorchScript modules with the same weights, built from TorchScript source in C++.
struct ScriptFixture {
    nn::Sequential net;
    torch::Tensor conv_w, conv_b, fc_w, fc_b;
    ScriptFixture() {
        torch::manual_seed(21);
        net->push_back("conv", nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)));
        net->push_back("relu", nn::ReLU());
        net->push_back("gap", nn::AdaptiveAvgPool2d(1));
        net->push_back("flatten", nn::Flatten());
        net->push_back("fc", nn::Linear(4, 3));
        auto params = net->named_parameters();
        conv_w = params["conv.weight"].detach().clone();
        conv_b = params["conv.bias"].detach().clone();
        fc_w = params["fc.weight"].detach().clone();
        fc_b = params["fc.bias"].detach().clone();
    }
    static constexpr const char* features_source = R"JIT(
def forward(self, x):
    return torch.relu(torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1]))
)JIT";
    static constexpr const char* head_source = R"JIT(
def forward(self, a):
    return torch.matmul(a.mean([2, 3]), self.weight.t()) + self.bias
)JIT";
    torch::jit::Module features() const {
        torch::jit::Module m("Features");
        m.register_parameter("weight", conv_w.clone(), false);
        m.register_parameter("bias", conv_b.clone(), false);
        m.define(features_source);
        return m;
    }
    torch::jit::Module head() const {
        torch::jit::Module m("Head");
        m.register_parameter("weight", fc_w.clone(), false);
        m.register_parameter("bias", fc_b.clone(), false);
        m.define(head_source);
        return m;
    }
    torch::jit::Module single(bool with_head) const {
        torch::jit::Module m("Single");
        m.register_parameter("conv_weight", conv_w.clone(), false);
        m.register_parameter("conv_bias", conv_b.clone(), false);
        torch::jit::Module fc("Fc");
        fc.register_parameter("weight", fc_w.clone(), false);
        fc.register_parameter("bias", fc_b.clone(), false);
        m.register_module("fc", fc);
        std::string source = R"JIT(
def forward(self, x):
    a = torch.relu(torch.conv2d(x, self.conv_weight, self.conv_bias, [1, 1], [1, 1]))
    return torch.matmul(a.mean([2, 3]), self.fc.weight.t()) + self.fc.bias, a
)JIT";
        if (with_head) source += R"JIT(
def head(self, a):
    return torch.matmul(a.mean([2, 3]), self.fc.weight.t()) + self.fc.bias
)JIT";
        m.define(source);
        return m;
    }
};

torch::jit::Module scripted(const std::string& name, const std::string& source) {
    torch::jit::Module m(name);
    m.register_parameter("weight", torch::ones({3, 3}), false);
    m.define(source);
    return m;
}

}  // namespace

TEST_CASE("TorchScript pair and single forms, saved and loaded, equal the C++ network", "[torch][torchscript]") {
    const ScriptFixture fx;
    const xai_test::TempDir dir("xai-test-torch");
    fx.features().save((dir.path / "features.pt").string());
    fx.head().save((dir.path / "head.pt").string());
    fx.single(true).save((dir.path / "single.pt").string());
    fx.single(false).save((dir.path / "single_no_head.pt").string());

    const xai::ImageShape shape{3, 8, 8};
    const TorchModel reference(fx.net, options_for(shape));
    const TorchModel pair = TorchModel::load_torchscript_pair(dir.path / "features.pt", dir.path / "head.pt", options_for(shape));
    const TorchModel single = TorchModel::load_torchscript(dir.path / "single.pt", options_for(shape));
    const TorchModel no_head = TorchModel::load_torchscript(dir.path / "single_no_head.pt", options_for(shape));
    CHECK((pair.layer_names() == std::vector<std::string>{"features"}));
    CHECK(pair.classifier_weight_name() == "head.weight");
    CHECK(single.classifier_weight_name() == "fc.weight");
    CHECK(pair.num_parameters() == reference.num_parameters());
    CHECK(pair.parameter_blocks()[0].name == "features.weight");

    const xai::Batch batch = xai_test::random_batch(2, shape, 12);
    const torch::Tensor logits = tensor_of(reference.forward(batch));
    const xai::LayerGradients expected = reference.layer_gradients(batch, "relu", one_hot_seed({2, 0}));
    for (const TorchModel* m : {&pair, &single, &no_head}) {
        INFO(m->form());
        CHECK(m->num_classes() == 3);
        CHECK(max_abs_diff(tensor_of(m->forward(batch)), logits) < 1e-5);
        const xai::LayerGradients lg = m->layer_gradients(batch, "features", one_hot_seed({2, 0}));
        CHECK(max_abs_diff(tensor_of(lg.activations), tensor_of(expected.activations)) < 1e-5);
        CHECK(max_abs_diff(tensor_of(lg.gradients), tensor_of(expected.gradients)) < 1e-6);
        const xai::FeatureOutput fo = m->forward_features(batch);
        CHECK(max_abs_diff(tensor_of(fo.features), tensor_of(expected.activations)) < 1e-5);
        CHECK(max_abs_diff(tensor_of(m->classifier_weights()), fx.fc_w) == 0.0);
        const xai::InputGradients ig = m->input_gradients(batch, one_hot_seed({2, 0}));
        const xai::InputGradients ig_ref = reference.input_gradients(batch, one_hot_seed({2, 0}));
        CHECK(max_abs_diff(tensor_of(ig.gradients), tensor_of(ig_ref.gradients)) < 1e-6);
        const xai::Labels labels{1, 2};
        CHECK((m->per_example_loss_gradients(batch, labels) - reference.per_example_loss_gradients(batch, labels)).norm() < 1e-5);
    }
    CHECK(max_abs_diff(tensor_of(pair.forward_from("features", expected.activations)), logits) < 1e-5);
    CHECK(max_abs_diff(tensor_of(single.forward_from("features", expected.activations)), logits) < 1e-5);
    CHECK_THROWS_AS(no_head.forward_from("features", expected.activations), xai::model_error);
    CHECK_THROWS_WITH(no_head.forward_from("features", expected.activations), Contains("no method head(activations)"));
}

TEST_CASE("TorchModel refuses bad input with messages that name the function and the argument", "[torch][errors]") {
    nn::Sequential net = xai_test::gap_linear_net();
    const xai::ImageShape shape{3, 12, 12};
    const TorchModel model(net, options_for(shape));
    const xai::Batch batch = xai_test::random_batch(2, shape, 13);

    SECTION("wrong layer name") {
        CHECK_THROWS_AS(model.layer_activations(batch, "conv9"), xai::invalid_argument);
        CHECK_THROWS_WITH(model.layer_gradients(batch, "conv9", one_hot_seed({0, 0})),
                          Contains("TorchModel::layer_gradients(): layer 'conv9' is not a layer of the model") &&
                              Contains("[conv1, relu1, conv2"));
        CHECK_THROWS_AS(model.forward_from("conv9", xt::zeros<float>({2, 8, 6, 6})), xai::invalid_argument);
        TorchOptions o = options_for(shape);
        o.feature_layer = "conv9";
        CHECK_THROWS_WITH(TorchModel(net, o), Contains("options.feature_layer is 'conv9'"));
        o = options_for(shape);
        o.classifier = "head";
        CHECK_THROWS_WITH(TorchModel(net, o), Contains("options.classifier is 'head'") && Contains("fc.weight"));
        o = options_for(shape);
        o.parameters = {"fc", "conv3"};
        CHECK_THROWS_WITH(TorchModel(net, o), Contains("options.parameters names 'conv3'"));
    }
    SECTION("wrong input size") {
        CHECK_THROWS_AS(model.forward(xai_test::random_batch(1, {3, 10, 12}, 1)), xai::shape_error);
        CHECK_THROWS_WITH(model.layer_gradients(xai_test::random_batch(1, {1, 12, 12}, 1), "conv1", one_hot_seed({0})),
                          Contains("TorchModel::layer_gradients(): images are 1x12x12, the model expects 3x12x12"));
        CHECK_THROWS_AS(model.forward(xai::Batch::from_shape({0, 3, 12, 12})), xai::shape_error);
        xai::Batch nan = batch;
        nan(1, 0, 0, 0) = std::nanf("");
        CHECK_THROWS_AS(model.forward(nan), xai::invalid_argument);
        // An input shape the network cannot take: found by the construction's forward pass.
        CHECK_THROWS_AS(TorchModel(net, options_for({4, 12, 12})), xai::model_error);
        CHECK_THROWS_WITH(TorchModel(net, options_for({4, 12, 12})), Contains("TorchModel::TorchModel(Sequential): LibTorch failed"));
        CHECK_THROWS_AS(TorchModel(net, options_for({0, 12, 12})), xai::shape_error);
        TorchOptions o = options_for(shape);
        o.num_classes = 10;
        CHECK_THROWS_WITH(TorchModel(net, o), Contains("options.num_classes is 10 but the model returns 4 logits"));
        // Activations for forward_from of the wrong shape.
        CHECK_THROWS_WITH(model.forward_from("relu2", xt::zeros<float>({2, 8, 5, 6})),
                          Contains("activations have shape [2, 8, 5, 6], expected [N, 8, 6, 6]"));
    }
    SECTION("bad labels, vectors and seeds") {
        CHECK_THROWS_AS(model.per_example_losses(batch, {0}), xai::shape_error);
        CHECK_THROWS_WITH(model.per_example_loss_gradients(batch, {0, 4}), Contains("labels[1] is 4"));
        CHECK_THROWS_AS(model.loss_hessian_vector_product(batch, {0, 1}, Eigen::VectorXd::Zero(3)), xai::shape_error);
        CHECK_THROWS_AS(model.layer_gradients(batch, "conv2", xai::ScoreSeed{}), xai::invalid_argument);
        CHECK_THROWS_WITH(model.layer_gradients(batch, "conv2", [](const xai::Scores&) { return xai::Scores(xt::ones<float>({1, 4})); }),
                          Contains("the seed returned shape [1, 4], expected [2, 4]"));
        TorchModel copy = model;
        CHECK_THROWS_AS(copy.set_parameters(Eigen::VectorXd::Zero(2)), xai::shape_error);
    }
    SECTION("a TorchScript file that does not exist or returns the wrong structure") {
        const xai_test::TempDir dir("xai-test-torch-bad");
        CHECK_THROWS_AS(TorchModel::load_torchscript(dir.path / "missing.pt", options_for({3, 3, 3})), xai::io_error);
        CHECK_THROWS_WITH(TorchModel::load_torchscript(dir.path / "missing.pt", options_for({3, 3, 3})),
                          Contains("missing.pt' does not exist"));
        std::ofstream(dir.path / "garbage.pt") << "not a zip archive";
        CHECK_THROWS_AS(TorchModel::load_torchscript_pair(dir.path / "garbage.pt", dir.path / "garbage.pt", options_for({3, 3, 3})),
                        xai::io_error);

        scripted("Tensor", "def forward(self, x):\n    return torch.matmul(x.mean([2]), self.weight)\n")
            .save((dir.path / "tensor.pt").string());
        scripted("Triple", "def forward(self, x):\n    y = torch.matmul(x.mean([2]), self.weight)\n    return y.mean([1]), x, x\n")
            .save((dir.path / "triple.pt").string());
        CHECK_THROWS_AS(TorchModel::load_torchscript(dir.path / "tensor.pt", options_for({3, 3, 3})), xai::model_error);
        CHECK_THROWS_WITH(TorchModel::load_torchscript(dir.path / "tensor.pt", options_for({3, 3, 3})),
                          Contains("returned a Tensor, expected a tuple (logits, activations)"));
        CHECK_THROWS_WITH(TorchModel::load_torchscript(dir.path / "triple.pt", options_for({3, 3, 3})),
                          Contains("returned a tuple of 3 values"));
        // A pair whose features module returns a tuple.
        scripted("Pair", "def forward(self, x):\n    return x, x\n").save((dir.path / "tuple.pt").string());
        CHECK_THROWS_WITH(TorchModel::load_torchscript_pair(dir.path / "tuple.pt", dir.path / "tensor.pt", options_for({3, 3, 3})),
                          Contains("features module returned a Tuple, expected a tensor"));
    }
    SECTION("CAM on a head that is not GAP + linear, non-finite outputs") {
        nn::Sequential maxpool;
        torch::manual_seed(1);
        maxpool->push_back("conv", nn::Conv2d(nn::Conv2dOptions(3, 4, 3)));
        maxpool->push_back("pool", nn::AdaptiveMaxPool2d(1));
        maxpool->push_back("flatten", nn::Flatten());
        maxpool->push_back("fc", nn::Linear(4, 2));
        TorchOptions o = options_for({3, 5, 5});
        o.feature_layer = "conv";
        const TorchModel not_gap(maxpool, o);
        CHECK_THROWS_WITH(not_gap.forward_features(xai_test::random_batch(1, {3, 5, 5}, 1)),
                          Contains("the head is not global average pooling + that linear layer"));
        const TorchModel no_feature(maxpool, options_for({3, 5, 5}));
        CHECK_THROWS_WITH(no_feature.forward_features(xai_test::random_batch(1, {3, 5, 5}, 1)),
                          Contains("set TorchOptions::feature_layer"));

        nn::Sequential log_net;
        log_net->push_back("flatten", nn::Flatten());
        log_net->push_back("log", nn::Functional([](const torch::Tensor& x) { return torch::log(x); }));
        const TorchModel logs(log_net, options_for({1, 1, 2}));
        xai::Batch negative = xt::ones<float>({1, 1, 1, 2});
        negative(0, 0, 0, 1) = -1.0f;
        CHECK_THROWS_WITH(logs.forward(negative), Contains("TorchModel::forward(): the model returned NaN or Inf scores"));
    }
}

TEST_CASE("Tensor conversions are zero-copy from xtensor and exact both ways", "[torch][tensor]") {
    const xai::Batch batch = xai_test::random_batch(2, {3, 4, 5}, 14);
    const torch::Tensor view = xai::models::as_torch(batch);
    CHECK(view.data_ptr<float>() == batch.data());
    CHECK(view.sizes() == torch::IntArrayRef({2, 3, 4, 5}));
    CHECK((xai::models::to_xtensor<4>(view) == batch));
    // A transposed (non-contiguous) or double tensor is converted first.
    const torch::Tensor m = torch::arange(6, torch::kFloat64).view({2, 3});
    const xt::xtensor<float, 2> mt = xai::models::to_xtensor<2>(m.t());
    CHECK(mt(2, 1) == 5.0f);
    CHECK(mt(0, 1) == 3.0f);
    CHECK(shape_is(xai::models::to_xarray(m), {2, 3}));
    CHECK_THROWS_AS(xai::models::to_xtensor<3>(m), xai::shape_error);
    const Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(5, 0.0, 1.0);
    CHECK(xai::models::to_eigen(xai::models::to_torch(v)) == v);
    Eigen::MatrixXd a(2, 3);
    a << 1, 2, 3, 4, 5, 6;
    CHECK(xai::models::to_torch(a)[1][0].item<double>() == 4.0);  // row-major
}

TEST_CASE("Preprocessing resizes, normalizes with ImageNet statistics and batches", "[torch][preprocess]") {
    xai::Image image = xt::zeros<float>({3, 4, 4});
    for (std::size_t c = 0; c < 3; ++c) xt::view(image, c) = 0.25f * static_cast<float>(c + 1);
    xai::Preprocessing prep;
    prep.height = 2;
    prep.width = 2;
    const xai::Image resized = prep.resize(image);
    CHECK((resized == xai::resize(image, 2, 2)));
    const xai::Batch b = prep.batch({image, image});
    REQUIRE(shape_is(b, {2, 3, 2, 2}));
    // (x − mean_c) / std_c with torchvision's ImageNet statistics.
    CHECK(b(1, 0, 1, 1) == Approx((0.25 - 0.485) / 0.229).epsilon(1e-6));
    CHECK(b(0, 1, 0, 0) == Approx((0.50 - 0.456) / 0.224).epsilon(1e-6));
    CHECK(b(0, 2, 1, 0) == Approx((0.75 - 0.406) / 0.225).epsilon(1e-6));
    xai::Preprocessing grey;
    grey.mean = {0.5f};
    grey.std = {0.5f};
    CHECK(grey.normalize(xt::ones<float>({1, 2, 2}))(0, 0, 0) == 1.0f);
    xai::Preprocessing bad;
    bad.std = {0.2f, 0.0f, 0.2f};
    CHECK_THROWS_WITH(bad.normalize(image), Contains("channel 1 has mean 0.456 and std 0, expected a finite mean and a std > 0"));
    bad.std = {0.2f, 0.2f};
    CHECK_THROWS_AS(bad.normalize(image), xai::shape_error);
    CHECK_THROWS_AS(prep.batch({}), xai::shape_error);
}

TEST_CASE("TorchModel calls from several threads at once give the serial results", "[torch][threads]") {
    nn::Sequential net = xai_test::smooth_net();
    const TorchModel model(net, options_for({2, 6, 6}));
    const xai::Batch batch = xai_test::random_batch(3, {2, 6, 6}, 15);
    const xai::Labels labels{0, 1, 2};
    const xai::LayerGradients lg = model.layer_gradients(batch, "tanh2", one_hot_seed({0, 1, 2}));
    const Eigen::MatrixXd grads = model.per_example_loss_gradients(batch, labels);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int r = 0; r < 5; ++r) {
                if (t % 2 == 0) {
                    const xai::LayerGradients mine = model.layer_gradients(batch, "tanh2", one_hot_seed({0, 1, 2}));
                    if (!(mine.gradients == lg.gradients) || !(mine.activations == lg.activations)) ++mismatches;
                } else if (model.per_example_loss_gradients(batch, labels) != grads) {
                    ++mismatches;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(mismatches == 0);
    for (const auto& p : net->parameters()) CHECK_FALSE(p.requires_grad());  // θ is frozen again
}

TEST_CASE("TorchOptions::threads sets LibTorch's threads and OpenBLAS's pool, 0 leaves both alone", "[torch][threads]") {
    // Each TEST_CASE runs in a process of its own under ctest, so the process-wide counts set here
    // reach no other test.
    nn::Sequential net = xai_test::smooth_net();
    const xai::ImageShape shape{2, 6, 6};
    const bool openblas = xai::models::blas_threads().has_value();
    // Without OpenBLAS (the reference BLAS has no pool), there is nothing to set, and saying so
    // is the whole answer.
    CHECK(xai::models::set_blas_threads(3) == openblas);
    for (const std::size_t threads : {std::size_t{2}, std::size_t{1}}) {
        TorchOptions o = options_for(shape);
        o.threads = threads;
        const TorchModel model(net, o);
        CHECK(at::get_num_threads() == static_cast<int>(threads));
        if (openblas) CHECK(xai::models::blas_threads() == static_cast<int>(threads));
    }
    TorchOptions o = options_for(shape);
    o.threads = 0;
    const TorchModel model(net, o);
    CHECK(at::get_num_threads() == 1);
    if (openblas) CHECK(xai::models::blas_threads() == 1);

    SECTION("bad counts are refused, naming the argument") {
        o.threads = std::size_t{1} << 40;
        CHECK_THROWS_AS(TorchModel(net, o), xai::invalid_argument);
        CHECK_THROWS_WITH(TorchModel(net, o), Contains("options.threads is 1099511627776, expected at most 2147483647"));
        CHECK_THROWS_WITH(xai::models::set_blas_threads(0), Contains("set_blas_threads: threads is 0, expected a positive count"));
    }
}
