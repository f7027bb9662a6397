// Tests of the ONNX adapter (include/xai/onnx.hpp): the ONNX writer (export_onnx) against the
// built-in CNN and, with LibTorch, against a torch ResNet (TorchModel), run through OpenCV's DNN
// module (OnnxModel): logits and layer activations equal the exporting model's within float
// tolerance; bad files are refused naming the path; concurrent calls equal serial ones.
#if XAI_TEST_WITH_TORCH
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#include "xai/models/onnx/export_torch.hpp"
#endif

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "xai/models/builtin.hpp"
#include "xai/models/sequential.hpp"
#include "xai/onnx.hpp"

using Catch::Matchers::Contains;
using xai::models::OnnxModel;

namespace {

struct Dir {
    std::filesystem::path path;
    explicit Dir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~Dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    Dir(const Dir&) = delete;
    Dir& operator=(const Dir&) = delete;
};

xai::Batch batch_of(std::size_t n, xai::ImageShape s, std::uint64_t seed) {
    xai::Rng rng(seed);
    xai::Batch b = xai::Batch::from_shape({n, s.channels, s.height, s.width});
    for (float& v : b) v = static_cast<float>(rng.uniform());
    return b;
}

/// max |a − b| / (1 + max |b|): float32 arithmetic in a different order (OpenCV's convolution
/// and GEMM kernels against Eigen's or LibTorch's) agrees to a few float ulps of the largest value.
template <class A, class B>
double relative_difference(const A& a, const B& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
        scale = std::max(scale, std::abs(double(b.data()[i])));
    }
    return diff / (1.0 + scale);
}

}  // namespace

TEST_CASE("export_onnx + OnnxModel give the built-in CNN's logits and layer activations", "[onnx]") {
    const Dir dir("xai-test-onnx");
    for (const std::string name : {"fashion", "scenes"}) {
        INFO(name);
        const xai::models::Sequential net = xai::models::builtin_architecture(name, 3);
        const auto file = dir.path / (name + ".onnx");
        xai::models::export_onnx(net, file);
        const OnnxModel onnx = OnnxModel::load(file);  // the input shape read from the file
        CHECK(onnx.input_shape() == net.input_shape());
        CHECK(onnx.num_classes() == 10);
        for (const std::string& layer : net.layer_names()) {
            INFO(layer);
            const auto names = onnx.layer_names();
            CHECK(std::find(names.begin(), names.end(), layer) != names.end());
        }
        CHECK(onnx.output_name() == "fc");
        // 40 images: more than one chunk of 32, so chunking is exercised.
        const xai::Batch batch = batch_of(40, net.input_shape(), 5);
        const xai::Scores expected = net.forward(batch);
        CHECK(relative_difference(onnx.forward(batch), expected) < 1e-5);
        for (const std::string layer : {"conv1", "relu3", "pool2"}) {
            INFO(layer);
            const xai::LayerOutput a = onnx.layer_activations(batch, layer);
            const xai::LayerOutput b = net.layer_activations(batch, layer);
            REQUIRE(a.activations.shape() == b.activations.shape());
            CHECK(relative_difference(a.activations, b.activations) < 1e-5);
            CHECK(relative_difference(a.scores, expected) < 1e-5);
        }
    }
}

