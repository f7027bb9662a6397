#pragma once
// Options and results shared by CAM and the Grad-CAM family (docs/methods/cam.md).
//
// Every CAM-style method computes, per image, a signed map at the resolution of a layer,
//   raw = Σ_k w_k A_k        (channel-weighted methods: CAM, Grad-CAM, Grad-CAM++, XGrad-CAM,
//                             Score-CAM, Ablation-CAM)
//   raw = Σ_k f(G_k, A_k)    (element-wise methods: HiResCAM, LayerCAM)
//   raw = A·v₁               (Eigen-CAM: projection on the first principal component)
// and turns it into a display map the way pytorch-grad-cam does (base_cam.py,
// utils/image.py scale_cam_image):
//   display = normalize_min_max(upsample_to_input(ReLU(raw)))
// Both are returned: the signed raw map is what the Python tools throw away and what users
// keep asking for (negative evidence, comparisons across images without re-normalization).
//
// The options are aggregates, so designated initializers work:
//   xai::GradCam g(model, {.layer = "relu4", .threads = 1});
//   xai::ScoreCam s(model, {.cam = {.layer = "relu4"}, .batch_size = 16});
// Every member has a default member initializer, `{}` included: GCC 12 and 13 then do not
// warn (-Wmissing-field-initializers) about the members such an initializer leaves out.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "xai/core/explanation.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/resize.hpp"

namespace xai {

/// How token-shaped activations (N×T×D, a vision transformer's sequence) become N×D×h×w maps:
/// the first `prefix_tokens` tokens (the class token; also register or distillation tokens)
/// are dropped and the remaining T − prefix_tokens tokens are folded row-major into an h×w
/// grid; the D features become the channels. This is pytorch-grad-cam's
/// vit_reshape_transform (prefix 1, 14×14) without the user having to write it.
struct TokenGrid {
    std::size_t prefix_tokens = 1;  ///< ViT: one class token; Swin / no class token: 0
    std::size_t height = 0;         ///< 0: inferred (square grid, or T'/width when width is set)
    std::size_t width = 0;          ///< 0: inferred (square grid, or T'/height when height is set)
};

/// Options common to every CAM-style explainer. Defaults follow the Grad-CAM paper and
/// pytorch-grad-cam; ScoreCamOptions and AblationCamOptions hold one of these (`cam`) beside
/// their own knobs.
struct CamOptions {
    /// The layer to explain, one of model.layer_names(). Empty: the model's default feature
    /// layer, xai::default_layer(model) (the input of global average pooling). Resolved and
    /// checked when the explainer is built: an unknown layer, or an empty one on a model that
    /// names no feature layer, is refused there (invalid_argument listing the model's layers).
    /// CAM always uses the model's final feature maps (forward_features) and refuses a layer
    /// name rather than ignore it.
    std::string layer{};
    /// The score explained; empty: the method's default, which is the class score before the
    /// softmax (ScoreKind::logit: Grad-CAM's y^c, pytorch-grad-cam's ClassifierOutputTarget)
    /// for every method except Score-CAM, whose paper weights channels by the softmax
    /// probability (ScoreKind::probability). For CAM the map is by definition the logit's
    /// decomposition; this only picks the reported score there. The explainer's options()
    /// hold the resolved kind.
    std::optional<ScoreKind> score{};
    /// true: the display map is ReLU(raw) (every paper and pytorch-grad-cam). false: negative
    /// values are kept (evidence against the class), before upsampling and normalization.
    bool relu = true;
    /// Per-map min-max normalization of the display map to [0, 1] (pytorch-grad-cam's
    /// scale_cam_image); a flat map becomes zeros, never 0/0.
    bool normalize = true;
    /// How the display map is brought to the input resolution (bilinear as cv2.resize in
    /// pytorch-grad-cam and F.interpolate in Score-CAM; both are align_corners=False).
    Interpolation upsampling = Interpolation::bilinear;
    /// pytorch-grad-cam's eigen_smooth (base_cam.py get_cam_image): instead of summing the
    /// per-channel terms (w_k A_k, or the element-wise terms of HiResCAM, LayerCAM and Grad-CAM
    /// element-wise) into raw, project them on their first principal component
    /// (detail/projection.hpp), signed to correlate with the sum. Removes the noise of the minor
    /// components. Eigen-CAM, Eigen-Grad-CAM and KPCA-CAM already are projections: unchanged.
    bool eigen_smooth = false;
    /// pytorch-grad-cam's aug_smooth (base_cam.py forward_augmentation_smoothing): the image is
    /// explained 6 times, under every combination of {no flip, horizontal flip} and {×0.9, ×1,
    /// ×1.1}, with the targets of the unaugmented image; each display map is flipped back, and
    /// maps = their mean (not normalized again, as in the reference), raw = the mean of the
    /// flipped-back raw maps. The other core fields are the unaugmented pass's. 6× the cost.
    /// explain_fused() refuses it.
    bool aug_smooth = false;
    /// Folding of token-shaped (rank-3) activations; ignored for N×C×h×w activations.
    TokenGrid tokens{};
    /// Threads for the per-image work and for the batched forward passes of Score-CAM and
    /// Ablation-CAM (0 = all hardware threads). Results do not depend on it.
    std::size_t threads = 0;
};

/// The explanation of one batch at one layer: the core every explainer returns (maps, raw,
/// targets, scores, score_kind, logits; core/explanation.hpp) and the CAM extras.
/// raw is N×h×w at the layer's resolution, before ReLU, upsampling and normalization; maps is
/// N×H×W at the input's resolution (see the header comment and CamOptions); scores are of
/// score_kind (the resolved CamOptions::score) from the explained forward pass.
struct CamResult : Explanation {
    std::string layer;  ///< the layer explained ("" for CAM: the final feature maps)
    /// N×C channel weights w_k of the channel-weighted methods; N×0 for HiResCAM, LayerCAM and
    /// Eigen-CAM, whose maps are not a weighted sum of channels.
    xt::xtensor<float, 2> weights;
};

/// The explanation of one batch at several layers and their fusion (pytorch-grad-cam's
/// aggregate_multi_layers), which adds the finer detail of earlier layers to the class
/// selectivity of the last one. The core fields:
///   raw     N×H×W, the mean over layers of each layer's display map (ReLU unless
///           CamOptions::relu is false, upsampled to the input, always min-max normalized),
///           before the final normalization: the fusion has no single signed map at a layer's
///           resolution (each layer's is layers[l].raw), so raw is the fused map unnormalized;
///   maps    N×H×W, raw min-max normalized per image (raw itself when CamOptions::normalize is
///           false);
///   targets, scores, score_kind, logits   those of the first layer's explanation (the targets
///           are resolved there and reused at every other layer, so they are the same at all).
struct FusedCamResult : Explanation {
    std::vector<CamResult> layers;  ///< one result per layer, in the order asked for
};

}  // namespace xai
