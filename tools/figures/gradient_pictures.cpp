// gradient_pictures: the Captum-style pictures of docs/methods/gradients.md — every gradient
// method on held-out scenes, drawn as Captum's "blended_heat_map" (image/attribution_colormap.hpp).
//
//   gradient_pictures [--out DIR] [--count K] [--first I]
//
// Held-out scenes make_scenes(Fashion-MNIST test, I, K) (needs Debian's dataset-fashion-mnist),
// the built-in scenes CNN, each scene explained for its predicted class. Writes
// DIR/gradients_blended.png: one row per scene; columns: the scene, then Saliency, SmoothGrad and
// VarGrad (absolute values, Blues), gradient × input, Integrated Gradients, GradientSHAP, guided
// backprop, the deconvnet and Guided Grad-CAM (signed: red negative, white 0, green positive),
// each map clipped at Captum's cumulative 98 % and blended over the grey scene with opacity 0.5.
// Prints each method's completeness error where it has one.
//
//   gradient_pictures_torch --photo FILE [--out DIR]      (the LibTorch build of the same source)
//
// The same nine methods on one 224×224 photo through a LibTorch ResNet-18 in torchvision's layout
// (models/torch/resnet.hpp, random weights from seed 0, as docs/methods/efficiency.md's photos),
// the photo normalized with ImageNet's statistics (xai::Preprocessing) and the maps blended over
// the photo itself; explained for the predicted class. Writes DIR/gradients_photo.png: the photo
// and the nine maps in two rows of five.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/gradients.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#ifdef XAI_GRADIENT_PICTURES_WITH_TORCH
#include "xai/image/preprocess.hpp"
#include "xai/torch.hpp"
#endif

