// The pictures of docs/methods/rise.md and docs/methods/occlusion.md, from the built-in scenes
// model and its shipped samples, so the figures can be reproduced:
//
//   rise_figures [--out DIR] [--samples DIR] [--count K]
//
//   DIR/rise_convergence.png  one sample; rows N = 500, 2000, 8000 masks (seed 0); columns: the
//                             scene, the RISE map (one colour scale for all rows), the map of its
//                             per-pixel standard error (one colour scale for all rows: the error
//                             at N = 500 fills the scale, so the shrinking shows)
//   DIR/rise_scenes.png       K samples in rows; columns: the scene, RISE (N = 4000, defaults),
//                             RISE over a blurred baseline, each map min-max normalized and
//                             overlaid on the scene
//   DIR/occlusion_scenes.png  the same K samples; columns: the scene, occlusion with a 9 px
//                             window and stride 3, occlusion with a 15 px window and stride 4
// It also prints the masks, relative standard errors and the early-stopping runs the docs quote.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/explain/occlusion.hpp"
#include "xai/explain/rise.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/io.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"

namespace {

constexpr std::size_t kScale = 3;  // 64×64 scenes are drawn 192×192
constexpr std::size_t kGap = 4;

struct Arguments {
    std::filesystem::path out = "docs/images";
    std::filesystem::path samples;
    std::size_t count = 4;
};

Arguments parse(int argc, char** argv) {
    Arguments args;
    args.samples = xai::data_directory() / "samples" / "scenes";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--out") args.out = argv[i + 1];
        else if (flag == "--samples") args.samples = argv[i + 1];
        else if (flag == "--count") args.count = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
        else {
            std::fprintf(stderr, "usage: %s [--out DIR] [--samples DIR] [--count K]\n", argv[0]);
            std::exit(2);
        }
    }
    return args;
}

/// The PNG files of a directory, sorted by name.
std::vector<std::filesystem::path> pngs(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".png") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

/// An RGB picture of a grey or RGB image, enlarged kScale times with nearest neighbours.
xai::Image enlarge(const xai::Image& image) {
    const xai::Image rgb = image.shape(0) == 3 ? image : xai::Image(xt::concatenate(xt::xtuple(image, image, image), 0));
    return xai::resize(rgb, rgb.shape(1) * kScale, rgb.shape(2) * kScale, xai::Interpolation::nearest);
}

/// A map coloured with jet on the scale [lo, hi].
xai::Image colour(const xai::Map& map, float lo, float hi) {
    xai::Map scaled = (map - lo) / std::max(hi - lo, 1e-12f);
    scaled = xt::clip(scaled, 0.0f, 1.0f);
    return enlarge(xai::apply_colormap(scaled, xai::Colormap::jet));
}

/// The map min-max normalized and blended over the scene.
xai::Image overlaid(const xai::Image& scene, const xai::Map& map) {
    return enlarge(xai::overlay(scene, xai::normalize_min_max(map)));
}

/// Tiles (3×h×w, all the same size) in a grid with white gaps.
xai::Image grid(const std::vector<std::vector<xai::Image>>& rows) {
    const std::size_t h = rows[0][0].shape(1), w = rows[0][0].shape(2);
    const std::size_t nr = rows.size(), nc = rows[0].size();
    xai::Image canvas = xt::ones<float>({std::size_t{3}, nr * h + (nr + 1) * kGap, nc * w + (nc + 1) * kGap});
    for (std::size_t r = 0; r < nr; ++r)
        for (std::size_t c = 0; c < nc; ++c)
            xt::view(canvas, xt::all(), xt::range(kGap + r * (h + kGap), kGap + r * (h + kGap) + h),
                     xt::range(kGap + c * (w + kGap), kGap + c * (w + kGap) + w)) = rows[r][c];
    return canvas;
}

xai::Map plane(const xai::Maps& maps, std::size_t i) { return xt::view(maps, i, xt::all(), xt::all()); }

}  // namespace

