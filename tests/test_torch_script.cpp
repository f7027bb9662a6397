// Tests of TorchModel::load on plain TorchScript classifiers (models/torch/script.hpp): the
// forward graph rewritten so that any submodule is a layer, on torchvision-structured ResNet,
// MobileNetV2/V3, EfficientNet-B0, DenseNet and ViT modules built from C++
// (torchscript_fixtures.hpp), saved and loaded back; and on a module traced by PyTorch
// (tests/data/traced_cnn.pt, made by scripts/trace_fixture.py).
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#include "torchscript_fixtures.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <torch/csrc/jit/ir/irparser.h>

#include "xai/torch.hpp"

using Catch::Matchers::Contains;
using xai::models::TorchModel;
using namespace xai_test;

namespace {

/// The fixture saved to a file and loaded back through TorchModel::load.
struct Loaded {
    xai_test::TempDir dir;
    torch::jit::Module module;  ///< the same file loaded with plain LibTorch, for references
    TorchModel model;
    Loaded(const torch::jit::Module& m, const std::string& name, xai::ImageShape shape)
        : dir("xai-test-script-" + name), module(save_and_load(m, dir.path / (name + ".pt"))),
          model(TorchModel::load(dir.path / (name + ".pt"), options_for(shape))) {}
    static torch::jit::Module save_and_load(const torch::jit::Module& m, const std::filesystem::path& file) {
        m.save(file.string());
        torch::jit::Module loaded = torch::jit::load(file.string());
        loaded.eval();
        return loaded;
    }
    /// The module's own forward, with plain LibTorch.
    torch::Tensor logits(const xai::Batch& batch) {
        torch::NoGradGuard no_grad;
        return module.forward({tensor_of(batch).to(torch::kFloat64)}).toTensor();
    }
};

bool has_layer(const TorchModel& m, const std::string& name) {
    const auto names = m.layer_names();
    return std::find(names.begin(), names.end(), name) != names.end();
}

/// ⟨g, d⟩ against the central difference of the seeded score along d through forward_from.
void check_directional_derivative(const TorchModel& m, const std::string& layer, const xai::Batch& batch,
                                  const std::vector<std::size_t>& targets, std::uint64_t seed) {
    INFO("layer " << layer);
    const xai::LayerGradients lg = m.layer_gradients(batch, layer, one_hot_seed(targets));
    torch::manual_seed(seed);
    const torch::Tensor a = tensor_of(lg.activations).to(torch::kFloat64);
    const torch::Tensor g = tensor_of(lg.gradients).to(torch::kFloat64);
    const torch::Tensor d = torch::randn_like(a);
    const double eps = 1e-4;
    const xai::Scores plus = m.forward_from(layer, xai::models::to_xarray(a + eps * d));
    const xai::Scores minus = m.forward_from(layer, xai::models::to_xarray(a - eps * d));
    double analytic = 0.0, numeric = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        analytic += (g[static_cast<std::int64_t>(i)] * d[static_cast<std::int64_t>(i)]).sum().item<double>();
        numeric += (double(plus(i, targets[i])) - double(minus(i, targets[i]))) / (2 * eps);
    }
    // The networks are piecewise linear (ReLU, ReLU6), so the difference quotient is off by the
    // units within eps of a kink (about 0.5% here at eps = 1e-4, 3% at 1e-3, and shrinking
    // with eps); activations cross the adapter as float, which bounds eps from below. A wrong
    // gradient (a missed path, a parameter gradient) is off by far more.
    CHECK(analytic == Approx(numeric).epsilon(1e-2).margin(2e-4));
    CHECK(std::abs(analytic) > 1e-3);  // a gradient that is not trivially zero
}

/// forward_from(layer, layer_activations(layer)) gives the logits back.
void check_reentry(const TorchModel& m, const std::string& layer, const xai::Batch& batch) {
    INFO("layer " << layer);
    const xai::LayerOutput lo = m.layer_activations(batch, layer);
    CHECK(max_abs_diff(tensor_of(m.forward_from(layer, lo.activations)), tensor_of(lo.scores)) < 1e-5);
}

}  // namespace

