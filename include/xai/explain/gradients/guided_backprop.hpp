#pragma once
// Guided backpropagation, the deconvnet, and Guided Grad-CAM: gradients whose backward pass
// through every ReLU is changed (a ReluBackwardModel, core/concepts.hpp).
//
// For a ReLU y = max(x, 0) that receives the gradient g at its output, the backward pass sends
//   backpropagation          g · [x > 0]
//   guided backpropagation   max(g, 0) · [x > 0]   Springenberg, Dosovitskiy, Brox & Riedmiller,
//                                                  "Striving for Simplicity: The All Convolutional
//                                                  Net", ICLR Workshop 2015, §3.4 and Fig. 1
//   deconvnet                max(g, 0)              Zeiler & Fergus, "Visualizing and Understanding
//                                                  Convolutional Networks", ECCV 2014, §2.1 (the
//                                                  rectification of the reconstruction; max pooling
//                                                  unpools through the forward pass's switches and
//                                                  convolutions through their transposed filters,
//                                                  which is what backpropagation does)
// to its input; every other layer backpropagates as usual. These are Captum's GuidedBackprop
// (ReLU's grad_input replaced by relu(grad_input)) and Deconvolution (by relu(grad_output)).
// The attributions are the modified gradient of the explained score with respect to the input
// (no absolute value, as Captum); raw sums them over the channels by default.
//
// Guided Grad-CAM — Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
// Gradient-based Localization", ICCV 2017, §3.1: guided backpropagation multiplied element-wise
// by the Grad-CAM map upsampled to the input, L = GB ⊙ up(ReLU(Σ_k α_k A^k)). The Grad-CAM map is
// xai::GradCam's raw map at CamOptions::layer (the model's default feature layer when empty),
// ReLU'd, not normalized (as Captum's GuidedGradCam: Grad-CAM with relu_attributions=True),
// upsampled bilinearly as the paper does (Captum's default is nearest; `upsampling` chooses),
// and multiplied into every channel of the guided gradient.
//
// Adebayo et al. ("Sanity Checks for Saliency Maps", NeurIPS 2018) found guided backpropagation
// and Guided Grad-CAM almost unchanged when the model's weights are randomized: they show edges
// of the image more than what the model uses (docs/benchmark.md measures it here).

#include <concepts>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/grad_cam.hpp"
#include "xai/explain/cam/options.hpp"
#include "xai/explain/gradients/detail/common.hpp"
#include "xai/explain/gradients/gradient_attribution.hpp"
#include "xai/explain/gradients/options.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// Options of GuidedBackprop and Deconvolution.
struct GuidedBackpropOptions {
    ScoreKind score = ScoreKind::logit;  ///< the score whose modified gradient is taken (the logit by default)
    AttributionDisplay display{};        ///< reduction (default sum), sign and clipping of the maps
    std::size_t batch_size = 32;         ///< images per model call
    std::size_t threads = 0;             ///< model calls in flight at once (0 = all cores)
};

namespace detail {

/// The policy of GradientAttribution for a modified ReLU backward pass: the gradient as it is.
template <ReluBackward Rule>
struct ModifiedReluMethod {
    using Options = GuidedBackpropOptions;
    static constexpr std::string_view name = Rule == ReluBackward::guided ? "GuidedBackprop" : "Deconvolution";
    static constexpr ReluBackward relu = Rule;
    static constexpr ChannelReduction default_reduction = ChannelReduction::sum;
    static void attribute(const Options&, const float*, const float* g, float* a, std::size_t n) { std::copy_n(g, n, a); }
};

}  // namespace detail

/// Guided backpropagation (Springenberg et al., ICLR-W 2015; see the header comment).
template <ReluBackwardModel Model>
using GuidedBackprop = GradientAttribution<Model, detail::ModifiedReluMethod<ReluBackward::guided>>;

/// The deconvnet (Zeiler & Fergus, ECCV 2014; see the header comment).
template <ReluBackwardModel Model>
using Deconvolution = GradientAttribution<Model, detail::ModifiedReluMethod<ReluBackward::deconvolution>>;

/// Options of GuidedGradCam.
struct GuidedGradCamOptions {
    /// The Grad-CAM part: layer (empty: the model's default feature layer) and threads; its
    /// score is replaced by `score` below, and relu, normalize and upsampling are not used.
    CamOptions cam{};
    /// How the Grad-CAM map reaches the input's size: bilinear as the paper (Captum: nearest).
    Interpolation upsampling = Interpolation::bilinear;
    ScoreKind score = ScoreKind::logit;  ///< the score explained by both parts (the logit by default)
    AttributionDisplay display{};        ///< reduction (default sum), sign and clipping of the maps
    std::size_t batch_size = 32;         ///< images per model call of the guided part
    std::size_t threads = 0;             ///< model calls in flight at once (0 = all cores)
};

