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
// Its sign is the one thing the SVD leaves open: the paper and pytorch-grad-cam keep whatever
// sign the solver returns, so their maps can come out inverted (the reference's comment says
// as much). Here the sign is fixed so that the map correlates positively with the channel sum
// Σ_k A_k (the "how much is active here" map): raw · (Σ_k A_k − mean) ≥ 0. The display map
// is then normalize(upsample(ReLU(raw))) as in pytorch-grad-cam.
//
// Class-agnostic: the map does not depend on the target (the result still reports the
// resolved targets and their scores). Needs only a LayerActivationModel: one forward pass,
// then an eigen-decomposition of the smaller of the C×C and (h·w)×(h·w) Gram matrices.

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: Eigen/Core with GCC 12's false AVX-512 warnings silenced

#include <Eigen/Eigenvalues>

#include "xai/core/concepts.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam_common.hpp"
#include "xai/explain/cam_layout.hpp"
#include "xai/explain/cam_options.hpp"

namespace xai {

namespace detail {

/// The centred first-principal-component projection of one image's C×pixels activations,
/// signed to correlate positively with the channel sum, written to `map` (pixels values).
inline void eigen_cam_projection(const float* activations, std::size_t channels, std::size_t pixels, float* map) {
    using Matrix = Eigen::MatrixXd;
    const auto rows = static_cast<Eigen::Index>(pixels), cols = static_cast<Eigen::Index>(channels);
    // Column k of the pixels×C matrix is channel k minus its mean (the C×pixels block read
    // column-major); the channel sum per location is kept for the sign.
    Matrix centred(rows, cols);
    Eigen::VectorXd channel_sum = Eigen::VectorXd::Zero(rows);
    for (Eigen::Index k = 0; k < cols; ++k) {
        const float* channel = activations + k * rows;
        double mean = 0.0;
        for (Eigen::Index p = 0; p < rows; ++p) mean += channel[p];
        mean /= static_cast<double>(pixels);
        for (Eigen::Index p = 0; p < rows; ++p) {
            centred(p, k) = channel[p] - mean;
            channel_sum(p) += channel[p];
        }
    }
    Eigen::VectorXd projection;
    if (channels <= pixels) {
        const Eigen::SelfAdjointEigenSolver<Matrix> solver(centred.transpose() * centred);
        projection = centred * solver.eigenvectors().col(cols - 1);
    } else {
        // A v₁ = √λ₁ u₁ with u₁ the top eigenvector of A Aᵀ: cheaper when h·w < C.
        const Eigen::SelfAdjointEigenSolver<Matrix> solver(centred * centred.transpose());
        const Eigen::Index top = rows - 1;
        const double lambda = solver.eigenvalues()(top);
        projection = lambda > 0.0 ? Eigen::VectorXd(std::sqrt(lambda) * solver.eigenvectors().col(top))
                                  : Eigen::VectorXd::Zero(rows);
    }
    // The projection has zero mean, so its covariance with the channel sum is a dot product.
    if (projection.dot(channel_sum) < 0.0) projection = -projection;
    for (Eigen::Index p = 0; p < rows; ++p) map[p] = static_cast<float>(projection(p));
}

}  // namespace detail

/// Eigen-CAM on a LayerActivationModel. Holds a reference to the model, which must outlive it;
/// explain() is const and safe to call from several threads at once.
template <LayerActivationModel Model>
class EigenCam {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    EigenCam(const Model&&, CamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer. Throws invalid_argument when
    /// options.layer is set but not one of model.layer_names().
    explicit EigenCam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        if (!options_.layer.empty()) detail::require_layer(model, options_.layer, "EigenCam::EigenCam()");
    }

    /// The options the explainer was built with.
    const CamOptions& options() const { return options_; }

    /// Explains each image at options().layer. The map is class-agnostic; the targets (empty =
    /// the predicted class) only select the reported scores.
    CamResult explain(const Batch& batch, const Targets& targets = {}) const {
        return explain_layer(batch, targets, options_.layer);
    }

    /// The same as explain() at any named layer (one of model.layer_names()), ignoring
    /// options().layer.
    CamResult explain_layer(const Batch& batch, const Targets& targets, const std::string& layer) const {
        constexpr const char* where = "EigenCam::explain()";
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
        detail::finish_result(result, batch, options_, where);
        return result;
    }

    /// Explains the batch at several layers and fuses them (FusedCamResult).
    FusedCamResult explain_fused(const Batch& batch, const std::vector<std::string>& layers,
                                 const Targets& targets = {}) const {
        return detail::fuse_layers(batch, targets, layers, options_, "EigenCam::explain_fused()",
                                   [&](const Targets& t, const std::string& layer) { return explain_layer(batch, t, layer); });
    }

private:
    const Model* model_;
    CamOptions options_;
};

}  // namespace xai