TEST_CASE("TorchModel::load takes a plain scripted ResNet: torchvision's names, shapes, logits", "[torch][script]") {
    Loaded r(tv::resnet(), "resnet", {3, 64, 64});
    const TorchModel& m = r.model;
    CHECK(m.form() == "TorchScript module");
    CHECK(m.num_classes() == 6);
    CHECK(m.dtype() == torch::kFloat64);
    for (const char* name : {"conv1", "bn1", "relu", "maxpool", "layer1.0.conv1", "layer1.0.relu", "layer1.0", "layer1.1",
                             "layer1", "layer2.0.downsample.0", "layer2.0.downsample", "layer3", "layer4.0.bn2", "layer4",
                             "avgpool", "fc"})
        CHECK(has_layer(m, name));
    // Execution order, a block after the blocks inside it.
    const auto names = m.layer_names();
    auto at = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
    CHECK(at("layer1.0") < at("layer1.1"));
    CHECK(at("layer1.1") < at("layer1"));
    CHECK(at("layer1") < at("layer2.0.conv1"));
    CHECK(m.feature_layer() == "layer4");
    CHECK(m.classifier_weight_name() == "fc.weight");
    CHECK((m.layer_shape("layer1") == std::vector<std::size_t>{4, 16, 16}));
    CHECK((m.layer_shape("layer3.0.conv2") == std::vector<std::size_t>{8, 4, 4}));
    CHECK((m.layer_shape("layer4") == std::vector<std::size_t>{16, 2, 2}));

    const xai::Batch batch = random_batch(3, {3, 64, 64}, 21);
    CHECK(max_abs_diff(tensor_of(m.forward(batch)), r.logits(batch)) < 1e-5);
    // Activations at three layers, with the logits of the same pass.
    for (const char* layer : {"layer1.0.bn2", "layer2", "layer4"}) {
        const xai::LayerOutput lo = m.layer_activations(batch, layer);
        CHECK(lo.activations.shape(0) == 3);
        CHECK(max_abs_diff(tensor_of(lo.scores), r.logits(batch)) < 1e-5);
    }
    // bn1 is followed by an in-place ReLU: its activations are taken before it (negative values stay).
    CHECK(xt::amin(m.layer_activations(batch, "bn1").activations)() < -0.01f);
    CHECK(xt::amin(m.layer_activations(batch, "relu").activations)() >= 0.0f);
    // The same as CAM's feature path.
    const xai::FeatureOutput fo = m.forward_features(batch);
    CHECK(max_abs_diff(tensor_of(fo.features), tensor_of(m.layer_activations(batch, "layer4").activations)) == 0.0);
}

TEST_CASE("Plain scripted ResNet: layer gradients equal finite differences and the C++ ResNet's; forward_from re-enters",
          "[torch][script]") {
    Loaded r(tv::resnet(), "resnet-grad", {3, 64, 64});
    const TorchModel& m = r.model;
    const xai::Batch batch = random_batch(2, {3, 64, 64}, 22);
    const std::vector<std::size_t> targets{1, 4};
    for (const char* layer : {"layer1", "layer2.0", "layer3", "layer4", "avgpool"}) check_reentry(m, layer, batch);
    check_directional_derivative(m, "layer2", batch, targets, 1);
    check_directional_derivative(m, "layer3.0", batch, targets, 2);
    check_directional_derivative(m, "layer4", batch, targets, 3);

    // Inside a residual block: bn2's output reaches the logits through relu(bn2 + identity),
    // so its gradient is the block's gradient where the block's output is positive. The
    // identity is read from before bn2, so forward_from cannot start there, and says why.
    const xai::LayerGradients block = m.layer_gradients(batch, "layer2.1", one_hot_seed(targets));
    const xai::LayerGradients inner = m.layer_gradients(batch, "layer2.1.bn2", one_hot_seed(targets));
    const torch::Tensor expected = tensor_of(block.gradients) * (tensor_of(block.activations) > 0).to(torch::kFloat32);
    CHECK(max_abs_diff(tensor_of(inner.gradients), expected) < 1e-6);
    CHECK(tensor_of(inner.gradients).abs().max().item<double>() > 1e-4);
    const xai::LayerOutput lo = m.layer_activations(batch, "layer2.1.bn2");
    CHECK_THROWS_AS(m.forward_from("layer2.1.bn2", lo.activations), xai::model_error);
    CHECK_THROWS_WITH(m.forward_from("layer2.1.bn2", lo.activations),
                      Contains("TorchModel::forward_from(): forward_from cannot run the network from layer 'layer2.1.bn2'") &&
                          Contains("skip connection"));
    // A ReLU shared by two calls in each block: the last call's output, and no re-entry.
    CHECK_THROWS_WITH(m.forward_from("layer2.1.relu", block.activations), Contains("called 2 times in forward"));
    CHECK(max_abs_diff(tensor_of(m.layer_activations(batch, "layer2.1.relu").activations), tensor_of(block.activations)) == 0.0);
}

