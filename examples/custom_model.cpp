// How to explain your own model: a model type written from scratch that satisfies
// xai::Classifier and xai::LayerGradientModel, explained with Grad-CAM (which needs layer
// gradients) and RISE (which needs only forward passes).
//
// The model is small enough to read in one sitting but has the shape of a real CNN:
//
//   input 1×H×W ─► "conv": 3×3 filters (bright spot, vertical edge, horizontal edge), ReLU
//               ─► global average pooling ─► linear head (2 classes: "spot", "stripes")
//
// In your code, forward() and layer_gradients() would call your inference engine (ONNX
// Runtime, TensorRT, a hand-written kernel, LibTorch — see docs/torch.md for the ready-made
// adapter). What xai needs from them is spelled out in include/xai/core/concepts.hpp and
// docs/concepts.md.
//
//   custom_model [OUT_DIR]    writes custom_gradcam.png and custom_rise.png (default: .)
//
// The program also checks its own backward pass with xai's gradient checker (central finite
// differences of the forward pass along random directions, models/gradient_check.hpp) and
// exits with status 1 if they disagree: do the same for your model.

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <xai/xai.hpp>

namespace {

/// The hand-written CNN. Everything xai calls is const and keeps no state between calls, so
/// the explainers may call it from several threads at once.
class SpotOrStripes {
public:
    static constexpr std::size_t channels = 3, classes = 2, size = 32;

    // ---- xai::Classifier ------------------------------------------------------------------
    std::size_t num_classes() const { return classes; }
    xai::ImageShape input_shape() const { return {1, size, size}; }
    xai::Scores forward(const xai::Batch& batch) const { return head(conv(batch)); }

    // ---- xai::LayerActivationModel ----------------------------------------------------------
    std::vector<std::string> layer_names() const { return {"conv"}; }
    xai::LayerOutput layer_activations(const xai::Batch& batch, const std::string& layer) const {
        check_layer(layer);
        xai::Activations a = conv(batch);
        xai::Scores scores = head(a);
        return {std::move(a), std::move(scores)};
    }

    // ---- xai::LayerForwardModel (for Ablation-CAM, and for the gradient check below) ---------
    xai::Scores forward_from(const std::string& layer, const xai::Activations& activations) const {
        check_layer(layer);
        return head(activations);
    }

    // ---- xai::LayerGradientModel -------------------------------------------------------------
    /// d(score)/d(activations): the explainer's `seed` turns the logits into d(score)/d(logits)
    /// (N×K); the head is linear after average pooling, so each activation of channel k gets
    /// Σ_c seed[n][c] · W[c][k] / (h·w).
    xai::LayerGradients layer_gradients(const xai::Batch& batch, const std::string& layer,
                                        const xai::ScoreSeed& seed) const {
        check_layer(layer);
        xai::Activations a = conv(batch);
        xai::Scores scores = head(a);
        const xai::Scores d_logits = seed(scores);
        xai::Activations g = xt::zeros<float>(a.shape());
        const std::size_t n = a.shape(0), plane = size * size;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < channels; ++k) {
                float d = 0.0f;
                for (std::size_t c = 0; c < classes; ++c) d += d_logits(i, c) * weights[c][k];
                d /= static_cast<float>(plane);
                float* out = g.data() + (i * channels + k) * plane;
                for (std::size_t p = 0; p < plane; ++p) out[p] = d;
            }
        return {std::move(a), std::move(g), std::move(scores)};
    }

private:
    /// 3×3 filters: a centre-surround spot detector, vertical and horizontal edge detectors.
    static constexpr std::array<std::array<float, 9>, channels> filters{{
        {-1, -1, -1, -1, 8, -1, -1, -1, -1},
        {-1, 0, 1, -2, 0, 2, -1, 0, 1},
        {-1, -2, -1, 0, 0, 0, 1, 2, 1},
    }};
    static constexpr std::array<std::array<float, channels>, classes> weights{{{4.0f, -1.0f, -1.0f}, {-2.0f, 1.5f, 1.5f}}};
    static constexpr std::array<float, classes> bias{0.0f, -0.1f};

    static void check_layer(const std::string& layer) {
        if (layer != "conv") throw xai::invalid_argument("SpotOrStripes: unknown layer '" + layer + "', expected 'conv'");
    }

