// Tests of xai-explain-torch (tools/xai-explain/ linked with torch_backend.cpp): TorchScript
// files as users export them, untouched — a module traced by PyTorch (tests/data/traced_cnn.pt,
// scripts/trace_fixture.py) and a torchvision-structured ResNet scripted from C++
// (torchscript_fixtures.hpp) — explained at three layers; --list-layers; the images normalized
// before the model, so that Score-CAM, RISE and occlusion hide pixels with the normalized zero as
// the reference implementations do (the .npy maps equal the library's on the normalized input);
// a grey/RGB mismatch refused in one line naming --channels with exit status 3; the program's
// name in its messages and summary.
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#include "torchscript_fixtures.hpp"
#include "../tools/xai-explain/arguments.hpp"
#include "../tools/xai-explain/run.hpp"
#include "cli_test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using xai_explain::ExitCode;

namespace {

using xai_test::npy_values;
using xai_test::Outcome;
using xai_test::read_text;
using xai_test::run_tool;
using xai_test::scratch;

/// A smooth h×w photo with `channels` channels, written as PNG.
fs::path photo(const fs::path& path, std::size_t channels, std::size_t h, std::size_t w) {
    xai::Image image = xai::Image::from_shape({channels, h, w});
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x)
                image(c, y, x) = static_cast<float>(0.5 + 0.45 * std::sin(0.3 * static_cast<double>(x) + 0.2 * static_cast<double>(y) +
                                                                           static_cast<double>(c)));
    xai::save_image(path, image);
    return path;
}

fs::path traced() { return fs::path(XAI_TEST_DATA_DIR) / "traced_cnn.pt"; }

xai::models::TorchModel load_like_the_tool(const fs::path& file, xai::ImageShape shape) {
    xai::models::TorchOptions options;
    options.input_shape = shape;
    options.threads = 1;
    return xai::models::TorchModel::load(file, options);
}

}  // namespace