TEST_CASE("Several layers of a plain TorchScript module in one pass", "[torch][script]") {
    Loaded r(tv::mobilenet_v2(), "mnv2-multi", {3, 32, 32});
    const TorchModel& m = r.model;
    const xai::Batch batch = random_batch(2, {3, 32, 32}, 23);
    const std::vector<std::string> layers{"features.4", "features.1.conv", "features.2", "features.4"};
    const xai::models::LayersOutput all = m.layer_activations(batch, layers);
    REQUIRE(all.activations.size() == 4);
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const xai::LayerOutput one = m.layer_activations(batch, layers[i]);
        CHECK(max_abs_diff(tensor_of(all.activations[i]), tensor_of(one.activations)) == 0.0);
    }
    CHECK(max_abs_diff(tensor_of(all.scores), r.logits(batch)) < 1e-5);
    CHECK_THROWS_AS(m.layer_activations(batch, std::vector<std::string>{}), xai::invalid_argument);
    CHECK_THROWS_WITH(m.layer_activations(batch, std::vector<std::string>{"features.9"}),
                      Contains("layer 'features.9' is not a layer of the model"));
}

namespace {

struct Architecture {
    std::string name;
    torch::jit::Module (*make)(std::uint64_t);
    xai::ImageShape input;
    std::vector<std::string> must_list;
    std::map<std::string, std::vector<std::size_t>> shapes;  ///< three layers and their C×h×w (or T×D)
    std::vector<std::string> reentrant;                       ///< layers forward_from starts at
    std::string feature_layer;
};

std::vector<Architecture> architectures() {
    return {
        {"mobilenet_v2", tv::mobilenet_v2, {3, 32, 32},
         {"features.0", "features.0.2", "features.1.conv.0.0", "features.2.conv", "features.3", "classifier.1"},
         {{"features.0", {8, 16, 16}}, {"features.2", {12, 8, 8}}, {"features.4", {32, 8, 8}}},
         {"features.1", "features.3", "features.4"},
         "features"},
        {"mobilenet_v3", tv::mobilenet_v3, {3, 32, 32},
         {"features.1.block.1", "features.1.block.1.fc2", "features.2.block.0.2", "avgpool", "classifier.3"},
         {{"features.0", {8, 16, 16}}, {"features.2.block.3", {8, 8, 8}}, {"features.3", {24, 8, 8}}},
         {"features.1", "features.2", "features.3"},
         "features"},
        {"efficientnet_b0", tv::efficientnet_b0, {3, 32, 32},
         {"features.1.0.block.1", "features.2.1.stochastic_depth", "features.2.1", "features.3"},
         {{"features.1", {8, 16, 16}}, {"features.2.0", {12, 8, 8}}, {"features.3", {32, 8, 8}}},
         {"features.1", "features.2", "features.3"},
         "features"},
        {"densenet", tv::densenet, {3, 32, 32},
         {"features.denseblock1.denselayer1", "features.denseblock1.denselayer2.conv2", "features.transition1.pool",
          "features.norm5", "classifier"},
         {{"features.denseblock1", {16, 8, 8}}, {"features.transition1", {8, 4, 4}}, {"features.norm5", {16, 4, 4}}},
         {"features.denseblock1", "features.transition1", "features.norm5"},
         ""},
        {"vit", tv::vit, {3, 32, 32},
         {"conv_proj", "encoder.dropout", "encoder.layers.encoder_layer_0.mlp.0", "encoder.layers", "encoder.ln", "heads.head"},
         {{"conv_proj", {16, 4, 4}}, {"encoder.layers.encoder_layer_0", {17, 16}}, {"encoder.ln", {17, 16}}},
         {"encoder.dropout", "encoder.layers.encoder_layer_1", "encoder.ln"},
         ""},
    };
}

}  // namespace

