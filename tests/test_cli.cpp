// Tests of xai-explain (examples/xai_explain.cpp): the tool is called as a function,
// xai_explain::run(arguments, console) from tools/xai-explain/run.hpp, with its output captured.
//
// End to end: every method on a shipped image with the shipped model; the PNGs load back with
// the sizes the gallery layout implies, each .npy has a valid v1.0 header and exactly the
// float32 values the library computes, summary.json is well-formed JSON with every required
// figure. Then each kind of failure returns its documented exit code, and the pieces (the .npy
// and JSON writers, the text drawing, the progress bar) are checked against their formats.
#include "../tools/xai-explain/run.hpp"  // first: core/eigen.hpp before xtensor

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
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

struct Outcome {
    int code = -1;
    std::string out, err;
};

Outcome run_tool(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Outcome o;
    o.code = xai_explain::run(args, xai_explain::Console{out, err, false});
    o.out = out.str();
    o.err = err.str();
    return o;
}

int code(ExitCode c) { return static_cast<int>(c); }

/// A fresh folder for one test case (ctest runs test cases in parallel processes).
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("xai_test_cli_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The random-weight built-in fashion architecture, written as a weights file.
fs::path random_model(const fs::path& dir) {
    const fs::path path = dir / "random.xaiw";
    xai::models::builtin_architecture("fashion", 3).save(path);
    return path;
}

/// A w×h image with `channels` channels, a smooth pattern, written as PNG.
fs::path test_image(const fs::path& path, std::size_t channels, std::size_t h, std::size_t w) {
    xai::Image image = xai::Image::from_shape({channels, h, w});
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x)
                image(c, y, x) = static_cast<float>((x + 2 * y + 7 * c) % 17) / 16.0f;
    xai::save_image(path, image);
    return path;
}

/// A .npy file read back: its shape and values, after checking the v1.0 header.
struct Npy {
    std::vector<std::size_t> shape;
    std::vector<float> values;
};

Npy read_npy(const fs::path& path) {
    const std::string bytes = read_text(path);
    REQUIRE(bytes.size() >= 10);
    REQUIRE(bytes.compare(0, 6, "\x93NUMPY") == 0);
    CHECK(bytes[6] == 1);
    CHECK(bytes[7] == 0);
    const std::size_t length = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    CHECK((10 + length) % 64 == 0);
    const std::string header = bytes.substr(10, length);
    CHECK(header.back() == '\n');
    CHECK_THAT(header, Contains("'descr': '<f4'") && Contains("'fortran_order': False"));
    const std::size_t open = header.find("'shape': ("), close = header.find(')', open);
    REQUIRE(open != std::string::npos);
    Npy npy;
    std::istringstream dims(header.substr(open + 10, close - open - 10));
    std::size_t count = 1;
    for (std::string item; std::getline(dims, item, ',');)
        if (item.find_first_not_of(' ') != std::string::npos) {
            npy.shape.push_back(std::stoul(item));
            count *= npy.shape.back();
        }
    REQUIRE(bytes.size() == 10 + length + 4 * count);
    npy.values.resize(count);
    std::memcpy(npy.values.data(), bytes.data() + 10 + length, 4 * count);
    return npy;
}