namespace {

using Net = xai::models::Sequential;
constexpr std::size_t kScale = 2, kGap = 4;

/// A picture enlarged kScale times with nearest neighbours.
xai::Image enlarge(const xai::Image& image) {
    return xai::resize(image, image.shape(1) * kScale, image.shape(2) * kScale, xai::Interpolation::nearest);
}

/// Tiles (3×h×w, all the same size) in rows with white gaps.
xai::Image grid(const std::vector<std::vector<xai::Image>>& rows) {
    const std::size_t h = rows[0][0].shape(1), w = rows[0][0].shape(2), nr = rows.size(), nc = rows[0].size();
    xai::Image canvas = xt::ones<float>({std::size_t{3}, nr * h + (nr + 1) * kGap, nc * w + (nc + 1) * kGap});
    for (std::size_t r = 0; r < nr; ++r)
        for (std::size_t c = 0; c < nc; ++c)
            xt::view(canvas, xt::all(), xt::range(kGap + r * (h + kGap), kGap + r * (h + kGap) + h),
                     xt::range(kGap + c * (w + kGap), kGap + c * (w + kGap) + w)) = rows[r][c];
    return canvas;
}

/// One column of the pictures: a method's raw maps of a batch, drawn with a sign mode.
struct Column {
    std::string name;
    xai::SignMode sign;
    std::function<xai::Maps(const xai::Batch&)> raw;
};

/// The nine methods on `model`, in the order of the pictures; IG prints its completeness report.
template <class Model>
std::vector<Column> columns_for(const Model& model) {
    const auto raw_of = [](const auto& explainer) {
        return [explainer](const xai::Batch& b) { return xai::Maps(explainer.explain(b).raw); };
    };
    return {
        {"Saliency", xai::SignMode::absolute, raw_of(xai::Saliency<Model>(model))},
        {"SmoothGrad", xai::SignMode::absolute, raw_of(xai::NoiseTunnel<xai::Saliency<Model>>(model))},
        {"VarGrad", xai::SignMode::absolute,
         raw_of(xai::NoiseTunnel<xai::Saliency<Model>>(model, {.method = {.absolute = false},
                                                               .noise = {.type = xai::NoiseTunnelType::vargrad}}))},
        {"Gradient x input", xai::SignMode::all, raw_of(xai::GradientTimesInput<Model>(model))},
        {"Integrated Gradients", xai::SignMode::all, [&model](const xai::Batch& b) {
             const auto e = xai::IntegratedGradients<Model>(model).explain(b);
             for (std::size_t i = 0; i < e.size(); ++i)
                 std::printf("IG image %zu: F(x) = %.4f, F(x') = %.4f, completeness error %.2e\n", i, e.scores[i],
                             e.baseline_scores[i], e.completeness_error[i]);
             return xai::Maps(e.raw);
         }},
        {"GradientSHAP", xai::SignMode::all, raw_of(xai::GradientShap<Model>(model))},
        {"Guided Backprop", xai::SignMode::all, raw_of(xai::GuidedBackprop<Model>(model))},
        {"Deconvnet", xai::SignMode::all, raw_of(xai::Deconvolution<Model>(model))},
        {"Guided Grad-CAM", xai::SignMode::all, raw_of(xai::GuidedGradCam<Model>(model))},
    };
}

#ifdef XAI_GRADIENT_PICTURES_WITH_TORCH
/// The photo and the nine maps of the ResNet-18 in two rows (see the header comment).
void photo_pictures(const std::filesystem::path& file, const std::filesystem::path& out) {
    xai::models::TorchOptions options;
    options.input_shape = {3, 224, 224};
    options.threads = 1;
    const xai::models::TorchModel model(xai::models::torch_resnet({}, 0), options);
    const xai::Preprocessing preprocessing{};
    const xai::Image photo = xai::load_image(file, 3);
    if (photo.shape(1) != 224 || photo.shape(2) != 224)
        throw xai::invalid_argument(xai::detail::message("gradient_pictures: the photo is ", photo.shape(1), "x",
                                                         photo.shape(2), ", expected 224x224 (a *_224.png sample)"));
    const xai::Image normalized = preprocessing.normalize(photo);
    xai::Batch batch = xai::Batch::from_shape({1, 3, 224, 224});
    std::copy(normalized.begin(), normalized.end(), batch.begin());
    std::vector<xai::Image> tiles{photo};
    for (const Column& c : columns_for(model)) {
        const xai::Maps raw = c.raw(batch);
        const xai::Map map = xai::normalize_attribution(xai::Map(xt::view(raw, 0)), c.sign);
        tiles.push_back(xai::blended_heat_map(photo, map, c.sign));
        std::printf("%s done\n", c.name.c_str());
    }
    std::filesystem::create_directories(out);
    xai::save_image(out / "gradients_photo.png",
                    grid({std::vector<xai::Image>(tiles.begin(), tiles.begin() + 5), std::vector<xai::Image>(tiles.begin() + 5, tiles.end())}));
}
#endif

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path out = "docs/images";
    std::size_t count = 4, first = 0;
    std::filesystem::path photo;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--out") out = argv[i + 1];
        else if (flag == "--count") count = std::strtoull(argv[i + 1], nullptr, 10);
        else if (flag == "--first") first = std::strtoull(argv[i + 1], nullptr, 10);
#ifdef XAI_GRADIENT_PICTURES_WITH_TORCH
        else if (flag == "--photo") photo = argv[i + 1];
#endif
        else {
            std::fprintf(stderr, "usage: %s [--out DIR] [--count K] [--first I]\n", argv[0]);
            return 2;
        }
    }
#ifdef XAI_GRADIENT_PICTURES_WITH_TORCH
    if (!photo.empty()) {
        photo_pictures(photo, out);
        return 0;
    }
#endif
    const Net model = xai::models::load_builtin("scenes");
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    const xai::Batch scenes = xai::make_scenes(test.images, test.labels, first, count).images;

    const std::vector<Column> columns = columns_for(model);
    std::vector<std::vector<xai::Image>> rows(count);
    for (std::size_t i = 0; i < count; ++i) rows[i].push_back(enlarge(xai::as_rgb(xai::image_at(scenes, i))));
    for (const Column& c : columns) {
        const xai::Maps raw = c.raw(scenes);
        for (std::size_t i = 0; i < count; ++i) {
            const xai::Map map = xai::normalize_attribution(xai::Map(xt::view(raw, i)), c.sign);
            rows[i].push_back(enlarge(xai::blended_heat_map(xai::image_at(scenes, i), map, c.sign)));
        }
        std::printf("%s done\n", c.name.c_str());
    }
    std::filesystem::create_directories(out);
    xai::save_image(out / "gradients_blended.png", grid(rows));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "gradient_pictures: %s\n", e.what());
    return 1;
}