TEST_CASE("Plain scripted MobileNetV2/V3, EfficientNet-B0, DenseNet and ViT: layers, shapes, gradients, re-entry",
          "[torch][script]") {
    for (const Architecture& arch : architectures()) {
        INFO(arch.name);
        Loaded r(arch.make(1), arch.name, arch.input);
        const TorchModel& m = r.model;
        for (const std::string& name : arch.must_list) {
            INFO(name);
            CHECK(has_layer(m, name));
        }
        CHECK(m.feature_layer() == arch.feature_layer);
        const xai::Batch batch = random_batch(2, arch.input, 24);
        const torch::Tensor logits = r.logits(batch);
        CHECK(max_abs_diff(tensor_of(m.forward(batch)), logits) < 1e-5);
        std::vector<std::string> three;
        for (const auto& [layer, shape] : arch.shapes) {
            INFO(layer);
            three.push_back(layer);
            CHECK(m.layer_shape(layer) == shape);
            const xai::LayerOutput lo = m.layer_activations(batch, layer);
            std::vector<std::size_t> expected{2};
            expected.insert(expected.end(), shape.begin(), shape.end());
            CHECK(shape_is(lo.activations, expected));
            CHECK(max_abs_diff(tensor_of(lo.scores), logits) < 1e-5);
        }
        const xai::models::LayersOutput all = m.layer_activations(batch, three);
        for (std::size_t i = 0; i < three.size(); ++i)
            CHECK(max_abs_diff(tensor_of(all.activations[i]), tensor_of(m.layer_activations(batch, three[i]).activations)) == 0.0);
        std::uint64_t seed = 10;
        for (const std::string& layer : arch.reentrant) {
            check_reentry(m, layer, batch);
            check_directional_derivative(m, layer, batch, {1, 3}, seed++);
        }
    }
}

TEST_CASE("Plain TorchScript ViT: token layers, and the patch embedding cannot be re-entered", "[torch][script]") {
    Loaded r(tv::vit(), "vit-tokens", {3, 32, 32});
    const TorchModel& m = r.model;
    const xai::Batch batch = random_batch(2, {3, 32, 32}, 25);
    // conv_proj's output becomes tokens 1…16 of the encoder's input (after the class token),
    // so its gradient is the encoder dropout's gradient at those tokens, laid back as 4×4.
    const xai::LayerGradients patches = m.layer_gradients(batch, "conv_proj", one_hot_seed({0, 2}));
    const xai::LayerGradients tokens = m.layer_gradients(batch, "encoder.dropout", one_hot_seed({0, 2}));
    const torch::Tensor expected = tensor_of(tokens.gradients).narrow(1, 1, 16).permute({0, 2, 1}).reshape({2, 16, 4, 4});
    CHECK(max_abs_diff(tensor_of(patches.gradients), expected) < 1e-6);
    CHECK(expected.abs().max().item<double>() > 1e-4);
    // Its batch size is read from the input before the patch embedding.
    CHECK_THROWS_WITH(m.forward_from("conv_proj", patches.activations),
                      Contains("cannot run the network from layer 'conv_proj'") && Contains("int from aten::"));
    // The attention returns a tuple: listed as unavailable, with the reason.
    CHECK_THROWS_AS(m.layer_activations(batch, "encoder.layers.encoder_layer_0.self_attention"), xai::invalid_argument);
    CHECK_THROWS_WITH(m.layer_activations(batch, "encoder.layers.encoder_layer_0.self_attention"),
                      Contains("runs in forward but cannot be chosen as a layer: its output is a Tuple[Tensor, NoneType], not a tensor"));
}