TEST_CASE("OnnxModel refuses bad files and inputs, naming the path and the argument", "[onnx][errors]") {
    const Dir dir("xai-test-onnx-bad");
    CHECK_THROWS_AS(OnnxModel::load(dir.path / "missing.onnx"), xai::io_error);
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "missing.onnx"),
                      Contains("xai::models::OnnxModel::load(): '") && Contains("missing.onnx' does not exist"));
    std::ofstream(dir.path / "text.onnx") << "this is not protobuf";
    CHECK_THROWS_AS(OnnxModel::load(dir.path / "text.onnx"), xai::io_error);
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "text.onnx"), Contains("text.onnx' is not an ONNX model"));

    // A well-formed file OpenCV cannot run: an operator it does not know.
    xai::models::onnx::OnnxGraph g;
    g.input("x", {-1, 1, 2, 2});
    g.node("NoSuchOperator", {"x"}, {"y"});
    g.output("y", {-1, 1, 2, 2});
    g.save(dir.path / "unknown_op.onnx", "bad", "test");
    CHECK_THROWS_AS(OnnxModel::load(dir.path / "unknown_op.onnx"), xai::io_error);
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "unknown_op.onnx"), Contains("OpenCV cannot read '"));

    // A symbolic spatial size: the input shape must then be given.
    xai::models::onnx::OnnxGraph any;
    any.input("x", {-1, 3, -1, -1});
    any.node("GlobalAveragePool", {"x"}, {"pool"});
    any.node("Flatten", {"pool"}, {"logits"}, {xai::models::onnx::OnnxGraph::int_attribute("axis", 1)});
    any.output("logits", {-1, 3});
    any.save(dir.path / "any_size.onnx", "gap", "test");
    CHECK_THROWS_AS(OnnxModel::load(dir.path / "any_size.onnx"), xai::shape_error);
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "any_size.onnx"),
                      Contains("declares input 'x' of shape [?, 3, ?, ?]") && Contains("set OnnxOptions::input_shape"));
    xai::models::OnnxOptions o;
    o.input_shape = {3, 5, 7};
    const OnnxModel gap = OnnxModel::load(dir.path / "any_size.onnx", o);
    CHECK(gap.num_classes() == 3);
    xai::Batch ones = xt::ones<float>({2, 3, 5, 7});
    CHECK(gap.forward(ones)(1, 2) == Approx(1.0f));
    o.num_classes = 4;
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "any_size.onnx", o), Contains("options.num_classes is 4 but the model returns 3"));
    o.num_classes = 0;
    o.batch_size = 0;
    CHECK_THROWS_WITH(OnnxModel::load(dir.path / "any_size.onnx", o), Contains("options.batch_size is 0"));

    // Inputs of the wrong shape, NaN, unknown layers.
    CHECK_THROWS_AS(gap.forward(xt::ones<float>({1, 3, 5, 6})), xai::shape_error);
    ones(0, 0, 0, 0) = std::nanf("");
    CHECK_THROWS_AS(gap.forward(ones), xai::invalid_argument);
    CHECK_THROWS_AS(gap.layer_activations(xt::ones<float>({1, 3, 5, 7}), "conv9"), xai::invalid_argument);
    CHECK_THROWS_WITH(gap.layer_activations(xt::ones<float>({1, 3, 5, 7}), "conv9"),
                      Contains("layer 'conv9' is not a layer of '") && Contains("[pool, logits]"));
    // The writer reports a path it cannot write.
    CHECK_THROWS_AS(xai::models::export_onnx(xai::models::builtin_architecture("fashion"), dir.path / "no" / "such" / "dir.onnx"),
                    xai::io_error);
}

TEST_CASE("OnnxModel calls from several threads at once give the serial results", "[onnx][threads]") {
    const Dir dir("xai-test-onnx-threads");
    const xai::models::Sequential net = xai::models::builtin_architecture("fashion", 4);
    xai::models::export_onnx(net, dir.path / "fashion.onnx");
    const OnnxModel onnx = OnnxModel::load(dir.path / "fashion.onnx");
    const xai::Batch a = batch_of(3, net.input_shape(), 1), b = batch_of(5, net.input_shape(), 2);
    const xai::Scores sa = onnx.forward(a);
    const xai::Activations ab = onnx.layer_activations(b, "relu2").activations;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int r = 0; r < 10; ++r) {
                if (t % 2 == 0 ? !(onnx.forward(a) == sa) : !(onnx.layer_activations(b, "relu2").activations == ab)) ++mismatches;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(mismatches == 0);
}

