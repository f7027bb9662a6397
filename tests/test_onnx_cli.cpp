// Tests of xai-explain on ONNX files (tools/xai-explain/ linked with onnx_backend.cpp):
// tests/data/traced_cnn.onnx, the network of traced_cnn.pt exported by PyTorch's own exporter
// (scripts/trace_fixture.py), explained with the black-box methods and the activation CAMs; the
// .npy maps equal the library's on the same normalized input; --list-layers names the graph's
// nodes; the gradient methods are refused with the reason, exit status 5.
#if XAI_TEST_WITH_TORCH
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#endif
#include "../tools/xai-explain/arguments.hpp"
#include "../tools/xai-explain/run.hpp"
#include "xai/onnx.hpp"
#include "cli_test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using xai_explain::ExitCode;

namespace {

using xai_test::npy_values;
using xai_test::Outcome;
using xai_test::run_tool;
using xai_test::scratch;

fs::path onnx_file() { return fs::path(XAI_TEST_DATA_DIR) / "traced_cnn.onnx"; }

}  // namespace

TEST_CASE("xai-explain explains an ONNX file with the black-box methods and the activation CAMs", "[cli][onnx]") {
    const fs::path dir = scratch("onnx");
    xai::Image photo = xai::Image::from_shape({3, 24, 30});
    for (std::size_t i = 0; i < photo.size(); ++i) photo.data()[i] = static_cast<float>(0.5 + 0.4 * std::sin(0.11 * static_cast<double>(i)));
    xai::save_image(dir / "photo.png", photo);

    Outcome o = run_tool({"--model", onnx_file().string(), "--list-layers"});
    REQUIRE(o.code == 0);
    CHECK_THAT(o.out, Contains("/layer1/layer1.0/conv1/Conv") && Contains("(default --layer)"));

    const std::string layer = "/layer2/layer2.0/relu_1/Relu";
    o = run_tool({"--model", onnx_file().string(), "--image", (dir / "photo.png").string(), "--out", (dir / "out").string(),
                  "--method", "scorecam,eigencam,rise,occlusion", "--layer", layer, "--rise-masks", "64",
                  "--occlusion-window", "4", "--occlusion-stride", "4", "--threads", "1"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK_THAT(o.out, Contains("(ONNX, 3x16x16, 4 classes)"));
    const xai::models::OnnxModel model = xai::models::OnnxModel::load(onnx_file());
    // What the tool feeds the model: the PNG as read back (8-bit), cropped and normalized.
    const xai::Image input =
        xai::Preprocessing{.height = 16, .width = 16, .fit = xai::Fit::center_crop}(xai::load_image(dir / "photo.png", 3));
    xai::ExplainerSettings settings;
    settings.layers = {layer};
    settings.score_cam.cam.threads = settings.rise.threads = settings.occlusion.threads = 1;
    settings.rise.num_masks = 64;
    settings.occlusion.window = settings.occlusion.stride = 4;
    for (const char* method : {"scorecam", "eigencam", "rise", "occlusion"}) {
        INFO(method);
        const xai::AnyExplanation x = xai::make_explainer(method, model, settings).explain(input);
        const std::vector<float> file = npy_values(dir / "out" / ("photo_" + std::string(method) + ".npy"));
        REQUIRE(file.size() == x.raw.size());
        for (std::size_t i = 0; i < file.size(); ++i) CHECK(file[i] == Approx(x.raw.data()[i]).margin(1e-5));
    }

    // The gradient methods need a differentiable model: refused by name with the reason.
    o = run_tool({"--model", onnx_file().string(), "--image", (dir / "photo.png").string(), "--method", "gradcam"});
    CHECK(o.code == static_cast<int>(ExitCode::method));
    CHECK_THAT(o.err, Contains("method 'gradcam' needs a LayerGradientModel") && Contains("OpenCV's DNN module"));
    // all: the methods it can serve, the others named in a note.
    o = run_tool({"--model", onnx_file().string(), "--image", (dir / "photo.png").string(), "--out", (dir / "all").string(),
                  "--method", "all", "--lime-samples", "30", "--rise-masks", "30", "--occlusion-window", "8", "--quiet"});
    CHECK(o.code == 0);
    CHECK(fs::exists(dir / "all" / "photo_lime.npy"));
    CHECK_FALSE(fs::exists(dir / "all" / "photo_gradcam.npy"));
    // --channels 1 for an RGB file: one line, exit 3.
    o = run_tool({"--model", onnx_file().string(), "--image", (dir / "photo.png").string(), "--channels", "1"});
    CHECK(o.code == static_cast<int>(ExitCode::model));
    CHECK_THAT(o.err, Contains("takes RGB input, not grey") && Contains("--channels 3"));
    fs::remove_all(dir);
}