TEST_CASE("TorchModel::load: input shape default, tuple form, bad files and modules", "[torch][script][errors]") {
    const TempDir dir("xai-test-script-errors");
    // No input shape: 3×224×224 is tried, which this ViT refuses with a hint.
    tv::vit().save((dir.path / "vit.pt").string());
    CHECK_THROWS_AS(TorchModel::load(dir.path / "vit.pt"), xai::model_error);
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "vit.pt"), Contains("options.input_shape was not given and 3x224x224 was tried"));
    // A network that takes any size works with no options at all.
    tv::mobilenet_v2().save((dir.path / "mnv2.pt").string());
    const TorchModel any = TorchModel::load(dir.path / "mnv2.pt");
    CHECK(any.input_shape() == xai::ImageShape{3, 224, 224});
    CHECK(any.num_classes() == 5);
    static_assert(xai::Classifier<TorchModel> && xai::LayerGradientModel<TorchModel> && xai::LayerForwardModel<TorchModel>);

    CHECK_THROWS_AS(TorchModel::load(dir.path / "missing.pt"), xai::io_error);
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "missing.pt"), Contains("TorchModel::load(): '") && Contains("missing.pt' does not exist"));
    std::ofstream(dir.path / "text.pt") << "not a zip";
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "text.pt"), Contains("is not a readable TorchScript file"));

    torch::jit::Module two("TwoInputs");
    two.define("def forward(self, x, y):\n    return x + y\n");
    two.save((dir.path / "two.pt").string());
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "two.pt", options_for({1, 2, 2})),
                      Contains("TorchModel::from_script(): ") && Contains("forward takes 2 arguments, expected one"));
    torch::jit::Module list("ReturnsList");
    list.define("def forward(self, x):\n    return [x]\n");
    list.save((dir.path / "list.pt").string());
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "list.pt", options_for({1, 2, 2})), Contains("returns List[Tensor], expected a Tensor"));
    torch::jit::Module flat("NoSubmodules");
    flat.define("def forward(self, x):\n    return torch.flatten(x, 1)\n");
    flat.save((dir.path / "flat.pt").string());
    CHECK_THROWS_WITH(TorchModel::load(dir.path / "flat.pt", options_for({1, 2, 2})), Contains("calls no submodule"));

    // A module whose forward returns (logits, activations) is the existing single form.
    torch::jit::Module pair("Pair");
    pair.register_module("fc", tv::linear(tv::Init(1), 4, 3));
    pair.define("def forward(self, x):\n    a = torch.flatten(x, 1)\n    return self.fc.forward(a), a\n");
    pair.save((dir.path / "pair.pt").string());
    const TorchModel single = TorchModel::load(dir.path / "pair.pt", options_for({1, 2, 2}));
    CHECK(single.form() == "TorchScript module returning (logits, activations)");
}

