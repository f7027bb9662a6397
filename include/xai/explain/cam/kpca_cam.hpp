#pragma once
// KPCA-CAM: the first kernel principal component of a layer's activations.
//
// Karmani et al., "KPCA-CAM: Visual Explainability of Deep Computer Vision Models using Kernel
// PCA", arXiv:2410.00267, 2024: Eigen-CAM (eigen_cam.hpp) with kernel PCA
// (Schölkopf, Smola & Müller 1998) in place of PCA, so that non-linear structure of the
// activations shows. As pytorch-grad-cam (kpca_cam.py, utils/svd_on_activations.py
// get_2d_projection_kernel, which calls sklearn's KernelPCA(n_components = 1)): the rows x_p of
// the h·w × C activation matrix are centred per channel, K_pq = k(x_p, x_q), K̃ = the double-
// centred K, and
//   raw_p = √λ₁ α₁p,   (λ₁, α₁) the top eigenpair of K̃, ‖α₁‖ = 1   (sklearn's fit_transform)
// with sklearn's kernels and defaults: sigmoid tanh(γ⟨x,y⟩ + c₀) (the reference's default),
// rbf exp(−γ‖x−y‖²), polynomial (γ⟨x,y⟩ + c₀)^d, linear ⟨x,y⟩; γ = 1/C, c₀ = 1, d = 3. The
// linear kernel gives exactly Eigen-CAM's map (‖T_c v₁‖ = √λ₁ of the same spectrum); the tests
// check that. The sign, which sklearn fixes by its own rule (svd_flip), is fixed as for
// Eigen-CAM: the map correlates positively with the channel sum.
//
// Class-agnostic like Eigen-CAM (the targets only select the reported scores). One forward
// pass, then an (h·w)×(h·w) kernel matrix and its eigen-decomposition per image: fine at the
// last convolutional layer (8×8, 14×14), cubic in h·w at early layers.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/detail/projection.hpp"
#include "xai/explain/cam/options.hpp"

namespace xai {

/// Options of KpcaCam: the common CamOptions and sklearn's KernelPCA kernel parameters
/// (pytorch-grad-cam passes kernel = "sigmoid", gamma = None). An aggregate:
/// `{.cam = {.layer = "relu4"}, .kernel = xai::PcaKernel::rbf}`.
struct KpcaCamOptions {
    /// Layer, score, display, tokens and threads, as for every CAM method (eigen_smooth has no
    /// effect: the map already is a projection).
    CamOptions cam{};
    PcaKernel kernel = PcaKernel::sigmoid;  ///< the kernel (pytorch-grad-cam's default: sigmoid)
    double gamma = 0.0;   ///< γ of the sigmoid, rbf and polynomial kernels; 0: 1/C (sklearn's None)
    double coef0 = 1.0;   ///< c₀ of the sigmoid and polynomial kernels (sklearn: 1)
    double degree = 3.0;  ///< d of the polynomial kernel (sklearn: 3)
};

/// KPCA-CAM on a LayerActivationModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerActivationModel Model>
class KpcaCam {
public:
    /// The explainer's name in error messages ("xai::KpcaCam::explain(): ...").
    static constexpr std::string_view name = "KpcaCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    KpcaCam(const Model&&, KpcaCamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.cam.layer (empty: the
    /// model's default_layer()). Throws invalid_argument when gamma is negative or not finite,
    /// degree is below 1, coef0 is not finite, or the layer is not one of model.layer_names().
    explicit KpcaCam(const Model& model, KpcaCamOptions options = {}) : model_(&model), options_(std::move(options)) {
        const std::string where = prefix(name);
        detail::require(std::isfinite(options_.gamma) && options_.gamma >= 0.0, where, ": options.gamma is ",
                        options_.gamma, ", expected a finite value ≥ 0 (0: 1/channels)");
        detail::require(std::isfinite(options_.degree) && options_.degree >= 1.0, where, ": options.degree is ",
                        options_.degree, ", expected a finite value ≥ 1");
        detail::require(std::isfinite(options_.coef0), where, ": options.coef0 is ", options_.coef0,
                        ", expected a finite value");
        options_.cam.layer = detail::resolve_layer(model, options_.cam.layer, where.c_str());
        if (!options_.cam.score) options_.cam.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const KpcaCamOptions& options() const { return options_; }

    /// Explains each image at options().cam.layer. The map is class-agnostic; the targets (empty
    /// = the predicted class, one entry = the same for all, else one per image) only select the
    /// reported scores. `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        CamResult result = detail::smoothed_explanation(batch, targets, options_.cam, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, options_.cam.layer, where.c_str());
        });
        detail::report(progress, batch.shape(0), batch.shape(0), "images");
        return result;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

    /// Explains the batch at each of `layers` (names of model.layer_names()) and fuses them
    /// (FusedCamResult); options().cam.layer is not used. `progress` is called after each layer
    /// (unit: layers).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const std::string where = prefix("explain_fused");
        return detail::fuse_layers(*model_, batch, targets, layers, options_.cam, progress, where.c_str(),
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_at(batch, t, layer, where.c_str());
                                   });
    }

private:
    /// "xai::KpcaCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// The explanation at `layer`, one of the model's layers; `where` prefixes the errors.
    CamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer, const char* where) const {
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const detail::ChannelMaps a(in.output.activations, options_.cam.tokens, where);
        CamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        result.weights = xt::xtensor<float, 2>::from_shape({a.images(), std::size_t{0}});
        result.raw = Maps::from_shape({a.images(), a.height(), a.width()});
        const double gamma = options_.gamma > 0.0 ? options_.gamma : 1.0 / static_cast<double>(a.channels());
        parallel_for(a.images(), options_.cam.threads, [&](std::size_t i) {
            detail::kernel_pca_projection(a.image(i), a.channels(), a.pixels(), options_.kernel, gamma, options_.coef0,
                                          options_.degree, result.raw.data() + i * a.pixels());
        });
        detail::finish_result(result, batch, options_.cam, *options_.cam.score, where);
        return result;
    }

    const Model* model_;
    KpcaCamOptions options_;
};

}  // namespace xai
