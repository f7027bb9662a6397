// The pictures of docs/methods/rise.md and docs/methods/occlusion.md, from a built-in model and
// held-out images, so the figures can be reproduced:
//
//   rise_figures [--model scenes|fashion] [--out DIR] [--count K] [--first I]
//
// Images: held-out scenes make_scenes(test, I, K) for "scenes" (64×64), or Fashion-MNIST test
// images I … I+K−1 for "fashion" (28×28); needs Debian's dataset-fashion-mnist.
//
//   DIR/rise_convergence_<model>.png  the first image; rows N = 500, 2000, 8000 masks (seed 0); columns: the
//                             scene, the RISE map (one colour scale for all rows), the map of its
//                             per-pixel standard error (one colour scale for all rows: the error
//                             at N = 500 fills the scale, so the shrinking shows)
//   DIR/rise_<model>.png      K images in rows; columns: the scene, RISE (N = 4000, defaults),
//                             RISE over a blurred baseline, each map min-max normalized and
//                             overlaid on the scene
//   DIR/occlusion_<model>.png the same K images; columns: the image, occlusion with a small and
//                             a large window (scenes: 9 px stride 3, 15 px stride 4; fashion:
//                             5 px stride 1, 9 px stride 2)
// It also prints the masks, relative standard errors and the early-stopping runs the docs quote.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/io.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"

namespace {

constexpr std::size_t kGap = 4;
std::size_t scale = 3;  // pictures are drawn 192 px wide: 64×64 scenes ×3, 28×28 items ×7

struct Arguments {
    std::string model = "scenes";
    std::filesystem::path out = "docs/images";
    std::size_t count = 4;
    std::size_t first = 0;
};

Arguments parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--model") args.model = argv[i + 1];
        else if (flag == "--out") args.out = argv[i + 1];
        else if (flag == "--count") args.count = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
        else if (flag == "--first") args.first = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
        else {
            std::fprintf(stderr, "usage: %s [--model scenes|fashion] [--out DIR] [--count K] [--first I]\n", argv[0]);
            std::exit(2);
        }
    }
    return args;
}

/// An RGB picture of a grey or RGB image, enlarged `scale` times with nearest neighbours.
xai::Image enlarge(const xai::Image& image) {
    const xai::Image rgb = image.shape(0) == 3 ? image : xai::Image(xt::concatenate(xt::xtuple(image, image, image), 0));
    return xai::resize(rgb, rgb.shape(1) * scale, rgb.shape(2) * scale, xai::Interpolation::nearest);
}

/// A map coloured with jet on the scale [lo, hi].
xai::Image colour(const xai::Map& map, float lo, float hi) {
    xai::Map scaled = (map - lo) / std::max(hi - lo, 1e-12f);
    scaled = xt::clip(scaled, 0.0f, 1.0f);
    return enlarge(xai::apply_colormap(scaled, xai::Colormap::jet));
}

/// A signed map min-max normalized and blended over the scene. (Explanation::map() would clip
/// occlusion's negative drops to 0 first; the docs' pictures show the whole range.)
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

}  // namespace

int main(int argc, char** argv) try {
    const Arguments args = parse(argc, argv);
    const xai::models::Sequential model = xai::models::load_builtin(args.model);
    const bool scenes_model = args.model == "scenes";
    const xai::LabelledImages test =
        xai::load_fashion_mnist(xai::FashionMnistSplit::test, scenes_model ? 0 : args.first + args.count);
    const xai::Batch batch = scenes_model ? xai::make_scenes(test.images, test.labels, args.first, args.count).images
                                          : xai::Batch(xt::view(test.images, xt::range(args.first, args.first + args.count)));
    scale = 192 / batch.shape(2);
    std::filesystem::create_directories(args.out);
    std::vector<xai::Image> scenes;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < batch.shape(0); ++i) {
        scenes.push_back(xai::image_at(batch, i));
        names.push_back(args.model + " #" + std::to_string(args.first + i));
    }

    // Convergence: N = 500, 2000, 8000 on the first image, same seed (the first 500 masks are
    // shared by all three runs).
    {
        const xai::Image& scene = scenes[0];
        std::vector<xai::Map> maps, errors;
        for (std::size_t n : {500, 2000, 8000}) {
            const xai::RiseExplanation e = xai::Rise(model, {.num_masks = n}).explain(scene);
            maps.push_back(e.raw_map());
            errors.push_back(xt::view(e.standard_error, 0, xt::all(), xt::all()));
            std::printf("%s N=%5zu class %s: saliency in [%.4f, %.4f], mean SE %.5f, relative SE %.4f\n",
                        names[0].c_str(), n, std::string(xai::fashion_mnist_classes[e.targets[0]]).c_str(),
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
        xai::save_image(args.out / ("rise_convergence_" + args.model + ".png"), grid(rows));
        std::printf("saliency scale [%.4f, %.4f], standard-error scale [0, %.5f]\n", static_cast<double>(lo),
                    static_cast<double>(hi), static_cast<double>(se_hi));

        // Early stopping on the same sample: the masks each tolerance needs (checks every 500).
        for (double tolerance : {0.05, 0.02, 0.01}) {
            const xai::Rise rise(model, {.num_masks = 16000, .tolerance = tolerance});
            const xai::RiseExplanation e = rise.explain(scene);
            std::printf("tolerance %.3f: stopped after %zu masks (relative SE %.4f, converged %d)\n", tolerance,
                        e.masks_used[0], e.relative_standard_error[0], static_cast<int>(e.converged[0]));
        }
    }

    // RISE (zero and blurred baselines) and occlusion (two window sizes) on every sample.
    std::vector<std::vector<xai::Image>> rise_rows, occlusion_rows;
    const xai::RiseOptions blurred{.baseline = xai::Baseline::blurred({5.0, 11, xai::BlurBorder::reflect})};
    const xai::OcclusionOptions small{.window = scenes_model ? 9u : 5u, .stride = scenes_model ? 3u : 1u};
    const xai::OcclusionOptions large{.window = scenes_model ? 15u : 9u, .stride = scenes_model ? 4u : 2u};
    for (std::size_t i = 0; i < scenes.size(); ++i) {
        const xai::Image& scene = scenes[i];
        const auto zero = xai::Rise(model).explain(scene);
        const auto blur = xai::Rise(model, blurred).explain(scene);
        const auto occ_small = xai::Occlusion(model, small).explain(scene);
        const auto occ_large = xai::Occlusion(model, large).explain(scene);
        std::printf("%s: class %s (p = %.3f); occlusion windows %zu and %zu\n", names[i].c_str(),
                    std::string(xai::fashion_mnist_classes[zero.targets[0]]).c_str(),
                    static_cast<double>(occ_small.scores[0]), occ_small.windows, occ_large.windows);
        rise_rows.push_back({enlarge(scene), overlaid(scene, zero.raw_map()), overlaid(scene, blur.raw_map())});
        occlusion_rows.push_back(
            {enlarge(scene), overlaid(scene, occ_small.raw_map()), overlaid(scene, occ_large.raw_map())});
    }
    const std::filesystem::path rise_path = args.out / ("rise_" + args.model + ".png");
    const std::filesystem::path occlusion_path = args.out / ("occlusion_" + args.model + ".png");
    xai::save_image(rise_path, grid(rise_rows));
    xai::save_image(occlusion_path, grid(occlusion_rows));
    std::printf("wrote %s, %s and %s\n", (args.out / ("rise_convergence_" + args.model + ".png")).c_str(), rise_path.c_str(),
                occlusion_path.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rise_figures: %s\n", e.what());
    return 1;
}