TEST_CASE("A module traced by PyTorch (scripts/trace_fixture.py) loads untouched, with its logits and every layer",
          "[torch][script][traced]") {
    const std::filesystem::path file = std::filesystem::path(XAI_TEST_DATA_DIR) / "traced_cnn.pt";
    const TorchModel m = TorchModel::load(file, options_for({3, 16, 16}));
    CHECK(m.dtype() == torch::kFloat32);
    CHECK(m.num_classes() == 4);
    for (const char* name : {"conv1", "bn1", "layer1.0.conv1", "layer1.0", "layer1.1.bn2", "layer1", "layer2.0.downsample.0",
                             "layer2", "avgpool", "fc"})
        CHECK(has_layer(m, name));
    CHECK(m.feature_layer() == "layer2");
    CHECK((m.layer_shape("layer1") == std::vector<std::size_t>{4, 8, 8}));
    CHECK((m.layer_shape("layer2.0.conv2") == std::vector<std::size_t>{8, 4, 4}));
    CHECK((m.layer_shape("layer2") == std::vector<std::size_t>{8, 4, 4}));

    // The input the script used: x = sin(0.37 i) over the flat index; the logits it wrote.
    xai::Batch x = xai::Batch::from_shape({2, 3, 16, 16});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    std::ifstream in(std::filesystem::path(XAI_TEST_DATA_DIR) / "traced_cnn_logits.txt");
    std::vector<double> expected;
    for (double v; in >> v;) expected.push_back(v);
    REQUIRE(expected.size() == 8);
    const xai::Scores logits = m.forward(x);
    for (std::size_t i = 0; i < 8; ++i) CHECK(logits.data()[i] == Approx(expected[i]).margin(1e-6));

    // Three layers, forward_from, and the gradient at a layer against finite differences.
    for (const char* layer : {"layer1.0", "layer1", "layer2"}) check_reentry(m, layer, x);
    const xai::LayerGradients lg = m.layer_gradients(x, "layer2", one_hot_seed({0, 2}));
    CHECK(shape_is(lg.gradients, {2, 8, 4, 4}));
    torch::manual_seed(4);
    const torch::Tensor d = torch::randn({2, 8, 4, 4});
    const torch::Tensor a = tensor_of(lg.activations);
    const float eps = 1e-2f;  // float model: a large step; after layer2 the network is linear (GAP, fc)
    const xai::Scores plus = m.forward_from("layer2", xai::models::to_xarray(a + eps * d));
    const xai::Scores minus = m.forward_from("layer2", xai::models::to_xarray(a - eps * d));
    const double analytic = (tensor_of(lg.gradients) * d).sum().item<double>();
    const double numeric = (double(plus(0, 0)) - double(minus(0, 0)) + double(plus(1, 2)) - double(minus(1, 2))) / (2 * eps);
    CHECK(analytic == Approx(numeric).epsilon(1e-3));
    // The shared ReLU of a block is called twice: no re-entry there.
    CHECK_THROWS_WITH(m.forward_from("layer1.0.relu", m.layer_activations(x, "layer1.0.relu").activations),
                      Contains("called 2 times"));
}

