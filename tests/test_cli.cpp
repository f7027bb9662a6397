// Tests of xai-explain (tools/xai-explain/): the tool is called as a function,
// xai_explain::run(arguments, console) from tools/xai-explain/run.hpp, with its output captured.
//
// End to end: every method on a shipped image with the shipped model; the PNGs load back with
// the sizes the gallery layout implies, each .npy has a valid v1.0 header and exactly the
// float32 values the library computes, summary.json parses and holds every required figure.
// A folder as users have it (subfolders, a corrupt file, a grey image, photos of mixed sizes):
// the bad file is reported and the rest explained, a rerun resumes, the report parses, the
// metrics equal the library's. Then each kind of failure returns its documented exit code, and
// the pieces (the .npy writer, the text drawing, the status line) are checked against their formats.
#include "xai/core/eigen.hpp"  // first: before anything that includes Eigen

#include "../tools/xai-explain/explain.hpp"  // the tool's pieces; run() itself is linked (xai_explain_core)
#include "cli_test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using xai_explain::ExitCode;

namespace {

using xai_test::Outcome;
using xai_test::npy_values;
using xai_test::read_text;
using xai_test::run_tool;
using xai_test::scratch;

int code(ExitCode c) { return static_cast<int>(c); }

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

/// summary.json (or any record) parsed; fails the test when it is not JSON.
xai_explain::Json read_json(const fs::path& path) {
    const xai_explain::Json j = xai_explain::Json::parse(read_text(path), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

fs::path shipped_image() { return xai::data_directory() / "samples" / "photos" / "chelsea_224.png"; }

}  // namespace

TEST_CASE("xai-explain runs every method on a shipped image; its PNGs, .npy maps and summary decode", "[cli]") {
    const fs::path dir = scratch("all");
    const fs::path out = dir / "out";
    const Outcome o = run_tool({"--model", "fashion", "--image", shipped_image().string(), "--method", "all", "--out",
                                out.string(), "--lime-samples", "40", "--rise-masks", "40", "--lime-stability", "2",
                                "--occlusion-window", "7", "--occlusion-stride", "7", "--threads", "2"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    // 224×224 → torchvision's Resize(⌊28 / 0.875⌋ = 32) + CenterCrop(28).
    CHECK_THAT(o.err, Contains("converted RGB to grey") &&
                          Contains("resized from 224x224 to 32x32 and cropped to the centre 28x28"));
    CHECK_THAT(o.out, Contains("model fashion (built-in, 1x28x28, 10 classes)") && Contains("chelsea_224_gallery.png"));

    xai_explain::Arguments arguments;
    arguments.model = "fashion";
    xai_explain::ModelInfo info;
    const xai::models::Sequential model = xai_explain::load_sequential(arguments, info);
    const xai::Image input = xai_explain::prepare_image(shipped_image(), model.input_shape(), info).input;
    CHECK(xt::allclose(input, xai::Preprocessing{.height = 28, .width = 28, .mean = {0.0f}, .std = {1.0f},
                                                 .fit = xai::Fit::center_crop}(xai::load_image(shipped_image(), 1)),
                       0.0, 0.0));
    const std::size_t predicted = xai::argmax_rows(model.forward(xai::as_batch(input))).front();
    for (const xai::MethodInfo& m : xai::explanation_methods) {
        const std::string base = "chelsea_224_" + xai_explain::file_slug(m.name);
        INFO(base);
        const xai::Image overlay = xai::load_image(out / (base + ".png"));
        CHECK(overlay.shape(0) == 3);
        CHECK(overlay.shape(1) == 224);  // drawn back on the photo, at its own size
        CHECK(overlay.shape(2) == 224);
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

    // One panel per method in rows of 7: 8 + 7·(224 + 8) wide; each row 8 + label (2·24 + 4) +
    // 224 + 8 high.
    const xai::Image gallery = xai::load_image(out / "chelsea_224_gallery.png");
    const std::size_t gallery_rows = (xai::explanation_methods.size() + 6) / 7;
    CHECK(gallery.shape(2) == 8 + 7 * (224 + 8));
    CHECK(gallery.shape(1) == 8 + gallery_rows * (52 + 224 + 8));

    const xai_explain::Json summary = read_json(out / "summary.json");
    CHECK(summary["tool"] == "xai-explain");
    REQUIRE(summary["images"].size() == 1);
    const xai_explain::Json& record = summary["images"][0];
    CHECK(record["prediction"]["index"] == predicted);
    CHECK(record["prediction"]["name"] == std::string(xai::fashion_mnist_classes[predicted]));
    CHECK(record["framing"]["resized"] == xai_explain::Json({32, 32}));
    CHECK(record["framing"]["top"] == 2);
    CHECK(summary["settings"]["input"]["resize"] == "crop");
    CHECK(summary["settings"]["lime"]["stability_repeats"] == 2);
    REQUIRE(record["methods"].size() == xai::explanation_methods.size());
    for (std::size_t i = 0; i < xai::explanation_methods.size(); ++i) {
        const xai_explain::Json& m = record["methods"][i];
        CHECK(m["method"] == std::string(xai::explanation_methods[i].name));
        CHECK_FALSE(m.contains("error"));
        CHECK(m["seconds"].get<double>() >= 0.0);
    }
    CHECK(record["methods"][1]["layer"] == "relu4");
    CHECK(record["methods"][1]["map_shape"] == xai_explain::Json({7, 7}));
    const auto method = [&](const std::string& name) {
        for (const xai_explain::Json& m : record["methods"])
            if (m["method"] == name) return m;
        FAIL("no " << name);
        return xai_explain::Json();
    };
    CHECK(method("rise")["statistics"]["masks_used"] == 40);
    CHECK(method("rise")["extra_maps"].contains("standard_error"));
    for (const char* key : {"r2", "stability_mean_jaccard", "stability_min_jaccard"})
        CHECK(method("lime")["statistics"].contains(key));
    // The image's own record beside its outputs is its entry of the summary.
    xai_explain::Json own = read_json(out / "chelsea_224.json");
    CHECK(own == record);
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
                          "--target", "nine lives", "--labels", (dir / "classes.txt").string(), "--layer", "relu3,relu4"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    // 30×40 → short side ⌊28 / 0.875⌋ = 32, long side int(32 · 40 / 30) = 42, centre 28×28.
    CHECK_THAT(o.err, Contains("b_rgb.png: converted RGB to grey") &&
                          Contains("resized from 30x40 to 32x42 and cropped to the centre 28x28"));
    CHECK_THAT(o.err, !Contains("a_grey.png"));  // already the model's input: no note
    for (const char* file : {"a_grey_gallery.png", "b_rgb_gallery.png", "a_grey_gradcam.npy", "b_rgb_eigencam.png"})
        CHECK(fs::exists(dir / "out" / file));
    CHECK_FALSE(fs::exists(dir / "out" / "readme_gallery.png"));
    xai_explain::Json summary = read_json(dir / "out" / "summary.json");
    CHECK(summary["model"]["classes"][9] == "Nine Lives");
    CHECK(summary["images"][0]["target"]["name"] == "Nine Lives");
    CHECK(summary["images"][0]["methods"][0]["layer"] == "relu3,relu4");
    CHECK(read_npy(dir / "out" / "a_grey_gradcam.npy").shape == std::vector<std::size_t>{28, 28});  // fused: input size
    // The 30×40 photo shown 5× (longer side ≥ 192): 150×200 panels, three of them.
    CHECK(xai::load_image(dir / "out" / "b_rgb_eigencam.png").shape(1) == 150);
    CHECK(xai::load_image(dir / "out" / "b_rgb_gallery.png").shape(2) == 8 + 3 * (200 + 8));

    // Without --labels: the summary lists no class names, only indices.
    o = run_tool({"--model", model.string(), "--image", (images / "a_grey.png").string(), "--out", out, "--target", "4",
                  "--json"});
    REQUIRE(o.code == 0);
    const xai_explain::Json printed = xai_explain::Json::parse(o.out);  // --json: stdout is the summary and nothing else
    CHECK(o.out == read_text(dir / "out" / "summary.json"));
    CHECK(printed["images"][0]["target"]["index"] == 4);
    CHECK_FALSE(printed["images"][0]["target"].contains("name"));
    CHECK_FALSE(printed["model"].contains("classes"));
    CHECK_THAT(o.out, !Contains("class 4"));

    o = run_tool({"--model", model.string(), "--image", (images / "b_rgb.png").string(), "--image",
                  (images / "a_grey.png").string(), "--out", out, "--quiet", "--resize", "squash"});
    CHECK(o.code == 0);
    CHECK(o.out.empty());
    CHECK(o.err.empty());
    summary = read_json(dir / "out" / "summary.json");
    CHECK(summary["images"][0]["image"].get<std::string>().find("b_rgb.png") != std::string::npos);  // in the order given
    CHECK(summary["images"][0]["framing"]["resized"] == xai_explain::Json({28, 28}));               // squashed
    fs::remove_all(dir);
}

namespace {

/// Checks that `html` is a well-formed page: every element closed in order (void elements
/// excepted), attributes quoted; returns the number of start tags of each name.
std::map<std::string, std::size_t> check_html(const std::string& html) {
    static const std::set<std::string> void_elements = {"meta", "img", "br", "hr", "link", "input"};
    std::map<std::string, std::size_t> count;
    std::vector<std::string> open;
    REQUIRE(html.rfind("<!DOCTYPE html>", 0) == 0);
    for (std::size_t i = html.find('<', 1); i != std::string::npos; i = html.find('<', i + 1)) {
        const std::size_t end = html.find('>', i);
        REQUIRE(end != std::string::npos);
        const std::string tag = html.substr(i + 1, end - i - 1);
        const bool closing = tag[0] == '/';
        const std::string name = tag.substr(closing ? 1 : 0, tag.find_first_of(" \n", closing ? 1 : 0) - (closing ? 1 : 0));
        REQUIRE_FALSE(name.empty());
        CHECK(std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }));
        CHECK(std::count(tag.begin(), tag.end(), '"') % 2 == 0);
        if (closing) {
            REQUIRE_FALSE(open.empty());
            CHECK(open.back() == name);
            open.pop_back();
        } else {
            ++count[name];
            if (void_elements.count(name) == 0) open.push_back(name);
        }
        i = end;
    }
    CHECK(open.empty());
    return count;
}

/// The JPEG pictures the page embeds, decoded.
std::vector<xai::Image> embedded_pictures(const std::string& html) {
    static const std::string prefix = "src=\"data:image/jpeg;base64,";
    std::vector<xai::Image> pictures;
    for (std::size_t i = html.find(prefix); i != std::string::npos; i = html.find(prefix, i + 1)) {
        const std::size_t begin = i + prefix.size(), end = html.find('"', begin);
        std::vector<std::uint8_t> bytes;
        std::uint32_t bits = 0;
        int have = 0;
        for (std::size_t k = begin; k < end && html[k] != '='; ++k) {
            const char c = html[k];
            const int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : 63;
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
            if ((have += 6) >= 8) bytes.push_back(static_cast<std::uint8_t>(bits >> (have -= 8)));
        }
        pictures.push_back(xai::load_image_from_memory(bytes, 3));
    }
    return pictures;
}

}  // namespace

TEST_CASE("A folder as users have it: a corrupt file is reported and the rest explained, a rerun resumes, the report parses",
          "[cli][folder]") {
    const fs::path dir = scratch("photos");
    const fs::path photos = dir / "photos";
    fs::create_directories(photos / "trip" / "day2");
    test_image(photos / "grey.png", 1, 28, 28);
    test_image(photos / "trip" / "wide.png", 3, 30, 57);
    test_image(photos / "trip" / "day2" / "tall.png", 3, 61, 33);
    std::ofstream(photos / "trip" / "corrupt.jpg") << "\xff\xd8\xff this is not a JPEG";
    const fs::path model = random_model(dir);
    const std::string out = (dir / "out").string();
    const std::vector<std::string> args{"--model", model.string(), "--image", photos.string(), "--out", out,
                                        "--method", "gradcam,occlusion", "--occlusion-window", "7",
                                        "--occlusion-stride", "7", "--report"};
    Outcome o = run_tool(args);
    INFO(o.err);
    // --keep-going is the default for folders: the corrupt file is reported, the others explained, exit 4.
    CHECK(o.code == code(ExitCode::image));
    CHECK_THAT(o.err, Contains("corrupt.jpg: cannot read image"));
    CHECK_THAT(o.out, Contains("4 images: 3 explained, 0 resumed, 1 failed"));
    for (const char* file : {"grey_gradcam.png", "trip/wide_occlusion.npy", "trip/day2/tall_gallery.png",
                             "trip/day2/tall.json", "report.html"})
        CHECK(fs::exists(dir / "out" / file));
    // Maps are drawn on the photo at its own size: 61×33 shown 4× (longer side ≥ 192).
    CHECK(xai::load_image(dir / "out" / "trip" / "day2" / "tall_gradcam.png").shape(1) == 4 * 61);
    CHECK(xai::load_image(dir / "out" / "trip" / "day2" / "tall_gradcam.png").shape(2) == 4 * 33);
    xai_explain::Json summary = read_json(dir / "out" / "summary.json");
    CHECK(summary["counts"]["explained"] == 3);
    CHECK(summary["counts"]["failed"] == 1);
    CHECK(summary["exit_status"] == code(ExitCode::image));
    REQUIRE(summary["failures"].size() == 1);
    CHECK(summary["failures"][0]["image"].get<std::string>().find("corrupt.jpg") != std::string::npos);
    CHECK(summary["failures"][0]["stage"] == "read");
    CHECK_THAT(summary["failures"][0]["error"].get<std::string>(), Contains("cannot read image"));
    CHECK(summary["images"].size() == 3);

    // The report: one well-formed page, no outside reference, one section per explained image
    // with the photo and each method's picture embedded, the methods and classes tables, the failure.
    const std::string html = read_text(dir / "out" / "report.html");
    const std::map<std::string, std::size_t> tags = check_html(html);
    CHECK(tags.at("section") == 3);
    CHECK(tags.at("img") == 3 * 3);
    CHECK(tags.at("table") == 3);  // methods, classes, failures
    CHECK_THAT(html, !Contains("http") && !Contains("<script") && Contains("corrupt.jpg") && Contains("Grad-CAM") &&
                         Contains("Occlusion"));
    const std::vector<xai::Image> pictures = embedded_pictures(html);
    REQUIRE(pictures.size() == 9);
    for (const xai::Image& p : pictures) CHECK(std::max(p.shape(1), p.shape(2)) <= xai_explain::report_thumbnail_side);

    // A rerun resumes: nothing is explained again, the corrupt file fails again.
    const auto written = fs::last_write_time(dir / "out" / "grey_gradcam.png");
    o = run_tool(args);
    CHECK(o.code == code(ExitCode::image));
    CHECK_THAT(o.out, Contains("resuming: 3 of 4 images") && Contains("0 explained, 3 resumed, 1 failed"));
    CHECK(fs::last_write_time(dir / "out" / "grey_gradcam.png") == written);
    summary = read_json(dir / "out" / "summary.json");
    CHECK(summary["images"].size() == 3);
    CHECK(summary["images"][0]["resumed"] == true);
    // Other settings, or a missing output, or --overwrite: explained again.
    fs::remove(dir / "out" / "trip" / "wide_gradcam.png");
    o = run_tool(args);
    CHECK_THAT(o.out, Contains("1 explained, 2 resumed, 1 failed"));
    std::vector<std::string> more = args;
    more.insert(more.end(), {"--colormap", "viridis"});
    CHECK_THAT(run_tool(more).out, Contains("3 explained, 0 resumed"));
    more.push_back("--overwrite");
    CHECK_THAT(run_tool(more).out, Contains("3 explained, 0 resumed"));
    // --fail-fast stops at the corrupt file (in path order: grey.png, then trip/corrupt.jpg).
    more.push_back("--fail-fast");
    o = run_tool(more);
    CHECK(o.code == code(ExitCode::image));
    CHECK_THAT(o.out, Contains("1 explained, 0 resumed, 1 failed") && Contains("stopped at the first unreadable image"));
    fs::remove_all(dir);
}

TEST_CASE("xai-explain --metrics writes the library's deletion, insertion, Average Drop and Increase for each map", "[cli][metrics]") {
    const fs::path dir = scratch("metrics");
    const fs::path model_file = random_model(dir);
    const fs::path image = test_image(dir / "item.png", 1, 28, 28);
    const Outcome o = run_tool({"--model", model_file.string(), "--image", image.string(), "--out", (dir / "out").string(),
                                "--method", "gradcam", "--metrics", "all", "--threads", "1"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    const xai_explain::Json m = read_json(dir / "out" / "summary.json")["images"][0]["methods"][0]["metrics"];

    const xai::models::Sequential model = xai::models::load(model_file);
    const xai::Image input = xai::load_image(image, 1);
    const xai::AnyExplanation x = xai::make_explainer("gradcam", model).explain(input);
    const xai::Batch batch = xai::as_batch(input);
    const xai::Targets targets{xai::Target::class_index(x.targets[0])};
    const xai::CausalCurves deletion = xai::deletion(model, batch, x.maps, targets);
    const xai::CausalCurves insertion = xai::insertion(model, batch, x.maps, targets);
    const xai::ConfidenceResult confidence = xai::confidence_change(model, batch, x.maps, targets);
    CHECK(m["deletion_auc"].get<double>() == Approx(deletion.auc[0]).margin(1e-12));
    CHECK(m["insertion_auc"].get<double>() == Approx(insertion.auc[0]).margin(1e-12));
    CHECK(m["drop_percent"].get<double>() == Approx(100.0 * confidence.drop[0]).margin(1e-9));
    CHECK(m["confidence_increased"].get<double>() == (confidence.explained[0] > confidence.original[0] ? 1.0 : 0.0));
    CHECK(run_tool({"--model", model_file.string(), "--image", image.string(), "--metrics", "faithfulness"}).code ==
          code(ExitCode::usage));
    fs::remove_all(dir);
}

TEST_CASE("xai-explain answers --help, --list-methods, --list-models and --list-layers", "[cli]") {
    const fs::path dir = scratch("lists");
    Outcome o = run_tool({"--help"});
    CHECK(o.code == 0);
    CHECK_THAT(o.out, Contains("usage: xai-explain") && Contains("Exit status") && Contains("--lime-samples") &&
                          Contains("(default: " + std::to_string(xai::LimeOptions{}.num_samples) + ",") &&
                          Contains("(default: " + std::to_string(xai::RiseOptions{}.num_masks) + ","));
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
        {{"--model", model, "--image", image, "--lime-samples", "0"}, ExitCode::usage, "--lime-samples '0' is not a positive integer"},
        {{"--model", model, "--image", image, "--rise-masks", "1e11"}, ExitCode::usage, "--rise-masks '1e11' is not a positive integer"},
        {{"--model", model, "--image", image, "--rise-masks", "100000000000"}, ExitCode::usage, "is above 100000"},
        {{"--model", model, "--image", image, "--lime-samples", "100001"}, ExitCode::usage, "is above 100000"},
        {{"--model", model, "--image", image, "--samples", "10"}, ExitCode::usage, "--samples is now --lime-samples"},
        {{"--model", model, "--image", image, "--window", "10"}, ExitCode::usage, "--window is now --occlusion-window"},
        {{"--model", model, "--image", image, "--seed", "-1"}, ExitCode::usage, "--seed '-1' is not a non-negative integer"},
        {{"--model", model, "--image", image, "--rise-tolerance", "x"}, ExitCode::usage, "--rise-tolerance 'x' is not a finite number"},
        {{"--model", model, "--image", image, "--target", "10"}, ExitCode::usage, "expected a class index below 10"},
        {{"--model", model, "--image", image, "--target", "cat"}, ExitCode::usage, "give them with --labels"},
        {{"--model", model, "--image", image, "--colormap", "pink"}, ExitCode::usage, "expected jet, viridis or turbo"},
        {{"--model", model, "--image", image, "--resize", "stretch"}, ExitCode::usage, "expected crop or squash"},
        {{"--model", model, "--image", image, "--crop-fraction", "1.5"}, ExitCode::usage, "is not in (0, 1]"},
        {{"--model", model, "--image", image, "--lime-superpixels", "slic:size=3"}, ExitCode::usage, "slic has no parameter 'size'"},
        {{"--model", model, "--image", image, "--lime-superpixels", "grid:rows=x"}, ExitCode::usage, "is not a non-negative integer"},
        {{"--model", model, "--image", image, "--lime-superpixels", "watershed"}, ExitCode::usage, "expected quickshift, slic"},
        {{"--model", model, "--image", image, "--method", "occlusion", "--occlusion-window", "40"}, ExitCode::usage, "window is 40"},
        {{"--model", model, "--image", image, "--method", "rise", "--rise-masks", "1"}, ExitCode::usage, "method 'rise'"},
        {{"--model", model, "--image", image, "--keep-going", "--fail-fast"}, ExitCode::usage, "contradict"},
        {{"--model", model, "--image", image, "--size", "64"}, ExitCode::usage, "are for TorchScript and ONNX models"},
        {{"--model", model, "--image", image, "--frobnicate"}, ExitCode::usage, "--frobnicate"},
        {{"--model", model, "--image"}, ExitCode::usage, "--image"},
        {{"--image", image}, ExitCode::usage, "--model is required"},
        {{"--model", model}, ExitCode::usage, "--image is required"},
        {{"--model", model, "--image", image, "--labels", (dir / "none.txt").string()}, ExitCode::usage, "cannot be read"},
    };
    for (const Case& c : cases) {
        std::string joined;
        for (const std::string& a : c.args) joined += a + " ";
        INFO(joined);
        const Outcome o = run_tool(c.args);
        INFO(o.err);
        CHECK(o.code == code(c.code));
        CHECK_THAT(o.err, Contains("xai-explain: ") && Contains(c.message));
        CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);  // one line
        // Nothing on stdout, except for an image that cannot be read: the run went on to its summary.
        if (o.err.find("cannot read image") == std::string::npos) CHECK(o.out.empty());
    }
    // The codes are distinct, and 0 only for success.
    CHECK(run_tool({"--model", model, "--image", image, "--out", out}).code == 0);
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
    const xai_explain::Json summary = read_json(dir / "out" / "summary.json");
    CHECK(summary["images"][0]["methods"][0].contains("error"));
    CHECK_FALSE(summary["images"][0]["methods"][1].contains("error"));
    CHECK(summary["failures"][0]["method"] == "cam");
    CHECK(summary["exit_status"] == code(ExitCode::failure));
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
    const Outcome o = run_tool({"--model", model.string(), "--labels", (dir / "classes.txt").string(), "--image", test,
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
    CHECK_FALSE(xai_explain::Json::parse(summary, nullptr, false).is_discarded());
    CHECK_THAT(summary, Contains("\"method\": \"influence\"") && Contains("\"helpful\": [") && Contains("\"harmful\": [") &&
                            Contains("\"relative_gradient_norm\"") && Contains("\"l2_regularization\": 0.05") &&
                            Contains("\"index\": " + std::to_string(expected.helpful[0][0]) + ","));
    // Rows of the test image and up to 10 examples: 11 columns, 2 rows.
    const xai::Image picture = xai::load_image(dir / "out" / "test_influence.png");
    CHECK(picture.shape(2) == 8 + 11 * (196 + 8));
    CHECK(picture.shape(1) == 8 + 2 * (52 + 196 + 8));

    const std::vector<std::string> base{"--model", model.string(), "--labels", (dir / "classes.txt").string(), "--image",
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

TEST_CASE("The zlib PNG writer's files decode with stb and libpng to exactly the bytes save_image writes", "[cli][png]") {
    xai_explain::PngEncoder encoder;  // one encoder for every picture, as the writing thread keeps it
    std::uint32_t state = 12345;
    const auto next = [&] { return (state = state * 1664525u + 1013904223u) >> 8; };
    for (std::size_t channels = 1; channels <= 4; ++channels)
        for (const auto& [h, w] : {std::pair<std::size_t, std::size_t>{1, 1}, {7, 13}, {33, 5}, {96, 96}}) {
            xai::Image image = xai::Image::from_shape({channels, h, w});
            for (std::size_t i = 0; i < image.size(); ++i)  // noise below 0 and above 1 (clamped), and a 3×-enlarged ramp
                image.data()[i] = h == 96 ? static_cast<float>((i % w) / 3 % 9) / 8.0f
                                          : static_cast<float>(next() % 1201) / 1000.0f - 0.1f;
            const std::vector<std::uint8_t> bytes = encoder.encode(image);
            INFO(channels << " channels, " << h << "x" << w);
            CHECK(std::string(bytes.begin(), bytes.begin() + 8) == "\x89PNG\r\n\x1a\n");
            CHECK(std::string(bytes.end() - 8, bytes.end() - 4) == "IEND");
            const xai::PixelsU8 expected = xai::to_hwc_u8(image, xai::Rounding::nearest);  // what save_image stores
            std::vector<xai::ImageDecoder> decoders{xai::ImageDecoder::stb};
            if (xai::has_system_decoders) decoders.push_back(xai::ImageDecoder::system);  // libpng checks every CRC too
            for (const xai::ImageDecoder decoder : decoders) {
                xai::LoadOptions options;
                options.decoder = decoder;
                const xai::Image back = xai::load_image_from_memory(bytes, 0, options);
                REQUIRE(back.shape(0) == channels);
                const bool same = xai::to_hwc_u8(back) == expected;
                CHECK(same);
            }
        }
    // The ramp repeats each byte three times and each row: Up and Sub filters make it compress
    // well below its 96·96 raw bytes.
    xai::Image ramp = xai::Image::from_shape({1, 96, 96});
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp.data()[i] = static_cast<float>((i % 96) / 3 % 9) / 8.0f;
    CHECK(encoder.encode(ramp).size() < 400);
    ramp(0, 5, 5) = std::nanf("");
    CHECK_THROWS_AS(encoder.encode(ramp), xai::invalid_argument);
    CHECK_THROWS_AS(encoder.encode(xai::Image::from_shape({5, 2, 2})), xai::shape_error);
}

TEST_CASE("The writing thread runs its tasks in order, stops at the first failure and hands it back", "[cli][writer]") {
    for (const bool threaded : {true, false}) {
        INFO((threaded ? "threaded" : "inline"));
        std::vector<int> ran;
        {
            xai_explain::OutputWriter writer(2, threaded);
            for (int k = 0; k < 5; ++k) writer.submit([&ran, k](xai_explain::Scratch&) { ran.push_back(k); });
            writer.finish();
        }
        CHECK(ran == std::vector<int>{0, 1, 2, 3, 4});
        ran.clear();
        xai_explain::OutputWriter writer(1, threaded);
        writer.submit([&](xai_explain::Scratch&) { ran.push_back(0); });
        bool reported = false;
        try {  // inline, the failing task's own submit() throws; threaded, a later submit() or finish()
            writer.submit([](xai_explain::Scratch&) { throw xai_explain::Failure(ExitCode::failure, "photo.png: cannot write 'x'"); });
            for (int k = 1; k < 100; ++k) writer.submit([&ran, k](xai_explain::Scratch&) { ran.push_back(k); });
            writer.finish();
        } catch (const xai_explain::Failure& f) {
            reported = std::string(f.what()) == "photo.png: cannot write 'x'";
        }
        CHECK(reported);
        CHECK_THROWS_AS(writer.finish(), xai_explain::Failure);  // and again: the run ends on it
        CHECK(ran == std::vector<int>{0});  // the tasks queued behind the failure are dropped
    }
}

TEST_CASE("xai-explain --outputs writes only the files asked for, and resuming needs exactly those", "[cli][outputs]") {
    const fs::path dir = scratch("outputs");
    fs::create_directories(dir / "photos");
    test_image(dir / "photos" / "one.png", 3, 28, 28);
    test_image(dir / "photos" / "two.png", 1, 30, 26);
    const fs::path model = random_model(dir), out = dir / "out";
    const std::vector<std::string> base{"--model", model.string(), "--image", (dir / "photos").string(), "--out", out.string(),
                                        "--method", "gradcam,rise", "--rise-masks", "8"};
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--outputs", "npy,json"});
    Outcome o = run_tool(args);
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK_THAT(o.out, Contains("2 explained, 0 resumed"));
    for (const char* file : {"one_gradcam.npy", "one_rise.npy", "one_rise_standard_error.npy", "two.json", "summary.json"})
        CHECK(fs::exists(out / file));
    for (const char* file : {"one_gradcam.png", "one_rise.png", "one_gallery.png", "two_gallery.png"}) CHECK(!fs::exists(out / file));
    xai_explain::Json record = read_json(out / "one.json");
    CHECK(!record.contains("gallery"));
    CHECK(!record["methods"][0].contains("overlay"));
    CHECK(record["methods"][0]["map"] == (out / "one_gradcam.npy").string());
    CHECK(npy_values(out / "one_gradcam.npy").size() ==
          record["methods"][0]["map_shape"][0].get<std::size_t>() * record["methods"][0]["map_shape"][1].get<std::size_t>());
    // The same outputs again, or fewer: resumed. More: explained again, now with the pictures.
    CHECK_THAT(run_tool(args).out, Contains("0 explained, 2 resumed"));
    o = run_tool(base);
    CHECK_THAT(o.out, Contains("2 explained, 0 resumed"));
    for (const char* file : {"one_gradcam.png", "one_rise.png", "one_gallery.png", "two_gallery.png"}) CHECK(fs::exists(out / file));
    CHECK(xai::load_image(out / "two_gallery.png").shape(0) == 3);
    args = base;
    args.insert(args.end(), {"--outputs", "png"});
    CHECK_THAT(run_tool(args).out, Contains("0 explained, 2 resumed"));
    // Without json no record is written, so nothing of that run can be resumed later.
    args = {"--model", model.string(), "--image", (dir / "photos").string(), "--out", (dir / "bare").string(),
            "--method", "gradcam,rise", "--rise-masks", "8", "--outputs", "npy"};
    CHECK(run_tool(args).code == 0);
    CHECK(fs::exists(dir / "bare" / "two_rise.npy"));
    CHECK(!fs::exists(dir / "bare" / "two.json"));
    CHECK(fs::exists(dir / "bare" / "summary.json"));
    // Bad lists and the report without pictures are usage errors.
    args = base;
    args.insert(args.end(), {"--outputs", "npy,jpeg"});
    o = run_tool(args);
    CHECK(o.code == code(ExitCode::usage));
    CHECK_THAT(o.err, Contains("unknown output 'jpeg' in --outputs"));
    args = base;
    args.insert(args.end(), {"--outputs", "npy", "--report"});
    o = run_tool(args);
    CHECK(o.code == code(ExitCode::usage));
    CHECK_THAT(o.err, Contains("--outputs must include png"));
    fs::remove_all(dir);
}

TEST_CASE("An output that cannot be written mid-run ends the run with exit status 1, naming the image; the earlier "
          "images' outputs are complete", "[cli][errors][writer]") {
    const fs::path dir = scratch("unwritable");
    fs::create_directories(dir / "photos" / "a");
    fs::create_directories(dir / "photos" / "b");
    test_image(dir / "photos" / "a" / "one.png", 3, 28, 28);
    test_image(dir / "photos" / "b" / "two.png", 3, 28, 28);
    // A folder where the second image's picture should go: it cannot be opened as a file.
    fs::create_directories(dir / "out" / "b" / "two_gradcam.png");
    const fs::path model = random_model(dir);
    for (const char* batch : {"16", "1"}) {
        INFO("--batch " << batch);
        const Outcome o = run_tool({"--model", model.string(), "--image", (dir / "photos").string(), "--out",
                                    (dir / "out").string(), "--batch", batch, "--overwrite"});
        CHECK(o.code == code(ExitCode::failure));
        CHECK_THAT(o.err, Contains("two.png: cannot write '") && Contains("two_gradcam.png'"));
        for (const char* file : {"a/one_gradcam.png", "a/one_gradcam.npy", "a/one_gallery.png", "a/one.json"})
            CHECK(fs::exists(dir / "out" / file));
        CHECK(xai::load_image(dir / "out" / "a" / "one_gallery.png").shape(0) == 3);
        CHECK(read_json(dir / "out" / "a" / "one.json")["methods"][0]["method"] == "gradcam");
    }
    fs::remove_all(dir);
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
    // stb_easy_font draws ASCII 32–126 only (other bytes would index outside its glyph table):
    // the method titles' × and ², a class name's é, anything else as one '?' per character.
    CHECK(xai_explain::printable_ascii("Gradient \u00d7 input") == "Gradient x input");
    CHECK(xai_explain::printable_ascii("SmoothGrad\u00b2") == "SmoothGrad^2");
    CHECK(xai_explain::printable_ascii("caf\u00e9 \u4e2d\u6587\tend") == "cafe ???end");
    CHECK(xai_explain::text_width("SmoothGrad\u00b2", 1) == xai_explain::text_width("SmoothGrad^2", 1));
    xai::Image spelled = xai::Image(xt::ones<float>({3, 40, 200})), plain = spelled;
    xai_explain::draw_text(spelled, 2, 2, "Gradient \u00d7 input", 1, {0.0f, 0.0f, 0.0f});
    xai_explain::draw_text(plain, 2, 2, "Gradient x input", 1, {0.0f, 0.0f, 0.0f});
    CHECK(std::equal(spelled.begin(), spelled.end(), plain.begin()));
    CHECK(xai_explain::display_factor(224, 224) == 1);
}

TEST_CASE("The status line shows images, rate and time left, redraws only on change and erases itself", "[cli][progress]") {
    CHECK(xai_explain::clock_text(9.4) == "0:09");
    CHECK(xai_explain::clock_text(247) == "4:07");
    CHECK(xai_explain::clock_text(3903) == "1:05:03");
    CHECK(xai_explain::run_progress_text(0, 50, 0, 0, 0.0) == "0/50 images");
    // 12 done of 50, 3 of them resumed, 9 explained in 3.75 s: 2.4 images/s, 38 left → 15.8 s → 0:16.
    CHECK(xai_explain::run_progress_text(12, 50, 3, 9, 3.75) == "12/50 images (3 resumed)  2.4 images/s  ETA 0:16");
    CHECK(xai_explain::run_progress_text(1, 4, 0, 1, 2.5) == "1/4 images  2.5 s/image  ETA 0:08");
    std::ostringstream err;
    {
        xai_explain::StatusLine line(err, true);
        line.set_run("1/2 images");
        const xai::Progress callback = line.task("rise");
        for (std::size_t done = 1; done <= 1000; ++done) callback(xai::ProgressReport{done, 1000, "masks"});
        CHECK_THAT(err.str(), Contains("1/2 images | rise [####################] 1000/1000 masks") &&
                                  Contains("rise [##########----------] 500/1000 masks"));
        line.end_task();
    }
    const std::string text = err.str();
    // The run's line, the bar at 0 % and once per further percent (1 … 100), the bar's removal
    // (a shorter line: two '\r'), and the erasing line's two.
    CHECK(std::count(text.begin(), text.end(), '\r') == 1 + 1 + 100 + 2 + 2);
    CHECK(text.substr(text.size() - 1) == "\r");
    std::ostringstream quiet;
    xai_explain::StatusLine off(quiet, false);
    CHECK_FALSE(static_cast<bool>(off.task("rise")));
    off.set_run("1/2 images");
    off.erase();
    CHECK(quiet.str().empty());
}

namespace {

/// The random-weight model written by random_model(), loaded as the tool loads it.
xai::models::Sequential load_model(const fs::path& path) {
    xai_explain::Arguments arguments;
    arguments.model = path.string();
    xai_explain::ModelInfo info;
    return xai_explain::load_sequential(arguments, info);
}

/// The library's raw map of `method` on `input` with `settings`, as the tool's .npy holds it.
std::vector<float> library_raw(const std::string& method, const xai::models::Sequential& model, const xai::Image& input,
                               const xai::ExplainerSettings& settings, const xai::Target& target) {
    const xai::AnyExplanation x = xai::make_explainer(method, model, settings).explain(input, target);
    return {x.raw.begin(), x.raw.end()};
}

/// A test case's usage errors: each exits with `usage` and one line on stderr holding the message.
void check_usage_errors(const std::vector<std::pair<std::vector<std::string>, std::string>>& cases) {
    for (const auto& [args, message] : cases) {
        std::string joined;
        for (const std::string& arg : args) joined += arg + " ";
        INFO(joined);
        const Outcome o = run_tool(args);
        INFO(o.err);
        CHECK(o.code == code(ExitCode::usage));
        CHECK_THAT(o.err, Contains("xai-explain: ") && Contains(message));
        CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    }
}

}  // namespace

TEST_CASE("xai-explain --allow-format opts in to GIF, --decoder and --max-pixels reach load_image, the summary names the decoder",
          "[cli][images]") {
    const fs::path dir = scratch("formats");
    const std::string model = random_model(dir).string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    // A 1×1 GIF: global colour table of black and white, one LZW code block (clear, index 0, end).
    const std::vector<unsigned char> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255,
                                            255, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B};
    const fs::path gif_file = dir / "x.gif";
    std::ofstream(gif_file, std::ios::binary).write(reinterpret_cast<const char*>(gif.data()), static_cast<std::streamsize>(gif.size()));

    const Outcome refused = run_tool({"--model", model, "--image", gif_file.string(), "--out", (dir / "a").string()});
    CHECK(refused.code == code(ExitCode::image));
    CHECK_THAT(refused.err, Contains("x.gif") && Contains("is a GIF") && Contains("not decoded by default") &&
                                Contains("(use --allow-format gif)"));
    for (const std::string allow : {"gif", "GIF,tga", "all"}) {
        INFO(allow);
        const Outcome allowed = run_tool({"--model", model, "--image", gif_file.string(), "--out", (dir / "b").string(),
                                          "--allow-format", allow, "--overwrite"});
        INFO(allowed.err);
        CHECK(allowed.code == 0);
        const xai_explain::Json input = read_json(dir / "b" / "summary.json")["settings"]["input"];
        CHECK_THAT(input["formats"].get<std::string>(), Contains("PNG, JPEG, BMP, PNM, GIF"));
        CHECK(read_json(dir / "b" / "x.json")["stored"] == xai_explain::Json{4, 1, 1});  // RGBA, 1×1
    }
    CHECK_THAT(read_json(dir / "b" / "summary.json")["settings"]["input"]["formats"].get<std::string>(), Contains("PIC"));

    // --decoder stb always works and is named in the summary; system only in builds with it.
    const Outcome stb = run_tool({"--model", model, "--image", image, "--out", (dir / "c").string(), "--decoder", "stb"});
    CHECK(stb.code == 0);
    const xai_explain::Json decoder = read_json(dir / "c" / "summary.json")["settings"]["input"]["decoder"];
    CHECK(decoder["requested"] == "stb");
    CHECK(decoder["png_jpeg"] == "stb");
    CHECK(decoder["system_decoders_built"] == xai::has_system_decoders);
    const Outcome system = run_tool({"--model", model, "--image", image, "--out", (dir / "d").string(), "--decoder", "system"});
    CHECK(system.code == (xai::has_system_decoders ? 0 : code(ExitCode::usage)));
    if (!xai::has_system_decoders) CHECK_THAT(system.err, Contains("no system decoders"));
    // 28×28 = 784 pixels: a budget of 783 refuses the file from its header.
    const Outcome budget = run_tool({"--model", model, "--image", image, "--out", (dir / "e").string(), "--max-pixels", "783"});
    CHECK(budget.code == code(ExitCode::image));
    CHECK_THAT(budget.err, Contains("cannot read image") && Contains("max_pixels"));
    CHECK(run_tool({"--model", model, "--image", image, "--out", (dir / "e").string(), "--max-pixels", "784"}).code == 0);
    check_usage_errors({
        {{"--model", model, "--image", image, "--allow-format", "gif,webp"}, "--allow-format 'webp' is not a format"},
        {{"--model", model, "--image", image, "--decoder", "opencv"}, "--decoder 'opencv', expected auto, stb or system"},
        {{"--model", model, "--image", image, "--max-pixels", "0"}, "--max-pixels '0' is not a positive integer"},
    });
    fs::remove_all(dir);
}

TEST_CASE("xai-explain --boxes lists the library's regions of each map in input pixels and draws them on the photo", "[cli][boxes]") {
    const fs::path dir = scratch("boxes");
    const fs::path model_file = random_model(dir);
    const std::string model = model_file.string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const std::string out = (dir / "out").string();
    for (const std::vector<std::string>& rule :
         std::vector<std::vector<std::string>>{{}, {"--box-rule", "otsu"}, {"--box-rule", "fixed", "--box-threshold", "0.6"}}) {
        std::vector<std::string> args{"--model", model, "--image", image, "--out", out, "--method", "gradcam,occlusion",
                                      "--boxes", "--overwrite", "--occlusion-window", "7", "--occlusion-stride", "7"};
        args.insert(args.end(), rule.begin(), rule.end());
        const Outcome o = run_tool(args);
        INFO(o.err);
        REQUIRE(o.code == 0);
        // The library's regions of the same display maps, with the same rule.
        const xai::models::Sequential net = load_model(model_file);
        const xai::Image input = xai::load_image(image, 1);
        xai::ExtractionOptions options;
        if (rule.size() >= 2) options.threshold.rule = rule[1] == "otsu" ? xai::ThresholdRule::otsu : xai::ThresholdRule::fixed;
        if (rule.size() == 4) options.threshold.value = 0.6;
        xai::ExplainerSettings settings;
        settings.occlusion.window = settings.occlusion.stride = 7;
        const xai_explain::Json record = read_json(dir / "out" / "item.json");
        const std::size_t target = record["target"]["index"].get<std::size_t>();
        for (std::size_t m = 0; m < 2; ++m) {
            const std::string method = m == 0 ? "gradcam" : "occlusion";
            INFO(method);
            const xai::AnyExplanation x = xai::make_explainer(method, net, settings).explain(input, xai::Target::class_index(target));
            const xai::ExtractedRegions expected = xai::extract_regions(x.map(0), options);
            const xai_explain::Json boxes = record["methods"][m]["boxes"];
            CHECK(boxes["threshold"].get<double>() == expected.threshold);
            CHECK(boxes["strict"].get<bool>() == expected.strict);
            REQUIRE(boxes["boxes"].size() == expected.boxes.size());
            REQUIRE_FALSE(expected.boxes.empty());
            for (std::size_t k = 0; k < expected.boxes.size(); ++k) {
                const xai::Box& b = expected.boxes[k];
                CHECK(boxes["boxes"][k] == xai_explain::Json{{"top", b.top}, {"left", b.left}, {"bottom", b.bottom},
                                                             {"right", b.right}, {"pixels", expected.pixels[k]}});
                if (k > 0) CHECK(expected.pixels[k - 1] >= expected.pixels[k]);  // largest first
            }
            // The photo is the input (28×28, shown 7× enlarged): each box's corners are magenta.
            const xai::Image overlay = xai::load_image(dir / "out" / ("item_" + method + ".png"), 3);
            REQUIRE(overlay.shape(1) == 7 * 28);
            for (const xai::Box& b : expected.boxes)
                for (const auto& [y, x_] : {std::pair{7 * b.top, 7 * b.left}, std::pair{7 * b.bottom - 1, 7 * b.right - 1}}) {
                    CHECK(overlay(0, y, x_) == 1.0f);
                    CHECK(overlay(1, y, x_) == 0.0f);
                    CHECK(overlay(2, y, x_) == 1.0f);
                }
        }
        CHECK(read_json(dir / "out" / "summary.json")["settings"]["boxes"]["rule"] ==
              std::string(xai::to_string(options.threshold.rule)));
    }
    check_usage_errors({
        {{"--model", model, "--image", image, "--boxes", "--box-rule", "median"}, "--box-rule 'median', expected fraction, otsu, mean or fixed"},
        {{"--model", model, "--image", image, "--boxes", "--box-threshold", "1.5"}, "--box-threshold '1.5' is not in [0, 1]"},
        {{"--model", model, "--image", image, "--boxes", "--box-rule", "otsu", "--box-threshold", "0.3"}, "does not apply to --box-rule otsu"},
        {{"--model", model, "--image", image, "--box-rule", "otsu"}, "apply to --boxes only"},
    });
    fs::remove_all(dir);
}

TEST_CASE("xai-explain draws a small photo's map at the photo's size and zooms the picture, hatching after zooming", "[cli][pictures]") {
    const fs::path dir = scratch("zoom");
    const fs::path model_file = random_model(dir);
    const fs::path square = test_image(dir / "square.png", 1, 28, 28), wide = test_image(dir / "wide.png", 1, 28, 40);
    const Outcome o = run_tool({"--model", model_file.string(), "--image", square.string(), "--image", wide.string(), "--out",
                                (dir / "out").string(), "--method", "gradcam", "--quiet"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    // The square photo is the model's input: the picture is the library's overlay of the photo and
    // the display map (pytorch-grad-cam's show_cam_on_image), each pixel a 7×7 block (28·7 = 196 ≥ 192).
    const xai::Image photo = xai::load_image(square, 1);
    const std::size_t target = read_json(dir / "out" / "square.json")["target"]["index"].get<std::size_t>();
    const xai::models::Sequential net = load_model(model_file);
    const xai::AnyExplanation x = xai::make_explainer("gradcam", net).explain(photo, xai::Target::class_index(target));
    const xai::PixelsU8 small = xai::to_hwc_u8(xai::overlay(photo, x.map(0)), xai::Rounding::nearest);
    const xai::PixelsU8 shown = xai::to_hwc_u8(xai::load_image(dir / "out" / "square_gradcam.png", 3));
    REQUIRE(shown.size() == 196 * 196 * 3);
    std::size_t differing = 0;
    for (std::size_t y = 0; y < 196; ++y)
        for (std::size_t x_ = 0; x_ < 196; ++x_)
            for (std::size_t c = 0; c < 3; ++c)
                differing += shown.data()[(y * 196 + x_) * 3 + c] != small.data()[((y / 7) * 28 + x_ / 7) * 3 + c];
    CHECK(differing == 0);
    // The 28×40 photo, centre-cropped, shown 5× (140×200): inside the part the model saw, every
    // 5×5 block is one colour; outside it the zoomed photo is greyed, crossed by 1-pixel
    // diagonal lines every 8 pixels of the picture (0.25 → byte 64).
    const xai_explain::Json framing = read_json(dir / "out" / "wide.json")["framing"];
    const std::size_t top = framing["photo_rows"][0], bottom = framing["photo_rows"][1];
    const std::size_t left = framing["photo_columns"][0], right = framing["photo_columns"][1];
    REQUIRE((left > 0 && right < 40));  // the sides are not explained
    const xai::PixelsU8 picture = xai::to_hwc_u8(xai::load_image(dir / "out" / "wide_gradcam.png", 3));
    const xai::PixelsU8 grey = xai::to_hwc_u8(xai::load_image(wide, 1));  // flat indices below: xtensor's
                                                                          // [] broadcasts a 1-wide axis
    REQUIRE(picture.size() == 140 * 200 * 3);
    std::size_t block_breaks = 0, wrong_lines = 0, wrong_grey = 0;
    for (std::size_t y = 0; y < 140; ++y)
        for (std::size_t x_ = 0; x_ < 200; ++x_) {
            const std::uint8_t v = picture.data()[(y * 200 + x_) * 3];
            const bool inside = y / 5 >= top && y / 5 < bottom && x_ / 5 >= left && x_ / 5 < right;
            if (inside) {
                block_breaks += v != picture.data()[((y / 5 * 5) * 200 + x_ / 5 * 5) * 3];
            } else if ((x_ + y) % 8 == 0) {
                wrong_lines += v != 64;
            } else {  // 0.45 + 0.35 · luma, within a byte (the luma weights sum to 1 up to rounding)
                const double expected = 255.0 * (0.45 + 0.35 * grey.data()[y / 5 * 40 + x_ / 5] / 255.0);
                wrong_grey += std::abs(static_cast<double>(v) - expected) > 1.0;
            }
        }
    CHECK(block_breaks == 0);
    CHECK(wrong_lines == 0);
    CHECK(wrong_grey == 0);
    fs::remove_all(dir);
}

TEST_CASE("The efficiency flags (RISE sampling, Sobol, adaptive LIME, coarse-to-fine occlusion, Score-CAM pruning) set the "
          "library's options: each .npy is the library's map with them",
          "[cli][efficiency]") {
    const fs::path dir = scratch("efficiency");
    const fs::path model_file = random_model(dir);
    const std::string model = model_file.string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const Outcome o = run_tool({"--model", model, "--image", image, "--out", (dir / "out").string(), "--method",
                                "rise,sobol,lime,occlusion,scorecam", "--rise-masks", "40", "--rise-sampling", "antithetic",
                                "--rise-control-variate", "unmasked_score", "--sobol-grid", "4", "--sobol-designs", "8",
                                "--sobol-perturbation", "blurring", "--lime-samples", "300", "--lime-adaptive",
                                "--lime-adaptive-top-k", "3", "--lime-adaptive-alpha", "0.1", "--occlusion-window", "7",
                                "--occlusion-stride", "7", "--occlusion-coarse-levels", "1", "--occlusion-refine-threshold",
                                "0.5", "--score-cam-mass-tolerance", "0.5"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    xai::ExplainerSettings s;
    s.rise.num_masks = 40;
    s.rise.sampling = xai::RiseSampling::antithetic;
    s.rise.control_variate = xai::RiseControlVariate::unmasked_score;
    s.sobol.grid_size = 4;
    s.sobol.designs = 8;
    s.sobol.perturbation = xai::SobolPerturbation::blurring;
    s.lime.num_samples = 300;
    s.lime.adaptive = {.enabled = true, .top_k = 3, .alpha = 0.1};
    s.occlusion.window = s.occlusion.stride = 7;
    s.occlusion.coarse_levels = 1;
    s.occlusion.refine_threshold = 0.5;
    s.score_cam.mass_tolerance = 0.5;
    const xai::models::Sequential net = load_model(model_file);
    const xai::Image input = xai::load_image(image, 1);
    const xai_explain::Json summary = read_json(dir / "out" / "summary.json");
    const xai::Target target = xai::Target::class_index(summary["images"][0]["target"]["index"].get<std::size_t>());
    // Each map is the library's with these options, not with the defaults (for RISE and Sobol,
    // whose flags change every mask); what the adaptive and pruning options report (LIME's
    // samples, occlusion's windows evaluated, Score-CAM's channels scored) is in the record.
    xai::ExplainerSettings defaults;
    defaults.rise.num_masks = 40;
    const xai_explain::Json& methods = summary["images"][0]["methods"];
    const std::vector<std::pair<std::string, std::string>> reports{
        {"rise", ""}, {"sobol", ""}, {"lime", "samples"}, {"occlusion", "windows_evaluated"}, {"scorecam", "channels_scored"}};
    for (std::size_t m = 0; m < reports.size(); ++m) {
        const auto& [method, statistic] = reports[m];
        INFO(method);
        const xai::AnyExplanation x = xai::make_explainer(method, net, s).explain(input, target);
        const std::vector<float> expected(x.raw.begin(), x.raw.end());
        CHECK(xai_test::npy_values(dir / "out" / ("item_" + method + ".npy")) == expected);
        if (statistic.empty()) CHECK(library_raw(method, net, input, defaults, target) != expected);
        for (const auto& [name, values] : x.statistics)
            if (name == statistic) CHECK(methods[m]["statistics"][statistic].get<double>() == values[0]);
        if (!statistic.empty()) CHECK(methods[m]["statistics"].contains(statistic));
    }
    const xai_explain::Json settings = summary["settings"];
    CHECK(settings["rise"]["sampling"] == "antithetic");
    CHECK(settings["rise"]["control_variate"] == "unmasked_score");
    CHECK(settings["sobol"] == xai_explain::Json{{"grid_size", 4}, {"designs", 8}, {"perturbation", "blurring"}});
    CHECK(settings["lime"]["adaptive"] == xai_explain::Json{{"top_k", 3}, {"alpha", 0.1}});
    CHECK(settings["occlusion"]["coarse_levels"] == 1);
    CHECK(settings["scorecam"]["mass_tolerance"] == 0.5);
    const std::vector<std::string> base{"--model", model, "--image", image};
    const auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), base.begin(), base.end());
        return more;
    };
    check_usage_errors({
        {with({"--rise-sampling", "sobol"}), "--rise-sampling 'sobol', expected independent, antithetic or quasi_random"},
        {with({"--rise-control-variate", "best"}), "--rise-control-variate 'best', expected none, unmasked_score"},
        {with({"--sobol-designs", "12"}), "--sobol-designs '12' is not a power of two"},
        {with({"--sobol-grid", "0"}), "--sobol-grid '0' is not a positive integer"},
        {with({"--sobol-perturbation", "noise"}), "--sobol-perturbation 'noise', expected inpainting, blurring or amplitude"},
        {with({"--lime-adaptive", "--lime-adaptive-alpha", "0.5"}), "--lime-adaptive-alpha '0.5' is not in [0, 0.5)"},
        {with({"--lime-adaptive-top-k", "3"}), "apply to --lime-adaptive only"},
        {with({"--occlusion-refine-threshold", "-1"}), "--occlusion-refine-threshold '-1' is not a finite number >= 0"},
        {with({"--score-cam-mass-tolerance", "1"}), "--score-cam-mass-tolerance '1' is not in [0, 1)"},
    });
    fs::remove_all(dir);
}

TEST_CASE("The gradient and Shapley flags (IG's steps, rule, baseline and tolerance, the noise tunnel's samples and level, "
          "GradientSHAP's samples and noise, KernelSHAP's coalitions, Shapley sampling's orders) set the library's options",
          "[cli][gradients]") {
    const fs::path dir = scratch("gradientflags");
    const fs::path model_file = random_model(dir);
    const std::string model = model_file.string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const Outcome o = run_tool({"--model", model, "--image", image, "--out", (dir / "out").string(), "--method",
                                "ig,smoothgrad,gradientshap,kernelshap,shapley_sampling", "--ig-steps", "7", "--ig-rule",
                                "riemann_trapezoid", "--ig-baseline", "mean", "--noise-samples", "3", "--noise-level", "0.3",
                                "--gradientshap-samples", "4", "--gradientshap-noise", "0.05", "--kernelshap-samples", "40",
                                "--shapley-permutations", "2", "--seed", "9", "--lime-superpixels", "grid:rows=3,cols=3"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    xai::ExplainerSettings s;
    s.integrated_gradients.steps = 7;
    s.integrated_gradients.rule = xai::IntegrationRule::riemann_trapezoid;
    s.integrated_gradients.baseline = xai::Baseline::image_mean();
    s.noise_tunnel.samples = 3;
    s.noise_tunnel.noise_level = 0.3;
    s.gradient_shap.samples = 4;
    s.gradient_shap.noise = 0.05;
    s.kernel_shap.num_samples = 40;
    s.shapley_sampling.permutations = 2;
    s.noise_tunnel.seed = s.gradient_shap.seed = s.kernel_shap.seed = s.shapley_sampling.seed = s.lime.seed = 9;
    s.lime_segmentation = xai::GridSegmenter{{.rows = 3, .cols = 3}};
    const xai::models::Sequential net = load_model(model_file);
    const xai::Image input = xai::load_image(image, 1);
    const xai_explain::Json summary = read_json(dir / "out" / "summary.json");
    const xai::Target target = xai::Target::class_index(summary["images"][0]["target"]["index"].get<std::size_t>());
    // Each map is the library's with these options and not its map with the defaults.
    xai::ExplainerSettings defaults;
    defaults.lime_segmentation = s.lime_segmentation;
    for (const std::string method : {"ig", "smoothgrad", "gradientshap", "kernelshap", "shapley_sampling"}) {
        INFO(method);
        const std::vector<float> expected = library_raw(method, net, input, s, target);
        CHECK(xai_test::npy_values(dir / "out" / ("item_" + method + ".npy")) == expected);
        CHECK(library_raw(method, net, input, defaults, target) != expected);
    }
    const xai_explain::Json settings = summary["settings"];
    CHECK(settings["ig"] == xai_explain::Json{{"steps", 7}, {"rule", "riemann_trapezoid"}, {"baseline", "mean"}, {"tolerance", 0.0}});
    CHECK(settings["noise_tunnel"] == xai_explain::Json{{"samples", 3}, {"noise_level", 0.3}, {"seed", 9}});
    CHECK(settings["gradientshap"] == xai_explain::Json{{"samples", 4}, {"noise", 0.05}, {"seed", 9}});
    CHECK(settings["kernelshap"] == xai_explain::Json{{"num_samples", 40}, {"seed", 9}});
    CHECK(settings["shapley_sampling"] == xai_explain::Json{{"permutations", 2}, {"seed", 9}});
    const std::vector<std::string> base{"--model", model, "--image", image};
    const auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), base.begin(), base.end());
        return more;
    };
    check_usage_errors({
        {with({"--ig-rule", "simpson"}), "--ig-rule 'simpson', expected riemann_left, riemann_right, riemann_middle"},
        {with({"--ig-steps", "0"}), "--ig-steps '0' is not a positive integer"},
        {with({"--ig-baseline", "white"}), "--ig-baseline 'white', expected black, mean, blur or a finite number"},
        {with({"--ig-tolerance", "1"}), "--ig-tolerance '1' is not in [0, 1)"},
        {with({"--noise-samples", "1000000"}), "--noise-samples 1000000 is above 100000, the most this tool runs"},
        {with({"--noise-level", "-0.1"}), "--noise-level '-0.1' is not a finite number >= 0"},
        {with({"--shapley-permutations", "x"}), "--shapley-permutations 'x' is not a positive integer"},
    });
    fs::remove_all(dir);
}

TEST_CASE("xai-explain --eigen-smooth, --aug-smooth, --score-cam-convention and --target prob:C reach the CAM toolbox, and methods that "
          "take no target function say so",
          "[cli][cam]") {
    const fs::path dir = scratch("camtools");
    const fs::path model_file = random_model(dir);
    const std::string model = model_file.string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const xai::models::Sequential net = load_model(model_file);
    const xai::Image input = xai::load_image(image, 1);

    const Outcome o = run_tool({"--model", model, "--image", image, "--out", (dir / "a").string(), "--method",
                                "gradcam,scorecam", "--eigen-smooth", "--aug-smooth", "--score-cam-convention", "pytorch-grad-cam"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    xai::ExplainerSettings s;
    s.cam.eigen_smooth = s.cam.aug_smooth = s.score_cam.cam.eigen_smooth = s.score_cam.cam.aug_smooth = true;
    s.score_cam.convention = xai::ScoreCamConvention::pytorch_grad_cam;
    const xai::Target top = xai::Target::class_index(read_json(dir / "a" / "item.json")["target"]["index"].get<std::size_t>());
    for (const std::string method : {"gradcam", "scorecam"}) {
        INFO(method);
        const std::vector<float> expected = library_raw(method, net, input, s, top);
        CHECK(xai_test::npy_values(dir / "a" / ("item_" + method + ".npy")) == expected);
        CHECK(library_raw(method, net, input, xai::ExplainerSettings{}, top) != expected);
    }
    CHECK(read_json(dir / "a" / "summary.json")["settings"]["cam"] == xai_explain::Json{{"eigen_smooth", true}, {"aug_smooth", true}});

    // prob:3: the gradient CAMs, FullGrad, LIME, RISE and occlusion explain p_3; Eigen-CAM refuses it, named, and the others still run.
    const Outcome p = run_tool({"--model", model, "--image", image, "--out", (dir / "b").string(), "--method",
                                "gradcam,eigencam,rise", "--target", "prob:3", "--rise-masks", "20"});
    CHECK(p.code == code(ExitCode::failure));
    CHECK_THAT(p.err, Contains("eigencam failed: --target prob:3 is a target function, which this method does not take") &&
                          Contains("targets[0] is the target function class_probability(3)"));
    const xai_explain::Json record = read_json(dir / "b" / "item.json");
    CHECK(record["target"]["index"] == 3);
    CHECK(record["target"]["function"] == "class_probability(3)");
    CHECK(record["methods"][1].contains("error"));
    const xai::Target probability = xai::Target::function(xai::targets::class_probability(3));
    xai::ExplainerSettings rise;
    rise.rise.num_masks = 20;
    CHECK(xai_test::npy_values(dir / "b" / "item_gradcam.npy") == library_raw("gradcam", net, input, {}, probability));
    CHECK(xai_test::npy_values(dir / "b" / "item_rise.npy") == library_raw("rise", net, input, rise, probability));
    CHECK(library_raw("gradcam", net, input, {}, probability) != library_raw("gradcam", net, input, {}, xai::Target::class_index(3)));
    check_usage_errors({
        {{"--model", model, "--image", image, "--target", "prob:"}, "--target prob: needs a class index or name"},
        {{"--model", model, "--image", image, "--target", "prob:12"}, "expected a class index below 10"},
        {{"--model", model, "--image", image, "--score-cam-convention", "gradcam"},
         "--score-cam-convention 'gradcam', expected authors or pytorch-grad-cam"},
    });
    fs::remove_all(dir);
}

TEST_CASE("xai-explain --method dff takes the DFF options and --seed, and draws the concepts with a legend", "[cli][cam][dff]") {
    const fs::path dir = scratch("dff");
    const fs::path model_file = random_model(dir);
    const std::string model = model_file.string();
    const std::string image = test_image(dir / "item.png", 1, 28, 28).string();
    const xai::models::Sequential net = load_model(model_file);
    const xai::Image input = xai::load_image(image, 1);

    const Outcome o = run_tool({"--model", model, "--image", image, "--out", dir.string(), "--method", "dff", "--dff-components", "3",
                                "--dff-iterations", "40", "--dff-tolerance", "0", "--seed", "5"});
    INFO(o.err);
    REQUIRE(o.code == 0);
    xai::ExplainerSettings s;
    s.dff.components = 3;
    s.dff.max_iterations = 40;
    s.dff.tolerance = 0.0;
    s.dff.seed = 5;
    const xai::Target top = xai::Target::class_index(read_json(dir / "item.json")["target"]["index"].get<std::size_t>());
    CHECK(xai_test::npy_values(dir / "item_dff.npy") == library_raw("dff", net, input, s, top));
    CHECK(library_raw("dff", net, input, xai::ExplainerSettings{}, top) != library_raw("dff", net, input, s, top));
    CHECK(fs::exists(dir / "item_dff_concept_2.npy"));
    CHECK_FALSE(fs::exists(dir / "item_dff_concept_3.npy"));
    CHECK(read_json(dir / "summary.json")["settings"]["dff"] ==
          xai_explain::Json{{"components", 3}, {"max_iterations", 40}, {"tolerance", 0.0}, {"seed", 5}});

    // The picture: the library's factorization_picture of the input, then one legend line per concept.
    const xai::DffResult r = xai::DeepFeatureFactorization<xai::models::Sequential>(net, s.dff).explain(input, top);
    const xai::Image expected = xai::factorization_picture(input, r, 0);
    const xai::Image picture = xai::load_image((dir / "item_dff_concepts.png").string(), 3);
    const std::size_t lines = 3 * (xai_explain::line_height(1) + 2) + 2;
    REQUIRE(picture.shape(1) == expected.shape(1) + lines);
    REQUIRE(picture.shape(2) == 28);
    CHECK(xt::amax(xt::abs(xt::view(picture, xt::all(), xt::range(0, expected.shape(1)), xt::all()) - expected))() <= 0.5f / 255);
    float colour[3];
    xai::detail::concept_colour(2, 3, colour);  // the third legend line's swatch
    for (std::size_t c = 0; c < 3; ++c)
        CHECK(picture(c, expected.shape(1) + 2 + 2 * (xai_explain::line_height(1) + 2) + 3, 5) == Approx(colour[c]).margin(0.5 / 255));
    check_usage_errors({
        {{"--model", model, "--image", image, "--dff-components", "0"}, "--dff-components '0' is not a positive integer"},
        {{"--model", model, "--image", image, "--dff-components", "65"}, "--dff-components 65 is above 64"},
        {{"--model", model, "--image", image, "--dff-tolerance", "1"}, "--dff-tolerance"},
    });
    fs::remove_all(dir);
}