TEST_CASE("xai-explain-torch lists the layers of a traced TorchScript file and marks the default", "[cli][torch]") {
    const Outcome o = run_tool({"--model", traced().string(), "--size", "16", "--list-layers"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    for (const char* line : {"conv1", "layer1.0.conv1", "layer2.0.downsample.0", "fc"}) CHECK_THAT(o.out, Contains(line));
    CHECK_THAT(o.out, Contains("layer1 ") && Contains("4x8x8"));
    CHECK_THAT(o.out, Contains("8x4x4   (default --layer)"));
}

TEST_CASE("xai-explain-torch explains an untouched traced file at three layers; masks are in the normalized space",
          "[cli][torch]") {
    const fs::path dir = scratch("traced");
    const fs::path image = photo(dir / "wide.png", 3, 30, 45);
    std::ofstream(dir / "labels.txt") << "ant\nbee\ncat\ndog\n";
    const xai::models::TorchModel model = load_like_the_tool(traced(), {3, 16, 16});
    // What the tool feeds the model: torchvision's Resize(⌊16 / 0.875⌋ = 18) + CenterCrop(16), then
    // ImageNet's mean and std (the default for RGB input).
    const xai::Preprocessing prep{.height = 16, .width = 16, .fit = xai::Fit::center_crop};
    const xai::Image input = prep(xai::load_image(image, 3));
    for (const std::string layer : {"layer1.0", "layer1", "layer2"}) {
        INFO(layer);
        const fs::path out = dir / ("out_" + layer);
        const Outcome o = run_tool({"--model", traced().string(), "--size", "16", "--image", image.string(), "--out",
                                    out.string(), "--labels", (dir / "labels.txt").string(), "--layer", layer, "--method",
                                    "gradcam,scorecam,rise,occlusion", "--rise-masks", "64", "--occlusion-window", "4",
                                    "--occlusion-stride", "4", "--threads", "1"});
        INFO(o.err);
        REQUIRE(o.code == 0);
        CHECK_THAT(o.out, Contains("model " + traced().string() + " (TorchScript, 3x16x16, 4 classes)"));
        xai::ExplainerSettings settings;
        settings.layers = {layer};
        settings.cam.threads = settings.score_cam.cam.threads = settings.rise.threads = settings.occlusion.threads = 1;
        settings.rise.num_masks = 64;
        settings.occlusion.window = settings.occlusion.stride = 4;
        for (const char* method : {"gradcam", "scorecam", "rise", "occlusion"}) {
            INFO(method);
            const xai::AnyExplanation x = xai::make_explainer(method, model, settings).explain(input);
            const std::vector<float> file = npy_values(out / ("wide_" + std::string(method) + ".npy"));
            REQUIRE(file.size() == x.raw.size());
            for (std::size_t i = 0; i < file.size(); ++i) CHECK(file[i] == Approx(x.raw.data()[i]).margin(1e-5));
        }
        const std::string summary = read_text(out / "summary.json");
        CHECK_THAT(summary, Contains("\"tool\": \"xai-explain-torch\"") && Contains("\"normalize\": \"imagenet\"") &&
                                Contains("\"layer\": \"" + layer + "\""));
    }
    // FullGrad (the model's bias gradients through LibTorch) and DFF with its picture.
    const fs::path out = dir / "out_fullgrad";
    const Outcome o = run_tool({"--model", traced().string(), "--size", "16", "--image", image.string(), "--out", out.string(),
                                "--method", "fullgrad,dff", "--dff-components", "3", "--threads", "1"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    xai::ExplainerSettings settings;
    settings.full_grad.threads = settings.dff.threads = 1;
    settings.dff.components = 3;
    for (const char* method : {"fullgrad", "dff"}) {
        INFO(method);
        const xai::AnyExplanation x = xai::make_explainer(method, model, settings).explain(input);
        const std::vector<float> file = npy_values(out / ("wide_" + std::string(method) + ".npy"));
        REQUIRE(file.size() == x.raw.size());
        for (std::size_t i = 0; i < file.size(); ++i) CHECK(file[i] == Approx(x.raw.data()[i]).margin(1e-5));
    }
    CHECK(xai::load_image(out / "wide_dff_concepts.png").shape(2) == 16);
    fs::remove_all(dir);
}

TEST_CASE("xai-explain-torch explains a scripted torchvision-style ResNet, untouched, at any layer", "[cli][torch]") {
    const fs::path dir = scratch("scripted");
    torch::jit::Module m = xai_test::tv::resnet();
    m.eval();
    m.save((dir / "resnet.pt").string());
    const fs::path image = photo(dir / "photo.jpg", 3, 48, 40);
    Outcome o = run_tool({"--model", (dir / "resnet.pt").string(), "--size", "32", "--list-layers"});
    REQUIRE(o.code == 0);
    CHECK_THAT(o.out, Contains("layer3.0") && Contains("(default --layer)"));
    o = run_tool({"--model", (dir / "resnet.pt").string(), "--size", "32", "--image", image.string(), "--out",
                  (dir / "out").string(), "--layer", "layer2,layer3", "--method", "gradcam,ablationcam"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK(fs::exists(dir / "out" / "photo_ablationcam.png"));
    CHECK(xai::load_image(dir / "out" / "photo_gradcam.png").shape(1) == 48 * 4);  // drawn back on the photo (4×)
    fs::remove_all(dir);
}

TEST_CASE("xai-explain-torch: a grey/RGB mismatch is one line naming --channels, exit 3; a grey photo is converted",
          "[cli][torch][errors]") {
    const fs::path dir = scratch("channels");
    const fs::path grey = photo(dir / "grey.png", 1, 20, 20);
    Outcome o = run_tool({"--model", traced().string(), "--size", "16", "--channels", "1", "--image", grey.string(), "--out",
                          (dir / "out").string()});
    CHECK(o.code == static_cast<int>(ExitCode::model));
    CHECK_THAT(o.err, Contains("xai-explain-torch: ") && Contains("takes RGB input, not grey") &&
                          Contains("pass --channels 3"));
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    CHECK(o.out.empty());
    // Without --channels: the grey photo is converted to the model's RGB, with a note.
    o = run_tool({"--model", traced().string(), "--size", "16", "--image", grey.string(), "--out", (dir / "out").string()});
    INFO(o.err);
    CHECK(o.code == 0);
    CHECK_THAT(o.err, Contains("converted grey to RGB"));
    // A missing file and one that is not TorchScript are model errors, in one line.
    CHECK(run_tool({"--model", (dir / "none.pt").string(), "--image", grey.string()}).code == static_cast<int>(ExitCode::model));
    std::ofstream(dir / "broken.pt") << "not a TorchScript archive";
    o = run_tool({"--model", (dir / "broken.pt").string(), "--image", grey.string(), "--out", (dir / "out").string()});
    CHECK(o.code == static_cast<int>(ExitCode::model));
    CHECK_THAT(o.err, Contains("cannot load model"));
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);  // LibTorch's traceback is cut to its first line
    fs::remove_all(dir);
}