/// The result of GuidedGradCam: GradientExplanation (attributions = GB ⊙ up(ReLU(Grad-CAM)))
/// with its two factors.
struct GuidedGradCamExplanation : GradientExplanation {
    Batch guided;        ///< N×C×H×W guided backpropagation
    Maps grad_cam;       ///< N×h×w Grad-CAM raw maps at the layer, before the ReLU and upsampling
    std::string layer;   ///< the layer of the Grad-CAM part
};

/// Guided Grad-CAM (Selvaraju et al., ICCV 2017, §3.1; see the header comment) on a model with
/// layer gradients and a modified ReLU backward pass. Holds a pointer to the model, which must
/// outlive it; explain() is const and thread-safe.
template <class Model>
    requires LayerGradientModel<Model> && ReluBackwardModel<Model>
class GuidedGradCam {
public:
    /// The options type.
    using Options = GuidedGradCamOptions;
    /// The channel reduction of raw when AttributionDisplay::reduction is empty: the sum.
    static constexpr ChannelReduction default_reduction = ChannelReduction::sum;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    GuidedGradCam(const Model&&, GuidedGradCamOptions = {}) = delete;
    /// Explains `model` at options.cam.layer (empty: the model's default feature layer);
    /// invalid_argument for an unknown layer, batch_size 0 or an invalid display.
    explicit GuidedGradCam(const Model& model, GuidedGradCamOptions options = {})
        : model_(&model), options_(std::move(options)), grad_cam_(model, cam_options(options_)) {
        detail::require_gradient_batch_size(options_.batch_size, Where::constructor);
        detail::require_display(options_.display, Where::constructor);
        options_.cam = grad_cam_.options();
    }

    /// The options the explainer was built with (the layer resolved).
    const GuidedGradCamOptions& options() const { return options_; }
    /// The model explained.
    const Model& model() const { return *model_; }

    /// GB ⊙ up(ReLU(Grad-CAM)) of each image for its target (resolved once, by the guided
    /// pass). `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    GuidedGradCamExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        using Guided = detail::ModifiedReluMethod<ReluBackward::guided>;
        const GradientExplanation guided = detail::one_pass_attributions(
            *model_, images, targets, {options_.batch_size, options_.threads, options_.score, ReluBackward::guided},
            [](const float* x, const float* g, float* a, std::size_t k) { Guided::attribute({}, x, g, a, k); }, {},
            Where::explain);
        const CamResult cam = grad_cam_.explain(images, detail::fixed_targets_of(guided.targets));
        const std::size_t n = images.shape(0), c = images.shape(1), h = images.shape(2), w = images.shape(3);
        std::vector<float> rectified(cam.raw.begin(), cam.raw.end());
        for (float& v : rectified) v = std::max(v, 0.0f);
        Maps up = Maps::from_shape({n, h, w});
        detail::resize_planes(rectified.data(), n, cam.raw.shape(1), cam.raw.shape(2), up.data(), h, w, options_.upsampling);
        GuidedGradCamExplanation out;
        out.attributions = guided.attributions;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t ch = 0; ch < c; ++ch) {
                float* a = out.attributions.data() + (i * c + ch) * h * w;
                const float* m = up.data() + i * h * w;
                for (std::size_t p = 0; p < h * w; ++p) a[p] *= m[p];
            }
        out.guided = guided.attributions;
        out.grad_cam = cam.raw;
        out.layer = cam.layer;
        out.targets = guided.targets;
        out.logits = guided.logits;
        detail::finish_gradient_result(out, default_reduction, options_.display, options_.score, Where::explain);
        detail::report(progress, n, n, "images");
        return out;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    GuidedGradCamExplanation explain(const I& image, Target target = Target::predicted(),
                                     const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::GuidedGradCam::GuidedGradCam()";
        static constexpr const char* explain = "xai::GuidedGradCam::explain()";
    };

    static CamOptions cam_options(const GuidedGradCamOptions& o) {
        CamOptions cam = o.cam;
        cam.score = o.score;
        return cam;
    }

    const Model* model_;
    GuidedGradCamOptions options_;
    GradCam<Model> grad_cam_;
};

}  // namespace xai