int main(int argc, char** argv) try {
    const Arguments args = parse(argc, argv);
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    const std::vector<std::filesystem::path> files = pngs(args.samples);
    if (files.empty()) throw xai::io_error("rise_figures: no .png samples in '" + args.samples.string() + "'");
    std::filesystem::create_directories(args.out);
    std::vector<xai::Image> scenes;
    for (std::size_t i = 0; i < std::min(args.count, files.size()); ++i) scenes.push_back(xai::load_image(files[i], 1));

    // Convergence: N = 500, 2000, 8000 on the first sample, same seed (the first 500 masks are
    // shared by all three runs).
    {
        const xai::Image& scene = scenes[0];
        std::vector<xai::Map> maps, errors;
        std::vector<std::size_t> classes;
        for (std::size_t n : {500, 2000, 8000}) {
            xai::RiseOptions options;
            options.num_masks = n;
            const xai::RiseExplanation e = xai::Rise(model, options).explain(scene);
            maps.push_back(plane(e.saliency, 0));
            errors.push_back(plane(e.standard_error, 0));
            classes.push_back(e.classes[0]);
            std::printf("%s N=%5zu class %s: saliency in [%.4f, %.4f], mean SE %.5f, relative SE %.4f\n",
                        files[0].filename().c_str(), n, std::string(xai::fashion_mnist_classes[e.classes[0]]).c_str(),
                        static_cast<double>(xt::amin(maps.back())()), static_cast<double>(xt::amax(maps.back())()),
                        static_cast<double>(xt::mean(errors.back())()), e.relative_standard_error[0]);
        }
        float lo = 1e30f, hi = -1e30f;
        for (const xai::Map& m : maps) {
            lo = std::min(lo, xt::amin(m)());
            hi = std::max(hi, xt::amax(m)());
        }
        const float se_hi = xt::amax(errors[0])();
        std::vector<std::vector<xai::Image>> rows;
        for (std::size_t r = 0; r < 3; ++r) rows.push_back({enlarge(scene), colour(maps[r], lo, hi), colour(errors[r], 0.0f, se_hi)});
        xai::save_image(args.out / "rise_convergence.png", grid(rows));
        std::printf("saliency scale [%.4f, %.4f], standard-error scale [0, %.5f]\n", static_cast<double>(lo),
                    static_cast<double>(hi), static_cast<double>(se_hi));

        // Early stopping on the same sample: the masks each tolerance needs (checks every 500).
        for (double tolerance : {0.05, 0.02, 0.01}) {
            xai::RiseOptions options;
            options.num_masks = 16000;
            options.tolerance = tolerance;
            const xai::RiseExplanation e = xai::Rise(model, options).explain(scene);
            std::printf("tolerance %.3f: stopped after %zu masks (relative SE %.4f, converged %d)\n", tolerance,
                        e.masks_used[0], e.relative_standard_error[0], static_cast<int>(e.converged[0]));
        }
    }

    // RISE (zero and blurred baselines) and occlusion (two window sizes) on every sample.
    std::vector<std::vector<xai::Image>> rise_rows, occlusion_rows;
    xai::RiseOptions blurred;
    blurred.baseline = xai::Baseline::blurred({5.0, 11, xai::BlurBorder::reflect});
    xai::OcclusionOptions small, large;
    small.window = 9;
    small.stride = 3;
    large.window = 15;
    large.stride = 4;
    for (std::size_t i = 0; i < scenes.size(); ++i) {
        const xai::Image& scene = scenes[i];
        const auto zero = xai::Rise(model).explain(scene);
        const auto blur = xai::Rise(model, blurred).explain(scene);
        const auto occ_small = xai::Occlusion(model, small).explain(scene);
        const auto occ_large = xai::Occlusion(model, large).explain(scene);
        std::printf("%s: class %s (p = %.3f); occlusion windows %zu and %zu\n", files[i].filename().c_str(),
                    std::string(xai::fashion_mnist_classes[zero.classes[0]]).c_str(),
                    static_cast<double>(occ_small.scores[0]), occ_small.windows, occ_large.windows);
        rise_rows.push_back({enlarge(scene), overlaid(scene, plane(zero.saliency, 0)), overlaid(scene, plane(blur.saliency, 0))});
        occlusion_rows.push_back(
            {enlarge(scene), overlaid(scene, plane(occ_small.saliency, 0)), overlaid(scene, plane(occ_large.saliency, 0))});
    }
    xai::save_image(args.out / "rise_scenes.png", grid(rise_rows));
    xai::save_image(args.out / "occlusion_scenes.png", grid(occlusion_rows));
    std::printf("wrote %s, %s and %s\n", (args.out / "rise_convergence.png").c_str(),
                (args.out / "rise_scenes.png").c_str(), (args.out / "occlusion_scenes.png").c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rise_figures: %s\n", e.what());
    return 1;
}
