// Explainers on an ONNX model (include/xai/onnx.hpp): Score-CAM and RISE maps of a torch ResNet
// exported to ONNX and run by OpenCV (OnnxModel) equal those of the same network in LibTorch
// (TorchModel), and the black-box and activation-based methods run on OnnxModel at all.
// Written against the unified explainer API of issue 15 (results with `maps`, `raw`,
// `targets`; progress an argument of explain()).
#if XAI_TEST_WITH_TORCH
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#include "xai/models/onnx/export_torch.hpp"
#endif

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "xai/cam.hpp"
#include "xai/models/builtin.hpp"
#include "xai/onnx.hpp"
#include "xai/rise.hpp"

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

template <class A, class B>
double max_abs_difference(const A& a, const B& b) {
    REQUIRE(a.shape() == b.shape());
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a.data()[i]) - double(b.data()[i])));
    return d;
}

}  // namespace

TEST_CASE("Score-CAM and RISE run on an ONNX export of the built-in CNN and match the built-in model", "[onnx][explain]") {
    const Dir dir("xai-test-onnx-explain");
    const xai::models::Sequential net = xai::models::builtin_architecture("scenes", 2);
    xai::models::export_onnx(net, dir.path / "scenes.onnx");
    const OnnxModel onnx = OnnxModel::load(dir.path / "scenes.onnx");
    xai::Rng rng(1);
    xai::Batch batch = xai::Batch::from_shape({2, 1, 64, 64});
    for (float& v : batch) v = static_cast<float>(rng.uniform());

    xai::ScoreCamOptions score_cam;
    score_cam.cam.layer = "relu4";
    const auto a = xai::ScoreCam<OnnxModel>(onnx, score_cam).explain(batch, xai::Targets{1, 3});
    const auto b = xai::ScoreCam<xai::models::Sequential>(net, score_cam).explain(batch, xai::Targets{1, 3});
    CHECK(a.targets == b.targets);
    CHECK(max_abs_difference(a.maps, b.maps) < 1e-4);
    CHECK(max_abs_difference(a.raw, b.raw) < 1e-4 * (1.0 + xt::amax(xt::abs(b.raw))()));

    xai::RiseOptions rise;
    rise.num_masks = 200;
    rise.seed = 5;
    const auto ra = xai::Rise<OnnxModel>(onnx, rise).explain(batch, xai::Targets{2});
    const auto rb = xai::Rise<xai::models::Sequential>(net, rise).explain(batch, xai::Targets{2});
    CHECK(max_abs_difference(ra.maps, rb.maps) < 1e-4);
}

#if XAI_TEST_WITH_TORCH
TEST_CASE("Score-CAM and RISE maps of an ONNX ResNet equal the LibTorch ResNet's", "[onnx][torch][explain]") {
    const Dir dir("xai-test-onnx-explain-torch");
    torch::nn::Sequential net = xai_test::tiny_resnet(7, 5);
    net->eval();
    const xai::ImageShape shape{3, 32, 32};
    xai::models::export_onnx(net, shape, dir.path / "resnet.onnx");
    const xai::models::TorchModel torch_model(net, xai_test::options_for(shape));
    const OnnxModel onnx = OnnxModel::load(dir.path / "resnet.onnx");
    const xai::Batch batch = xai_test::random_batch(2, shape, 3);

    // The same layer name in both: the output of the last block of the last stage.
    xai::ScoreCamOptions score_cam;
    score_cam.cam.layer = "layer2.1";
    const auto a = xai::ScoreCam<OnnxModel>(onnx, score_cam).explain(batch);
    const auto b = xai::ScoreCam<xai::models::TorchModel>(torch_model, score_cam).explain(batch);
    CHECK(a.targets == b.targets);
    CHECK(max_abs_difference(a.maps, b.maps) < 1e-4);

    xai::RiseOptions rise;
    rise.num_masks = 200;
    rise.seed = 9;
    const auto ra = xai::Rise<OnnxModel>(onnx, rise).explain(batch, xai::Targets{4});
    const auto rb = xai::Rise<xai::models::TorchModel>(torch_model, rise).explain(batch, xai::Targets{4});
    CHECK(max_abs_difference(ra.maps, rb.maps) < 1e-4);
}
#endif
