#pragma once
// Eigen-CAM: the first principal component of a layer's activations.
//
// Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal Components", IJCNN
// 2020, eq. 5–6: with the activations of one image as a matrix A (h·w locations × C channels)
// and A = U Σ Vᵀ, the map is the projection A v₁ on the first right singular vector.
// As pytorch-grad-cam (utils/svd_on_activations.py get_2d_projection) does, the columns are
// centred first (each channel minus its mean over locations), so v₁ is the first principal
// component and
//   raw = (A − 1 μᵀ) v₁,   μ_k = mean_ij A_k^ij
// CamOptions::eigen_smooth changes nothing here: the map already is that projection.
// Its sign is the one thing the SVD leaves open: the paper and pytorch-grad-cam keep whatever
// sign the solver returns, so their maps can come out inverted (the reference's comment says
// as much). Here the sign is fixed so that the map correlates positively with the channel sum
// Σ_k A_k (the "how much is active here" map): raw · (Σ_k A_k − mean) ≥ 0. The display map
// is then normalize(upsample(ReLU(raw))) as in pytorch-grad-cam.
//
// Class-agnostic: the map does not depend on the target (the result still reports the
// resolved targets and their scores). Needs only a LayerActivationModel: one forward pass,
// then an eigen-decomposition of the smaller of the C×C and (h·w)×(h·w) Gram matrices.
//
// The decomposition (detail/projection.hpp, shared with eigen_smooth, Eigen-Grad-CAM and
// KPCA-CAM) is a function template, so Eigen's SelfAdjointEigenSolver is instantiated only in a
// program that uses it: as a plain inline function it cost every file that includes the CAM
// family about 3.3 s of compile time, used or not.

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

/// Eigen-CAM on a LayerActivationModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerActivationModel Model>
class EigenCam {
public:
    /// The explainer's name in error messages ("xai::EigenCam::explain(): ...").
    static constexpr std::string_view name = "EigenCam";

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    EigenCam(const Model&&, CamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer, at options.layer (empty: the
    /// model's default_layer()). Throws invalid_argument when the layer is not one of
    /// model.layer_names(), or is empty and the model names no feature layer.
    explicit EigenCam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        options_.layer = detail::resolve_layer(model, options_.layer, prefix(name).c_str());
        if (!options_.score) options_.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the layer and the score resolved.
    const CamOptions& options() const { return options_; }

    /// Explains each image at options().layer. The map is class-agnostic; the targets (empty =
    /// the predicted class, one entry = the same for all, else one per image) only select the
    /// reported scores. `progress` is called once, when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        CamResult result = detail::smoothed_explanation(batch, targets, options_, [&](const Batch& b, const Targets& t) {
            return explain_at(b, t, options_.layer, where.c_str());
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
    /// (FusedCamResult); options().layer is not used. `progress` is called after each layer
    /// (unit: layers).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers, const Targets& targets = {},
                                 const Progress& progress = {}) const {
        const std::string where = prefix("explain_fused");
        return detail::fuse_layers(*model_, batch, targets, layers, options_, progress, where.c_str(),
                                   [&](const Targets& t, const std::string& layer) {
                                       return explain_at(batch, t, layer, where.c_str());
                                   });
    }

private:
    /// "xai::EigenCam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    /// The explanation at `layer`, one of the model's layers; `where` prefixes the errors.
    CamResult explain_at(const Batch& batch, const Targets& targets, const std::string& layer, const char* where) const {
        detail::ResolvedLayerOutput in = detail::checked_layer_activations(*model_, batch, targets, layer, where);
        const detail::ChannelMaps a(in.output.activations, options_.tokens, where);
        CamResult result;
        result.layer = layer;
        result.targets = std::move(in.targets);
        result.logits = std::move(in.output.scores);
        result.weights = xt::xtensor<float, 2>::from_shape({a.images(), std::size_t{0}});
        result.raw = Maps::from_shape({a.images(), a.height(), a.width()});
        parallel_for(a.images(), options_.threads, [&](std::size_t i) {
            detail::eigen_cam_projection(a.image(i), a.channels(), a.pixels(), result.raw.data() + i * a.pixels());
        });
        detail::finish_result(result, batch, options_, *options_.score, where);
        return result;
    }

    const Model* model_;
    CamOptions options_;
};

}  // namespace xai