#if XAI_TEST_WITH_TORCH
TEST_CASE("A torch ResNet exported to ONNX gives TorchModel's logits and activations", "[onnx][torch]") {
    const Dir dir("xai-test-onnx-torch");
    torch::nn::Sequential net = xai_test::tiny_resnet(7, 5);  // BatchNorm with random statistics
    net->eval();
    const xai::ImageShape shape{3, 32, 32};
    xai::models::export_onnx(net, shape, dir.path / "resnet.onnx");
    const xai::models::TorchModel torch_model(net, xai_test::options_for(shape));
    const OnnxModel onnx = OnnxModel::load(dir.path / "resnet.onnx");
    CHECK(onnx.num_classes() == 5);
    const xai::Batch batch = xai_test::random_batch(6, shape, 9);
    const xai::Scores expected = torch_model.forward(batch);
    CHECK(relative_difference(onnx.forward(batch), expected) < 1e-5);
    for (const std::string layer : {"relu", "layer1.0", "layer2.1"}) {
        INFO(layer);
        const xai::LayerOutput a = onnx.layer_activations(batch, layer);
        const xai::LayerOutput b = torch_model.layer_activations(batch, layer);
        REQUIRE(a.activations.shape() == b.activations.shape());
        CHECK(relative_difference(a.activations, b.activations) < 1e-5);
    }
    // A module with no ONNX translation is named.
    torch::nn::Sequential odd;
    odd->push_back("tanh", torch::nn::Tanh());
    CHECK_THROWS_WITH(xai::models::export_onnx(odd, {1, 2, 2}, dir.path / "odd.onnx"),
                      Contains("'tanh' is a torch::nn::TanhImpl, which has no ONNX translation"));
}
#endif

TEST_CASE("A file written by PyTorch's ONNX exporter (scripts/trace_fixture.py) gives PyTorch's logits", "[onnx]") {
    const std::filesystem::path data(XAI_TEST_DATA_DIR);
    const OnnxModel onnx = OnnxModel::load(data / "traced_cnn.onnx");
    CHECK(onnx.input_shape() == xai::ImageShape{3, 16, 16});
    CHECK(onnx.num_classes() == 4);
    // PyTorch names nodes after the module path; BatchNorm is folded into the convolutions.
    const auto names = onnx.layer_names();
    CHECK(std::find(names.begin(), names.end(), "/layer1/layer1.0/conv1/Conv") != names.end());
    CHECK(std::find(names.begin(), names.end(), "/layer2/layer2.0/relu_1/Relu") != names.end());
    xai::Batch x = xai::Batch::from_shape({2, 3, 16, 16});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    std::ifstream in(data / "traced_cnn_logits.txt");
    std::vector<double> expected;
    for (double v; in >> v;) expected.push_back(v);
    REQUIRE(expected.size() == 8);
    const xai::Scores logits = onnx.forward(x);
    for (std::size_t i = 0; i < 8; ++i) CHECK(logits.data()[i] == Approx(expected[i]).margin(1e-6));
    const xai::LayerOutput a = onnx.layer_activations(x, "/layer2/layer2.0/relu_1/Relu");
    CHECK((std::vector<std::size_t>(a.activations.shape().begin(), a.activations.shape().end()) ==
           std::vector<std::size_t>{2, 8, 4, 4}));
#if XAI_TEST_WITH_TORCH
    // The same network traced to TorchScript: its layer2 is the ONNX file's last ReLU.
    const xai::models::TorchModel traced = xai::models::TorchModel::load(data / "traced_cnn.pt", xai_test::options_for({3, 16, 16}));
    const xai::LayerOutput b = traced.layer_activations(x, "layer2");
    CHECK(relative_difference(a.activations, b.activations) < 1e-5);
    CHECK(relative_difference(a.scores, b.scores) < 1e-5);
#endif
}