    /// conv + ReLU, zero padding: N×1×H×W -> N×3×H×W.
    static xai::Activations conv(const xai::Batch& batch) {
        const std::size_t n = batch.shape(0);
        xai::Activations a = xt::zeros<float>({n, channels, size, size});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < channels; ++k)
                for (std::size_t y = 0; y < size; ++y)
                    for (std::size_t x = 0; x < size; ++x) {
                        float sum = 0.0f;
                        for (std::size_t dy = 0; dy < 3; ++dy)
                            for (std::size_t dx = 0; dx < 3; ++dx) {
                                const std::size_t yy = y + dy, xx = x + dx;  // shifted by the padding of 1
                                if (yy < 1 || xx < 1 || yy > size || xx > size) continue;
                                sum += filters[k][dy * 3 + dx] * batch(i, 0, yy - 1, xx - 1);
                            }
                        a(i, k, y, x) = std::max(sum, 0.0f);
                    }
        return a;
    }

    /// Global average pooling and the linear head: N×3×H×W -> N×2 logits.
    static xai::Scores head(const xai::Activations& a) {
        const std::size_t n = a.shape(0), plane = size * size;
        xai::Scores logits = xt::zeros<float>({n, classes});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < channels; ++k) {
                const float* p = a.data() + (i * channels + k) * plane;
                double mean = 0.0;
                for (std::size_t q = 0; q < plane; ++q) mean += p[q];
                mean /= static_cast<double>(plane);
                for (std::size_t c = 0; c < classes; ++c) logits(i, c) += weights[c][k] * static_cast<float>(mean);
            }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < classes; ++c) logits(i, c) += bias[c];
        return logits;
    }
};

static_assert(xai::Classifier<SpotOrStripes>);
static_assert(xai::LayerGradientModel<SpotOrStripes>);
static_assert(xai::LayerForwardModel<SpotOrStripes>);

/// A dark image with a bright 5×5 spot in the upper left and faint stripes on the right.
xai::Batch sample_image() {
    xai::Batch b = xt::zeros<float>({std::size_t{1}, std::size_t{1}, SpotOrStripes::size, SpotOrStripes::size});
    for (std::size_t y = 6; y < 11; ++y)
        for (std::size_t x = 6; x < 11; ++x) b(0, 0, y, x) = 1.0f;
    for (std::size_t y = 0; y < SpotOrStripes::size; ++y)
        for (std::size_t x = 20; x < 30; x += 4) b(0, 0, y, x) = 0.3f;
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path out = argc > 1 ? argv[1] : ".";
    std::filesystem::create_directories(out);
    const SpotOrStripes model;
    const xai::Batch batch = sample_image();

    // The check every custom model should pass: layer_gradients() against central differences
    // of forward_from() along random directions.
    const xai::models::GradientCheckReport check = xai::models::check_layer_gradients(model, batch, "conv");
    std::printf("gradient check at 'conv': %zu probes, largest relative error %.2g\n", check.probes,
                check.max_relative_error);
    if (!check.passed) {
        std::fprintf(stderr, "custom_model: layer_gradients() disagrees with the finite differences (analytic %.6g, "
                             "numeric %.6g)\n", check.analytic, check.numeric);
        return 1;
    }

    // Grad-CAM of class 0 ("spot") at the only layer, and RISE, which treats the model as a black
    // box; 8×8 cells suit a 32×32 input (docs/methods/rise.md). N = 4000 masks, p1 = 0.5: the
    // paper's defaults.
    const xai::Image image = xai::image_at(batch, 0);
    const xai::GradCam grad_cam(model, {.layer = "conv"});
    const xai::CamResult cam = grad_cam.explain(image, 0);
    const xai::Rise rise(model, {.grid_size = 8});
    const xai::RiseExplanation saliency = rise.explain(image, 0);

    // Overlays, enlarged 8× with nearest-neighbour so that the 32×32 pixels stay visible.
    const auto enlarged = [](const xai::Image& picture) {
        return xai::resize(picture, 8 * picture.shape(1), 8 * picture.shape(2), xai::Interpolation::nearest);
    };
    xai::save_image(out / "custom_gradcam.png", enlarged(xai::overlay(image, cam.map())));
    xai::save_image(out / "custom_rise.png", enlarged(xai::overlay(image, saliency.map())));
    std::printf("logits: spot %.3f, stripes %.3f; pictures in %s\n", cam.logits(0, 0), cam.logits(0, 1),
                out.string().c_str());
    return 0;
}