/// A minimal JSON checker (RFC 8259 grammar, no semantic checks): true when `text` is one
/// well-formed value followed by white space only.
class JsonChecker {
public:
    explicit JsonChecker(std::string text) : s_(std::move(text)) {}
    bool valid() {
        const bool ok = value();
        space();
        return ok && i_ == s_.size();
    }

private:
    void space() {
        while (i_ < s_.size() && std::strchr(" \t\r\n", s_[i_]) != nullptr) ++i_;
    }
    bool literal(const char* word) {
        const std::size_t n = std::strlen(word);
        if (s_.compare(i_, n, word) != 0) return false;
        i_ += n;
        return true;
    }
    bool string() {
        if (s_[i_] != '"') return false;
        for (++i_; i_ < s_.size(); ++i_) {
            if (s_[i_] == '"') return ++i_, true;
            if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
            if (s_[i_] == '\\') ++i_;
        }
        return false;
    }
    bool number() {
        const std::size_t start = i_;
        if (s_[i_] == '-') ++i_;
        while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || std::strchr(".eE+-", s_[i_]))) ++i_;
        return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
    }
    bool value() {
        space();
        if (i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{' || c == '[') {
            const char end = c == '{' ? '}' : ']';
            ++i_;
            space();
            if (s_[i_] == end) return ++i_, true;
            while (true) {
                space();
                if (c == '{') {
                    if (!string()) return false;
                    space();
                    if (s_[i_++] != ':') return false;
                }
                if (!value()) return false;
                space();
                if (s_[i_] == end) return ++i_, true;
                if (s_[i_++] != ',') return false;
            }
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }
    std::string s_;
    std::size_t i_ = 0;
};

fs::path shipped_image() { return xai::data_directory() / "samples" / "photos" / "chelsea_224.png"; }

}  // namespace

TEST_CASE("xai-explain runs every method on a shipped image; its PNGs, .npy maps and summary decode", "[cli]") {
    const fs::path dir = scratch("all");
    const fs::path out = dir / "out";
    const Outcome o = run_tool({"--model", "fashion", "--image", shipped_image().string(), "--method", "all", "--out",
                                out.string(), "--samples", "40", "--stability", "2", "--window", "7", "--stride", "7",
                                "--threads", "2"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK_THAT(o.err, Contains("converted RGB to grey") && Contains("resized from 224x224 to 28x28"));
    CHECK_THAT(o.out, Contains("model fashion (built-in, 1x28x28, 10 classes)") && Contains("chelsea_224_gallery.png"));

    const xai::models::Sequential model = xai::models::load_builtin("fashion");
    const xai::Image input = xai_explain::prepare_image(shipped_image(), model.input_shape()).input;
    const std::size_t predicted = xai::argmax_rows(model.forward(xai::as_batch(input))).front();
    for (const xai::MethodInfo& m : xai::explanation_methods) {
        const std::string base = "chelsea_224_" + xai_explain::file_slug(m.name);
        INFO(base);
        const xai::Image overlay = xai::load_image(out / (base + ".png"));
        CHECK(overlay.shape(0) == 3);
        CHECK(overlay.shape(1) == 196);  // 28 × 7, the display size
        CHECK(overlay.shape(2) == 196);
        const Npy npy = read_npy(out / (base + ".npy"));
        REQUIRE(npy.shape.size() == 2);
        // Layer methods give the layer's 7×7 map, except Guided Grad-CAM (guided backprop × the
        // upsampled Grad-CAM map: input size).
        CHECK(npy.shape[0] == ((m.uses_layer && m.name != "guided_gradcam") || m.name == "cam" ? 7 : 28));
        CHECK(npy.shape[1] == npy.shape[0]);
        CHECK(xai::all_finite(npy.values));
    }
    // The raw map in the file is the library's, value for value (Grad-CAM at the default layer).
    const xai::AnyExplanation gradcam = xai::make_explainer("gradcam", model).explain(input, xai::Target::class_index(predicted));
    const Npy gradcam_npy = read_npy(out / "chelsea_224_gradcam.npy");
    CHECK(std::equal(gradcam_npy.values.begin(), gradcam_npy.values.end(), gradcam.raw.begin(), gradcam.raw.end()));
    CHECK(read_npy(out / "chelsea_224_rise_standard_error.npy").shape == std::vector<std::size_t>{28, 28});
    CHECK(read_npy(out / "chelsea_224_lime_weight_std.npy").shape == std::vector<std::size_t>{28, 28});

    // One panel per method in rows of 7: 8 + 7·(196 + 8) wide; each row 8 + label (2·24 + 4) + 196 + 8.
    const xai::Image gallery = xai::load_image(out / "chelsea_224_gallery.png");
    const std::size_t gallery_rows = (xai::explanation_methods.size() + 6) / 7;
    CHECK(gallery.shape(2) == 8 + 7 * (196 + 8));
    CHECK(gallery.shape(1) == 8 + gallery_rows * (52 + 196 + 8));

    const std::string summary = read_text(out / "summary.json");
    CHECK(JsonChecker(summary).valid());
    for (const char* key : {"\"model\"", "\"image\"", "\"target\"", "\"seconds\"", "\"r2\"", "\"stability_mean_jaccard\"",
                            "\"stability_min_jaccard\"", "\"masks_used\": 40", "\"relative_standard_error\"",
                            "\"standard_error\"", "\"gallery\"", "\"map_shape\": [7, 7]", "\"layer\": \"relu4\""})
        CHECK_THAT(summary, Contains(key));
    for (const xai::MethodInfo& m : xai::explanation_methods)
        CHECK_THAT(summary, Contains("\"method\": \"" + std::string(m.name) + "\""));
    CHECK_THAT(summary, Contains("\"prediction\": {\n        \"index\": " + std::to_string(predicted)));
    fs::remove_all(dir);
}

TEST_CASE("xai-explain explains a folder, converts and resizes with a note, and takes a class by index or name", "[cli]") {
    const fs::path dir = scratch("folder");
    const fs::path images = dir / "images";
    fs::create_directories(images);
    test_image(images / "a_grey.png", 1, 28, 28);
    test_image(images / "b_rgb.png", 3, 30, 40);
    std::ofstream(images / "readme.txt") << "not an image";
    std::ofstream(dir / "classes.txt") << "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nNine Lives\n";
    const fs::path model = random_model(dir);
    const std::string out = (dir / "out").string();

    Outcome o = run_tool({"--model", model.string(), "--image", images.string(), "--out", out, "--method", "gradcam,eigencam",
                          "--target", "nine lives", "--classes", (dir / "classes.txt").string(), "--layer", "relu3,relu4"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK_THAT(o.err, Contains("b_rgb.png: converted RGB to grey") && Contains("resized from 30x40 to 28x28"));
    CHECK_THAT(o.err, !Contains("a_grey.png"));  // already the model's input: no note
    for (const char* file : {"a_grey_gallery.png", "b_rgb_gallery.png", "a_grey_gradcam.npy", "b_rgb_eigencam.png"})
        CHECK(fs::exists(dir / "out" / file));
    CHECK_FALSE(fs::exists(dir / "out" / "readme_gallery.png"));
    std::string summary = read_text(dir / "out" / "summary.json");
    CHECK(JsonChecker(summary).valid());
    CHECK_THAT(summary, Contains("\"name\": \"Nine Lives\"") && Contains("\"layer\": \"relu3,relu4\""));
    CHECK(read_npy(dir / "out" / "a_grey_gradcam.npy").shape == std::vector<std::size_t>{28, 28});  // fused: input size
    CHECK(xai::load_image(dir / "out" / "b_rgb_gallery.png").shape(2) == 8 + 3 * (196 + 8));

    o = run_tool({"--model", model.string(), "--image", (images / "a_grey.png").string(), "--out", out, "--target", "4",
                  "--json"});
    REQUIRE(o.code == 0);
    CHECK(JsonChecker(o.out).valid());  // --json: stdout is the summary and nothing else
    CHECK(o.out == read_text(dir / "out" / "summary.json"));
    CHECK_THAT(o.out, Contains("\"target\": {\n        \"index\": 4") && Contains("\"name\": \"class 4\""));

    o = run_tool({"--model", model.string(), "--image", (images / "b_rgb.png").string(), "--image",
                  (images / "a_grey.png").string(), "--out", out, "--quiet"});
    CHECK(o.code == 0);
    CHECK(o.out.empty());
    CHECK(o.err.empty());
    summary = read_text(dir / "out" / "summary.json");
    CHECK(summary.find("b_rgb.png") < summary.find("a_grey.png"));  // repeated --image: in the order given
    fs::remove_all(dir);
}

TEST_CASE("xai-explain answers --help, --list-methods, --list-models and --list-layers", "[cli]") {
    const fs::path dir = scratch("lists");
    Outcome o = run_tool({"--help"});
    CHECK(o.code == 0);
    CHECK_THAT(o.out, Contains("usage: xai-explain") && Contains("Exit status") &&
                          Contains("LIME samples (default: " + std::to_string(xai::LimeOptions{}.num_samples) + ")") &&
                          Contains("RISE masks (default: " + std::to_string(xai::RiseOptions{}.num_masks) + ")"));
    o = run_tool({"--list-methods"});
    CHECK(o.code == 0);
    for (const xai::MethodInfo& m : xai::explanation_methods) CHECK_THAT(o.out, Contains(std::string(m.title)));
    o = run_tool({"--list-models"});
    CHECK(o.code == 0);
    CHECK_THAT(o.out, Contains("fashion   1x28x28") && Contains("scenes    1x64x64"));
    o = run_tool({"--model", random_model(dir).string(), "--list-layers"});
    CHECK(o.code == 0);
    CHECK_THAT(o.out, Contains("conv1     conv2d -> 32x28x28") && Contains("relu4     relu -> 128x7x7   (default --layer)") &&
                          Contains("fc        linear -> 10"));
    fs::remove_all(dir);
}

TEST_CASE("xai-explain returns a distinct exit code for each kind of failure", "[cli][errors]") {
    const fs::path dir = scratch("errors");
    const std::string model = random_model(dir).string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const std::string out = (dir / "out").string();
    std::ofstream(dir / "broken.png") << "this is not a PNG";
    fs::create_directories(dir / "empty");
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"--model", model, "--image", image, "--out", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool(args);
    };
    struct Case {
        std::vector<std::string> args;
        ExitCode code;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"--model", (dir / "missing.xaiw").string(), "--image", image}, ExitCode::model, "neither a built-in model"},
        {{"--model", image, "--image", image}, ExitCode::model, "cannot load model"},
        {{"--model", "resnet.pt", "--image", image}, ExitCode::model, "built without LibTorch"},
        {{"--model", model, "--image", (dir / "nothing.png").string()}, ExitCode::image, "does not exist"},
        {{"--model", model, "--image", (dir / "broken.png").string()}, ExitCode::image, "cannot read image"},
        {{"--model", model, "--image", (dir / "empty").string()}, ExitCode::image, "holds no image files"},
        {{"--model", model, "--image", image, "--method", "gradcam,deepdream"}, ExitCode::method, "unknown method 'deepdream'"},
        {{"--model", model, "--image", image, "--layer", "conv9"}, ExitCode::layer, "unknown layer 'conv9'"},
        {{"--model", model, "--image", image, "--samples", "0"}, ExitCode::usage, "--samples '0' is not a positive integer"},
        {{"--model", model, "--image", image, "--seed", "-1"}, ExitCode::usage, "--seed '-1' is not a non-negative integer"},
        {{"--model", model, "--image", image, "--tolerance", "x"}, ExitCode::usage, "--tolerance 'x' is not a finite number"},
        {{"--model", model, "--image", image, "--target", "10"}, ExitCode::usage, "expected a class index below 10"},
        {{"--model", model, "--image", image, "--target", "cat"}, ExitCode::usage, "is not top, a class index or a class name"},
        {{"--model", model, "--image", image, "--colormap", "pink"}, ExitCode::usage, "expected jet, viridis or turbo"},
        {{"--model", model, "--image", image, "--superpixels", "slic:size=3"}, ExitCode::usage, "slic has no parameter 'size'"},
        {{"--model", model, "--image", image, "--superpixels", "grid:rows=x"}, ExitCode::usage, "is not a non-negative integer"},
        {{"--model", model, "--image", image, "--superpixels", "watershed"}, ExitCode::usage, "expected quickshift, slic"},
        {{"--model", model, "--image", image, "--method", "occlusion", "--window", "40"}, ExitCode::usage, "window is 40"},
        {{"--model", model, "--image", image, "--method", "rise", "--samples", "1"}, ExitCode::usage, "method 'rise'"},
        {{"--model", model, "--image", image, "--frobnicate"}, ExitCode::usage, "unknown option '--frobnicate'"},
        {{"--model", model, "--image"}, ExitCode::usage, "--image needs a value"},
        {{"--image", image}, ExitCode::usage, "--model is required"},
        {{"--model", model}, ExitCode::usage, "--image is required"},
        {{"--model", model, "--image", image, "--classes", (dir / "none.txt").string()}, ExitCode::usage, "cannot be read"},
    };
    for (const Case& c : cases) {
        std::string joined;
        for (const std::string& a : c.args) joined += a + " ";
        INFO(joined);
        const Outcome o = run_tool(c.args);
        CHECK(o.code == code(c.code));
        CHECK_THAT(o.err, Contains("xai-explain: ") && Contains(c.message));
        CHECK(o.out.empty());
    }
    // The codes are distinct, and 0 only for success.
    CHECK(with({}).code == 0);
    const std::vector<int> codes{code(ExitCode::failure), code(ExitCode::usage), code(ExitCode::model),
                                 code(ExitCode::image),   code(ExitCode::method), code(ExitCode::layer)};
    for (std::size_t i = 0; i < codes.size(); ++i) {
        CHECK(codes[i] != 0);
        for (std::size_t j = i + 1; j < codes.size(); ++j) CHECK(codes[i] != codes[j]);
    }
    // Output that cannot be written: the output folder is a file.
    const Outcome blocked = run_tool({"--model", model, "--image", image, "--out", image});
    CHECK(blocked.code == code(ExitCode::failure));
    CHECK_THAT(blocked.err, Contains("cannot create the output folder"));
    fs::remove_all(dir);
}

TEST_CASE("A method that fails at run time is reported, the others still run, and the exit code is 1", "[cli][errors]") {
    const fs::path dir = scratch("runtime");
    using namespace xai::models;
    const fs::path model = dir / "flat.xaiw";  // no global average pooling: CAM has no feature maps
    Sequential({1, 28, 28}, {conv2d(4, 3, 1, 1), relu(), flatten(), linear(10)}, 2).save(model);
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const Outcome o = run_tool({"--model", model.string(), "--image", image, "--out", (dir / "out").string(), "--method",
                                "cam,gradcam", "--layer", "relu1"});
    CHECK(o.code == code(ExitCode::failure));
    CHECK_THAT(o.err, Contains("cam failed"));
    CHECK(fs::exists(dir / "out" / "item_gradcam.npy"));
    CHECK_FALSE(fs::exists(dir / "out" / "item_cam.npy"));
    const std::string summary = read_text(dir / "out" / "summary.json");
    CHECK(JsonChecker(summary).valid());
    CHECK_THAT(summary, Contains("\"error\": "));
    fs::remove_all(dir);
}

TEST_CASE("xai-explain --method influence gives the last layer's influence: that of Influence on the network's fc parameters",
          "[cli][influence]") {
    const fs::path dir = scratch("influence");
    using namespace xai::models;
    Sequential net({1, 28, 28}, {conv2d(4, 3, 1, 1), relu(), max_pool2d(2), conv2d(6, 3, 1, 1), relu(), global_avg_pool(), linear(3)}, 5);
    net.set_l2_regularization(0.05);
    const fs::path model = dir / "small.xaiw";
    net.save(model);
    std::ofstream(dir / "classes.txt") << "red\ngreen\nblue\n";
    // Class folders by name and by index; 4 images each.
    std::vector<fs::path> files;
    for (const char* folder : {"red", "1", "blue"}) {
        fs::create_directories(dir / "train" / folder);
        for (std::size_t i = 0; i < 4; ++i) {
            xai::Image image = xai::Image::from_shape({1, 28, 28});
            xai::Rng rng(files.size() + 1);
            for (float& v : image) v = static_cast<float>(rng.uniform());
            files.push_back(dir / "train" / folder / ("item" + std::to_string(i) + ".png"));
            xai::save_image(files.back(), image);
        }
    }
    const std::string test = test_image(dir / "test.png", 1, 28, 28).string();
    const Outcome o = run_tool({"--model", model.string(), "--classes", (dir / "classes.txt").string(), "--image", test,
                                "--out", (dir / "out").string(), "--method", "gradcam,influence", "--train",
                                (dir / "train").string(), "--target", "green"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK_THAT(o.out, Contains("influence") && Contains("test_influence.png"));

    // The same training set in the tool's order (sorted paths), with its labels.
    std::sort(files.begin(), files.end());
    std::vector<xai::Image> images;
    xai::Labels labels;
    for (const fs::path& f : files) {
        images.push_back(xai::load_image(f, 1));
        const std::string folder = f.parent_path().filename().string();
        labels.push_back(folder == "red" ? 0 : folder == "1" ? 1 : 2);
    }
    const xai::Batch train = xai::stack(images);
    xai::InfluenceOptions options;
    options.parameter_blocks = {"fc.weight", "fc.bias"};
    options.stationarity = xai::StationarityPolicy::warn;
    const xai::Influence<Sequential, xai::ExactSolver> reference(net, train, labels, options);
    const xai::InfluenceExplanation expected = reference.explain(xai::load_image(test, 1), xai::Target::class_index(1));

    const Npy values = read_npy(dir / "out" / "test_influence.npy");
    REQUIRE(values.shape == std::vector<std::size_t>{12});
    const double scale = expected.influence.cwiseAbs().maxCoeff();
    REQUIRE(scale > 0.0);
    for (std::size_t i = 0; i < 12; ++i)
        CHECK(values.values[i] == Approx(expected.influence(static_cast<Eigen::Index>(i), 0)).margin(1e-3 * scale));
    const std::string summary = read_text(dir / "out" / "summary.json");
    CHECK(JsonChecker(summary).valid());
    CHECK_THAT(summary, Contains("\"method\": \"influence\"") && Contains("\"helpful\": [") && Contains("\"harmful\": [") &&
                            Contains("\"relative_gradient_norm\"") && Contains("\"l2_regularization\": 0.05") &&
                            Contains("\"index\": " + std::to_string(expected.helpful[0][0]) + ","));
    // Rows of the test image and up to 10 examples: 11 columns, 2 rows.
    const xai::Image picture = xai::load_image(dir / "out" / "test_influence.png");
    CHECK(picture.shape(2) == 8 + 11 * (196 + 8));
    CHECK(picture.shape(1) == 8 + 2 * (52 + 196 + 8));

    const std::vector<std::string> base{"--model", model.string(), "--classes", (dir / "classes.txt").string(), "--image",
                                        test, "--out", (dir / "out").string()};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool(args);
    };
    CHECK(with({"--method", "influence"}).code == code(ExitCode::usage));
    CHECK(with({"--train", (dir / "train").string()}).code == code(ExitCode::usage));  // no influence asked
    CHECK(with({"--method", "influence", "--train", (dir / "none").string()}).code == code(ExitCode::image));
    fs::create_directories(dir / "train" / "purple");
    const Outcome purple = with({"--method", "influence", "--train", (dir / "train").string()});
    CHECK(purple.code == code(ExitCode::usage));
    CHECK_THAT(purple.err, Contains("'purple' is neither a class name nor a class index"));
    fs::remove_all(dir);
}

TEST_CASE("The .npy writer writes format 1.0: magic, a 64-byte aligned dict header, little-endian float32", "[cli][npy]") {
    const float values[6] = {0.0f, 1.0f, -2.5f, 3.0f, 1e-3f, 7.0f};
    const std::vector<char> bytes = xai_explain::encode_npy(values, {2, 3});
    const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // 10 + 59 + 1 = 70 bytes round up to 128: the data starts at byte 128, as numpy writes it.
    REQUIRE(header.size() == 59);
    REQUIRE(bytes.size() == 128 + 24);
    CHECK(std::string(bytes.data(), 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(bytes[8] == 118);  // 128 − 10
    CHECK(bytes[9] == 0);
    CHECK(std::string(bytes.data() + 10, header.size()) == header);
    CHECK(std::string(bytes.data() + 69, 59) == std::string(58, ' ') + "\n");
    // -2.5f is 0xC0200000: little-endian bytes 00 00 20 C0.
    CHECK(static_cast<unsigned char>(bytes[128 + 8]) == 0x00);
    CHECK(static_cast<unsigned char>(bytes[128 + 10]) == 0x20);
    CHECK(static_cast<unsigned char>(bytes[128 + 11]) == 0xC0);
    float back[6];
    std::memcpy(back, bytes.data() + 128, sizeof back);
    CHECK(std::equal(back, back + 6, values));
    const std::vector<char> vector = xai_explain::encode_npy(values, {5});
    CHECK(std::string(vector.data() + 10, 57) == "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
    CHECK(vector.size() == 128 + 20);
}

TEST_CASE("The JSON writer escapes strings, writes round-trip numbers, and null for NaN", "[cli][json]") {
    xai_explain::Json j = xai_explain::Json::object();
    j.set("text", "a \"quote\", a \\ and a\nnew line\x01");
    j.set("numbers", xai_explain::Json(xai_explain::Json::Array{0.1, 3, std::size_t{7}, 1e-30, -2.5}));
    j.set("nan", std::nan(""));
    j.set("flag", true);
    j.set("nothing", xai_explain::Json());
    j.set("nested", xai_explain::Json::object().set("empty", xai_explain::Json::array()));
    const std::string text = j.dump();
    CHECK(JsonChecker(text).valid());
    CHECK(text == "{\n  \"text\": \"a \\\"quote\\\", a \\\\ and a\\nnew line\\u0001\",\n"
                  "  \"numbers\": [0.1, 3, 7, 1e-30, -2.5],\n  \"nan\": null,\n  \"flag\": true,\n  \"nothing\": null,\n"
                  "  \"nested\": {\n    \"empty\": []\n  }\n}\n");
}

TEST_CASE("Labels are drawn with stb_easy_font inside their box and cut to fit", "[cli][gallery]") {
    xai::Image canvas = xai::Image(xt::ones<float>({3, 40, 100}));
    xai_explain::draw_text(canvas, 10, 5, "Grad-CAM", 2, {0.0f, 0.0f, 0.0f});
    std::size_t ink = 0, left = 100, right = 0, top = 40, bottom = 0;
    for (std::size_t y = 0; y < 40; ++y)
        for (std::size_t x = 0; x < 100; ++x)
            if (canvas(0, y, x) == 0.0f) {
                ++ink;
                left = std::min(left, x), right = std::max(right, x), top = std::min(top, y), bottom = std::max(bottom, y);
            }
    CHECK(ink > 100);
    CHECK(left >= 10);
    CHECK(top >= 5);
    CHECK(right < 10 + xai_explain::text_width("Grad-CAM", 2));
    CHECK(bottom < 5 + xai_explain::line_height(2));
    CHECK(xai_explain::text_width("Grad-CAM", 2) == 2 * xai_explain::text_width("Grad-CAM", 1));
    const std::string cut = xai_explain::fit_text("Ankle boot 99.9% and more words", 120, 2);
    CHECK(cut.size() < 31);
    CHECK(cut.substr(cut.size() - 2) == "..");
    CHECK(xai_explain::text_width(cut, 2) <= 120);
    CHECK(xai_explain::fit_text("Bag", 120, 2) == "Bag");
    CHECK(xai_explain::display_factor(28, 28) == 7);
    CHECK(xai_explain::display_factor(64, 64) == 3);
    CHECK(xai_explain::display_factor(224, 224) == 1);
}

TEST_CASE("The progress bar redraws only when its percentage changes and erases itself", "[cli][progress]") {
    std::ostringstream err;
    {
        xai_explain::ProgressBar bar(err, true, "rise");
        const xai::Progress callback = bar.callback();
        for (std::size_t done = 1; done <= 1000; ++done) callback(xai::ProgressReport{done, 1000, "masks"});
        CHECK_THAT(err.str(), Contains("[##############################] 1000/1000 masks") && Contains("500/1000 masks"));
    }
    const std::string text = err.str();
    CHECK(std::count(text.begin(), text.end(), '\r') == 101 + 2);  // 0 % … 100 %, then the erasing line's two
    CHECK(text.substr(text.size() - 1) == "\r");
    std::ostringstream quiet;
    xai_explain::ProgressBar off(quiet, false, "rise");
    CHECK_FALSE(static_cast<bool>(off.callback()));
    off(xai::ProgressReport{1, 2, "masks"});
    CHECK(quiet.str().empty());
}
