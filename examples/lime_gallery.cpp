// The pictures of docs/superpixels.md and docs/methods/lime.md.
//
//   lime_gallery [output directory, default docs/images]
//
// 1. Each superpixel algorithm on the sample photo data/samples/photos/chelsea_224.png, its
//    boundaries drawn in yellow: superpixels_{slic,quickshift,felzenszwalb,grid}.png.
// 2. LIME with lime's defaults (quick shift, 1000 samples) but black hiding on the photo,
//    explaining a deliberately transparent black box — its score is the fraction of pixels
//    whose colour is near the cat's orange fur — so the picture can be checked by eye:
//    lime_photo_overlay.png (positive superpixels green, negative red, outlined) and
//    lime_photo_mask.png (lime's get_image_and_mask: top 5 positive, the rest hidden).
// 3. When the built-in "scenes" CNN's weights are shipped (data/models/scenes.xaiw) and
//    Fashion-MNIST is installed: LIME of the CNN on a held-out scene, lime_scene_overlay.png.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/explain/lime.hpp"
#include "xai/explain/lime_visualize.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/image/superpixels.hpp"
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

void print_explanation(const char* title, const xai::LimeLabelExplanation& e) {
    std::printf("%s: class %zu, model %.4f, surrogate %.4f, R2 %.3f, top superpixels:", title, e.label,
                e.model_prediction, e.local_prediction, e.score);
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
    // lime's defaults except the hiding colour: a superpixel's mean colour can be *nearer* the
    // fur colour than its textured pixels, so with mean hiding the weights measure that artefact
    // (try it: the top weights turn negative). Black removes the evidence instead.
    xai::LimeOptions photo_options;
    photo_options.hide_color = xai::HideColor::fixed(0.0f);
    const xai::Lime<FurColourModel> lime(fur, photo_options);
    const xai::LimeExplanation e = lime.explain(photo, {0});
    print_explanation("photo", e.labels[0]);
    xai::LimeOverlayOptions overlay;
    overlay.mask.num_features = 8;
    xai::save_image(out / "lime_photo_overlay.png", xai::lime_overlay(photo, e, 0, overlay));
    xai::save_image(out / "lime_photo_mask.png", xai::lime_image_and_mask(photo, e, 0, {5, true, false, 0.0, true}).image);

    try {
        const xai::models::Sequential cnn = xai::models::load_builtin("scenes");
        const xai::LabelledImages items = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 64);
        const xai::Scene scene = xai::make_scene(items.images, items.labels, 3);
        xai::SlicOptions slic;  // grey scenes: SLIC on intensity, compactness for values in [0,1]
        slic.n_segments = 50;
        slic.compactness = 0.1;
        xai::LimeOptions options;
        options.hide_color = xai::HideColor::fixed(0.0f);  // the scenes' background
        const xai::Lime<xai::models::Sequential, xai::Slic> cnn_lime(cnn, options, {slic});
        const xai::LimeExplanation s = cnn_lime.explain(scene.image, {scene.label});
        print_explanation("scene", s.labels[0]);
        const xai::Image big = xai::resize(scene.image, 256, 256, xai::Interpolation::nearest);
        xai::LimeExplanation big_e = s;  // the same explanation drawn at 4× for the docs
        big_e.segmentation.labels = xt::xtensor<std::int32_t, 2>::from_shape({256, 256});
        for (std::size_t y = 0; y < 256; ++y)
            for (std::size_t x = 0; x < 256; ++x) big_e.segmentation.labels(y, x) = s.segmentation.labels(y / 4, x / 4);
        xai::save_image(out / "lime_scene_overlay.png", xai::lime_overlay(big, big_e, scene.label, overlay));
    } catch (const xai::io_error& error) {
        std::printf("scene picture skipped: %s\n", error.what());
    }
    std::printf("pictures written to %s\n", out.string().c_str());
    return 0;
}
