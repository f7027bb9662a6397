// cam_gallery: the pictures of docs/methods/cam.md — every CAM method on shipped scene samples.
//
//   cam_gallery [--out DIR] [--scenes 0,3,8,13]
//
// Loads the built-in "scenes" CNN (models/builtin.hpp) and the shipped scene samples
// (data/samples/scenes: images, labels and ground-truth boxes in ground_truth.json), explains
// the chosen scenes for their true class with each method and writes DIR/cam_<method>.png:
// each scene enlarged 3×, the display map overlaid as pytorch-grad-cam's show_cam_on_image does
// (jet, image weight 0.5), the item's box in green. The top row explains the feature layer
// (relu4, the input of the global average pooling, 8×8), the bottom row relu3 (16×16, before
// the last pooling); CAM and SobelCam (the input's edges) have only the top row. Also:
//   cam_layer_cam_fused.png   LayerCAM fused over relu3 and relu4
//   cam_raw_signed.png        Grad-CAM's signed raw map at relu4 (before ReLU) over the scene:
//                             red positive, blue negative, symmetric scale per scene
//   cam_full_grad.png         FullGrad (input and every convolution; no layer)
//   cam_dff.png               Deep Feature Factorization, 4 concepts of relu4 (top) and relu3
//                             (bottom): each pixel in its strongest concept's colour, a legend
//                             strip below each scene; the legend (each concept's top class and
//                             its probability) is printed
// and prints, per picture and row, how many arg-maxes fall inside the box.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "xai/cam.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"

namespace {

using Model = xai::models::Sequential;
constexpr std::size_t zoom = 3;

struct Sample {
    xai::Image image;
    std::size_t label = 0;
    xai::SceneBox box;
};

/// The shipped scene samples, in the order of ground_truth.json (one scene per line).
std::vector<Sample> load_samples() {
    const std::filesystem::path dir = xai::data_directory() / "samples" / "scenes";
    std::ifstream json(dir / "ground_truth.json");
    if (!json) throw xai::io_error("cam_gallery: cannot read " + (dir / "ground_truth.json").string());
    std::vector<Sample> samples;
    std::string line;
    while (std::getline(json, line)) {
        const std::size_t at = line.find("\"file\": \"");
        if (at == std::string::npos) continue;
        const std::size_t begin = at + 9, end = line.find('"', begin);
        Sample s;
        xai::SceneBox& b = s.box;
        if (std::sscanf(line.c_str() + line.find("\"label\""), "\"label\": %zu", &s.label) != 1 ||
            std::sscanf(line.c_str() + line.find("\"box\""), "\"box\": {\"top\": %zu, \"left\": %zu, \"bottom\": %zu, \"right\": %zu",
                        &b.top, &b.left, &b.bottom, &b.right) != 4)
            throw xai::io_error("cam_gallery: cannot parse ground_truth.json line: " + line);
        s.image = xai::load_image(dir / line.substr(begin, end - begin), 1);
        samples.push_back(std::move(s));
    }
    return samples;
}

/// The scene enlarged `zoom` times with the map overlaid and the box drawn in green.
xai::Image tile(const Sample& s, const xai::Map& map) {
    const std::size_t h = s.image.shape(1) * zoom, w = s.image.shape(2) * zoom;
    const xai::Image big = xai::resize(s.image, h, w, xai::Interpolation::nearest);
    xai::Image picture = xai::overlay(big, xai::resize(map, h, w));
    const xai::SceneBox b{s.box.top * zoom, s.box.left * zoom, s.box.bottom * zoom - 1, s.box.right * zoom - 1};
    const auto paint = [&](std::size_t y, std::size_t x) {
        picture(0, y, x) = 0.0f;
        picture(1, y, x) = 1.0f;
        picture(2, y, x) = 0.0f;
    };
    for (std::size_t x = b.left; x <= b.right; ++x) paint(b.top, x), paint(b.bottom, x);
    for (std::size_t y = b.top; y <= b.bottom; ++y) paint(y, b.left), paint(y, b.right);
    return picture;
}

/// A signed map over the scene: red where positive, blue where negative, the scene's grey where
/// zero, on a symmetric scale (the largest |value| is full colour); the box in green.
xai::Image diverging(const Sample& s, const xai::Map& raw) {
    const std::size_t h = s.image.shape(1) * zoom, w = s.image.shape(2) * zoom;
    const xai::Map big = xai::resize(raw, h, w);
    const xai::Image grey = xai::resize(s.image, h, w, xai::Interpolation::nearest);
    const float scale = std::max(xt::amax(xt::abs(raw))(), 1e-30f);
    xai::Map dummy = xt::zeros<float>({h, w});
    xai::Image picture = tile(s, dummy);  // for the box; every pixel inside is overwritten below
    for (std::size_t p = 0; p < h * w; ++p) {
        if (picture.data()[h * w + p] == 1.0f && picture.data()[p] == 0.0f && picture.data()[2 * h * w + p] == 0.0f)
            continue;  // box outline
        const float v = std::clamp(big.data()[p] / scale, -1.0f, 1.0f), a = std::abs(v);
        const float base = 0.25f + 0.5f * grey.data()[p];
        picture.data()[p] = (1.0f - a) * base + a * (v > 0 ? 1.0f : 0.0f);
        picture.data()[h * w + p] = (1.0f - a) * base;
        picture.data()[2 * h * w + p] = (1.0f - a) * base + a * (v < 0 ? 1.0f : 0.0f);
    }
    return picture;
}

/// Rows of equally sized tiles with 4-pixel white gaps.
xai::Image grid(const std::vector<std::vector<xai::Image>>& rows) {
    const std::size_t h = rows.front().front().shape(1), w = rows.front().front().shape(2), gap = 4;
    const std::size_t columns = rows.front().size();
    xai::Image out = xt::ones<float>({std::size_t{3}, rows.size() * (h + gap) - gap, columns * (w + gap) - gap});
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t t = 0; t < columns; ++t)
            xt::view(out, xt::all(), xt::range(r * (h + gap), r * (h + gap) + h),
                     xt::range(t * (w + gap), t * (w + gap) + w)) = rows[r][t];
    return out;
}

