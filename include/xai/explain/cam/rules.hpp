#pragma once
// The rules of the gradient-weighted CAM family: how Grad-CAM, Grad-CAM++, XGrad-CAM,
// HiResCAM and LayerCAM combine a layer's activations A (C channels, h×w each) with the
// gradient G = ∂y^c/∂A of the explained score y^c. With Z = h·w:
//
//   Grad-CAM    Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
//               Gradient-based Localization", ICCV 2017, eq. 1–2:
//                 α_k = (1/Z) Σ_ij G_k^ij                       raw = Σ_k α_k A_k
//   Grad-CAM++  Chattopadhay et al., "Grad-CAM++: Generalized Gradient-based Visual
//               Explanations for Deep Convolutional Networks", WACV 2018, eq. 19 with
//               Y^c = exp(y^c), the closed form pytorch-grad-cam uses (grad_cam_plusplus.py):
//                 a_k^ij = (G_k^ij)² / (2 (G_k^ij)² + (Σ_ab A_k^ab) (G_k^ij)³ + ε),  ε = 1e-6,
//                 a_k^ij = 0 where G_k^ij = 0 or the denominator is 0,
//                 w_k = Σ_ij a_k^ij · ReLU(G_k^ij)               raw = Σ_k w_k A_k
//   XGrad-CAM   Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and
//               Explanation of CNNs", BMVC 2020, eq. 9 (pytorch-grad-cam xgrad_cam.py):
//                 α_k = Σ_ij G_k^ij A_k^ij / (Σ_ij A_k^ij + ε),  ε = 1e-7
//                 raw = Σ_k α_k A_k
//               (a channel whose sum is so close to −ε that the denominator vanishes gets 0)
//   HiResCAM    Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations
//               of convolutional neural networks", 2020, eq. 4 — element-wise, no averaging:
//                 raw = Σ_k G_k ⊙ A_k
//   LayerCAM    Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
//               Localization", IEEE TIP 2021, eq. 5–6 — element-wise with positive gradients,
//               meant for earlier, finer layers (fuse several with explain_fused):
//                 raw = Σ_k ReLU(G_k) ⊙ A_k
//   Grad-CAM element-wise   pytorch-grad-cam grad_cam_elementwise.py (no paper; the
//               reference tool's variant of HiResCAM that rectifies every term):
//                 raw = Σ_k ReLU(G_k ⊙ A_k)
//   Eigen-Grad-CAM   pytorch-grad-cam eigen_grad_cam.py (Eigen-CAM, Muhammad & Yeasin, IJCNN
//               2020, applied to the gradient-weighted activations): the terms G_k ⊙ A_k are
//               projected on their centred first principal component (explain/cam/detail/
//               projection.hpp) instead of summed,
//                 raw = (T − 1 μᵀ) v₁,  T = [G_k ⊙ A_k] (h·w × C)
//               signed to correlate positively with Σ_k G_k ⊙ A_k (HiResCAM's map); the
//               reference keeps the SVD's arbitrary sign
//
// A rule is a policy class for GradientCam (grad_cam.hpp): a `name` (the explainer's name in
// error messages, "GradCam" gives "xai::GradCam::explain(): ...") and either a per-channel
// weight (the map is Σ_k w_k A_k; ChannelWeightRule) or a per-element term (the map is
// Σ_k term(A_k, G_k); ElementwiseRule). An element-wise rule with `static constexpr bool
// principal_component = true` projects its terms instead of summing them (Eigen-Grad-CAM), as
// CamOptions::eigen_smooth does for any rule. Those are all a rule needs; users write their own the
// same way (docs/methods/cam.md).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "xai/explain/cam/detail/common.hpp"