TEST_CASE("Plain TorchScript layers from several threads at once, first uses included, give the serial results",
          "[torch][script][threads]") {
    Loaded r(tv::resnet(3), "resnet-threads", {3, 64, 64});
    const xai::Batch batch = random_batch(2, {3, 64, 64}, 26);
    const std::vector<std::string> layers{"layer1.1", "layer2.0.bn2", "layer3", "layer4.0.conv1"};
    // A second model from the same file: its rewritten graphs are built for the first time
    // inside the threads, concurrently.
    const TorchModel fresh = TorchModel::load(r.dir.path / "resnet-threads.pt", options_for({3, 64, 64}));
    std::vector<xai::LayerGradients> serial;
    for (const std::string& layer : layers) serial.push_back(r.model.layer_gradients(batch, layer, one_hot_seed({0, 5})));
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (std::size_t k = 0; k < 4; ++k) {
                const std::size_t i = (t + k) % layers.size();
                const xai::LayerGradients g = fresh.layer_gradients(batch, layers[i], one_hot_seed({0, 5}));
                if (!(g.gradients == serial[i].gradients) || !(g.activations == serial[i].activations)) ++mismatches;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(mismatches == 0);
}

TEST_CASE("LibTorch's 'derivative not implemented' gets advice on how to export the model", "[torch][script][errors]") {
    // What a ViT traced under torch.no_grad() gives (its fused attention has no derivative).
    const std::string what = xai::models::detail::torch_failure(
        "derivative for aten::_native_multi_head_attention is not implemented");
    CHECK_THAT(what, Contains("derivative for aten::_native_multi_head_attention is not implemented") &&
                         Contains("export it with torch.jit.script, or trace it with gradients enabled"));
    CHECK(xai::models::detail::torch_failure("shape mismatch") == "shape mismatch");
}

TEST_CASE("Plain TorchScript: guided backprop and the deconvnet equal the hand-computed rules; other rectifiers are refused",
          "[torch][script][gradients]") {
    // x → linear1 → relu → linear2: with h = W1 x + b1 and g = W2[c] the gradient reaching the
    // ReLU's output, backpropagation gives W1ᵀ(g·[h > 0]), guided backprop W1ᵀ(max(g, 0)·[h > 0]),
    // the deconvnet W1ᵀ max(g, 0).
    const tv::Init init(31);
    const torch::jit::Module net =
        tv::sequential({tv::flatten(), tv::linear(init, 12, 6), tv::relu(), tv::linear(init, 6, 3)});
    const TorchModel m = TorchModel::from_script(net, options_for({3, 2, 2}));
    std::map<std::string, torch::Tensor> p;
    for (const auto& item : net.named_parameters(true)) p[item.name] = item.value;
    const xai::Batch batch = random_batch(4, {3, 2, 2}, 8);
    const std::vector<std::size_t> targets{0, 1, 2, 1};
    const torch::Tensor x = tensor_of(batch).to(torch::kFloat64).reshape({4, 12});
    const torch::Tensor h = torch::linear(x, p.at("1.weight"), p.at("1.bias"));
    const torch::Tensor g = p.at("3.weight").index_select(0, torch::tensor({0, 1, 2, 1}));  // 4×6
    const torch::Tensor positive = (h > 0).to(torch::kFloat64);
    const std::map<xai::ReluBackward, torch::Tensor> expected{
        {xai::ReluBackward::standard, torch::matmul(g * positive, p.at("1.weight"))},
        {xai::ReluBackward::guided, torch::matmul(torch::relu(g) * positive, p.at("1.weight"))},
        {xai::ReluBackward::deconvolution, torch::matmul(torch::relu(g), p.at("1.weight"))}};
    for (int repeat = 0; repeat < 3; ++repeat)  // also once the module's own executor has optimized its graph
        for (const auto& [rule, want] : expected) {
            INFO(xai::to_string(rule) << ", call " << repeat);
            const xai::InputGradients ig = m.input_gradients(batch, one_hot_seed(targets), rule);
            CHECK(max_abs_diff(tensor_of(ig.gradients).reshape({4, 12}).to(torch::kFloat64), want) < 1e-6);
        }
    CHECK(max_abs_diff(expected.at(xai::ReluBackward::guided), expected.at(xai::ReluBackward::standard)) > 1e-2);
    CHECK(max_abs_diff(expected.at(xai::ReluBackward::deconvolution), expected.at(xai::ReluBackward::guided)) > 1e-2);

    const TorchModel swish = TorchModel::from_script(
        tv::sequential({tv::flatten(), tv::linear(init, 12, 6), tv::hardswish(), tv::linear(init, 6, 3)}), options_for({3, 2, 2}));
    CHECK_THROWS_AS(swish.input_gradients(batch, one_hot_seed(targets), xai::ReluBackward::guided), xai::model_error);
    CHECK_THROWS_WITH(swish.input_gradients(batch, one_hot_seed(targets), xai::ReluBackward::deconvolution),
                      Contains("TorchModel::input_gradients(rule)") && Contains("TorchScript module") &&
                          Contains("HardswishBackward0") && Contains("deconvnet"));
    CHECK_NOTHROW(swish.input_gradients(batch, one_hot_seed(targets), xai::ReluBackward::standard));

    // ReLUs fused into other ops (a frozen, inference-optimized export) cannot be reached.
    auto graph = std::make_shared<torch::jit::Graph>();
    torch::jit::parseIR("graph(%x : Tensor, %w : Tensor):\n  %y : Tensor = quantized::linear_relu(%x, %w)\n  return (%y)\n",
                        graph.get());
    CHECK(xai::models::detail::fused_relu_nodes(*graph->block()) == "quantized::linear_relu");
    CHECK(xai::models::detail::fused_relu_nodes(*net.get_method("forward").graph()->block()).empty());
}
