// The pictures of docs/superpixels.md and docs/methods/lime.md.
//
//   lime_gallery [output directory, default docs/images]
//
// 1. Each superpixel algorithm on the sample photo data/samples/photos/chelsea_224.png, its
//    boundaries drawn in yellow: superpixels_{slic,quickshift,felzenszwalb,grid}.png.
// 2. LIME with lime's defaults (quick shift, 1000 samples) but a black baseline on the photo,
//    explaining a deliberately transparent black box — its score is the fraction of pixels
//    whose colour is near the cat's orange fur — so the picture can be checked by eye:
//    lime_photo_overlay.png (positive superpixels green, negative red, outlined) and
//    lime_photo_mask.png (lime's get_image_and_mask: top 5 positive, the rest hidden).
// 3. LIME of the built-in "scenes" CNN (load_builtin) on the held-out scene
//    data/samples/scenes/scene_0.png (an ankle boot among clutter), SLIC superpixels:
//    lime_scene_overlay.png and lime_scene_superpixels.png (skipped if the weights are missing).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "xai/core/data_dir.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/lime.hpp"
#include "xai/models/builtin.hpp"

namespace {

/// Two classes: "orange fur" with logit 8·(fraction of pixels near the fur colour) and "other"
/// with logit 2. A black box whose right answer is obvious in the picture.
class FurColourModel {
public:
    xai::Scores forward(const xai::Batch& batch) const {
        const std::size_t n = batch.shape(0), pixels = batch.shape(2) * batch.shape(3);
        xai::Scores out = xai::Scores::from_shape({n, 2});
        for (std::size_t i = 0; i < n; ++i) {
            const float* r = batch.data() + i * 3 * pixels;
            const float* g = r + pixels;
            const float* b = g + pixels;
            std::size_t near = 0;
            for (std::size_t p = 0; p < pixels; ++p) {
                const float dr = r[p] - 0.62f, dg = g[p] - 0.42f, db = b[p] - 0.25f;
                near += dr * dr + dg * dg + db * db < 0.02f ? 1 : 0;
            }
            out(i, 0) = 8.0f * static_cast<float>(near) / static_cast<float>(pixels);
            out(i, 1) = 2.0f;
        }
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {3, 224, 224}; }
};

template <class Segment>
void save_superpixels(const std::filesystem::path& out, const std::string& name, const xai::Image& photo, Segment segment) {
    const auto start = std::chrono::steady_clock::now();
    const xai::Segmentation s = segment(photo);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    xai::save_image(out / ("superpixels_" + name + ".png"), xai::mark_boundaries(photo, s, {1.0f, 1.0f, 0.0f}));
    std::printf("%-13s %4zu superpixels  %7.1f ms\n", name.c_str(), s.count, ms);
}

void print_explanation(const char* title, const xai::LimeSurrogate& e) {
    std::printf("%s: class %zu, model %.4f, surrogate %.4f, R2 %.3f, top superpixels:", title, e.target,
                e.model_prediction, e.local_prediction, e.r2);
    for (std::size_t i = 0; i < std::min<std::size_t>(5, e.features.size()); ++i)
        std::printf(" %zu (%+.4f)", e.features[i], e.weights[e.features[i]]);
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path out = argc > 1 ? argv[1] : "docs/images";
    std::filesystem::create_directories(out);
    const xai::Image photo = xai::load_image(xai::data_directory() / "samples" / "photos" / "chelsea_224.png", 3);

    save_superpixels(out, "slic", photo, [](const xai::Image& i) { return xai::slic(i, {100}); });
    save_superpixels(out, "quickshift", photo, [](const xai::Image& i) { return xai::quickshift(i); });
    save_superpixels(out, "felzenszwalb", photo, [](const xai::Image& i) { return xai::felzenszwalb(i, {100.0, 0.5, 50}); });
    save_superpixels(out, "grid", photo, [](const xai::Image& i) { return xai::grid_segments(i, {64}); });

    const FurColourModel fur;
    // lime's defaults except the baseline: a superpixel's mean colour can be *nearer* the fur
    // colour than its textured pixels, so with mean hiding the weights measure that artefact
    // (try it: the top weights turn negative). Black removes the evidence instead.
    const xai::Lime<FurColourModel> lime(fur, {.baseline = xai::Baseline::constant(0.0f)});
    const xai::LimeExplanation e = lime.explain(photo, 0);
    print_explanation("photo", e.surrogate(0));
    xai::LimeOverlayOptions overlay;
    overlay.mask.num_features = 8;
    xai::save_image(out / "lime_photo_overlay.png", xai::lime_overlay(photo, e, 0, overlay));
    xai::save_image(out / "lime_photo_mask.png",
                    xai::lime_image_and_mask(photo, e, 0, {.num_features = 5, .hide_rest = true}).image);

    const std::filesystem::path scene_file = xai::data_directory() / "samples" / "scenes" / "scene_0.png";
    try {
        // data/samples/scenes/ground_truth.json: scene_0 shows test item 0, class 9 (ankle boot)
        const xai::models::Sequential cnn = xai::models::load_builtin("scenes");
        const xai::Image scene = xai::load_image(scene_file, 1);
        const std::size_t label = 9;
        xai::SlicOptions slic;  // grey scenes: SLIC on intensity, compactness for values in [0,1]
        slic.n_segments = 40;
        slic.compactness = 0.1;
        const xai::LimeOptions options{.baseline = xai::Baseline::constant(0.0f)};  // the scenes' background
        const xai::Lime<xai::models::Sequential, xai::Slic> cnn_lime(cnn, options, {slic});
        const xai::LimeExplanation s = cnn_lime.explain(scene, label);
        print_explanation("scene", s.surrogate(label));
        // drawn at 4× (nearest) so the superpixels are visible in the docs
        const std::size_t zoom = 4, size = scene.shape(1) * zoom;
        const xai::Image big = xai::resize(scene, size, size, xai::Interpolation::nearest);
        xai::LimeExplanation big_e = s;
        xai::Segmentation& big_segments = big_e.segmentations[0];
        big_segments.labels = xai::SegmentLabels::from_shape({size, size});
        for (std::size_t y = 0; y < size; ++y)
            for (std::size_t x = 0; x < size; ++x)
                big_segments.labels(y, x) = s.segmentations[0].labels(y / zoom, x / zoom);
        xai::LimeOverlayOptions scene_overlay;
        scene_overlay.mask.num_features = 6;
        xai::save_image(out / "lime_scene_overlay.png", xai::lime_overlay(big, big_e, label, scene_overlay));
        xai::save_image(out / "lime_scene_superpixels.png",
                        xai::mark_boundaries(xai::as_rgb(big), big_segments, {1.0f, 1.0f, 0.0f}));
    } catch (const xai::io_error& error) {
        std::printf("scene pictures skipped: %s\n", error.what());
    }
    std::printf("pictures written to %s\n", out.string().c_str());
    return 0;
}