namespace xai {

/// A rule whose map is Σ_k w_k A_k: `Rule::name` (a constant expression convertible to
/// std::string_view, e.g. `static constexpr std::string_view name = "GradCam";`: the
/// explainer's name in error messages) and `Rule::channel_weight(a, g, pixels)`, the weight of
/// one channel from its `pixels` activations `a` and gradients `g` (convertible to float).
template <class Rule>
concept ChannelWeightRule = requires(const float* a, const float* g, std::size_t pixels) {
    { Rule::name } -> std::convertible_to<std::string_view>;
    typename std::integral_constant<std::size_t, std::string_view(Rule::name).size()>;  // a constant
    { Rule::channel_weight(a, g, pixels) } -> std::convertible_to<float>;
};

/// A rule whose map is Σ_k term(A_k, G_k) element by element: `Rule::name` (as for
/// ChannelWeightRule) and `Rule::element(a, g)`, the term of one activation `a` and its
/// gradient `g` (convertible to float).
template <class Rule>
concept ElementwiseRule = requires(float a, float g) {
    { Rule::name } -> std::convertible_to<std::string_view>;
    typename std::integral_constant<std::size_t, std::string_view(Rule::name).size()>;  // a constant
    { Rule::element(a, g) } -> std::convertible_to<float>;
};

/// True for a rule whose terms are projected on their first principal component rather than
/// summed (`static constexpr bool principal_component = true`, Eigen-Grad-CAM).
template <class Rule>
inline constexpr bool projects_terms = requires { requires Rule::principal_component; };

/// A rule GradientCam accepts: a ChannelWeightRule or an ElementwiseRule (a rule that is both
/// is used as a ChannelWeightRule).
template <class Rule>
concept CamRule = ChannelWeightRule<Rule> || ElementwiseRule<Rule>;

/// Grad-CAM: the mean gradient of each channel.
struct GradCamRule {
    static constexpr std::string_view name = "GradCam";  ///< the explainer's name in error messages
    /// α_k = (1/Z) Σ_ij G_k^ij for one channel: `g` points at its `pixels` gradient values.
    static float channel_weight(const float* /*a*/, const float* g, std::size_t pixels) {
        return static_cast<float>(detail::lane_sum(g, pixels) / static_cast<double>(pixels));
    }
};

/// Grad-CAM++: positive gradients weighted by the closed-form a_k^ij (second and third powers
/// of the gradient and the channel's activation sum).
struct GradCamPlusPlusRule {
    static constexpr std::string_view name = "GradCamPlusPlus";  ///< the explainer's name in error messages
    static constexpr double epsilon = 1e-6;  ///< ε of the denominator (pytorch-grad-cam grad_cam_plusplus.py)
    /// w_k = Σ_ij a_k^ij · ReLU(G_k^ij) for one channel: `a` and `g` point at its `pixels`
    /// activations and gradients.
    static float channel_weight(const float* a, const float* g, std::size_t pixels) {
        const double activation_sum = detail::lane_sum(a, pixels);
        double weight = 0.0;
        for (std::size_t p = 0; p < pixels; ++p) {
            // ReLU(G) is zero for G ≤ 0, so only positive gradients contribute.
            if (!(g[p] > 0.0f)) continue;
            const double g1 = g[p], g2 = g1 * g1, g3 = g2 * g1;
            const double denominator = 2.0 * g2 + activation_sum * g3 + epsilon;
            if (denominator != 0.0) weight += g1 * (g2 / denominator);
        }
        return static_cast<float>(weight);
    }
};

/// XGrad-CAM: the gradient averaged with the activations as weights.
struct XGradCamRule {
    static constexpr std::string_view name = "XGradCam";  ///< the explainer's name in error messages
    static constexpr double epsilon = 1e-7;  ///< ε of the denominator (pytorch-grad-cam xgrad_cam.py)
    /// α_k = Σ_ij G_k^ij A_k^ij / (Σ_ij A_k^ij + ε) for one channel (0 when the denominator
    /// vanishes): `a` and `g` point at its `pixels` activations and gradients.
    static float channel_weight(const float* a, const float* g, std::size_t pixels) {
        const double denominator = detail::lane_sum(a, pixels) + epsilon;
        return std::abs(denominator) > epsilon / 2 ? static_cast<float>(detail::lane_dot(a, g, pixels) / denominator)
                                                   : 0.0f;
    }
};

/// HiResCAM: gradient × activation, element-wise.
struct HiResCamRule {
    static constexpr std::string_view name = "HiResCam";  ///< the explainer's name in error messages
    /// The term G ⊙ A of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return a * g; }
};

/// LayerCAM: ReLU(gradient) × activation, element-wise.
struct LayerCamRule {
    static constexpr std::string_view name = "LayerCam";  ///< the explainer's name in error messages
    /// The term ReLU(G) ⊙ A of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return g > 0.0f ? a * g : 0.0f; }
};

/// Grad-CAM element-wise: ReLU(gradient × activation), element-wise.
struct GradCamElementWiseRule {
    static constexpr std::string_view name = "GradCamElementWise";  ///< the explainer's name in error messages
    /// The term ReLU(G ⊙ A) of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return std::max(a * g, 0.0f); }
};

/// Eigen-Grad-CAM: the first principal component of the terms gradient × activation.
struct EigenGradCamRule {
    static constexpr std::string_view name = "EigenGradCam";  ///< the explainer's name in error messages
    static constexpr bool principal_component = true;  ///< project the terms, do not sum them
    /// The term G ⊙ A of one element (activation `a`, gradient `g`).
    static float element(float a, float g) { return a * g; }
};

}  // namespace xai