std::size_t hits(const xai::Maps& maps, const std::vector<Sample>& chosen) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < chosen.size(); ++i) {
        const auto plane = xt::view(maps, i);
        const auto peak = static_cast<std::size_t>(std::max_element(plane.begin(), plane.end()) - plane.begin());
        count += chosen[i].box.contains(peak / maps.shape(2), peak % maps.shape(2)) ? 1 : 0;
    }
    return count;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::filesystem::path out = ".";
        std::vector<std::size_t> indices{0, 3, 8, 13};
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string_view flag = argv[i];
            if (flag == "--out") {
                out = argv[i + 1];
            } else if (flag == "--scenes") {
                indices.clear();
                std::stringstream list(argv[i + 1]);
                for (std::string item; std::getline(list, item, ',');) indices.push_back(std::stoul(item));
            } else {
                std::fprintf(stderr, "usage: %s [--out DIR] [--scenes 0,3,8,13]\n", argv[0]);
                return 2;
            }
        }
        if (argc % 2 == 0) {
            std::fprintf(stderr, "usage: %s [--out DIR] [--scenes 0,3,8,13]\n", argv[0]);
            return 2;
        }
        std::filesystem::create_directories(out);

        const Model model = xai::models::load_builtin("scenes");
        const std::vector<Sample> samples = load_samples();
        std::vector<Sample> chosen;
        std::vector<xai::Image> images;
        xai::Targets targets;
        for (std::size_t i : indices) {
            chosen.push_back(samples.at(i));
            images.push_back(chosen.back().image);
            targets.emplace_back(chosen.back().label);
        }
        const xai::Batch batch = xai::stack(images);
        const std::string layer = model.feature_layer(), fine = "relu3";

        const auto row = [&](const xai::Explanation& r) {
            std::vector<xai::Image> tiles;
            for (std::size_t i = 0; i < chosen.size(); ++i) tiles.push_back(tile(chosen[i], r.map(i)));
            return tiles;
        };
        const auto report = [&](const std::string& name, const std::string& at, const xai::Maps& maps) {
            std::printf("%-20s %-6s arg-max inside the box: %zu of %zu\n", name.c_str(), at.c_str(), hits(maps, chosen),
                        chosen.size());
        };
        // One picture: the method at the feature layer (top) and at relu3 (bottom); at(layer)
        // builds the explainer at a layer.
        const auto save = [&](const std::string& name, const auto& at) {
            std::vector<std::vector<xai::Image>> rows;
            for (const std::string& where : {layer, fine}) {
                const xai::CamResult r = at(where).explain(batch, targets);
                report(name, where, r.maps);
                rows.push_back(row(r));
            }
            xai::save_image(out / ("cam_" + name + ".png"), grid(rows));
        };

        const xai::CamResult cam = xai::Cam<Model>(model).explain(batch, targets);
        report("cam", layer, cam.maps);
        xai::save_image(out / "cam_cam.png", grid({row(cam)}));
        save("grad_cam", [&](const std::string& at) { return xai::GradCam<Model>(model, {.layer = at}); });
        save("grad_cam_plus_plus", [&](const std::string& at) { return xai::GradCamPlusPlus<Model>(model, {.layer = at}); });
        save("xgrad_cam", [&](const std::string& at) { return xai::XGradCam<Model>(model, {.layer = at}); });
        save("hires_cam", [&](const std::string& at) { return xai::HiResCam<Model>(model, {.layer = at}); });
        save("layer_cam", [&](const std::string& at) { return xai::LayerCam<Model>(model, {.layer = at}); });
        save("score_cam", [&](const std::string& at) { return xai::ScoreCam<Model>(model, {.cam = {.layer = at}}); });
        save("eigen_cam", [&](const std::string& at) { return xai::EigenCam<Model>(model, {.layer = at}); });
        save("ablation_cam", [&](const std::string& at) { return xai::AblationCam<Model>(model, {.cam = {.layer = at}}); });
        save("grad_cam_elementwise",
             [&](const std::string& at) { return xai::GradCamElementWise<Model>(model, {.layer = at}); });
        save("eigen_grad_cam", [&](const std::string& at) { return xai::EigenGradCam<Model>(model, {.layer = at}); });
        save("kpca_cam", [&](const std::string& at) { return xai::KpcaCam<Model>(model, {.cam = {.layer = at}}); });
        save("random_cam", [&](const std::string& at) { return xai::RandomCam<Model>(model, {.cam = {.layer = at}}); });
        save("grad_cam_eigen_smooth",
             [&](const std::string& at) { return xai::GradCam<Model>(model, {.layer = at, .eigen_smooth = true}); });
        save("grad_cam_aug_smooth",
             [&](const std::string& at) { return xai::GradCam<Model>(model, {.layer = at, .aug_smooth = true}); });
        const xai::CamResult sobel = xai::SobelCam<Model>(model).explain(batch, targets);
        report("sobel_cam", "input", sobel.maps);
        xai::save_image(out / "cam_sobel_cam.png", grid({row(sobel)}));

        const xai::FusedCamResult fused = xai::LayerCam<Model>(model).explain_fused(batch, {fine, layer}, targets);
        report("layer_cam_fused", "both", fused.maps);
        xai::save_image(out / "cam_layer_cam_fused.png", grid({row(fused)}));

        const xai::FullGradResult full_grad = xai::FullGrad<Model>(model).explain(batch, targets);
        report("full_grad", "all", full_grad.maps);
        xai::save_image(out / "cam_full_grad.png", grid({row(full_grad)}));

        std::vector<std::vector<xai::Image>> dff_rows;
        for (const std::string& at : {layer, fine}) {
            const xai::DffResult r = xai::DeepFeatureFactorization<Model>(model, {.layer = at, .components = 4}).explain(batch, targets);
            report("dff", at, r.maps);
            std::vector<xai::Image> tiles;
            for (std::size_t i = 0; i < chosen.size(); ++i) {
                const xai::Image picture = xai::factorization_picture(chosen[i].image, r, i);
                tiles.push_back(xai::resize(picture, picture.shape(1) * zoom, picture.shape(2) * zoom, xai::Interpolation::nearest));
                std::printf("dff %-6s scene %zu (%s):", at.c_str(), indices[i], std::string(xai::fashion_mnist_classes[chosen[i].label]).c_str());
                for (std::size_t j = 0; j < r.concept_classes[i].size(); ++j)
                    std::printf(" concept %zu %s %.2f;", j, std::string(xai::fashion_mnist_classes[r.concept_classes[i][j]]).c_str(),
                                static_cast<double>(r.concept_scores(i, j, r.concept_classes[i][j])));
                std::printf("\n");
            }
            dff_rows.push_back(std::move(tiles));
        }
        xai::save_image(out / "cam_dff.png", grid(dff_rows));

        // No layer given: the model's default feature layer (relu4).
        const xai::CamResult grad = xai::GradCam<Model>(model).explain(batch, targets);
        std::vector<xai::Image> raw_tiles;
        for (std::size_t i = 0; i < chosen.size(); ++i) raw_tiles.push_back(diverging(chosen[i], grad.raw_map(i)));
        xai::save_image(out / "cam_raw_signed.png", grid({raw_tiles}));
        std::printf("wrote %zu scenes per picture to %s\n", chosen.size(), out.string().c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cam_gallery: %s\n", e.what());
        return 1;
    }
}
